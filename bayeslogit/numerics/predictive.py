"""Class probabilities of coefficient draws: the one routine behind every prediction.

Conventions
-----------
``S`` coefficient matrices ``draws`` of shape (S, P, M) (a point fit is ``S = 1``), a design of ``n`` rows
(:class:`~bayeslogit.numerics.objective.Design`), ``K`` classes. The linear predictors of all draws are
one matrix product per block of rows, ``[1, X] @ [B_1 .. B_S]``, and the family turns them into class
log-probabilities. Blocks of rows and of draws keep every intermediate array near
:data:`_BLOCK_ELEMENTS` elements, so memory does not grow with ``n * S``.

* :func:`average_log_proba`: ``log mean_s Pr(w = k | x, B_s)``, the posterior predictive, averaged in
  log space so that no probability is rounded to 0 or 1 before its logarithm is taken;
* :func:`proba_moments`: the mean and sd over the draws of ``Pr(w = k | x, B_s)``;
* :func:`proba_per_draw`: every draw's probabilities (for intervals of ``p`` over draws);
* :func:`log_likelihood_per_draw`: each row's weighted log-likelihood at each draw, and
  :func:`total_log_likelihood` its sum over the rows;
* :func:`probit_average`: the average of the sigmoid of a Gaussian log-odds, without draws.
"""

from collections.abc import Iterator

import numpy as np
from scipy.special import expit, logsumexp

from .design import Design

_BLOCK_ELEMENTS = 2**21  # about 16 MB of float64 per intermediate array


def _blocks(family, design: Design, draws: np.ndarray) -> Iterator[tuple[slice, slice, np.ndarray]]:
    """Class log-probabilities block by block: ``(rows, draw_slice, log_p)`` with ``log_p`` of shape
    (n_rows, n_draws_in_block, K)."""
    S, P, M = draws.shape
    K = family.class_logits(np.zeros((1, M))).shape[-1]
    rows_per_block = max(1, min(design.n_samples, _BLOCK_ELEMENTS // max(K, design.X.shape[1], 1)))
    draws_per_block = max(1, _BLOCK_ELEMENTS // (rows_per_block * K))
    for start in range(0, S, draws_per_block):
        chunk = slice(start, min(start + draws_per_block, S))
        stacked = draws[chunk].transpose(1, 0, 2).reshape(P, -1)  # (P, s * M): draw-major columns
        for rows in design.blocks(rows_per_block):
            eta = design.linear_predictor(stacked, rows).reshape(-1, chunk.stop - chunk.start, M)
            yield rows, chunk, family.log_probabilities(eta)


def average_log_proba(family, design: Design, draws: np.ndarray) -> np.ndarray:
    """Log of the class probabilities averaged over the draws.

    Parameters
    ----------
    family : Bernoulli or Categorical
    design : Design
        ``n`` rows.
    draws : ndarray of shape (S, P, M)

    Returns
    -------
    ndarray of shape (n, K)
    """
    S = draws.shape[0]
    total = None
    for rows, chunk, log_p in _blocks(family, design, draws):
        if total is None:
            total = np.full((design.n_samples, log_p.shape[-1]), -np.inf)
        total[rows] = np.logaddexp(total[rows], logsumexp(log_p, axis=1))
    return total - np.log(S)


def proba_moments(family, design: Design, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over the draws of the class probabilities, each of shape (n, K)."""
    total = square = None
    for rows, _, log_p in _blocks(family, design, draws):
        if total is None:
            total, square = (np.zeros((design.n_samples, log_p.shape[-1])) for _ in range(2))
        p = np.exp(log_p)
        total[rows] += p.sum(axis=1)
        square[rows] += (p**2).sum(axis=1)
    mean = total / len(draws)
    return mean, np.sqrt(np.maximum(square / len(draws) - mean**2, 0.0))


def proba_per_draw(family, design: Design, draws: np.ndarray) -> np.ndarray:
    """Class probabilities of each draw, shape (S, n, K); for a modest ``S * n``."""
    out = None
    for rows, chunk, log_p in _blocks(family, design, draws):
        if out is None:
            out = np.empty((len(draws), design.n_samples, log_p.shape[-1]))
        out[chunk, rows] = np.exp(log_p).transpose(1, 0, 2)
    return out


def log_likelihood_per_draw(family, design: Design, y: np.ndarray, weights: np.ndarray,
                            draws: np.ndarray) -> np.ndarray:
    """Weighted log-likelihood ``w_i log Pr(y_i | x_i, B_s)`` of each row at each draw, shape (S, n).

    Parameters
    ----------
    y : ndarray of int of shape (n,)
    weights : ndarray of shape (n,)
    """
    out = np.empty((len(draws), design.n_samples))
    for rows, chunk, log_p in _blocks(family, design, draws):
        observed = np.take_along_axis(log_p, y[rows, None, None], axis=2)[..., 0]  # (n_rows, s)
        out[chunk, rows] = (weights[rows, None] * observed).T
    return out


def total_log_likelihood(family, design: Design, y: np.ndarray, weights: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The weighted log-likelihood of all rows at each draw, shape (S,), in bounded memory."""
    out = np.zeros(len(draws))
    for rows, chunk, log_p in _blocks(family, design, draws):
        observed = np.take_along_axis(log_p, y[rows, None, None], axis=2)[..., 0]  # (n_rows, s)
        out[chunk] += weights[rows] @ observed
    return out


def probit_average(mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """MacKay's approximation ``sig(mu / sqrt(1 + pi s^2 / 8))`` of ``E[sig(a)]``, ``a ~ N(mu, s^2)``.

    Parameters
    ----------
    mean, variance : ndarray of shape (n,)
        Moments of the log-odds ``a`` of each row.

    Returns
    -------
    ndarray of shape (n,)
    """
    return expit(mean / np.sqrt(1 + np.pi * variance / 8))
