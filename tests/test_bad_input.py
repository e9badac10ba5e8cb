"""Bad input, tried systematically: every frame, array, label vector or weight vector either fits with finite
estimates or is refused by an exception of the package whose message names the column at fault.

The property tests draw the data with hypothesis, derandomized so that every run tries the same examples, and
predict from the columns they drew which refusal (if any) must come, and that it must name the column.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bayeslogit as bl
from bayeslogit.exceptions import DataTypeError

PROPERTY = settings(
    derandomize=True,
    deadline=None,
    max_examples=100,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# A column is drawn as a kind; what each kind holds, and how the model must answer it:
#   "numbers", "integers", "booleans", "constant", "copy" (of the previous column), "object numbers", "moderate" (values
#   near 1e140 or 1e-140, which fit) -> fine; "nan", "none", "nullable" (pandas' NA), "inf" -> a DataError naming the
#   column; "text", "mixed" (numbers and text in an object column), "category" -> a DataTypeError naming it (in a
#   formula, categories); "huge" (1e300), "tiny" (1e-300) -> a DataError on its scale.
FINE = ("numbers", "integers", "booleans", "constant", "copy", "object numbers", "moderate")
MISSING = ("nan", "none", "nullable")
TEXT = ("text", "mixed", "category")
KINDS = FINE + MISSING + ("inf",) + TEXT + ("huge", "tiny")
NAME_CHARACTERS = "abz xyé中α_-.%()0123456789"


def _column(kind: str, n: int, rng: np.random.Generator, previous: np.ndarray):
    """``n`` values of the column kind ``kind`` (see KINDS), drawn from ``rng``; ``previous`` is the last column of
    plain numbers, which "copy" repeats."""
    normal = rng.normal(size=n)
    return {
        "numbers": lambda: normal,
        "integers": lambda: rng.integers(-3, 4, size=n),
        "booleans": lambda: rng.random(n) < 0.5,
        "constant": lambda: np.full(n, 2.5),
        "copy": lambda: previous,
        "object numbers": lambda: pd.array(normal.tolist(), dtype=object),
        "moderate": lambda: normal * (1e140 if rng.random() < 0.5 else 1e-140),
        "nan": lambda: np.where(np.arange(n) == n // 2, np.nan, normal),
        "none": lambda: pd.array([None if i == n // 2 else v for i, v in enumerate(normal.tolist())], dtype=object),
        "nullable": lambda: pd.array([None if i == n // 2 else i % 3 for i in range(n)], dtype="Int64"),
        "inf": lambda: np.where(np.arange(n) == n // 2, -np.inf, normal),
        "text": lambda: np.array(["u", "v", "w"] * n)[:n],
        "mixed": lambda: pd.array([1.5 if i % 2 else "x" for i in range(n)], dtype=object),
        "category": lambda: pd.Categorical(np.array(["p", "q"] * n)[:n]),
        "huge": lambda: normal * 1e300,
        "tiny": lambda: normal * 1e-300,
    }[kind]()


@st.composite
def frames(draw, max_rows: int = 12, max_columns: int = 4):
    """A data frame of predictors, its labels, and the kinds of its columns."""
    n = draw(st.integers(0, max_rows))
    kinds = draw(st.lists(st.one_of(st.sampled_from(FINE), st.sampled_from(KINDS)), max_size=max_columns))
    names = draw(st.lists(st.text(NAME_CHARACTERS, max_size=6), min_size=len(kinds), max_size=len(kinds)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    columns, previous = [], rng.normal(size=n)
    for kind in kinds:
        columns.append(_column(kind, n, rng, previous))
        previous = columns[-1] if kind in ("numbers", "integers", "booleans", "moderate") else previous
    frame = pd.DataFrame(dict(enumerate(columns)), index=range(n)) if kinds else pd.DataFrame(index=range(n))
    frame.columns = names
    labels = draw(st.sampled_from(["alternating", "one class", "strings", "booleans"]))
    y = {
        "alternating": np.arange(n) % 2,
        "one class": np.zeros(n, dtype=int),
        "strings": np.where(np.arange(n) % 3 == 0, "yes", "no"),
        "booleans": np.arange(n) % 2 == 1,
    }[labels]
    return frame, y, kinds


def _named(message: str, names) -> bool:
    """Whether ``message`` names one of the columns ``names`` as the package quotes them."""
    return any(f"'{name}'" in message for name in names)


def _expected_refusal(frame: pd.DataFrame, y: np.ndarray, kinds: list[str]):
    """The exception class and a test of its message that the data must raise at construction, or None."""
    names = [str(name) for name in frame.columns]
    if len(set(names)) < len(names):
        return bl.DataError, lambda message: "several columns named" in message
    if len(frame) == 0:
        return bl.DataError, lambda message: "no rows" in message
    text = [name for name, kind in zip(names, kinds) if kind in TEXT]
    if text:
        return DataTypeError, lambda message: _named(message, text) and "numeric" in message
    for name, kind in zip(names, kinds):
        if kind in MISSING + ("inf",):
            return bl.DataError, lambda message: f"in column '{name}'" in message
    return _one_class_or_scale_refusal(names, kinds, y)


def _one_class_or_scale_refusal(names: list[str], kinds: list[str], y: np.ndarray):
    """The refusal of one class in ``y``, or of a column of huge or tiny magnitude, or None: the last checks of
    arrays, frames and formulas alike."""
    if len(np.unique(y)) < 2:
        return bl.DataError, lambda message: "single class" in message
    scaled = [name for name, kind in zip(names, kinds) if kind in ("huge", "tiny")]
    if scaled:
        return bl.DataError, lambda message: f"column '{scaled[0]}' has values of magnitude" in message
    return None


def _fits_are_finite_or_refused(model: bl.LogisticModel):
    """fit_ml and fit_map give finite estimates, or name the columns at fault: ML by SeparationError or
    CollinearityError, MAP by CollinearityError (dependent columns so large that the prior's curvature is lost in
    rounding)."""
    for fit, refusals in (
        (model.fit_ml, (bl.SeparationError, bl.CollinearityError)),
        (lambda: model.fit_map(bl.Normal(scale=2.5)), bl.CollinearityError),
    ):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", bl.ConvergenceWarning)  # a few rows often leave Newton unsure
                estimate = fit().coef
        except refusals as error:
            assert set(error.columns) <= set(model.feature_names)
            assert not error.columns or _named(str(error), error.columns)
        else:
            assert np.all(np.isfinite(np.asarray(estimate)))


def _fits_or_is_refused_as_expected(make_model, expected) -> None:
    """``make_model()`` fits (finite estimates, or a refusal naming the columns) when ``expected`` is None, else
    raises ``expected``'s exception with a message that passes its test."""
    if expected is None:
        _fits_are_finite_or_refused(make_model())
        return
    exception, names_the_fault = expected
    with pytest.raises(exception) as raised:
        make_model()
    assert names_the_fault(str(raised.value)), str(raised.value)


