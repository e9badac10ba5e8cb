"""``LogisticModel.to_pymc``: the model in PyMC, in the user's coordinates.

Its log density is checked against the package's objective, its names against a fit's DataTree (whose draws must
attach to it), and PyMC's sampling and prediction against the package's own.
"""

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy.special import log_ndtr
from scipy.stats import norm

import bayeslogit as bl

WELLS_FORMULA = "switched ~ dist100 + arsenic"


def wells():
    return bl.LogisticModel.from_formula(WELLS_FORMULA, bl.datasets.load_wells())


def iris(parameterization="reference"):
    return bl.LogisticModel.from_formula(
        "species ~ petal_length + petal_width", bl.datasets.load_iris(), parameterization=parameterization
    )


def symmetric_iris():
    return iris("symmetric")


def weighted_rows(seed: int = 3, n: int = 300):
    """Rows of a logistic model with three predictors, and integer weights 0-3 (some rows count zero times)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3)) * [1.0, 2.0, 0.5]
    y = rng.random(n) < 1 / (1 + np.exp(-(0.3 + X @ [1.0, -0.5, 2.0])))
    return X, y, rng.integers(0, 4, n).astype(float)


def weighted():
    X, y, weights = weighted_rows()
    return bl.LogisticModel(X, y, weights=weights)


def no_intercept():
    X, y, _ = weighted_rows(seed=4)
    return bl.LogisticModel(X, y, intercept=False)


DENSITY_CASES = [
    (wells, None),
    (wells, bl.Normal(2.5)),
    (wells, bl.Normal(2.5, intercept_scale=10.0)),
    (wells, bl.Normal(1.0, autoscale=True)),
    (wells, bl.StudentT(4, 2.5)),
    (wells, bl.StudentT(3.3, 2.5, intercept_scale=5.0, autoscale=False)),  # nu not a float32: given as float64
    (wells, bl.Cauchy(2.5, intercept_scale=10.0)),
    (weighted, bl.Normal(1.5)),
    (weighted, bl.StudentT(5, 2.0, intercept_scale=3.0, autoscale=False)),
    (weighted, bl.Cauchy(1.0)),
    (no_intercept, bl.Normal(2.0, autoscale=True)),
    (iris, bl.Normal(2.5)),
    (iris, bl.Cauchy(1.0, intercept_scale=4.0, autoscale=False)),
    (iris, bl.StudentT(3, 1.0, intercept_scale=5.0)),
    (symmetric_iris, None),
    (symmetric_iris, bl.Normal(2.5)),
    (symmetric_iris, bl.StudentT(7, 2.5, intercept_scale=3.0)),
]


def value_point(pm_model, objective, u: np.ndarray) -> dict:
    """The point of ``pm_model``'s value variables at the objective's free coordinates ``u``: ``coef`` itself, or
    those coordinates where ``coef`` is sampled in them (a symmetric model's flat rows)."""
    B = objective.coef(u)
    value = u if objective.transform is not None else (B[:, 0] if pm_model["coef"].ndim == 1 else B)
    (value_var,) = pm_model.value_vars
    return {value_var.name: value}


@pytest.mark.parametrize(("make", "prior"), DENSITY_CASES, ids=lambda case: getattr(case, "__name__", repr(case)))
def test_the_log_density_is_minus_the_objective_plus_the_priors_normalising_constant(make, prior):
    """At random points, ``logp = -objective + c`` with ``c`` the prior's normalising constant, the log density of
    the prior term at zero (the objective drops it); and ``dlogp = -gradient``. Both sides add n terms of about the
    same size in float64, so they agree to ~n eps of the value: 1e-8 of it is four orders of magnitude of margin."""
    model = make()
    objective = model.objective(prior)
    pm_model = model.to_pymc(prior)
    logp, dlogp = pm_model.compile_logp(), pm_model.compile_dlogp()
    constant = objective.prior.log_density(np.zeros(objective.shape)).sum()
    rng = np.random.default_rng(0)
    for u in rng.standard_normal((6, objective.n_free)):
        value, gradient = objective.value_and_gradient(u)
        point = value_point(pm_model, objective, u)
        assert logp(point) == pytest.approx(constant - value, rel=1e-8, abs=1e-8)
        expected = -gradient if objective.transform is not None else -gradient.reshape(objective.shape, order="F")
        np.testing.assert_allclose(dlogp(point), expected.ravel(), rtol=1e-8, atol=1e-8 * max(1.0, abs(value)))


def test_a_weight_counts_a_row_that_many_times():
    """Integer weights: the weighted model's log density is that of the rows repeated, weight 0 dropping a row."""
    X, y, weights = weighted_rows()
    repeated = np.repeat(np.arange(len(y)), weights.astype(int))
    prior = bl.Normal(1.5)
    weighted_model = bl.LogisticModel(X, y, weights=weights).to_pymc(prior)
    repeated_model = bl.LogisticModel(X[repeated], y[repeated]).to_pymc(prior)
    for coef in np.random.default_rng(1).standard_normal((4, 4)):
        expected = repeated_model.compile_logp()({"coef": coef})
        assert weighted_model.compile_logp()({"coef": coef}) == pytest.approx(expected, rel=1e-10)


def test_its_names_and_dims_are_those_of_a_fits_datatree():
    """``coef`` (predictor, class) with the model's labels, ``y`` (obs) and the data; weights only when weighted."""
    model = iris()
    pm_model = model.to_pymc(bl.Normal(2.5))
    assert set(pm_model.named_vars) == {"X", "y_codes", "coef", "y"}
    assert pm_model.named_vars_to_dims["coef"] == ("predictor", "class")
    assert pm_model.named_vars_to_dims["y"] == ("obs",)
    assert pm_model.named_vars_to_dims["X"] == ("obs", "feature")
    assert list(pm_model.coords["predictor"]) == ["Intercept", "petal_length", "petal_width"]
    assert list(pm_model.coords["class"]) == ["versicolor", "virginica"]
    assert list(pm_model.coords["feature"]) == ["petal_length", "petal_width"]
    np.testing.assert_array_equal(pm_model["X"].get_value(), model.data.X)
    np.testing.assert_array_equal(pm_model["y_codes"].get_value(), model.data.y)
    weighted_model = weighted().to_pymc(bl.Normal(1.5))
    assert set(weighted_model.named_vars) == {"X", "y_codes", "weights", "coef", "y", "weighting"}
    assert {var.name for var in weighted_model.potentials} == {"weighting"}
    assert weighted_model.named_vars_to_dims["coef"] == ("predictor",)
    assert set(weighted().to_pymc(bl.Normal(1.5), observed=False).named_vars) == {"X", "y_codes", "weights", "coef"}


@pytest.mark.parametrize(
    ("prior", "distributions"),
    [
        (bl.Normal(2.5, intercept_scale=10.0), ["NormalRV"]),
        (bl.StudentT(4, 2.5, intercept_scale=10.0), ["StudentTRV"]),
        (bl.Cauchy(2.5, intercept_scale=10.0), ["CauchyRV"]),
        (None, ["FlatRV"]),
        (bl.Cauchy(2.5), ["FlatRV", "CauchyRV"]),
    ],
)
def test_the_prior_is_pymcs_distribution_of_its_family_and_flat_where_flat(prior, distributions):
    """Each prior family is PyMC's distribution of that name; a flat intercept is ``pm.Flat``, joined to the slopes'
    distribution in one ``coef`` (a CustomDist whose graph holds both)."""
    op = wells().to_pymc(prior)["coef"].owner.op
    inner = [type(node.op).__name__ for node in op.fgraph.toposort()] if hasattr(op, "fgraph") else [type(op).__name__]
    assert [name for name in inner if name.endswith("RV")] == distributions


def test_a_fits_draws_attach_and_predict_new_rows_as_the_fit_does():
    """The DataTree of a Laplace fit feeds ``sample_posterior_predictive``; with new rows set by ``pm.set_data``
    the predicted events' frequency over 4,000 draws is the fit's ``predict_proba`` within 5 binomial sds."""
    data = bl.datasets.load_wells()
    model = wells()
    fit = model.fit_laplace(bl.Normal(2.5), draws=4000, random_seed=0)
    pm_model = model.to_pymc(bl.Normal(2.5))
    tree = fit.to_datatree()
    in_sample = pm.sample_posterior_predictive(tree, model=pm_model, random_seed=1, progressbar=False)
    assert in_sample.posterior_predictive["y"].shape == (1, 4000, len(data))
    new_rows = data.iloc[[3, 50, 700, 1500, 2999]]
    with pm_model:
        pm.set_data({"X": model.design_matrix(new_rows)})
        predicted = pm.sample_posterior_predictive(tree, predictions=True, random_seed=2, progressbar=False)
    events = predicted.predictions["y"]
    assert events.shape == (1, 4000, 5)
    probability = fit.predict_proba(new_rows)[:, 1]
    noise = np.sqrt(probability * (1 - probability) / 4000)
    assert np.all(np.abs(events.mean(("chain", "draw")).to_numpy() - probability) < 5 * noise)


def test_a_weighted_models_predictions_are_the_fits_and_pymcs_warning_about_its_potential_is_moot():
    """The potential ``weighting`` weights the rows' likelihood only, so predictions from a fit's draws are right
    (within 5 binomial sds over 2,000 draws) though PyMC warns that potentials are ignored in predictive sampling."""
    model = weighted()
    fit = model.fit_laplace(bl.Normal(1.5), draws=2000, random_seed=0)
    new_rows = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5], [-1.0, 1.0, -0.5]])
    with model.to_pymc(bl.Normal(1.5)):
        pm.set_data({"X": new_rows})
        with pytest.warns(UserWarning, match="The effect of Potentials on other parameters is ignored"):
            predicted = pm.sample_posterior_predictive(
                fit.to_datatree(), predictions=True, random_seed=3, progressbar=False
            )
    probability = fit.predict_proba(new_rows)[:, 1]
    noise = np.sqrt(probability * (1 - probability) / 2000)
    assert np.all(np.abs(predicted.predictions["y"].mean(("chain", "draw")).to_numpy() - probability) < 5 * noise)


