"""Detection of complete and quasi-complete separation by linear programming.

The maximum-likelihood estimate of a (binary or multinomial) logistic regression
fails to exist exactly when the log-likelihood has a *recession direction*: a
coefficient direction ``d != 0`` along which no observation's fitted probability
of its own class decreases and at least one increases. Write ``z_i`` for the
row ``(1, x_i)`` (or ``x_i`` without an intercept) and ``d_k`` for the direction
of class ``k``'s coefficients, with ``d_0 = 0`` for the reference class. A
recession direction satisfies the *margins*

    m_ik = z_i^T (d_{y_i} - d_k) >= 0   for every row i and every class k != y_i,

with ``sum m_ik > 0``. (For two classes this is ``s_i z_i^T d >= 0`` with
``s_i = +1/-1`` for ``y_i = 1/0``.) Following Konis (2007), the search is the
bounded linear program

    maximise sum m_ik   subject to   m_ik >= 0,   -1 <= d <= 1,

whose optimum is positive iff the data are separated. When it is, a second LP,
``maximise t subject to m_ik >= t, 0 <= t <= 1`` and the same box, tells
complete separation (``t* > 0``: every row strictly on its own side) from
quasi-complete separation. Both are solved by HiGHS through
:func:`scipy.optimize.linprog`. This is an exact test for the data given, not a
heuristic; its only approximation is the floating-point tolerance below.

Tolerance. The LPs run on standardised columns, shifted and scaled to
``[-1, 1]`` (midrange and half range with an intercept; divided by ``max |x|``
without), so that columns of any scale are treated alike; directions are mapped
back to the original scale. A direction in the box then has margins of at most
``q`` in absolute value (``2 q`` for several classes), ``q`` being the number of
coefficients per class. The LP's direction counts as separating when its
largest margin, recomputed from the data, exceeds ``_REL_TOL * q`` (1e-6 q) and
its smallest is at least ``-_FEAS_TOL * q`` (-1e-9 q); separation is complete
when the max-min LP's smallest margin exceeds ``_REL_TOL * q``. So a
separation whose best margin is below about a millionth of the data's range is
reported as overlap, and an overlap of less than about 1e-9 of the range may be
reported as quasi-complete separation. Constant columns (range below 4 ulp of
their magnitude) have their coefficients held at 0.

Reference: K. Konis (2007), *Linear programming algorithms for detecting
separated data in binary logistic regression models*, DPhil thesis, University
of Oxford.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

_REL_TOL = 1e-6
_FEAS_TOL = 1e-9
# Presolve off: on tall problems it costs more than the ~q simplex iterations it saves.
# HiGHS's default tolerances are kept (1e-10 made it fail on tall problems); the margins
# of its solutions are checked against _REL_TOL and _FEAS_TOL here instead.
_HIGHS_OPTIONS = {"presolve": False}


@dataclass(frozen=True)
class Separation:
    """A separation found in the data.

    Attributes
    ----------
    kind : {"complete", "quasi-complete"}
    columns : tuple of str
        Names of the predictors (never the intercept) that separate the classes.
    direction : ndarray, shape (n_coef,) for two classes, (n_coef, n_classes - 1) otherwise
        A recession direction of the log-likelihood in the original scale of ``X``,
        intercept first when there is one; column ``k - 1`` belongs to class ``k``.
    """

    kind: str
    columns: tuple[str, ...]
    direction: np.ndarray


@dataclass(frozen=True)
class _Problem:
    """The LPs' data in standardised coordinates.

    ``M`` (n_pairs, n_blocks * q) maps the stacked directions ``v`` of the non-reference
    classes to the margins; ``free`` (n_blocks * q,) is False for the coefficients held at 0
    (constant features); the last ``p`` of each block's ``q`` coefficients are the features.
    """

    M: sparse.csc_array
    free: np.ndarray
    n_blocks: int
    p: int

    @property
    def q(self) -> int:
        """Number of coefficients per class."""
        return self.M.shape[1] // self.n_blocks

    def separating(self, keep: Sequence[int] | None = None) -> np.ndarray | None:
        """Direction of largest total margin, using only features ``keep``, if it separates; else None."""
        used = self._used(keep)
        v = np.zeros(self.M.shape[1])
        v[used] = _solve(self.M[:, used], complete=False)
        margins = self.M @ v
        return v if margins.max() > _REL_TOL * self.q and margins.min() >= -_FEAS_TOL * self.q else None

    def complete(self) -> np.ndarray | None:
        """Direction with every margin positive (complete separation), or None."""
        v = np.zeros(self.M.shape[1])
        v[self.free] = _solve(self.M[:, self.free], complete=True)
        return v if (self.M @ v).min() > _REL_TOL * self.q else None

    def name_columns(self, v: np.ndarray) -> list[int]:
        """Features that separate: single features if any do, else a greedily pruned subset of ``v``'s support."""
        single = [j for j in range(self.p) if self.separating([j]) is not None]
        if single:
            return single
        weight = np.abs(v.reshape(self.n_blocks, self.q)[:, self.q - self.p :]).max(axis=0)
        keep = [int(j) for j in np.argsort(weight) if weight[j] > _FEAS_TOL]
        for j in list(keep):
            trial = [k for k in keep if k != j]
            if self.separating(trial) is not None:
                keep = trial
        return sorted(keep)

    def _used(self, keep: Sequence[int] | None) -> np.ndarray:
        """Mask of the free coefficients of the intercept and of the features ``keep`` (None: all)."""
        if keep is None:
            return self.free
        mask = np.ones(self.q, bool)
        mask[self.q - self.p :] = False
        mask[self.q - self.p + np.asarray(keep, int)] = True
        return self.free & np.tile(mask, self.n_blocks)