@PROPERTY
@given(frames())
def test_a_data_frame_fits_or_is_refused_naming_the_column(drawn):
    frame, y, kinds = drawn
    _fits_or_is_refused_as_expected(lambda: bl.LogisticModel(frame, y), _expected_refusal(frame, y, kinds))


@PROPERTY
@given(frames())
def test_an_array_fits_or_is_refused_naming_the_column(drawn):
    """The same columns as an array (of objects where a column is not numbers): named x0, x1, ..., uniquely."""
    frame, y, kinds = drawn
    X = frame.to_numpy() if len(frame.columns) else np.empty((len(frame), 0))
    renamed = frame.set_axis([f"x{j}" for j in range(frame.shape[1])], axis=1)
    _fits_or_is_refused_as_expected(lambda: bl.LogisticModel(X, y), _expected_refusal(renamed, y, kinds))


def _expected_formula_refusal(frame: pd.DataFrame, kinds: list[str], y: np.ndarray):
    """The exception class and a test of its message that ``from_formula`` must raise, or None. Text columns are
    categories there, so only missing, infinite and badly scaled values, empty or repeated names, no rows and one
    class are refused."""
    names = [str(name) for name in frame.columns]
    if "" in names:
        return bl.FormulaError, lambda message: "quotes an empty name" in message
    if "." in names:  # formulaic reads `.` as every other column, and `1` as the intercept
        return bl.FormulaError, lambda message: "quotes the name '.'" in message
    if "1" in names:
        return bl.FormulaError, lambda message: "quotes '1', which formulaic reads as a number" in message
    if len(set(names) | {"y"}) < len(names) + 1:
        return bl.DataError, lambda message: "several columns named" in message
    missing = [name for name, kind in zip(names, kinds) if kind in MISSING]
    if len(frame) and missing:
        return (
            bl.DataError,
            lambda message: "reads missing values" in message and all(f"{name}: 1" in message for name in missing),
        )
    if len(frame) == 0:
        return bl.DataError, lambda message: "no rows" in message
    for name, kind in zip(names, kinds):
        if kind == "inf":
            return bl.DataError, lambda message: f"the term '{name}' of the formula" in message
    return _one_class_or_scale_refusal(names, kinds, y)


