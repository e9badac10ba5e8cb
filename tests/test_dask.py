"""Models of dask data: the chunked fits equal the in-memory ones, the same data errors are told the same way,
and what needs the rows in memory is refused with what to do instead."""

import numpy as np
import pandas as pd
import pytest

import bayeslogit as bl

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

N_ROWS, CHUNK = 20_000, 3_000  # 7 chunks, the last one short
TRUTH = np.array([[0.3, 0.0], [1.0, -0.6], [-0.5, 0.8], [0.2, 0.4]])  # (P, 2): a binary and a 3-class model


def simulate(n_rows: int, n_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X`` (n, 3), labels (n,) from a logistic model with coefficients ``TRUTH``, and weights in [0.5, 2]."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 3))
    eta = np.column_stack([np.zeros(n_rows), X @ TRUTH[1:, : n_classes - 1] + TRUTH[0, : n_classes - 1]])
    p = np.exp(eta - eta.max(axis=1, keepdims=True))
    y = (p.cumsum(axis=1) / p.sum(axis=1, keepdims=True) < rng.random((n_rows, 1))).sum(axis=1)
    return X, y, rng.uniform(0.5, 2.0, n_rows)


def chunked(*arrays):
    return [da.from_array(array, chunks=(CHUNK,) + array.shape[1:]) for array in arrays]


@pytest.fixture(scope="module", params=[2, 3], ids=["binary", "3 classes"])
def models(request):
    X, y, weights = simulate(N_ROWS, request.param)
    return bl.LogisticModel(X, y, weights=weights), bl.LogisticModel(*chunked(X, y), weights=chunked(weights)[0])


@pytest.mark.parametrize(
    "fit",
    [
        lambda m: m.fit_ml(),
        lambda m: m.fit_map(bl.Normal(0.5, intercept_scale=2.0)),
        lambda m: m.fit_map(bl.Cauchy(2.5, intercept_scale=10)),
    ],
    ids=["ml", "map", "map-cauchy-autoscaled"],
)
def test_chunked_point_fits_equal_the_in_memory_ones(models, fit):
    in_memory, out_of_core = (fit(model) for model in models)
    assert out_of_core.converged and out_of_core.n_iter == in_memory.n_iter
    np.testing.assert_allclose(out_of_core.params, in_memory.params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(out_of_core.uncertainty, in_memory.uncertainty, rtol=0, atol=1e-8)
    np.testing.assert_allclose(out_of_core.llf, in_memory.llf, rtol=1e-10)
    assert out_of_core.summary().index.tolist() == in_memory.summary().index.tolist()
    # autoscaling: the predictors' sds of the construction's pass (a Gram matrix of scaled columns), as np.std's
    np.testing.assert_allclose(out_of_core.prior_scales, in_memory.prior_scales, rtol=1e-12)


def test_predictions_on_dask_rows_equal_the_in_memory_ones(models):
    in_memory, out_of_core = (model.fit_map(bl.Normal(1.0)) for model in models)
    X_new = np.random.default_rng(1).normal(size=(5_000, 3))
    expected = in_memory.predict_proba(X_new)
    for got in (
        out_of_core.predict_proba(X_new),
        out_of_core.predict_proba(chunked(X_new)[0]),
        in_memory.predict_proba(chunked(X_new)[0]),
    ):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(out_of_core.predict(), in_memory.predict())


@pytest.mark.parametrize("models", [2], indirect=True, ids=["binary"])
def test_probit_predictions_on_dask_rows_equal_the_in_memory_ones(models):
    in_memory, out_of_core = (model.fit_laplace(bl.Normal(1.0), draws=100, random_seed=0) for model in models)
    X_new = np.random.default_rng(1).normal(size=(5_000, 3))
    np.testing.assert_allclose(
        out_of_core.predict_proba(chunked(X_new)[0], approximation="probit"),
        in_memory.predict_proba(X_new, approximation="probit"),
        rtol=0,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        out_of_core.predict_proba(approximation="probit"),
        in_memory.predict_proba(approximation="probit"),
        rtol=0,
        atol=1e-12,
    )


def test_laplace_on_dask_rows_equals_the_in_memory_fit(models):
    """The draws are the same (same MAP, Hessian and seed); k-hat differs only by the estimate of the log posterior
    at the draws, whose part beyond the second-order expansion comes from a 10,000-row stratified subsample of the
    20,000 rows. That moves the log importance ratios (spread over about 10 units) by 0.001 (sd) and at most 0.01
    here, and k-hat, a fit of a Pareto tail to the largest ratios, by 0.014 to 0.021; 0.05 is far below the 0.7 at
    which the diagnostic's verdict changes."""
    prior = bl.Normal(1.0)
    in_memory, out_of_core = (model.fit_laplace(prior, draws=1_000, random_seed=0) for model in models)
    np.testing.assert_allclose(out_of_core.coef_draws, in_memory.coef_draws, rtol=0, atol=1e-8)
    assert abs(out_of_core.diagnosis.khat - in_memory.diagnosis.khat) < 0.05
    np.testing.assert_allclose(out_of_core.summary()["sd"], in_memory.summary()["sd"], rtol=1e-8)


def test_laplace_khat_is_exact_when_every_row_is_in_the_subsample():
    X, y, weights = simulate(6_000, 2, seed=3)
    prior = bl.Normal(1.0)
    fits = [
        model.fit_laplace(prior, draws=1_000, random_seed=1)
        for model in (
            bl.LogisticModel(X, y, weights=weights),
            bl.LogisticModel(*chunked(X, y), weights=chunked(weights)[0]),
        )
    ]
    assert fits[1].diagnosis.khat == pytest.approx(fits[0].diagnosis.khat, abs=1e-6)


def test_rows_in_one_chunk_draw_the_subsample_that_rows_in_memory_draw():
    """Rows in memory are one block of rows to the subsample of values_of_draws: past EXACT_DRAW_ROWS rows, a dask
    array of one chunk draws the same rows, so the log posterior at the draws, and k-hat, are those in memory."""
    X, y, weights = simulate(12_000, 2, seed=5)
    rows = [(X, y, weights), [da.from_array(array, chunks=(len(y),) + array.shape[1:]) for array in (X, y, weights)]]
    fits = [
        bl.LogisticModel(X, y, weights=weights).fit_laplace(bl.Normal(1.0), draws=1_000, random_seed=2)
        for X, y, weights in rows
    ]
    assert fits[1].diagnosis.khat == pytest.approx(fits[0].diagnosis.khat, abs=1e-9)


@pytest.mark.parametrize("models", [2], indirect=True, ids=["binary"])
def test_compare_estimates_loo_of_dask_rows_as_of_rows_in_memory(models):
    prior = bl.Normal(1.0)
    tables = [bl.compare(model.fit_all(prior, draws=500, chains=1, methods=("map", "laplace"))) for model in models]
    np.testing.assert_allclose(tables[1].loc["loo"].to_numpy(float), tables[0].loc["loo"].to_numpy(float), rtol=1e-6)
    np.testing.assert_allclose(
        tables[1].loc["in-sample"].to_numpy(float), tables[0].loc["in-sample"].to_numpy(float), rtol=1e-10
    )


def test_a_dask_data_frame_formula_model_equals_the_pandas_one():
    X, y, _ = simulate(N_ROWS, 2, seed=2)
    frame = pd.DataFrame({"a": X[:, 0], "b": np.exp(X[:, 1]), "c": X[:, 2], "y": y})
    formula = "y ~ a + np.log(b) + a:c"
    in_memory = bl.LogisticModel.from_formula(formula, frame).fit_ml()
    out_of_core = bl.LogisticModel.from_formula(formula, dd.from_pandas(frame, npartitions=4)).fit_ml()
    assert out_of_core.coef.index.tolist() == ["Intercept", "a", "np.log(b)", "a:c"]
    np.testing.assert_allclose(out_of_core.params, in_memory.params, rtol=0, atol=1e-8)
    new = frame.iloc[:1_000]
    np.testing.assert_allclose(
        out_of_core.predict_proba(dd.from_pandas(new, npartitions=3)), in_memory.predict_proba(new), rtol=0, atol=1e-12
    )


def test_categorical_formula_terms_on_a_dask_data_frame_are_refused():
    frame = pd.DataFrame({"a": np.arange(40.0), "g": list("uvw" * 13) + ["u"], "y": [0, 1] * 20})
    with pytest.raises(bl.DataError, match=r"terms that formulaic learns from the data \(g\).*pass a pandas"):
        bl.LogisticModel.from_formula("y ~ a + g", dd.from_pandas(frame, npartitions=2))


@pytest.mark.parametrize(
    "spoil",
    [
        lambda X, y: (np.where(np.arange(len(y))[:, None] == [[-1, 7_777, 9_000]], np.nan, X), y),
        lambda X, y: (X, np.zeros_like(y)),
        lambda X, y: (X, np.where(np.arange(len(y)) == 12_345, 0.5, y)),
    ],
    ids=["NaN in a column", "a single class", "a fractional label"],
)
def test_data_errors_are_told_as_for_rows_in_memory(spoil):
    X, y = spoil(*simulate(N_ROWS, 2)[:2])
    with pytest.raises(bl.DataError) as in_memory:
        bl.LogisticModel(X, y)
    with pytest.raises(bl.DataError) as out_of_core:
        bl.LogisticModel(*chunked(X, y))
    assert str(out_of_core.value) == str(in_memory.value)


def test_nan_message_names_the_column_and_rows():
    X, y, _ = simulate(N_ROWS, 2)
    X[[7_777, 9_000], 1] = np.nan
    with pytest.raises(bl.DataError, match=r"^X contains NaN in column 'x1' \(2 rows, first at row 7777\)"):
        bl.LogisticModel(*chunked(X, y))


def test_mcmc_and_every_row_at_every_draw_are_refused(models):
    _, model = models
    with pytest.raises(
        bl.DataError,
        match=r"^fit_mcmc needs the rows in memory.*use fit_laplace\(prior\).*"
        r"in-memory subsample",
    ):
        model.fit_mcmc(bl.Normal(1.0))
    laplace = model.fit_laplace(bl.Normal(1.0), draws=200, random_seed=0)
    with pytest.raises(bl.DataError, match=r"log-likelihood of every row at every draw.*needs the rows in memory"):
        laplace.to_datatree()
    assert isinstance(model.fit_all(bl.Normal(1.0), methods=("mcmc",))["mcmc"].error, bl.DataError)


def test_plots_of_every_row_are_refused_and_drawn_from_a_sample(models, tmp_path):
    in_memory, model = models
    fit = model.fit_ml()
    with pytest.raises(
        bl.DataError,
        match=r"^plot_boundary, which draws every row, needs the rows in memory.*"
        r"plot_boundary\(fits, X=\.\.\., y=\.\.\.\)",
    ):
        bl.plot_boundary({"ml": fit}, features=["x0", "x1"])
    with pytest.raises(bl.DataError, match=r"^animate_optimization, which draws every row, needs the rows"):
        bl.animate_optimization(model, path=tmp_path / "steps.gif", features=["x0", "x1"])  # before anything else
    X, y = in_memory.data.X[:500], in_memory.classes_[in_memory.data.y[:500]]
    figure = bl.plot_boundary({"ml": fit}, X=X, y=y, features=["x0", "x1"])
    from matplotlib.collections import PathCollection

    drawn = [len(c.get_offsets()) for c in figure.axes[0].collections if isinstance(c, PathCollection)]
    assert sum(drawn) == 500  # the sample's points, by class
    assert not list(tmp_path.iterdir())


def test_separation_signs_on_dask_rows_raise_separation_error():
    X, y, _ = simulate(N_ROWS, 2)
    y = (X[:, 0] > 0.1).astype(int)
    with pytest.raises(bl.SeparationError, match=r"signs of separation on these dask data.*fit_map\(bl.Normal"):
        bl.LogisticModel(*chunked(X, y)).fit_ml()


def test_collinear_dask_columns_are_named_as_in_memory():
    X, y, _ = simulate(N_ROWS, 2)
    X[:, 2] = 2 * X[:, 0] - X[:, 1]
    with pytest.raises(bl.CollinearityError) as in_memory:
        bl.LogisticModel(X, y).fit_ml()
    with pytest.raises(bl.CollinearityError) as out_of_core:
        bl.LogisticModel(*chunked(X, y)).fit_ml()
    assert str(out_of_core.value) == str(in_memory.value)


def test_a_fit_on_a_distributed_cluster_equals_the_local_one(models):
    distributed = pytest.importorskip("distributed")
    in_memory, out_of_core = models
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster),
    ):
        fit = out_of_core.fit_map(bl.Normal(1.0))
    np.testing.assert_allclose(fit.params, in_memory.fit_map(bl.Normal(1.0)).params, rtol=0, atol=1e-8)


