"""Weighted means and standard deviations of the predictors: what autoscaled priors divide by.

The weights count rows (frequency weights), so a row of weight 2 is two rows. The sum of squared deviations is
taken from the weighted mean in a second pass over the rows (:meth:`~bayeslogit.numerics.design.Design.moments`),
which keeps the digits of a column far from zero that ``sum w x^2 - (sum w x)^2 / sum w`` would cancel.
"""

import numpy as np

from bayeslogit.numerics.design import Design


def weighted_moments(X: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The total weight, each column's weighted mean and its weighted sum of squared deviations from the mean.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    weights : ndarray of shape (n,)
        Non-negative.

    Returns
    -------
    total : float
    mean : ndarray of shape (p,)
        Zero when the weights sum to zero.
    squares : ndarray of shape (p,)
        ``sum_i w_i (x_ij - mean_j)^2``.
    """
    total = float(weights.sum())
    mean = weights @ X / total if total > 0 else np.zeros(X.shape[1])
    return total, mean, Design(X, False).moments(weights, mean)[1]


def frequency_sd(squares: np.ndarray, total: float) -> np.ndarray:
    """Standard deviations from weighted sums of squared deviations (p,) under frequency weights summing to
    ``total``: ``sqrt(squares / (total - 1))``, NaN where ``total <= 1`` (no frequency makes a sample of one row)."""
    return np.sqrt(squares / (total - 1.0)) if total > 1 else np.full(np.shape(squares), np.nan)


def weighted_sd(X: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each column's standard deviation, shape (p,), the weights counting rows (divisor ``sum(w) - 1``; NaN when
    the weights sum to 1 or less)."""
    total, _, squares = weighted_moments(X, weights)
    return frequency_sd(squares, total)