@PROPERTY
@given(frames())
def test_a_formula_fits_or_is_refused_naming_the_column(drawn):
    """The columns read by a formula that quotes every name in backticks, beside the response ``y``."""
    frame, y, kinds = drawn
    data = pd.concat([frame, pd.Series(y, name="y", index=frame.index)], axis=1)
    formula = "y ~ " + (" + ".join(f"`{name}`" for name in frame.columns) or "1")
    _fits_or_is_refused_as_expected(
        lambda: bl.LogisticModel.from_formula(formula, data), _expected_formula_refusal(frame, kinds, y)
    )


def _labels(kind: str, n: int):
    """Labels of ``n`` rows of the kind ``kind``, and the message (a regular expression) they must raise, or None."""
    codes = np.arange(n) % 2
    odd = n // 2  # the row given a bad label
    return {
        "integers": (codes, None),
        "three classes": (np.arange(n) % 3, None),
        "strings": (np.where(codes, "yes", "no"), None),
        "booleans": (codes == 1, None),
        "categories": (pd.Categorical(np.where(codes, "b", "a"), categories=["b", "unused", "a"]), None),
        "none": (
            np.array([None if i == odd else c for i, c in enumerate(codes)], dtype=object),
            rf"y contains missing values \(1 row, first at row {odd}\)",
        ),
        "nan": (
            np.where(np.arange(n) == odd, np.nan, codes),
            rf"y contains missing values \(1 row, first at row {odd}\)",
        ),
        "inf": (
            np.where(np.arange(n) == odd, np.inf, codes),
            rf"y contains infinite values \(1 row, first at row {odd}\)",
        ),
        "fraction": (np.where(np.arange(n) == odd, 0.5, codes), "non-integer values such as 0.5"),
        "mixed": (
            np.array(["a" if i == odd else c for i, c in enumerate(codes)], dtype=object),
            r"y mixes labels of types \['int64', 'str'\], which would make classes such as 1 and '1' "
            r"distinct; make them one type, e.g. y.astype\(str\)",
        ),
        "one class": (np.zeros(n, dtype=int), r"y has a single class \(0\)"),
    }[kind]


def _weights(kind: str, n: int, y_codes: np.ndarray):
    """Weights of ``n`` rows of the kind ``kind``, and the message (a regular expression) they must raise, or None."""
    ones, odd = np.ones(n), n // 2
    return {
        "none": (None, None),
        "positive": (np.linspace(0.5, 2.0, n), None),
        "some zero": (
            np.where(np.arange(n) == odd, 0.0, ones),  # refused when it is the only row of its class
            None if np.sum(y_codes == y_codes[odd]) > 1 else r"every row of the class\(es\) \[.*\] has",
        ),
        "nan": (np.where(np.arange(n) == odd, np.nan, ones), "weights must be finite and non-negative; got nan"),
        "negative": (np.where(np.arange(n) == odd, -1.0, ones), "weights must be finite and non-negative; got -1.0"),
        "inf": (np.where(np.arange(n) == odd, np.inf, ones), "weights must be finite and non-negative; got inf"),
        "all zero": (np.zeros(n), "weights are all zero"),
        "class zero": (np.where(y_codes == 0, 0.0, ones), r"every row of the class\(es\) \[.*\] has weight 0"),
        "huge": (
            np.full(n, 1e308),
            re.escape("weights sum to inf, outside float64's normal numbers (2.2e-308 to 1.8e+308)"),
        ),
        "tiny": (
            np.full(n, 1e-320),
            re.escape(
                f"weights sum to {np.full(n, 1e-320).sum():.3g}, outside float64's "
                "normal numbers (2.2e-308 to 1.8e+308)"
            ),
        ),
        "text": (np.array(["1"] * n), "weights must be real numbers, one per row"),
        "short": (ones[1:], rf"weights must have shape \({n},\) like y; got \({n - 1},\)"),
    }[kind]


