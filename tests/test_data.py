"""The data layer: every bad input gets a clear exception naming the problem and the fix."""

import numpy as np
import pandas as pd
import pytest

import bayeslogit as bl
from bayeslogit.exceptions import DataTypeError


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=20), "b": rng.normal(size=20), "y": [0, 1] * 10})


@pytest.mark.parametrize(
    "mutate, exception, pattern",
    [
        (
            lambda X, y: (X.assign(a=X.a.where(X.index != 3)), y),
            bl.DataError,
            "NaN in column 'a' \\(1 row, first at row 3\\)",
        ),
        (lambda X, y: (X.assign(b=X.b.where(X.index != 5, np.inf)), y), bl.DataError, "infinite values in column 'b'"),
        (lambda X, y: (X, y.iloc[:-1]), bl.DataError, "X has 20 rows but y has 19"),
        (lambda X, y: (X, y * 0), bl.DataError, "single class \\(0\\).*at least two"),
        (lambda X, y: (X.to_numpy()[:, 0], y), bl.DataError, "must be 2-D.*got shape \\(20,\\).*reshape"),
        (lambda X, y: (X.iloc[:0], y.iloc[:0]), bl.DataError, "no rows"),
        (lambda X, y: (X.assign(c="text"), y), DataTypeError, "numeric.*'c'.*C\\(c\\)"),
        (lambda X, y: (X.to_numpy().astype(str), y), DataTypeError, "numeric.*dtype"),
        (lambda X, y: (X, y.astype(float).where(y.index != 2)), bl.DataError, "y contains missing values"),
        (lambda X, y: (X, y / 3), bl.DataError, "non-integer values such as 0.33"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(frame, mutate, exception, pattern):
    X, y = mutate(frame[["a", "b"]], frame["y"])
    with pytest.raises(exception, match=pattern):
        bl.LogisticModel(X, y)


@pytest.mark.parametrize("sigma", [-1.0, 0.0, np.inf, np.nan])
def test_prior_scale_must_be_positive_and_finite(sigma):
    with pytest.raises(ValueError, match=f"`scale` must be positive and finite; got {sigma}"):
        bl.Normal(sigma)
    with pytest.raises(ValueError, match="`intercept_scale` must be positive"):
        bl.Normal(1.0, intercept_scale=sigma)


def test_per_predictor_sigma_must_match_the_predictors(frame):
    model = bl.LogisticModel(frame[["a", "b"]], frame["y"])
    with pytest.raises(ValueError, match="`scale` has 3 values but the model has 2 predictors"):
        model.fit_map(bl.Normal([1.0, 2.0, 3.0]))
    narrow_a = model.fit_map(bl.Normal([0.01, 10.0]))
    assert abs(narrow_a.coef["a"]) < 0.01 < abs(model.fit_map(bl.Normal(10.0)).coef["a"])


def test_weights_are_checked(frame):
    with pytest.raises(bl.DataError, match="finite and non-negative; got -1"):
        bl.LogisticModel(frame[["a"]], frame["y"], weights=[-1.0] + [1.0] * 19)
    with pytest.raises(bl.DataError, match="shape \\(20,\\)"):
        bl.LogisticModel(frame[["a"]], frame["y"], weights=[1.0] * 3)
    # All the weight on one class: the intercept's MAP under a flat prior would run off to infinity.
    with pytest.raises(bl.DataError, match=r"every row of the class\(es\) \[0\] has weight 0"):
        bl.LogisticModel(frame[["a"]], frame["y"], weights=frame["y"].astype(float))


def test_choices_are_checked(frame):
    with pytest.raises(bl.OptionError, match="`parameterization` must be one of \\['reference', 'symmetric'\\]"):
        bl.LogisticModel(frame[["a"]], frame["y"], parameterization="softmax")
    with pytest.raises(ValueError, match="needs two classes"):
        bl.LogisticModel(frame[["a"]], np.arange(20) % 3, likelihood="bernoulli")


def test_predict_with_wrong_columns_or_nan(frame):
    fit = bl.LogisticModel(frame[["a", "b"]].to_numpy(), frame["y"]).fit_ml()
    with pytest.raises(bl.DataError, match="X has 3 columns but the model was fitted on 2"):
        fit.predict_proba(np.ones((4, 3)))
    with pytest.raises(bl.DataError, match="NaN in column 'x1'"):
        fit.predict_proba(np.array([[0.0, np.nan]]))


def test_label_encodings(frame):
    X = frame[["a"]]
    assert list(bl.LogisticModel(X, frame.y.astype(bool)).classes_) == [False, True]
    assert list(bl.LogisticModel(X, np.where(frame.y, "yes", "no")).classes_) == ["no", "yes"]
    ordered = pd.Categorical(np.where(frame.y, "low", "high"), categories=["low", "high", "unused"])
    model = bl.LogisticModel(X, ordered)
    assert list(model.classes_) == ["low", "high"] and model.likelihood == "bernoulli"
    np.testing.assert_array_equal(model.data.y, 1 - frame.y.to_numpy())
    three = bl.LogisticModel(X, np.arange(20) % 3)
    assert three.likelihood == "categorical" and three.coef_classes == [1, 2]
    two_softmax = bl.LogisticModel(X, frame.y, likelihood="categorical")
    assert two_softmax.fit_ml().coef.shape == (2, 1)


@pytest.mark.parametrize(
    "labels",
    [
        np.array([-1, 1] * 10),  # negative: counting refuses them, hashing takes over
        np.array([0, 10**12] * 10),  # larger than the number of rows: not counted
        np.array([3, 7, 5, 7] * 5, dtype=np.uint64),  # counted, then renumbered
        np.array([0, 2, 1, 2] * 5, dtype=np.int8),  # counted, their own codes
        np.array([1, 0, 0, 1, 1] * 4),  # 0 and 1: their number of ones counted
        np.array([1, 0] * 10, dtype=np.uint8),
        np.array([-1, 0, 1, 1] * 5),  # at most 1 but negative: hashed
    ],
)
def test_integer_labels_are_coded_as_sorted_classes(frame, labels):
    """Every path of the integer labels' coding gives np.unique's classes and codes."""
    model = bl.LogisticModel(frame[["a"]], labels)
    classes, codes = np.unique(labels, return_inverse=True)
    np.testing.assert_array_equal(model.classes_, classes)
    np.testing.assert_array_equal(model.data.y, codes)


def test_formula_features(frame):
    data = frame.assign(g=np.array(["u", "v", "w", "v"] * 5), c=frame.a.abs() + 1)
    model = bl.LogisticModel.from_formula("y ~ a * C(g) + np.log(c) + I(b ** 2)", data)
    assert model.coef_names[:2] == ["Intercept", "a"]
    assert {"C(g)[T.v]", "a:C(g)[T.w]", "np.log(c)", "I(b ** 2)"} <= set(model.coef_names)
    fit = model.fit_map(bl.Normal(1.0))
    # new data: the formula is re-applied, including the category levels learnt from the training data
    new = data.iloc[[0, 1]]
    np.testing.assert_allclose(fit.predict_proba(new), fit.predict_proba()[:2])
    assert not bl.LogisticModel.from_formula("y ~ a - 1", data).intercept


def test_formula_errors(frame):
    with pytest.raises(
        bl.FormulaError,
        match=r"reads names the data lack: 'zz' is not a column of the data\. "
        r"Columns are \['a', 'b', 'y'\]$",
    ):
        bl.LogisticModel.from_formula("y ~ a + zz", frame)
    with pytest.raises(bl.FormulaError, match="response 'w' of the formula 'w ~ a' is not a column"):
        bl.LogisticModel.from_formula("w ~ a", frame)
    with pytest.raises(bl.DataError, match=r"reads missing values in 1 of 20 rows \(a: 1\)"):
        bl.LogisticModel.from_formula("y ~ a", frame.assign(a=frame.a.where(frame.index != 1)))
    fit = bl.LogisticModel.from_formula("y ~ a", frame).fit_ml()
    with pytest.raises(DataTypeError, match="built from a formula"):
        fit.predict_proba(np.ones((2, 1)))


def test_load_wells():
    wells = bl.datasets.load_wells()
    assert wells.shape == (3020, 6)
    assert wells["switched"].mean() == pytest.approx(0.575, abs=1e-3)
    np.testing.assert_allclose(wells["dist100"], wells["dist"] / 100)


def test_new_data_with_an_unseen_category_level_is_refused(frame):
    data = frame.assign(g=np.array(["u", "u", "v", "v"] * 5))
    fit = bl.LogisticModel.from_formula("y ~ a + C(g)", data).fit_ml()
    with pytest.raises(
        bl.DataError,
        match=r"column 'g' of the new rows holds level\(s\) \['z'\] that the model was "
        r"not fitted on \(2 of 2 rows\); it knows \['u', 'v'\]",
    ):
        fit.predict_proba(data.iloc[:2].assign(g="z"))


def test_data_frame_columns_are_read_by_name_even_when_named_like_the_defaults(frame):
    """A frame whose columns happen to be called x0, x1 is still read by name, in any order."""
    named = frame[["a", "b"]].set_axis(["x0", "x1"], axis=1)
    fit = bl.LogisticModel(named, frame["y"]).fit_ml()
    np.testing.assert_allclose(fit.predict_proba(named[["x1", "x0"]]), fit.predict_proba(), rtol=1e-12)
    # An array has no names: its columns are the model's, in order, and so are a frame's for a model fitted on one.
    positional = bl.LogisticModel(named.to_numpy(), frame["y"]).fit_ml()
    np.testing.assert_allclose(positional.predict_proba(named.to_numpy()), fit.predict_proba(), rtol=1e-12)


def test_data_frame_without_the_fitted_columns_is_refused(frame):
    fit = bl.LogisticModel(frame[["a", "b"]], frame["y"]).fit_ml()
    with pytest.raises(bl.DataError, match="lacks the column\\(s\\) \\['b'\\]"):
        fit.predict_proba(pd.DataFrame({"c": [0.0, 1.0], "a": [5.0, 5.0]}))
    reordered = frame[["b", "a"]]
    np.testing.assert_allclose(fit.predict_proba(reordered), fit.predict_proba())


def test_predict_errors_name_the_model_columns(frame):
    fit = bl.LogisticModel(frame[["a", "b"]], frame["y"]).fit_ml()
    with pytest.raises(bl.DataError, match="NaN in column 'b'"):
        fit.predict_proba(np.array([[0.0, np.nan]]))


def test_intercept_only_model_fits_the_log_odds(frame):
    fit = bl.LogisticModel.from_formula("y ~ 1", frame.assign(y=[1, 1, 1, 0] * 5)).fit_ml()
    assert fit.coef["Intercept"] == pytest.approx(np.log(3.0), abs=1e-10)
    assert fit.se["Intercept"] == pytest.approx(np.sqrt(1 / (20 * 0.75 * 0.25)), rel=1e-8)


@pytest.mark.parametrize(
    "make, exception, pattern",
    [
        (
            lambda f: bl.LogisticModel(f[["a"]], f["y"], intercept=False).fit_map(bl.Normal(1.0, intercept_scale=2.0)),
            ValueError,
            "`intercept_scale` is 2.0 but the model has no intercept",
        ),
        (
            lambda f: bl.LogisticModel(f[["a"]], f["y"], intercept=False).fit_map(bl.Normal([1.0, 2.0])),
            ValueError,
            "has 1 predictors; give one",
        ),
        (
            lambda f: bl.LogisticModel(f[["a"]], f["y"], parameterization="symmetric"),
            ValueError,
            "is for the categorical likelihood.*likelihood='categorical'",
        ),
        (lambda f: bl.LogisticModel(f[["a"]], f[["y"] * 3].to_numpy()), bl.DataError, "y must be 1-D.*\\(20, 3\\)"),
        (lambda f: bl.Normal("wide"), TypeError, "`scale` must be a number.*'wide'"),
        (lambda f: bl.LogisticModel.from_formula(3, f), bl.OptionError, "formula must be a string"),
        (
            lambda f: bl.LogisticModel.from_formula("y ~ a", f.to_numpy()),
            DataTypeError,
            "data must be a pandas DataFrame",
        ),
        (
            lambda f: bl.LogisticModel(f[["a"]], f["y"]).fit_ml(max_iter=0),
            bl.OptionError,
            "`max_iter` must be an integer >= 1",
        ),
        (
            lambda f: bl.LogisticModel(f[["a"]], f["y"]).fit_map(bl.Normal(1.0), tol=-1.0),
            bl.OptionError,
            "`tol` must be",
        ),
        (
            lambda f: bl.LogisticModel(f[["a"]], f["y"]).fit_map(2.5),
            bl.OptionError,
            "prior must be bl.Normal, bl.StudentT or bl.Cauchy",
        ),
        (
            lambda f: bl.LogisticModel(f[["a"]], f["y"]).objective(2.5),
            bl.OptionError,
            "prior must be bl.Normal, bl.StudentT or bl.Cauchy",
        ),
        (
            lambda f: bl.LogisticModel(f[["a"]], f["y"]).fit_all(bl.Normal(1.0), methods="ml"),
            bl.OptionError,
            r"`methods` must be a sequence of method names, e.g. \('ml', 'map'\); got 'ml'",
        ),
        (
            lambda f: bl.compare(bl.LogisticModel(f[["a"]], f["y"]).fit_ml(), n_bins=0),
            bl.OptionError,
            "`n_bins` must be an integer >= 1; got 0",
        ),
    ],
)
def test_options_are_checked(frame, make, exception, pattern):
    with pytest.raises(exception, match=pattern):
        make(frame)
