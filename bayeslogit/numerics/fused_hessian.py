"""The value, gradient and Hessian of the negative log-likelihood in one read of the rows, on every core.

Newton's passes on a row subsample (and the Hessian at a mode) need ``sum_i W_i kron z_i z_i^T``, ``W_i`` the
(M, M) Hessian of row ``i``'s likelihood in its linear predictors and ``z_i = [1, x_i]``. In NumPy that is a
pass for the linear predictors, arrays of the family's parts, then a product per class pair over copies of the
rows scaled by the weights, each block of rows read several times. Here (as :mod:`.fused` does for the value and
gradient) each batch of :data:`BATCH_ROWS` rows is read once: its linear predictors, softmax, value, gradient
and the weights of every class pair, then one matrix product ``Z^T [c_1 Z, ..., c_Q Z]`` of the batch's rows
``Z`` with the pairs' scaled rows side by side (BLAS, on the calling thread; see :data:`PRODUCT_COLUMNS`), while
the rows are in the processor's cache.

Both families are softmax likelihoods: the Bernoulli one is the categorical likelihood of two classes, class 0
the reference (``nll = log(1 + e^eta) - y eta``). The pair weights avoid cancellation: ``W_mm = w p_m (1 - p_m)``
with ``1 - p_m`` summed from the other classes' probabilities, so a row of probability near 1 keeps its tiny
curvature to full relative precision.

Chunks of rows keep their sums apart and add them in order, so the result does not depend on the threads; a
chunk's Hessian is ``Q = M (M + 1) / 2`` matrices (P, P), and chunks are made longer where many of them would
hold more than :data:`SLOT_VALUES` values.
"""

import numpy as np

from bayeslogit.numerics import fused
from bayeslogit.numerics.blas_threads import blas_threads

BATCH_ROWS = 64
"""Rows of a batch: the rows of its matrix products, small enough to stay in the cache."""
PRODUCT_COLUMNS = 512
"""Columns of a batch's matrix product at most (unless a pair alone has more): as many pairs' scaled rows side by side
as fit, ``Z^T [c_1 Z, ..., c_g Z]``. For 5 classes and 31 coefficients (10 pairs in one product) the Hessian of
10,000 rows took 3.3 ms against 4.3 ms with a product per pair, and with ``[c_1 Z, ...]^T Z`` it was slower."""
SLOT_VALUES = 2**22
"""Values the chunks' Hessians may hold at most (32 MB); past it, chunks are longer and fewer."""


