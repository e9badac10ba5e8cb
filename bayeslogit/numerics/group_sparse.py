"""The Schur complement of crossed or nested group terms, built from sparse products and factored dense or sparse.

Conventions as in :mod:`.group_systems`: ``H = [[D, B], [B^T, C]]`` in the effects of the eliminated term ``a``
(``q_a`` of them, ``D`` block diagonal, a (k, k) block per level) and of the other terms ``r`` (``q_r``). Each row
touches one level of each term, so ``B`` (q_a, q_r) and ``C`` (q_r, q_r) have a few nonzeros per row of data, and
so have ``E = D^-1 B`` and the Schur complement ``S = C - B^T E`` (q_r, q_r): they are built as scipy.sparse
matrices, never dense.

``S`` is factored dense (LAPACK's Cholesky) or sparse (SuperLU in symmetric mode with a minimum degree ordering,
which on a symmetric positive definite matrix is a Cholesky factorisation ``L D L^T``), by :func:`prefers_sparse`'s
rule on the pattern of ``S``: crossed factors paired at random fill a sparse factor almost completely, and dense
BLAS then runs several times faster; nested factors, or factors crossed in few combinations, leave it sparse.

``H^-1 = [[D^-1 + E S^-1 E^T, -E S^-1], [-S^-1 E^T, S^-1]]``: its blocks that the conditional covariances and the
rows' leverages need are found from the entries of ``S^-1`` on the pattern of ``S`` alone (``E``'s rows touch only
levels crossed in some row, which ``S`` couples). Dense, those come from ``S^-1`` (LAPACK's ``potri``); sparse, from
Takahashi's recursion on the factor, which yields ``S^-1`` on the factor's pattern in about the factorisation's work.
"""

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.csgraph
import scipy.sparse.linalg

DENSE_MAX_EFFECTS = 1000
"""Schur complements of at most this many effects are factored dense, whatever their pattern."""
DENSE_PRODUCT_MAX = 2**20
"""A dense Schur complement's ``E S^-1`` is formed dense (then read on ``E``'s pattern) up to this many entries."""
SPARSE_MAX_ENVELOPE = 0.2
"""Larger ones are factored sparse when their envelope in reverse Cuthill-McKee order (the entries between each row's
first nonzero and its diagonal, a bound on the sparse factor's fill) is at most this share of the dense triangle."""


def sparse_cross(firsts: list, seconds: list, w: np.ndarray, shape: tuple[int, int]) -> scipy.sparse.csr_array:
    """``sum_i w_i z1_i z2_i^T`` placed at the rows' columns, over every pair of a term of ``firsts`` and one of
    ``seconds`` (lists of ``(columns, values)``, each (n, k)): a sparse matrix of shape ``shape``."""
    rows, cols, values = [], [], []
    for cols1, z1 in firsts:
        for cols2, z2 in seconds:
            shape_3d = (len(w), cols1.shape[1], cols2.shape[1])
            rows.append(np.broadcast_to(cols1[:, :, None], shape_3d).ravel())
            cols.append(np.broadcast_to(cols2[:, None, :], shape_3d).ravel())
            values.append(((w[:, None] * z1)[:, :, None] * z2[:, None, :]).ravel())
    coo = (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols)))
    return scipy.sparse.csr_array(coo, shape=shape)


