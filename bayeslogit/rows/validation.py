"""Validation of the predictors and weights that a model is given, shared by rows in memory
(:mod:`bayeslogit.rows.in_memory`) and rows out of core (:mod:`bayeslogit.rows.chunked`).

Object columns of real numbers are read as numbers; missing values (None, NaN, pandas' NA), infinite values, text,
dates and complex numbers are refused naming the column, and so are columns whose squares fall outside float64's
range (:data:`SQUARES_RANGE`). Messages name the problem, the value received and the fix; those that rows held out of
core can meet too are in :data:`MESSAGES`.
"""

import numbers
from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from bayeslogit.exceptions import DataError, DataTypeError, OptionError
from bayeslogit.numerics.fused import sum_is_finite
from bayeslogit.rows.formula_names import quote

SQUARES_RANGE = (np.finfo(float).tiny, np.finfo(float).max)
"""Where the weighted sum of squares of a column (``sum w x^2``; of the intercept's ones, the weights' sum) must lie:
float64's normal numbers, about 2.2e-308 to 1.8e308. The likelihood's Hessian sums ``w p (1 - p) x_j x_k`` over the
rows, at most a quarter of these sums: above the range its sums (and the gradient's, the Gram matrix's) overflow;
below it they are subnormal numbers, which have lost digits, and a column whose squares underflow to zero looks
constant."""
MESSAGES = {
    "x_dims": "X must be 2-D (n_samples, n_features); got shape {shape}.{hint}",
    "x_rows": "X has no rows; a model needs at least one observation per class",
    "x_dtype": (
        "X must be numeric; got an array of dtype {dtype}. Encode categories as numbers or use "
        "LogisticModel.from_formula with C(column)"
    ),
    "x_values": "X contains {problem} in column '{column}' ({rows}); drop or impute those rows",
    "term_values": (
        "the term '{column}' of the formula '{formula}' has {problem} ({rows}): its function is not "
        "defined there (e.g. the log of a value <= 0); transform the column so that it is, or drop those "
        "rows"
    ),
    "x_complex": (
        "X holds complex numbers{where}; a logistic model takes real predictors: pass the real part, the "
        "modulus or both as columns"
    ),
    "x_scale": (
        "column '{column}' has values of magnitude up to {largest:.3g}, and the weighted sum of its squares "
        "({squares:.3g}) lies outside float64's normal numbers ({low:.2g} to {high:.2g}), so the likelihood's "
        "Hessian would overflow or lose its digits; rescale the column, e.g. standardise it (subtract its "
        "mean, divide by its sd)"
    ),
    "y_dims": (
        "y must be 1-D (one label per observation), or two columns of counts (successes, failures); got shape {shape}"
    ),
    "y_length": "X has {n_X} rows but y has {n_y}; they must have one entry per observation",
    "y_missing": "y contains missing values ({rows}); drop those rows",
    "y_infinite": "y contains infinite values ({rows}); class labels must be finite, so drop or relabel those rows",
    "y_fraction": (
        "y must hold class labels; got non-integer values such as {example}. For proportions of "
        "successes, expand to 0/1 rows with weights"
    ),
    "y_single": "y has a single class ({label!r}); logistic classification needs at least two",
    "w_shape": "weights must have shape ({n},) like y; got {shape}",
    "w_values": "weights must be finite and non-negative; got {example}",
    "w_zero": "weights are all zero; at least one observation must count",
    "w_scale": (
        "weights sum to {total:.3g}, outside float64's normal numbers ({low:.2g} to {high:.2g}), so the "
        "likelihood's sums would overflow or lose their digits; rescale them, e.g. divide them by their mean"
    ),
    "w_class": (
        "every row of the class(es) {classes} has weight 0, so the model cannot learn them and its "
        "coefficients diverge; give those rows weight or drop the class"
    ),
}
"""What each problem with the data is told, for in-memory rows and rows out of core alike."""


def describe_rows(count: int, first: int) -> str:
    """``"3 rows, first at row 17"``."""
    return f"{count} row{'s' if count > 1 else ''}, first at row {first}"


def describe_mask(mask: np.ndarray) -> str:
    """:func:`describe_rows` of the rows marked in ``mask`` (n_samples,), at least one."""
    rows = np.flatnonzero(mask)
    return describe_rows(rows.size, rows[0])


