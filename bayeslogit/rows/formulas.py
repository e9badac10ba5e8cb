"""Formulas: the response and right-hand side of ``"y ~ a + b"``, checked against the data's columns; the rows with
missing values among the columns a formula reads; and the model matrix that formulaic expands, of the training rows
and of new ones.

Whatever formulaic cannot parse or evaluate is told as a :class:`~bayeslogit.exceptions.FormulaError` naming the
formula and what to write instead (:mod:`bayeslogit.rows.formula_names`); new rows that lack a column, miss values or
hold category levels the model was not fitted on, as a DataError naming the column. formulaic is imported on first use,
so that models of arrays never load it.
"""

import re
import warnings

import numpy as np
import pandas as pd

from bayeslogit.checks import check_choice
from bayeslogit.exceptions import DataError, DataTypeError, FormulaError, OptionError
from bayeslogit.rows.counts import cbind_arguments, outcome_names, response_names
from bayeslogit.rows.formula_names import (
    check_names,
    checked_names,
    first_line,
    not_a_column_message,
    read_names,
    split_outside_quotes,
    unquote,
)


def split_formula(formula: str, data: pd.DataFrame) -> tuple[str, str]:
    """The response column and the right-hand side of ``"y ~ a + b"``, checked against ``data``'s columns.

    Parameters
    ----------
    formula : str
        ``"response ~ predictors"``; names that are not Python identifiers are written in backticks, on either side.
    data : pandas or dask DataFrame

    Returns
    -------
    response : str
        The response column's name, without backticks; or a binomial response ``cbind(successes, failures)`` as
        written (see :mod:`bayeslogit.rows.counts`).
    rhs : str
        The right-hand side, parsed by formulaic without error.

    Raises
    ------
    DataTypeError
        When ``data`` is not a data frame.
    OptionError
        When ``formula`` is not a string.
    FormulaError
        When the formula has no single ``~``, its response is not a column (nor ``cbind`` of two expressions of
        columns), its right-hand side cannot be parsed,
        reads names that are not columns, reads the response, or uses ``.`` or ``|``.
    """
    if not hasattr(data, "columns"):
        raise DataTypeError(f"data must be a pandas DataFrame (or a dask DataFrame); got {type(data).__name__}")
    if not isinstance(formula, str):
        raise OptionError(f"formula must be a string such as 'y ~ a + b'; got {type(formula).__name__}")
    sides = split_outside_quotes(formula, "~")
    if len(sides) != 2:
        raise FormulaError(
            f"the formula {formula!r} has {len(sides) - 1} '~'; a formula has one, between the response "
            f"and the predictors, e.g. '{sides[0].strip() or 'y'} ~ a + b' (a name that holds '~' is "
            "written in backticks)"
        )
    response, rhs = unquote(sides[0].strip()), sides[1].strip()
    columns = [str(column) for column in data.columns]
    if cbind_arguments(formula, response) is not None:
        response = sides[0].strip()
        unknown = sorted(response_names(formula, response) - set(columns))
        if unknown:
            raise FormulaError(
                f"the response {response!r} of the formula {formula!r} reads {unknown}, which are not columns of "
                f"the data; columns are {columns}"
            )
    elif response not in columns:
        raise FormulaError(not_a_column_message(formula, response, columns))
    variables = checked_names(formula, rhs, columns, response)
    check_names(formula, variables | response_names(formula, response), data)
    outcome = outcome_names(formula, response)
    if outcome & variables:
        what = f"response '{response}'" if outcome == {response} else f"successes' column(s) {sorted(outcome)}"
        raise FormulaError(
            f"the formula {formula!r} reads its {what} among the predictors, which would predict the classes from "
            "themselves; remove it from the right-hand side"
        )
    return response, rhs


def _refuse_missing(data: pd.DataFrame, weights, counts: pd.Series, rows: np.ndarray, formula: str):
    """Raise a DataError counting the missing values (``counts`` by column, ``rows`` the mask of rows)."""
    raise DataError(
        f"the formula '{formula}' reads missing values in {rows.sum()} of {len(data)} rows "
        f"({_describe_counts(counts)}); impute them, or pass missing='drop' to drop those rows"
    )


def _drop_missing(data: pd.DataFrame, weights, counts: pd.Series, rows: np.ndarray, formula: str):
    """The rows not marked in ``rows``, their weights and the dropped index labels, with a UserWarning."""
    if rows.all():
        raise DataError(
            f"every row of the data has a missing value in a column that the formula '{formula}' reads "
            f"({_describe_counts(counts)}); impute them, or choose other columns"
        )
    warnings.warn(
        f"dropped {rows.sum()} of {len(data)} rows with missing values in the columns that the formula "
        f"'{formula}' reads ({_describe_counts(counts)}); their index labels are in model.dropped_rows",
        UserWarning,
        stacklevel=4,
    )
    if weights is not None and np.shape(weights) == (len(data),):
        weights = np.asarray(weights)[~rows]
    return data[~rows], weights, data.index[rows]


MISSING = {"raise": _refuse_missing, "drop": _drop_missing}
"""What ``from_formula(..., missing=)`` does with rows that have missing values in the columns a formula reads."""


def handle_missing(response: str, rhs: str, data: pd.DataFrame, weights, missing: str):
    """The rows of ``data`` (and their ``weights``) without missing values in the columns that the formula
    ``response ~ rhs`` (checked by :func:`split_formula`) reads (:func:`read_names`), as ``missing`` says:
    ``"raise"`` refuses such rows, ``"drop"`` drops them with a UserWarning. Both count the missing values of each
    column.

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
        ``missing="raise"`` and missing values, or every row dropped.
    """
    policy = MISSING[check_choice("missing", missing, MISSING)]
    isna = _read_columns(data, read_names(rhs) | response_names(f"{response} ~ {rhs}", response)).isna()
    rows = isna.any(axis=1).to_numpy()
    if not rows.any():
        return data, weights, data.index[:0]
    counts = isna.sum()
    return policy(data, weights, counts[counts > 0], rows, f"{response} ~ {rhs}")


