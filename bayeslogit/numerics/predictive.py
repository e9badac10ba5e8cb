"""Class probabilities of coefficient draws: the one routine behind every prediction.

Conventions
-----------
``S`` coefficient matrices ``draws`` of shape (S, P, M) (a point fit is ``S = 1``), a design of ``n`` rows
(:class:`~bayeslogit.numerics.design.Design`), ``K`` classes. The rows are taken in blocks of
:func:`~bayeslogit.numerics.blocks.block_slices`, each row counting its ``S * M`` linear predictors (what the
routines that keep every draw hold of it), spread over a pool of threads (NumPy releases the interpreter lock in
its loops). In a block, the draws are taken in blocks of the same policy, each draw counting
:data:`_VALUES_PER_PREDICTOR` values for each of the block's ``n_rows * M`` linear predictors: their matrix
product ``[1, X] @ [B_1 .. B_s]`` and what the family turns them into stay in the processor's cache. Memory never
grows with ``n * S`` unless the caller asks for every draw.

* :func:`average_log_proba`: ``log mean_s Pr(w = k | x, B_s)``, the posterior predictive. Averaged in
  probability space (for a binary model on many rows and draws, by a compiled pass on every core:
  :mod:`.fused_predictions`); a row where some class's average is below :data:`_EXACT_BELOW` (where a sum of
  probabilities near 1 would have lost its complement's digits, or underflowed) is averaged again in log
  space, so every class's log-probability is exact to rounding;
* :func:`proba_moments`: the mean and sd over the draws of ``Pr(w = k | x, B_s)``;
* :func:`proba_per_draw`: every draw's probabilities (for intervals of ``p`` over draws);
* :func:`log_likelihood_per_draw`: each row's weighted log-likelihood at each draw, and
  :func:`total_log_likelihood` its sum over the rows;
* :func:`expansion_remainder`: the summed negative log-likelihood at each draw less its second-order Taylor
  expansion about a centre (what an exact quadratic expansion on all rows leaves to estimate from a subsample);
* :func:`probit_average`: the average of the sigmoid of a Gaussian log-odds, without draws.
"""

import functools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bayeslogit.numerics import fused_predictions
from bayeslogit.numerics.blas_threads import blas_threads
from bayeslogit.numerics.blocks import block_length, block_slices
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.links import expit, logsumexp

_VALUES_PER_PREDICTOR = 2  # a block's linear predictors fill half the block's values; the family's temporaries add
# a few times that, so a block of a summing routine holds a few BLOCK_VALUES at most
_SUMMED_ROWS = 256  # rows of a block at least where only sums over the draws are kept: fewer, larger products
_EXACT_BELOW = 1e-6  # an average class probability below this is recomputed in log space


