"""ML and MAP point fits: agreement with scikit-learn, identities, separation and collinearity."""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayeslogit as bl
from bayeslogit.fits.storage.checksum import checksum

sklearn_linear = pytest.importorskip("sklearn.linear_model")
sklearn_datasets = pytest.importorskip("sklearn.datasets")


@pytest.fixture(scope="module")
def wells():
    return bl.datasets.load_wells()


@pytest.fixture(scope="module")
def iris():
    return bl.datasets.load_iris()


@pytest.mark.parametrize("sigma", [0.05, 0.5, 2.5])
def test_map_equals_sklearn_binary(wells, sigma):
    """sklearn's objective is C * sum(nll) + 1/2 |w|^2 with an unpenalised intercept: C = sigma^2."""
    X, y = wells[["dist100", "arsenic", "educ"]], wells["switched"]
    ours = bl.LogisticModel(X, y).fit_map(bl.Normal(sigma))
    theirs = sklearn_linear.LogisticRegression(C=sigma**2, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef.to_numpy(), np.r_[theirs.intercept_, theirs.coef_[0]], atol=1e-6)


@pytest.mark.parametrize("features", [["sepal_length", "sepal_width"], ["petal_length", "petal_width"]])
def test_map_equals_sklearn_multinomial_symmetric(iris, features):
    X, y = iris[features], iris["species"]
    model = bl.LogisticModel(X, y, parameterization="symmetric")
    ours = model.fit_map(bl.Normal(1.0))
    theirs = sklearn_linear.LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(X, y)
    assert list(theirs.classes_) == list(model.classes_)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
    # the flat-prior intercepts are constrained to sum to zero; the slopes are identified by the prior
    assert ours.coef.loc["Intercept"].sum() == pytest.approx(0.0, abs=1e-10)
    np.testing.assert_allclose(ours.coef.iloc[1:].to_numpy(), theirs.coef_.T, atol=1e-5)


def test_reference_and_symmetric_ml_give_the_same_probabilities():
    """ML is invariant to the parameterization: the symmetric fit is the reference fit, re-centred."""
    data = pytest.importorskip("statsmodels.datasets").anes96.load_pandas()
    X, y = data.exog[["selfLR", "age", "educ"]], data.endog
    reference = bl.LogisticModel(X, y).fit_ml()
    symmetric = bl.LogisticModel(X, y, parameterization="symmetric").fit_ml()
    assert reference.params.shape == (4, 6) and symmetric.params.shape == (4, 7)
    np.testing.assert_allclose(reference.predict_proba(X), symmetric.predict_proba(X), atol=1e-9)
    np.testing.assert_allclose(symmetric.params.sum(axis=1), 0.0, atol=1e-10)
    centred = np.column_stack([np.zeros(4), reference.params])
    np.testing.assert_allclose(symmetric.params, centred - centred.mean(axis=1, keepdims=True), atol=1e-7)
    assert symmetric.llf == pytest.approx(reference.llf, abs=1e-9)


def test_map_with_huge_sigma_equals_ml(wells):
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic + educ", wells)
    ml, map_ = model.fit_ml(), model.fit_map(bl.Normal(1e8, intercept_scale=1e8))
    np.testing.assert_allclose(map_.coef.to_numpy(), ml.coef.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(map_.se.to_numpy(), ml.se.to_numpy(), rtol=1e-6)


def test_prior_shrinks_towards_zero(wells):
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    sizes = [np.abs(model.fit_map(bl.Normal(s)).coef.iloc[1:]).sum() for s in (0.01, 0.1, 1.0)]
    assert sizes[0] < sizes[1] < sizes[2]
    assert sizes[0] < 0.1 * sizes[2]


def test_duplicated_rows_equal_weight_two(wells):
    data = wells.iloc[:400]
    weights = np.where(np.arange(400) % 3 == 0, 2.0, 1.0)
    duplicated = pd.concat([data, data[weights == 2]])
    weighted = bl.LogisticModel(data[["dist100", "arsenic"]], data["switched"], weights=weights).fit_ml()
    repeated = bl.LogisticModel(duplicated[["dist100", "arsenic"]], duplicated["switched"]).fit_ml()
    np.testing.assert_allclose(weighted.coef.to_numpy(), repeated.coef.to_numpy(), atol=1e-10)
    np.testing.assert_allclose(weighted.se.to_numpy(), repeated.se.to_numpy(), rtol=1e-9)


def test_covariance_is_inverse_hessian_and_summary_is_consistent(wells):
    fit = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells).fit_ml()
    _, _, hess = fit.model.objective()(fit.params.ravel())
    np.testing.assert_allclose(fit.cov.to_numpy() @ hess, np.eye(3), atol=1e-10)
    table = fit.summary(ci_prob=0.90)
    assert list(table.columns) == ["estimate", "se", "z", "p_value", "wald90_lb", "wald90_ub"]
    np.testing.assert_allclose(table["z"], table["estimate"] / table["se"])
    np.testing.assert_allclose(table["wald90_ub"] - table["estimate"], 1.6448536269514722 * table["se"], rtol=1e-12)
    assert list(fit.cov.index) == ["Intercept", "dist100", "arsenic"]


