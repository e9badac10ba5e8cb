"""Normal, Student-t and Cauchy priors: their terms against finite differences and scipy's densities, autoscaling,
MAP under a non-convex prior (Newton with a modified Hessian) against an independent optimiser, the PyMC model's
prior, saving, and validation."""

import dataclasses
import re
import warnings

import numpy as np
import pytest
from scipy import optimize, stats
from scipy.special import log_expit

import bayeslogit as bl
from bayeslogit.algorithms.newton import newton
from bayeslogit.algorithms.newton_directions import modified_inverse
from bayeslogit.exceptions import SingularHessianError
from bayeslogit.fits.storage.checksum import checksum
from bayeslogit.numerics.prior_densities import GaussianTerm, StudentTTerm

TERMS = {
    "gaussian": GaussianTerm(np.array([np.inf, 2.0, 0.5])),
    "student-t7": StudentTTerm(7.0, np.array([10.0, 2.5, 0.3])),
    "cauchy": StudentTTerm(1.0, np.array([np.inf, 2.5, 0.3])),
}
SCIPY = {
    "gaussian": lambda x, s: stats.norm.logpdf(x, scale=s),
    "student-t7": lambda x, s: stats.t.logpdf(x, 7, scale=s),
    "cauchy": lambda x, s: stats.cauchy.logpdf(x, scale=s),
}
EPS = np.finfo(float).eps


@pytest.fixture(scope="module")
def wells():
    return bl.datasets.load_wells()


def separated():
    """Setosa against versicolor on petal length: completely separated."""
    iris = bl.datasets.load_iris()
    return iris[iris.species != "virginica"].assign(versicolor=lambda d: d.species == "versicolor")