@PROPERTY
@given(
    st.integers(2, 9),
    st.sampled_from(
        [
            "integers",
            "three classes",
            "strings",
            "booleans",
            "categories",
            "none",
            "nan",
            "inf",
            "fraction",
            "mixed",
            "one class",
        ]
    ),
    st.sampled_from(
        [
            "none",
            "positive",
            "some zero",
            "nan",
            "negative",
            "inf",
            "all zero",
            "class zero",
            "huge",
            "tiny",
            "text",
            "short",
        ]
    ),
    st.integers(0, 2**16),
)
def test_labels_and_weights_fit_or_are_refused_with_their_message(n, label_kind, weight_kind, seed):
    X = np.random.default_rng(seed).normal(size=(n, 2))
    y, label_problem = _labels(label_kind, n)
    codes = pd.factorize(np.asarray(y, dtype=object), sort=True)[0] if label_problem is None else np.arange(n) % 2
    weights, weight_problem = _weights(weight_kind, n, codes)
    problem = label_problem or weight_problem
    if problem is None:
        _fits_are_finite_or_refused(bl.LogisticModel(X, y, weights=weights))
        return
    with pytest.raises(bl.DataError, match=problem):
        bl.LogisticModel(X, y, weights=weights)


# ---- formulas: what formulaic cannot parse or evaluate, told with the formula to write instead ----------------------


@pytest.fixture
def cancer():
    """A frame whose column names need backticks in a formula."""
    rng = np.random.default_rng(5)
    radius, texture = rng.normal(14, 3, 60), rng.normal(19, 4, 60)
    diagnosis = np.where(0.8 * (radius - 14) - 0.3 * (texture - 19) + rng.logistic(size=60) > 0, "M", "B")
    return pd.DataFrame(
        {
            "mean radius": radius,
            "mean texture": texture,
            "a": rng.normal(size=60),
            "g": np.array(["u", "v", "w"] * 20),
            "diagnosis": diagnosis,
        }
    )


def test_names_with_spaces_are_told_how_to_quote_and_the_quoted_formula_fits(cancer):
    with pytest.raises(
        bl.FormulaError,
        match=re.escape(
            "cannot parse the formula 'diagnosis ~ mean radius + mean texture': Missing operator between `mean` and "
            "`radius`. Names with spaces or other characters must be written in backticks: "
            "'diagnosis ~ `mean radius` + `mean texture`'"
        ),
    ):
        bl.LogisticModel.from_formula("diagnosis ~ mean radius + mean texture", cancer)
    quoted = bl.LogisticModel.from_formula("diagnosis ~ `mean radius` + `mean texture`", cancer).fit_ml()
    arrays = bl.LogisticModel(cancer[["mean radius", "mean texture"]], cancer["diagnosis"]).fit_ml()
    assert quoted.model.coef_names == ["Intercept", "mean radius", "mean texture"]
    # the same design through two data paths: equal up to the order of BLAS's sums
    np.testing.assert_allclose(quoted.params, arrays.params, rtol=0, atol=1e-12)


def test_a_name_that_is_not_a_column_gets_its_close_matches(cancer):
    with pytest.raises(
        bl.FormulaError,
        match=re.escape(
            "the formula 'diagnosis ~ mean_radius + a' reads names the data lack: 'mean_radius' is not a column of the "
            "data (did you mean '`mean radius`'?). Columns are ['mean radius', 'mean texture', 'a', 'g', 'diagnosis']; "
            "e.g. 'diagnosis ~ `mean radius` + a'"
        ),
    ):
        bl.LogisticModel.from_formula("diagnosis ~ mean_radius + a", cancer)
    with pytest.raises(
        bl.FormulaError,
        match=re.escape(
            "the response 'diagnosys' of the formula 'diagnosys ~ a' is not a column of the data; did you mean "
            "'diagnosis'? the left-hand side must be one column of class labels"
        ),
    ):
        bl.LogisticModel.from_formula("diagnosys ~ a", cancer)
    with pytest.raises(
        bl.FormulaError,
        match=re.escape(
            "'foo' is neither a column nor a function that formulas know (numpy's as np.log(a); C(), I(), center(), "
            "scale(), poly(), bs())"
        ),
    ):
        bl.LogisticModel.from_formula("diagnosis ~ foo(a)", cancer)


