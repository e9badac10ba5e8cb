"""The value and gradient of the negative log-likelihood in one read of the rows, on every core.

A pass of :class:`~bayeslogit.numerics.objective.Objective` in NumPy reads each block of rows twice (the linear
predictor, then the gradient's product) and makes several temporaries per row on the way; on large data its
time is the design's size over the memory's bandwidth, twice, on one core. Here each row is read once: its
linear predictors, the family's derivatives and the row's share of the gradient are computed while it is in the
processor's cache (a batch of :data:`BATCH_ROWS` rows at a time), by a kernel compiled with Numba (imported on
first use, so that small fits never load it) that releases the interpreter lock, so that the threads of
:func:`row_pool` run it on all cores at once.

The rows are cut into chunks of :data:`CHUNK_ROWS`, each chunk's sums kept apart and added in the chunks' order,
so the result does not depend on the number of threads or on which thread ran which chunk: the same data and
coefficients give the same bits. :func:`map_in_order` shares other work over the same threads (the blocks of the
Hessian's passes, whose NumPy products release the lock), and :func:`column_moments`,
:func:`largest_linear_predictor` and :func:`sum_is_finite` are the checks of a model's construction, fused alike.
``benchmarks/ml_speed.py`` and ``benchmarks/mcmc_large.py`` time these passes.

Conventions as in :mod:`.objective`: ``X`` (n, p) without an intercept column, coefficients ``B`` (P, M) with the
intercept in row 0 when present, class codes ``y`` (n,), weights (n,).
"""

import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache

import numpy as np

FUSED_MIN_ELEMENTS = 2**20
"""Data elements (rows x features x linear predictors) from which passes run fused: below, NumPy's per-block
passes take a few hundred microseconds at most, and the compiler is not worth importing."""
CHUNK_ROWS = 4096
"""Rows whose sums are kept apart: the unit of the deterministic reduction and of the work shared by threads."""

BATCH_ROWS = 64
"""Rows of a batch inside a chunk (see :func:`_bernoulli_chunks`)."""

_SERIAL = threading.local()  # .active is True in threads whose passes run alone: the pool's own, and callers'
_COMPILING = threading.Lock()  # held while a kernel is compiled or loaded


def fused_applies(n_elements: int, family=None) -> bool:
    """Whether passes over ``n_elements`` data elements (of ``family``'s likelihood, if given) run fused."""
    return n_elements >= FUSED_MIN_ELEMENTS and (family is None or family.name in _KERNELS)


def value_and_gradient(
    family,
    X: np.ndarray,
    intercept: bool,
    y: np.ndarray,
    weights: np.ndarray,
    unit_weights: bool,
    B: np.ndarray,
    with_gradient: bool,
) -> tuple[float, np.ndarray | None, float]:
    """``sum_i w_i nll_i(B)``, its gradient with respect to ``B`` (P, M) (None unless ``with_gradient``) and the
    largest ``|eta|`` of the rows' linear predictors (NaN if any is), which the pass computes anyway.

    Parameters
    ----------
    family : Bernoulli or Categorical
    X : ndarray of shape (n, p), float64
        Rows need not be contiguous in memory (a view of every k-th row is read as it is).
    intercept : bool
    y : ndarray of shape (n,), integer class codes
        Of one integer type throughout (the kernels are compiled once per type; the objective passes int64).
    weights : ndarray of shape (n,)
    unit_weights : bool
        Whether every weight is 1.
    B : ndarray of shape (P, M)
    with_gradient : bool
    """
    P, M = B.shape
    values = _per_chunk(X, (2,))  # each chunk's value and largest |eta|
    grads = _per_chunk(X, (P, M) if with_gradient else (0, 0))
    reference = bool(getattr(family, "reference", True))
    B = np.ascontiguousarray(B, dtype=np.float64)
    _over_chunks(family.name, X, y, weights, unit_weights, B, intercept, reference, values, grads, with_gradient)
    largest = values[:, 1].max() if not np.isnan(values[:, 1]).any() else np.nan
    return float(values[:, 0].sum()), (grads.sum(axis=0) if with_gradient else None), float(largest)