@pytest.mark.parametrize("name", TERMS)
def test_a_terms_gradient_and_hessian_are_its_penaltys_finite_differences(name, rng):
    term = TERMS[name]
    B = rng.normal(scale=3.0, size=(3, 2))  # |z| up to ~30: both sides of the Student-t's inflection sqrt(nu)
    step = 1e-6
    gradient, curvature = np.empty_like(B), np.empty_like(B)
    for index in np.ndindex(B.shape):
        e = np.zeros_like(B)
        e[index] = step
        gradient[index] = (term.penalty(B + e) - term.penalty(B - e)) / (2 * step)
        curvature[index] = (term.gradient(B + e)[index] - term.gradient(B - e)[index]) / (2 * step)
    np.testing.assert_allclose(term.gradient(B), gradient, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(term.hessian_diagonal(B), curvature, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", TERMS)
def test_a_terms_log_density_is_scipys_and_its_penalty_differs_by_a_constant(name, rng):
    term = TERMS[name]
    draws = rng.normal(scale=3.0, size=(2, 50, 3, 2))  # (chains, draws, P, M)
    proper = ~term.flat
    expected = np.zeros_like(draws)
    expected[..., proper, :] = SCIPY[name](draws[..., proper, :], term.scale[proper][:, None])
    np.testing.assert_allclose(term.log_density(draws), expected, rtol=1e-12, atol=1e-12)
    constant = term.log_density(draws).sum(axis=(-2, -1)) + term.penalties(draws.reshape(-1, 3, 2)).reshape(2, 50)
    assert np.ptp(constant) < 1e-10
    assert term.penalty(draws[0, 0]) == pytest.approx(term.penalties(draws[0, :1])[0], rel=1e-14)


def test_draws_follow_the_prior(rng):
    """Standardised draws against their distribution (Kolmogorov-Smirnov; flat rows are held at 0)."""
    for name, reference in [("gaussian", stats.norm()), ("student-t7", stats.t(7)), ("cauchy", stats.cauchy())]:
        term = TERMS[name]
        draws = term.draw(np.random.default_rng(3), (4000, 3, 1))
        assert np.all(draws[:, term.flat] == 0)
        standard = draws[:, 2, 0] / term.scale[2]
        assert stats.kstest(standard, reference.cdf).pvalue > 0.01


def test_autoscale_divides_the_slopes_scales_by_the_weighted_sd(wells):
    weights = np.random.default_rng(2).integers(1, 4, len(wells))
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells, weights=weights)
    repeated = wells.loc[wells.index.repeat(weights), ["dist100", "arsenic"]]
    fit = model.fit_map(bl.StudentT(scale=2.5, intercept_scale=10))
    np.testing.assert_allclose(fit.prior_scales.to_numpy(), [10.0, *(2.5 / repeated.std(ddof=1))], rtol=1e-12)
    assert fit.prior_scales.index.tolist() == ["Intercept", "dist100", "arsenic"]
    flat = model.fit_map(bl.Normal(2.5)).prior_scales
    assert flat["Intercept"] == np.inf and flat["arsenic"] == 2.5
    assert np.all(model.fit_ml().prior_scales == np.inf)


def test_an_autoscaled_normal_map_is_the_normal_map_with_scales_per_predictor(wells):
    model = bl.LogisticModel.from_formula("switched ~ dist + arsenic + educ", wells)
    sd = wells[["dist", "arsenic", "educ"]].std(ddof=1).to_numpy()
    auto = model.fit_map(bl.Normal(1.0, intercept_scale=5.0, autoscale=True))
    by_hand = model.fit_map(bl.Normal(tuple(1.0 / sd), intercept_scale=5.0))
    np.testing.assert_allclose(auto.params, by_hand.params, rtol=0, atol=1e-10)
    # the autoscaled prior is invariant to the predictors' units: dist in km gives the same probabilities
    km = bl.LogisticModel.from_formula("switched ~ I(dist / 1000) + arsenic + educ", wells)
    np.testing.assert_allclose(
        km.fit_map(bl.Normal(1.0, intercept_scale=5.0, autoscale=True)).predict_proba(),
        auto.predict_proba(),
        rtol=0,
        atol=1e-10,
    )


def negative_log_posterior(X, y, prior_logpdf):
    """The same posterior written independently of the package: scipy's log_expit and the prior's logpdf."""
    Z = np.column_stack([np.ones(len(X)), X])
    sign = np.where(y, 1.0, -1.0)
    return lambda b: -(log_expit(sign * (Z @ b)).sum() + prior_logpdf(b))


def assert_mode(f, b, gtol):
    """``b`` is a mode of ``f``: its central-difference gradient is within ``gtol`` of 0 (rounding: |f| eps / h
    ~ 1e-8 here), and scipy's BFGS from zero finds no lower value."""
    step = 1e-5
    gradient = [(f(b + step * e) - f(b - step * e)) / (2 * step) for e in np.eye(len(b))]
    np.testing.assert_allclose(gradient, 0.0, atol=gtol)
    assert f(b) <= optimize.minimize(f, np.zeros(len(b)), method="BFGS").fun + 1e-9


@pytest.mark.parametrize(
    "prior", [bl.Cauchy(2.5, intercept_scale=10), bl.StudentT(), bl.Cauchy(0.5, autoscale=False)], ids=repr
)
def test_map_under_a_heavy_tailed_prior_is_the_mode_found_by_scipy(wells, prior):
    columns = ["dist100", "arsenic", "educ"]
    model = bl.LogisticModel.from_formula("switched ~ " + " + ".join(columns), wells)
    fit = model.fit_map(prior)
    scale = fit.prior_scales.to_numpy()
    proper = np.isfinite(scale)
    density = stats.t(prior.nu)
    f = negative_log_posterior(
        wells[columns].to_numpy(),
        wells.switched.to_numpy() == 1,
        lambda b: density.logpdf(b[proper] / scale[proper]).sum(),
    )
    assert fit.converged
    assert_mode(f, fit.params.ravel(), gtol=1e-5)
    assert fit.llf == pytest.approx(-model.objective(None).value(fit.params.ravel(order="F")), rel=1e-12)


def test_newton_modifies_an_indefinite_hessian_where_the_objective_is_not_convex():
    """``f(x) = sum log(1 + x^2) + 0.05 |x - 5|^2`` from x = 2: there ``f'' = 2 (1 - x^2) / (1 + x^2)^2 + 0.1 < 0``."""

    def fun(x):
        value = np.log1p(x**2).sum() + 0.05 * ((x - 5) ** 2).sum()
        gradient = 2 * x / (1 + x**2) + 0.1 * (x - 5)
        return value, gradient, np.diag(2 * (1 - x**2) / (1 + x**2) ** 2 + 0.1)

    x0 = np.array([2.0, 2.5])
    assert np.all(np.diag(fun(x0)[2]) < 0)
    with pytest.raises(SingularHessianError):
        newton(fun, x0)
    result = newton(fun, x0, convex=False)
    reference = optimize.minimize(
        lambda x: fun(x)[0], x0, jac=lambda x: fun(x)[1], method="BFGS", options={"gtol": 1e-12}
    )
    assert result.converged
    np.testing.assert_allclose(result.x, reference.x, rtol=0, atol=1e-8)
    assert np.all(np.diag(result.hess) > 0)
    assert result.iterations[0].decrement > 0  # the modified step descends


def test_the_modified_hessian_keeps_positive_curvature_and_reverses_negative():
    """Eigenvalues 4, -2 and 1 become 4, 2 and 1 on ``H``'s own eigenvectors: ``Q^T H_mod^-1 Q`` is diagonal.
    Read without inverting the inverse back. Forming ``H``, ``eigh`` and the products are each backward stable,
    within about n eps ||H|| = 12 eps; with every |eigenvalue| >= 1 and 3 apart, four such steps give ~50 eps
    (the largest error over 500 rotations is 32 eps), so 100 eps."""
    Q = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    H = Q @ np.diag([4.0, -2.0, 1.0]) @ Q.T
    np.testing.assert_allclose(Q.T @ modified_inverse(H) @ Q, np.diag([1 / 4, 1 / 2, 1.0]), rtol=0, atol=100 * EPS)


def test_the_modified_hessian_lifts_a_zero_eigenvalue_to_delta():
    """A zero eigenvalue becomes ``delta = sqrt(eps) max |lambda| = 4 sqrt(eps)``, so ``H_mod^-1`` has norm
    1 / delta ~ 1.7e7 and condition number 4 / delta ~ 6.7e7. Inverted back, delta would carry an error of up to
    cond * eps * 4 ~ delta itself. Read on ``H``'s eigenvectors instead, every entry is within ~50 eps / delta:
    ``eigh`` turns the eigenvectors by ~ n eps ||H|| / gap (gap 2) and the 1 / delta direction carries that into
    every entry. Scaled by delta, the entries are delta / 4, delta / 2 and 1 within 100 eps (the largest error
    over 500 rotations is 16 eps), which pins delta to a relative 2e-14."""
    Q = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    H = Q @ np.diag([4.0, -2.0, 0.0]) @ Q.T
    delta = np.sqrt(EPS) * 4.0
    np.testing.assert_allclose(
        delta * (Q.T @ modified_inverse(H) @ Q), np.diag([delta / 4, delta / 2, 1.0]), rtol=0, atol=100 * EPS
    )


def test_a_saddle_point_is_reported_not_returned_as_a_mode():
    def saddle(x):
        return x[0] ** 2 - x[1] ** 2, np.array([2 * x[0], -2 * x[1]]), np.diag([2.0, -2.0])

    with pytest.warns(
        bl.ConvergenceWarning,
        match=re.escape(
            "Newton's method stopped where the gradient vanishes but the Hessian is not positive definite: a saddle "
            "point of the posterior, not its mode. A heavy-tailed prior of small scale can make such a posterior: "
            "widen the prior, or use bl.Normal"
        ),
    ):
        result = newton(saddle, np.zeros(2), convex=False)
    assert not result.converged


def test_cauchy_gives_finite_estimates_under_separation():
    data = separated()
    model = bl.LogisticModel.from_formula("versicolor ~ petal_length", data)
    with pytest.raises(bl.SeparationError):
        model.fit_ml()
    prior = bl.Cauchy(2.5, intercept_scale=10)
    fit = model.fit_map(prior)
    scale = fit.prior_scales.to_numpy()
    f = negative_log_posterior(
        data[["petal_length"]].to_numpy(), data.versicolor.to_numpy(), lambda b: stats.cauchy.logpdf(b / scale).sum()
    )
    assert_mode(f, fit.params.ravel(), gtol=1e-6)
    # finite and sensible: the boundary falls in the gap between the classes (setosa <= 1.9 < 3.0 <= versicolor)
    assert np.all(np.isfinite(fit.uncertainty))
    assert 1.9 < fit.boundary().threshold < 3.0
    # the Gaussian misses the Cauchy posterior's tail along the separating direction, and says so
    with pytest.warns(bl.ConvergenceWarning, match="the Laplace approximation is poor here"):
        laplace = model.fit_laplace(prior, draws=2000, random_seed=0, map_fit=fit)
    assert np.all(np.isfinite(laplace.summary()["mean"]))


def test_log_prior_group_holds_the_priors_density():
    model = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())
    prior = bl.Cauchy(2.5, intercept_scale=10)
    # Challenger's posterior is skewed
    with pytest.warns(bl.ConvergenceWarning, match="the Laplace approximation may be poor here"):
        fit = model.fit_laplace(prior, draws=200, random_seed=1)
    scale = fit.prior_scales.to_numpy()
    log_prior = fit.to_datatree()["log_prior"]["coef"].to_numpy()
    expected = stats.cauchy.logpdf(fit.coef_draws, scale=scale[:, None]).reshape(log_prior.shape)
    np.testing.assert_allclose(log_prior, expected, rtol=1e-12)


