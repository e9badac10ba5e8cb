"""The value and gradient of the negative log-likelihood in one read of the rows, on every core.

A pass of :class:`~bayeslogit.numerics.objective.Objective` in NumPy reads each block of rows twice (the linear
predictor, then the gradient's product) and makes several temporaries per row on the way; on large data its
time is the design's size over the memory's bandwidth, twice, on one core. Here each row is read once: its
linear predictors, the family's derivatives and the row's share of the gradient are computed while it is in the
processor's cache (a batch of :data:`~.fused_kernels.BATCH_ROWS` rows at a time), by a kernel of
:mod:`.fused_kernels` compiled with Numba (imported on first use, so that small fits never load it) that releases
the interpreter lock, so that the threads of :func:`row_pool` run it on all cores at once (:func:`run_kernel`; the
pass with the Hessian, :mod:`.fused_hessian`, runs the same way).

The rows are cut into chunks (:func:`rows_per_chunk`), each chunk's sums kept apart and added in the chunks' order,
so the result does not depend on the number of threads or on which thread ran which chunk: the same data and
coefficients give the same bits. :func:`map_in_order` shares other work over the same threads (the blocks of
NumPy's Hessian passes on fewer rows, whose products release the lock), and :func:`column_moments`,
:func:`largest_linear_predictor` and :func:`sum_is_finite` are the checks of a model's construction, fused alike.
``benchmarks/ml_speed.py`` and ``benchmarks/mcmc_large.py`` time these passes.

Conventions as in :mod:`.objective`: ``X`` (n, p) without an intercept column, coefficients ``B`` (P, M) with the
intercept in row 0 when present, class codes ``y`` (n,), weights (n,).
"""

import os
import threading
import types
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from functools import cache

import numpy as np

from bayeslogit.numerics.blas_threads import blas_threads
from bayeslogit.numerics.fused_kernels import HELPERS, KERNELS, MATRIX_PRODUCTS

FUSED_MIN_ELEMENTS = 2**20
"""Data elements (rows x features x linear predictors) from which passes run fused: below, NumPy's per-block
passes take a few hundred microseconds at most, and the compiler is not worth importing."""
CHUNK_ROWS = 4096
"""Rows whose sums are kept apart: the unit of the deterministic reduction and of the work shared by threads (fewer
on few rows: :func:`rows_per_chunk`)."""
CHUNKS_AT_LEAST = 16
"""Chunks a pass over few rows is cut into, where chunks of :data:`CHUNK_ROWS` would leave a core idle (a row
subsample of 5,000 rows in two chunks of 4,096 and 904 runs at the speed of one core)."""

_SERIAL = threading.local()  # .active is True in threads whose passes run alone: the pool's own, and callers'
_COMPILING = threading.Lock()  # held while a kernel is compiled or loaded


def fused_applies(n_elements: int, family=None) -> bool:
    """Whether passes over ``n_elements`` data elements (of ``family``'s likelihood, if given) run fused."""
    return n_elements >= FUSED_MIN_ELEMENTS and (family is None or family.name in KERNELS)


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
        Rows need not be contiguous in memory: the Bernoulli pass reads a view of every k-th row as it is, the
        categorical one (whose matrix products take C-contiguous rows) a copy.
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
    products = family.name in MATRIX_PRODUCTS
    if products:
        X = np.ascontiguousarray(X)
    with blas_threads(1) if products else nullcontext():
        _over_chunks(family.name, X, y, weights, unit_weights, B, intercept, reference, values, grads, with_gradient)
    largest = values[:, 1].max() if not np.isnan(values[:, 1]).any() else np.nan
    return float(values[:, 0].sum()), (grads.sum(axis=0) if with_gradient else None), float(largest)


