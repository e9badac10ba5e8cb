"""How many threads BLAS runs on: one cached threadpoolctl controller for every pass of the package.

NumPy and SciPy each bundle an OpenBLAS with its own thread pool. BLAS runs on one thread where the package runs
threads of its own (a pool over row blocks, dask's scheduler, nutpie's chains), since OpenBLAS's threads, called
from several threads at once, wait on each other and slow the products severalfold, and in passes over large data
(:func:`one_blas_thread`), whose products, a block of rows at a time, are too small to gain from more threads
while other work shares the cores. ``benchmarks/ml_speed.py`` (Newton's passes), ``benchmarks/posterior_large.py``
(predictions over draws), ``benchmarks/mcmc_large.py`` (chains in threads) and ``benchmarks/dask_large.py`` measure
these choices.

threadpoolctl is imported on first use, so that fits of small data never load it. Its controller scans the shared
libraries loaded in the process for BLAS ones, so it is made once, and again only after modules have been imported
(one of them may have loaded another BLAS): every limit covers the libraries loaded when it is set.
"""

import sys
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache

_SINGLE_THREAD_MIN = 2**16  # products of this size or more run on one BLAS thread


@lru_cache(maxsize=1)
def _controller(n_modules: int):
    """The threadpoolctl controller of the libraries loaded while ``n_modules`` modules were."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def blas_threads(limit: int | None) -> AbstractContextManager:
    """A context in which BLAS runs on at most ``limit`` threads; with ``limit`` None, on as many as it would."""
    if limit is None:
        return nullcontext()
    return _controller(len(sys.modules)).limit(limits=limit, user_api="blas")


def one_blas_thread(size: int) -> AbstractContextManager:
    """A context in which BLAS runs on one thread, for a pass whose products take ``size`` multiply-adds.

    Below ``_SINGLE_THREAD_MIN`` (a Newton step on wells, 3,020 rows and 3 coefficients, takes 27,180) the
    context does nothing, and threadpoolctl is not imported: OpenBLAS runs such products on one thread anyway.
    """
    return nullcontext() if size < _SINGLE_THREAD_MIN else blas_threads(1)
