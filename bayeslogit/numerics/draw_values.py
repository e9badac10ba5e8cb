"""The objective at many coefficient draws, in time that does not grow as ``n * S``: a Laplace fit's log weights.

Up to :data:`EXACT_DRAW_ROWS` rows, every row's log-likelihood at every draw is summed. Beyond, the cost would grow
as ``n * S``: the negative log-likelihood at each draw is instead its second-order Taylor expansion about the
draws' mean ``c``, exact over all rows (their value, gradient and Hessian at ``c``: one pass, as a Newton step's),
plus the expansion's remainder estimated from a seeded subsample of about :data:`EXACT_DRAW_ROWS` rows
(:func:`~bayeslogit.numerics.predictive.expansion_remainder`). The remainder is of third order in ``B_s - c``, so
its sampling error is far below that of a subsample's log-likelihood (``tests/test_objective.py`` bounds it against
the exact sum; ``benchmarks/posterior_large.py`` times the Laplace fit that needs it). The prior's term is exact at
every draw.

Rows in memory and rows in chunks differ in two things only, which each gives :func:`values_of_draws`: the pass
over all rows, and the blocks the subsample is drawn from (all the rows in memory, or each chunk). Each block gives
its share of the subsample (:func:`subsample_size`), drawn by a generator seeded by the block's index
(:func:`subsample`), so the subsample is stratified by block and reproducible; with few rows it holds every row,
and the values are exact.
"""

from collections.abc import Callable

import numpy as np

from bayeslogit.numerics.design import Design
from bayeslogit.numerics.predictive import expansion_remainder, total_log_likelihood

EXACT_DRAW_ROWS = 10_000
"""Rows up to which :func:`values_of_draws` sums every row's log-likelihood at every draw; beyond, it expands about
the draws' mean on all rows and estimates the remainder from about this many rows."""
_SUBSAMPLE_SEED = 20261202  # of the subsample, so that a Laplace fit's k-hat is reproducible


def subsample_size(block_rows: int, total_rows: int) -> int:
    """Rows that a block of ``block_rows`` of the ``total_rows`` rows gives the subsample: its share of
    :data:`EXACT_DRAW_ROWS`, rounded up, and all its rows at most."""
    return min(block_rows, -(-EXACT_DRAW_ROWS * block_rows // total_rows))


def subsample(index: int, size: int, X: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple:
    """``size`` rows of a block, its ``X`` (n, p), ``y`` (n,) and ``weights`` (n,), drawn without replacement by a
    generator seeded by the block's ``index``, in their order, with their weights scaled by ``n / size`` so that
    sums over them estimate the block's; the block as it is when ``size >= n``."""
    if size >= len(y):
        return X, y, weights
    rows = np.sort(np.random.default_rng([_SUBSAMPLE_SEED, index]).choice(len(y), size, replace=False))
    return X[rows], y[rows], weights[rows] * (len(y) / size)


def values_of_draws(objective, draws: np.ndarray, n_rows: int, over_rows: Callable) -> np.ndarray:
    """The objective at each of ``S`` coefficient matrices ``draws`` (S, P, M), shape (S,).

    Parameters
    ----------
    objective : Objective
        Its family, prior's term and intercept (its rows are not read).
    draws : ndarray of shape (S, P, M)
    n_rows : int
        The rows of the data.
    over_rows : callable
        ``over_rows(centre) -> (expansion, (X, y, weights))``, one pass over the rows: ``expansion`` is the
        negative log-likelihood's value, gradient (P*M,) and Hessian (P*M, P*M) in ``vec(B)`` coordinates at
        ``centre`` (P, M), summed over all rows (None when ``centre`` is None: every row is in the subsample), and
        ``(X, y, weights)`` the subsample, each block's drawn by :func:`subsample` with :func:`subsample_size`.
    """
    centre = None if n_rows <= EXACT_DRAW_ROWS else draws.mean(axis=0)
    expansion, (X, y, weights) = over_rows(centre)
    design = Design(X, objective.design.intercept)
    if centre is None:
        return objective.prior.penalties(draws) - total_log_likelihood(objective.family, design, y, weights, draws)
    remainder = expansion_remainder(objective.family, design, y, weights, centre, draws)
    return objective.prior.penalties(draws) + taylor_values(expansion, centre, draws) + remainder


def taylor_values(expansion: tuple, centre: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The second-order Taylor expansion ``f(c) + g^T d + d^T H d / 2``, ``d = vec(B_s - c)``, at each draw.

    Parameters
    ----------
    expansion : tuple
        ``(f(c), g, H)``: value, gradient (P*M,) and Hessian (P*M, P*M) in ``vec(B)`` coordinates at ``centre``.
    centre : ndarray of shape (P, M)
    draws : ndarray of shape (S, P, M)

    Returns
    -------
    ndarray of shape (S,)
    """
    value, gradient, hessian = expansion
    S, P, M = draws.shape
    steps = (draws - centre).transpose(0, 2, 1).reshape(S, P * M)  # vec(B_s - c), class-major
    return value + steps @ gradient + 0.5 * np.einsum("si,ij,sj->s", steps, hessian, steps)