def _margin_matrix(z: np.ndarray, y: np.ndarray, n_cls: int) -> sparse.csc_array:
    """Sparse (n * (n_cls - 1), q * (n_cls - 1)) matrix of margins, one row per pair (i, k != y_i).

    ``z`` is (n, q) and ``y`` (n,) holds codes ``0..n_cls-1``; class 0 is the reference
    and has no block: row (i, k) is ``+z_i`` in the block of ``y_i`` and ``-z_i`` in that of ``k``.
    """
    q = z.shape[1]
    row, rival = np.nonzero(y[:, None] != np.arange(n_cls))
    pair = np.arange(row.size)
    rows, cols, vals = [], [], []
    for sign, cls in ((1.0, y[row]), (-1.0, rival)):
        has_block = cls > 0
        rows.append(np.repeat(pair[has_block], q))
        cols.append(((cls[has_block, None] - 1) * q + np.arange(q)).ravel())
        vals.append(sign * z[row[has_block]].ravel())
    entries = (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols)))
    return sparse.csc_array(entries, shape=(row.size, (n_cls - 1) * q))


def _solve(M: sparse.csc_array, complete: bool) -> np.ndarray:
    """Konis' LP ``max sum(M v) s.t. M v >= 0, -1 <= v <= 1``, or when ``complete``
    ``max t s.t. M v >= t, 0 <= t <= 1`` and the same box; return ``v``."""
    n_pairs, n_var = M.shape
    if n_var == 0:  # no free coefficient: only the zero direction
        return np.zeros(0)
    bounds = np.tile([-1.0, 1.0], (n_var, 1))
    if complete:
        A_ub = sparse.hstack([-M, np.ones((n_pairs, 1))], format="csc")
        c = np.r_[np.zeros(n_var), -1.0]
        bounds = np.vstack([bounds, [0.0, 1.0]])
    else:
        A_ub, c = -M, -np.asarray(M.sum(axis=0)).ravel()
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(n_pairs), bounds=bounds, method="highs", options=_HIGHS_OPTIONS)
    if res.status != 0:
        raise RuntimeError(f"separation LP failed: {res.message}")
    return res.x[:n_var]


