"""Rows in memory: the validated data of a model (:class:`ModelData`), its labels, class encoding and reference
class, the data of formulas (parsed and expanded by :mod:`bayeslogit.rows.formulas`) and of new rows.

Everything a user hands to :class:`bayeslogit.LogisticModel` is checked here, once (the predictors and weights by
:mod:`bayeslogit.rows.validation`); the numerical code downstream trusts what it receives. Messages name the problem,
the value received and the fix.
"""

from dataclasses import dataclass, replace
from importlib import import_module

import numpy as np
import pandas as pd

from bayeslogit.algorithms.collinearity import ColumnSums, column_sums, find_collinearity
from bayeslogit.checks import check_flag
from bayeslogit.exceptions import DataError, DataTypeError, OptionError
from bayeslogit.numerics.column_moments import weighted_sd
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.objective import Objective
from bayeslogit.numerics.observations import EACH_ROW, BinomialCounts, EachRow
from bayeslogit.rows import counts
from bayeslogit.rows.formulas import (  # noqa: F401 (handle_missing: what these rows do with missing values)
    data_names,
    design_from_formula,
    handle_missing,
)
from bayeslogit.rows.validation import MESSAGES, check_finite, check_scales, describe_mask, validate_weights, validate_X


@dataclass(frozen=True)
class ModelData:
    """Validated data of a model, in memory.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        C-contiguous float64, without an intercept column.
    y : ndarray of shape (n_samples,)
        Integer class codes into ``classes``.
    weights : ndarray of shape (n_samples,)
    classes : ndarray of shape (n_classes,)
        The labels; ``classes[1]`` is the event of a binary model.
    feature_names : tuple of str
    formula_spec : formulaic ModelSpec or None
        Re-applied to new data frames at prediction time.
    frame : DataFrame or None
        For a formula model, the data columns its formula reads (and the response), at the rows it kept (of a
        binomial response, at each row of the likelihood): what plots draw in the data's own variables.
    named_features : bool
        Whether the features were named (a DataFrame's columns, or ``feature_names``), so that a data frame
        of new rows is read by those names; unnamed features (``x0, x1, ...``) are read by position.
    observations : EachRow or BinomialCounts
        Which rows make up each observation: every row one (class labels), or the success and failure rows of a
        binomial observation (:mod:`bayeslogit.numerics.observations`), whose ``X``, ``y`` and ``weights`` then
        hold those rows.
    column_sums : ColumnSums or None
        The columns' sums (and the rank screen's Gram matrix) from the pass that checked the values
        (:func:`~bayeslogit.algorithms.collinearity.column_sums`): the rank check reuses them.
    """

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    classes: np.ndarray
    feature_names: tuple
    formula_spec: object = None
    named_features: bool = False
    frame: pd.DataFrame | None = None
    observations: EachRow | BinomialCounts = EACH_ROW
    column_sums: ColumnSums | None = None

    in_memory = True

    # What differs between rows in memory and rows out of core (:class:`bayeslogit.rows.chunked.ChunkedData`).
    def objective(self, family, intercept: bool, n_classes: int, prior, transform) -> Objective:
        """The negative log posterior of these rows under the prior term ``prior``; see
        :class:`~bayeslogit.numerics.objective.Objective`."""
        return Objective(family, Design(self.X, intercept), self.y, self.weights, n_classes, prior, transform)

    def class_weights(self) -> np.ndarray:
        """The weight of each class of ``classes`` (K,): its rows' weights summed."""
        return np.bincount(self.y, self.weights, minlength=len(self.classes))

    def predictor_sd(self) -> pd.Series:
        """Each predictor's standard deviation, indexed by feature name, the weights counting rows (divisor
        ``sum(w) - 1``; NaN when the weights sum to 1 or less)."""
        return pd.Series(weighted_sd(self.X, self.weights), index=self.feature_names)

    def find_collinearity(self, intercept: bool):
        """The constant or linearly dependent columns of the design (a ``Collinearity``), or None."""
        return find_collinearity(Design(self.X, intercept), self.weights, self.feature_names, self.column_sums)

    def find_separation(self, intercept: bool, n_classes: int):
        """The separation that the linear program finds in these rows (a ``Separation``), or None."""
        return find_separation(
            self.X, self.y, n_classes, intercept=intercept, names=self.feature_names, weights=self.weights
        )

    def training_rows(self, what: str, labels_in_memory: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``X``, ``y`` and ``weights``: these rows are at hand, whatever ``what`` needs them for."""
        return self.X, self.y, self.weights

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``X``, ``y`` and ``weights`` of the row indices ``rows``."""
        return self.X[rows], self.y[rows], self.weights[rows]

    def require_in_memory(self, what: str, instead: str = "") -> None:
        """Nothing: these rows are in memory (rows out of core refuse ``what``, suggesting ``instead``)."""

    def describe(self) -> str:
        """How many rows, for a model's repr."""
        n = self.observations.count(self.X.shape[0])
        return f"{n} binomial observations" if self.observations.grouped else f"{n} observations"


def find_separation(*args, **kwargs):  # imported on first use: its linear programs need scipy.optimize
    return import_module("bayeslogit.algorithms.separation").find_separation(*args, **kwargs)


def computed(values):
    """``values``, which are in memory."""
    return values


def by_row_chunks(function, rows):
    """``function(rows)``: rows in memory are one chunk."""
    return function(rows)


def encode_labels(y, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Class codes and labels of ``y``.

    A pandas Categorical keeps its category order (unused categories dropped); other labels are
    sorted (``False < True``, ``0 < 1``, strings alphabetically).

    Returns
    -------
    codes : ndarray of int of shape (n_samples,)
    classes : ndarray of shape (n_classes,)
    """
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise DataError(f"y must be one column; got a DataFrame with {y.shape[1]} columns")
        y = y.iloc[:, 0]
    if not isinstance(y, pd.Series) and np.ndim(y) != 1:
        raise DataError(MESSAGES["y_dims"].format(shape=np.shape(y)))
    series = y if isinstance(y, pd.Series) else pd.Series(y, copy=False)  # read, never written
    if len(series) != n_samples:
        raise DataError(MESSAGES["y_length"].format(n_X=n_samples, n_y=len(series)))
    if series.dtype.kind not in "iub" and series.isna().any():  # integers and booleans cannot be missing
        raise DataError(MESSAGES["y_missing"].format(rows=describe_mask(series.isna().to_numpy())))
    _check_label_types(series)
    if isinstance(series.dtype, pd.CategoricalDtype):
        categorical = series.cat.remove_unused_categories()
        codes, classes = categorical.cat.codes.to_numpy(), categorical.cat.categories.to_numpy()
    else:
        values = series.to_numpy()
        if np.issubdtype(values.dtype, np.floating) and np.any(values != np.round(values)):
            raise DataError(MESSAGES["y_fraction"].format(example=values[values != np.round(values)][0]))
        codes, classes = _factorized(values)
    if len(classes) < 2:
        raise DataError(MESSAGES["y_single"].format(label=classes.tolist()[0]))
    return np.asarray(codes, dtype=np.intp), classes


def _factorized(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (n_samples,) and sorted distinct values (n_classes,) of the labels ``values`` (n_samples,), as
    ``np.unique(return_inverse=True)`` gives them: by counting where the labels are small non-negative integers,
    else by hashing (:func:`pandas.factorize`)."""
    counts, largest = None, values.max() if values.dtype.kind in "iu" and values.size else None
    if largest is not None and largest <= 1 and values.min() >= 0:  # labels 0 and 1: no histogram needed
        ones = np.count_nonzero(values)
        counts = np.array([values.size - ones, ones])
    elif largest is not None and largest < values.size:
        try:
            counts = np.bincount(values)
        except ValueError:  # negative labels
            pass
    if counts is None:
        codes, classes = pd.factorize(values, sort=True)
        return codes, np.asarray(classes)
    classes = np.flatnonzero(counts)
    if classes[-1] == len(classes) - 1:  # the labels 0, 1, ..., K - 1 are their own codes
        return values, classes.astype(values.dtype)
    lookup = np.zeros(classes[-1] + 1, dtype=np.intp)
    lookup[classes] = np.arange(len(classes))
    return lookup[values], classes.astype(values.dtype)


_MIXED_KINDS = {"mixed", "mixed-integer"}
"""What :func:`pandas.api.types.infer_dtype` calls labels of several types (numbers and text, or others)."""


def _check_label_types(series: pd.Series) -> None:
    """Raise a DataError when labels (no missing ones) are infinite or mix types (``0`` and ``"a"``, or ``True``)."""
    if pd.api.types.is_float_dtype(series.dtype) and np.isinf(series.to_numpy(dtype=float)).any():
        raise DataError(MESSAGES["y_infinite"].format(rows=describe_mask(np.isinf(series.to_numpy(dtype=float)))))
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in _MIXED_KINDS:
        kinds = sorted({type(label).__name__ for label in series})
        raise DataError(
            f"y mixes labels of types {kinds}, which would make classes such as 1 and '1' distinct; "
            "make them one type, e.g. y.astype(str)"
        )


def with_reference(model_data: ModelData, reference, family) -> ModelData:
    """``model_data`` with the class ``reference`` moved first (the others keep their order); None keeps it.

    The first class is the reference of a multiclass model (its coefficients are fixed at zero) and the
    non-event class of a binary one (the event ``classes[1]`` is then the other class). The class codes are
    renumbered by arithmetic, so rows in memory and dask rows out of core alike stay as they are.

    Raises
    ------
    OptionError
        When ``family`` has no reference class (the symmetric parameterization).
    DataError
        When ``reference`` is not one of the classes, listing them.
    """
    if reference is None:
        return model_data
    labels = model_data.classes.tolist()
    if family.n_linear_predictors(len(labels)) == len(labels):
        raise OptionError(
            f"reference={reference!r} chooses the class whose coefficients are fixed at zero, but the "
            "symmetric parameterization has a coefficient column for every class; drop reference= or "
            "pass parameterization='reference'"
        )
    if not _is_label(reference, labels):
        raise DataError(f"reference={reference!r} is not a class of y; the classes are {labels}")
    first = labels.index(reference)
    order = [first, *(k for k in range(len(labels)) if k != first)]
    codes = model_data.y  # first -> 0, the classes before it one up, those after it unchanged
    return replace(model_data, y=codes + (codes < first) - first * (codes == first), classes=model_data.classes[order])


def _is_label(value, labels: list) -> bool:
    """Whether ``value`` is one of ``labels`` (an unhashable or array-like value is not)."""
    try:
        return bool(value in labels)
    except (TypeError, ValueError):
        return False


def check_intercept(intercept, n_features: int) -> bool:
    """``intercept`` as a bool, refusing a model without coefficients (no intercept and no features)."""
    intercept = check_flag("intercept", intercept)
    if not (n_features or intercept):
        raise DataError(
            "the model has no coefficients: no predictors and no intercept, so every class would have the "
            "same probability everywhere; add predictors, or keep the intercept (in a formula, '- 1' and "
            "'+ 0' remove it)"
        )
    return intercept


def prepare(X, y, feature_names=None, weights=None) -> ModelData:
    """Validate arrays or data frames into :class:`ModelData`; a ``y`` of two columns is a binomial response,
    expanded into the rows of the likelihood (:func:`bayeslogit.rows.counts.expand`)."""
    named = isinstance(X, pd.DataFrame) or feature_names is not None
    weighted = weights is not None or counts.is_counts(y)  # else every class has its rows, each of weight 1
    X, names = validate_X(X, feature_names, finite=False)  # its values are checked by their sums, below
    observations, refused = EACH_ROW, None
    if counts.is_counts(y):
        check_finite(X, names)  # before the rows are expanded, so that the message counts the data's rows
        observations, codes, weights = counts.expand(y, X.shape[0], validate_weights(weights, X.shape[0]))
        X, classes = np.ascontiguousarray(X[observations.row_observation]), counts.CLASSES
    else:
        try:
            weights = validate_weights(weights, X.shape[0])
        except DataError as problem:  # told after the labels' problems, in the order of the arguments
            weights, refused = np.ones(X.shape[0]), problem
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        sums = column_sums(X, weights)
    if not np.all(np.isfinite(sums.first)):  # a finite sum has finite terms (0 * inf is NaN, so rows of weight 0 count)
        check_finite(X, names)
    if observations is EACH_ROW:
        codes, classes = encode_labels(y, X.shape[0])
    if refused is not None:
        raise refused
    if weighted:
        unweighted = classes[np.bincount(codes, weights, minlength=len(classes)) == 0]
        if unweighted.size:
            raise DataError(MESSAGES["w_class"].format(classes=unweighted.tolist()))
    check_scales(sums.second, names, lambda j: float(np.abs(X[:, j]).max()))
    return ModelData(
        X, codes, weights, classes, names, named_features=named, observations=observations, column_sums=sums
    )


def formula_data(rhs: str, response: str, data: pd.DataFrame, weights=None) -> tuple[ModelData, bool]:
    """The validated data of a formula's right-hand side ``rhs`` and ``response`` (a column, or ``cbind`` of counts),
    and whether the formula has an intercept."""
    formula = f"{response} ~ {rhs}"
    X, intercept, spec = design_from_formula(rhs, data)
    check_finite(X.to_numpy(dtype=float), tuple(map(str, X.columns)), MESSAGES["term_values"], formula=formula)
    read = [
        column for column in data.columns if str(column) in data_names(spec) | counts.response_names(formula, response)
    ]
    rows = prepare(X, counts.response_values(formula, response, data), weights=weights)
    frame = data.loc[X.index, read]
    if rows.observations.grouped:  # the frame's rows as the likelihood's: a binomial row's success and failure rows
        frame = frame.iloc[rows.observations.row_observation]
    return replace(rows, formula_spec=spec, frame=frame), intercept


def class_codes(classes: np.ndarray, y) -> np.ndarray:
    """Class codes (indices into a fitted model's ``classes``) of labels ``y`` of new rows, shape (n_samples,).

    Unlike :func:`encode_labels`, which defines the classes from the training labels, this maps labels onto
    the classes of a fitted model.

    Raises
    ------
    DataError
        When ``y`` holds labels the model was not fitted on, naming them.
    """
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise DataError(f"y must be 1-D class labels; got shape {labels.shape}")
    codes = pd.Index(classes).get_indexer(labels)
    if np.any(codes < 0):
        unknown = sorted({repr(label) for label in labels[codes < 0].tolist()})
        raise DataError(
            f"y holds labels the model was not fitted on: {', '.join(unknown)}; the model's "
            f"classes are {classes.tolist()}. Map them onto these labels or drop those rows"
        )
    return codes


def new_design(model_data: ModelData, rhs: str | None, X) -> np.ndarray:
    """Validated predictors (n_samples, n_features) of new rows for a model fitted on ``model_data``.

    A formula model expands a data frame by the spec of its formula's right-hand side ``rhs``; a model with
    named features takes a data frame's columns by name (in any order); arrays, and data frames given to a
    model of unnamed features, must have the model's columns in order.
    """
    names = list(model_data.feature_names)
    if model_data.formula_spec is not None:
        if not isinstance(X, pd.DataFrame):
            raise DataTypeError(
                "this model was built from a formula: pass new data as a DataFrame with "
                f"the formula's columns; got {type(X).__name__}"
            )
        X, _, _ = design_from_formula(rhs, X, model_data.formula_spec)
    elif isinstance(X, pd.DataFrame) and model_data.named_features:
        missing = [name for name in names if name not in set(map(str, X.columns))]
        if missing:
            raise DataError(f"X lacks the column(s) {missing} that the model was fitted on ({names})")
        X = X[names]
    width_matches = not isinstance(X, pd.DataFrame) and np.ndim(X) == 2 and np.shape(X)[1] == len(names)
    X, _ = validate_X(X, names if width_matches else None)
    if X.shape[1] != len(names):
        raise DataError(f"X has {X.shape[1]} columns but the model was fitted on {len(names)}: {names}")
    return X
