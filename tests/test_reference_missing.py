"""A chosen reference class (multiclass) or non-event class (binary), and rows with missing values in the
columns a formula reads."""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayeslogit as bl

IRIS_FORMULA = "species ~ sepal_length"  # petal widths and sepal widths separate setosa; sepal length alone does not
WELLS_FORMULA = "switched ~ dist100 + arsenic"


def full_coef(fit) -> pd.DataFrame:
    """The coefficients of every class (n_coef, K), zeros for the reference class ``classes_[0]``."""
    coef = fit.coef.to_frame(fit.model.classes_[1]) if isinstance(fit.coef, pd.Series) else fit.coef
    return coef.reindex(columns=fit.model.classes_.tolist(), fill_value=0.0)


@pytest.fixture(scope="module")
def iris():
    return bl.datasets.load_iris()


@pytest.fixture(scope="module")
def wells_with_gaps():
    """Wells with 2 missing ``dist100``, 3 missing ``arsenic`` (one row shares both), 1 missing ``switched`` and
    1 missing ``educ``, which the formulas below do not read: 6 rows with a gap the formula reads."""
    wells = bl.datasets.load_wells()
    wells["switched"] = wells["switched"].astype(float)
    wells.loc[[3, 10], "dist100"] = np.nan
    wells.loc[[10, 20, 30], "arsenic"] = np.nan
    wells.loc[[40], "switched"] = np.nan
    wells["educ"] = wells["educ"].astype(float)
    wells.loc[[5], "educ"] = np.nan
    return wells


@pytest.mark.parametrize("reference", ["versicolor", "virginica"])
def test_multiclass_reference_gives_contrasts_of_the_same_fit(iris, reference):
    """ML is invariant to the reference: the same probabilities, and coefficients that are differences of the
    first fit's (``B_new[:, k] = B_old[:, k] - B_old[:, reference]`` over every class)."""
    default = bl.LogisticModel.from_formula(IRIS_FORMULA, iris).fit_ml()
    chosen = bl.LogisticModel.from_formula(IRIS_FORMULA, iris, reference=reference).fit_ml()
    classes = chosen.model.classes_.tolist()
    assert classes == [reference, *(c for c in ["setosa", "versicolor", "virginica"] if c != reference)]
    assert chosen.coef.columns.tolist() == classes[1:]
    old = full_coef(default)
    expected = old.sub(old[reference], axis=0)[classes[1:]]
    # Newton converged to a gradient of ~1e-10 on coefficients of size ~40: agreement to 1e-7 relative
    np.testing.assert_allclose(chosen.coef.to_numpy(), expected.to_numpy(), rtol=1e-7, atol=1e-7)
    probabilities = pd.DataFrame(default.predict_proba(), columns=default.model.classes_)
    np.testing.assert_allclose(chosen.predict_proba(), probabilities[classes].to_numpy(), rtol=0, atol=1e-10)
    np.testing.assert_array_equal(chosen.predict(), default.predict())


@pytest.mark.parametrize("reference", [3, 6])
def test_anes96_with_another_base_category_gives_the_same_probabilities(reference):
    """statsmodels' ANES96 example (seven party identifications, 0 = strong Democrat, its base category)."""
    data = pytest.importorskip("statsmodels.datasets").anes96.load_pandas()
    default = bl.LogisticModel(data.exog, data.endog).fit_ml()
    chosen = bl.LogisticModel(data.exog, data.endog, reference=reference).fit_ml()
    classes = chosen.model.classes_.tolist()
    assert classes == [reference, *(k for k in range(7) if k != reference)]
    probabilities = pd.DataFrame(default.predict_proba(), columns=default.model.classes_)
    np.testing.assert_allclose(chosen.predict_proba(), probabilities[classes].to_numpy(), rtol=0, atol=1e-10)
    old = full_coef(default)
    expected = old.sub(old[reference], axis=0)[classes[1:]]
    np.testing.assert_allclose(chosen.coef.to_numpy(), expected.to_numpy(), rtol=1e-7, atol=1e-7)
    assert chosen.llf == pytest.approx(default.llf, abs=1e-9)


