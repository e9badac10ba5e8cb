"""Where rows come from: arrays and data frames in memory, or dask collections read a chunk at a time.

The one place that tells the two apart. Each kind is a module with the same functions: ``prepare`` (a model's rows
from ``X`` and ``y``), ``formula_data`` (from a data frame and a formula) and ``new_design`` (new rows for
prediction), :mod:`~bayeslogit.rows.in_memory` and :mod:`~bayeslogit.rows.chunked`.
"""

from types import ModuleType

import numpy as np

from bayeslogit.algorithms import dask_backend
from bayeslogit.exceptions import DataTypeError
from bayeslogit.rows import chunked, in_memory


def kind_of(data) -> ModuleType:
    """The module that reads ``data``: :mod:`~bayeslogit.rows.chunked` for a dask collection, else
    :mod:`~bayeslogit.rows.in_memory`."""
    return chunked if dask_backend.is_dask(data) else in_memory


def frame_kind(data) -> ModuleType:
    """:func:`kind_of` a data frame ``data``, pandas or dask.

    Raises
    ------
    DataTypeError
        When ``data`` is not a data frame.
    """
    if not hasattr(data, "columns"):
        raise DataTypeError(f"data must be a pandas DataFrame (or a dask DataFrame); got {type(data).__name__}")
    return kind_of(data)


def in_memory_arrays(*arrays) -> tuple[np.ndarray, ...]:
    """``arrays`` as NumPy arrays, dask arrays among them computed."""
    return tuple(np.asarray(kind_of(array).computed(array)) for array in arrays)