def test_ml_and_map_are_point_fits_that_differ_by_their_class(wells):
    """ML tests its coefficients and profiles the likelihood; MAP, shrunk by its prior, does neither."""
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    ml, mp = model.fit_ml(), model.fit_map(bl.Normal(2.5))
    assert (type(ml), type(mp)) == (bl.MLFit, bl.MAPFit) and isinstance(mp, bl.PointFit)
    assert list(ml.summary().columns) == ["estimate", "se", "z", "p_value", "wald89_lb", "wald89_ub"]
    assert list(mp.summary().columns) == ["estimate", "se", "wald89_lb", "wald89_ub"]
    assert "profile interval of the likelihood" in ml.summary(ci_kind="profile").attrs["uncertainty"]
    assert "of the log posterior" in mp.summary(ci_kind="profile").attrs["uncertainty"]
    assert np.isnan(mp.statistics()["aic"]) and ml.statistics()["aic"] == pytest.approx(2 * (3 - ml.llf))
    assert repr(ml).startswith("MLFit(converged in") and repr(mp).startswith("MAPFit(converged in")
    assert f"llf={ml.statistics()['llf']:.4f}," in repr(ml)  # the attribute llf is the statistics' llf


def test_point_fits_saved_under_the_former_class_name_load_as_ml_and_map(wells, tmp_path):
    """Files written before ML and MAP had classes of their own say "PointFit": the method picks the class."""
    import json

    import xarray as xr

    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    for fit in (model.fit_ml(), model.fit_map(bl.Normal(2.5))):
        tree = xr.load_datatree(fit.save(tmp_path / f"{fit.method}.nc"))
        meta = json.loads(tree.attrs["bayeslogit"])
        assert meta["fit"] == type(fit).__name__
        del meta["checksum"]
        assert meta["version"] == 4
        meta["fit"], meta["version"] = "PointFit", 3  # as format version 3 wrote them
        tree.attrs["bayeslogit"] = json.dumps(meta | {"checksum": checksum(tree, meta)})
        tree.to_netcdf(tmp_path / f"former-{fit.method}.nc", engine="h5netcdf")
        loaded = bl.load(tmp_path / f"former-{fit.method}.nc")
        assert type(loaded) is type(fit)
        np.testing.assert_array_equal(loaded.predict_proba(wells.iloc[:20]), fit.predict_proba(wells.iloc[:20]))
        pd.testing.assert_frame_equal(loaded.summary(), fit.summary(), check_exact=True)


def test_newton_history_decreases_and_converges_quadratically(wells):
    fit = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells).fit_ml()
    history = fit.history
    assert fit.converged and fit.n_iter <= 8
    assert np.all(np.diff(history["objective"]) <= 1e-9)
    decrements = history["decrement"].dropna().to_numpy()
    assert decrements[-1] < 1e-10
    # quadratic convergence: near the optimum lambda_{k+1} <= C lambda_k^2 (lambda = sqrt(2 * decrement))
    lam = np.sqrt(2 * decrements)
    tail = slice(len(lam) - 3, None)
    assert np.all(lam[tail][1:] <= 1.0 * lam[tail][:-1] ** 2)
    np.testing.assert_allclose(history.iloc[-1][fit.model.coef_names].to_numpy(float), fit.coef.to_numpy())


