"""Formulas: the response and right-hand side of ``"y ~ a + b"``, the rows with missing values among the
columns a formula reads, and the model matrix that formulaic expands.

formulaic is imported on first use, so that models of arrays never load it.
"""

import warnings

import numpy as np
import pandas as pd

from .algorithms.dask_backend import is_dask
from .checks import check_choice
from .exceptions import DataError


def split_formula(formula: str, data: pd.DataFrame) -> tuple[str, str]:
    """The response column and the right-hand side of ``"y ~ a + b"``; ``data`` is a pandas or dask DataFrame."""
    if not (isinstance(data, pd.DataFrame) or (is_dask(data) and hasattr(data, "columns"))):
        raise TypeError(f"data must be a pandas DataFrame (or a dask DataFrame); got {type(data).__name__}")
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string such as 'y ~ a + b'; got {type(formula).__name__}")
    if formula.count("~") != 1:
        raise ValueError(f"a formula needs one '~' between the response and the predictors; got {formula!r}")
    response, rhs = (part.strip() for part in formula.split("~"))
    if response not in data.columns:
        raise DataError(f"the response '{response}' is not a column of the data; columns are {list(data.columns)}")
    return response, rhs


def _refuse_missing(data: pd.DataFrame, weights, counts: pd.Series, rows: np.ndarray, formula: str):
    """Raise a DataError counting the missing values (``counts`` by column, ``rows`` the mask of rows)."""
    raise DataError(f"the formula '{formula}' reads missing values in {rows.sum()} of {len(data)} rows "
                    f"({_describe_counts(counts)}); impute them, or pass missing='drop' to drop those rows")


def _drop_missing(data: pd.DataFrame, weights, counts: pd.Series, rows: np.ndarray, formula: str):
    """The rows not marked in ``rows``, their weights and the dropped index labels, with a UserWarning."""
    if rows.all():
        raise DataError(f"every row of the data has a missing value in a column that the formula '{formula}' reads "
                        f"({_describe_counts(counts)}); impute them, or choose other columns")
    warnings.warn(f"dropped {rows.sum()} of {len(data)} rows with missing values in the columns that the formula "
                  f"'{formula}' reads ({_describe_counts(counts)}); their index labels are in model.dropped_rows",
                  UserWarning, stacklevel=4)
    if weights is not None and np.shape(weights) == (len(data),):
        weights = np.asarray(weights)[~rows]
    return data[~rows], weights, data.index[rows]


MISSING = {"raise": _refuse_missing, "drop": _drop_missing}
"""What ``from_formula(..., missing=)`` does with rows that have missing values in the columns a formula reads."""


def handle_missing(response: str, rhs: str, data: pd.DataFrame, weights, missing: str):
    """The rows of ``data`` (and their ``weights``) without missing values in the columns that the formula
    ``response ~ rhs`` reads, as ``missing`` says: ``"raise"`` refuses such rows, ``"drop"`` drops them with a
    UserWarning. Both count the missing values of each column.

    Returns
    -------
    data : DataFrame
        The rows kept.
    weights : ndarray of shape (n_kept,), or ``weights`` as given
    dropped : Index
        The index labels of the rows dropped; empty when none were.

    Raises
    ------
    DataError
        ``missing="raise"`` and missing values, every row dropped, or ``missing="drop"`` for a dask DataFrame
        (whose missing values are reported as the rest of its data are, chunk by chunk).
    """
    policy = MISSING[check_choice("missing", missing, MISSING)]
    if is_dask(data):
        if policy is _drop_missing:
            raise DataError("missing='drop' needs a pandas DataFrame; drop the rows of a dask DataFrame first, "
                            "e.g. data.dropna(subset=[...the formula's columns...])")
        return data, weights, pd.Index([])
    from formulaic import Formula

    variables = {str(name) for name in Formula(rhs).required_variables} | {response}
    isna = data[[column for column in data.columns if column in variables]].isna()
    rows = isna.any(axis=1).to_numpy()
    if not rows.any():
        return data, weights, data.index[:0]
    counts = isna.sum()
    return policy(data, weights, counts[counts > 0], rows, f"{response} ~ {rhs}")


def _describe_counts(counts: pd.Series) -> str:
    """``"a: 2, g: 1"``."""
    return ", ".join(f"{column}: {count}" for column, count in counts.items())


def design_from_formula(rhs: str, data: pd.DataFrame, spec=None, na_action: str = "drop"):
    """Model matrix of a right-hand side through formulaic; ``spec`` re-applies a fitted one.

    ``na_action="ignore"`` keeps rows with missing values (as NaN), for the caller to report by column.

    Returns
    -------
    X : DataFrame of shape (n_samples, n_features), without the intercept column
    intercept : bool
    spec : formulaic ModelSpec

    Raises
    ------
    DataError
        When a term cannot be evaluated (an unknown column), meets missing values, or (new data) holds a
        category level that the model was not fitted on.
    """
    from formulaic import model_matrix
    from formulaic.errors import DataMismatchWarning, FactorEvaluationError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataMismatchWarning)
            matrix = model_matrix(rhs, data, na_action=na_action) if spec is None else spec.get_model_matrix(data)
    except FactorEvaluationError as error:
        raise DataError(f"cannot evaluate the formula '{rhs}' on the data: {error}. "
                        f"Columns available: {list(data.columns)}") from None
    except DataMismatchWarning as warning:
        raise DataError(f"the new data do not fit the formula '{rhs}': {warning}; the model knows only the "
                        "levels it was fitted on") from None
    if len(matrix) < len(data):
        raise DataError(f"the formula '{rhs}' meets missing values in {len(data) - len(matrix)} of {len(data)} rows "
                        f"({_missing_by_column(data, matrix.model_spec.required_variables)}); drop or impute those "
                        "rows")
    intercept = "Intercept" in matrix.columns
    return matrix.drop(columns="Intercept") if intercept else matrix, intercept, matrix.model_spec


def _missing_by_column(data: pd.DataFrame, variables) -> str:
    """``"a: 2, g: 1"``: the missing values of the data's columns among a formula's ``variables``."""
    counts = data[[c for c in data.columns if c in variables]].isna().sum()
    return _describe_counts(counts[counts > 0]) or "after evaluation"
