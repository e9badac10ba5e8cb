"""The value, gradient and Hessian of the negative log-likelihood in one read of the rows, on every core.

Newton's passes on a row subsample (and the Hessian at a mode) need ``sum_i W_i kron z_i z_i^T``, ``W_i`` the
(M, M) Hessian of row ``i``'s likelihood in its linear predictors and ``z_i = [1, x_i]``. In NumPy that is a
pass for the linear predictors, arrays of the family's parts, then a product per class pair over copies of the
rows scaled by the weights, each block of rows read several times. Here (as :mod:`.fused` does for the value and
gradient) each batch of :data:`BATCH_ROWS` rows ``Z`` is read once: its linear predictors (a matrix product), their
exponentials (in a loop of their own, which the processor runs on vectors), the value, the derivatives and the
weights of every class pair row by row, then the gradient ``D^T Z`` and one matrix product ``Z^T [c_1 Z, ..., c_Q Z]``
with the pairs' scaled rows side by side (BLAS, on the calling thread; see :data:`PRODUCT_COLUMNS`), while the rows
are in the processor's cache.

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
from bayeslogit.numerics.fused_kernels import _exp_nonpositive, _shift_by_largest  # bound compiled by fused._compiled

BATCH_ROWS = 64
"""Rows of a batch: the rows of its matrix products, small enough to stay in the cache."""
PRODUCT_COLUMNS = 512
"""Columns of a batch's matrix product at most (unless a pair alone has more): as many pairs' scaled rows side by side
as fit, ``Z^T [c_1 Z, ..., c_g Z]``. For 5 classes and 31 coefficients (10 pairs in one product) the Hessian of
10,000 rows took 3.3 ms against 4.3 ms with a product per pair, and with ``[c_1 Z, ...]^T Z`` it was slower."""
SLOT_VALUES = 2**22
"""Values the chunks' Hessians may hold at most (32 MB); past it, chunks are longer and fewer."""