@pytest.mark.parametrize(
    "formula, words",
    [
        (
            "diagnosis ~ .",
            "the formula 'diagnosis ~ .' uses '.', which formulaic would expand to every column, the "
            "response 'diagnosis' included; name the predictors instead, e.g. "
            "'diagnosis ~ `mean radius` + `mean texture` + a + g'",
        ),
        (
            "diagnosis ~ a | g",
            "the formula 'diagnosis ~ a | g' has parts separated by '|', which a logistic model does "
            "not take; join the predictors with '+'",
        ),
        (
            "diagnosis ~ a ~ g",
            "the formula 'diagnosis ~ a ~ g' has 2 '~'; a formula has one, between the response and "
            "the predictors, e.g. 'diagnosis ~ a + b'",
        ),
        ("diagnosis + a", "the formula 'diagnosis + a' has 0 '~'"),
        ("~ a", "the formula '~ a' has no response before '~'; write the column of class labels first"),
        (
            "diagnosis ~ diagnosis + a",
            "the formula 'diagnosis ~ diagnosis + a' reads its response 'diagnosis' among the "
            "predictors, which would predict the classes from themselves; remove it",
        ),
        ("diagnosis ~ a + ``", "the formula 'diagnosis ~ a + ``' quotes an empty name (``), which formulaic drops"),
        ("diagnosis ~ a +", "cannot parse the formula 'diagnosis ~ a +': "),
        ("diagnosis ~ np.log(g)", "cannot evaluate the formula 'np.log(g)' on the data: "),
    ],
)
def test_formulas_that_formulaic_cannot_use_are_told_what_to_write(cancer, formula, words):
    with pytest.raises(bl.FormulaError) as raised:
        bl.LogisticModel.from_formula(formula, cancer)
    assert words in str(raised.value)
    assert "\x1b" not in str(raised.value)  # formulaic's coloured pointer at the formula is left out


def test_a_function_undefined_on_some_rows_names_the_term_and_its_rows(cancer):
    negative = np.flatnonzero(cancer["a"] <= 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own "invalid value encountered in log"
        with pytest.raises(
            bl.DataError,
            match=re.escape(
                f"the term 'np.log(a)' of the formula 'diagnosis ~ np.log(a)' has NaN ({negative.size} rows, first at "
                f"row {negative[0]}): its function is not defined there"
            ),
        ):
            bl.LogisticModel.from_formula("diagnosis ~ np.log(a)", cancer)


def test_names_formulaic_reads_in_parts_are_read_whole(cancer):
    """formulaic's required variables of `a.b` are ``a``; the column ``a.b`` is still what is read, checked for missing
    values, and asked of new rows."""
    data = cancer.rename(columns={"a": "a.b"}).assign(y=cancer["diagnosis"])
    fit = bl.LogisticModel.from_formula("y ~ `a.b`", data.drop(columns="diagnosis")).fit_ml()
    np.testing.assert_allclose(
        fit.params, bl.LogisticModel(data[["a.b"]], data["y"]).fit_ml().params, rtol=0, atol=1e-12
    )  # two data paths: equal up to the order of BLAS's sums
    with pytest.raises(bl.DataError, match=r"reads missing values in 1 of 60 rows \(a\.b: 1\)"):
        bl.LogisticModel.from_formula("y ~ `a.b`", data.assign(**{"a.b": data["a.b"].where(data.index != 4)}))
    with pytest.raises(bl.DataError, match=r"the new rows lack the column\(s\) \['a\.b'\]"):
        fit.predict_proba(data.drop(columns="a.b"))
    with pytest.raises(bl.FormulaError, match=r"quotes the name '\.', which formulaic reads as every other column"):
        bl.LogisticModel.from_formula("y ~ `.`", data.rename(columns={"a.b": "."}))
    with pytest.raises(bl.FormulaError, match="quotes '1', which formulaic reads as a number, not a column"):
        bl.LogisticModel.from_formula("y ~ `1`", data.rename(columns={"a.b": "1"}))


def test_missing_values_read_through_a_transform_are_refused(cancer):
    """formulaic tells the columns of ``center(a)`` only once it evaluates the formula."""
    with pytest.raises(
        bl.DataError,
        match=re.escape("the formula 'center(a)' reads missing values through a transform (a: 1); impute them"),
    ):
        bl.LogisticModel.from_formula("diagnosis ~ center(a)", cancer.assign(a=cancer["a"].where(cancer.index != 7)))


def test_columns_a_formula_cannot_tell_apart_are_refused(cancer):
    twice = pd.concat([cancer, cancer[["a"]]], axis=1)
    with pytest.raises(bl.DataError, match=re.escape("the data have several columns named ['a'], which the formula")):
        bl.LogisticModel.from_formula("diagnosis ~ a", twice)
    numbered = cancer.rename(columns={"a": 0})
    with pytest.raises(bl.DataError, match=re.escape("reads the column(s) [0], whose names are not strings")):
        bl.LogisticModel.from_formula("diagnosis ~ `0`", numbered)


def test_new_rows_are_checked_against_what_the_formula_learnt(cancer):
    fit = bl.LogisticModel.from_formula("diagnosis ~ a + g", cancer).fit_map(bl.Normal(2.5))
    with pytest.raises(
        bl.DataError,
        match=re.escape(
            "column 'g' of the new rows holds level(s) ['z'] that the model was not fitted on (1 of 3 rows); it knows "
            "['u', 'v', 'w']. Map those rows onto known levels, or drop them"
        ),
    ):
        fit.predict_proba(cancer.iloc[:3].assign(g=["u", "z", "w"]))
    with pytest.raises(
        bl.DataError,
        match=re.escape("the new rows have missing values in the columns that the formula 'a + g' reads (g: 1)"),
    ):
        fit.predict_proba(cancer.iloc[:3].assign(g=["u", None, "w"]))
    with pytest.raises(
        bl.DataError, match=re.escape("the new rows lack the column(s) ['g'] that the formula 'a + g' reads")
    ):
        fit.predict_proba(cancer.drop(columns="g"))
    np.testing.assert_array_equal(fit.predict_proba(cancer.iloc[[4, 0]]), fit.predict_proba()[[4, 0]])


# ---- arrays and data frames ------------------------------------------------------------------------------------------


@pytest.fixture
def rows():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(40, 2))
    return X, (X[:, 0] + rng.logistic(size=40) > 0).astype(int)


