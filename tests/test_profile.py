"""Profile-likelihood intervals against a brute-force profile, odds ratios, and what each summary says it reports."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.stats import chi2

import bayeslogit as bl
from bayeslogit.algorithms.profile import profile_intervals


def brute_force_profile_bounds(objective, optimum, index, se, ci_prob, half_width=4.0):
    """The two roots of ``profile(c) = min + chi2_1.ppf(ci_prob) / 2`` for free coordinate ``index``: the profile on
    a grid of ``estimate +- half_width * se`` every 0.25 se, then on 41 points across each cell where it crosses the
    threshold, each point maximised over the other coordinates by scipy's BFGS on the package's objective, and the
    crossing linearly interpolated. The final grid step is 0.00625 se; with ``f'' ~ 1/se^2`` and ``f' ~ 2/se`` at
    the bound, the interpolation error (about ``step^2 f'' / (8 f')``) is about 3e-6 se, 2e-5 at most here."""
    others = np.arange(len(optimum)) != index
    threshold = objective.value(optimum) + chi2(1).ppf(ci_prob) / 2

    def profile(c, start):
        def restricted(v):
            u = optimum.copy()
            u[index], u[others] = c, v
            value, gradient = objective.value_and_gradient(u)
            return value, gradient[others]

        result = minimize(restricted, start, jac=True, method="BFGS", options={"gtol": 1e-10, "maxiter": 1000})
        return result.fun, result.x

    def crossings(grid):
        values, start = [], optimum[others]
        for c in grid:
            value, start = profile(c, start)
            values.append(value - threshold)
        return np.asarray(values)

    estimate = optimum[index]
    bounds = []
    for side in (-1, 1):
        coarse = estimate + side * se * np.arange(0, half_width + 1e-9, 0.25)
        excess = crossings(coarse)
        cell = np.flatnonzero(excess > 0)[0]
        fine = np.linspace(coarse[cell - 1], coarse[cell], 41)
        excess = crossings(fine)
        k = np.flatnonzero(excess > 0)[0]
        bounds.append(fine[k - 1] + (fine[k] - fine[k - 1]) * -excess[k - 1] / (excess[k] - excess[k - 1]))
    return bounds


def assert_matches_brute_force(fit, objective, ci_prob):
    table = fit.summary(ci_prob=ci_prob, ci_kind="profile")
    lb, ub = bl.fits.statistics.intervals.column_names("profile", ci_prob)
    optimum = fit.iterations[-1].x
    for index in range(len(optimum)):
        expected = brute_force_profile_bounds(objective, optimum, index, table["se"].iloc[index], ci_prob)
        np.testing.assert_allclose(table[[lb, ub]].iloc[index].to_numpy(), expected, atol=1e-4, rtol=0)
    return table


@pytest.fixture(scope="module")
def challenger():
    return bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())


def test_challenger_profile_matches_brute_force_and_is_skewed_unlike_wald(challenger):
    fit = challenger.fit_ml()
    profile = assert_matches_brute_force(fit, challenger.objective(), 0.95)
    wald = fit.summary(ci_prob=0.95)
    assert list(profile.columns) == ["estimate", "se", "z", "p_value", "profile95_lb", "profile95_ub"]
    # The likelihood of 23 flights is skewed: the profile interval is far from the symmetric Wald one.
    above = profile["profile95_ub"] - profile["estimate"]
    below = profile["estimate"] - profile["profile95_lb"]
    assert np.all(np.maximum(above / below, below / above) > 1.5)
    assert np.all(np.abs(profile["profile95_ub"].to_numpy() - wald["wald95_ub"].to_numpy()) > 0.35 * profile["se"])
    assert profile.attrs["uncertainty"] == "ML standard error (inverse Hessian); profile interval of the likelihood"


def test_wells_profile_matches_brute_force_and_wald_nearly():
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())
    fit = model.fit_ml()
    profile = assert_matches_brute_force(fit, model.objective(), 0.89)
    wald = fit.summary(ci_prob=0.89)
    # 3,020 rows: the log-likelihood is close to quadratic, so the two intervals agree to a few % of an se.
    np.testing.assert_allclose(profile["profile89_lb"], wald["wald89_lb"], atol=0.05 * profile["se"].max())


def test_multiclass_profile_matches_brute_force_and_ratios_do_not_depend_on_the_parameterization():
    iris = bl.datasets.load_iris()
    model = bl.LogisticModel.from_formula("species ~ sepal_length", iris)
    assert_matches_brute_force(model.fit_ml(), model.objective(), 0.89)
    reference = model.fit_ml().odds_ratios(ci_prob=0.9, ci_kind="profile")
    symmetric = (
        bl.LogisticModel.from_formula("species ~ sepal_length", iris, parameterization="symmetric")
        .fit_ml()
        .odds_ratios(0.9, "profile")
    )
    assert list(reference.index) == ["sepal_length[versicolor vs setosa]", "sepal_length[virginica vs setosa]"]
    # The profile of a contrast is invariant to how the free coordinates are chosen (up to brentq's tolerance).
    pd.testing.assert_frame_equal(symmetric, reference, rtol=1e-7)


