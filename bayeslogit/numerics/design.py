"""A design matrix with an implicit intercept column, visited in row blocks.

Conventions
-----------
``n`` samples, ``p`` features, ``P = p + intercept`` coefficients per linear predictor.
``X`` is an ndarray (n, p) of float64 whose rows are contiguous (C order, or a view taking every k-th row
of such an array), WITHOUT an intercept column: the intercept is handled on its own, so the design is never
copied to prepend a column of ones. Coefficients ``B`` have shape (P, M) (or (P, S * M) for S stacked
coefficient matrices), the intercept in row 0 when present.

Every matrix product here is NumPy's, so a pass over the data calls one BLAS library: SciPy bundles another
OpenBLAS with its own thread pool, and alternating the two in a loop makes their spinning threads fight over the
cores. Passes over large data run it on one thread (:func:`~bayeslogit.numerics.blas_threads.one_blas_thread`).
The rows are taken in blocks of :func:`~bayeslogit.numerics.blocks.block_slices`, each row counting its ``p`` values:
a block, read twice in a pass (by the linear predictor, then by the gradient or Hessian), stays in the cache.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np

from bayeslogit.numerics import fused
from bayeslogit.numerics.blas_threads import one_blas_thread
from bayeslogit.numerics.blocks import block_slices


@dataclass(frozen=True)
class Design:
    """A design matrix with an implicit intercept column.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    intercept : bool
    """

    X: np.ndarray
    intercept: bool = True

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_coef(self) -> int:
        return self.X.shape[1] + self.intercept

    def linear_predictor(self, B: np.ndarray, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        """``eta = [1, X] @ B`` of shape (n_rows, M) for ``B`` of shape (P, M)."""
        X = self.X[rows]
        if not self.intercept:
            return X @ B
        eta = X @ B[1:]
        eta += B[0]
        return eta

    def blocks(self, block_rows: int | None = None) -> Iterator[slice]:
        """Row slices covering the data in blocks of ``block_rows`` rows (default: the package's block size,
        :func:`~bayeslogit.numerics.blocks.block_slices`, for rows of ``p`` values)."""
        return block_slices(self.n_samples, self.X.shape[1], block_rows)

    def transpose_product(self, d: np.ndarray, rows: slice = slice(None)) -> np.ndarray:
        """``[1, X]^T @ d`` of shape (P, M) over ``rows``, for ``d`` of shape (n_rows, M)."""
        product = d.T @ self.X[rows]  # (M, p): NumPy's gemm reads X in its own (row) order
        if self.intercept:
            product = np.column_stack([d.sum(axis=0), product])
        return product.T

    def one_blas_thread(self, n_columns: int = 1) -> AbstractContextManager:
        """:func:`~bayeslogit.numerics.blas_threads.one_blas_thread` for a pass over this design with products of
        ``n_columns`` columns."""
        return one_blas_thread(self.n_samples * self.n_coef * n_columns)

    def largest_linear_predictor(self, B: np.ndarray) -> float:
        """``max |eta|`` over the rows and linear predictors of ``eta = [1, X] @ B``, ``B`` of shape (P, M)."""
        if fused.fused_applies(self.X.size * B.shape[1]):
            return fused.largest_linear_predictor(self.X, self.intercept, B)
        with self.one_blas_thread(B.shape[1]):
            return max(float(np.abs(self.linear_predictor(B, rows)).max()) for rows in self.blocks())

    def gram(self, weights: np.ndarray) -> np.ndarray:
        """``Z^T diag(weights) Z`` of shape (P, P), with ``Z = [1, X]`` and ``weights >= 0``."""
        gram = np.zeros((self.n_coef, self.n_coef))
        with self.one_blas_thread(self.n_coef):
            for rows in self.blocks():
                add_gram(gram, self.X[rows], weights[rows], self.intercept, symmetric=True)
        return gram

    def moments(self, weights: np.ndarray, center: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``sum_i w_i (x_ij - c_j)`` and ``sum_i w_i (x_ij - c_j)^2``, each of shape (p,), about ``center`` (p,).

        With a centre near the weighted mean, the sum of squared deviations from the mean,
        ``second - first^2 / sum(w)``, does not suffer the cancellation of ``sum w x^2 - (sum w x)^2 / sum w``.
        """
        if fused.fused_applies(self.X.size):
            return fused.column_moments(self.X, weights, center)[:2]
        first, second = np.zeros(self.X.shape[1]), np.zeros(self.X.shape[1])
        with self.one_blas_thread():
            for rows in self.blocks():
                deviation = self.X[rows] - center
                first += weights[rows] @ deviation
                deviation *= deviation
                second += weights[rows] @ deviation
        return first, second

    def take(self, rows: np.ndarray | slice) -> "Design":
        """The same design on a subset of rows (indices or a mask: a copy; a slice: a view)."""
        if isinstance(rows, np.ndarray) and rows.dtype.kind in "iu":
            return Design(np.take(self.X, rows, axis=0), self.intercept)  # NumPy's faster gather of whole rows
        return Design(self.X[rows], self.intercept)


def add_gram(H: np.ndarray, X: np.ndarray, d: np.ndarray, intercept: bool, symmetric: bool):
    """Add ``Z^T diag(d) Z`` (``Z = [1, X]``, ``X`` of shape (n, p), ``d`` (n,)) to the (P, P) block ``H``.

    ``symmetric`` marks a diagonal block of the Hessian, whose ``d >= 0``: its X-part is then the product
    of ``sqrt(d) * X`` with itself, which NumPy computes as a symmetric rank-k update (half the work).
    Products that overflow are left infinite, without a warning: the callers test the result.
    """
    start = int(intercept)
    with np.errstate(over="ignore", invalid="ignore"):
        if intercept:
            H[0, 0] += d.sum()
            cross = d @ X
            H[0, 1:] += cross
            H[1:, 0] += cross
        if X.shape[1] == 0:
            return
        if symmetric:
            scaled = X * np.sqrt(d)[:, None]
            H[start:, start:] += scaled.T @ scaled
        else:
            H[start:, start:] += X.T @ (X * d[:, None])