def test_a_heavy_tailed_prior_is_saved_and_loaded(tmp_path, wells):
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    for prior in (bl.Cauchy(2.5, intercept_scale=10), bl.StudentT(4, (1.0, 2.0)), bl.Normal(1.0, autoscale=True)):
        fit = model.fit_map(prior)
        loaded = bl.load(fit.save(tmp_path / "fit.nc"))
        assert loaded.prior == prior and type(loaded.prior) is type(prior)
        np.testing.assert_array_equal(loaded.prior_scales, fit.prior_scales)
        np.testing.assert_array_equal(loaded.params, fit.params)


def test_reprs_and_validation():
    assert repr(bl.Cauchy(2.5, intercept_scale=10)) == "Cauchy(scale=2.5, intercept_scale=10.0, autoscale=True)"
    assert repr(bl.StudentT(autoscale=False)) == "StudentT(nu=7.0, scale=2.5, intercept_scale=None, autoscale=False)"
    assert repr(bl.Normal(1.0)) == "Normal(scale=1.0, intercept_scale=None)"
    for prior in (
        bl.Normal(1.0, autoscale=True),
        bl.Normal((1.0, 2.0)),
        bl.StudentT(3, autoscale=False),
        bl.Cauchy(intercept_scale=10),
        bl.Cauchy(autoscale=False),
    ):
        assert eval(repr(prior), vars(bl)) == prior  # what the summary header shows rebuilds the prior
    assert dataclasses.replace(bl.Cauchy(), scale=1.0) == bl.Cauchy(1.0)
    with pytest.raises(ValueError, match=re.escape("`intercept_scale` must be one number; got [1.0, 2.0]")):
        bl.Cauchy(intercept_scale=(1, 2))
    with pytest.raises(
        ValueError,
        match=re.escape("a Cauchy prior has nu = 1; got nu=3: for other degrees of freedom, use bl.StudentT(nu=3)"),
    ):
        bl.Cauchy(nu=3)
    assert repr(bl.Normal(1.0, autoscale=True)) == "Normal(scale=1.0, intercept_scale=None, autoscale=True)"
    assert bl.Cauchy(2.5) == bl.Cauchy(scale=2.5) != bl.StudentT(nu=1, scale=2.5)
    with pytest.raises(ValueError, match=re.escape("`nu` must be positive and finite; got 0.0")):
        bl.StudentT(nu=0)
    with pytest.raises(TypeError, match=re.escape("`autoscale` must be True or False; got 'yes'")):
        bl.Cauchy(autoscale="yes")
    with pytest.raises(
        ValueError, match=re.escape("`scale` has 2 values but the model has 1 predictors besides the intercept")
    ):
        bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger()).fit_map(bl.Cauchy((1.0, 2.0)))


