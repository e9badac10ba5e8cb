"""The compiled passes' kernels, in Python that Numba compiles (:func:`.fused._compiled`) on first use.

Each kernel walks chunks ``first .. stop - 1`` of ``chunk_rows`` rows and writes each chunk's sums into its own slot
of its outputs (see :mod:`.fused`). The helpers they share (:data:`HELPERS`) work on whole batches:
:func:`_exp_nonpositive`, the exponential as a loop the compiler runs on vectors (where ``np.exp`` is one library
call a value), :func:`_shift_by_largest` (the softmax's logits less each row's largest, for the categorical pass and the
pass with the Hessian, :mod:`.fused_hessian`), :func:`_sum_of_logs` and :func:`_add_row_products`.
"""

import numpy as np

BATCH_ROWS = 64
"""Rows of a batch inside a chunk (see :func:`_bernoulli_chunks`)."""
CATEGORICAL_BATCH_ROWS = 256
"""Rows of a batch of :func:`_categorical_chunks`, whose matrix products each cost a library call: of 128, 256 and
512, 256 rows passed over 100,000 x 30 with 5 classes fastest (4.3 ms on one thread, against 5.9 ms a row at a time
with batches of 64)."""

_LOG2E = 1.4426950408889634
_LN2_HIGH = 6.93147180369123816490e-01  # ln 2 in two parts, the first exact times any integer below 2^11
_LN2_LOW = 1.90821492927058770002e-10
_TAYLOR = tuple(1.0 / np.prod(np.arange(1.0, k + 1.0)) for k in range(13, -1, -1))
"""1 / k! for k = 13 .. 0: Horner's coefficients of e^t, whose remainder for |t| <= ln 2 / 2 is below 5e-18."""
_ROUNDING = 1.5 * 2.0**52
"""Added to a float below 2^51 in magnitude, rounds it to an integer, which the sum's low 52 bits hold (plus 2^51)."""
_SMALLEST = -708.0
"""Exponents below are taken as this one: e^-708 = 3e-308 is as good as 0 in every sum of the kernels."""


def _exp_nonpositive(x, out, powers, count):
    """``out[:count] = e^x[:count]`` for ``x <= 0`` (``out`` may be ``x``), within 1 ulp of ``np.exp`` down to
    ``x = -708`` (below, ``e^-708``; NaN for NaN): ``x = k ln 2 + t`` with ``|t| <= ln 2 / 2``, ``e^t`` by Taylor's
    polynomial, ``2^k`` by its bits in ``powers`` (int64, at least ``count``).

    ``k`` is rounded by adding and subtracting :data:`_ROUNDING` (to nearest, ties to even, as ``np.round``), the sum's
    low bits holding ``k``, so that each step is a loop of its own that the compiler runs on vectors (with
    ``np.round`` and a conversion per value, one loop took 4.4 ns a row of the Bernoulli pass in the cache, these 2.9).
    """
    sums = powers.view(np.float64)
    for e in range(count):
        v = _SMALLEST if x[e] < _SMALLEST else x[e]  # NaN stays NaN, and so does its exponential
        sums[e] = v * _LOG2E + _ROUNDING
        k = sums[e] - _ROUNDING
        out[e] = (v - k * _LN2_HIGH) - k * _LN2_LOW
    for e in range(count):
        powers[e] = (powers[e] + 1023) << 52  # the bits of 2^k: k + 1023 in the exponent, the higher bits shifted out
    for e in range(count):
        t = out[e]
        q = 0.0
        for coefficient in _TAYLOR:
            q = q * t + coefficient
        out[e] = q * sums[e]


def _sum_of_logs(values, w, start, unit_weights, count):
    """``sum_r w[start + r] log(values[r])`` over ``r < count``, values of at least 1. With unit weights, the
    logarithm of their product (taken again whenever the product passes 1e250): one logarithm for many values, its
    rounding a few eps of the sum's."""
    if not unit_weights:
        total = 0.0
        for r in range(count):
            total += w[start + r] * np.log(values[r])
        return total
    total, product = 0.0, 1.0
    for r in range(count):
        product *= values[r]
        if product > 1e250:
            total += np.log(product)
            product = 1.0
    return total + np.log(product)


