"""The group effects' part of a multilevel model's linear predictor, ``Z Lambda u``, and its penalised Hessian.

Conventions
-----------
``n`` rows, ``q`` spherical effects ``u`` (all terms' levels times their columns, term by term, level-major
within a term as lme4 orders them: level 0's ``k`` effects, then level 1's), ``p`` columns of a matrix ``M`` (n, p).
``Lambda`` is block diagonal, each level of a term carrying its term's relative factor ``T`` (see
:mod:`.group_covariance`); ``Z`` holds each row's term values in its levels' columns.

A system fixed at the relative factors, :meth:`BlockSystem.at` or :meth:`CrossedSystem.at`, maps effects to the
linear predictor (``effect(u) = Z Lambda u``, (q,) -> (n,)), rows back to effects (``adjoint(r) = Lambda^T Z^T r``,
(n,) or (n, p) -> (q,) or (q, p)), splits ``Lambda u`` by term (``term_effects(u)``, a list of (n_levels, k)) and
factors the penalised Hessian ``H = Lambda^T Z^T diag(w) Z Lambda + I``
(``factor(w)``, returning an object with ``solve(rhs)`` for rhs (q,) or (q, p), ``log_det`` the log determinant,
``cond_cov()`` the conditional covariance blocks ``Lambda H^-1 Lambda^T`` of each term's levels, and ``leverage()``
the rows' ``diag(Z Lambda H^-1 Lambda^T Z^T)`` (n,)).

One grouping factor makes ``H`` block diagonal, a ``k x k`` block per level: :class:`BlockSystem` treats all blocks
at once, as arrays of shape (n_levels, k, k). Several (crossed or nested) couple the levels of different terms:
:class:`CrossedSystem` eliminates the blocks of the term of most levels and factors the Schur complement of the
others' effects. Where ``H_ar`` is small (:data:`DENSE_MAX_PRODUCT`) by dense products, forming ``H^-1`` for the
conditional covariances and leverages; else by sparse products and a dense or sparse factor of the Schur complement,
whose inverse is needed only on its pattern (:mod:`.group_sparse`).
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.linalg
import scipy.sparse

from bayeslogit.numerics.group_covariance import relative_factor, theta_size
from bayeslogit.numerics.group_design import GroupTerm
from bayeslogit.numerics.group_sparse import (
    DenseSchur,
    SparseSchur,
    SparseSchurFactor,
    block_diagonal,
    prefers_sparse,
    sparse_cross,
)

DENSE_MAX_PRODUCT = 2**16
"""Crossed terms whose ``H_ar`` has at most this many entries (``q_a q_r``) are factored by dense products, the
Schur complement and ``H^-1`` formed dense: below it a sparse matrix's overhead costs more than the products."""


def _term_factors(terms: tuple[GroupTerm, ...], theta: np.ndarray) -> list[np.ndarray]:
    """Each term's ``T`` (k, k) from the thetas of all terms, in order."""
    factors, start = [], 0
    for term in terms:
        size = theta_size(term.n_columns, term.correlated)
        factors.append(relative_factor(theta[start : start + size], term.n_columns, term.correlated))
        start += size
    return factors


def _group_sums(codes: np.ndarray, weights: np.ndarray, n_levels: int) -> np.ndarray:
    """Sums over each level of the columns of ``weights`` (n, c): shape (n_levels, c)."""
    return np.stack([np.bincount(codes, weights=w, minlength=n_levels) for w in weights.T], axis=1)


@dataclass(frozen=True, eq=False)
class BlockSystem:
    """One grouping factor: ``H`` block diagonal, one (k, k) block per level."""

    term: GroupTerm

    @property
    def terms(self) -> tuple[GroupTerm, ...]:
        return (self.term,)

    @property
    def n_effects(self) -> int:
        return self.term.n_levels * self.term.n_columns

    def at(self, theta: np.ndarray) -> "_BlocksAt":
        """The system at the thetas (n_theta,)."""
        return _BlocksAt(self.term, _term_factors(self.terms, theta)[0])


