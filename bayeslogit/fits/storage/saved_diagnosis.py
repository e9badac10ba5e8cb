"""A fit's diagnosis (a dataclass such as :class:`~bayeslogit.fits.diagnostics.convergence.LaplaceDiagnosis`) as
saved, field by field.

The fields are read from ``dataclasses.fields``, so a field added to the diagnosis is saved and loaded with no
change here: a Series or DataFrame labelled like ``coef`` becomes an array with the coefficients' dims (its
Series name kept in the metadata), a number, text, flag or None a JSON value. On loading, each value must have
the type its field is annotated with.
"""

import dataclasses
import typing

import numpy as np
import pandas as pd

from bayeslogit.exceptions import DataError
from bayeslogit.fits.storage.plain import Names, describe

SCHEMA = {"labelled": Names((str, None)), "values": Names(object)}
"""The shape of the metadata of :func:`diagnosis_parts` (see :mod:`.plain`)."""


def diagnosis_parts(diagnosis, layout) -> tuple[dict, dict]:
    """The arrays and the metadata of ``diagnosis``, whose labels are those of ``layout`` (a ``CoefLayout``).

    Returns
    -------
    arrays : dict of str to ndarray
        Each field labelled like ``coef``, of shape (P,) (binary) or (P, M) (multiclass): ``layout.family.collapse``.
    meta : dict
        ``{"labelled": {field: Series name or None}, "values": {field: value}}`` (:data:`SCHEMA`).

    Raises
    ------
    TypeError
        For a field that holds neither a plain value nor a Series or DataFrame labelled like ``coef``.
    """
    arrays, labelled, values = {}, {}, {}
    for field in _fields(type(diagnosis)):
        value = getattr(diagnosis, field.name)
        if isinstance(value, (pd.Series, pd.DataFrame)):
            arrays[field.name] = _coef_values(value, layout, field.name)
            labelled[field.name] = value.name if isinstance(value, pd.Series) else None
        else:
            values[field.name] = _scalar(value, field.name)
    return arrays, {"labelled": labelled, "values": values}


def _fields(cls) -> list:
    return [field for field in dataclasses.fields(cls) if field.init]


def _coef_values(value, layout, name: str) -> np.ndarray:
    """The values of a Series or DataFrame ``value`` labelled like ``coef``."""
    like = layout.labelled(np.zeros((len(layout.coef_names), len(layout.columns))))
    if (
        type(value) is not type(like)
        or not value.index.equals(like.index)
        or (isinstance(value, pd.DataFrame) and not value.columns.equals(like.columns))
    ):
        raise TypeError(f"the diagnosis's {name} is not labelled like coef, so it cannot be saved with its dims")
    if isinstance(value, pd.Series) and value.name is not None and not isinstance(value.name, str):
        raise TypeError(f"the diagnosis's {name} is named {value.name!r}; a saved Series is named by text or None")
    return value.to_numpy()


def _scalar(value, name: str):
    """A figure as JSON: a number, text, flag or None."""
    value = value.item() if isinstance(value, np.generic) else value
    if value is not None and type(value) not in (bool, int, float, str):
        raise TypeError(
            f"the diagnosis's {name} holds a {type(value).__name__}; a saved diagnosis holds numbers, "
            "text, flags, None and Series or DataFrames labelled like coef"
        )
    return value


def diagnosis_from_parts(cls: type, arrays: dict, meta: dict, layout):
    """The diagnosis of class ``cls`` of :func:`diagnosis_parts`'s output, each value of its field's type.

    Raises
    ------
    DataError
        When a field without a default is missing, a value or array is not one of the fields, or a value is not
        of its field's type.
    """
    hints = typing.get_type_hints(cls)
    names = {field.name for field in _fields(cls)}
    labelled, values = meta["labelled"], meta["values"]
    unknown = sorted((set(labelled) | set(values) | set(arrays)) - names) + sorted(set(labelled) & set(values))
    if unknown or set(arrays) != set(labelled):
        raise DataError(
            f"the diagnosis holds {sorted(labelled)} as arrays and {sorted(values)} as values, with the "
            f"arrays {sorted(arrays)}; a {cls.__name__} has the fields {sorted(names)}"
        )
    frames = [name for name in labelled if not {pd.Series, pd.DataFrame} & set(typing.get_args(hints[name]) or ())]
    if frames:
        raise DataError(f"the diagnosis holds {frames} as arrays, which a {cls.__name__} holds as values")
    shape = (len(layout.coef_names), len(layout.columns))
    arguments = {name: layout.labelled(np.reshape(arrays[name], shape), name=labelled[name]) for name in labelled}
    arguments |= {name: _typed(value, hints[name], name) for name, value in values.items()}
    missing = [
        field.name
        for field in _fields(cls)
        if field.name not in arguments
        and field.default is dataclasses.MISSING
        and field.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise DataError(f"the diagnosis lacks {missing}, which a {cls.__name__} needs")
    return cls(**arguments)


def _typed(value, hint, name: str):
    """``value``, when of a type that ``hint`` (``float``, ``str | None``, ...) allows; an int stands for a float."""
    allowed = typing.get_args(hint) or (hint,)
    if type(value) in allowed or (float in allowed and type(value) is int):
        return value
    shown = describe(tuple(None if option is type(None) else option for option in allowed))
    raise DataError(f"the diagnosis's {name} must be {shown}; got {value!r:.40}")
