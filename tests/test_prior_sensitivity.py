"""Power-scaling prior sensitivity of posterior fits: the ``log_prior`` group against SciPy's normal density, the
table against ``arviz_stats.psense`` on a DataTree built by hand from the same draws, and ArviZ's verdicts.

Challenger (23 flights) under ``Normal(0.05)`` on the temperature slope, whose likelihood alone puts it near
-0.23, must be flagged; wells (3,020 households) under ``Normal(2.5)`` must not. MCMC runs 2 chains of 1,000
draws, which pass the package's R-hat and ESS checks with room to spare (seeds 0-4: R-hat at most 1.008,
tail ESS at least 1,100 against the limit of 400).
"""

from functools import cache

import numpy as np
import pytest
import xarray as xr
from arviz_stats import psense
from scipy.special import expit
from scipy.stats import bernoulli, norm

import bayeslogit as bl

CASES = {
    "challenger": ("damaged ~ temp", bl.datasets.load_challenger, "damaged", ["temp"], 0.05),
    "wells": ("switched ~ dist100 + arsenic", bl.datasets.load_wells, "switched", ["dist100", "arsenic"], 2.5),
}


@cache
def fitted(name: str, method: str):
    formula, load, response, features, sigma = CASES[name]
    data = load()
    model = bl.LogisticModel.from_formula(formula, data)
    fits = {"laplace": lambda: model.fit_laplace(bl.Normal(sigma), draws=2000, random_seed=0),
            "mcmc": lambda: model.fit_mcmc(bl.Normal(sigma), draws=1000, chains=2, random_seed=0,
                                           progressbar=False)}
    return name, data, response, features, sigma, fits[method]()


@pytest.fixture(params=[(name, method) for name in CASES for method in ("laplace", "mcmc")], ids="-".join)
def case(request):
    return fitted(*request.param)


def hand_built_tree(fit, data, response, features, sigma):
    """The fit's draws with a log prior from SciPy's normal density (flat intercept) and a log-likelihood from
    SciPy's Bernoulli mass, computed from the data frame rather than the package."""
    draws = fit.coef_draws[..., 0]  # (chain, draw, P): Intercept, then the features
    X = np.column_stack([np.ones(len(data)), data[features].to_numpy(float)])
    p = expit(np.einsum("cdp,np->cdn", draws, X))
    loglik = bernoulli.logpmf(data[response].to_numpy()[None, None], p)
    return xr.DataTree.from_dict({
        "posterior": xr.Dataset({"coef": (("chain", "draw", "coefficient"), draws)},
                                coords={"coefficient": ["Intercept", *features]}),
        "log_prior": xr.Dataset({"slopes": (("chain", "draw"), norm.logpdf(draws[..., 1:], 0, sigma).sum(-1))}),
        "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), loglik)}),
    })


def test_log_prior_group_is_the_normal_density_of_the_slopes(case):
    _, _, _, features, sigma, fit = case
    group = fit.to_datatree()["log_prior"]["coef"]
    expected = norm.logpdf(fit.coef_draws[..., 0], 0, sigma)
    expected[..., 0] = 0.0  # the flat intercept
    assert group.dims == ("chain", "draw", "predictor")
    assert list(group["predictor"].values) == ["Intercept", *features]
    np.testing.assert_allclose(group.values, expected, rtol=1e-12, atol=1e-12)


def test_sensitivities_equal_psense_on_a_hand_built_tree(case):
    _, data, response, features, sigma, fit = case
    table = fit.prior_sensitivity()
    tree = hand_built_tree(fit, data, response, features, sigma)
    assert list(table.index) == ["Intercept", *features]
    for component in ("prior", "likelihood"):
        expected = psense(tree, var_names=["coef"], group=component)["coef"].to_numpy()
        np.testing.assert_allclose(table[component].to_numpy(), expected, rtol=1e-12, atol=1e-12)


def test_verdicts_follow_arviz_diagnosis(case):
    name, _, _, features, _, fit = case
    table = fit.prior_sensitivity()
    method = fit.method
    if name == "wells":
        assert list(table["diagnosis"]) == ["✓"] * 3
        assert table.attrs["prior_data_conflict"] == table.attrs["prior_dominated"] == []
        assert table.attrs["note"] == (f"Power-scaling sensitivity of the {method} fit (threshold 0.05) flags no "
                                       "coefficient as prior-dominated or in prior-data conflict.")
        assert (table["prior"] < 0.01).all() and (table["likelihood"] > 0.05).all()
    else:
        # The prior holds the slope far from the data's -0.23 (and the intercept with it): both sensitivities
        # are above 0.05, ArviZ's prior-data conflict.
        assert list(table["diagnosis"]) == ["potential prior-data conflict"] * 2
        assert table.attrs["prior_data_conflict"] == ["Intercept", "temp"]
        assert table.attrs["prior_dominated"] == []
        assert table.attrs["note"] == (f"Power-scaling sensitivity of the {method} fit (threshold 0.05) flags "
                                       "prior-data conflict: Intercept, temp. The prior moves these coefficients' "
                                       "posteriors: check that it says what is meant, or widen it.")
        assert (table[["prior", "likelihood"]] > 0.1).all(axis=None)


def test_a_high_threshold_flags_nothing_and_a_bad_one_is_refused():
    fit = fitted("challenger", "laplace")[-1]
    assert fit.prior_sensitivity(threshold=0.5).attrs["prior_data_conflict"] == []
    for bad in (-1, 0, float("nan"), "0.05"):
        with pytest.raises(ValueError, match=rf"`threshold` must be a positive number, .* got {bad!r}"):
            fit.prior_sensitivity(threshold=bad)


def test_multiclass_rows_are_the_flat_labels():
    """Iris by petal length: three classes, the first the reference, the same prior on both classes' slopes."""
    iris = bl.datasets.load_iris()
    model = bl.LogisticModel.from_formula("species ~ petal_length", iris)
    fit = model.fit_laplace(bl.Normal(2.5), draws=500, random_seed=0)
    table = fit.prior_sensitivity()
    assert list(table.index) == model.layout.flat_labels  # name[class], class-major
    flat = fit.coef_draws.transpose(0, 1, 3, 2).reshape(1, 500, -1)  # Intercept, slope of class 1, then class 2
    slopes = flat[..., 1::2]
    by_hand = xr.DataTree.from_dict({
        "posterior": xr.Dataset({"coef": (("chain", "draw", "coefficient"), flat)}),
        "log_prior": xr.Dataset({"slopes": (("chain", "draw"), norm.logpdf(slopes, 0, 2.5).sum(-1))}),
        "log_likelihood": fit.to_datatree()["log_likelihood"].to_dataset(),
    })
    expected = psense(by_hand, var_names=["coef"], group="prior")["coef"].to_numpy()
    np.testing.assert_allclose(table["prior"].to_numpy(), expected, rtol=1e-12, atol=1e-12)
