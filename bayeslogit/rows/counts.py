"""Binomial responses: successes and failures of trials, as R's ``cbind(successes, failures) ~ x`` writes them, or an
array of two columns; checked here, once, and expanded into the rows of the likelihood
(:class:`~bayeslogit.numerics.observations.BinomialCounts`).

A binomial model is a Bernoulli model of the classes :data:`CLASSES`, the event ``"success"``. A row of zero trials
is refused (it says nothing of the probability; drop it), as are negative, fractional, missing and infinite counts,
each error naming the column, the rows and the fix. formulaic evaluates the arguments of ``cbind`` (a column, or an
expression of columns such as ``size - incidence``) and is imported on first use. The predictors may read the columns
of the failures (the trials, ``size``), not those of the successes. Counts of new rows score a binary model's
predictions per trial (:func:`held_out`).
"""

import re

import numpy as np
import pandas as pd

from bayeslogit.exceptions import DataError, FormulaError
from bayeslogit.numerics.observations import BinomialCounts
from bayeslogit.rows.formula_names import first_line, read_names
from bayeslogit.rows.validation import describe_mask

CLASSES = np.array(["failure", "success"], dtype=object)
"""The classes of a binomial model: ``classes_[1]``, the event, is a success."""

_CBIND = re.compile(r"cbind\s*\((.*)\)", re.DOTALL)
_QUOTED = re.compile(r"(`[^`]*`)")  # a name in backticks, kept as a separate piece by re.split


def cbind_arguments(formula: str, response: str) -> tuple[str, str] | None:
    """The two arguments of a response ``cbind(successes, failures)``, or None when the response is not ``cbind``.

    Raises
    ------
    FormulaError
        When ``cbind`` does not have two arguments.
    """
    match = _CBIND.fullmatch(response.strip())
    if match is None:
        return None
    arguments = [argument.strip() for argument in _top_level(match.group(1))]
    if len(arguments) != 2 or not all(arguments):
        raise FormulaError(
            f"the response {response!r} of the formula {formula!r} gives cbind {len(arguments)} argument(s); a "
            "binomial response is cbind(successes, failures), e.g. 'cbind(incidence, size - incidence) ~ x'"
        )
    return arguments[0], arguments[1]