def _linear_predictors(design: Design, stacked: np.ndarray, M: int, rows: slice) -> Iterator[tuple[slice, np.ndarray]]:
    """``(draw_slice, eta)`` for the ``rows`` of the design, ``eta`` of shape (n_rows, n_draws_in_block, M), from
    the draws ``stacked`` (P, S * M) in draw-major columns."""
    n_rows = rows.stop - rows.start
    for chunk in block_slices(stacked.shape[1] // M, n_rows * M * _VALUES_PER_PREDICTOR):
        columns = stacked[:, chunk.start * M : chunk.stop * M]
        yield chunk, design.linear_predictor(columns, rows).reshape(n_rows, -1, M)


def _over_row_blocks(design: Design, draws: np.ndarray, reduce: Callable, summed: bool = False) -> list:
    """``reduce(rows, linear_predictors)`` for each block of rows, on a thread pool; results in row order.

    Blocks hold :func:`~bayeslogit.numerics.blocks.block_length` rows of ``S * M`` values, or at least
    :data:`_SUMMED_ROWS` where ``reduce`` keeps only sums over the draws (``summed``), whose linear predictors
    come in chunks of draws (:func:`_linear_predictors`) and are never kept whole. The threads share the cores, so
    BLAS runs one thread per call meanwhile (:func:`~bayeslogit.numerics.blas_threads.blas_threads`).
    """
    S, P, M = draws.shape
    stacked = draws.transpose(1, 0, 2).reshape(P, S * M)  # (P, S * M): draw-major columns, made once
    rows = max(_SUMMED_ROWS, block_length(S * M)) if summed else None
    blocks = list(block_slices(design.n_samples, S * M, rows))

    def work(rows):
        return reduce(rows, _linear_predictors(design, stacked, M, rows))

    if len(blocks) == 1:
        return [work(blocks[0])]
    threads = min(len(blocks), os.cpu_count() or 1)
    with blas_threads(1), ThreadPoolExecutor(threads) as pool:
        return list(pool.map(work, blocks))


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

    def sums(rows, etas):
        return sum(family.probability_sums(eta) for _, eta in etas)

    if fused_predictions.applies(family, design, len(draws)):
        events = fused_predictions.event_probability_sums(design.X, design.intercept, draws)
        mean = np.column_stack([len(draws) - events, events]) / len(draws)
    else:
        mean = np.concatenate(_over_row_blocks(design, draws, sums, summed=True)) / len(draws)
    with np.errstate(divide="ignore"):
        log_mean = np.log(mean)
    inexact = np.flatnonzero((mean < _EXACT_BELOW).any(axis=1))
    if inexact.size:
        log_mean[inexact] = _log_average_in_log_space(family, design.take(inexact), draws)
    return log_mean


def _log_average_in_log_space(family, design: Design, draws: np.ndarray) -> np.ndarray:
    """:func:`average_log_proba` by ``logsumexp`` over the draws, for the rows whose average is tiny."""

    def log_sums(rows, etas):
        return logsumexp(np.concatenate([family.log_probabilities(eta) for _, eta in etas], axis=1), axis=1)

    return np.concatenate(_over_row_blocks(design, draws, log_sums)) - np.log(len(draws))


def proba_moments(family, design: Design, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over the draws of the class probabilities, each of shape (n, K)."""

    def sums(rows, etas):
        total = square = 0.0
        for _, eta in etas:
            p = family.probabilities(eta)
            total, square = total + p.sum(axis=1), square + (p**2).sum(axis=1)
        return np.stack([total, square])

    total, square = np.concatenate(_over_row_blocks(design, draws, sums, summed=True), axis=1) / len(draws)
    return total, np.sqrt(np.maximum(square - total**2, 0.0))


def proba_per_draw(family, design: Design, draws: np.ndarray) -> np.ndarray:
    """Class probabilities of each draw, shape (S, n, K); for a modest ``S * n``."""

    def every(rows, etas):
        return np.concatenate([family.probabilities(eta) for _, eta in etas], axis=1)

    return np.concatenate(_over_row_blocks(design, draws, every)).transpose(1, 0, 2)


def log_likelihood_per_draw(
    family, design: Design, y: np.ndarray, weights: np.ndarray, draws: np.ndarray
) -> np.ndarray:
    """Weighted log-likelihood ``w_i log Pr(y_i | x_i, B_s)`` of each row at each draw, shape (S, n).

    Parameters
    ----------
    y : ndarray of int of shape (n,)
    weights : ndarray of shape (n,)
    """

    def pointwise(rows, etas):
        values = np.concatenate([family.log_likelihood(eta, y[rows]) for _, eta in etas], axis=1)
        return weights[rows, None] * values

    return np.concatenate(_over_row_blocks(design, draws, pointwise)).T


def total_log_likelihood(family, design: Design, y: np.ndarray, weights: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The weighted log-likelihood of all rows at each draw, shape (S,), in bounded memory."""

    def partial(rows, etas):
        return np.concatenate([weights[rows] @ family.log_likelihood(eta, y[rows]) for _, eta in etas])

    return functools.reduce(np.add, _over_row_blocks(design, draws, partial, summed=True))


def expansion_remainder(
    family, design: Design, y: np.ndarray, weights: np.ndarray, centre: np.ndarray, draws: np.ndarray
) -> np.ndarray:
    """``sum_i w_i [nll_i(B_s) - q_i(B_s)]`` at each draw, shape (S,), in bounded memory.

    ``q_i`` is the second-order Taylor expansion of the row's negative log-likelihood in its linear predictors
    about those of ``centre`` (P, M): ``nll_i(c) + d^T g_i + d^T H_i d / 2``, ``d = eta_i(B_s) - eta_i(c)``. The
    remainder is of third order in ``d``, so over draws near the centre it is small and varies little from row
    to row, and a subsample of rows (weights scaled up by the rows not drawn) estimates its sum precisely.

    Parameters
    ----------
    y : ndarray of int of shape (n,)
    weights : ndarray of shape (n,)
    centre : ndarray of shape (P, M)
    draws : ndarray of shape (S, P, M)
    """

    def partial(rows, etas):
        at_centre = design.linear_predictor(centre, rows)  # (r, M)
        _, gradient, hessian = family.derivatives(at_centre, y[rows], weights[rows])  # (r, M), (r, M, M)
        nll_centre = -weights[rows] * family.log_likelihood(at_centre[:, None, :], y[rows])[:, 0]  # (r,)
        totals = []
        for _, eta in etas:  # (r, s, M)
            step = eta - at_centre[:, None, :]
            nll = -weights[rows, None] * family.log_likelihood(eta, y[rows])  # (r, s)
            quadratic = ((gradient[:, None, :] + 0.5 * step @ hessian) * step).sum(axis=2)  # H_i symmetric
            totals.append((nll - nll_centre[:, None] - quadratic).sum(axis=0))
        return np.concatenate(totals)

    return functools.reduce(np.add, _over_row_blocks(design, draws, partial, summed=True))


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