def _shift_by_largest(logits, base, reference, top, shifted, count, most):
    """For each of the first ``count`` rows of ``logits`` (rows, M): add ``base`` (M,) to its logits, write the largest
    (class 0's logit, 0, among them when ``reference``) into ``top[r]`` and the class logits less it into
    ``shifted[r K : (r + 1) K]`` (class 0's first when ``reference``). Returns ``most`` or the largest ``|logit|`` if
    larger (NaN if any is, or if ``most`` is).

    Each row's largest ``|logit|`` is the larger of its largest logit and minus its smallest, so that the running
    largest takes one step a row rather than one a logit (for 4 logits a row, 11 -> 4 ns a row in the cache)."""
    M = logits.shape[1]
    shift = 1 if reference else 0
    K = M + shift
    missing = np.isnan(most)
    for r in range(count):
        largest = 0.0 if reference else -np.inf
        smallest = 0.0 if reference else np.inf
        for m in range(M):
            logit = logits[r, m] + base[m]
            logits[r, m] = logit
            missing |= np.isnan(logit)
            largest = max(largest, logit)
            smallest = min(smallest, logit)
        top[r] = largest
        if reference:
            shifted[r * K] = -largest
        for m in range(M):
            shifted[r * K + m + shift] = logits[r, m] - largest
        most = max(most, largest, -smallest)
    return np.nan if missing else most


def _add_row_products(g, X, start, d, count):
    """``g += sum_r d[r] X[start + r]`` over ``r < count`` (``g`` of shape (p,)): four rows at a time, so that each
    element of ``g`` is loaded and stored once for four products (a row at a time, those loads and stores, not the
    products, take the time)."""
    r = 0
    while r + 4 <= count:
        d0, d1, d2, d3 = d[r], d[r + 1], d[r + 2], d[r + 3]
        x0, x1, x2, x3 = X[start + r], X[start + r + 1], X[start + r + 2], X[start + r + 3]
        for j in range(g.shape[0]):
            g[j] += d0 * x0[j] + d1 * x1[j] + d2 * x2[j] + d3 * x3[j]
        r += 4
    while r < count:
        x0 = X[start + r]
        for j in range(g.shape[0]):
            g[j] += d[r] * x0[j]
        r += 1


def _bernoulli_chunks(
    X, y, w, unit_weights, B, intercept, reference, values, grads, with_gradient, first, stop, chunk_rows
):
    """Chunks ``first .. stop - 1``: each chunk's ``sum w (log(1 + e^eta) - y eta)`` into ``values[c, 0]``, its
    largest ``|eta|`` into ``values[c, 1]`` and its gradient into ``grads[c, :, 0]`` (when ``with_gradient``), each
    row read once from memory.

    The rows go in batches of :data:`BATCH_ROWS`: their linear predictors (four rows at a time, a pass over 500,000
    x 50 on two threads 11.7 -> 11.3 ms), then their exponentials in a loop of
    their own (which the processor overlaps, where one exponential per row between two products stalls it), then
    the derivatives and the batch's products, its rows still in the cache. With ``unit_weights`` (every weight 1)
    the batch's ``sum log(1 + e^-|eta|)`` is the logarithm of a product of 64 factors in [1, 2]
    (:func:`_sum_of_logs`): one logarithm a batch instead of one a row, its rounding (about 32 eps a batch) far below
    the objective's own.
    """
    n, p = X.shape
    offset = 1 if intercept else 0
    b = B[offset:, 0].copy()
    b0 = B[0, 0] if intercept else 0.0
    g = np.zeros(p)
    eta = np.empty(BATCH_ROWS)
    decay = np.empty(BATCH_ROWS)
    powers = np.empty(BATCH_ROWS, dtype=np.int64)
    factors = np.empty(BATCH_ROWS)  # 1 + e^-|eta|
    residuals = np.empty(BATCH_ROWS)  # w (Pr(y = 1) - y): the derivatives in eta
    for c in range(first, stop):
        total, g0, most = 0.0, 0.0, 0.0
        g[:] = 0.0
        for start in range(c * chunk_rows, min((c + 1) * chunk_rows, n), BATCH_ROWS):
            batch = min(BATCH_ROWS, n - start, (c + 1) * chunk_rows - start)
            r = 0
            while r + 4 <= batch:  # four rows at a time: four independent sums in flight
                x0, x1, x2, x3 = X[start + r], X[start + r + 1], X[start + r + 2], X[start + r + 3]
                l0, l1, l2, l3 = b0, b0, b0, b0
                for j in range(p):
                    l0 += x0[j] * b[j]
                    l1 += x1[j] * b[j]
                    l2 += x2[j] * b[j]
                    l3 += x3[j] * b[j]
                eta[r], eta[r + 1], eta[r + 2], eta[r + 3] = l0, l1, l2, l3
                r += 4
            while r < batch:
                x = X[start + r]
                linear = b0
                for j in range(p):
                    linear += x[j] * b[j]
                eta[r] = linear
                r += 1
            for r in range(batch):
                decay[r] = -abs(eta[r])
                most = max(most, abs(eta[r])) if not np.isnan(eta[r]) else np.nan
            _exp_nonpositive(decay, decay, powers, batch)
            for r in range(batch):
                factors[r] = 1.0 + decay[r]
            total += _sum_of_logs(factors, w, start, unit_weights, batch)  # sum w log(1 + e^-|eta|)
            for r in range(batch):
                i = start + r
                total += w[i] * (max(eta[r], 0.0) - y[i] * eta[r])
                p1 = (1.0 if eta[r] >= 0 else decay[r]) / factors[r]
                residuals[r] = w[i] * (p1 - y[i])
                g0 += residuals[r]
            if with_gradient:
                _add_row_products(g, X, start, residuals, batch)
        values[c, 0] = total
        values[c, 1] = most
        if with_gradient:
            if intercept:
                grads[c, 0, 0] = g0
            grads[c, offset:, 0] = g


