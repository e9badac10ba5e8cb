"""The event's probability summed over coefficient draws, for every row, in one compiled pass on every core.

A binary model's posterior predictive averages ``Pr(w = 1 | x, B_s) = 1 / (1 + e^-eta_s)`` over ``S`` draws. In
NumPy (:func:`~.predictive.average_log_proba`'s blocks) each block of linear predictors is read by five array
operations, each a call from Python, and two threads making many such calls wait on the interpreter's lock. Here a
kernel (compiled with the passes of :mod:`.fused`, run on the same pool) takes a batch of :data:`BATCH_ROWS` rows
times a block of :data:`DRAW_COLUMNS` draws: their linear predictors (a matrix product, BLAS on the calling thread),
then the probabilities summed row by row while the block is in the processor's cache. Each row's sum runs over the
draws in their order, whichever thread takes it, so the result does not depend on the threads.
"""

import numpy as np

from bayeslogit.numerics import fused
from bayeslogit.numerics.blas_threads import blas_threads
from bayeslogit.numerics.fused_kernels import _exp_nonpositive  # bound compiled by fused._compiled

BATCH_ROWS = 64
"""Rows of a batch: with :data:`DRAW_COLUMNS` draws, a block of linear predictors of 256 KB."""
DRAW_COLUMNS = 512
"""Draws of a block of linear predictors at most: one matrix product each."""
FAMILIES = frozenset({"bernoulli"})
"""The families (by name) whose averages over draws :func:`event_probability_sums` computes."""
MIN_PRODUCTS = 2**29
"""Products of a predictor's value and a draw's coefficient from which the sums are compiled: the compiler's import
and the kernel's load (about 0.4 s in a new process) then cost less than they save (a third of NumPy's time; on
200,000 rows x 20 predictors and 4,000 draws, 1.6e10 products, 1.28 s against 2.0 s)."""


def applies(family, design, n_draws: int) -> bool:
    """Whether ``family``'s probabilities over ``n_draws`` draws on ``design``'s rows (of at least one predictor) are
    summed here: of :data:`FAMILIES`, on :data:`MIN_PRODUCTS` products or more."""
    return family.name in FAMILIES and design.X.shape[1] > 0 and n_draws * design.X.size >= MIN_PRODUCTS


def event_probability_sums(X: np.ndarray, intercept: bool, draws: np.ndarray) -> np.ndarray:
    """``sum_s Pr(w = 1 | x_i, B_s)`` for each row of ``X`` (n, p), shape (n,), of a binary model's draws ``draws``
    (S, P, 1), ``P = p + intercept``; NaN for a row whose linear predictor is."""
    S, P, _ = draws.shape
    width = min(S, DRAW_COLUMNS)
    n_blocks = -(-S // width)
    slopes = np.zeros((n_blocks * width, X.shape[1]))  # padded with draws of zero slopes, never summed
    slopes[:S] = draws[:, int(intercept) :, 0]
    blocks = np.ascontiguousarray(slopes.reshape(n_blocks, width, -1).transpose(0, 2, 1))  # (n_blocks, p, width)
    intercepts = np.zeros(n_blocks * width)
    if intercept:
        intercepts[:S] = draws[:, 0, 0]
    sums = np.zeros(X.shape[0])
    with blas_threads(1):  # each thread's products on its own core
        fused.run_kernel(_event_probability_chunks, np.ascontiguousarray(X, dtype=np.float64), blocks, intercepts, S,
                         sums)  # fmt: skip
    return sums


def _event_probability_chunks(X, blocks, intercepts, n_draws, sums, first, stop, chunk_rows):
    """Chunks ``first .. stop - 1``: ``sums[i] = sum_s 1 / (1 + e^-eta_is)`` over the first ``n_draws`` draws, with
    ``eta_is = intercepts[s] + X[i] . slopes_s`` and the slopes in ``blocks`` (n_blocks, p, width), draw ``s`` in
    column ``s % width`` of block ``s // width``. The probability is ``e^eta / (1 + e^eta)``
    for negative ``eta``, so neither form loses its digits or overflows."""
    n = X.shape[0]
    n_blocks, _, width = blocks.shape
    eta = np.empty((BATCH_ROWS, width))
    decay = np.empty(width)  # e^-|eta|
    powers = np.empty(width, dtype=np.int64)
    for c in range(first, stop):
        for start in range(c * chunk_rows, min((c + 1) * chunk_rows, n), BATCH_ROWS):
            batch = min(BATCH_ROWS, n - start, (c + 1) * chunk_rows - start)
            products = eta[:batch]
            for k in range(n_blocks):
                np.dot(X[start : start + batch], blocks[k], products)
                first_draw = k * width
                count = min(width, n_draws - first_draw)
                for r in range(batch):
                    line = products[r]
                    for s in range(count):
                        value = line[s] + intercepts[first_draw + s]
                        line[s] = value
                        decay[s] = -abs(value)
                    _exp_nonpositive(decay, decay, powers, count)
                    total = 0.0
                    for s in range(count):
                        total += (1.0 if line[s] >= 0 else decay[s]) / (1.0 + decay[s])
                    sums[start + r] += total