def test_predictor_sds_of_chunks_keep_their_digits_far_from_zero():
    """Chunk by chunk means and squared deviations, merged pairwise: a column of sd 1 around 1e8 keeps its sd to
    about 1e-8 (one-pass sums of squares would lose it all: 1e16 against 1).

    The in-memory sd (two passes over all rows) is off by the square of its mean's rounding, ~1e-13. Each chunk's
    weighted mean of values near an offset m is rounded by about e = sqrt(3,000) u |m| (u = eps / 2), and the 6
    merges carry that into the sd as about 3 e / (sqrt(W) sd) (W ~ 25,000, the weights' sum): 1.2e-8 for m = 1e8,
    1.2e-11 for 1e5. How much of it the rounding gives depends on the order of the sums: over 200 orders of the
    rows within the chunks the largest errors were 2.5e-9 and 2.7e-12 (a third of them above 1e-9). The sums of
    20,000 squares add n eps."""
    X, y, weights = simulate(20_000, 2, seed=4)
    offsets = np.array([0.0, 1e5, 1e8])
    X = X + offsets
    in_memory = bl.LogisticModel(X, y, weights=weights).data.predictor_sd()
    out_of_core = bl.LogisticModel(*chunked(X, y), weights=chunked(weights)[0]).data.predictor_sd()
    eps = np.finfo(float).eps
    chunk_mean_error = np.sqrt(CHUNK) * eps / 2 * offsets
    tolerance = 3 * chunk_mean_error / (np.sqrt(weights.sum()) * in_memory.to_numpy()) + 20_000 * eps
    assert np.all(np.abs(out_of_core.to_numpy() / in_memory.to_numpy() - 1) < tolerance)
    assert in_memory.index.tolist() == ["x0", "x1", "x2"]