def value_gradient_hessian(
    family, X: np.ndarray, intercept: bool, y: np.ndarray, weights: np.ndarray, B: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, float]:
    """``sum_i w_i nll_i(B)``, its gradient (P, M), its Hessian (M * P, M * P) in ``vec(B)`` order (linear
    predictor major, exactly symmetric) and the largest ``|eta|`` (NaN if any is).

    Parameters
    ----------
    family : Bernoulli or Categorical
    X : ndarray of shape (n, p), float64 (rows need not be contiguous)
    intercept : bool
    y : ndarray of shape (n,), int64 class codes
    weights : ndarray of shape (n,)
    B : ndarray of shape (P, M)
    """
    P, M = B.shape
    n_pairs = M * (M + 1) // 2
    chunk_rows = _chunk_rows(X.shape[0], n_pairs * P * P)
    n_chunks = max(1, -(-X.shape[0] // chunk_rows))
    values, grads = np.zeros((n_chunks, 2)), np.zeros((n_chunks, P, M))
    pairs = np.zeros((n_chunks, n_pairs, P, P))
    reference = bool(getattr(family, "reference", True))
    B = np.ascontiguousarray(B, dtype=np.float64)
    with blas_threads(1):  # each thread's products on its own core
        fused.run_kernel(_softmax_hessian_chunks, X, y, weights, B, intercept, reference, values, grads, pairs,
                         chunk_rows=chunk_rows)  # fmt: skip
    largest = values[:, 1].max() if not np.isnan(values[:, 1]).any() else np.nan
    return float(values[:, 0].sum()), grads.sum(axis=0), _assembled(pairs.sum(axis=0), M), float(largest)


def _chunk_rows(n: int, slot_values: int) -> int:
    """Rows per chunk: :func:`~.fused.rows_per_chunk`'s, or more so that the chunks' Hessians (``slot_values`` each)
    hold at most :data:`SLOT_VALUES` values; a multiple of :data:`BATCH_ROWS`."""
    most_chunks = max(1, SLOT_VALUES // slot_values)
    rows = max(fused.rows_per_chunk(n), -(-n // most_chunks))
    return -(-rows // BATCH_ROWS) * BATCH_ROWS


def _assembled(pairs: np.ndarray, M: int) -> np.ndarray:
    """The Hessian (M * P, M * P) from the pairs' blocks (Q, P, P), ``q`` running over ``m <= l``: block (m, l) and
    (l, m) are the upper triangle of pair ``q``'s, mirrored."""
    P = pairs.shape[1]
    upper = np.triu(np.ones((P, P), dtype=bool))
    blocks = np.where(upper, pairs, pairs.transpose(0, 2, 1))  # each pair's upper triangle, mirrored
    hess = np.empty((M, P, M, P))
    pair_classes = [(m, k) for m in range(M) for k in range(m, M)]
    for block, (m, k) in zip(blocks, pair_classes, strict=True):
        hess[m, :, k, :] = block
        hess[k, :, m, :] = block.T
    return hess.reshape(M * P, M * P)


def _softmax_hessian_chunks(X, y, w, B, intercept, reference, values, grads, pairs, first, stop, chunk_rows):
    """Chunks ``first .. stop - 1``: each chunk's value and largest ``|eta|`` into ``values[c]``, its gradient into
    ``grads[c]`` (P, M) and each class pair's ``sum_i W_i[m, l] z_i z_i^T`` into ``pairs[c, q]`` (P, P)."""
    n, p = X.shape
    P, M = B.shape
    offset = 1 if intercept else 0
    shift = 1 if reference else 0
    K = M + shift
    coef = B.T.copy()  # (M, P): each linear predictor's coefficients contiguous
    Z = np.empty((BATCH_ROWS, P))  # the batch's rows, 1 first where there is an intercept
    n_pairs = M * (M + 1) // 2
    group = max(1, min(n_pairs, PRODUCT_COLUMNS // P))  # pairs per product
    scaled_space = np.empty(BATCH_ROWS * group * P)  # the rows times each pair's weights, the pairs side by side
    product_space = np.empty(P * group * P)
    weights = np.empty((n_pairs, BATCH_ROWS))  # each pair's weights for the batch's rows
    logits = np.zeros(K)
    scaled = np.zeros(K)  # e^(logit - largest logit)
    G = np.zeros((M, P))
    for c in range(first, stop):
        total, most = 0.0, 0.0
        G[:] = 0.0
        for start in range(c * chunk_rows, min((c + 1) * chunk_rows, n), BATCH_ROWS):
            batch = min(BATCH_ROWS, n - start, (c + 1) * chunk_rows - start)
            for r in range(batch):
                i = start + r
                z = Z[r]
                z[0] = 1.0
                for j in range(p):
                    z[offset + j] = X[i, j]
                for m in range(M):
                    eta = 0.0
                    for j in range(P):
                        eta += z[j] * coef[m, j]
                    logits[m + shift] = eta
                    most = max(most, abs(eta)) if not np.isnan(eta) else np.nan
                largest = logits[0]
                for k in range(1, K):
                    largest = max(largest, logits[k])
                norm = 0.0
                for k in range(K):
                    scaled[k] = np.exp(logits[k] - largest)
                    norm += scaled[k]
                total += w[i] * (largest + np.log(norm) - logits[y[i]])
                q = 0
                for m in range(M):
                    prob = scaled[m + shift] / norm
                    d1 = w[i] * (prob - (1.0 if y[i] == m + shift else 0.0))
                    for j in range(P):
                        G[m, j] += d1 * z[j]
                    others = 0.0  # 1 - prob, from the other classes
                    for k in range(K):
                        if k != m + shift:
                            others += scaled[k]
                    weights[q, r] = w[i] * prob * (others / norm)
                    q += 1
                    for k in range(m + 1, M):
                        weights[q, r] = -w[i] * prob * (scaled[k + shift] / norm)
                        q += 1
            for first_pair in range(0, n_pairs, group):
                size = min(group, n_pairs - first_pair)
                scaled_rows = scaled_space[: batch * size * P].reshape((batch, size * P))
                product = product_space[: P * size * P].reshape((P, size * P))
                for r in range(batch):
                    for g in range(size):
                        weight = weights[first_pair + g, r]
                        for j in range(P):
                            scaled_rows[r, g * P + j] = weight * Z[r, j]
                np.dot(Z[:batch].T, scaled_rows, product)
                for g in range(size):
                    for i in range(P):
                        for j in range(P):
                            pairs[c, first_pair + g, i, j] += product[i, g * P + j]
        values[c, 0] = total
        values[c, 1] = most
        grads[c] = G.T
