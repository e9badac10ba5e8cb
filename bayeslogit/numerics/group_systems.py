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
:class:`CrossedSystem` eliminates the blocks of the term of most levels and factors the rest of ``H`` dense.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse

from bayeslogit.numerics.group_covariance import relative_factor, theta_size
from bayeslogit.numerics.group_design import GroupTerm
from bayeslogit.numerics.group_sparse import DenseSchur, SparseSchur, block_diagonal, lookup, prefers_sparse, sparse_cross


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
    complement in the ``r`` effects, ``H_rr - H_ra H_aa^-1 H_ar``, is factored dense: small where one factor has
    many levels and the others few; up to a few thousand effects either way."""

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

    def factor(self, w: np.ndarray) -> "_SchurFactor":
        blocks, q_a, q_r = self.block.factor(w), len(self.system._split[2]), self.n_rest
        B = sparse_cross([self.gathered_a], self.rest, w, (q_a, q_r))
        C = sparse_cross(self.rest, self.rest, w, (q_r, q_r)) + scipy.sparse.eye_array(q_r)
        E = (block_diagonal(blocks.inverse) @ B).tocsr()
        E.sort_indices()
        schur = (SparseSchur if self.system.sparse_schur else DenseSchur).of((C - B.T @ E).tocsr())
        return _SchurFactor(self, blocks, B, E, schur, blocks.log_det + schur.log_det)


@dataclass(frozen=True, eq=False)
class _SchurFactor:
    at: _CrossedAt
    blocks: _BlockFactor
    B: scipy.sparse.csr_array  # H_ar (q_a, q_r)
    E: scipy.sparse.csr_array  # H_aa^-1 H_ar (q_a, q_r), canonical
    schur: DenseSchur | SparseSchur  # of S = H_rr - H_ar^T E (q_r, q_r)
    log_det: float

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        _, _, ia, ir = self.at.system._split
        y_a = self.blocks.solve(rhs[ia])
        x_r = self.schur.solve(rhs[ir] - self.B.T @ y_a)
        out = np.empty_like(rhs)
        out[ia] = y_a - self.E @ x_r
        out[ir] = x_r
        return out

    @cached_property
    def _G(self) -> scipy.sparse.csr_array:
        """``E S^-1`` on the pattern of ``E``, all that ``H^-1``'s ``(a, a)`` blocks and ``(a, r)`` entries need."""
        return self.schur.right_divide(self.E)

    def _a_blocks(self) -> np.ndarray:
        """The ``a`` term's diagonal blocks of ``H^-1``, ``D^-1 + E S^-1 E^T`` (n_levels, k, k)."""
        inverse = self.blocks.inverse.copy()
        k = inverse.shape[1]
        for j in range(k):
            for m in range(k):
                inverse[:, j, m] += self._G[j::k].multiply(self.E[m::k]).sum(axis=1)
        return inverse

    def _rest_positions(self) -> list[np.ndarray]:
        """Each term's effect indices (n_levels, k) among the ``r`` effects (those of ``a`` unused)."""
        _, index, _, ir = self.at.system._split
        position = np.zeros(self.at.system.n_effects, dtype=np.int64)
        position[ir] = np.arange(len(ir))
        return [position[idx] for idx in index]

    def cond_cov(self) -> list[np.ndarray]:
        a = self.at.system._split[0]
        blocks = [
            self._a_blocks() if t == a else self.schur.entries(idx[:, :, None], idx[:, None, :])
            for t, idx in enumerate(self._rest_positions())
        ]
        return [np.einsum("jl,glm,nm->gjn", T, block, T) for T, block in zip(self.at.factors, blocks)]

    def leverage(self) -> np.ndarray:
        """``diag(Z Lambda H^-1 Lambda^T Z^T)`` of shape (n,)."""
        (cols_a, z_a), term_a = self.at.gathered_a, self.at.block.term
        cols_r = np.concatenate([cols for cols, _ in self.at.rest], axis=1)  # (n, k_r summed over the r terms)
        z_r = np.concatenate([z for _, z in self.at.rest], axis=1)
        h = np.einsum("ij,ijm,im->i", z_a, self._a_blocks()[term_a.codes], z_a)
        h -= 2.0 * np.einsum("ij,ijm,im->i", z_a, lookup(self._G, cols_a[:, :, None], cols_r[:, None, :]), z_r)
        return h + np.einsum("ij,ijm,im->i", z_r, self.schur.entries(cols_r[:, :, None], cols_r[:, None, :]), z_r)


def group_system(terms: tuple[GroupTerm, ...]) -> BlockSystem | CrossedSystem:
    """The system for ``terms``: blocks for one term, crossed for several."""
    return BlockSystem(terms[0]) if len(terms) == 1 else CrossedSystem(tuple(terms))
