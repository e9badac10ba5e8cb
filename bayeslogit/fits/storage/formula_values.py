"""The values in a formula's state (spline knots, means, category levels, contrasts) as plain data, and back.

A value is written as JSON where JSON keeps its type (``null``, booleans, integers, floats, text and lists); any
other is an object of one tag:

* ``{"tuple": [...]}`` and ``{"dict": [[key, value], ...]}`` (keys of any of these types, in order);
* ``{"numpy": [dtype, value]}``, a NumPy scalar (dtype ``"<f8"``, ``"<i8"``, ``"|b1"``, ``"<U3"``, ...);
* ``{"array": [dtype, shape, values]}``, a NumPy array of booleans or numbers;
* ``{"object": [class, {argument: value}]}``, one of formulaic's contrasts (a fixed table of classes, built from
  their constructor arguments);
* ``{"sentinel": name}``, formulaic's ``UNSET`` or ``MISSING``.

A value of any other type is refused when it is written. :func:`decode` is strict: what :func:`encode` does not
write raises :class:`DataError`, and nothing is evaluated or imported by name from the data.

formulaic is imported on first use.
"""

import dataclasses
import re
from functools import cache

import numpy as np

from bayeslogit.exceptions import DataError
from bayeslogit.fits.storage.plain import checked

_SCALARS = {"b": bool, "i": int, "u": int, "f": float, "U": str}
"""NumPy dtype kind -> the JSON type of its values."""
_DTYPE = re.compile(r"[<>|=]?[biufU]\d+")


