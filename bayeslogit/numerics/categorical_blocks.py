"""The group effects of a categorical multilevel model with one grouping factor, and their penalised Hessian.

Conventions
-----------
``n`` rows, ``M = K - 1`` linear predictors per row (one per non-reference class), laid out as ``n M`` pseudo-rows
``(i, c)``, row-major: ``eta.reshape(n, M)[i, c]`` is row ``i``'s logit of class ``c + 1`` against the reference.
A term ``(columns | factor)`` of ``k`` columns gives each level its own effects for each class, independent across
classes: the system holds ``M`` per-class terms (:class:`~.group_design.GroupTerm` s over the rows, the same codes,
each with its own relative factor ``T_c``), and each level ``M k`` spherical effects ``u``, class by class.
``Lambda`` is ``blockdiag(T_1, ..., T_M)`` per level. A row's weight is the (M, M) matrix
``W_i = m_i (diag(p_i) - p_i p_i^T)``, so that ``H = Lambda^T Z^T W Z Lambda + I`` stays block diagonal with one
(M k, M k) block per level: the pseudo-rows of one row share its level.

:class:`CategoricalBlockSystem` answers what :class:`~.group_systems.BlockSystem` answers (``at(theta)``, then
``effect``, ``adjoint``, ``term_effects`` and ``factor``), over pseudo-rows, with ``factor`` taking the weights as
an array (n, M, M) and its ``leverage()`` the rows' (M, M) blocks of ``Z Lambda H^-1 Lambda^T Z^T`` (n, M, M).
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.linalg

from bayeslogit.numerics.group_covariance import relative_factor, theta_size
from bayeslogit.numerics.group_design import GroupTerm
from bayeslogit.numerics.group_systems import _BlockFactor, _BlocksAt


@dataclass(frozen=True, eq=False)
class CategoricalBlockSystem:
    """One grouping factor of a categorical model: ``terms`` its per-class terms, one per non-reference class in
    order, over the same rows and levels."""

    terms: tuple[GroupTerm, ...]

    @property
    def n_classes(self) -> int:
        """``M``, the linear predictors per row."""
        return len(self.terms)

    @property
    def n_effects(self) -> int:
        return sum(term.n_levels * term.n_columns for term in self.terms)

    @cached_property
    def values(self) -> np.ndarray:
        """Each pseudo-row's values (n, M, M k): class ``c``'s pseudo-row holds its term's values in class ``c``'s
        columns and zeros elsewhere."""
        n, widths = len(self.terms[0].codes), [term.n_columns for term in self.terms]
        starts = np.concatenate([[0], np.cumsum(widths)])
        values = np.zeros((n, self.n_classes, starts[-1]))
        for c, term in enumerate(self.terms):
            values[:, c, starts[c] : starts[c + 1]] = term.values
        return values

    @cached_property
    def stacked(self) -> GroupTerm:
        """One term of ``M k`` columns over the pseudo-rows, whose effects are all classes' effects of a level."""
        first, n = self.terms[0], len(self.terms[0].codes)
        columns = tuple(f"{c}:{column}" for c, term in enumerate(self.terms) for column in term.columns)
        codes = np.repeat(first.codes, self.n_classes)
        return GroupTerm(first.factor, columns, first.levels, codes, self.values.reshape(n * self.n_classes, -1))

    def at(self, theta: np.ndarray) -> "_CategoricalAt":
        """The system at the thetas (n_theta,), the per-class terms' in order."""
        factors, start = [], 0
        for term in self.terms:
            size = theta_size(term.n_columns, term.correlated)
            factors.append(relative_factor(theta[start : start + size], term.n_columns, term.correlated))
            start += size
        return _CategoricalAt(self, _BlocksAt(self.stacked, scipy.linalg.block_diag(*factors)))


def _split(matrix: np.ndarray, terms: tuple[GroupTerm, ...], square: bool) -> list[np.ndarray]:
    """The per-class parts of per-level arrays (n_levels, M k) or, ``square``, their diagonal blocks
    (n_levels, M k, M k)."""
    parts, start = [], 0
    for term in terms:
        where = slice(start, start + term.n_columns)
        parts.append(matrix[:, where, where] if square else matrix[:, where])
        start += term.n_columns
    return parts


@dataclass(frozen=True, eq=False)
class _CategoricalAt:
    system: CategoricalBlockSystem
    blocks: _BlocksAt  # the stacked term with Lambda's block

    def effect(self, u: np.ndarray) -> np.ndarray:
        """``Z Lambda u`` (n M,) of the effects ``u`` (q,)."""
        return self.blocks.effect(u)

    def adjoint(self, r: np.ndarray) -> np.ndarray:
        """``Lambda^T Z^T r`` of pseudo-row values ``r`` (n M,) or (n M, c)."""
        return self.blocks.adjoint(r)

    def term_effects(self, u: np.ndarray) -> list[np.ndarray]:
        """Each class's group effects ``Lambda u`` (n_levels, k)."""
        return _split(self.blocks.term_effects(u)[0], self.system.terms, square=False)

    def factor(self, W: np.ndarray) -> "_CategoricalFactor":
        """``H`` of the row weights ``W`` (n, M, M), factored level by level."""
        values, term = self.system.values, self.system.stacked
        width = values.shape[2]
        rows, cols = np.triu_indices(width)
        per_row = np.einsum("icx,icd,idy->ixy", values, W, values)[:, rows, cols]  # (n, upper triangle)
        sums = np.stack(
            [np.bincount(self.system.terms[0].codes, weights=w, minlength=term.n_levels) for w in per_row.T], axis=1
        )
        S = np.zeros((term.n_levels, width, width))
        S[:, rows, cols] = sums
        S[:, cols, rows] = sums
        T = self.blocks.T
        H = np.einsum("jl,gjm,mn->gln", T, S, T) + np.eye(width)
        log_det = float(np.sum(np.linalg.slogdet(H)[1]))
        return _CategoricalFactor(self.system, _BlockFactor(term, T, np.linalg.inv(H), log_det))


@dataclass(frozen=True, eq=False)
class _CategoricalFactor:
    system: CategoricalBlockSystem
    blocks: _BlockFactor

    @property
    def log_det(self) -> float:
        return self.blocks.log_det

    @property
    def inverse(self) -> np.ndarray:
        """Each level's block of ``H^-1`` (n_levels, M k, M k)."""
        return self.blocks.inverse

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``H^-1 rhs`` for rhs (q,) or (q, c)."""
        return self.blocks.solve(rhs)

    def cond_cov(self) -> list[np.ndarray]:
        """Each class's conditional covariance blocks ``T_c (H^-1)_cc T_c^T`` (n_levels, k, k)."""
        return _split(self.blocks.cond_cov()[0], self.system.terms, square=True)

    def leverage(self) -> np.ndarray:
        """Each row's (M, M) block of ``Z Lambda H^-1 Lambda^T Z^T``: shape (n, M, M)."""
        values, codes = self.system.values, self.system.terms[0].codes
        return np.einsum("icx,ixy,idy->icd", values, self.blocks.cond_cov()[0][codes], values)