def _categorical_chunks(
    X, y, w, unit_weights, B, intercept, reference, values, grads, with_gradient, first, stop, chunk_rows
):
    """As :func:`_bernoulli_chunks` for the categorical likelihood of ``M`` linear predictors, class 0's logit
    fixed at zero when ``reference``: ``nll = logsumexp(a) - a_y`` with ``a`` the class logits; ``X`` C-contiguous.

    The rows go in batches of :data:`CATEGORICAL_BATCH_ROWS`: their linear predictors are one matrix product (BLAS,
    on the calling thread), then their exponentials (in a loop of their own), their sums, and the batch's gradient,
    a second product, its rows still in the cache. With unit weights one logarithm a batch, of the product of the
    rows' softmax denominators (each in [1, K], the product kept below 1e250)."""
    n, p = X.shape
    M = B.shape[1]
    offset = 1 if intercept else 0
    shift = 1 if reference else 0
    K = M + shift
    coef = B[offset:].copy()  # (p, M)
    base = B[0].copy() if intercept else np.zeros(M)
    eta = np.empty((CATEGORICAL_BATCH_ROWS, M))
    shifted = np.empty(CATEGORICAL_BATCH_ROWS * K)  # logit - largest logit, row by row
    flat = np.empty(CATEGORICAL_BATCH_ROWS * K)
    scaled = flat.reshape((CATEGORICAL_BATCH_ROWS, K))  # e^(logit - largest logit)
    powers = np.empty(CATEGORICAL_BATCH_ROWS * K, dtype=np.int64)  # the exponentials' workspace
    top = np.empty(CATEGORICAL_BATCH_ROWS)
    norm = np.empty(CATEGORICAL_BATCH_ROWS)
    residuals = np.empty((CATEGORICAL_BATCH_ROWS, M))  # w (p - onehot(y)): the derivatives in each linear predictor
    G = np.zeros((p, M))
    batch_G = np.empty((p, M))
    g0 = np.zeros(M)
    for c in range(first, stop):
        total, most = 0.0, 0.0
        G[:] = 0.0
        g0[:] = 0.0
        for start in range(c * chunk_rows, min((c + 1) * chunk_rows, n), CATEGORICAL_BATCH_ROWS):
            batch = min(CATEGORICAL_BATCH_ROWS, n - start, (c + 1) * chunk_rows - start)
            rows = X[start : start + batch]
            logits = eta[:batch]
            np.dot(rows, coef, logits)
            most = _shift_by_largest(logits, base, reference, top, shifted, batch, most)
            _exp_nonpositive(shifted, flat, powers, batch * K)
            for r in range(batch):
                total_r = 0.0
                for k in range(K):
                    total_r += scaled[r, k]
                norm[r] = total_r
            total += _sum_of_logs(norm, w, start, unit_weights, batch)
            for r in range(batch):
                i = start + r
                observed = logits[r, y[i] - shift] if y[i] >= shift else 0.0
                total += w[i] * (top[r] - observed)
                for m in range(M):
                    d1 = w[i] * (scaled[r, m + shift] / norm[r] - (1.0 if y[i] == m + shift else 0.0))
                    residuals[r, m] = d1
                    g0[m] += d1
            if with_gradient:
                np.dot(rows.T, residuals[:batch], batch_G)
                G += batch_G
        values[c, 0] = total
        values[c, 1] = most
        if with_gradient:
            if intercept:
                grads[c, 0] = g0
            grads[c, offset:] = G