def column_moments(X: np.ndarray, weights: np.ndarray, center: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sum_i w_i (x_ij - c_j)`` and ``sum_i w_i (x_ij - c_j)^2``, each (p,), of ``X`` (n, p) about ``center`` (p,).
    Non-finite values propagate (no warning)."""
    sums = _per_chunk(X, (2, X.shape[1]))
    _over_chunks("moments", X, weights, np.ascontiguousarray(center, dtype=np.float64), sums)
    first, second = sums.sum(axis=0)
    return first, second


def largest_linear_predictor(X: np.ndarray, intercept: bool, B: np.ndarray) -> float:
    """``max |eta|`` over the rows and columns of ``eta = [1, X] @ B``, ``B`` of shape (P, M); NaN if any is."""
    largest = _per_chunk(X, ())
    _over_chunks("largest", X, np.ascontiguousarray(B, dtype=np.float64), intercept, largest)
    return float(largest.max())


def sum_is_finite(X: np.ndarray) -> bool:
    """Whether the sum of every value of ``X`` (n, p) is finite (so is every value, unless the sum overflowed), the
    rows summed in blocks shared by the pool's threads."""
    blocks = [slice(start, start + CHUNK_ROWS * 4) for start in range(0, X.shape[0], CHUNK_ROWS * 4)]
    with np.errstate(over="ignore", invalid="ignore"):
        partial = list(map_in_order(lambda rows: np.add.reduce(X[rows].ravel()), blocks))
        return bool(np.isfinite(np.add.reduce(np.asarray(partial, dtype=float))))


def _per_chunk(X: np.ndarray, shape: tuple) -> np.ndarray:
    """Zeros for each chunk of the rows of ``X``: shape (n_chunks, *shape)."""
    return np.zeros((max(1, -(-X.shape[0] // CHUNK_ROWS)), *shape))


def _over_chunks(kernel: str, X: np.ndarray, *args) -> None:
    """The compiled ``kernel(X, *args, first, stop, CHUNK_ROWS)`` over every chunk of the rows of ``X``: in this
    thread, or in contiguous ranges of chunks shared by the pool's threads (each chunk writing its own slot of the
    outputs among ``args``)."""
    compiled = _compiled(kernel)
    n_chunks = max(1, -(-X.shape[0] // CHUNK_ROWS))
    workers = 1 if getattr(_SERIAL, "active", False) else min(n_chunks, _n_workers())
    bounds = np.linspace(0, n_chunks, workers + 1).round().astype(int)
    if workers == 1:
        compiled(X, *args, 0, n_chunks, CHUNK_ROWS)
        return
    futures = [
        row_pool().submit(compiled, X, *args, int(first), int(stop), CHUNK_ROWS)
        for first, stop in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    for future in futures:
        future.result()


def map_in_order(function, items: list) -> Iterator:
    """``function(item)`` of each item, in order, the calls shared by the pool's threads when there are several
    (and this is not one of them): for work that releases the interpreter lock (NumPy's products), each call on
    its own BLAS thread (the caller limits BLAS to one). At most two calls per thread are ahead of the one the
    caller takes next, so memory holds a few results whatever the number of items."""
    workers = _n_workers()
    if len(items) < 2 or getattr(_SERIAL, "active", False) or workers == 1:
        yield from map(function, items)
        return
    pending = deque()
    for item in items:
        pending.append(row_pool().submit(function, item))
        if len(pending) > 2 * workers:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _n_workers() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def in_this_thread(alone: bool = True) -> Iterator[None]:
    """A context in which this thread's passes run on it alone (when ``alone``), for callers that already run one
    thread per core (MCMC chains in parallel threads): their passes then wait on no other thread."""
    before = getattr(_SERIAL, "active", False)
    _SERIAL.active = before or alone
    try:
        yield
    finally:
        _SERIAL.active = before


def _forget_pool() -> None:
    """In a process forked from this one the pool's threads do not exist: it makes a pool of its own."""
    row_pool.cache_clear()


@cache
def row_pool() -> ThreadPoolExecutor:
    """The process's pool for fused passes, one thread per core. Callers from several threads (MCMC chains) share
    it, so the kernels running at once never outnumber the cores."""

    def mark() -> None:
        _SERIAL.active = True

    return ThreadPoolExecutor(_n_workers(), thread_name_prefix="bayeslogit-rows", initializer=mark)


os.register_at_fork(after_in_child=_forget_pool)


def _compiled(name: str):
    """The Numba kernel ``name``, compiled (or loaded from Numba's cache) on first use, once for all threads."""
    with _COMPILING:
        return _compile(name)


@cache
def _compile(name: str):
    """:func:`_compiled`'s work: the kernel, cached on disk where Numba finds a writable place (the package's
    folder, or the user's cache folder), else compiled in each process."""
    import numba

    options = {"nogil": True, "error_model": "numpy", "fastmath": {"reassoc", "contract"}}
    try:
        return numba.njit(cache=True, **options)(_KERNELS[name])
    except RuntimeError:  # "cannot cache function ...: no locator available": a read-only installation
        return numba.njit(**options)(_KERNELS[name])


def _bernoulli_chunks(
    X, y, w, unit_weights, B, intercept, reference, values, grads, with_gradient, first, stop, chunk_rows
):
    """Chunks ``first .. stop - 1``: each chunk's ``sum w (log(1 + e^eta) - y eta)`` into ``values[c, 0]``, its
    largest ``|eta|`` into ``values[c, 1]`` and its gradient into ``grads[c, :, 0]`` (when ``with_gradient``), each
    row read once from memory.

    The rows go in batches of :data:`BATCH_ROWS`: their linear predictors, then their exponentials in a loop of
    their own (which the processor overlaps, where one exponential per row between two products stalls it), then
    the derivatives and the batch's products, its rows still in the cache. With ``unit_weights`` (every weight 1)
    the batch's ``sum log(1 + e^-|eta|)`` is the logarithm of a product of 64 factors in [1, 2]: one logarithm
    a batch instead of one a row, its rounding (about 32 eps a batch) far below the objective's own.
    """
    n, p = X.shape
    offset = 1 if intercept else 0
    b = B[offset:, 0].copy()
    b0 = B[0, 0] if intercept else 0.0
    g = np.zeros(p)
    eta = np.empty(BATCH_ROWS)
    decay = np.empty(BATCH_ROWS)
    for c in range(first, stop):
        total, g0, most = 0.0, 0.0, 0.0
        g[:] = 0.0
        for start in range(c * chunk_rows, min((c + 1) * chunk_rows, n), BATCH_ROWS):
            batch = min(BATCH_ROWS, n - start, (c + 1) * chunk_rows - start)
            for r in range(batch):
                x = X[start + r]
                linear = b0
                for j in range(p):
                    linear += x[j] * b[j]
                eta[r] = linear
            for r in range(batch):
                decay[r] = np.exp(-abs(eta[r]))
                most = max(most, abs(eta[r])) if not np.isnan(eta[r]) else np.nan
            if unit_weights:  # sum log(1 + d) = log prod (1 + d): one logarithm a batch (each factor in [1, 2])
                product = 1.0
                for r in range(batch):
                    product *= 1.0 + decay[r]
                total += np.log(product)
            else:
                for r in range(batch):
                    total += w[start + r] * np.log1p(decay[r])
            for r in range(batch):
                i = start + r
                total += w[i] * (max(eta[r], 0.0) - y[i] * eta[r])
                if with_gradient:
                    p1 = 1.0 / (1.0 + decay[r]) if eta[r] >= 0 else decay[r] / (1.0 + decay[r])
                    d1 = w[i] * (p1 - y[i])
                    g0 += d1
                    x = X[i]
                    for j in range(p):
                        g[j] += d1 * x[j]
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
    fixed at zero when ``reference``: ``nll = logsumexp(a) - a_y`` with ``a`` the class logits."""
    n, p = X.shape
    M = B.shape[1]
    offset = 1 if intercept else 0
    shift = 1 if reference else 0
    coef = B[offset:].T.copy()  # (M, p): each linear predictor's coefficients contiguous
    base = B[0].copy() if intercept else np.zeros(M)
    logits = np.zeros(M + shift)
    scaled = np.zeros(M + shift)  # e^(logit - largest logit), each row's class probabilities times their sum
    G = np.zeros((M, p))
    g0 = np.zeros(M)
    for c in range(first, stop):
        total, most = 0.0, 0.0
        G[:] = 0.0
        g0[:] = 0.0
        for i in range(c * chunk_rows, min((c + 1) * chunk_rows, n)):
            x = X[i]
            for m in range(M):
                eta = base[m]
                for j in range(p):
                    eta += x[j] * coef[m, j]
                logits[m + shift] = eta
                most = max(most, abs(eta)) if not np.isnan(eta) else np.nan
            largest = logits.max()
            norm = 0.0
            for k in range(M + shift):
                scaled[k] = np.exp(logits[k] - largest)
                norm += scaled[k]
            total += w[i] * (largest + np.log(norm) - logits[y[i]])
            if with_gradient:
                for m in range(M):
                    d1 = scaled[m + shift] / norm
                    if y[i] == m + shift:
                        d1 -= 1.0
                    d1 *= w[i]
                    g0[m] += d1
                    for j in range(p):
                        G[m, j] += d1 * x[j]
        values[c, 0] = total
        values[c, 1] = most
        if with_gradient:
            if intercept:
                grads[c, 0] = g0
            grads[c, offset:] = G.T


def _moment_chunks(X, w, center, sums, first, stop, chunk_rows):
    """Chunks ``first .. stop - 1``: ``sum w (x - c)`` into ``sums[c, 0]``, ``sum w (x - c)^2`` into ``sums[c, 1]``."""
    n, p = X.shape
    for c in range(first, stop):
        for i in range(c * chunk_rows, min((c + 1) * chunk_rows, n)):
            x = X[i]
            for j in range(p):
                deviation = x[j] - center[j]
                sums[c, 0, j] += w[i] * deviation
                sums[c, 1, j] += w[i] * deviation * deviation


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


_KERNELS = {
    "bernoulli": _bernoulli_chunks,
    "categorical": _categorical_chunks,
    "moments": _moment_chunks,
    "largest": _largest_chunks,
}
"""Kernel name -> its Python source, compiled by :func:`_compiled`; the families' kernels under their names."""
