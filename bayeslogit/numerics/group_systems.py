"""The group effects' part of a multilevel model's linear predictor, ``Z Lambda u``, and its penalised Hessian.

Conventions
-----------
``n`` rows, ``q`` spherical effects ``u`` (all terms' levels times their columns, term by term, level-major
within a term as lme4 orders them: level 0's ``k`` effects, then level 1's), ``p`` columns of a matrix ``M`` (n, p).
``Lambda`` is block diagonal, each level of a term carrying its term's relative factor ``T`` (see
:mod:`.group_covariance`); ``Z`` holds each row's term values in its levels' columns.

A system fixed at the relative factors, :meth:`BlockSystem.at` or :meth:`SparseSystem.at`, maps effects to the
linear predictor (``effect(u) = Z Lambda u``, (q,) -> (n,)), rows back to effects (``adjoint(r) = Lambda^T Z^T r``,
(n,) or (n, p) -> (q,) or (q, p)), splits ``Lambda u`` by term (``term_effects(u)``, a list of (n_levels, k)) and
factors the penalised Hessian ``H = Lambda^T Z^T diag(w) Z Lambda + I``
(``factor(w)``, returning an object with ``solve(rhs)`` for rhs (q,) or (q, p), ``log_det`` the log determinant
and ``cond_cov()`` the conditional covariance blocks ``Lambda H^-1 Lambda^T`` of each term's levels).

One grouping factor makes ``H`` block diagonal, a ``k x k`` block per level: :class:`BlockSystem` treats all blocks
at once, as arrays of shape (n_levels, k, k). Several (crossed or nested) need the whole matrix:
:class:`SparseSystem` builds ``Z Lambda`` sparse and factors ``H`` dense (up to a few thousand effects).
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.linalg
import scipy.sparse

from bayeslogit.numerics.group_covariance import relative_factor, theta_size
from bayeslogit.numerics.group_design import GroupTerm


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
        return _BlockFactor(self.T, inverse, float(np.sum(np.linalg.slogdet(H)[1])))


@dataclass(frozen=True, eq=False)
class _BlockFactor:
    T: np.ndarray
    inverse: np.ndarray  # (n_levels, k, k)
    log_det: float

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        n_levels, k, _ = self.inverse.shape
        blocks = rhs.reshape(n_levels, k, -1)
        return np.matmul(self.inverse, blocks).reshape(rhs.shape)

    def cond_cov(self) -> list[np.ndarray]:
        return [np.einsum("jl,glm,nm->gjn", self.T, self.inverse, self.T)]


@dataclass(frozen=True, eq=False)
class SparseSystem:
    """Several grouping factors: ``Z`` sparse (n, q), ``H`` factored dense."""

    terms: tuple[GroupTerm, ...]

    @property
    def n_effects(self) -> int:
        return sum(term.n_levels * term.n_columns for term in self.terms)

    @cached_property
    def Z(self) -> scipy.sparse.csr_matrix:
        """``Z`` of shape (n, q): row ``i`` holds term ``t``'s values in the columns of its level."""
        blocks = []
        for term in self.terms:
            n, k = term.values.shape
            cols = term.codes[:, None] * k + np.arange(k)
            blocks.append(
                scipy.sparse.csr_matrix(
                    (term.values.ravel(), cols.ravel(), np.arange(0, n * k + 1, k)), shape=(n, term.n_levels * k)
                )
            )
        return scipy.sparse.hstack(blocks, format="csr")

    def at(self, theta: np.ndarray) -> "_SparseAt":
        """The system at the thetas (n_theta,)."""
        factors = _term_factors(self.terms, theta)
        Lambda = scipy.sparse.block_diag(
            [scipy.sparse.kron(scipy.sparse.identity(term.n_levels), T) for term, T in zip(self.terms, factors)],
            format="csr",
        )
        return _SparseAt(self.terms, factors, Lambda, (self.Z @ Lambda).tocsr())


@dataclass(frozen=True, eq=False)
class _SparseAt:
    terms: tuple[GroupTerm, ...]
    factors: list
    Lambda: scipy.sparse.csr_matrix
    ZL: scipy.sparse.csr_matrix

    def effect(self, u: np.ndarray) -> np.ndarray:
        return self.ZL @ u

    def term_effects(self, u: np.ndarray) -> list[np.ndarray]:
        b, out, start = self.Lambda @ u, [], 0
        for term in self.terms:
            size = term.n_levels * term.n_columns
            out.append(b[start : start + size].reshape(term.n_levels, -1))
            start += size
        return out

    def adjoint(self, r: np.ndarray) -> np.ndarray:
        return self.ZL.T @ r

    def factor(self, w: np.ndarray) -> "_DenseFactor":
        H = (self.ZL.T @ self.ZL.multiply(w[:, None]).tocsr()).toarray()
        H[np.diag_indices_from(H)] += 1.0
        chol = scipy.linalg.cho_factor(H, lower=True, check_finite=False)
        return _DenseFactor(self, chol, float(2.0 * np.sum(np.log(np.diag(chol[0])))))


@dataclass(frozen=True, eq=False)
class _DenseFactor:
    system: _SparseAt
    chol: tuple
    log_det: float

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return scipy.linalg.cho_solve(self.chol, rhs, check_finite=False)

    def cond_cov(self) -> list[np.ndarray]:
        inverse = self.solve(np.eye(len(self.chol[0])))
        cov = self.system.Lambda @ (self.system.Lambda @ inverse).T
        blocks, start = [], 0
        for term in self.system.terms:
            k, n_levels = term.n_columns, term.n_levels
            index = start + np.arange(n_levels)[:, None] * k + np.arange(k)
            blocks.append(cov[index[:, :, None], index[:, None, :]])
            start += n_levels * k
        return blocks


def group_system(terms: tuple[GroupTerm, ...]) -> BlockSystem | SparseSystem:
    """The system for ``terms``: blocks for one term, sparse for several."""
    return BlockSystem(terms[0]) if len(terms) == 1 else SparseSystem(tuple(terms))
