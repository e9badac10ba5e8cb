"""The linear programs of separation detection (Konis 2007; see :mod:`.separation`), on the margins of the
distinct rows, with their constraints added lazily, and the tolerances that judge their solutions."""

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

REL_TOL = 1e-6
"""A direction separates when its largest margin exceeds ``REL_TOL * q`` (completely: its smallest)."""
FEAS_TOL = 1e-9
"""... and its smallest margin is at least ``-FEAS_TOL * q``."""
# Presolve off: it costs more than it saves here. HiGHS's default tolerances are kept (1e-10 made it
# fail on tall problems); the margins of its solutions are checked against REL_TOL and FEAS_TOL.
_HIGHS_OPTIONS = {"presolve": False}
_BATCH = 200  # most violated constraints added to the LP per round
_LAZY_ABOVE = 2000  # an LP with at most this many constraints takes them all at once


@dataclass(frozen=True)
class MarginProblem:
    """The LPs' data in standardised coordinates.

    ``M`` (n_pairs, n_var) maps the stacked directions ``v`` of the non-reference classes,
    restricted to the free coefficients, to the margins; ``classes`` (n_pairs,) says which two
    classes each pair compares (``lo * n_cls + hi``); ``q`` is the number of coefficients per
    class of the whole model, which sets the tolerances.
    """

    M: sparse.csr_array
    classes: np.ndarray
    q: int

    @classmethod
    def build(cls, z: np.ndarray, codes: np.ndarray, n_cls: int, q: int) -> "MarginProblem":
        """Problem for the design ``z`` (n, q_used) and codes ``0..n_cls-1`` (n,), on its distinct rows."""
        keys = np.ascontiguousarray(np.column_stack([z, codes]))
        _, first = np.unique(keys.view(np.dtype((np.void, keys.itemsize * keys.shape[1]))).ravel(), return_index=True)
        return cls(*margin_matrix(z[first], codes[first], n_cls), q)

    def separating(self, start: np.ndarray | None = None) -> tuple[np.ndarray | None, np.ndarray]:
        """Direction ``v`` (n_var,) of largest total margin if it separates, else None; and the
        mask (n_pairs,) of the constraints the LP needed, a ``start`` for a similar problem."""
        v, _, added = _solve(self.M, complete=False, start=start)
        margins = self.M @ v
        separates = margins.max() > REL_TOL * self.q and margins.min() >= -FEAS_TOL * self.q
        return (v if separates else None), added

    def complete(self, v: np.ndarray) -> np.ndarray | None:
        """Direction in the box with every margin above the tolerance, or None when there is none.

        ``v`` (n_var,) is a separating direction; only its tight pairs enter the first max-min
        LPs: those of the two classes with most tight pairs, then all of them.
        """
        tol = REL_TOL * self.q
        margins = self.M @ v
        tight = np.flatnonzero(margins <= tol)
        if tight.size == 0:
            return v
        busiest = tight[self.classes[tight] == np.bincount(self.classes[tight]).argmax()]
        for rows in ([busiest] if busiest.size < tight.size else []) + [tight]:
            w, _, _ = _solve(self.M[rows], complete=True)
            if (self.M[rows] @ w).min() <= tol:
                return None  # these pairs alone cannot all be strictly separated
        mixed = _best_mixture(v, w, margins, self.M @ w)
        if (self.M @ mixed).min() > tol:
            return mixed
        w, _, _ = _solve(self.M, complete=True)
        return w if (self.M @ w).min() > tol else None


def _best_mixture(v: np.ndarray, w: np.ndarray, m_v: np.ndarray, m_w: np.ndarray) -> np.ndarray:
    """``(1 - a) v + a w`` for the ``a`` in [0, 1] maximising the smallest margin (concave in ``a``)."""
    lo, hi = 0.0, 1.0
    for _ in range(100):  # ternary search on a concave, piecewise-linear function
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        m_a, m_b = ((1 - a) * m_v + a * m_w).min(), ((1 - b) * m_v + b * m_w).min()
        lo, hi = (a, hi) if m_a < m_b else (lo, b)
    a = (lo + hi) / 2
    return (1 - a) * v + a * w