def test_max_iter_warns_with_gradient_norm(wells):
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    with pytest.warns(bl.ConvergenceWarning, match="did not converge in 2 iterations: max \\|gradient\\|"):
        fit = model.fit_ml(max_iter=2)
    assert not fit.converged


def test_predictions_binary(wells):
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    fit = model.fit_ml()
    new = pd.DataFrame({"dist100": [0.0, 1.0], "arsenic": [1.0, 0.5]})
    eta = fit.linear_predictor(new)
    c = fit.coef
    np.testing.assert_allclose(eta, c["Intercept"] + c["dist100"] * new.dist100 + c["arsenic"] * new.arsenic)
    np.testing.assert_allclose(fit.predict_proba(new)[:, 1], 1 / (1 + np.exp(-eta)))
    np.testing.assert_array_equal(fit.predict(new), (eta > 0).astype(int))
    assert fit.predict_proba().shape == (len(wells), 2)


def test_predictions_multiclass_labels(iris):
    model = bl.LogisticModel.from_formula("species ~ petal_length + sepal_width", iris)
    fit = model.fit_map(bl.Normal(1.0))
    proba = fit.predict_proba(iris)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    logits = fit.linear_predictor(iris)
    np.testing.assert_allclose(logits[:, 0], 0.0)
    assert np.mean(fit.predict(iris) == iris["species"].to_numpy()) > 0.9
    assert list(fit.coef.columns) == ["versicolor", "virginica"]


# ---- separation --------------------------------------------------------------------------------------
SEPARATED = {
    "complete": (
        pd.DataFrame({"x": [-3.0, -2, -1, 1, 2, 3], "z": [0.3, -1.2, 0.5, 0.1, -0.4, 0.9]}),
        [0, 0, 0, 1, 1, 1],
        "x",
    ),
    "quasi-complete": (
        pd.DataFrame({"x": [-2.0, -1, 0, 0, 1, 2], "z": [0.3, -1.2, 0.1, 0.1, -0.4, 0.9]}),
        [0, 0, 0, 1, 1, 1],
        "x",
    ),
}


@pytest.mark.parametrize("kind", SEPARATED)
def test_separation_raises_naming_the_column_and_map_still_fits(kind):
    X, y, column = SEPARATED[kind]
    model = bl.LogisticModel(X, y)
    with pytest.raises(bl.SeparationError, match=f"'{column}'.*fit_map") as caught:
        model.fit_ml()
    assert caught.value.columns == (column,) and caught.value.kind == kind
    assert isinstance(caught.value, ValueError)
    fit = model.fit_map(bl.Normal(2.5))
    assert fit.converged and np.all(np.isfinite(fit.coef)) and fit.coef["x"] > 1


def test_iris_setosa_is_separated_by_petal_length(iris):
    model = bl.LogisticModel(iris[["petal_length"]], iris["species"] == "setosa")
    with pytest.raises(bl.SeparationError, match="petal_length"):
        model.fit_ml()
    fit = model.fit_map(bl.Normal(2.5))
    assert np.all(np.isfinite(fit.coef)) and fit.coef["petal_length"] < -1


def test_iris_three_classes_on_all_features_is_separated(iris):
    features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    model = bl.LogisticModel(iris[features], iris["species"])
    with pytest.raises(bl.SeparationError) as caught:
        model.fit_ml()
    assert caught.value.columns and set(caught.value.columns) <= set(features)
    fit = model.fit_map(bl.Normal(1.0))
    assert np.all(np.isfinite(fit.coef.to_numpy())) and fit.converged