def data_names(spec) -> set[str]:
    """The data columns that a fitted formula's model spec reads (those of stateful transforms included)."""
    return {str(name) for name in spec.variables_by_source.get("data", ())}


def _read_columns(data: pd.DataFrame, variables) -> pd.DataFrame:
    """The columns of ``data`` among the names ``variables``, in the data's order."""
    return data.loc[:, [str(column) in variables for column in data.columns]]


def _describe_counts(counts: pd.Series) -> str:
    """``"a: 2, g: 1"``."""
    return ", ".join(f"{column}: {count}" for column, count in counts.items())


def design_from_formula(rhs: str, data: pd.DataFrame, spec=None, na_action: str = "ignore"):
    """Model matrix of a right-hand side (checked by :func:`split_formula`) through formulaic; ``spec`` re-applies a
    fitted one to new rows.

    ``na_action="ignore"`` keeps the rows where a term evaluates to NaN (the log of a negative value), for the
    caller to report by design column; the missing values of the data's columns are refused before (by
    :func:`handle_missing` for the training rows, here for new rows).

    Returns
    -------
    X : DataFrame of shape (n_samples, n_features), without the intercept column
    intercept : bool
    spec : formulaic ModelSpec

    Raises
    ------
    FormulaError
        When a term cannot be evaluated on the data (a function of a column of the wrong type).
    DataError
        When new rows lack a column the formula reads, have missing values in one, or hold a category level
        that the model was not fitted on.
    """
    from formulaic import model_matrix
    from formulaic.errors import DataMismatchWarning, FormulaicError

    if spec is not None:
        _check_new_rows(spec, data, rhs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataMismatchWarning)
            matrix = model_matrix(rhs, data, na_action=na_action) if spec is None else spec.get_model_matrix(data)
    except FormulaicError as error:
        types = ", ".join(f"{c}: {t}" for c, t in _read_columns(data, read_names(rhs)).dtypes.items())
        raise FormulaError(
            f"cannot evaluate the formula '{rhs}' on the data: {first_line(error)}. Check that each "
            f"function applies to its columns{f' ({types})' if types else ''}, or transform the "
            "columns before the formula reads them"
        ) from None
    except DataMismatchWarning as warning:
        raise DataError(
            f"the new data do not fit the formula '{rhs}': {warning}; the model knows only the levels it was fitted on"
        ) from None
    if len(matrix) < len(data):
        raise DataError(
            f"the formula '{rhs}' meets missing values in {len(data) - len(matrix)} of {len(data)} rows "
            "after evaluating its terms; drop or impute those rows"
        )
    if spec is None:
        _check_transformed(rhs, data, matrix.model_spec)
    intercept = "Intercept" in matrix.columns
    return matrix.drop(columns="Intercept") if intercept else matrix, intercept, matrix.model_spec


def _check_transformed(rhs: str, data: pd.DataFrame, spec) -> None:
    """Raise a DataError for missing values in the columns that only the evaluation of ``rhs`` showed it reads
    (the arguments of stateful transforms, ``center(a)``), which :func:`handle_missing` could not see."""
    isna = _read_columns(data, data_names(spec) - read_names(rhs)).isna()
    if isna.to_numpy().any():
        counts = isna.sum()
        raise DataError(
            f"the formula '{rhs}' reads missing values through a transform "
            f"({_describe_counts(counts[counts > 0])}); impute them, or drop those rows before the formula "
            "reads them"
        )


def _check_new_rows(spec, data: pd.DataFrame, rhs: str) -> None:
    """Raise a DataError when new rows lack a column that a fitted formula reads, have missing values in one, or
    hold category levels (of a column read as ``g`` or ``C(g, ...)``) that the model was not fitted on."""
    variables = data_names(spec)
    absent = sorted(variables - {str(column) for column in data.columns})
    if absent:
        raise DataError(
            f"the new rows lack the column(s) {absent} that the formula '{rhs}' reads; columns are "
            f"{[str(column) for column in data.columns]}"
        )
    isna = _read_columns(data, variables).isna()
    if isna.to_numpy().any():
        counts = isna.sum()
        raise DataError(
            f"the new rows have missing values in the columns that the formula '{rhs}' reads "
            f"({_describe_counts(counts[counts > 0])}); drop or impute those rows"
        )
    for factor, (kind, state) in spec.encoder_state.items():
        column = _column_of_factor(str(factor), data)
        if kind is not type(kind).CATEGORICAL or column is None:
            continue
        known = pd.Index(state["categories"])
        rows = ~data[column].isin(known).to_numpy()
        if rows.any():
            unseen = pd.unique(data[column][rows]).tolist()
            raise DataError(
                f"column '{column}' of the new rows holds level(s) {unseen} that the model was not fitted "
                f"on ({rows.sum()} of {len(data)} rows); it knows {known.tolist()}. Map those rows onto "
                "known levels, or drop them"
            )


def _column_of_factor(factor: str, data: pd.DataFrame) -> str | None:
    """The data column that a categorical factor reads as is (``g``, ``C(g)``, ``C(g, levels=...)``), else None."""
    columns = {str(column) for column in data.columns}
    if factor in columns:
        return factor
    match = re.fullmatch(r"C\(\s*(`[^`]+`|[^\s,()`]+)\s*(?:,.*)?\)", factor, flags=re.DOTALL)
    name = unquote(match.group(1)) if match else None
    return name if name in columns else None
