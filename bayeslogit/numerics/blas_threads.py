"""How many threads BLAS runs on: one cached threadpoolctl controller and one count of limits for the package.

NumPy and SciPy each bundle an OpenBLAS with its own thread pool. BLAS runs on one thread where the package runs
threads of its own (a pool over row blocks, dask's scheduler, nutpie's chains), since OpenBLAS's threads, called
from several threads at once, wait on each other and slow the products severalfold, and in passes over large data
(:func:`one_blas_thread`), whose products, a block of rows at a time, are too small to gain from more threads
while other work shares the cores. ``benchmarks/ml_speed.py`` (Newton's passes), ``benchmarks/posterior_large.py``
(predictions over draws), ``benchmarks/mcmc_large.py`` (chains in threads) and ``benchmarks/dask_large.py`` measure
these choices.

OpenBLAS's thread count is one setting for the whole process, while limits are set from several Python threads
(two fits in threads, nutpie's chains inside a fit's limit). threadpoolctl's own limits each save the count they
find and put it back on exit, so two that overlap in time can leave BLAS limited for good: A limits to one, B
saves that one, A puts the original back, B puts its one back. So the limits here are counted, under one lock: the
first to enter saves each library's count and sets the limit, later ones (nested or from other threads) only
count, and the last to leave puts the saved counts back. While several limits are active BLAS runs on the least
of them. The counts are set through threadpoolctl's library controllers, and the thread that sets them gives up
OpenBLAS's control afterwards, as threadpoolctl's own limits do, so that another thread can put them back.

threadpoolctl is imported on first use, so that fits of small data never load it. Its controller scans the shared
libraries loaded in the process for BLAS ones, so it is made once, and again only after modules have been imported
(one of them may have loaded another BLAS): every limit covers the libraries loaded when it is set, and a library
loaded while limits are active is saved and limited by the next limit to enter.
"""

import sys
import threading
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache

_SINGLE_THREAD_MIN = 2**16  # products of this size or more run on one BLAS thread

_LOCK = threading.Lock()  # held while the counts below change and while BLAS's thread counts are set
_ACTIVE: Counter[int] = Counter()  # limit -> how many contexts of that limit are active, in any thread
_SAVED: dict[str, tuple] = {}  # library's path -> (its controller, its thread count before the first limit)


@lru_cache(maxsize=1)
def _controller(n_modules: int):
    """The threadpoolctl controller of the libraries loaded while ``n_modules`` modules were."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _set_threads(settings) -> None:
    """Set each ``(library controller, thread count)`` of ``settings``, then give up control of OpenBLAS.

    threadpoolctl lets one Python thread at a time set OpenBLAS's count (the first to set it; others are silently
    ignored) and counts, per thread, the limits that thread holds, freeing control when its count falls to zero;
    the count is held over the settings here, so that control stays with a thread inside a threadpoolctl limit of
    its own and is freed otherwise.
    """
    import threadpoolctl

    ownership = getattr(threadpoolctl, "CONTROLLING_THREAD_OWNERSHIP", None)
    if ownership is not None:
        ownership.increment()
    try:
        for library, n_threads in settings:
            library.set_num_threads(n_threads)
    finally:
        if ownership is not None:
            ownership.decrement()


class _BlasLimit(AbstractContextManager):
    """BLAS on at most ``limit`` threads while this context, or any other one of this module, is active."""

    __slots__ = ("limit",)

    def __init__(self, limit: int):
        self.limit = limit

    def __enter__(self):
        with _LOCK:
            loaded = _controller(len(sys.modules)).lib_controllers
            before = min(_ACTIVE) if _ACTIVE else None
            _ACTIVE[self.limit] += 1
            limit = min(_ACTIVE)
            new = []
            for library in loaded:
                if library.user_api == "blas" and library.filepath not in _SAVED:
                    n_threads = library.num_threads
                    if n_threads is not None:
                        _SAVED[library.filepath] = (library, n_threads)
                        new.append(library)
            libraries = new if limit == before else [library for library, _ in _SAVED.values()]
            _set_threads((library, limit) for library in libraries)
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        with _LOCK:
            before = min(_ACTIVE)
            _ACTIVE[self.limit] -= 1
            if not _ACTIVE[self.limit]:
                del _ACTIVE[self.limit]
            if not _ACTIVE:
                saved = list(_SAVED.values())
                _SAVED.clear()
                _set_threads(saved)
            elif min(_ACTIVE) != before:
                _set_threads((library, min(_ACTIVE)) for library, _ in _SAVED.values())


def blas_threads(limit: int | None) -> AbstractContextManager:
    """A context in which BLAS runs on at most ``limit`` threads; with ``limit`` None, on as many as it would.

    Contexts nest and overlap from several threads: BLAS runs on the least limit of those active, and the counts
    found before the first are put back when the last ends.
    """
    if limit is None:
        return nullcontext()
    return _BlasLimit(limit)


def one_blas_thread(size: int) -> AbstractContextManager:
    """A context in which BLAS runs on one thread, for a pass whose products take ``size`` multiply-adds.

    Below ``_SINGLE_THREAD_MIN`` (a Newton step on wells, 3,020 rows and 3 coefficients, takes 27,180) the
    context does nothing, and threadpoolctl is not imported: OpenBLAS runs such products on one thread anyway.
    """
    return nullcontext() if size < _SINGLE_THREAD_MIN else blas_threads(1)