def test_large_problems_check_separation_only_when_newton_saturates(monkeypatch, wells):
    """Past the linear program's budget, ML runs Newton first and calls the LP only on signs of separation."""
    import bayeslogit.rows.in_memory as rows_module
    import bayeslogit.surface.fitting as fitting_module

    calls = []
    real = rows_module.find_separation
    monkeypatch.setattr(fitting_module, "LP_BUDGET", 0)
    monkeypatch.setattr(rows_module, "find_separation", lambda *a, **k: calls.append(1) or real(*a, **k))
    fit = bl.LogisticModel(wells[["dist100", "arsenic"]], wells["switched"]).fit_ml()
    assert calls == [] and fit.converged
    X, y, column = SEPARATED["complete"]
    # Newton's non-convergence is explained by the separation, so the error comes alone, without a warning.
    with pytest.raises(bl.SeparationError, match=f"'{column}'"):
        bl.LogisticModel(X, y).fit_ml()
    assert calls == [1]


def test_overlapping_data_is_not_flagged(wells):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bl.LogisticModel(wells[["dist100", "arsenic", "assoc", "educ"]], wells["switched"]).fit_ml()


# ---- collinearity ------------------------------------------------------------------------------------
def test_collinear_columns_are_named_and_map_still_fits(wells):
    X = wells[["dist100", "arsenic"]].assign(dist_km=wells["dist100"] / 10, educ=wells["educ"])
    model = bl.LogisticModel(X, wells["switched"])
    with pytest.raises(bl.CollinearityError, match="dist100.*dist_km") as caught:
        model.fit_ml()
    assert set(caught.value.columns) == {"dist100", "dist_km"}
    fit = model.fit_map(bl.Normal(2.5))
    assert fit.converged
    # the prior splits the effect between the two copies in proportion to their scales
    assert fit.coef["dist100"] / fit.coef["dist_km"] == pytest.approx(10.0, rel=1e-6)


def test_constant_column_next_to_intercept_is_named(wells):
    X = wells[["dist100"]].assign(const=1.0)
    with pytest.raises(bl.CollinearityError, match="'const'.*intercept"):
        bl.LogisticModel(X, wells["switched"]).fit_ml()
    fit = bl.LogisticModel(X, wells["switched"], intercept=False).fit_ml()
    assert fit.coef["const"] == pytest.approx(
        bl.LogisticModel(wells[["dist100"]], wells["switched"]).fit_ml().coef["Intercept"], abs=1e-10
    )


@pytest.mark.parametrize("scale", [1e150, 1e-150])
def test_extreme_design_scale_gives_finite_equivariant_estimates(wells, scale):
    X, y = wells[["dist100", "arsenic"]].to_numpy(), wells["switched"]
    reference = bl.LogisticModel(X, y).fit_ml()
    fit = bl.LogisticModel(X * scale, y).fit_ml()
    assert np.all(np.isfinite(fit.params))
    np.testing.assert_allclose(fit.params[1:, 0] * scale, reference.params[1:, 0], rtol=1e-8)


def test_digits_ml_is_refused_for_separation_not_blamed_on_collinearity():
    """scikit-learn's digits (constant pixels dropped): 1,797 rows, 61 pixels, 10 classes, past the size where
    separation is checked before Newton. Newton's Hessian turns singular as the coefficients run off; the
    separation check then explains why, instead of blaming collinearity."""
    X, y = sklearn_datasets.load_digits(return_X_y=True)
    model = bl.LogisticModel(X[:, X.std(axis=0) > 0], y)
    with pytest.raises(
        bl.SeparationError,
        match=r"^maximum likelihood does not exist: 17 predictors separate the "
        r"classes quasi-completely, each on its own \('x0', .* and 12 more"
        r"; all are in SeparationError.columns\), and the predictors "
        r"together separate them completely",
    ) as caught:
        model.fit_ml()
    assert caught.value.kind == "complete" and len(caught.value.columns) == 17


def test_constant_columns_must_all_go():
    X, y = sklearn_datasets.load_digits(return_X_y=True)
    with pytest.raises(
        bl.CollinearityError,
        match=r"'x0', 'x32' and 'x39' are constant, so they duplicate the "
        r"intercept: drop all of them",
    ) as caught:
        bl.LogisticModel(X, y).fit_ml()
    assert caught.value.columns == ("x0", "x32", "x39") and "np.str_" not in str(caught.value)
