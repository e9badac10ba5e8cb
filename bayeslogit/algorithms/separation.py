"""Detection of complete and quasi-complete separation by linear programming.

The maximum-likelihood estimate of a (binary or multinomial) logistic regression fails to exist
exactly when the log-likelihood has a *recession direction*: a coefficient direction ``d != 0``
along which no observation's fitted probability of its own class decreases and at least one
increases. Write ``z_i`` for the row ``(1, x_i)`` (or ``x_i`` without an intercept) and ``d_k`` for
the direction of class ``k``'s coefficients, with ``d_0 = 0`` for the reference class. A recession
direction satisfies the *margins*

    m_ik = z_i^T (d_{y_i} - d_k) >= 0   for every row i and every class k != y_i,

with ``sum m_ik > 0``. (For two classes this is ``s_i z_i^T d >= 0`` with ``s_i = +1/-1`` for
``y_i = 1/0``.) Following Konis (2007), the search is the bounded linear program

    maximise sum m_ik   subject to   m_ik >= 0,   -1 <= d <= 1,

whose optimum is positive iff the data are separated. Separation is complete (every row strictly
on its own side) iff the max-min LP ``maximise t subject to m_ik >= t`` and the same box has
``t* > 0``. This is an exact test for the data given, not a heuristic; its only approximation is
the floating-point tolerance below.

Computation (:mod:`.separation_lp`). The LPs are solved by HiGHS (:func:`scipy.optimize.linprog`) on the
distinct rows of ``(z, y)``, their constraints added lazily: the LP on some constraints is solved, those its
solution violates are added, and so on until none is; that solution then solves the whole LP.
The max-min LP is first solved on *tight* pairs only, those whose margin under the first LP's
direction ``v`` is at most the tolerance: the tight pairs of the two classes with most of them,
then all tight pairs. An optimum at most the tolerance on a subset of the pairs proves that
``t*`` is too (quasi-complete separation); otherwise the max-min direction ``w`` of the tight pairs
is mixed with ``v``, and a mixture ``(1 - a) v + a w`` (in the box) whose smallest margin exceeds
the tolerance proves complete separation. Only when neither holds is the whole max-min LP solved.

Tolerance. The LPs run on standardised columns, shifted and scaled to ``[-1, 1]`` (midrange and
half range with an intercept; divided by ``max |x|`` without), so that columns of any scale are
treated alike; directions are mapped back to the original scale. A direction in the box then has
margins of at most ``q`` in absolute value (``2 q`` for several classes), ``q`` being the number of
coefficients per class. A direction counts as separating when its largest margin, recomputed from
the data, exceeds ``REL_TOL * q`` (1e-6 q) and its smallest is at least ``-FEAS_TOL * q``
(-1e-9 q); separation is complete when a direction in the box has its smallest margin above
``REL_TOL * q``. So a separation whose best margin is below about a millionth of the data's range
is reported as overlap, and an overlap of less than about 1e-9 of the range may be reported as
quasi-complete separation. Constant columns (range below 4 ulp of their magnitude) have their
coefficients held at 0.

Reference: K. Konis (2007), *Linear programming algorithms for detecting separated data in binary
logistic regression models*, DPhil thesis, University of Oxford.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bayeslogit.algorithms.separation_lp import FEAS_TOL, MarginProblem
from bayeslogit.checks import check_count

_ADVERB = {"complete": "completely", "quasi-complete": "quasi-completely"}
_WHERE_ALL = "all are in SeparationError.columns"


@dataclass(frozen=True)
class Separation:
    """A separation found in the data.

    Attributes
    ----------
    kind : {"complete", "quasi-complete"}
        How all the predictors together separate the classes.
    columns : tuple of str
        Names of the predictors (never the intercept) that separate the classes: every
        predictor that separates them on its own (with the intercept) if any does, else a
        minimal set of predictors that separate them together.
    direction : ndarray, shape (n_coef,) for two classes, (n_coef, n_classes - 1) otherwise
        A recession direction of the log-likelihood in the original scale of ``X``,
        intercept first when there is one; column ``k - 1`` belongs to class ``k``.
    alone_kinds : tuple of str, same length as ``columns``, or None
        How each of ``columns`` separates the classes on its own (``"complete"`` or
        ``"quasi-complete"``); None when ``columns`` separate them only together.
    """

    kind: str
    columns: tuple[str, ...]
    direction: np.ndarray
    alone_kinds: tuple[str, ...] | None

    def describe(self, max_names: int = 5) -> str:
        """The clause completing "maximum likelihood does not exist: ", naming at most ``max_names``
        predictors and counting the others: "'x' separates the classes quasi-completely on its own,
        and the predictors together separate them completely"."""
        max_names = check_count("max_names", max_names, 1)
        if self.alone_kinds is None:
            return _group_clause(self.columns, self.kind, "the classes", max_names, together=True)
        groups = [[c for c, k in zip(self.columns, self.alone_kinds) if k == kind] for kind in _ADVERB]
        groups = [(kind, names) for kind, names in zip(_ADVERB, groups) if names]
        joint = self.kind == "complete" and "complete" not in self.alone_kinds
        clauses, budget = [], max_names
        for kind, names in groups:
            obj = "them" if clauses else "the classes"
            clauses.append(_group_clause(names, kind, obj, budget, alone=len(groups) > 1 or joint))
            budget -= min(len(names), budget)
        if joint:
            clauses.append("the predictors together separate them completely")
        return ", and ".join(clauses)


