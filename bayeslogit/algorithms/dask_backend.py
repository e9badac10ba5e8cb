"""Dask reductions: the package's objective on rows held out of core, one pass over the chunks at a time.

The only module that imports dask, and only inside its functions, so that ``import bayeslogit`` and fits of
in-memory data never load it. Computations run on dask's default scheduler: its local threads, or a
``dask.distributed`` cluster when a client is active (dask picks the client up by itself).

Conventions
-----------
A model's rows are dask arrays chunked along the rows alike: ``X`` (n, p) float64 in one chunk of columns,
class codes ``y`` (n,) and ``weights`` (n,). A function of the rows is applied to each row chunk's NumPy blocks
(:func:`reduce_row_chunks`) and the chunks' results are combined in a tree inside the task graph, so that the
client receives one small result and each pass reads every chunk once. Nothing here repeats the maths of
:mod:`bayeslogit.numerics`: :class:`ChunkedObjective` applies
:class:`~bayeslogit.numerics.objective.Objective` to each chunk's block.

While a pass runs, BLAS in this process runs on one thread: the scheduler's threads share the cores, and
OpenBLAS's own threads, called from several threads at once, slow the products severalfold.
"""

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from bayeslogit.numerics.blas_threads import blas_threads
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.draw_values import subsample, subsample_size, values_of_draws
from bayeslogit.numerics.objective import Objective
from bayeslogit.numerics.prior_densities import flat_term

_FAN_IN = 8  # chunk results combined per task of the reduction tree


def is_dask(obj) -> bool:
    """Whether ``obj`` is a dask collection (array, DataFrame, Series), without importing dask for anything else."""
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(obj)


def _compute(*collections):
    """``dask.compute`` of the collections, BLAS on one thread in this process meanwhile."""
    import dask

    with blas_threads(1):
        return dask.compute(*collections)


def _blocks(array) -> list:
    """The row chunks of a dask array as delayed NumPy blocks, unoptimised, so that a chunk shared by several arrays
    of one pass (``y`` computed from ``X``) is computed once."""
    return list(array.to_delayed(optimize_graph=False).ravel())


def _tree(tasks: list, combine: Callable):
    """One delayed result: ``combine(*results)`` applied to groups of :data:`_FAN_IN` tasks, then to their results."""
    from dask import delayed

    while len(tasks) > 1:
        tasks = [delayed(combine)(*tasks[i : i + _FAN_IN]) for i in range(0, len(tasks), _FAN_IN)]
    return tasks[0]


def reduce_row_chunks(function: Callable, combine: Callable, *arrays, first_row: bool = False):
    """``combine`` of ``function`` applied to the NumPy blocks of each row chunk of ``arrays``, in one pass.

    Parameters
    ----------
    function : callable
        ``function(*blocks)``, or ``function(start, *blocks)`` with ``first_row``, ``start`` being the index of
        the chunk's first row; a module-level function (or a partial of one) when the cluster is distributed.
    combine : callable
        ``combine(*results) -> result``, associative.
    *arrays : dask arrays
        Chunked alike along the rows, in one chunk along any other axis.
    first_row : bool

    Returns
    -------
    The combined result.
    """
    from dask import delayed

    starts = np.cumsum((0, *arrays[0].chunks[0][:-1]))
    tasks = [
        delayed(partial(function, int(start)) if first_row else function)(*blocks)
        for start, *blocks in zip(starts, *map(_blocks, arrays))
    ]
    return _compute(_tree(tasks, combine))[0]


def add(*parts):
    """The sum of numbers, arrays, or tuples of them (elementwise)."""
    if isinstance(parts[0], tuple):
        return tuple(add(*values) for values in zip(*parts))
    return sum(parts[1:], parts[0])


def _least(*values: float) -> float:
    return min(values)


def in_memory(*arrays) -> tuple:
    """``arrays`` as they are, except that dask arrays among them are computed, together (one pass)."""
    return _compute(*arrays)