def _solve(
    M: sparse.csr_array, complete: bool, start: np.ndarray | None = None
) -> tuple[np.ndarray, float, np.ndarray]:
    """Konis' LP ``max sum(M v) s.t. M v >= 0, -1 <= v <= 1``, or when ``complete``
    ``max t s.t. M v >= t`` and the same box; return ``v`` (n_var,), ``t`` (0 for the first LP)
    and the mask (n_pairs,) of the constraints used.

    Beyond ``_LAZY_ABOVE`` constraints, they are added lazily from those of the mask ``start``
    on, the ``_BATCH`` most violated at a time, until the solution of the LP on those added
    satisfies all of them.
    """
    n_pairs, n_var = M.shape
    added = np.full(n_pairs, n_pairs <= _LAZY_ABOVE) if start is None else start.copy()
    if n_var == 0:  # no free coefficient: only the zero direction
        return np.zeros(0), 0.0, added
    bounds = np.tile([-1.0, 1.0], (n_var, 1))
    if complete:  # margins are at most n_var in the box, so t <= n_var never binds
        c, bounds = np.r_[np.zeros(n_var), -1.0], np.vstack([bounds, [0.0, n_var]])
    else:
        c = -np.asarray(M.sum(axis=0)).ravel()
    while True:
        rows = np.flatnonzero(added)
        A_ub = -M[rows]
        if complete:
            A_ub = sparse.hstack([A_ub, np.ones((rows.size, 1))], format="csr")
        res = linprog(
            c,
            A_ub=A_ub if rows.size else None,
            b_ub=np.zeros(rows.size) if rows.size else None,
            bounds=bounds,
            method="highs",
            options=_HIGHS_OPTIONS,
        )
        if res.status != 0:
            raise RuntimeError(f"separation LP failed: {res.message}")
        v, t = res.x[:n_var], (res.x[n_var] if complete else 0.0)
        margins = M @ v
        violated = np.flatnonzero((margins < t - FEAS_TOL) & ~added)
        if violated.size == 0:
            return v, t, added
        added[violated[np.argsort(margins[violated])[:_BATCH]]] = True


def margin_matrix(z: np.ndarray, y: np.ndarray, n_cls: int) -> tuple[sparse.csr_array, np.ndarray]:
    """Sparse (n * (n_cls - 1), q * (n_cls - 1)) matrix of margins, one row per pair (i, k != y_i),
    and the classes each row compares, ``min(y_i, k) * n_cls + max(y_i, k)`` (n * (n_cls - 1),).

    ``z`` is (n, q) and ``y`` (n,) holds codes ``0..n_cls-1``; class 0 is the reference
    and has no block: row (i, k) is ``+z_i`` in the block of ``y_i`` and ``-z_i`` in that of ``k``.
    """
    q = z.shape[1]
    row, rival = np.nonzero(y[:, None] != np.arange(n_cls))
    lo, hi = np.minimum(y[row], rival), np.maximum(y[row], rival)
    sign_lo = np.where(lo == y[row], 1.0, -1.0)
    values = np.stack([sign_lo[:, None] * z[row], -sign_lo[:, None] * z[row]], axis=1)  # (n_pairs, 2, q)
    blocks = np.stack([lo - 1, hi - 1], axis=1)  # lo is -1 for the reference class: no entries
    present = blocks >= 0
    indices = (blocks[:, :, None] * q + np.arange(q))[present].ravel()
    indptr = np.r_[0, np.cumsum(q * present.sum(axis=1))]
    M = sparse.csr_array((values[present].ravel(), indices, indptr), shape=(row.size, (n_cls - 1) * q))
    return M, lo * n_cls + hi
