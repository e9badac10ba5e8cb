"""Rank check of a design before maximum likelihood.

Works on the small (P, P) weighted Gram matrix, accumulated over row blocks, so it costs one pass
over the data (a symmetric rank-k update) rather than a QR factorisation of the whole design. Designs of
many rows (:data:`SCREEN_MIN_ROWS`) are first screened on a systematic sample of about 1 % of the rows and the
columns' variances, which proves full rank for a fraction of that cost in all but nearly dependent designs (see
:func:`_screen_proves_full_rank`); a model's construction gathers both in the pass that checks its values
(:func:`column_sums`), so that the screen then reads no rows.

Constant columns are found first: beside an intercept each duplicates it, and without one a
column can only be "constant" by being all zero. Otherwise the Gram matrix of the centred (with an
intercept) columns, scaled to unit diagonal, is decomposed; its eigenvalues below
``_RELATIVE_EIGENVALUE`` times the largest span the null space, of dimension ``r``: ``r`` columns
must go. The columns with a weight above ``_INVOLVED`` (relative to the largest) in the projector
onto the null space are the ones involved, and they split into *groups* that the null space does
not connect (the projector is block diagonal over them): ``a = 2 b`` and ``c = d + e`` are two
groups, and one column of each must go.
"""

from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh

from bayeslogit.checks import check_count
from bayeslogit.numerics import fused
from bayeslogit.numerics.design import Design

SCREEN_MIN_ROWS = 20_000
"""Designs with at least this many rows are screened on a subset of rows before the full check."""
_SCREEN_SHARE = 0.01  # the screen's share of the rows ...
_SCREEN_ROWS_PER_COLUMN = 50  # ... but at least this many per column
_RELATIVE_EIGENVALUE = 1e-10  # condition number of the scaled Gram matrix above which columns are dependent
_INVOLVED = 0.05  # a column is involved when its weight in the null space exceeds this share of the largest
_CONNECTED = 1e-3  # two columns are in one group when their projector entry exceeds this share of its scale
_WHERE_ALL = "all are in CollinearityError.columns"
_CONSTANT = {  # what constant columns are, for one column and for several
    "constant": ("is constant, so it duplicates the intercept", "are constant, so they duplicate the intercept"),
    "zero": ("is all zero", "are all zero"),
}


@dataclass(frozen=True)
class Collinearity:
    """Columns of a design without full column rank.

    Attributes
    ----------
    kind : {"constant", "zero", "dependent"}
        ``"constant"``: columns constant beside an intercept, each a copy of it; ``"zero"``:
        all-zero columns of a design without an intercept; ``"dependent"``: a linear dependence
        among non-constant columns.
    columns : tuple of str
        The columns involved, in design order.
    groups : tuple of tuple of str
        ``columns`` split into groups that no dependence connects; a constant or zero column is
        a group of its own.
    n_drop : tuple of int, one per group
        How many columns of each group must go (the dimension of its null space): 1 when any
        one of them will do.
    """

    kind: str
    columns: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]
    n_drop: tuple[int, ...]

    @property
    def n_redundant(self) -> int:
        """How many columns must go to restore full rank."""
        return sum(self.n_drop)

    def describe(self, max_names: int = 5) -> str:
        """What is wrong and what to drop, naming at most ``max_names`` columns.

        For example ``"'a' and 'b' are linearly dependent: drop one of them"`` or
        ``"'px0', 'px32' and 'px39' are constant, so they duplicate the intercept: drop all of them"``.
        """
        max_names = check_count("max_names", max_names, 1)
        names, n = _names(self.columns, max_names), len(self.columns)
        if self.kind in _CONSTANT:
            what = _CONSTANT[self.kind][n > 1]
            return f"{names} {what}: drop {'it' if n == 1 else 'both' if n == 2 else 'all of them'}"
        if len(self.groups) == 1 or len(self.columns) > max_names:
            if self.n_redundant == 1:
                return f"{names} are linearly dependent: drop one of them"
            return (
                f"{names} are linearly dependent in {self.n_redundant} independent ways: drop "
                f"{self.n_redundant} of them, chosen so that the rest are independent"
            )
        groups = [_names(g, max_names) for g in self.groups]
        picks = [f"{'one' if k == 1 else k} of {g}" for g, k in zip(groups, self.n_drop)]
        caveat = " (chosen so that the rest are independent)" if max(self.n_drop) > 1 else ""
        return (
            f"{groups[0]} are linearly dependent, and so are {', and so are '.join(groups[1:])}, so "
            f"{self.n_redundant} columns must go: {', and '.join(picks)}{caveat}"
        )