def column_moments(
    X: np.ndarray, weights: np.ndarray, center: np.ndarray, screen_step: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``sum_i w_i (x_ij - c_j)`` and ``sum_i w_i (x_ij - c_j)^2``, each (p,), of ``X`` (n, p) about ``center`` (p,),
    and with a positive ``screen_step`` the weighted Gram matrix ``sum_i w_i z_i z_i^T`` of ``z_i = [1, x_i]`` over
    the rows ``0, screen_step, 2 screen_step, ...`` (p + 1, p + 1) (None without). Non-finite values propagate (no
    warning)."""
    sums = _per_chunk(X, (2, X.shape[1]))
    grams = _per_chunk(X, (X.shape[1] + 1,) * 2 if screen_step > 0 else (0, 0))
    _over_chunks("moments", X, weights, np.ascontiguousarray(center, dtype=np.float64), screen_step, sums, grams)
    first, second = sums.sum(axis=0)
    if screen_step <= 0:
        return first, second, None
    upper = grams.sum(axis=0)
    return first, second, np.triu(upper) + np.triu(upper, 1).T


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


def rows_per_chunk(n: int) -> int:
    """Rows of each chunk of a pass over ``n`` rows: :data:`CHUNK_ROWS`, or fewer (whole batches of 64, at least one)
    so that there are :data:`CHUNKS_AT_LEAST` chunks. A function of ``n`` alone: the sums do not depend on the
    threads."""
    return min(CHUNK_ROWS, 64 * max(1, -(-n // (64 * CHUNKS_AT_LEAST))))


def _per_chunk(X: np.ndarray, shape: tuple) -> np.ndarray:
    """Zeros for each chunk of the rows of ``X``: shape (n_chunks, *shape)."""
    return np.zeros((max(1, -(-X.shape[0] // rows_per_chunk(X.shape[0]))), *shape))


def _over_chunks(kernel: str, X: np.ndarray, *args) -> None:
    """:func:`run_kernel` of the kernel named ``kernel`` (a key of :data:`.fused_kernels.KERNELS`)."""
    run_kernel(KERNELS[kernel], X, *args)


def run_kernel(kernel, X: np.ndarray, *args, chunk_rows: int | None = None) -> None:
    """``kernel(X, *args, first, stop, chunk_rows)``, compiled, over every chunk of ``chunk_rows`` rows of ``X``
    (default :func:`rows_per_chunk`): in this thread, or in contiguous ranges of chunks shared by the pool's threads
    (each chunk writing its own slot of the outputs among ``args``)."""
    compiled = _compiled(kernel)
    chunk_rows = chunk_rows or rows_per_chunk(X.shape[0])
    n_chunks = max(1, -(-X.shape[0] // chunk_rows))
    workers = 1 if getattr(_SERIAL, "active", False) else min(n_chunks, _n_workers())
    if workers == 1:
        compiled(X, *args, 0, n_chunks, chunk_rows)
        return
    bounds = [n_chunks * worker // workers for worker in range(workers + 1)]  # contiguous, near-equal ranges
    futures = [
        row_pool().submit(compiled, X, *args, first, stop, chunk_rows)
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


def _compiled(kernel):
    """The Numba kernel of the Python function ``kernel``, compiled (or loaded from Numba's cache) on first use,
    once for all threads."""
    with _COMPILING:
        return _compile(kernel)


@cache
def _compile(kernel):
    """:func:`_compiled`'s work: the kernel, cached on disk where Numba finds a writable place (the package's
    folder, or the user's cache folder), else compiled in each process. The helpers of
    :data:`~.fused_kernels.HELPERS` the kernels call are compiled first and bound in their place, their sums in the
    order written (fused multiply-adds allowed, no reassociation: their rounding is part of their accuracy)."""
    import numba

    exact = {"nogil": True, "error_model": "numpy", "fastmath": {"contract"}}
    helpers = {name: _jit(numba, helper, exact) for name, helper in HELPERS.items()}
    bound = types.FunctionType(kernel.__code__, {**kernel.__globals__, **helpers}, kernel.__name__)
    bound.__qualname__, bound.__module__ = kernel.__qualname__, kernel.__module__
    return _jit(numba, bound, {"nogil": True, "error_model": "numpy", "fastmath": {"reassoc", "contract"}})


def _jit(numba, function, options: dict):
    """``function`` compiled with ``options``, cached on disk where Numba can write."""
    try:
        return numba.njit(cache=True, **options)(function)
    except RuntimeError:  # "cannot cache function ...: no locator available": a read-only installation
        return numba.njit(**options)(function)
