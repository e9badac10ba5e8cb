"""Numbers as the tables show them: the one place that chooses their digits.

Each cell of a table is formatted once, here, and both its text form and its HTML form lay out the same strings. A
missing value (NaN) is :data:`MISSING`; a count (an effective sample size reads as one) is whole; a figure judged
against a threshold of its own (R-hat, Pareto k-hat) has the digits that its threshold needs (:data:`FIXED`); any
other column of numbers shows the decimals it was rounded to (a column rounded to 2 decimals shows 2; up to
:data:`ROUNDED_DECIMALS`), or else the
decimals that give its largest magnitude :data:`SIGNIFICANT` significant digits (:data:`ROUGH` for Monte Carlo
errors) and its smallest nonzero one at least one, at most :data:`MOST_DECIMALS`, and powers of ten where
:data:`MOST_DECIMALS` decimals would show a value as 0.
"""

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

MISSING = "-"
COUNTS = frozenset(
    {
        *("ess_bulk", "ess_tail", "ess_folded", "ess_mean", "ess_sd", "ess_median", "ess_bulk_min", "ess_tail_min"),
        *("n_iter", "chains", "draws", "divergences", "high_pareto_k", "loo_rows", "singular_terms"),
    }
)
"""Quantities shown as whole numbers, wherever they appear."""
FIXED = {"r_hat": "{:.3f}", "r_hat_max": "{:.3f}", "khat": "{:.2f}", "khat_se": "{:.2f}", "shift_max": "{:.2f}"}
"""Quantity -> its format, wherever it appears: R-hat is judged against 1.01, k-hat against 0.7, a shift against 0.2."""
SIGNIFICANT = 4
ROUGH = 2
ROUGH_COLUMNS = frozenset({"mcse_mean", "mcse_sd", "mcse_median", "prior_se", "likelihood_se"})
"""Monte Carlo errors of other figures, which need two significant digits, not four."""
MOST_DECIMALS = 6
ROUNDED_DECIMALS = 4
"""A column whose values are exact at this many decimals or fewer was rounded there (``.round(4)``): it shows them."""


def figure(value: float, spec: str) -> str:
    """``value`` formatted by ``spec`` (e.g. ``"{:.4f}"``), :data:`MISSING` when it is NaN."""
    return MISSING if pd.isna(value) else spec.format(value)


def spec_of(name, default: str) -> str:
    """The format of the quantity ``name``: whole for :data:`COUNTS`, its own for :data:`FIXED`, else ``default``."""
    if name in COUNTS:
        return "{:.0f}"
    return FIXED.get(name, default)


def column(name, values: pd.Series) -> list[str]:
    """The cells of a column ``name`` holding ``values`` (n,): one string each.

    Numbers are formatted as the module's docstring says; booleans and text as they are written (``str``), with
    :data:`MISSING` for a missing entry.
    """
    values = pd.Series(values)
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return [MISSING if _missing(value) else str(value) for value in values]
    if pd.api.types.is_integer_dtype(values):
        return [MISSING if pd.isna(value) else str(value) for value in values]
    numbers = values.to_numpy(dtype=float)
    if name in COUNTS or name in FIXED:
        spec = spec_of(name, "")
    else:
        spec = decimals_spec(numbers, ROUGH if name in ROUGH_COLUMNS else SIGNIFICANT)
    return [figure(value, spec) for value in numbers]


def decimals_spec(values: np.ndarray, significant: int) -> str:
    """The format of a column of ``values`` (n,): its largest magnitude to ``significant`` digits, and its smallest
    nonzero one to at least one (an estimate of 1.946 beside one of -0.006, as a table of estimates reads).

    Fixed decimals: those the values were rounded to, if they were (to at most :data:`ROUNDED_DECIMALS`), else
    as many as said above, at most :data:`MOST_DECIMALS`; ``"{:.<significant-1>e}"`` when the smallest magnitude
    would show as 0 with :data:`MOST_DECIMALS` decimals; ``"{:.0f}"`` for a column without a finite nonzero value.
    """
    finite = values[np.isfinite(values)]
    magnitudes = np.abs(finite[finite != 0])
    if magnitudes.size == 0:
        return "{:.0f}"
    rounded = next((d for d in range(ROUNDED_DECIMALS + 1) if _exact(finite, d)), None)
    if rounded is not None:
        return f"{{:.{rounded}f}}"
    smallest = magnitudes.min()
    if smallest < 0.5 * 10.0**-MOST_DECIMALS:
        return f"{{:.{significant - 1}e}}"
    largest = significant - 1 - math.floor(math.log10(magnitudes.max()))
    return f"{{:.{min(max(largest, -math.floor(math.log10(smallest)), 0), MOST_DECIMALS)}f}}"


def _exact(values: np.ndarray, decimals: int) -> bool:
    """Whether every value equals itself rounded to ``decimals`` (to rounding): a column rounded that far."""
    return bool(np.all(np.isclose(np.round(values, decimals), values, rtol=1e-12, atol=0.0)))


def _missing(value) -> bool:
    return pd.api.types.is_scalar(value) and bool(pd.isna(value))


def labels(values: Iterable) -> list[str]:
    """Row or column labels as shown: ``str`` of each, a tuple's parts joined by spaces."""
    return [" ".join(map(str, value)) if isinstance(value, tuple) else str(value) for value in values]