@dataclass(frozen=True)
class ColumnSums:
    """What the pass that checks a design's values gathers for its rank check (:func:`column_sums`).

    Attributes
    ----------
    first, second : ndarray of shape (n_features,)
        ``sum_i w_i x_ij`` and ``sum_i w_i x_ij^2``.
    screen_gram : ndarray of shape (n_features + 1, n_features + 1) or None
        ``sum_i w_i z_i z_i^T``, ``z_i = [1, x_i]``, over the rows that the screen of many rows reads (every
        :func:`screen_step`-th), where the pass computed it.
    """

    first: np.ndarray
    second: np.ndarray
    screen_gram: np.ndarray | None = None


def column_sums(X: np.ndarray, weights: np.ndarray) -> ColumnSums:
    """The weighted sums of the columns of ``X`` (n, p) and of their squares (``weights`` (n,)), in one pass over the
    rows, and on data passed fused (:func:`~bayeslogit.numerics.fused.fused_applies`) of :data:`SCREEN_MIN_ROWS` rows
    or more the screen's Gram matrix, from the same pass (the screen's rows are then read from the cache). Non-finite
    values propagate."""
    n, p = X.shape
    if n >= SCREEN_MIN_ROWS and fused.fused_applies(X.size):
        return ColumnSums(*fused.column_moments(X, weights, np.zeros(p), screen_step(n, p)))
    return ColumnSums(*Design(X, False).moments(weights, np.zeros(p)))