def test_binary_reference_is_the_non_event_class():
    """``reference=1`` makes 0 the event: the coefficients change sign, as statsmodels' fit of ``1 - switched``."""
    import statsmodels.api as sm

    wells = bl.datasets.load_wells()
    default = bl.LogisticModel.from_formula(WELLS_FORMULA, wells).fit_ml()
    flipped = bl.LogisticModel.from_formula(WELLS_FORMULA, wells, reference=1).fit_ml()
    assert flipped.model.classes_.tolist() == [1, 0]
    np.testing.assert_allclose(flipped.coef.to_numpy(), -default.coef.to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(flipped.predict_proba()[:, 1], 1 - default.predict_proba()[:, 1], rtol=0, atol=1e-10)
    np.testing.assert_array_equal(flipped.predict(), default.predict())
    design = sm.add_constant(wells[["dist100", "arsenic"]])
    reference = sm.Logit(1 - wells["switched"], design).fit(disp=0)
    np.testing.assert_allclose(flipped.coef.to_numpy(), reference.params.to_numpy(), rtol=1e-6)


def test_reference_of_arrays_and_of_rows_out_of_core(iris):
    """The array constructor takes it too, with the labels' own type, and dask rows are renumbered alike."""
    da = pytest.importorskip("dask.array")
    X, y = iris[["sepal_length"]].to_numpy(), iris["species"].astype(str).to_numpy()
    in_memory = bl.LogisticModel(X, y, reference="virginica").fit_ml()
    chunked = bl.LogisticModel(da.from_array(X, chunks=40), da.from_array(y, chunks=40), reference="virginica")
    assert chunked.classes_.tolist() == in_memory.model.classes_.tolist() == ["virginica", "setosa", "versicolor"]
    np.testing.assert_array_equal(np.asarray(chunked.data.y), in_memory.model.data.y)
    np.testing.assert_allclose(chunked.fit_ml().params, in_memory.params, rtol=1e-8, atol=1e-8)
    booleans = bl.LogisticModel(X, y == "virginica", reference=True)
    assert booleans.classes_.tolist() == [True, False]


def test_reference_errors(iris):
    with pytest.raises(
        bl.DataError,
        match=r"reference='Virginica' is not a class of y; the classes are "
        r"\['setosa', 'versicolor', 'virginica'\]",
    ):
        bl.LogisticModel.from_formula(IRIS_FORMULA, iris, reference="Virginica")
    with pytest.raises(
        ValueError,
        match="symmetric parameterization has a coefficient column for every class; "
        "drop reference= or pass parameterization='reference'",
    ):
        bl.LogisticModel.from_formula(IRIS_FORMULA, iris, reference="setosa", parameterization="symmetric")


def test_missing_values_are_refused_with_their_counts(wells_with_gaps):
    with pytest.raises(
        bl.DataError,
        match=r"the formula 'switched ~ dist100 \+ arsenic' reads missing values in "
        r"5 of 3020 rows \(switched: 1, arsenic: 3, dist100: 2\); impute them, or "
        r"pass missing='drop' to drop those rows",
    ):
        bl.LogisticModel.from_formula(WELLS_FORMULA, wells_with_gaps)
    with pytest.raises(ValueError, match=r"`missing` must be one of \['raise', 'drop'\]; got 'ignore'"):
        bl.LogisticModel.from_formula(WELLS_FORMULA, wells_with_gaps, missing="ignore")


def test_dropped_rows_are_counted_and_recorded(wells_with_gaps):
    """Dropping gives the fit of the complete rows (with their weights); a column the formula does not read
    (``educ``) drops nothing."""
    weights = np.linspace(0.5, 1.5, len(wells_with_gaps))
    with pytest.warns(
        UserWarning,
        match=r"dropped 5 of 3020 rows with missing values in the columns that the "
        r"formula 'switched ~ dist100 \+ arsenic' reads \(switched: 1, arsenic: 3, "
        r"dist100: 2\); their index labels are in model.dropped_rows",
    ):
        model = bl.LogisticModel.from_formula(WELLS_FORMULA, wells_with_gaps, missing="drop", weights=weights)
    assert model.dropped_rows.tolist() == [3, 10, 20, 30, 40]
    keep = ~wells_with_gaps.index.isin([3, 10, 20, 30, 40])
    complete = bl.LogisticModel.from_formula(WELLS_FORMULA, wells_with_gaps[keep], weights=weights[keep])
    # the same rows through two data paths: equal up to the order of BLAS's sums (arrays of other memory layouts)
    np.testing.assert_allclose(model.fit_ml().params, complete.fit_ml().params, rtol=0, atol=1e-12)
    assert model.data.frame.index.equals(wells_with_gaps.index[keep])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: nothing is dropped
        untouched = bl.LogisticModel.from_formula(WELLS_FORMULA, wells_with_gaps[keep], missing="drop")
    assert untouched.dropped_rows.empty and untouched.data.X.shape == (3015, 2)
    assert bl.LogisticModel(np.eye(2), [0, 1]).dropped_rows is None


def test_nothing_left_or_rows_out_of_core(wells_with_gaps):
    frame = wells_with_gaps.assign(arsenic=np.nan)
    with pytest.raises(
        bl.DataError,
        match="every row of the data has a missing value in a column that the formula "
        r"'switched ~ dist100 \+ arsenic' reads \(switched: 1, arsenic: 3020",
    ):
        bl.LogisticModel.from_formula(WELLS_FORMULA, frame, missing="drop")
    dd = pytest.importorskip("dask.dataframe")
    with pytest.raises(bl.DataError, match="missing='drop' needs a pandas DataFrame"):
        bl.LogisticModel.from_formula(WELLS_FORMULA, dd.from_pandas(wells_with_gaps, npartitions=2), missing="drop")