def test_autoscale_refuses_a_constant_predictor():
    X = np.column_stack([np.arange(20.0), np.ones(20)])
    model = bl.LogisticModel(X, np.arange(20) % 3 == 0, intercept=False)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "which is 0 or undefined for ['x1']: a constant column (remove it), or weights that sum to 1 or less"
        ),
    ):
        model.fit_map(bl.Cauchy())
    assert model.fit_map(bl.Cauchy(autoscale=False)).converged


def test_autoscale_refuses_weights_that_are_not_frequencies(wells):
    """Weights normalised to sum to 1 make no sample standard deviation; weights summing to n give the unweighted."""
    columns = ["dist100", "arsenic"]
    for weights, fits in [(np.full(len(wells), 1 / len(wells)), False), (np.ones(len(wells)), True)]:
        model = bl.LogisticModel(wells[columns], wells["switched"], weights=weights)
        if not fits:
            with pytest.raises(ValueError, match=re.escape("which is 0 or undefined for ['dist100', 'arsenic']")):
                model.fit_map(bl.StudentT())
            continue
        np.testing.assert_allclose(
            model.fit_map(bl.StudentT()).prior_scales.iloc[1:], 2.5 / wells[columns].std(ddof=1), rtol=1e-12
        )


def test_prior_predictive_of_ten_standardised_predictors():
    """The acceptance check: sd 10 on standardised predictors claims near certainty, sd 0.5 does not; the
    autoscaled Cauchy's heavy tails put much of its mass near 0 and 1 too."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 10))
    X = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    model = bl.LogisticModel(X, rng.random(500) < 0.5)
    with pytest.warns(bl.PriorWarning, match=re.escape("use a smaller scale or autoscale=True")):
        wide = model.prior_predictive(bl.Normal(10, intercept_scale=10))
    assert wide.share_near_certain > 0.85  # logit sd ~ sqrt(11) * 10: |logit| < 4.6 for about 11% of the mass
    with warnings.catch_warnings():
        warnings.simplefilter("error", bl.PriorWarning)
        narrow = model.prior_predictive(bl.Normal(0.5, intercept_scale=1))
    assert narrow.share_near_certain < 0.05  # logit sd ~ sqrt(1 + 10 / 4): |logit| > 4.6 for about 1.4%
    with pytest.warns(bl.PriorWarning, match="use a smaller scale$") as caught:
        cauchy = model.prior_predictive(bl.Cauchy(2.5, intercept_scale=10))
    assert 0.5 < cauchy.share_near_certain < 1.0
    assert f"({cauchy.share_near_certain:.0%} of the prior predictive" in str(caught[0].message)


def test_mcmc_under_an_autoscaled_cauchy_matches_quadrature_on_challenger():
    """nutpie samples the objective with the Cauchy term: its moments against quadrature of exp(-objective)."""
    from test_mcmc import exact_moments

    model = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())
    prior = bl.Cauchy(2.5, intercept_scale=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bl.ConvergenceWarning)
        fit = model.fit_mcmc(prior, draws=1000, tune=200, chains=4, random_seed=0, progressbar=False)
    mean, cov = exact_moments(model, prior, half_width=20.0, points=401)  # the Cauchy's tails reach further
    summary = fit.summary()
    # Each within 4 of its Monte Carlo standard errors (ArviZ's, for the means and the sds).
    assert np.all(np.abs(summary["mean"].to_numpy() - mean) < 4 * summary["mcse_mean"].to_numpy())
    sd = np.sqrt(np.diag(fit.cov.to_numpy()))
    assert np.all(np.abs(sd - np.sqrt(np.diag(cov))) < 4 * summary["mcse_sd"].to_numpy())


def test_mcmc_under_separation_cauchy_is_flagged_and_student_t_is_clean():
    """Under separation a Cauchy posterior has no mean along the separating direction (its tail is the prior's),
    which NUTS cannot explore in 1,000 draws: the fit warns. Student-t with 7 degrees of freedom has a mean and
    samples cleanly. Both put the boundary (posterior median) in the gap between the classes."""
    model = bl.LogisticModel.from_formula("versicolor ~ petal_length", separated())
    with pytest.warns(
        bl.ConvergenceWarning,
        match=re.escape(
            "or a stronger prior (a smaller scale; where the "
            "classes are separated, a Cauchy posterior has the "
            "prior's heavy tail and no mean: bl.StudentT(nu=7) has "
            "lighter tails)"
        ),
    ):
        cauchy = model.fit_mcmc(bl.Cauchy(2.5, intercept_scale=10), random_seed=0, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bl.ConvergenceWarning)
        # target_accept 0.95: at the default 0.8 one seed in four has a divergence or two (seeds 0-7 measured)
        student = model.fit_mcmc(
            bl.StudentT(7, 2.5, intercept_scale=10), random_seed=0, progressbar=False, target_accept=0.95
        )
    for fit in (cauchy, student):
        assert np.all(np.isfinite(fit.coef_draws))
        assert 1.9 < fit.boundary().threshold < 3.0
    slope = {name: np.median(fit.coef_draws[..., 1, 0]) for name, fit in [("cauchy", cauchy), ("student", student)]}
    assert 3 < slope["student"] < slope["cauchy"] < 15  # the heavier tail lets the slope grow further
    advice = {
        "cauchy": "a Cauchy posterior has the prior's heavy tail and no mean: bl.StudentT(nu=7) has lighter tails)",
        "student": "the posterior keeps the prior's Student-t tail (nu=7): a larger nu, or bl.Normal, has "
        "lighter tails)",
    }
    for name, fit in [("cauchy", cauchy), ("student", student)]:
        forced = dataclasses.replace(fit.diagnosis, divergences=1)  # the advice of each prior, when there is any
        assert forced.message.endswith(advice[name])


def test_profile_intervals_under_a_cauchy_prior_match_brute_force():
    """The profile's inner Newton fits take the modified Hessian too, where the log posterior is not concave."""
    from test_profile import assert_matches_brute_force

    model = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())
    prior = bl.Cauchy(2.5, intercept_scale=10)
    table = assert_matches_brute_force(model.fit_map(prior), model.objective(prior), 0.95)
    assert table.loc["temp", "profile95_ub"] < 0  # the damage probability falls with temperature