def test_object_columns_of_numbers_are_read_as_numbers(rows):
    X, y = rows
    frame = pd.DataFrame({"a": pd.array(X[:, 0].tolist(), dtype=object), "b": X[:, 1]})
    np.testing.assert_allclose(
        bl.LogisticModel(frame, y).fit_ml().params,  # up to the order of BLAS's sums
        bl.LogisticModel(pd.DataFrame(X, columns=["a", "b"]), y).fit_ml().params,
        rtol=0,
        atol=1e-12,
    )
    with pytest.raises(bl.DataError, match=re.escape("X contains NaN in column 'a' (1 row, first at row 3)")):
        bl.LogisticModel(frame.assign(a=[None if i == 3 else v for i, v in enumerate(frame["a"])]), y)


@pytest.mark.parametrize(
    "make, exception, words",
    [
        (
            lambda X: pd.DataFrame({"a": X[:, 0], "b c": ["x"] + X[1:, 1].tolist()}),
            DataTypeError,
            "X must be numeric; column 'b c' holds values such as 'x' of type str. Encode them first, e.g. "
            "LogisticModel.from_formula('y ~ C(`b c`)', data), or convert the column with pandas.to_numeric",
        ),
        (
            lambda X: np.array([["x", 1.0]] + X[1:].tolist(), dtype=object),
            DataTypeError,
            "X must be numeric; column 'x0' holds values such as 'x' of type str",
        ),
        (
            lambda X: pd.DataFrame({"a": X[:, 0] + 1j, "b": X[:, 1]}),
            bl.DataError,
            "X holds complex numbers in column(s) ['a']; a logistic model takes real predictors",
        ),
        (
            lambda X: pd.DataFrame(X, columns=["a", "a"]),
            bl.DataError,
            "X has several columns named ['a']; rename them so that each name is one column",
        ),
        (lambda X: pd.DataFrame(X, columns=[0, "0"]), bl.DataError, "X has several columns named ['0']"),
        (
            lambda X: pd.DataFrame({"a": X[:, 0], "when": pd.date_range("2020", periods=len(X))}),
            DataTypeError,
            "X must be numeric; column(s) ['when'] have dtype ['datetime64[us]']",
        ),
        (
            lambda X: __import__("scipy.sparse").sparse.csr_matrix(X),
            DataTypeError,
            "X is a sparse matrix (csr_matrix); pass X.toarray()",
        ),
    ],
)
def test_columns_that_are_not_real_numbers_are_named(rows, make, exception, words):
    X, y = rows
    with pytest.raises(exception) as raised:
        bl.LogisticModel(make(X), y)
    assert words in str(raised.value)


def test_the_first_column_with_nan_or_infinite_values_is_named(rows):
    X, y = rows
    X = X.copy()
    X[5, 0], X[2, 1] = np.inf, np.nan
    with pytest.raises(
        bl.DataError, match=re.escape("X contains infinite values in column 'x0' (1 row, first at row 5)")
    ):
        bl.LogisticModel(X, y)


