"""The Laplace approximation: identities with the MAP, seeded draws, the probit predictive, PSIS k-hat."""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import expit

import bayeslogit as bl

# The probit approximation's error |E[sig(a)] - sig(mu / sqrt(1 + pi s^2 / 8))|, a ~ N(mu, s^2), grows
# with s towards its supremum over all (mu, s), the limit s -> infinity: max_t |Phi(t) - sig(sqrt(8/pi) t)|
# = 0.01767 (computed by quadrature on grids up to |mu| = 2000, s = 1000; it is 0.0160 on |mu|, s <= 10).
PROBIT_MAX_ERROR = 0.0177


@pytest.fixture(scope="module")
def wells():
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())
    return model, bl.Normal(2.5)


@pytest.fixture(scope="module")
def challenger():
    model = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())
    return model, bl.Normal(10, intercept_sigma=10)


def no_intercept_model(rng, n: int = 60) -> bl.LogisticModel:
    """One feature and no intercept: Pr(y | x) = sig(1.5 x)."""
    x = rng.normal(size=n)
    return bl.LogisticModel(x[:, None], rng.random(n) < expit(1.5 * x), feature_names=["x"], intercept=False)


@pytest.fixture(scope="module")
def iris_symmetric():
    model = bl.LogisticModel.from_formula("species ~ petal_length + petal_width", bl.datasets.load_iris(),
                                          parameterization="symmetric")
    return model, bl.Normal(1.0)


def ten_draws(model, prior):
    """A Laplace fit of 10 draws (the probit predictive needs none), which says that k-hat needs 25."""
    with pytest.warns(bl.ConvergenceWarning, match=r"Pareto k-hat could not be computed from 10 draws \(it needs at "
                                                   r"least 25\), so the Laplace approximation is unchecked"):
        return model.fit_laplace(prior, draws=10, random_seed=0)


def test_mean_is_the_map_and_covariance_the_inverse_hessian(wells):
    model, prior = wells
    map_fit = model.fit_map(prior)
    fit = model.fit_laplace(prior, random_seed=0, map_fit=map_fit)
    assert isinstance(fit, bl.LaplaceFit) and isinstance(fit, bl.PosteriorFit) and fit.method == "laplace"
    np.testing.assert_array_equal(fit.params, map_fit.params)
    # The mean is a stationary point of the objective: the Newton step from it is below 1e-8.
    _, grad, hess = model.objective(prior)(fit.params.ravel(order="F"))
    assert np.abs(np.linalg.solve(hess, grad)).max() < 1e-8
    np.testing.assert_allclose(fit.cov.to_numpy() @ hess, np.eye(3), atol=1e-10)
    assert list(fit.cov.index) == ["Intercept", "dist100", "arsenic"]


def test_draws_have_the_gaussian_moments(wells):
    model, prior = wells
    fit = model.fit_laplace(prior, draws=8000, random_seed=1)
    draws = fit.pooled_draws()[:, :, 0]
    assert fit.coef_draws.shape == (1, 8000, 3, 1) and fit.draws.dims == ("chain", "draw", "predictor")
    sd = np.sqrt(np.diag(fit.cov))
    # Mean of 8000 independent draws: standard error sd / sqrt(8000); 4 standard errors.
    assert np.all(np.abs(draws.mean(axis=0) - fit.params[:, 0]) < 4 * sd / np.sqrt(8000))
    # Sample sd: relative standard error 1 / sqrt(2 * 8000) = 0.8%; 4 of them.
    np.testing.assert_allclose(draws.std(axis=0), sd, rtol=0.032)


def test_symmetric_multiclass_draws_respect_the_constraint(iris_symmetric):
    model, prior = iris_symmetric
    map_fit = model.fit_map(prior)
    fit = model.fit_laplace(prior, draws=4000, random_seed=0, map_fit=map_fit)  # k-hat 0.55: no warning
    assert fit.coef_draws.shape == (1, 4000, 3, 3)
    assert fit.draws.dims == ("chain", "draw", "predictor", "class")
    assert list(fit.draws["class"].values) == ["setosa", "versicolor", "virginica"]
    # The flat-prior intercept row sums to zero over the classes in every draw (vec(B) = T u).
    assert np.abs(fit.coef_draws[..., 0, :].sum(axis=-1)).max() < 1e-10
    # The covariance maps like PointFit's: T H^-1 T^T.
    np.testing.assert_allclose(fit.cov.to_numpy(), map_fit.cov.to_numpy(), rtol=1e-10, atol=1e-12)