def _group_clause(
    names: Sequence[str], kind: str, obj: str, budget: int, together: bool = False, alone: bool = False
) -> str:
    """ "'a' and 'b' separate the classes completely, each on its own" and its variants, naming at
    most ``budget`` of ``names``; ``alone`` adds "on its own" to a single name."""
    n, quoted = len(names), [repr(c) for c in names]
    if n <= budget:
        subject, listing = quoted[0] if n == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}", ""
    else:
        shown = f"{', '.join(quoted[:budget])} and {n - budget} more; " if budget else ""
        subject = f"{n} {'' if budget else 'other '}predictor{'s' * (n > 1)}"
        listing = f" ({shown}{_WHERE_ALL})"
    tail = "" if together else ", each on its own" if n > 1 else " on its own" if alone else ""
    verb = "together separate" if together else "separates" if n == 1 else "separate"
    return f"{subject} {verb} {obj} {_ADVERB[kind]}{tail}{listing}"


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


@dataclass(frozen=True)
class _Search:
    """The standardised data, and the LP problem on all features."""

    z: np.ndarray  # (n, q)
    codes: np.ndarray  # (n,) in 0..n_cls-1
    n_cls: int
    fixed: np.ndarray  # (q,) coefficients held at 0
    p: int  # features: the last p of the q coefficients

    @cached_property
    def full(self) -> MarginProblem:
        """The LPs on the intercept and all features."""
        return MarginProblem.build(self.z[:, ~self.fixed], self.codes, self.n_cls, self.z.shape[1])

    def single(self, j: int) -> MarginProblem:
        """The LPs on the intercept and feature ``j`` alone, built on their own distinct rows."""
        return MarginProblem.build(self.z[:, self._used([j])], self.codes, self.n_cls, self.z.shape[1])

    def subset(self, keep: Sequence[int]) -> MarginProblem:
        """The LPs of ``full`` restricted to the intercept and the features ``keep``."""
        columns = np.tile(self._used(keep)[~self.fixed], self.n_cls - 1)
        return MarginProblem(self.full.M[:, columns], self.full.classes, self.full.q)

    def stacked(self, v: np.ndarray) -> np.ndarray:
        """``v`` of ``full`` as the (n_cls - 1, q) directions of all coefficients."""
        d = np.zeros((self.n_cls - 1, self.z.shape[1]))
        d[:, ~self.fixed] = v.reshape(self.n_cls - 1, -1)
        return d

    def _used(self, keep: Sequence[int]) -> np.ndarray:
        """Mask (q,) of the free coefficients of the intercept and of the features ``keep``."""
        mask = np.arange(self.z.shape[1]) < self.z.shape[1] - self.p  # the intercept
        mask[self.z.shape[1] - self.p + np.asarray(keep, int)] = True
        return mask & ~self.fixed


def _name_columns(search: _Search, kind: str, d: np.ndarray) -> tuple[list[int], tuple[str, ...] | None]:
    """The features that separate on their own, and how each does (completely only if ``kind``, how
    all separate, is complete), if any do; else a greedily pruned subset of the support of ``d``
    (n_cls - 1, q) that still separates, and None."""
    q, p = search.z.shape[1], search.p
    single = {}
    for j in np.flatnonzero(~search.fixed[q - p :]):
        problem = search.single(j)
        if (v_j := problem.separating()[0]) is not None:
            single[int(j)] = (problem, v_j)
    if single:
        alone = [kind == "complete" and problem.complete(v_j) is not None for problem, v_j in single.values()]
        return list(single), tuple("complete" if a else "quasi-complete" for a in alone)
    weight = np.abs(d[:, q - p :]).max(axis=0)
    keep, start = [int(j) for j in np.argsort(weight) if weight[j] > FEAS_TOL], None
    for j in list(keep):
        trial = [k for k in keep if k != j]
        v, start = search.subset(trial).separating(start)
        if v is not None:
            keep = trial
    return sorted(keep), None


def _original_direction(
    d: np.ndarray, search: _Search, center: np.ndarray, scale: np.ndarray, present: np.ndarray, n_classes: int
) -> np.ndarray:
    """Map the standardised directions ``d`` (n_present - 1, q) back to the scale of ``X`` and the
    full class layout."""
    q, p = search.z.shape[1], search.p
    d = d.T
    slopes = d[q - p :] / scale[:, None]
    coef = np.vstack([d[: q - p] - center @ slopes, slopes]) if q > p else slopes
    full = np.zeros((q, n_classes - 1))
    full[:, present[1:] - 1] = coef  # present[0] is the LP's reference: direction 0
    return full[:, 0] if n_classes == 2 else full


def find_separation(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    *,
    intercept: bool = True,
    names: Sequence[str] | None = None,
    weights: np.ndarray | None = None,
) -> Separation | None:
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
        intercept) if any do, with ``alone_kinds`` saying how, else a minimal subset of the
        direction's support that still separates, with ``alone_kinds`` None.

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
    names = tuple(f"x{j}" for j in range(X.shape[1])) if names is None else tuple(str(n) for n in names)
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
    search = _Search(z, codes, present.size, fixed, X.shape[1])
    v = search.full.separating()[0]
    if v is None:
        return None
    kind, v = ("complete", w) if (w := search.full.complete(v)) is not None else ("quasi-complete", v)
    d = search.stacked(v)
    columns, alone = _name_columns(search, kind, d)
    direction = _original_direction(d, search, center, scale, present, n_classes)
    return Separation(kind, tuple(names[j] for j in columns), direction, alone)
