"""Predicted probabilities with intervals: Wald intervals of point fits against statsmodels and a hand delta
method, posterior intervals against quantiles and highest-density intervals of the per-draw probabilities."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit, logit, softmax
from scipy.stats import norm

import bayeslogit as bl

FORMULA = "switched ~ dist100 + arsenic"


@pytest.fixture(scope="module")
def wells():
    return bl.datasets.load_wells()


@pytest.fixture(scope="module")
def model(wells):
    return bl.LogisticModel.from_formula(FORMULA, wells)


@pytest.fixture(scope="module")
def ml(model):
    return model.fit_ml()


@pytest.fixture(scope="module")
def map_fit(model):
    return model.fit_map(bl.Normal(2.5))


@pytest.fixture(scope="module")
def laplace(model):
    return model.fit_laplace(bl.Normal(2.5), draws=1000, random_seed=0)


@pytest.fixture(scope="module")
def mcmc(model):
    return model.fit_mcmc(bl.Normal(2.5), draws=500, tune=500, chains=2, random_seed=0, progressbar=False)


@pytest.fixture(scope="module")
def iris_model():
    """Three classes; sepal length alone does not separate them, so maximum likelihood exists."""
    return bl.LogisticModel.from_formula("species ~ sepal_length", bl.datasets.load_iris())


def test_ml_interval_is_statsmodels_delta_method_on_the_logit_scale(ml, wells):
    rows = wells.iloc[::7]
    table = ml.predict_interval(rows, ci_prob=0.95)
    X = sm.add_constant(rows[["dist100", "arsenic"]])
    reference = sm.Logit(wells["switched"], sm.add_constant(wells[["dist100", "arsenic"]])).fit(disp=0)
    frame = reference.get_prediction(X).summary_frame(alpha=0.05)
    # Both are the same Newton optimum (to ~1e-10 in the coefficients), so the bounds agree to far below 1e-6.
    np.testing.assert_allclose(table["estimate"], frame["predicted"], atol=1e-6)
    np.testing.assert_allclose(table["wald95_lb"], frame["ci_lower"], atol=1e-6)
    np.testing.assert_allclose(table["wald95_ub"], frame["ci_upper"], atol=1e-6)


def test_ml_interval_is_a_hand_delta_method(ml, wells):
    rows = wells.head(50)
    Z = np.column_stack([np.ones(len(rows)), rows[["dist100", "arsenic"]]])
    eta = Z @ ml.coef.to_numpy()
    se = np.sqrt(np.einsum("ij,jk,ik->i", Z, ml.cov.to_numpy(), Z))
    z = norm.ppf(0.5 + 0.89 / 2)
    table = ml.predict_interval(rows, ci_prob=0.89)
    assert list(table.columns) == ["estimate", "wald89_lb", "wald89_ub"]
    expected = np.column_stack([expit(eta), expit(eta - z * se), expit(eta + z * se)])
    np.testing.assert_allclose(table.to_numpy(), expected, rtol=1e-12)


def test_ml_default_is_wald_at_arviz_level_and_keeps_the_index(ml, wells):
    rows = wells.iloc[[5, 17, 2000]]
    table = ml.predict_interval(rows)
    assert list(table.columns) == ["estimate", "wald89_lb", "wald89_ub"]
    assert list(table.index) == [5, 17, 2000]
    assert table.attrs["interval"].startswith("Pr(class 1)")


@pytest.mark.parametrize("fit_name", ["laplace", "mcmc"])
def test_posterior_eti_is_the_quantiles_of_the_per_draw_probabilities(fit_name, request, model, wells):
    fit = request.getfixturevalue(fit_name)
    rows = wells.iloc[:40]
    per_draw = fit.predictive_draws(model.design_matrix(rows))[:, :, 1]  # (S, n): Pr(switched = 1)
    table = fit.predict_interval(rows, ci_prob=0.9, ci_kind="eti")
    assert list(table.columns) == ["mean", "eti90_lb", "eti90_ub"]
    np.testing.assert_allclose(table["mean"], per_draw.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(table["mean"], fit.predict_proba(rows)[:, 1], rtol=1e-12)
    np.testing.assert_allclose(table["eti90_lb"], np.quantile(per_draw, 0.05, axis=0), rtol=1e-12)
    np.testing.assert_allclose(table["eti90_ub"], np.quantile(per_draw, 0.95, axis=0), rtol=1e-12)


def test_posterior_hdi_is_arviz_and_the_shortest_interval_of_the_draws(laplace, model, wells):
    import xarray as xr
    from arviz_stats import hdi

    rows = wells.iloc[100:130]
    per_draw = laplace.predictive_draws(model.design_matrix(rows))[:, :, 1]
    table = laplace.predict_interval(rows, ci_prob=0.8, ci_kind="hdi")
    arviz = hdi(xr.DataArray(per_draw[None], dims=("chain", "draw", "obs")), prob=0.8)
    np.testing.assert_allclose(table[["hdi80_lb", "hdi80_ub"]].to_numpy(), arviz.to_numpy(), rtol=1e-12)
    ordered = np.sort(per_draw, axis=0)
    gap = int(np.floor(0.8 * len(ordered)))  # the draws an 80% interval spans, as ArviZ counts them
    widths = ordered[gap:] - ordered[:-gap]
    shortest = widths.argmin(axis=0)
    columns = np.arange(ordered.shape[1])
    np.testing.assert_allclose(table["hdi80_lb"], ordered[shortest, columns], rtol=1e-12)
    np.testing.assert_allclose(table["hdi80_ub"], ordered[shortest + gap, columns], rtol=1e-12)


@pytest.mark.parametrize("fit_name", ["ml", "map_fit", "laplace", "mcmc"])
def test_bounds_bracket_the_probability(fit_name, request):
    values = request.getfixturevalue(fit_name).predict_interval().to_numpy()  # the training rows
    assert values.shape == (3020, 3)
    assert np.all(
        (0 < values[:, 1]) & (values[:, 1] < values[:, 0]) & (values[:, 0] < values[:, 2]) & (values[:, 2] < 1)
    )


def test_multiclass_point_interval_is_the_delta_method_on_each_class_log_odds(iris_model):
    fit = iris_model.fit_ml()
    rows = bl.datasets.load_iris().iloc[[0, 60, 120]]
    table = fit.predict_interval(rows, ci_prob=0.95)
    classes = ["setosa", "versicolor", "virginica"]
    assert table.columns.names == ["class", "stat"]
    assert list(table.columns) == [(c, s) for c in classes for s in ("estimate", "wald95_lb", "wald95_ub")]
    np.testing.assert_allclose(table.xs("estimate", axis=1, level="stat"), fit.predict_proba(rows), rtol=1e-12)

    def log_odds(vec_b: np.ndarray) -> np.ndarray:  # logit p_k of the three rows, (3, K), reference class 0
        B = vec_b.reshape(2, 2, order="F")
        logits = np.column_stack([np.zeros(3), np.column_stack([np.ones(3), rows["sepal_length"]]) @ B])
        return logit(softmax(logits, axis=1))

    vec_b = fit.params.ravel(order="F")
    step = 1e-6
    jacobian = np.stack(
        [(log_odds(vec_b + step * e) - log_odds(vec_b - step * e)) / (2 * step) for e in np.eye(4)], axis=-1
    )  # (3, K, 4)
    se = np.sqrt(np.einsum("ikp,pq,ikq->ik", jacobian, fit.cov.to_numpy(), jacobian))
    z = norm.ppf(0.975)
    # Central differences of a smooth function with step 1e-6: the gradient to ~1e-9, the bounds to ~1e-8.
    np.testing.assert_allclose(table.xs("wald95_lb", axis=1, level="stat"), expit(log_odds(vec_b) - z * se), atol=1e-8)
    np.testing.assert_allclose(table.xs("wald95_ub", axis=1, level="stat"), expit(log_odds(vec_b) + z * se), atol=1e-8)


def test_multiclass_point_interval_does_not_depend_on_the_parameterization(iris_model):
    """Maximum likelihood under the symmetric parameterization is the same model, so the same probabilities."""
    rows = bl.datasets.load_iris().iloc[::10]
    symmetric = bl.LogisticModel.from_formula(
        "species ~ sepal_length", bl.datasets.load_iris(), parameterization="symmetric"
    )
    np.testing.assert_allclose(
        symmetric.fit_ml().predict_interval(rows).to_numpy(),
        iris_model.fit_ml().predict_interval(rows).to_numpy(),
        rtol=1e-7,
    )


def test_multiclass_posterior_interval_keeps_class_labels(iris_model):
    # the weights move the intercepts' means by 0.28 posterior sds: borderline
    with pytest.warns(bl.ConvergenceWarning, match="the Laplace approximation may be poor here"):
        fit = iris_model.fit_laplace(bl.Normal(2.5), draws=400, random_seed=0)
    rows = bl.datasets.load_iris().iloc[[3, 80]]
    table = fit.predict_interval(rows, ci_prob=0.5, ci_kind="eti")
    per_draw = fit.predictive_draws(iris_model.design_matrix(rows))  # (S, 2, K)
    assert list(table.columns.get_level_values("class").unique()) == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose(
        table.xs("eti50_lb", axis=1, level="stat"), np.quantile(per_draw, 0.25, axis=0), rtol=1e-12
    )
    np.testing.assert_allclose(table.xs("mean", axis=1, level="stat").sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("n_rows", [1, 10_000])
def test_any_number_of_new_rows(n_rows, ml, wells, laplace):
    rows = wells.sample(n_rows, replace=True, random_state=0)
    point, posterior = ml.predict_interval(rows), laplace.predict_interval(rows)
    assert point.shape == posterior.shape == (n_rows, 3)
    assert point.index.equals(rows.index) and posterior.index.equals(rows.index)
    np.testing.assert_allclose(posterior["mean"], laplace.predict_proba(rows)[:, 1], rtol=1e-12)


def test_array_model_rows_get_a_range_index(rng):
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    table = bl.LogisticModel(X, y).fit_ml().predict_interval(X[:4])
    assert table.index.equals(pd.RangeIndex(4))


def test_dask_rows_give_the_same_table(wells, laplace):
    import dask.dataframe as dd

    rows = wells.iloc[:700]
    expected = laplace.predict_interval(rows)
    table = laplace.predict_interval(dd.from_pandas(rows, npartitions=3))
    np.testing.assert_allclose(table.to_numpy(), expected.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "fit_name, options, words",
    [
        ("ml", {"ci_kind": "hdi"}, "`ci_kind` must be one of ['wald']; got 'hdi'"),
        ("laplace", {"ci_kind": "wald"}, "`ci_kind` must be one of ['eti', 'hdi']; got 'wald'"),
        ("laplace", {"ci_prob": 1.5}, "`ci_prob` must be a probability in (0, 1); got 1.5"),
    ],
)
def test_misuse_is_named(fit_name, options, words, request, wells):
    fit = request.getfixturevalue(fit_name)
    with pytest.raises(ValueError) as raised:
        fit.predict_interval(wells.head(), **options)
    assert words in str(raised.value)


def test_formula_model_refuses_an_array(ml, wells):
    with pytest.raises(TypeError, match="pass new data as a DataFrame with the formula's columns; got ndarray"):
        ml.predict_interval(wells[["dist100", "arsenic"]].to_numpy())


def test_a_loaded_fit_predicts_the_same_intervals(laplace, map_fit, wells, tmp_path):
    rows = wells.iloc[:25]
    for fit, name in [(laplace, "laplace.nc"), (map_fit, "map.nc")]:
        loaded = bl.load(fit.save(tmp_path / name))
        pd.testing.assert_frame_equal(loaded.predict_interval(rows), fit.predict_interval(rows), rtol=1e-12)
