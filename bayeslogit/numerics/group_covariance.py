"""A group term's covariance in lme4's parameterisation: ``theta`` the relative Cholesky factor, and back.

A term of ``k`` columns has group effects ``b_g = T u_g`` with ``u_g ~ N(0, I_k)``, so that their covariance is
``T T^T``; ``T`` is lower triangular with a non-negative diagonal. ``theta`` holds ``T``'s lower triangle by columns
(lme4's order: ``T_11, T_21, ..., T_k1, T_22, ...``), ``k (k + 1) / 2`` numbers for a correlated term, and its
diagonal alone, ``k`` numbers, for an uncorrelated one. For a scalar term ``theta`` is the sd. The binomial family
has no residual scale, so the relative covariance is the covariance itself.
"""

import numpy as np


def theta_size(k: int, correlated: bool) -> int:
    """The number of thetas of a term of ``k`` columns."""
    return k * (k + 1) // 2 if correlated else k


def _lower_indices(k: int, correlated: bool) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices in ``T`` of the thetas, in their order: the lower triangle by columns."""
    if not correlated:
        return np.arange(k), np.arange(k)
    cols, rows = np.triu_indices(k)  # (col, row) pairs with row >= col, column-major
    return rows, cols


def theta_on_diagonal(k: int, correlated: bool) -> np.ndarray:
    """Boolean mask of shape (n_theta,): which thetas are diagonal entries of ``T`` (bounded below at 0)."""
    rows, cols = _lower_indices(k, correlated)
    return rows == cols


def theta_start(k: int, correlated: bool) -> np.ndarray:
    """lme4's starting thetas: ``T`` the identity."""
    return theta_on_diagonal(k, correlated).astype(float)


def relative_factor(theta: np.ndarray, k: int, correlated: bool) -> np.ndarray:
    """``T`` of shape (k, k) from one term's ``theta`` of shape (n_theta,)."""
    T = np.zeros((k, k))
    T[_lower_indices(k, correlated)] = theta
    return T


def factor_theta(T: np.ndarray, correlated: bool) -> np.ndarray:
    """The thetas of shape (n_theta,) of a lower-triangular ``T`` of shape (k, k)."""
    return T[_lower_indices(T.shape[0], correlated)]


def sd_corr(T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sds (k,) and correlation matrix (k, k) of the covariance ``T T^T``; a correlation with a zero sd is 0."""
    cov = T @ T.T
    sd = np.sqrt(np.diag(cov))
    scale = np.where(sd > 0, sd, 1.0)
    corr = cov / np.outer(scale, scale)
    np.fill_diagonal(corr, 1.0)
    return sd, corr
