"""nutpie without the cost of what the package does not use of it: its import, and its conversion of the trace.

``import nutpie`` imports the ``arviz`` namespace, which imports arviz-plots and with it matplotlib's pyplot
(half a second in a fresh process), only to convert traces to a DataTree at the end of sampling. The MCMC back
end asks nutpie for its raw trace instead (Arrow record batches, one per chain) and reads the draws and the
sampler's statistics into arrays itself (:func:`trace_arrays`); :func:`import_nutpie` imports nutpie with
``arviz`` registered as a module whose code runs on the first use of one of its attributes, by nutpie or by
anyone else in the process (:class:`DeferredModule`).
"""

import importlib.util
import sys
import threading
import types

import numpy as np

SKIPPED_STATS = ("chain", "draw")
"""Columns of nutpie's statistics that are the dataset's coordinates; every other column that holds one value per
draw becomes a variable of the statistics' dataset (those holding vectors per draw, such as the mass matrix or
the gradient, are not kept, as nutpie's own conversion does not keep them by default)."""


def import_nutpie():
    """The ``nutpie`` module, imported with ``arviz`` (when not imported yet) a :class:`DeferredModule`."""
    if "nutpie" not in sys.modules and "arviz" not in sys.modules:
        spec = importlib.util.find_spec("arviz")
        if spec is not None:
            sys.modules["arviz"] = DeferredModule.from_spec(spec)
    import nutpie

    return nutpie


class DeferredModule(types.ModuleType):
    """A module registered in ``sys.modules`` whose code runs on the first lookup of an attribute it lacks.

    The import statement finds it initialised (its ``__spec__`` and ``__path__`` are set) and binds it without
    running it, unlike :class:`importlib.util.LazyLoader`'s modules, which the import statement itself executes
    (it reads ``__spec__``). Once run, it is an ordinary module: the same object, its own attributes. A failure
    of its code propagates and takes it out of ``sys.modules``, as a failed import does.
    """

    @classmethod
    def from_spec(cls, spec) -> "DeferredModule":
        module = importlib.util.module_from_spec(spec)
        module.__class__ = cls
        return module

    def __getattr__(self, name: str):
        self._execute()
        return getattr(self, name)

    def __dir__(self) -> list[str]:
        self._execute()
        return dir(self)

    def _execute(self) -> None:
        """Run the module's code into this module object, once."""
        with _EXECUTING:
            if type(self) is DeferredModule:
                self.__class__ = types.ModuleType
                try:
                    self.__spec__.loader.exec_module(self)
                except BaseException:
                    sys.modules.pop(self.__name__, None)
                    raise


_EXECUTING = threading.Lock()


def trace_arrays(trace, name: str, draws: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The kept draws of variable ``name`` and the sampler's statistics per kept draw, from nutpie's raw trace.

    Parameters
    ----------
    trace
        What ``nutpie.sample(..., return_raw_trace=True)`` returns: Arrow record batches of draws and of
        statistics, one of each per chain, the warm-up's rows (``tuning`` true) first.
    name : str
        A variable of the draws, of one flat vector per draw.
    draws : int
        Draws kept per chain, after the warm-up.

    Returns
    -------
    values : ndarray of shape (chains, draws, k)
    stats : dict
        Column name -> ndarray of shape (chains, draws): floats NaN and texts None where nutpie recorded
        nothing, other types 0 there.
    """
    import pyarrow

    draw_batches, stat_batches = trace.get_arrow_trace()
    values, stats = [], {}
    for draw_batch, stat_batch in zip(draw_batches, stat_batches, strict=True):
        warmup = draw_batch.num_rows - draws
        column = pyarrow.array(draw_batch.column(name)).slice(warmup)
        values.append(column.flatten().to_numpy().reshape(draws, -1))
        for stat in stat_batch.column_names:
            column = pyarrow.array(stat_batch.column(stat)).slice(warmup)
            if stat not in SKIPPED_STATS and not pyarrow.types.is_large_list(column.type):
                stats.setdefault(stat, []).append(_filled(column))
    return np.stack(values), {stat: np.stack(columns) for stat, columns in stats.items()}


def _filled(column) -> np.ndarray:
    """A pyarrow array as a NumPy array of its own type (its nulls NaN, None or 0 by that type), shape (length,)."""
    dtype = np.dtype(column.type.to_pandas_dtype())
    if column.null_count == 0:
        return column.to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    blank = np.nan if dtype.kind == "f" else None if dtype.kind == "O" else 0
    filled = np.full(len(column), blank, dtype=dtype)
    present = ~column.is_null().to_numpy(zero_copy_only=False)
    filled[present] = column.drop_null().to_numpy(zero_copy_only=False)
    return filled