def test_a_bimodal_posterior_is_reported_and_its_higher_mode_returned():
    """Cauchy(0.05) on one slope whose data say 3: a mode near 0 (the prior's) and one near 3 (the likelihood's).
    Newton from zero stops at the first; the second start, from the likelihood's side, finds the higher one."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=40)
    y = (rng.random(40) < 1 / (1 + np.exp(-3 * x))).astype(int)
    model = bl.LogisticModel(x[:, None], y, intercept=False)
    objective = model.objective(bl.Cauchy(0.05, autoscale=False))
    grid = np.linspace(-1, 8, 9001)
    values = np.array([objective.value(np.array([b])) for b in grid])
    inner = (np.diff(np.sign(np.diff(values))) > 0).nonzero()[0] + 1  # local minima of the grid
    assert len(inner) == 2 and grid[inner[0]] < 0.1 < 2.5 < grid[inner[1]]
    with pytest.warns(
        bl.ConvergenceWarning,
        match=re.escape(
            "Newton's method (MAP): the posterior has more than one "
            "mode. From zero, Newton's method reached coefficients "
            "[0.0"
        ),
    ) as caught:
        fit = model.fit_map(bl.Cauchy(0.05, autoscale=False))
    assert "widen the prior, or use bl.Normal" in str(caught[0].message)
    assert fit.params[0, 0] == pytest.approx(grid[values.argmin()], abs=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bl.ConvergenceWarning)
        model.fit_map(bl.Cauchy(0.5, autoscale=False))  # one mode: no warning


def test_the_optimiser_table_copes_with_an_indefinite_hessian():
    """What the optimisation animation runs: Newton from zero under a narrow Cauchy prior on separated classes,
    whose Hessian is indefinite on the way (Newton for a convex objective refuses it), reaches the MAP."""
    from bayeslogit.algorithms.newton import minimize, newton

    model = bl.LogisticModel.from_formula("versicolor ~ petal_length", separated())
    prior = bl.Cauchy(0.05, autoscale=False)
    objective = model.objective(prior)
    with pytest.raises(SingularHessianError, match="the Hessian is not positive definite"):
        newton(objective, np.zeros(objective.n_free), value=objective.value)
    result = minimize(objective, "newton")
    assert result.converged
    np.testing.assert_allclose(objective.coef(result.x), model.fit_map(prior).params, rtol=0, atol=1e-8)
    data = separated()
    f = negative_log_posterior(
        data[["petal_length"]].to_numpy(), data.versicolor.to_numpy(), lambda b: stats.cauchy.logpdf(b[1:] / 0.05).sum()
    )  # the intercept's is flat
    assert_mode(f, result.x, gtol=1e-6)  # a mode of the posterior written independently


def test_normal_takes_scale_and_intercept_scale_as_every_prior_and_its_former_names_with_a_warning():
    assert bl.Normal(2.5, 10.0) == bl.Normal(scale=2.5, intercept_scale=10.0)
    assert dataclasses.replace(bl.Normal(1.0), intercept_scale=3.0) == bl.Normal(1.0, 3.0)
    with pytest.warns(DeprecationWarning) as caught:
        former = bl.Normal(sigma=(1.0, 2.0), intercept_sigma=10.0, autoscale=True)
    assert former == bl.Normal((1.0, 2.0), 10.0, autoscale=True)
    assert [str(w.message).split(", as in")[0] for w in caught] == [
        "Normal's `sigma` is now called `scale`",
        "Normal's `intercept_sigma` is now called `intercept_scale`",
    ]
    assert caught[0].filename == __file__  # attributed to the caller
    with pytest.raises(TypeError, match="got `scale` and its former name `sigma`"):
        bl.Normal(1.0, sigma=2.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'sd'"):
        bl.Normal(sd=2.0)


def test_a_fit_saved_under_the_former_names_of_normal_loads(tmp_path):
    """Fits saved before the rename store a Normal's ``sigma`` and ``intercept_sigma``: they load, without warning."""
    import json

    import xarray as xr

    from bayeslogit.numerics.prior_specs import prior_from_fields

    wells = bl.datasets.load_wells()
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    fit = model.fit_map(bl.Normal(2.5, intercept_scale=10.0))
    tree = xr.load_datatree(fit.save(tmp_path / "map.nc"))
    meta = json.loads(tree.attrs["bayeslogit"])
    del meta["checksum"]
    assert meta["prior"] == {"kind": "Normal", "scale": 2.5, "intercept_scale": 10.0, "autoscale": False}
    meta["prior"] = {"kind": "Normal", "sigma": 2.5, "intercept_sigma": 10.0, "autoscale": False}
    meta["version"] = 3  # format version 3 wrote a Normal's scale as sigma
    tree.attrs["bayeslogit"] = json.dumps(meta | {"checksum": checksum(tree, meta)})
    tree.to_netcdf(tmp_path / "former.nc", engine="h5netcdf")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        loaded = bl.load(tmp_path / "former.nc")
        assert prior_from_fields({"sigma": 1.0, "intercept_sigma": None, "autoscale": True}) == bl.Normal(
            1.0, None, True
        )
    assert loaded.prior == fit.prior
    np.testing.assert_array_equal(loaded.predict_proba(wells.iloc[:20]), fit.predict_proba(wells.iloc[:20]))


def test_a_model_without_groups_refuses_a_group_prior_before_fitting():
    """The group prior only means something to a multilevel model: a flat model says so, whichever fit is asked."""
    wells = bl.datasets.load_wells()
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    prior = bl.Normal(2.5, group=bl.GroupPrior())
    for fit in (model.fit_map, model.fit_laplace):
        with pytest.raises(bl.OptionError, match="sets `group`.*has no group terms: drop group=, or write the groups"):
            fit(prior)
    assert repr(bl.Normal(2.5)) == "Normal(scale=2.5, intercept_scale=None)"