def test_pm_sample_runs_and_predicts_new_rows_of_a_symmetric_multiclass_model():
    """``pm.sample`` on the symmetric iris model (its flat intercepts sampled in the objective's free coordinates)
    draws intercepts that sum to zero over the classes to rounding; predictions for three new rows have their
    shape and are class codes."""
    model = iris("symmetric")
    pm_model = model.to_pymc(bl.Normal(2.5))
    with pm_model:
        tree = pm.sample(draws=30, tune=30, chains=1, random_seed=0, progressbar=False)
    coef = tree.posterior["coef"]
    assert coef.dims == ("chain", "draw", "predictor", "class")
    assert list(coef["class"].to_numpy()) == ["setosa", "versicolor", "virginica"]
    assert np.abs(coef.sel(predictor="Intercept").sum("class")).max() < 1e-12 * np.abs(coef).max()
    new_rows = bl.datasets.load_iris().iloc[[0, 60, 120]]
    with pm_model:
        pm.set_data({"X": model.design_matrix(new_rows)})
        predicted = pm.sample_posterior_predictive(tree, predictions=True, random_seed=1, progressbar=False)
    assert predicted.predictions["y"].shape == (1, 30, 3)
    assert set(np.unique(predicted.predictions["y"])) <= {0, 1, 2}