def _moment_chunks(X, w, center, step, sums, grams, first, stop, chunk_rows):
    """Chunks ``first .. stop - 1``: ``sum w (x - c)`` into ``sums[c, 0]``, ``sum w (x - c)^2`` into ``sums[c, 1]``,
    summed in arrays of the chunk's own (which the compiler keeps apart from ``sums``, so its loops run on vectors);
    where ``step`` is positive, ``sum w z z^T`` (its upper triangle), ``z = [1, x]``, over the rows ``0, step,
    2 step, ...`` into ``grams[c]`` (p + 1, p + 1), those rows read again while the chunk is in the cache."""
    n, p = X.shape
    first_sums = np.zeros(p)
    second_sums = np.zeros(p)
    for c in range(first, stop):
        first_sums[:] = 0.0
        second_sums[:] = 0.0
        for i in range(c * chunk_rows, min((c + 1) * chunk_rows, n)):
            x = X[i]
            weight = w[i]
            for j in range(p):
                deviation = x[j] - center[j]
                first_sums[j] += weight * deviation
                second_sums[j] += weight * deviation * deviation
        sums[c, 0] = first_sums
        sums[c, 1] = second_sums
        if step > 0:
            _add_screened_rows(grams[c], X, w, -(-c * chunk_rows // step) * step, min((c + 1) * chunk_rows, n), step)


def _add_screened_rows(gram, X, w, i, end, step):
    """``gram += sum w z z^T`` over ``z = [1, X[k]]`` for the rows ``k = i, i + step, ... < end``: four rows at a
    time, each element of ``gram`` (p + 1, p + 1; its upper triangle is the result) loaded and stored once for four
    products, and whole rows of it, whose loops run on vectors (the upper triangle a row at a time took twice as
    long: 2.3 against 1.1 ms for the 5,000 rows of 500,000 x 50)."""
    p = X.shape[1]
    while i < end:
        x0, w0 = X[i], w[i]
        if i + 3 * step < end:
            x1, x2, x3 = X[i + step], X[i + 2 * step], X[i + 3 * step]
            w1, w2, w3 = w[i + step], w[i + 2 * step], w[i + 3 * step]
            i += 4 * step
        else:  # a row alone, the other three of weight 0
            x1, x2, x3 = x0, x0, x0
            w1, w2, w3 = 0.0, 0.0, 0.0
            i += step
        gram[0, 0] += (w0 + w1) + (w2 + w3)
        for b in range(p):
            gram[0, b + 1] += w0 * x0[b] + w1 * x1[b] + w2 * x2[b] + w3 * x3[b]
        for a in range(p):
            s0, s1, s2, s3 = w0 * x0[a], w1 * x1[a], w2 * x2[a], w3 * x3[a]
            row = gram[a + 1]
            for b in range(p):
                row[b + 1] += s0 * x0[b] + s1 * x1[b] + s2 * x2[b] + s3 * x3[b]


def _largest_chunks(X, B, intercept, largest, first, stop, chunk_rows):
    """Chunks ``first .. stop - 1``: ``max |eta|`` of their rows into ``largest[c]`` (NaN if any ``eta`` is)."""
    n, p = X.shape
    offset = 1 if intercept else 0
    coef = B[offset:].T.copy()
    for c in range(first, stop):
        most = 0.0
        for i in range(c * chunk_rows, min((c + 1) * chunk_rows, n)):
            x = X[i]
            for m in range(coef.shape[0]):
                eta = B[0, m] if intercept else 0.0
                for j in range(p):
                    eta += x[j] * coef[m, j]
                if not abs(eta) <= most:  # larger, or NaN (which then stays)
                    most = abs(eta)
                    if np.isnan(most):
                        break
            if np.isnan(most):
                break
        largest[c] = most


HELPERS = {
    "_exp_nonpositive": _exp_nonpositive,
    "_shift_by_largest": _shift_by_largest,
    "_sum_of_logs": _sum_of_logs,
    "_add_row_products": _add_row_products,
    "_add_screened_rows": _add_screened_rows,
}
"""Name -> function of the helpers the kernels call, compiled on their own and bound under these names."""

KERNELS = {
    "bernoulli": _bernoulli_chunks,
    "categorical": _categorical_chunks,
    "moments": _moment_chunks,
    "largest": _largest_chunks,
}
"""Kernel name -> its Python source, compiled by :func:`.fused._compiled`; the families' kernels under their names."""
MATRIX_PRODUCTS = frozenset({"categorical"})
"""Kernels whose batches are matrix products (BLAS): they read C-contiguous rows, each on one BLAS thread."""