def test_columns_of_any_representable_scale_fit_the_same_model(rows):
    """Newton's steps are invariant under rescaling a column, so the coefficients scale back exactly up to rounding
    (they agree to 1e-15 here; 1e-9 leaves room for other BLAS kernels)."""
    X, y = rows
    base = bl.LogisticModel(X, y).fit_ml().coef.to_numpy()
    for scale in (1e140, 1e-140):
        fit = bl.LogisticModel(X * [scale, 1.0], y).fit_ml()
        np.testing.assert_allclose(fit.coef.to_numpy() * [1.0, scale, 1.0], base, rtol=1e-9)


@pytest.mark.parametrize("scale, squares", [(1e200, "inf"), (1e-300, "0")])
def test_columns_beyond_float64s_range_are_named(rows, scale, squares):
    X, y = rows
    largest = np.abs(X[:, 1]).max() * scale
    with pytest.raises(
        bl.DataError,
        match=re.escape(
            f"column 'b' has values of magnitude up to {largest:.3g}, and the weighted sum of its squares ({squares}) "
            "lies outside float64's normal numbers (2.2e-308 to 1.8e+308), so the likelihood's Hessian would overflow "
            "or lose its digits; rescale the column"
        ),
    ):
        bl.LogisticModel(pd.DataFrame({"a": X[:, 0], "b": X[:, 1] * scale}), y)


def test_dependent_columns_too_large_for_the_prior_are_named_by_the_map(rows):
    """At 1e140 the likelihood's curvature of two copies of a column (1e280) swamps the prior's (1 / 2.5^2) in rounding,
    so the MAP's Hessian is singular; an autoscaled prior scales with the columns and fits the rescaled model."""
    X, y = rows
    frame = pd.DataFrame({"a": X[:, 0] * 1e140, "b": X[:, 0] * 1e140, "c": X[:, 1]})
    with pytest.raises(
        bl.CollinearityError,
        match=re.escape(
            "the MAP's Hessian is singular in float64: 'a' and 'b' are linearly dependent: drop one of them, or "
            "standardise them (at their scale the prior's curvature is lost in rounding), or use a prior with "
            "autoscale=True"
        ),
    ) as raised:
        bl.LogisticModel(frame, y).fit_map(bl.Normal(2.5))
    assert raised.value.columns == ("a", "b")
    scaled = bl.LogisticModel(frame, y).fit_map(bl.Normal(2.5, autoscale=True)).coef.to_numpy()
    unit = bl.LogisticModel(frame * [1e-140, 1e-140, 1.0], y).fit_map(bl.Normal(2.5, autoscale=True)).coef.to_numpy()
    np.testing.assert_allclose(scaled * [1.0, 1e140, 1e140, 1.0], unit, rtol=1e-9)


def test_a_model_without_coefficients_is_refused(rows):
    X, y = rows
    words = "the model has no coefficients: no predictors and no intercept"
    with pytest.raises(bl.DataError, match=words):
        bl.LogisticModel(X[:, :0], y, intercept=False)
    with pytest.raises(bl.DataError, match=words):
        bl.LogisticModel.from_formula("y ~ 0", pd.DataFrame({"a": X[:, 0], "y": y}))


def test_integers_beyond_float64_are_named(rows):
    X, y = rows
    frame = pd.DataFrame({"a": pd.array([10**400] + X[1:, 0].tolist(), dtype=object)})
    with pytest.raises(bl.DataError, match=re.escape("integers beyond float64's range (1.8e308) in column 'a'")):
        bl.LogisticModel(frame, y)


def test_rows_out_of_core_are_refused_alike(rows):
    da = pytest.importorskip("dask.array")
    X, y = rows
    huge = X * [1.0, 1e200]
    with pytest.raises(bl.DataError, match="column 'x1' has values of magnitude up to"):
        bl.LogisticModel(da.from_array(huge, chunks=(15, 2)), da.from_array(y, chunks=15))
    bad = X.copy()
    bad[5, 0], bad[2, 1] = np.inf, np.nan
    with pytest.raises(
        bl.DataError, match=re.escape("X contains infinite values in column 'x0' (1 row, first at row 5)")
    ):
        bl.LogisticModel(da.from_array(bad, chunks=(15, 2)), da.from_array(y, chunks=15))
    with pytest.raises(bl.DataError, match=r"weights sum to inf, outside float64's normal numbers"):
        bl.LogisticModel(
            da.from_array(X, chunks=(15, 2)),
            da.from_array(y, chunks=15),
            weights=da.from_array(np.full(40, 1e308), chunks=15),
        )