def as_dask_array(values, chunks):
    """``values`` (a NumPy or dask array) as a dask array with the given ``chunks``."""
    import dask.array as da

    return da.asarray(values).rechunk(chunks)


def ones(chunks):
    """A lazy dask array of ones with the given (row) ``chunks``."""
    import dask.array as da

    return da.ones(sum(chunks[0]), chunks=chunks)


def map_blocks(function: Callable, array, dtype, *args):
    """The dask array of ``function(block, *args)`` for each block of ``array``, lazily, of dtype ``dtype``."""
    return array.map_blocks(function, *args, dtype=dtype)


def map_row_chunks(function: Callable, rows) -> np.ndarray:
    """``function`` of each row chunk of a dask array (or partition of a dask DataFrame), results concatenated.

    Parameters
    ----------
    function : callable
        NumPy array (or pandas DataFrame) of shape (n_rows, ...) -> ndarray of shape (n_rows, ...).
    rows : dask array of shape (n_samples, ...) or dask DataFrame

    Returns
    -------
    ndarray of shape (n_samples, ...)
        Computed chunk by chunk: memory holds the result and the chunks in flight, never all the rows.
    """
    from dask import delayed

    if rows.ndim == 2 and hasattr(rows, "rechunk"):
        rows = rows.rechunk({1: -1})
    blocks = rows.to_delayed()
    blocks = blocks.ravel() if isinstance(blocks, np.ndarray) else blocks
    return np.concatenate(_compute(*(delayed(function)(block) for block in blocks)))


def frame_to_arrays(frame, function: Callable, meta, columns: list) -> tuple:
    """A dask DataFrame's partitions through ``function`` (pandas -> pandas), and its ``columns``, as dask arrays.

    Parameters
    ----------
    frame : dask DataFrame
    function : callable
        A partition (pandas DataFrame) -> a numeric pandas DataFrame of the same rows.
    meta : pandas DataFrame
        ``function``'s output on no rows (its columns and dtypes).
    columns : list of str
        Columns of ``frame`` to return as they are.

    Returns
    -------
    tuple of dask arrays
        ``function``'s output (n_samples, n_columns), then each of ``columns`` (n_samples,), chunked by partition.
        The partitions' lengths are counted first, one pass over the frame.
    """
    lengths = tuple(int(n) for n in _compute(frame.map_partitions(len))[0])
    expanded = frame.map_partitions(function, meta=meta).to_dask_array(lengths=lengths)
    return expanded, *(frame[column].to_dask_array(lengths=lengths) for column in columns)


def _on_chunk(objective: Objective, method: str, args: tuple, X: np.ndarray, y: np.ndarray, weights: np.ndarray):
    """``objective.method(*args)`` on one chunk's rows, without the prior term (counted once, elsewhere)."""
    chunk = replace(
        objective,
        design=Design(np.ascontiguousarray(X, dtype=float), objective.design.intercept),
        y=y,
        weights=weights,
        prior=flat_term(objective.shape[0]),
    )
    return getattr(chunk, method)(*args)