def validate_X(X, feature_names=None, finite: bool = True) -> tuple[np.ndarray, tuple]:
    """Check a predictor matrix and return it as a C-contiguous float64 array with its column names.

    Object columns of real numbers (and None) are read as numbers; missing values (None, NaN, pandas' NA) are refused
    by column, as are infinite values, text, dates and complex numbers.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
    feature_names : sequence of str, optional
        Overrides the DataFrame's column names; default ``x0, x1, ...`` for arrays.
    finite : bool
        Whether to check here that the values are finite (:func:`check_finite`); a caller that passes over the
        values anyway may check their sums instead.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    feature_names : tuple of str
    """
    if isinstance(X, pd.DataFrame):
        names = _frame_names(X)
        check_shape(X)
        X = _frame_values(X, names)
    else:
        X = _array_values(X)
        names = None
    names = feature_names_of(feature_names, names, X.shape[1])
    X = np.ascontiguousarray(_object_columns(X, names) if X.dtype == object else X, dtype=float)
    if finite:
        check_finite(X, names)
    return X, names


def _frame_names(X: pd.DataFrame) -> tuple:
    """A data frame's column names as strings, refusing names that two columns share."""
    names = tuple(str(c) for c in X.columns)
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise DataError(f"X has several columns named {repeated}; rename them so that each name is one column")
    return names


def _frame_values(X: pd.DataFrame, names: tuple) -> np.ndarray:
    """A data frame's values (n_samples, n_features), object columns of real numbers as floats; text, dates and
    complex numbers refused by column."""
    complex_ = [name for name, dtype in zip(names, X.dtypes) if pd.api.types.is_complex_dtype(dtype)]
    if complex_:
        raise DataError(MESSAGES["x_complex"].format(where=f" in column(s) {complex_}"))
    other = [
        j
        for j, dtype in enumerate(X.dtypes)
        if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype))
    ]
    if other:
        raise DataTypeError(
            f"X must be numeric; column(s) {[names[j] for j in other]} have dtype "
            f"{[str(X.dtypes.iloc[j]) for j in other]}. Encode them first, e.g. "
            f"LogisticModel.from_formula('y ~ C({quote(names[other[0]])})', data)"
        )
    if not any(pd.api.types.is_object_dtype(dtype) for dtype in X.dtypes):
        return X.to_numpy(dtype=float, na_value=np.nan)
    return np.column_stack(
        [
            _object_as_float(X.iloc[:, j].to_numpy(), name)
            if pd.api.types.is_object_dtype(dtype)
            else X.iloc[:, j].to_numpy(dtype=float, na_value=np.nan)
            for j, (name, dtype) in enumerate(zip(names, X.dtypes))
        ]
    )


def _array_values(X) -> np.ndarray:
    """``X`` as a NumPy array of numbers (or of objects, read by column later)."""
    if hasattr(X, "toarray"):
        raise DataTypeError(
            f"X is a sparse matrix ({type(X).__name__}); pass X.toarray(), as the model reads dense rows"
        )
    try:
        X = np.asarray(X)
    except ValueError as error:
        raise DataError(f"X could not be read as an array ({error}); pass a 2-D array or a DataFrame") from None
    check_shape(X)
    if X.dtype != object:
        check_numeric(X)
    return X


_NUMBER_KINDS = {"integer", "floating", "mixed-integer-float", "boolean", "decimal", "empty"}
"""What :func:`pandas.api.types.infer_dtype` calls columns of real numbers (and missing values)."""


def _object_as_float(values: np.ndarray, name: str) -> np.ndarray:
    """An object column (n_samples,) of real numbers as float64, None and pandas' NA as NaN; else raise naming the
    column and its first value that is not a real number."""
    if pd.api.types.infer_dtype(values, skipna=True) not in _NUMBER_KINDS:
        example = next((v for v in values if not (v is None or v is pd.NA or isinstance(v, numbers.Real))), None)
        if isinstance(example, numbers.Complex):
            raise DataError(MESSAGES["x_complex"].format(where=f" in column '{name}' (e.g. {example!r})"))
        if example is not None:
            raise DataTypeError(
                f"X must be numeric; column '{name}' holds values such as {example!r} of type "
                f"{type(example).__name__}. Encode them first, e.g. LogisticModel.from_formula("
                f"'y ~ C({quote(name)})', data), or convert the column with pandas.to_numeric"
            )
    try:
        return np.where(pd.isna(values), np.nan, values).astype(float)
    except OverflowError:  # Python integers beyond float64's range
        raise DataError(
            f"X holds integers beyond float64's range (1.8e308) in column '{name}'; rescale the column, "
            "e.g. divide it by a power of ten"
        ) from None


def _object_columns(X: np.ndarray, names: tuple) -> np.ndarray:
    """A 2-D object array's columns as float64 (see :func:`_object_as_float`)."""
    if not names:
        return X.astype(float)
    return np.column_stack([_object_as_float(X[:, j], name) for j, name in enumerate(names)])