def test_map_profiles_the_log_posterior_and_reports_no_tests(challenger):
    prior = bl.Normal(0.1, intercept_scale=20.0)
    fit = challenger.fit_map(prior)
    table = assert_matches_brute_force(fit, challenger.objective(prior), 0.9)
    assert list(table.columns) == ["estimate", "se", "profile90_lb", "profile90_ub"]
    assert table.attrs["uncertainty"] == (
        "MAP standard error (inverse Hessian); profile interval of the log posterior (penalised likelihood)"
    )
    assert list(fit.summary().columns) == ["estimate", "se", "wald89_lb", "wald89_ub"]


def test_a_profile_that_does_not_close_is_infinite_with_a_warning():
    """Quasi-separated rows: along the slope the likelihood rises to a supremum it never reaches, so from a point
    near it the profile stays within the threshold for ever on the upper side."""
    rows = pd.DataFrame({"x": [-2.0, -1, 0, 0, 1, 2], "y": [0, 0, 0, 1, 1, 1]})
    objective = bl.LogisticModel(rows[["x"]], rows["y"]).objective()
    with pytest.warns(
        bl.ConvergenceWarning, match="profile interval of 'x' does not close on the upper side"
    ) as caught:
        lower, upper = profile_intervals(
            objective, np.array([0.0, 12.0]), np.eye(2), np.ones(2), 0.95, ["Intercept", "x"]
        )
    assert str(caught[0].message).endswith(
        "the likelihood is flat that way (separation-like data); use fit_map with "
        "a prior, or a posterior fit, for a finite interval"
    )
    assert upper[1] == np.inf and np.isfinite(lower[1]) and 0 < lower[1] < 12
    np.testing.assert_allclose(lower[0], -upper[0], rtol=1e-8)  # the intercept's profile is symmetric here


def test_odds_ratios_exponentiate_the_intervals_of_the_slopes(challenger):
    import statsmodels.api as sm

    fit = challenger.fit_ml()
    for kind in ("wald", "profile"):
        odds = fit.odds_ratios(ci_prob=0.95, ci_kind=kind)
        summary = fit.summary(ci_prob=0.95, ci_kind=kind)
        assert list(odds.index) == ["temp"]  # the intercept is no ratio
        assert odds.attrs["uncertainty"] == f"ML {kind.capitalize()} interval of the log-ratio, exponentiated"
        np.testing.assert_allclose(
            odds.to_numpy(), np.exp(summary.loc[["temp"]].drop(columns=["se", "z", "p_value"]).to_numpy()), rtol=1e-12
        )
    data = bl.datasets.load_challenger()
    theirs = sm.Logit(data["damaged"], sm.add_constant(data[["temp"]])).fit(disp=0)
    np.testing.assert_allclose(
        fit.odds_ratios(0.95)[["odds_ratio", "wald95_lb", "wald95_ub"]].to_numpy()[0],
        np.exp([theirs.params["temp"], *theirs.conf_int(0.05).loc["temp"]]),
        rtol=1e-6,
    )


def test_posterior_odds_ratios_are_the_posterior_of_exp_slope():
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())
    fit = model.fit_laplace(bl.Normal(2.5), draws=2000, random_seed=1)
    odds = fit.odds_ratios(ci_prob=0.9, ci_kind="eti")
    ratios = np.exp(fit.pooled_draws()[:, 1:, 0])  # (S, 2): dist100, arsenic
    assert list(odds.index) == ["dist100", "arsenic"]
    assert odds.attrs["uncertainty"] == (
        "LAPLACE posterior of the ratio: mean, median and ETI interval of the exponentiated draws"
    )
    np.testing.assert_allclose(odds["mean"], ratios.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(odds["median"], np.median(ratios, axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        odds[["eti90_lb", "eti90_ub"]].to_numpy(), np.quantile(ratios, [0.05, 0.95], axis=0).T, rtol=1e-12
    )
    assert fit.summary(ci_kind="hdi").attrs["uncertainty"] == (
        "Laplace posterior sd (the Gaussian at the MAP); interval of its draws (HDI)"
    )
    with pytest.raises(ValueError, match=r"`ci_kind` must be one of \['eti', 'hdi'\]; got 'profile'"):
        fit.odds_ratios(ci_kind="profile")


def test_a_loaded_fit_says_its_profile_needs_the_training_rows(challenger, tmp_path):
    loaded = bl.load(challenger.fit_ml().save(tmp_path / "challenger.nc"))
    with pytest.raises(bl.DataError, match=r"needs the training rows.*bl.load\(path, model=model\)"):
        loaded.summary(ci_kind="profile")
    attached = bl.load(tmp_path / "challenger.nc", model=challenger).summary(0.95, "profile")
    pd.testing.assert_frame_equal(attached, challenger.fit_ml().summary(0.95, "profile"), rtol=1e-9)