@dataclass(frozen=True, eq=False)
class _BlocksAt:
    term: GroupTerm
    T: np.ndarray

    def effect(self, u: np.ndarray) -> np.ndarray:
        term = self.term
        b = u.reshape(term.n_levels, -1) @ self.T.T
        if term.n_columns == 1:
            return term.values[:, 0] * b[term.codes, 0]
        return np.einsum("ij,ij->i", term.values, b[term.codes])

    def term_effects(self, u: np.ndarray) -> list[np.ndarray]:
        return [u.reshape(self.term.n_levels, -1) @ self.T.T]

    def adjoint(self, r: np.ndarray) -> np.ndarray:
        term, k = self.term, self.term.n_columns
        cols = r[:, None] if r.ndim == 1 else r
        weighted = (term.values[:, :, None] * cols[:, None, :]).reshape(len(cols), -1)  # (n, k * c)
        sums = _group_sums(term.codes, weighted, term.n_levels).reshape(term.n_levels, k, -1)
        out = np.einsum("jl,gjc->glc", self.T, sums).reshape(term.n_levels * k, -1)
        return out[:, 0] if r.ndim == 1 else out

    def factor(self, w: np.ndarray) -> "_BlockFactor":
        term, k = self.term, self.term.n_columns
        rows, cols = np.triu_indices(k)
        cross = _group_sums(term.codes, w[:, None] * term.values[:, rows] * term.values[:, cols], term.n_levels)
        S = np.zeros((term.n_levels, k, k))
        S[:, rows, cols] = cross
        S[:, cols, rows] = cross
        H = np.einsum("jl,gjm,mn->gln", self.T, S, self.T) + np.eye(k)
        inverse = np.linalg.inv(H)
        return _BlockFactor(self.term, self.T, inverse, float(np.sum(np.linalg.slogdet(H)[1])))


@dataclass(frozen=True, eq=False)
class _BlockFactor:
    term: GroupTerm
    T: np.ndarray
    inverse: np.ndarray  # (n_levels, k, k)
    log_det: float

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        n_levels, k, _ = self.inverse.shape
        blocks = rhs.reshape(n_levels, k, -1)
        return np.matmul(self.inverse, blocks).reshape(rhs.shape)

    def cond_cov(self) -> list[np.ndarray]:
        return [np.einsum("jl,glm,nm->gjn", self.T, self.inverse, self.T)]

    def leverage(self) -> np.ndarray:
        """``diag(Z Lambda H^-1 Lambda^T Z^T)`` of shape (n,)."""
        values = self.term.values
        return np.einsum("ij,ijl,il->i", values, self.cond_cov()[0][self.term.codes], values)


@dataclass(frozen=True, eq=False)
class CrossedSystem:
    """Several grouping factors. The term of most effects, ``a``, keeps its blocks; the others, ``r``, are gathered
    (each row's effects in them are its levels' columns). ``H``'s ``a`` blocks are eliminated, and their Schur
    complement in the ``r`` effects, ``H_rr - H_ra H_aa^-1 H_ar``, is factored: dense where it is small or fills in
    (factors crossed at random), sparse where it stays sparse (nested factors), see :mod:`.group_sparse`."""

    terms: tuple[GroupTerm, ...]

    @property
    def n_effects(self) -> int:
        return sum(term.n_levels * term.n_columns for term in self.terms)

    @cached_property
    def _split(self) -> tuple[int, list[np.ndarray], np.ndarray, np.ndarray]:
        """The eliminated term's index, each term's effect indices (n_levels, k), and the ``a`` and ``r`` indices."""
        sizes = [term.n_levels * term.n_columns for term in self.terms]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        index = [start + np.arange(size).reshape(-1, t.n_columns) for start, size, t in zip(starts, sizes, self.terms)]
        a = int(np.argmax(sizes))
        rest = np.concatenate([index[t].ravel() for t in range(len(self.terms)) if t != a])
        return a, index, index[a].ravel(), rest

    @cached_property
    def _columns(self) -> list[np.ndarray]:
        """Each term's rows' effect columns (n, k) among the ``a`` effects (for ``a``) or the ``r`` effects."""
        a, columns, start = self._split[0], [], 0
        for t, term in enumerate(self.terms):
            local = term.codes[:, None] * term.n_columns + np.arange(term.n_columns)
            columns.append(local if t == a else start + local)
            start += 0 if t == a else term.n_levels * term.n_columns
        return columns

    @cached_property
    def sparse_schur(self) -> bool:
        """Whether the Schur complement is factored sparse (:func:`~.group_sparse.prefers_sparse`, on its pattern)."""
        ones = [(cols, np.ones(cols.shape)) for cols in self._columns]
        a, _, ia, ir = self._split
        rest = [one for t, one in enumerate(ones) if t != a]
        w = np.ones(len(ones[0][0]))
        pattern = sparse_cross(rest, rest, w, (len(ir), len(ir))) + sparse_cross(
            [ones[a]], rest, w, (len(ia), len(ir))
        ).T @ sparse_cross([ones[a]], rest, w, (len(ia), len(ir)))
        return prefers_sparse(pattern.tocsr())

    def at(self, theta: np.ndarray) -> "_CrossedAt":
        """The system at the thetas (n_theta,)."""
        factors = _term_factors(self.terms, theta)
        a = self._split[0]
        gathered = [(cols, term.values @ T) for cols, term, T in zip(self._columns, self.terms, factors)]
        rest = [g for t, g in enumerate(gathered) if t != a]
        return _CrossedAt(self, factors, _BlocksAt(self.terms[a], factors[a]), gathered[a], rest)