def test_the_docstrings_group_intercept_and_probit_likelihood():
    """The extension of ``to_pymc``'s docstring: with ``observed=False`` the model holds the data and ``coef``; a group
    intercept and a probit likelihood added to it give the log density written out in SciPy."""
    data = bl.datasets.load_wells()
    model = wells()
    prior = bl.Normal(2.5)
    codes, groups = pd.factorize(data["educ"] // 5)
    m = model.to_pymc(prior, observed=False)
    with m:
        m.add_coord("group", groups)
        offset = pm.Normal("offset", 0.0, pm.HalfNormal("spread", 1.0), dims="group")
        eta = m["coef"][0] + m["X"] @ m["coef"][1:] + offset[pm.Data("group_codes", codes, dims="obs")]
        pm.Bernoulli("y", p=pm.math.invprobit(eta), observed=m["y_codes"], dims="obs")
    coef, offsets, log_spread = np.array([-0.1, -0.9, 0.45]), np.linspace(-0.3, 0.3, len(groups)), np.log(0.7)
    eta = coef[0] + model.data.X @ coef[1:] + offsets[codes]
    sign = 2.0 * model.data.y - 1.0
    objective = model.objective(prior)
    expected = (
        -objective.penalty(coef[:, None])
        + objective.prior.log_density(np.zeros((3, 1))).sum()
        + log_ndtr(sign * eta).sum()
        + (-0.5 * (offsets / 0.7) ** 2 - np.log(0.7) - 0.5 * np.log(2 * np.pi)).sum()
        + (np.log(np.sqrt(2 / np.pi)) - 0.5 * 0.7**2 + log_spread)  # HalfNormal(1) on log scale, with its Jacobian
    )
    point = {"coef": coef, "offset": offsets, "spread_log__": log_spread}
    # PyMC's invprobit divides eta by sqrt(2) rounded to float32 (relative error 2.4e-8), which moves each row's
    # log Phi(z) by up to |z| phi(z) / Phi(z) times 3e-8.
    z = sign * eta
    rounding = 3e-8 * np.sum(np.abs(z) * np.exp(norm.logpdf(z) - log_ndtr(z)))
    assert m.compile_logp()(point) == pytest.approx(expected, rel=1e-12, abs=rounding)


def test_what_cannot_be_built_is_refused_with_what_to_do():
    da = pytest.importorskip("dask.array")
    X, y, _ = weighted_rows()
    chunked = bl.LogisticModel(da.from_array(X, chunks=100), da.from_array(y, chunks=100))
    with pytest.raises(bl.DataError, match=r"^to_pymc needs the rows in memory.*in-memory subsample"):
        chunked.to_pymc(bl.Normal(2.5))
    with pytest.raises(bl.OptionError, match="prior must be bl.Normal, bl.StudentT or bl.Cauchy"):
        wells().to_pymc(2.5)


@pytest.mark.slow
def test_pm_sample_agrees_with_fit_mcmc_within_their_monte_carlo_errors(wells_mcmc):
    """Wells under Normal(2.5): ``pm.sample`` (4 x 1000 after 1000 tuning steps) and ``fit_mcmc`` (4 x 1000) give
    posterior means within 3 standard errors of their difference, ``sqrt(mcse_a^2 + mcse_b^2)`` (ArviZ's MCSE)."""
    from arviz_stats import mcse

    with wells().to_pymc(bl.Normal(2.5)):
        tree = pm.sample(draws=1000, tune=1000, chains=4, random_seed=0, progressbar=False)
    ours = wells_mcmc.to_datatree()
    difference = tree.posterior["coef"].mean(("chain", "draw")) - ours.posterior["coef"].mean(("chain", "draw"))
    error = np.sqrt(mcse(tree.posterior.to_dataset())["coef"] ** 2 + mcse(ours.posterior.to_dataset())["coef"] ** 2)
    assert np.all(np.abs(difference) < 3 * error)