def _top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and backticks."""
    pieces, depth = [""], 0
    for i, piece in enumerate(_QUOTED.split(text)):
        if i % 2:  # a name in backticks, whole
            pieces[-1] += piece
            continue
        for char in piece:
            depth += (char in "([{") - (char in ")]}")
            if char == "," and depth == 0:
                pieces.append("")
            else:
                pieces[-1] += char
    return pieces


def response_names(formula: str, response: str) -> set[str]:
    """The data names that a response reads: its column, or the names of the arguments of ``cbind``."""
    arguments = cbind_arguments(formula, response)
    if arguments is None:
        return {response}
    return set().union(*(read_names(f"I({argument})") for argument in arguments))


def outcome_names(formula: str, response: str) -> set[str]:
    """The data names that the outcome is made of, which the predictors may not read: the response's column, or the
    names that the successes of ``cbind`` read (the trials, which only the failures read, may be a predictor)."""
    arguments = cbind_arguments(formula, response)
    return {response} if arguments is None else read_names(f"I({arguments[0]})")


def response_values(formula: str, response: str, data: pd.DataFrame):
    """The response of ``data``: its column, or for ``cbind`` a DataFrame of the two counts (n, 2), its columns
    named by the arguments.

    Raises
    ------
    FormulaError
        When an argument of ``cbind`` cannot be evaluated, or is not one column of numbers.
    """
    arguments = cbind_arguments(formula, response)
    if arguments is None:
        return data[response]
    return pd.DataFrame({argument: _evaluate(formula, argument, data) for argument in arguments}, index=data.index)


def class_totals(formula: str, response: str, data: pd.DataFrame) -> pd.Series:
    """How many of each class ``data`` holds, indexed by label: its rows of each label, or of a binomial response
    its failures and successes (trials)."""
    values = response_values(formula, response, data)
    if isinstance(values, pd.Series):
        return values.value_counts()
    return pd.Series(values.sum().to_numpy()[::-1], index=CLASSES)


def _evaluate(formula: str, argument: str, data: pd.DataFrame) -> np.ndarray:
    """The values (n,) of one argument of ``cbind`` in ``data``."""
    from formulaic import model_matrix

    try:
        matrix = model_matrix(f"0 + I({argument})", data, na_action="ignore")
    except Exception as error:  # formulaic's errors, and Python's of the expression it evaluates
        raise FormulaError(
            f"cannot evaluate {argument!r}, an argument of cbind in the formula {formula!r}: "
            f"{first_line(error)}; write counts as columns or arithmetic of columns, e.g. size - incidence"
        ) from None
    if matrix.shape[1] != 1 or not all(pd.api.types.is_numeric_dtype(t) for t in matrix.dtypes):
        raise FormulaError(
            f"{argument!r}, an argument of cbind in the formula {formula!r}, is not a column of counts "
            f"(it makes the columns {list(matrix.columns)}); give cbind numeric columns of successes and failures"
        )
    return matrix.to_numpy(dtype=float)[:, 0]


def is_counts(y) -> bool:
    """Whether ``y`` is a binomial response: two columns, of successes and failures."""
    return np.ndim(y) == 2 and np.shape(y)[1] == 2


def read_counts(y, n_samples: int) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
    """The successes and failures (each (n_samples,)) of a response of two columns, checked, and their names.

    Raises
    ------
    DataError
        For a number of rows other than ``n_samples``, values that are not numbers, and counts that are missing,
        infinite, negative or fractional, or rows of no trials; each message names the column, the rows and the fix.
    """
    names = tuple(map(str, y.columns)) if isinstance(y, pd.DataFrame) else ("successes", "failures")
    try:
        values = y.to_numpy(dtype=float, na_value=np.nan) if isinstance(y, pd.DataFrame) else np.asarray(y, float)
    except (TypeError, ValueError):
        raise DataError(
            "a binomial response must hold numbers, counts of successes and failures; got values that are not "
            "numbers. Convert them, e.g. with pandas.to_numeric"
        ) from None
    if len(values) != n_samples:
        raise DataError(f"X has {n_samples} rows but the counts have {len(values)}; give one row of counts per row")
    for j, name in enumerate(names):
        _check_count_column(values[:, j], name)
    trials = values.sum(axis=1)
    if np.any(trials == 0):
        raise DataError(
            f"{describe_mask(trials == 0)} have no trials ({names[0]} and {names[1]} both 0), which say nothing of the "
            "probability of success; drop those rows, e.g. data[data.successes + data.failures > 0]"
        )
    return values[:, 0], values[:, 1], names


def _check_count_column(values: np.ndarray, name: str) -> None:
    """Raise a DataError unless the counts ``values`` (n,) of column ``name`` are finite, non-negative and whole."""
    problems = (
        (np.isnan(values), "missing values", "drop or fill in those rows (from_formula: missing='drop')"),
        (np.isinf(values), "infinite values", "drop those rows"),
        (values < 0, "negative counts", "counts of successes and failures are 0 or more; correct or drop them"),
        (
            values != np.round(values),
            "fractional counts",
            "counts are whole numbers; for proportions of successes give cbind(successes, trials - successes)",
        ),
    )
    for mask, problem, fix in problems:
        if mask.any():
            example = "" if problem == "missing values" else f", such as {values[mask][0]:g}"
            raise DataError(f"the counts '{name}' hold {problem} ({describe_mask(mask)}{example}); {fix}")


def held_out(y, n_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New rows' binomial response ``y`` (n_samples, 2) as rows of the likelihood, to score a binary model's
    predictions per trial: the first column counts ``classes_[1]`` (success), the second ``classes_[0]``.

    Returns
    -------
    rows, codes, weights : ndarray of shape (n_rows,)
        The row of ``y`` of each row of the likelihood, its class code and its count.
    """
    successes, failures, _ = read_counts(y, n_samples)
    counts, codes, weights = BinomialCounts.expand(successes, failures, np.ones(n_samples))
    return counts.row_observation, codes, weights


def expand(y, n_samples: int, weights: np.ndarray) -> tuple[BinomialCounts, np.ndarray, np.ndarray]:
    """A binomial response ``y`` (n_samples, 2) of rows of ``weights`` (n_samples,) as rows of the likelihood.

    Returns
    -------
    counts : BinomialCounts
        Whose ``row_observation`` (n_rows,) picks each row's predictors.
    codes, row_weights : ndarray of shape (n_rows,)

    Raises
    ------
    DataError
        As :func:`read_counts`; and when no trial, or no weighted one, is a success or a failure (the coefficients
        would diverge).
    """
    successes, failures, names = read_counts(y, n_samples)
    for total, name, other in (
        (weights @ successes, names[0], "successes"),
        (weights @ failures, names[1], "failures"),
    ):
        if total == 0:
            raise DataError(
                f"no trial is counted among the {other} (the counts '{name}' are 0 in every row of positive weight), "
                "so the model cannot learn their probability and its coefficients diverge; model data with both"
            )
    return BinomialCounts.expand(successes, failures, weights)