# ---- options -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, words",
    [
        (
            lambda X, y: bl.LogisticModel(X, y, intercept="no"),
            "`intercept` must be True or False; got 'no' of type str",
        ),
        (
            lambda X, y: bl.LogisticModel(X, y, feature_names="ab"),
            "feature_names must be a sequence of 2 names, e.g. ['a', 'b']; got 'ab'",
        ),
        (
            lambda X, y: bl.LogisticModel(X, y, likelihood=["bernoulli"]),
            "`likelihood` must be one of ['bernoulli', 'categorical']; got ['bernoulli']",
        ),
        (
            lambda X, y: bl.LogisticModel(X, y).fit_ml(max_iter=2.5),
            "`max_iter` must be an integer >= 1; got 2.5 of type float",
        ),
        (lambda X, y: bl.LogisticModel(X, y).fit_ml(max_iter=0), "`max_iter` must be an integer >= 1; got 0"),
        (lambda X, y: bl.LogisticModel(X, y).fit_ml(tol=np.nan), "`tol` must be a positive finite number; got nan"),
        (lambda X, y: bl.LogisticModel(X, y).fit_map(None), "prior must be bl.Normal, bl.StudentT or bl.Cauchy"),
        (lambda X, y: bl.LogisticModel(X, y).evaluation_data(X), "give both X and y to evaluate on new data"),
    ],
)
def test_options_are_refused_as_option_errors(rows, make, words):
    """An OptionError is a ValueError and a TypeError both, as the checks before it raised one or the other."""
    with pytest.raises(bl.OptionError) as raised:
        make(*rows)
    assert words in str(raised.value)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, TypeError)


# ---- any formula: fits with finite estimates and predictions, or is refused by an exception of the package -----------

FORMULA_DATA = pd.DataFrame(
    {
        "a": np.linspace(-2.0, 3.0, 30),
        "b": np.cos(np.arange(30.0)),
        "g": ["u", "v", "w"] * 10,
        "mean radius": np.sin(np.arange(30.0)),
        "a.b": np.arange(30.0) % 7,
        "y": [0, 1, 1] * 10,
    }
)
TOKENS = [
    "a",
    "b",
    "g",
    "`mean radius`",
    "mean radius",
    "`a.b`",
    "a.b",
    "+",
    "-",
    "*",
    ":",
    "/",
    "**",
    "(",
    ")",
    "~",
    "C(",
    "np.log(",
    "I(",
    "center(",
    "poly(",
    "1",
    "0",
    "2",
    ".",
    "|",
    "{",
    "}",
    "`",
    "[",
    "]",
    ",",
    "zz",
    "y",
    "levels=['u']",
    "%",
    "'",
    "@",
    "=",
    ">",
]
TERMS = [
    "a",
    "b",
    "g",
    "`mean radius`",
    "`a.b`",
    "C(g)",
    "np.log(a)",
    "np.log(b + 5)",
    "I(a**2)",
    "center(b)",
    "a:b",
    "C(g, levels=['u', 'v'])",
    "poly(a, 2)",
    "bs(b, df=3)",
    "np.exp(a * 800)",
    "I(a / 0)",
    "C(a)",
    "abs(a)",
    "1",
    "0",
    "zz",
    "y",
    "I(a > 0)",
    "C(g):a",
    "(a + b)**2",
    "I(b * 1e200)",
    "I(b * 1e-200)",
    "np.log(g)",
    "{a.abs()}",
]


def _fits_or_is_refused(formula: str):
    """``formula`` on FORMULA_DATA: a MAP fit with finite estimates and predictions, or a BayeslogitError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's warnings of np.log(a) and the like, and convergence warnings
        try:
            fit = bl.LogisticModel.from_formula(formula, FORMULA_DATA).fit_map(bl.Normal(2.5))
            predicted = fit.predict_proba(FORMULA_DATA.iloc[:5])
        except bl.BayeslogitError:
            return
    assert np.all(np.isfinite(np.asarray(fit.coef))) and np.all(np.isfinite(predicted))


@PROPERTY
@given(st.lists(st.sampled_from(TOKENS), max_size=8), st.sampled_from([" ", ""]))
def test_any_text_after_the_tilde_fits_or_is_refused(tokens, separator):
    _fits_or_is_refused("y ~ " + separator.join(tokens))


@PROPERTY
@given(st.lists(st.tuples(st.sampled_from(["+", "-", "*", ":", "/"]), st.sampled_from(TERMS)), min_size=1, max_size=5))
def test_any_formula_of_terms_fits_or_is_refused(parts):
    _fits_or_is_refused("y ~ " + " ".join(f"{operator} {term}" for operator, term in parts)[2:])