@dataclass(frozen=True)
class ChunkedObjective:
    """The objective of :class:`~bayeslogit.numerics.objective.Objective` on rows held as dask arrays.

    Each pass applies ``Objective`` to every row chunk's NumPy block with a flat prior and sums the
    chunks' value, gradient and Hessian in the task graph; the prior term is added once, as the objective of no
    rows. So a Newton step reads the data once, and the answer equals the in-memory objective's to rounding.

    Parameters
    ----------
    no_rows : Objective
        The objective on no rows (a design of shape (0, p)): the prior term alone, and the family, prior
        term and transform that every chunk shares.
    X : dask array of shape (n_samples, n_features)
        float64, in one chunk of columns.
    y : dask array of int of shape (n_samples,)
        Class codes, chunked like ``X``'s rows.
    weights : dask array of shape (n_samples,)
        Chunked like ``X``'s rows.
    """

    no_rows: Objective
    X: object
    y: object
    weights: object

    @property
    def shape(self) -> tuple[int, int]:
        """Shape (P, M) of the coefficient matrix."""
        return self.no_rows.shape

    @property
    def n_free(self) -> int:
        return self.no_rows.n_free

    @property
    def prior(self):
        """The prior's term (:mod:`bayeslogit.numerics.prior_specs`)."""
        return self.no_rows.prior

    @property
    def convex(self) -> bool:
        return self.no_rows.convex

    @property
    def transform(self) -> np.ndarray | None:
        return self.no_rows.transform

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    def coef(self, u: np.ndarray) -> np.ndarray:
        """The coefficient matrix (P, M) of free coordinates ``u`` (n_free,)."""
        return self.no_rows.coef(u)

    def with_prior(self, prior) -> "ChunkedObjective":
        """The same rows under another prior term (see :meth:`Objective.with_prior`)."""
        return replace(self, no_rows=self.no_rows.with_prior(prior))

    def penalty(self, B: np.ndarray) -> float:
        """The prior term of coefficients ``B`` (P, M)."""
        return self.no_rows.penalty(B)

    def _over_chunks(self, method: str, *args, combine: Callable = add):
        """``Objective.method(*args)`` of every chunk (with the settings of :attr:`no_rows`), combined."""
        return reduce_row_chunks(partial(_on_chunk, self.no_rows, method, args), combine, self.X, self.y, self.weights)

    def value(self, u: np.ndarray) -> float:
        """The objective at ``u``, one pass."""
        return self.no_rows.value(u) + self._over_chunks("value", u)

    def value_and_gradient(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        """Value and gradient (n_free,) at ``u``, one pass."""
        return add(self.no_rows.value_and_gradient(u), self._over_chunks("value_and_gradient", u))

    def __call__(self, u: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Value, gradient (n_free,) and Hessian (n_free, n_free) at ``u``, one pass."""
        return add(self.no_rows(u), self._over_chunks("__call__", u))

    def least_likely_other_class(self, u: np.ndarray) -> float:
        """:meth:`Objective.least_likely_other_class` over every chunk, one pass."""
        return self._over_chunks("least_likely_other_class", u, combine=_least)

    def values_of_draws(self, draws: np.ndarray) -> np.ndarray:
        """The objective at each of ``S`` coefficient matrices ``draws`` (S, P, M), shape (S,), in one pass:
        :func:`~bayeslogit.numerics.draw_values.values_of_draws`, the subsample stratified by chunk. Memory holds
        the subsample and blocks of (rows x S) linear predictors, whatever the number of rows."""
        return values_of_draws(self.no_rows, draws, self.n_samples, self._expansion_and_subsample)

    def _expansion_and_subsample(self, centre: np.ndarray | None) -> tuple:
        """The negative log-likelihood's value, gradient and Hessian in ``vec(B)`` coordinates at ``centre`` (P, M),
        summed by chunk (None without a centre), and the subsample (``X``, ``y``, ``weights``), each chunk's share,
        gathered in the same pass."""
        from dask import delayed

        chunks = list(zip(*map(_blocks, (self.X, self.y, self.weights))))
        samples = [
            delayed(partial(subsample, index, subsample_size(n, self.n_samples)))(*blocks)
            for index, (n, blocks) in enumerate(zip(self.X.chunks[0], chunks))
        ]
        if centre is None:
            expansion, parts = None, _compute(*samples)
        else:
            in_vec = replace(self.no_rows, transform=None)  # the Hessian in vec(B) coordinates
            chunk_expansion = partial(_on_chunk, in_vec, "__call__", (centre.ravel(order="F"),))
            expansion, *parts = _compute(_tree([delayed(chunk_expansion)(*blocks) for blocks in chunks], add), *samples)
        X, y, weights = (np.concatenate(column) for column in zip(*parts))
        return expansion, (np.ascontiguousarray(X, dtype=float), y, weights)