def _standardise(X: np.ndarray, intercept: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Design ``z`` (n, q) with columns in [-1, 1], the ``center`` and ``scale`` (p,) of the
    features, and a mask (q,) of the coefficients to fix at 0 (constant features)."""
    if intercept:
        lo, hi = X.min(axis=0), X.max(axis=0)
        center, half = (lo + hi) / 2, (hi - lo) / 2
        constant = half <= 4 * np.finfo(float).eps * np.maximum(np.abs(lo), np.abs(hi))
    else:
        center, half = np.zeros(X.shape[1]), np.abs(X).max(axis=0)
        constant = half == 0
    scale = np.where(constant, 1.0, half)
    z = (X - center) / scale  # constant columns: any values, their coefficients are held at 0
    if intercept:
        return np.hstack([np.ones((len(X), 1)), z]), center, scale, np.r_[False, constant]
    return z, center, scale, constant


def _original_direction(v: np.ndarray, problem: _Problem, center: np.ndarray, scale: np.ndarray,
                        present: np.ndarray, n_classes: int) -> np.ndarray:
    """Map the standardised stacked ``v`` back to the scale of ``X`` and the full class layout."""
    q, p = problem.q, problem.p
    d = v.reshape(problem.n_blocks, q).T
    slopes = d[q - p :] / scale[:, None]
    coef = np.vstack([d[: q - p] - center @ slopes, slopes]) if q > p else slopes
    full = np.zeros((q, n_classes - 1))
    full[:, present[1:] - 1] = coef  # present[0] is the LP's reference: direction 0
    return full[:, 0] if n_classes == 2 else full


def find_separation(X: np.ndarray, y: np.ndarray, n_classes: int, *, intercept: bool = True,
                    names: Sequence[str] | None = None, weights: np.ndarray | None = None) -> Separation | None:
    """Find complete or quasi-complete separation, or return None when the ML estimate exists.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
        Finite predictors, without an intercept column (added implicitly when ``intercept``).
    y : ndarray of int, shape (n_samples,)
        Class codes in ``0..n_classes-1``; class 0 is the reference.
    n_classes : int
        Number of classes, at least 2. Classes with no (positively weighted) rows are left
        out of the LP and get a zero direction; with fewer than two present, None is returned.
    intercept : bool
        Whether the model has an intercept (first coefficient).
    names : sequence of str, length n_features, optional
        Feature names; default ``"x0", "x1", ...``.
    weights : ndarray, shape (n_samples,), optional
        Case weights; rows with weight <= 0 are ignored, the values of the others do not matter.

    Returns
    -------
    Separation or None
        ``direction`` has shape (n_coef,) when ``n_classes == 2``, else (n_coef, n_classes - 1),
        with ``n_coef = n_features + intercept``. ``kind`` and ``direction`` come from the LPs on
        all features; ``columns`` are the features that separate on their own (with the
        intercept) if any do, else a minimal subset of the direction's support that still separates.

    Raises
    ------
    ValueError
        On inconsistent shapes, a wrong number of names, or codes outside ``0..n_classes-1``.
    RuntimeError
        If HiGHS fails to solve an LP (they are always feasible and bounded).
    """
    X, y = np.asarray(X, float), np.asarray(y)
    if X.ndim != 2 or y.shape != X.shape[:1]:
        raise ValueError("X must be (n_samples, n_features) and y (n_samples,)")
    names = tuple(f"x{j}" for j in range(X.shape[1])) if names is None else tuple(names)
    if len(names) != X.shape[1]:
        raise ValueError(f"expected {X.shape[1]} names, got {len(names)}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"class codes must lie in 0..{n_classes - 1}")
    if weights is not None:
        X, y = X[np.asarray(weights) > 0], y[np.asarray(weights) > 0]
    present, codes = np.unique(y, return_inverse=True)
    if present.size < 2:
        return None
    z, center, scale, fixed = _standardise(X, intercept)
    free = np.tile(~fixed, present.size - 1)
    problem = _Problem(_margin_matrix(z, codes, present.size), free, present.size - 1, X.shape[1])
    v = problem.separating()
    if v is None:
        return None
    v_complete = problem.complete()
    kind, v = ("complete", v_complete) if v_complete is not None else ("quasi-complete", v)
    columns = tuple(names[j] for j in problem.name_columns(v))
    return Separation(kind, columns, _original_direction(v, problem, center, scale, present, n_classes))
