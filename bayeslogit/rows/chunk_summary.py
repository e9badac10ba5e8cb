"""What one pass over dask rows finds, chunk by chunk: the problems :mod:`bayeslogit.rows.in_memory` would refuse
(NaN or infinite values, missing or fractional labels, bad weights), the class labels, each column's scale, weighted
mean and sum of squared deviations, and the Gram matrix of the rank check; merged over the chunks in a tree.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayeslogit.exceptions import DataError
from bayeslogit.numerics.column_moments import weighted_moments
from bayeslogit.numerics.design import Design
from bayeslogit.rows.validation import MESSAGES, check_scales, check_total_weight, describe_rows

_NONE = np.iinfo(np.int64).max  # the "first row" of a problem that no row has


@dataclass(frozen=True)
class Summary:
    """What one pass over some rows finds.

    ``nan`` and ``inf``: (n_features, 2) per column, the rows with NaN (infinite values) and the first of them
    (:data:`_NONE` when none); ``missing``: the same for the labels. ``fraction``: a non-integer float label, or
    None. ``labels``: the distinct labels, and ``label_weights`` their weight sums. ``bad_weight``: a negative or
    non-finite weight, or None. ``scale`` (n_features,): each column's largest absolute value; ``gram``: the
    Gram matrix of ``[1, X / scale]`` (see :attr:`~bayeslogit.rows.chunked.ChunkedData.gram`).
    ``mean`` and ``squares`` (n_features,): each
    column's weighted mean and weighted sum of squared deviations from it, merged by Chan et al.'s pairwise update
    (no cancellation, whatever the columns' offsets).
    """

    nan: np.ndarray
    inf: np.ndarray
    missing: np.ndarray
    fraction: float | None
    labels: np.ndarray
    label_weights: np.ndarray
    bad_weight: float | None
    total_weight: float
    scale: np.ndarray
    gram: np.ndarray
    mean: np.ndarray
    squares: np.ndarray


def _problem_rows(mask: np.ndarray, start: int) -> np.ndarray:
    """Per column of ``mask`` (n, ...): how many rows are flagged and the first (:data:`_NONE` when none)."""
    count = mask.sum(axis=0)
    first = np.where(count > 0, start + mask.argmax(axis=0), _NONE)
    return np.stack([count, first], axis=-1)


def summarize(start: int, X: np.ndarray, y: np.ndarray, weights: np.ndarray) -> Summary:
    """The :class:`Summary` of one chunk whose first row is ``start``."""
    X = np.asarray(X, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(np.add.reduce(X.ravel()))  # a finite sum has finite terms
        scale = np.abs(X).max(axis=0, initial=0.0)
        gram = Design(X / np.where(scale > 0, scale, 1.0), True).gram(weights)
        total, mean, squares = weighted_moments(X, weights)
    clean = np.zeros((X.shape[1], 2), dtype=np.int64) + [0, _NONE]
    missing = pd.isna(y)
    labels = y[~missing]
    fraction = None
    if labels.dtype.kind == "f" and np.any(labels != np.round(labels)):
        fraction = labels[labels != np.round(labels)][0]
    codes, distinct = pd.factorize(labels)
    bad = ~np.isfinite(weights) | (weights < 0)
    return Summary(
        clean if finite else _problem_rows(np.isnan(X), start),
        clean if finite else _problem_rows(np.isinf(X), start),
        _problem_rows(missing, start),
        fraction,
        np.asarray(distinct),
        np.bincount(codes, weights[~missing], minlength=len(distinct)),
        weights[bad][0] if bad.any() else None,
        total,
        scale,
        gram,
        mean,
        squares,
    )


def _merge_rows(*counts: np.ndarray) -> np.ndarray:
    stacked = np.stack(counts)
    return np.stack([stacked[..., 0].sum(axis=0), stacked[..., 1].min(axis=0)], axis=-1)


def merge(*parts: Summary) -> Summary:
    """The :class:`Summary` of the rows of all ``parts``."""
    codes, labels = pd.factorize(np.concatenate([part.labels for part in parts]))
    label_weights = np.bincount(codes, np.concatenate([part.label_weights for part in parts]), minlength=len(labels))
    scale = np.max([part.scale for part in parts], axis=0)
    gram = 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite or huge values, which _check refuses
        for part in parts:  # each part's columns were divided by its own scale; bring them to the common one
            ratio = np.concatenate([[1.0], np.where(part.scale > 0, part.scale, 1.0) / np.where(scale > 0, scale, 1.0)])
            gram = gram + part.gram * np.outer(ratio, ratio)
        total, mean, squares = 0.0, parts[0].mean, parts[0].squares * 0.0
        for part in (part for part in parts if part.total_weight > 0):  # Chan, Golub & LeVeque's pairwise update
            combined = total + part.total_weight
            delta = part.mean - mean
            mean = mean + delta * part.total_weight / combined
            squares = squares + part.squares + delta**2 * total * part.total_weight / combined
            total = combined
    first = next((value for value in (part.fraction for part in parts) if value is not None), None)
    bad = next((value for value in (part.bad_weight for part in parts) if value is not None), None)
    return Summary(
        _merge_rows(*(part.nan for part in parts)),
        _merge_rows(*(part.inf for part in parts)),
        _merge_rows(*(part.missing for part in parts)),
        first,
        np.asarray(labels),
        label_weights,
        bad,
        sum(part.total_weight for part in parts),
        scale,
        gram,
        mean,
        squares,
    )


def checked_classes(summary: Summary, names: tuple) -> np.ndarray:
    """Raise the first problem of the summarised rows, in :func:`bayeslogit.rows.in_memory.prepare`'s order; else
    return the sorted class labels."""
    flagged = np.flatnonzero(summary.nan[:, 0] + summary.inf[:, 0])
    if flagged.size:  # the first column with NaN or infinite values, as in memory
        problem, rows = ("NaN", summary.nan) if summary.nan[flagged[0], 0] else ("infinite values", summary.inf)
        raise DataError(
            MESSAGES["x_values"].format(
                problem=problem, column=names[flagged[0]], rows=describe_rows(*rows[flagged[0]])
            )
        )
    if summary.missing[0]:
        raise DataError(MESSAGES["y_missing"].format(rows=describe_rows(*summary.missing)))
    if summary.fraction is not None:
        raise DataError(MESSAGES["y_fraction"].format(example=summary.fraction))
    codes, classes = pd.factorize(summary.labels, sort=True)
    classes = np.asarray(classes)
    if len(classes) < 2:
        raise DataError(MESSAGES["y_single"].format(label=classes.tolist()[0]))
    if summary.bad_weight is not None:
        raise DataError(MESSAGES["w_values"].format(example=summary.bad_weight))
    if summary.total_weight == 0:
        raise DataError(MESSAGES["w_zero"])
    check_total_weight(summary.total_weight)
    unweighted = classes[np.bincount(codes, summary.label_weights, minlength=len(classes)) == 0]
    if unweighted.size:
        raise DataError(MESSAGES["w_class"].format(classes=unweighted.tolist()))
    with np.errstate(over="ignore", invalid="ignore"):
        squares = summary.squares + summary.total_weight * summary.mean**2  # sum w x^2
    check_scales(squares, names, lambda j: summary.scale[j])
    return classes
