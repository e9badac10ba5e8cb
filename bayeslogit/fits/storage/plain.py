"""Plain data read strictly: a JSON value checked against the shape it must have, before anything uses it.

A shape (``schema``) is written with Python values:

* a type (``str``, ``int``, ``float``, ``bool``): a value of exactly that type (``True`` is not an ``int``, ``1``
  is not a ``float``: JSON keeps them apart);
* ``None``: ``null``;
* a ``frozenset``: one of its members, of the same type;
* a one-item list ``[item]``: a list of values of the shape ``item``;
* a dict ``{key: shape}``: an object with exactly those keys;
* a tuple ``(a, b, ...)``: a value of one of the shapes ``a``, ``b``, ...;
* :class:`Names` ``(shape)``: an object whose keys are any text and whose values have the shape;
* ``object``: any value (one that its reader checks itself).
"""

from dataclasses import dataclass

from bayeslogit.exceptions import DataError


@dataclass(frozen=True)
class Names:
    """An object of any keys, each value of the shape ``value``."""

    value: object


def checked(value, schema, where: str):
    """``value`` itself, when it has the shape ``schema`` (see the module); else a :class:`DataError` naming
    ``where``, the value's place (``"model.classes[2]"``), the shape expected and the value found."""
    if not _matches(value, schema, where):
        raise DataError(f"{where} must be {describe(schema)}; got {_shown(value)}")
    return value


def _matches(value, schema, where: str) -> bool:
    """Whether ``value`` has the shape ``schema``; raises :class:`DataError` from inside a list or object that does
    not, so that the message names the innermost place."""
    if isinstance(schema, tuple):
        return any(_matches_quietly(value, option, where) for option in schema)
    if schema is object:
        return True
    if schema is None:
        return value is None
    if isinstance(schema, frozenset):
        return any(type(value) is type(member) and value == member for member in schema)
    if isinstance(schema, type):
        return type(value) is schema
    if isinstance(schema, list):
        if type(value) is not list:
            return False
        for i, item in enumerate(value):
            checked(item, schema[0], f"{where}[{i}]")
        return True
    return type(value) is dict and _object_matches(value, schema, where)


def _object_matches(value: dict, schema, where: str) -> bool:
    if isinstance(schema, Names):
        for key, item in value.items():
            checked(item, schema.value, f"{where}.{key}")
        return True
    if set(value) != set(schema):
        missing, extra = sorted(set(schema) - set(value)), sorted(set(value) - set(schema))
        raise DataError(
            f"{where} must have the keys {sorted(schema)}; "
            + "; ".join([f"{missing} are missing"] * bool(missing) + [f"{extra} are extra"] * bool(extra))
        )
    for key, shape in schema.items():
        checked(value[key], shape, f"{where}.{key}")
    return True


def _matches_quietly(value, schema, where: str) -> bool:
    """:func:`_matches`, False where it raises (one option of several)."""
    try:
        return _matches(value, schema, where)
    except DataError:
        return False


def describe(schema) -> str:
    """The shape ``schema`` in words: ``"a list of str"``, ``"one of ['ml', 'map']"``."""
    if isinstance(schema, tuple):
        return " or ".join(describe(option) for option in schema)
    if schema is None:
        return "null"
    if schema is object:
        return "any value"
    if isinstance(schema, frozenset):
        return f"one of {sorted(schema, key=repr)}"
    if isinstance(schema, type):
        return schema.__name__
    if isinstance(schema, list):
        return f"a list of {describe(schema[0])}"
    if isinstance(schema, Names):
        return f"an object of {describe(schema.value)}"
    return f"an object with the keys {sorted(schema)}"


def _shown(value) -> str:
    """``value`` as it is shown in a message: its repr, at most 80 characters, and its type."""
    text = repr(value)
    return f"{text[:77] + '...' if len(text) > 80 else text} ({type(value).__name__})"