def _cross(first: tuple, second: tuple, w: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``sum_i w_i z1_i z2_i^T`` placed at the rows' columns: shape ``shape``, from ``(columns, values)`` (n, k)."""
    (cols1, z1), (cols2, z2) = first, second
    out = np.zeros(shape[0] * shape[1])
    for j in range(z1.shape[1]):
        for m in range(z2.shape[1]):
            out += np.bincount(cols1[:, j] * shape[1] + cols2[:, m], w * z1[:, j] * z2[:, m], shape[0] * shape[1])
    return out.reshape(shape)


@dataclass(frozen=True, eq=False)
class _CrossedAt:
    system: CrossedSystem
    factors: list
    block: _BlocksAt
    gathered_a: tuple  # (columns (n, k_a), Lambda-scaled values (n, k_a)) of the eliminated term
    rest: list  # the same for each other term, columns among the r effects

    @property
    def n_rest(self) -> int:
        return len(self.system._split[3])

    def effect(self, u: np.ndarray) -> np.ndarray:
        _, _, ia, ir = self.system._split
        u_r = u[ir]
        eta = self.block.effect(u[ia])
        for cols, z in self.rest:
            eta = eta + np.einsum("ij,ij->i", z, u_r[cols])
        return eta

    def term_effects(self, u: np.ndarray) -> list[np.ndarray]:
        return [u[index] @ T.T for index, T in zip(self.system._split[1], self.factors)]

    def adjoint(self, r: np.ndarray) -> np.ndarray:
        _, _, ia, ir = self.system._split
        cols_r = r[:, None] if r.ndim == 1 else r
        out = np.zeros((len(ia) + len(ir), cols_r.shape[1]))
        out[ia] = self.block.adjoint(cols_r)
        rest = np.zeros((len(ir), cols_r.shape[1]))
        for cols, z in self.rest:
            for j in range(z.shape[1]):
                weighted = z[:, j, None] * cols_r
                rest += np.stack([np.bincount(cols[:, j], c, len(ir)) for c in weighted.T], axis=1)
        out[ir] = rest
        return out[:, 0] if r.ndim == 1 else out

    def factor(self, w: np.ndarray) -> "_SchurFactor | SparseSchurFactor":
        """``H`` factored: by dense products up to :data:`DENSE_MAX_PRODUCT` entries of ``H_ar``, else sparse."""
        q_a, q_r = len(self.system._split[2]), self.n_rest
        return self._dense_factor(w) if q_a * q_r <= DENSE_MAX_PRODUCT else self._sparse_factor(w)

    def _dense_factor(self, w: np.ndarray) -> "_SchurFactor":
        blocks, q_a, q_r = self.block.factor(w), len(self.system._split[2]), self.n_rest
        H_ar = sum(_cross(self.gathered_a, other, w, (q_a, q_r)) for other in self.rest)
        H_rr = sum(_cross(one, other, w, (q_r, q_r)) for one in self.rest for other in self.rest)
        H_rr[np.diag_indices_from(H_rr)] += 1.0
        E = blocks.solve(H_ar)
        chol = scipy.linalg.cho_factor(H_rr - H_ar.T @ E, lower=True, check_finite=False)
        log_det = blocks.log_det + float(2.0 * np.sum(np.log(np.diag(chol[0]))))
        return _SchurFactor(self, blocks, H_ar, E, chol, log_det)

    def _sparse_factor(self, w: np.ndarray) -> SparseSchurFactor:
        blocks, q_a, q_r = self.block.factor(w), len(self.system._split[2]), self.n_rest
        B = sparse_cross([self.gathered_a], self.rest, w, (q_a, q_r))
        C = sparse_cross(self.rest, self.rest, w, (q_r, q_r)) + scipy.sparse.eye_array(q_r)
        E = (block_diagonal(blocks.inverse) @ B).tocsr()
        E.sort_indices()
        schur = (SparseSchur if self.system.sparse_schur else DenseSchur).of((C - B.T @ E).tocsr())
        return SparseSchurFactor(self, blocks, B, E, schur, blocks.log_det + schur.log_det)


@dataclass(frozen=True, eq=False)
class _SchurFactor:
    at: _CrossedAt
    blocks: _BlockFactor
    H_ar: np.ndarray
    E: np.ndarray  # H_aa^-1 H_ar, (q_a, q_r)
    chol: tuple  # of the Schur complement (q_r, q_r)
    log_det: float

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        _, _, ia, ir = self.at.system._split
        y_a = self.blocks.solve(rhs[ia])
        x_r = scipy.linalg.cho_solve(self.chol, rhs[ir] - self.H_ar.T @ y_a, check_finite=False)
        out = np.empty_like(rhs)
        out[ia] = y_a - self.E @ x_r
        out[ir] = x_r
        return out

    def inverse(self) -> np.ndarray:
        """``H^-1`` of shape (q, q)."""
        _, _, ia, ir = self.at.system._split
        S_inv = scipy.linalg.cho_solve(self.chol, np.eye(len(ir)), check_finite=False)
        ES = self.E @ S_inv
        out = np.empty((len(ia) + len(ir),) * 2)
        out[np.ix_(ir, ir)] = S_inv
        out[np.ix_(ia, ir)] = -ES
        out[np.ix_(ir, ia)] = -ES.T
        inner = ES @ self.E.T
        n_levels, k, _ = self.blocks.inverse.shape
        diagonal = inner.reshape(n_levels, k, n_levels, k)
        diagonal[np.arange(n_levels), :, np.arange(n_levels), :] += self.blocks.inverse
        out[np.ix_(ia, ia)] = inner
        return out

    def _blocks_of(self, inverse: np.ndarray) -> list[np.ndarray]:
        """Each term's conditional covariance blocks ``T H^-1_gg T^T`` (n_levels, k, k)."""
        index = self.at.system._split[1]
        return [
            np.einsum("jl,glm,nm->gjn", T, inverse[idx[:, :, None], idx[:, None, :]], T)
            for idx, T in zip(index, self.at.factors)
        ]

    def cond_cov(self) -> list[np.ndarray]:
        return self._blocks_of(self.inverse())

    def leverage(self) -> np.ndarray:
        """``diag(Z Lambda H^-1 Lambda^T Z^T)`` of shape (n,)."""
        inverse, system = self.inverse(), self.at.system
        rows = [
            (idx[term.codes], term.values @ T) for term, idx, T in zip(system.terms, system._split[1], self.at.factors)
        ]
        h = 0.0
        for cols_t, z_t in rows:
            for cols_s, z_s in rows:
                for j in range(cols_t.shape[1]):
                    for m in range(cols_s.shape[1]):
                        h = h + z_t[:, j] * z_s[:, m] * inverse[cols_t[:, j], cols_s[:, m]]
        return h


def group_system(terms: tuple[GroupTerm, ...]) -> BlockSystem | CrossedSystem:
    """The system for ``terms``: blocks for one term, crossed for several."""
    return BlockSystem(terms[0]) if len(terms) == 1 else CrossedSystem(tuple(terms))