def screen_step(n_samples: int, n_features: int) -> int:
    """The screen of a design of ``n_samples`` rows reads rows ``0, k, 2k, ...``: about a share ``_SCREEN_SHARE`` of
    them, and at least ``_SCREEN_ROWS_PER_COLUMN`` per column."""
    screened = max(_SCREEN_SHARE * n_samples, _SCREEN_ROWS_PER_COLUMN * n_features)
    return max(1, int(n_samples // screened))


def _names(columns: tuple[str, ...], max_names: int) -> str:
    """ "'a'", "'a' and 'b'", "'a', 'b' and 'c'", or "7 columns ('a', ... and 2 more; ...)"."""
    quoted = [repr(str(c)) for c in columns]
    if len(quoted) > max_names:
        shown = ", ".join(quoted[:max_names])
        return f"{len(quoted)} columns ({shown} and {len(quoted) - max_names} more; {_WHERE_ALL})"
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def find_collinearity(
    design: Design, weights: np.ndarray, names: tuple[str, ...], column_sums: ColumnSums | None = None
) -> Collinearity | None:
    """Columns of the design that are constant, or linearly dependent on each other.

    Parameters
    ----------
    design : Design
        The design, with ``n_features`` columns besides the intercept.
    weights : ndarray of shape (n_samples,)
        Case weights, non-negative.
    names : tuple of str of length n_features
        Column names.
    column_sums : ColumnSums, optional
        The columns' sums (:func:`column_sums`) where already at hand: the screen of many rows then takes the
        columns' variances from them rather than from a pass of its own, where that is exact enough (see
        :func:`_variances`), and its Gram matrix where they hold it.

    Returns
    -------
    Collinearity or None
        None when the design (intercept included) has full column rank. Constant (or zero)
        columns are reported first; the dependences among the others only once they are gone.
    """
    if not names or (design.n_samples >= SCREEN_MIN_ROWS and _screen_proves_full_rank(design, weights, column_sums)):
        return None
    gram = design.gram(weights)
    if not np.all(np.isfinite(gram)):  # squares of huge columns overflow; the rank does not depend on their scale
        largest = np.abs(design.X).max(axis=0)
        gram = Design(design.X / np.where(largest > 0, largest, 1.0), design.intercept).gram(weights)
    return collinearity_of_gram(gram, design.intercept, names)


def collinearity_of_gram(gram: np.ndarray, intercept: bool, names: tuple[str, ...]) -> Collinearity | None:
    """:func:`find_collinearity` from the design's weighted Gram matrix.

    Parameters
    ----------
    gram : ndarray of shape (P, P)
        ``Z^T diag(weights) Z`` of the design ``Z = [1, X]`` (``X`` without an intercept), finite; its columns
        may be scaled by any positive factors, which the rank check does not see.
    intercept : bool
    names : tuple of str of length n_features
    """
    if not names:
        return None
    names = tuple(str(n) for n in names)
    norms = np.sqrt(np.diag(gram))
    norms = np.where(norms > 0, norms, 1.0)
    gram = gram / np.outer(norms, norms)  # unit diagonal, so that the Schur complement cannot overflow
    start = int(intercept)
    inner = gram[start:, start:]
    if intercept:  # the Gram matrix of the centred columns (Schur complement of the intercept)
        inner = inner - np.outer(gram[0, 1:], gram[0, 1:]) / gram[0, 0]
    variance = np.diag(inner)
    constant = variance <= 1e-12 * np.maximum(np.diag(gram[start:, start:]), np.finfo(float).tiny)
    if constant.any():
        columns = tuple(n for n, c in zip(names, constant) if c)
        return Collinearity(
            "constant" if intercept else "zero", columns, tuple((c,) for c in columns), (1,) * len(columns)
        )
    scale = np.sqrt(variance)
    values, vectors = eigh(inner / np.outer(scale, scale))
    null = vectors[:, values <= _RELATIVE_EIGENVALUE * values[-1]]
    if null.shape[1] == 0:
        return None
    from scipy.sparse.csgraph import connected_components

    projector = null @ null.T  # (p, p), onto the null space
    weight = np.sqrt(np.diag(projector))
    involved = np.flatnonzero(weight > _INVOLVED * weight.max())
    block = projector[np.ix_(involved, involved)]
    linked = np.abs(block) > _CONNECTED * np.outer(weight[involved], weight[involved])
    n_groups, label = connected_components(linked, directed=False)
    groups = [involved[label == g] for g in range(n_groups)]
    groups.sort(key=lambda g: g[0])
    n_drop = tuple(max(1, round(float(np.trace(projector[np.ix_(g, g)])))) for g in groups)
    return Collinearity(
        "dependent", tuple(names[j] for j in involved), tuple(tuple(names[j] for j in g) for g in groups), n_drop
    )


def _screen_proves_full_rank(design: Design, weights: np.ndarray, column_sums: ColumnSums | None = None) -> bool:
    """Whether every k-th row (a share ``_SCREEN_SHARE`` of them) proves that :func:`find_collinearity` finds nothing.

    With ``S`` the Gram matrix of the centred columns (with an intercept; of the columns without one) and
    ``D = diag(S)^-1/2``, the full check flags columns when ``D S D``, of unit diagonal and so of largest
    eigenvalue at most ``p``, has an eigenvalue at most ``_RELATIVE_EIGENVALUE`` times its largest. The rows
    of a subset, with their own weights, give ``S_sub <= S`` (a sum of fewer non-negative terms, minimised
    over the centre), so ``lambda_min(D S_sub D) <= lambda_min(D S D)``: when the former exceeds
    ``_RELATIVE_EIGENVALUE * p``, the full check would find neither dependent nor (having the exact ``diag(S)``
    from one pass over all rows) constant columns. Otherwise, or when anything overflows, the caller runs the
    full check, so the screen can neither miss a dependence nor report one that is not there.
    """
    every = slice(None, None, screen_step(design.n_samples, design.X.shape[1]))
    with np.errstate(over="ignore", invalid="ignore"):  # squares of huge columns: the full check rescales them
        if column_sums is not None and column_sums.screen_gram is not None:
            gram = column_sums.screen_gram[1 - design.intercept :, 1 - design.intercept :]
        else:
            gram = design.take(every).gram(weights[every])
        start = int(design.intercept)
        inner = gram[start:, start:]
        center = gram[0, 1:] / gram[0, 0] if design.intercept and gram[0, 0] > 0 else np.zeros(inner.shape[0])
        if design.intercept:
            inner = inner - np.outer(gram[0, 1:], center)
        variance, squares = _variances(design, weights, center, column_sums)
    if not (np.all(np.isfinite(inner)) and np.all(np.isfinite(squares))):
        return False
    if np.any(variance <= 1e-12 * np.maximum(squares, np.finfo(float).tiny)):
        return False
    scale = 1.0 / np.sqrt(variance)
    smallest = eigh(inner * np.outer(scale, scale), eigvals_only=True, subset_by_index=[0, 0])[0]
    return smallest > _RELATIVE_EIGENVALUE * len(scale)


_CANCELLATION = 1e4
"""Largest ``sum w x^2 / (sum w) / variance`` (about ``1 + mean^2 / variance``) at which a column's variance is taken
from its sums about zero: their rounding, a few ``eps`` of ``sum w x^2``, is then below ``1e-11`` of the variance."""


def _variances(design: Design, weights: np.ndarray, center: np.ndarray, column_sums: ColumnSums | None) -> tuple:
    """``diag(S)`` over all rows (n_features,): the columns' weighted sums of squared deviations from their means
    (with an intercept; of squares without one), and their weighted sums of squares ``sum w x^2``.

    From ``column_sums`` (sums of ``w x`` and ``w x^2``) where no column loses more than ``1 / _CANCELLATION`` of
    its digits to cancellation; else from a pass over the rows about ``center``, near the means."""
    total = weights.sum()
    if column_sums is not None:
        first, squares = column_sums.first, column_sums.second
        variance = squares - first**2 / total if design.intercept else squares
        if np.all(squares <= _CANCELLATION * variance):
            return variance, squares
    first, second = design.moments(weights, center)
    variance = second - first**2 / total if design.intercept else second
    return variance, second + 2 * center * first + total * center**2