def test_same_seed_same_draws_other_seed_other_draws(wells):
    model, prior = wells
    first = model.fit_laplace(prior, draws=50, random_seed=7)
    np.testing.assert_array_equal(first.coef_draws, model.fit_laplace(prior, draws=50, random_seed=7).coef_draws)
    np.testing.assert_array_equal(
        first.coef_draws, model.fit_laplace(prior, draws=50, random_seed=np.random.default_rng(7)).coef_draws)
    assert np.abs(first.coef_draws - model.fit_laplace(prior, draws=50, random_seed=8).coef_draws).max() > 1e-3


def exact_predictive(mu: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``E[sig(a)]``, ``a ~ N(mu, s^2)``, by 100-point Gauss-Hermite quadrature (weight ``exp(-x^2 / 2)``).

    For s <= 6 it agrees with 200 points to 3e-5, far inside the tolerances it is compared with.
    """
    x, w = hermegauss(100)
    return expit(mu[:, None] + s[:, None] * x) @ w / np.sqrt(2 * np.pi)


def linear_predictor_moments(fit, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of ``Z @ b`` under the Gaussian with the fit's mean and covariance, for rows of ``Z``
    that include the column of ones when the model has an intercept."""
    return Z @ fit.params[:, 0], np.sqrt(np.einsum("ij,jk,ik->i", Z, fit.cov.to_numpy(), Z))


def test_probit_approximation_is_within_its_error_of_the_exact_predictive(challenger):
    model, prior = challenger
    fit = ten_draws(model, prior)
    temp = np.array([25.0, 31.0, 40.0, 53.0, 65.0, 81.0, 90.0])  # launches were at 53-81 F
    mu, s = linear_predictor_moments(fit, np.column_stack([np.ones_like(temp), temp]))
    assert s.max() > 3  # far from the data the linear predictor is uncertain
    probit = fit.predict_proba(pd.DataFrame({"temp": temp}), approximation="probit")
    np.testing.assert_allclose(probit, expit(mu / np.sqrt(1 + np.pi * s**2 / 8)), rtol=1e-12)
    exact = exact_predictive(mu, s)
    assert np.all(np.abs(probit - exact) <= PROBIT_MAX_ERROR)
    # Without the variance correction, sig(mu) misses the exact predictive by far more (0.06 at 40 F).
    assert np.abs(expit(mu) - exact).max() > 3 * PROBIT_MAX_ERROR


def test_probit_without_an_intercept(rng):
    model = no_intercept_model(rng)
    fit = ten_draws(model, bl.Normal(2.5))
    x = np.linspace(-8, 8, 9)
    mu, s = linear_predictor_moments(fit, x[:, None])
    probit = fit.predict_proba(x[:, None], approximation="probit")
    np.testing.assert_allclose(probit, expit(mu / np.sqrt(1 + np.pi * s**2 / 8)), rtol=1e-12)
    assert np.all(np.abs(probit - exact_predictive(mu, s)) <= PROBIT_MAX_ERROR)
    assert probit[4] == 0.5  # at x = 0 the linear predictor is exactly 0, whatever the coefficient
    # 60 rows drawn with slope 1.5: the posterior mean is within 4 posterior sds of it.
    assert abs(fit.params[0, 0] - 1.5) < 4 * np.sqrt(fit.cov.iloc[0, 0])


def test_probit_of_a_two_class_softmax_uses_the_log_odds_of_the_second_class(challenger):
    """Two classes under a softmax: the probit predictive is that of the log-odds theta_1 - theta_0. With a
    reference class that is the Bernoulli model again; symmetric, its moments follow from the covariance."""
    model, prior = challenger
    data = bl.datasets.load_challenger()
    new = pd.DataFrame({"temp": [31.0, 53.0, 70.0]})
    sigmoid = model.fit_laplace(prior, draws=100, random_seed=0).predict_proba(new, approximation="probit")
    reference = bl.LogisticModel.from_formula("damaged ~ temp", data, likelihood="categorical")
    proba = reference.fit_laplace(prior, draws=100, random_seed=0).predict_proba(new, approximation="probit")
    assert proba.shape == (3, 2)
    np.testing.assert_allclose(proba[:, 1], sigmoid, rtol=1e-7)
    symmetric = bl.LogisticModel.from_formula("damaged ~ temp", data, likelihood="categorical",
                                              parameterization="symmetric")
    fit = symmetric.fit_laplace(prior, draws=100, random_seed=0)
    difference = np.hstack([-np.eye(2), np.eye(2)])  # vec(B) = (theta_0, theta_1) -> theta_1 - theta_0
    Z = np.column_stack([np.ones(3), new["temp"]]) @ difference
    mu, s = Z @ fit.params.ravel(order="F"), np.sqrt(np.einsum("ij,jk,ik->i", Z, fit.cov.to_numpy(), Z))
    proba = fit.predict_proba(new, approximation="probit")
    np.testing.assert_allclose(proba[:, 1], expit(mu / np.sqrt(1 + np.pi * s**2 / 8)), rtol=1e-10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


def test_integer_weights_equal_duplicated_rows(rng):
    data = bl.datasets.load_wells()
    weights = rng.integers(1, 4, len(data))
    weighted = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", data, weights=weights)
    repeated = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", data.loc[data.index.repeat(weights)])
    prior = bl.Normal(2.5)
    fits = [model.fit_laplace(prior, draws=100, random_seed=0) for model in (weighted, repeated)]
    np.testing.assert_allclose(fits[0].params, fits[1].params, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fits[0].cov, fits[1].cov, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fits[0].coef_draws, fits[1].coef_draws, rtol=1e-10, atol=1e-10)
    # The pointwise log-likelihood of a row of weight w is w times that of one copy.
    loglik = [fit.log_likelihood().sum(axis=-1) for fit in fits]
    np.testing.assert_allclose(loglik[0], loglik[1], rtol=1e-10)


def test_probit_needs_a_binary_model(iris_symmetric):
    model, prior = iris_symmetric
    fit = ten_draws(model, prior)
    with pytest.raises(ValueError, match=r"needs two classes; this model has 3. Use approximation='mc'"):
        fit.predict_proba(approximation="probit")
    with pytest.raises(ValueError, match=r"`approximation` must be one of \['mc', 'probit'\]; got 'exact'"):
        fit.predict_proba(approximation="exact")
    proba = fit.predict_proba()
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


def test_khat_small_for_wells_with_psis_corrected_means(wells):
    model, prior = wells
    fit = model.fit_laplace(prior, random_seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bl.ConvergenceWarning)
        diagnosis = fit.diagnose()
    # 3,020 rows, 3 coefficients: the posterior is close to Gaussian.
    assert diagnosis.khat < 0.5
    sd = np.sqrt(np.diag(fit.cov))
    np.testing.assert_allclose(diagnosis.corrected_coef.to_numpy(), fit.params[:, 0], atol=0.1 * sd.max())


def test_khat_warns_when_the_gaussian_is_poor():
    # Twelve rows separated by six predictors under a weak prior: the posterior has long tails towards
    # large coefficients that the Gaussian at the MAP misses.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 6))
    model = bl.LogisticModel(X, (X.sum(axis=1) > 0).astype(int), intercept=False)
    # The warning comes when the fit is made, and again when the diagnosis is asked for.
    with pytest.warns(bl.ConvergenceWarning, match=r"Pareto k-hat = \d\.\d\d > 0.7: the Laplace approximation is poor "
                                                   r"here .*; use fit_mcmc"):
        fit = model.fit_laplace(bl.Normal(100), random_seed=0)
    with pytest.warns(bl.ConvergenceWarning, match="Laplace approximation is poor here"):
        diagnosis = fit.diagnose()
    assert diagnosis is fit.diagnosis and not diagnosis.ok
    assert diagnosis.khat > 0.7
    # The importance-corrected means lie further out than the MAP, in the direction of the tails.
    assert np.all(np.abs(diagnosis.corrected_coef.to_numpy()) > np.abs(fit.params[:, 0]))


def test_khat_that_cannot_be_estimated_says_the_gaussian_misses_badly():
    """Forty separated rows, twenty predictors, a prior of sd 1000: the log importance ratios span tens of thousands, so a
    handful of draws carry all the weight, PSIS cannot fit a tail, and k-hat is NaN. That is not "too few draws"."""
    X = np.random.default_rng(0).normal(size=(40, 20))
    model = bl.LogisticModel(X, (X.sum(axis=1) > 0).astype(int), intercept=False)
    with pytest.warns(bl.ConvergenceWarning, match=r"^Pareto k-hat could not be estimated: the log importance ratios "
                                                   r"of the exact posterior to the Gaussian span \d\.\d+e\+04, so a few "
                                                   r"of the 4000 draws carry all the weight\. The Laplace approximation "
                                                   r"misses the posterior badly here; use fit_mcmc$"):
        fit = model.fit_laplace(bl.Normal(1000), random_seed=0)
    assert np.isnan(fit.diagnosis.khat) and not fit.diagnosis.ok and fit.diagnosis.log_ratio_range > 1e4


def test_datatree_works_with_arviz(wells):
    import arviz as az
    import arviz_plots as azp
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model, prior = wells
    fit = model.fit_laplace(prior, draws=1000, random_seed=0)
    tree = fit.to_datatree()
    assert tree["posterior"]["coef"].dims == ("chain", "draw", "predictor")
    assert list(tree["posterior"]["predictor"].values) == ["Intercept", "dist100", "arsenic"]
    loglik = tree["log_likelihood"]["y"]
    assert loglik.dims == ("chain", "draw", "obs") and loglik.shape == (1, 1000, 3020)
    # The pointwise log-likelihood sums to the model's log-likelihood at each draw.
    np.testing.assert_allclose(loglik[0, 0].sum(), model.loglik(fit.pooled_draws()[0]), rtol=1e-12)
    summary = az.summary(tree, var_names=["coef"], round_to="none")
    np.testing.assert_allclose(summary["mean"].to_numpy(), fit.pooled_draws().mean(axis=0)[:, 0], rtol=1e-12)
    loo = az.loo(tree)
    # elpd_loo is close to the log-likelihood at the MAP less the effective number of parameters (~3).
    assert abs(loo.elpd - (fit.map_fit.loglik - 3)) < 1.0
    assert loo.pareto_k.max() < 0.7
    azp.plot_trace(tree, var_names=["coef"])
    plt.close("all")


def test_summary_reports_mean_sd_and_hdi(wells):
    model, prior = wells
    fit = model.fit_laplace(prior, draws=4000, random_seed=0)
    summary = fit.summary(ci_prob=0.9, ci_kind="hdi")
    assert list(summary.columns) == ["mean", "sd", "hdi90_lb", "hdi90_ub"]
    assert list(summary.index) == ["Intercept", "dist100", "arsenic"]
    sd = np.sqrt(np.diag(fit.cov))
    np.testing.assert_allclose(summary["sd"].to_numpy(), sd, rtol=0.05)
    # A 90% HDI of a Gaussian is mean +- 1.645 sd; 4000 draws put its ends within ~0.1 sd.
    np.testing.assert_allclose(summary["hdi90_ub"] - fit.params[:, 0], 1.645 * sd, atol=0.1 * sd.max())


@pytest.mark.parametrize("kwargs, error, match", [
    ({"draws": 0}, ValueError, "`draws` must be an integer >= 1; got 0"),
    ({"draws": 10.0}, TypeError, r"`draws` must be an integer >= 1; got 10.0 of type float"),
    ({"prior": 2.5}, TypeError, "prior must be bl.Normal, bl.StudentT or bl.Cauchy.*got float"),
])
def test_bad_input(wells, kwargs, error, match):
    model, prior = wells
    with pytest.raises(error, match=match):
        model.fit_laplace(**{"prior": prior, **kwargs})


def test_map_fit_of_another_prior_is_refused(wells):
    model, prior = wells
    with pytest.raises(ValueError, match=r"`map_fit` must be model.fit_map\(prior\)"):
        model.fit_laplace(prior, map_fit=model.fit_map(bl.Normal(1.0)))