def check_finite(X: np.ndarray, names: tuple, message: str = MESSAGES["x_values"], **fields) -> None:
    """Raise a DataError naming the first column of ``X`` (n_samples, n_features) with NaN or infinite values (NaN
    first) and their rows, by ``message``: a template of ``problem``, ``column``, ``rows`` and the other ``fields``."""
    if sum_is_finite(X):  # one pass: a finite sum has finite terms
        return
    flagged = np.flatnonzero((~np.isfinite(X)).any(axis=0))
    if flagged.size:  # else the sum overflowed
        values = X[:, flagged[0]]
        problem, mask = ("NaN", np.isnan(values)) if np.isnan(values).any() else ("infinite values", np.isinf(values))
        raise DataError(message.format(problem=problem, column=names[flagged[0]], rows=describe_mask(mask), **fields))


def check_numeric(X) -> None:
    """Raise unless the array ``X`` (NumPy or dask) is numeric or boolean: a DataError for complex numbers, a
    DataTypeError for others."""
    if np.issubdtype(X.dtype, np.complexfloating):
        raise DataError(MESSAGES["x_complex"].format(where=f" (dtype {X.dtype})"))
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise DataTypeError(MESSAGES["x_dtype"].format(dtype=X.dtype))


def check_shape(X) -> None:
    """Raise a DataError unless the array ``X`` (NumPy or dask) is 2-D with rows."""
    if X.ndim != 2:
        hint = " For a single feature use X.reshape(-1, 1)." if X.ndim == 1 else ""
        raise DataError(MESSAGES["x_dims"].format(shape=X.shape, hint=hint))
    if X.shape[0] == 0:
        raise DataError(MESSAGES["x_rows"])


def feature_names_of(given, from_frame, n_features: int) -> tuple:
    """The names of ``n_features`` columns: ``given``, else a frame's column names, else ``x0, x1, ...``."""
    if given is None:
        return from_frame or tuple(f"x{j}" for j in range(n_features))
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise OptionError(f"feature_names must be a sequence of {n_features} names, e.g. ['a', 'b']; got {given!r}")
    names = tuple(str(name) for name in given)
    if len(names) != n_features:
        raise DataError(f"feature_names has {len(names)} names but X has {n_features} columns")
    if len(set(names)) != len(names):
        raise DataError(f"feature_names must be unique; got {list(names)}")
    return names


def check_scales(squares: np.ndarray, names: tuple, largest: Callable[[int], float]) -> None:
    """Raise a DataError naming the first column whose weighted sum of squares ``squares`` (n_features,) lies outside
    :data:`SQUARES_RANGE`, unless it is all zero; ``largest(j)`` is the largest magnitude in column ``j``."""
    low, high = SQUARES_RANGE
    for j in np.flatnonzero(~(squares <= high) | (squares < low)):  # NaN (0 * inf) counts as too large
        if largest(j) > 0:
            raise DataError(
                MESSAGES["x_scale"].format(column=names[j], largest=largest(j), squares=squares[j], low=low, high=high)
            )


def check_total_weight(total: float) -> None:
    """Raise a DataError when the weights' sum ``total`` (positive) lies outside :data:`SQUARES_RANGE`."""
    low, high = SQUARES_RANGE
    if not low <= total <= high:
        raise DataError(MESSAGES["w_scale"].format(total=total, low=low, high=high))


def validate_weights(weights, n_samples: int) -> np.ndarray:
    """Sample weights as a float array of shape (n_samples,); ones when None."""
    if weights is None:
        return np.ones(n_samples)
    weights = _weights_values(weights)
    if weights.shape != (n_samples,):
        raise DataError(MESSAGES["w_shape"].format(n=n_samples, shape=weights.shape))
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise DataError(MESSAGES["w_values"].format(example=weights[~np.isfinite(weights) | (weights < 0)][0]))
    with np.errstate(over="ignore"):
        total = weights.sum()
    if total == 0:
        raise DataError(MESSAGES["w_zero"])
    check_total_weight(total)
    return weights


def _weights_values(weights) -> np.ndarray:
    """``weights`` as a float array, refusing text, dates, complex numbers and ragged sequences."""
    try:
        values = np.asarray(weights)
        if not (np.iscomplexobj(values) or values.dtype.kind in "USMm"):
            return values.astype(float)
    except (TypeError, ValueError, OverflowError):
        pass
    raise DataTypeError(f"weights must be real numbers, one per row; got {type(weights).__name__} {str(weights)[:80]}")