def encode(value, where: str):
    """``value`` as JSON-ready data (see the module); :func:`decode` reads it back.

    Raises
    ------
    DataError
        When ``value`` holds something of another type, naming ``where`` it is.
    """
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in _SCALARS:
        return {"numpy": [value.dtype.str, value.item()]}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"array": [value.dtype.str, list(value.shape), value.ravel().tolist()]}
    if type(value) in (list, tuple):
        items = [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
        return items if type(value) is list else {"tuple": items}
    if type(value) is dict:
        return {"dict": [[encode(key, where), encode(item, f"{where}[{key!r}]")] for key, item in value.items()]}
    name = type(value).__name__
    if name in _objects() and type(value) is _objects()[name][0]:
        arguments = _objects()[name][1]
        return {
            "object": [
                name,
                {
                    argument: encode(getattr(value, attribute), f"{where}.{argument}")
                    for argument, attribute in arguments.items()
                },
            ]
        }
    if any(value is member for member in _sentinels().values()):
        return {"sentinel": value.name}
    raise DataError(
        f"a fit of this formula cannot be saved: {where} holds {value!r} of type "
        f"{type(value).__module__}.{name}, which a saved fit cannot hold as plain data (text, numbers, "
        "NumPy arrays, lists, dicts and formulaic's contrasts)"
    )


@cache
def _objects() -> dict:
    """Class name -> (class, {constructor argument: attribute}) of the formulaic objects a state may hold."""
    from formulaic.transforms import contrasts

    classes = (
        contrasts.TreatmentContrasts,
        contrasts.SASContrasts,
        contrasts.SumContrasts,
        contrasts.HelmertContrasts,
        contrasts.DiffContrasts,
        contrasts.PolyContrasts,
        contrasts.CustomContrasts,
        contrasts.ContrastsState,
    )
    renamed = {contrasts.CustomContrasts: {"names": "contrast_names"}}  # where the argument is kept under another name
    return {
        cls.__name__: (
            cls,
            {field.name: renamed.get(cls, {}).get(field.name, field.name) for field in dataclasses.fields(cls)},
        )
        for cls in classes
    }


@cache
def _sentinels() -> dict:
    from formulaic.utils.sentinels import Sentinel

    return {member.name: member for member in Sentinel}


def decode(plain, where: str):
    """The value that :func:`encode` wrote as ``plain``, read strictly.

    Raises
    ------
    DataError
        When ``plain`` is not what :func:`encode` writes, naming ``where`` it is.
    """
    if plain is None or type(plain) in (bool, int, float, str):
        return plain
    if type(plain) is list:
        return [decode(item, f"{where}[{i}]") for i, item in enumerate(plain)]
    if type(plain) is not dict or len(plain) != 1 or next(iter(plain)) not in _DECODERS:
        raise DataError(
            f"{where} must be null, a boolean, number, text, list or an object of one of the keys "
            f"{sorted(_DECODERS)}; got {plain!r:.80}"
        )
    tag, payload = next(iter(plain.items()))
    return _DECODERS[tag](payload, f"{where}.{tag}")


def _parts(payload, names: str, where: str) -> list:
    """``payload``, a list of as many items as ``names`` (``"[dtype, value]"``) has; else a :class:`DataError`."""
    if type(payload) is not list or len(payload) != names.count(",") + 1:
        raise DataError(f"{where} must be {names}; got {payload!r:.80}")
    return payload


def _decode_tuple(payload, where: str) -> tuple:
    return tuple(decode(checked(payload, list, where), where))


def _decode_dict(payload, where: str) -> dict:
    pairs = [_parts(pair, "[key, value]", f"{where}[{i}]") for i, pair in enumerate(checked(payload, list, where))]
    try:
        return {decode(key, where): decode(value, f"{where}[{key!r:.40}]") for key, value in pairs}
    except TypeError as error:  # a key that is not hashable
        raise DataError(f"{where} has a key that cannot be one ({error})") from None


def _decode_numpy(payload, where: str) -> np.generic:
    dtype_text, value = _parts(payload, "[dtype, value]", where)
    dtype = _dtype(dtype_text, _SCALARS, where)
    try:
        return dtype.type(checked(value, _SCALARS[dtype.kind], f"{where}[1]"))
    except OverflowError:
        raise DataError(f"{where}: {value} does not fit the dtype {dtype}") from None


def _decode_array(payload, where: str) -> np.ndarray:
    dtype_text, shape, values = _parts(payload, "[dtype, shape, values]", where)
    dtype = _dtype(dtype_text, "biuf", where)
    checked(shape, [int], f"{where}[1]")
    checked(values, [_SCALARS[dtype.kind]], f"{where}[2]")
    if any(size < 0 for size in shape) or int(np.prod(shape)) != len(values):
        raise DataError(f"{where}: {len(values)} values do not fill the shape {shape}")
    try:
        return np.array(values, dtype=dtype).reshape(shape)
    except OverflowError:
        raise DataError(f"{where}: the values do not fit the dtype {dtype}") from None


def _dtype(text, kinds, where: str) -> np.dtype:
    """The dtype named by ``text`` (``"<f8"``), of one of the ``kinds``."""
    if type(text) is not str or not _DTYPE.fullmatch(text) or np.dtype(text).kind not in kinds:
        raise DataError(f"{where} must name a NumPy dtype of the kinds {sorted(kinds)}; got {text!r:.40}")
    return np.dtype(text)


def _decode_object(payload, where: str):
    name, fields = _parts(payload, "[class, fields]", where)
    if type(name) is not str or name not in _objects():
        raise DataError(f"{where} must name one of the classes {sorted(_objects())}; got {name!r:.40}")
    cls, arguments = _objects()[name]
    checked(fields, {argument: object for argument in arguments}, f"{where}.{name}")
    try:
        return cls(**{argument: decode(value, f"{where}.{argument}") for argument, value in fields.items()})
    except (TypeError, ValueError) as error:
        raise DataError(f"{where}: {name} cannot be built from these fields ({error})") from None


def _decode_sentinel(payload, where: str):
    return _sentinels()[checked(payload, frozenset(_sentinels()), where)]


_DECODERS = {
    "tuple": _decode_tuple,
    "dict": _decode_dict,
    "numpy": _decode_numpy,
    "array": _decode_array,
    "object": _decode_object,
    "sentinel": _decode_sentinel,
}
"""Tag -> the reader of its payload."""