def value_gradient_hessian(
    family,
    X: np.ndarray,
    intercept: bool,
    y: np.ndarray,
    weights: np.ndarray,
    B: np.ndarray,
    gather: tuple[np.ndarray, np.ndarray] | None = None,
    with_hessian: bool = True,
) -> tuple[float, np.ndarray, np.ndarray | None, float]:
    """``sum_i w_i nll_i(B)``, its gradient (P, M), its Hessian (M * P, M * P) in ``vec(B)`` order (linear
    predictor major, exactly symmetric; None unless ``with_hessian``) and the largest ``|eta|`` (NaN if any is).

    Parameters
    ----------
    family : Bernoulli or Categorical
    X : ndarray of shape (n, p), float64 (rows need not be contiguous)
        The rows; with ``gather``, a C-contiguous array that the pass fills.
    intercept : bool
    y : ndarray of shape (n,), int64 class codes
    weights : ndarray of shape (n,)
    B : ndarray of shape (P, M)
    gather : (ndarray of shape (N, p), ndarray of shape (n,) of int), optional
        ``(source, rows)``: the rows are ``source[rows]``, read from ``source`` and copied into ``X`` on the way, so
        that a subsample's first pass also makes its copy (a Newton step on 50,000 of 500,000 rows x 50 and the copy
        took 9.3 ms against 11.0 ms copied first, the copy's page faults and scattered reads overlapping the
        products).
    with_hessian : bool
        False for a pass that only copies the rows and computes the value and gradient (a quarter of the cost).
    """
    P, M = B.shape
    n_pairs = M * (M + 1) // 2
    chunk_rows = _chunk_rows(X.shape[0], n_pairs * P * P)
    n_chunks = max(1, -(-X.shape[0] // chunk_rows))
    values, grads = np.zeros((n_chunks, 2)), np.zeros((n_chunks, P, M))
    pairs = np.zeros((n_chunks, n_pairs if with_hessian else 0, P, P))
    reference = bool(getattr(family, "reference", True))
    B = np.ascontiguousarray(B, dtype=np.float64)
    source, index = gather if gather is not None else (X, np.empty(0, dtype=np.intp))
    with blas_threads(1):  # each thread's products on its own core
        fused.run_kernel(_softmax_hessian_chunks, X, source, index, y, weights, B, intercept, reference, values, grads,
                         pairs, chunk_rows=chunk_rows)  # fmt: skip
    largest = values[:, 1].max() if not np.isnan(values[:, 1]).any() else np.nan
    hess = _assembled(pairs.sum(axis=0), M) if with_hessian else None
    return float(values[:, 0].sum()), grads.sum(axis=0), hess, float(largest)


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


def _softmax_hessian_chunks(
    X, source, index, y, w, B, intercept, reference, values, grads, pairs, first, stop, chunk_rows
):
    """Chunks ``first .. stop - 1``: each chunk's value and largest ``|eta|`` into ``values[c]``, its gradient into
    ``grads[c]`` (P, M) and each class pair's ``sum_i W_i[m, l] z_i z_i^T`` into ``pairs[c, q]`` (P, P), unless
    ``pairs`` holds no pair. Where ``index`` is not empty, row ``i`` is ``source[index[i]]``, copied into ``X[i]`` on
    the way."""
    n, p = X.shape
    P, M = B.shape
    gather = index.size > 0
    offset = 1 if intercept else 0
    shift = 1 if reference else 0
    K = M + shift
    Z = np.empty((BATCH_ROWS, P))  # the batch's rows, 1 first where there is an intercept
    logits = np.empty((BATCH_ROWS, M))
    no_base = np.zeros(M)  # the intercept is in the rows' products already
    flat = np.empty(BATCH_ROWS * K)  # logit - largest logit, then its exponential, row by row
    scaled = flat.reshape((BATCH_ROWS, K))
    powers = np.empty(BATCH_ROWS * K, dtype=np.int64)
    top = np.empty(BATCH_ROWS)  # each row's largest logit
    residuals = np.empty((BATCH_ROWS, M))  # w (p - onehot(y)): the derivatives in each linear predictor
    n_pairs = pairs.shape[1]
    group = max(1, min(n_pairs, PRODUCT_COLUMNS // P))  # pairs per product
    scaled_space = np.empty(BATCH_ROWS * group * P)  # the rows times each pair's weights, the pairs side by side
    product_space = np.empty(P * group * P)
    weights = np.empty((n_pairs, BATCH_ROWS))  # each pair's weights for the batch's rows
    G = np.zeros((M, P))
    batch_G = np.empty((M, P))
    for c in range(first, stop):
        total, most = 0.0, 0.0
        G[:] = 0.0
        for start in range(c * chunk_rows, min((c + 1) * chunk_rows, n), BATCH_ROWS):
            batch = min(BATCH_ROWS, n - start, (c + 1) * chunk_rows - start)
            rows = Z[:batch]
            for r in range(batch):
                z = Z[r]
                z[0] = 1.0
                x = source[index[start + r]] if gather else X[start + r]
                for j in range(p):
                    z[offset + j] = x[j]
                if gather:
                    X[start + r] = x
            np.dot(rows, B, logits[:batch])
            most = _shift_by_largest(logits, no_base, reference, top, flat, batch, most)
            _exp_nonpositive(flat, flat, powers, batch * K)
            for r in range(batch):
                i = start + r
                total_r = 0.0
                for k in range(K):
                    total_r += scaled[r, k]
                observed = logits[r, y[i] - shift] if y[i] >= shift else 0.0
                total += w[i] * (top[r] + np.log(total_r) - observed)
                q = 0
                for m in range(M):
                    prob = scaled[r, m + shift] / total_r
                    residuals[r, m] = w[i] * (prob - (1.0 if y[i] == m + shift else 0.0))
                    if n_pairs == 0:
                        continue
                    others = 0.0  # 1 - prob, from the other classes
                    for k in range(K):
                        if k != m + shift:
                            others += scaled[r, k]
                    weights[q, r] = w[i] * prob * (others / total_r)
                    q += 1
                    for k in range(m + 1, M):
                        weights[q, r] = -w[i] * prob * (scaled[r, k + shift] / total_r)
                        q += 1
            np.dot(residuals[:batch].T, rows, batch_G)
            G += batch_G
            for first_pair in range(0, n_pairs, group):
                size = min(group, n_pairs - first_pair)
                scaled_rows = scaled_space[: batch * size * P].reshape((batch, size * P))
                product = product_space[: P * size * P].reshape((P, size * P))
                for r in range(batch):
                    for g in range(size):
                        weight = weights[first_pair + g, r]
                        for j in range(P):
                            scaled_rows[r, g * P + j] = weight * Z[r, j]
                np.dot(rows.T, scaled_rows, product)
                for g in range(size):
                    for i in range(P):
                        for j in range(P):
                            pairs[c, first_pair + g, i, j] += product[i, g * P + j]
        values[c, 0] = total
        values[c, 1] = most
        grads[c] = G.T
