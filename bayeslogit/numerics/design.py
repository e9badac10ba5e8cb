"""A design matrix with an implicit intercept column, visited in row blocks.

Conventions
-----------
``n`` samples, ``p`` features, ``P = p + intercept`` coefficients per linear predictor.
``X`` is an ndarray (n, p), C-contiguous float64, WITHOUT an intercept column: the intercept is handled on
its own, so the design is never copied to prepend a column of ones. Coefficients ``B`` have shape
(P, M) (or (P, S * M) for S stacked coefficient matrices), the intercept in row 0 when present.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.linalg.blas import dsyrk

_BLOCK_ELEMENTS = 2**20  # about 8 MB of float64 per block buffer


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
        return X @ B[1:] + B[0]

    @property
    def block_size(self) -> int:
        """Default rows per block: about ``_BLOCK_ELEMENTS`` elements, at least 1024 rows."""
        return max(1024, _BLOCK_ELEMENTS // max(self.X.shape[1], 1))

    def blocks(self, block_rows: int | None = None) -> Iterator[slice]:
        """Row slices covering the data in blocks of about ``_BLOCK_ELEMENTS`` elements."""
        size = block_rows or self.block_size
        for start in range(0, self.n_samples, size):
            yield slice(start, min(start + size, self.n_samples))

    def gram(self, weights: np.ndarray) -> np.ndarray:
        """``Z^T diag(weights) Z`` of shape (P, P), with ``Z = [1, X]``."""
        gram = np.zeros((self.n_coef, self.n_coef), order="F")
        buffer = np.empty((min(self.n_samples, self.block_size), self.X.shape[1]))
        for rows in self.blocks():
            add_gram(gram, self.X[rows], weights[rows], self.intercept, buffer, symmetric=True)
        return mirror_upper(gram)

    def take(self, rows: np.ndarray) -> "Design":
        """The same design on a subset of rows."""
        return Design(np.ascontiguousarray(self.X[rows]), self.intercept)


def add_gram(H: np.ndarray, X: np.ndarray, d: np.ndarray, intercept: bool, buffer: np.ndarray, symmetric: bool):
    """Add ``Z^T diag(d) Z`` (``Z = [1, X]``) to the (P, P) block ``H`` in place.

    ``symmetric`` marks a diagonal block of the Hessian, whose ``d >= 0``: then the X-part is a
    rank-k update of ``sqrt(d) * X``, written into the upper triangle only (the caller mirrors it).
    """
    start = int(intercept)
    if intercept:
        H[0, 0] += d.sum()
        H[0, 1:] += d @ X
        if not symmetric:
            H[1:, 0] += d @ X
    if X.shape[1] == 0:
        return
    scaled = buffer[: X.shape[0]]
    if symmetric:
        np.multiply(X, np.sqrt(d)[:, None], out=scaled)
        H[start:, start:] = dsyrk(1.0, scaled.T, beta=1.0, c=H[start:, start:], trans=0, lower=0)
    else:
        np.multiply(X, d[:, None], out=scaled)
        H[start:, start:] += X.T @ scaled


def mirror_upper(upper: np.ndarray) -> np.ndarray:
    """The symmetric matrix whose upper triangle is that of ``upper``."""
    return np.triu(upper) + np.triu(upper, 1).T