def lookup(matrix: scipy.sparse.csr_array, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``matrix[rows, cols]`` for broadcastable index arrays, 0 off the pattern of ``matrix`` (canonical CSR)."""
    rows, cols = np.broadcast_arrays(rows, cols)
    if matrix.nnz == 0:  # a term whose sd is 0 leaves no entries
        return np.zeros(rows.shape)
    n_cols = matrix.shape[1]
    keys = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr)) * n_cols + matrix.indices
    query = (np.asarray(rows, np.int64) * n_cols + cols).ravel()
    at = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[at] == query, matrix.data[at], 0.0).reshape(np.shape(rows))


def pattern_product(E: scipy.sparse.csr_array, entries) -> scipy.sparse.csr_array:
    """``E S^-1`` on the pattern of ``E`` (canonical CSR (q_a, q_r)), from ``entries(rows, cols)``, the entries of
    ``S^-1``: entry ``(x, c)`` sums ``E[x, c'] S^-1[c', c]`` over the ``c'`` of row ``x``, all pairs of each row."""
    lengths = np.diff(E.indptr)
    row = np.repeat(np.arange(E.shape[0]), lengths)  # each entry's row
    counts = lengths[row]  # each entry's row's entries, summed into it
    target = np.repeat(np.arange(E.nnz), counts)
    source = E.indptr[row[target]] + np.arange(len(target)) - np.repeat(np.cumsum(counts) - counts, counts)
    values = E.data[source] * entries(E.indices[source], E.indices[target])
    return scipy.sparse.csr_array((np.bincount(target, values, E.nnz), E.indices, E.indptr), shape=E.shape)


def block_diagonal(blocks: np.ndarray) -> scipy.sparse.csr_array:
    """The block-diagonal sparse matrix (g k, g k) of ``blocks`` (g, k, k)."""
    n_levels, k, _ = blocks.shape
    positions = np.arange(n_levels + 1)
    return scipy.sparse.bsr_array((blocks, positions[:-1], positions), shape=(n_levels * k,) * 2).tocsr()


def prefers_sparse(pattern: scipy.sparse.csr_array) -> bool:
    """Whether the Schur complement of pattern ``pattern`` (q_r, q_r), symmetric with its diagonal, is factored
    sparse: above :data:`DENSE_MAX_EFFECTS` effects and within :data:`SPARSE_MAX_ENVELOPE`."""
    n = pattern.shape[0]
    if n <= DENSE_MAX_EFFECTS:
        return False
    order = scipy.sparse.csgraph.reverse_cuthill_mckee(pattern, symmetric_mode=True)
    permuted = pattern[order][:, order].tocsr()
    first = np.minimum.reduceat(permuted.indices, permuted.indptr[:-1])
    envelope = float(np.sum(np.arange(n) - np.minimum(first, np.arange(n)) + 1))
    return envelope <= SPARSE_MAX_ENVELOPE * n * (n + 1) / 2


@dataclass(frozen=True, eq=False)
class DenseSchur:
    """``S`` factored by LAPACK's Cholesky (in Fortran order, which its solves take without copying the factor);
    ``S^-1``'s lower triangle formed on first use."""

    chol: np.ndarray  # lower Cholesky factor (q_r, q_r), Fortran order, the upper triangle left over

    @classmethod
    def of(cls, S: scipy.sparse.csr_array) -> "DenseSchur":
        chol, info = scipy.linalg.lapack.dpotrf(S.toarray(order="F"), lower=1, clean=0, overwrite_a=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"the Schur complement is not positive definite (LAPACK potrf info {info})")
        return cls(chol)

    @property
    def log_det(self) -> float:
        return float(2.0 * np.sum(np.log(np.diagonal(self.chol))))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return scipy.linalg.lapack.dpotrs(self.chol, rhs, lower=1)[0]

    @cached_property
    def _inverse(self) -> np.ndarray:
        return scipy.linalg.lapack.dpotri(self.chol, lower=1)[0]

    def entries(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``S^-1[rows, cols]`` for broadcastable index arrays, on the pattern of ``S``."""
        return self._inverse[np.maximum(rows, cols), np.minimum(rows, cols)]

    def right_divide(self, E: scipy.sparse.csr_array) -> scipy.sparse.csr_array:
        """``E S^-1`` on the pattern of ``E`` (q_a, q_r): by a dense product up to :data:`DENSE_PRODUCT_MAX`
        entries, else by :func:`pattern_product`."""
        if E.shape[0] * E.shape[1] > DENSE_PRODUCT_MAX:
            return pattern_product(E, self.entries)
        lower = np.tril(self._inverse)
        product = E @ (lower + np.tril(lower, -1).T)
        row = np.repeat(np.arange(E.shape[0]), np.diff(E.indptr))
        return scipy.sparse.csr_array((product[row, E.indices], E.indices, E.indptr), shape=E.shape)


@dataclass(frozen=True, eq=False)
class SparseSchur:
    """``S`` factored by SuperLU in symmetric mode: ``S[o][:, o] = L U``, ``U = diag(d) L^T``, ``o`` the ordering."""

    lu: object  # scipy.sparse.linalg.SuperLU

    @classmethod
    def of(cls, S: scipy.sparse.csr_array) -> "SparseSchur":
        options = {"SymmetricMode": True}
        lu = scipy.sparse.linalg.splu(S.tocsc(), "MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options=options)
        return cls(lu)

    @property
    def log_det(self) -> float:
        return float(np.sum(np.log(self.lu.U.diagonal())))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return self.lu.solve(rhs)

    @cached_property
    def _inverse(self) -> scipy.sparse.csr_array:
        """``S^-1`` on the pattern of ``U`` (upper triangle, in the factor's order), by Takahashi's recursion."""
        U = scipy.sparse.csr_array(self.lu.U)
        U.sort_indices()
        values = _takahashi()(U.indptr, U.indices, U.data, U.diagonal())
        return scipy.sparse.csr_array((values, U.indices, U.indptr), shape=U.shape)

    def entries(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``S^-1[rows, cols]`` for broadcastable index arrays, on the pattern of ``S``."""
        i, j = self.lu.perm_r[rows], self.lu.perm_r[cols]
        return lookup(self._inverse, np.minimum(i, j), np.maximum(i, j))

    def right_divide(self, E: scipy.sparse.csr_array) -> scipy.sparse.csr_array:
        """``E S^-1`` on the pattern of ``E`` (q_a, q_r), by :func:`pattern_product`."""
        return pattern_product(E, self.entries)


@dataclass(frozen=True, eq=False)
class SparseSchurFactor:
    """``H`` factored through its sparse Schur complement (:meth:`.group_systems._CrossedAt.factor`); ``at`` the
    crossed system at its thetas, ``blocks`` the eliminated term's factor."""

    at: object
    blocks: object
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


def _takahashi_kernel(indptr, indices, data, diagonal):
    """The values of ``S^-1`` on the pattern of the upper factor ``U`` (CSR, sorted, diagonal first in each row):
    from the last row up, ``Z[j, i] = -sum_k U[j, k] / U[j, j] Z[k, i]`` for ``i, k > j`` in row ``j``'s pattern,
    and ``Z[j, j] = 1 / U[j, j] - sum_k U[j, k] / U[j, j] Z[j, k]``."""
    n = len(indptr) - 1
    z = np.zeros(len(data))
    for j in range(n - 1, -1, -1):
        start, stop = indptr[j], indptr[j + 1]
        for e in range(start + 1, stop):
            i, total = indices[e], 0.0
            for f in range(start + 1, stop):
                k = indices[f]
                low, high = min(k, i), max(k, i)
                lo, hi = indptr[low], indptr[low + 1]
                while lo < hi:  # binary search for column ``high`` in row ``low``
                    mid = (lo + hi) // 2
                    if indices[mid] < high:
                        lo = mid + 1
                    else:
                        hi = mid
                if lo < indptr[low + 1] and indices[lo] == high:
                    total += data[f] * z[lo]
            z[e] = -total / diagonal[j]
        total = 0.0
        for e in range(start + 1, stop):
            total += data[e] * z[e]
        z[start] = (1.0 - total) / diagonal[j]
    return z


@cache
def _takahashi():
    """:func:`_takahashi_kernel` compiled by Numba (imported on first use), cached on disk where it can be."""
    import numba

    try:
        return numba.njit(cache=True)(_takahashi_kernel)
    except RuntimeError:  # a read-only installation: no place for the cache
        return numba.njit(_takahashi_kernel)
