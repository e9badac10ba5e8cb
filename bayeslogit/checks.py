"""Checks of the options a user passes, shared by every layer.

Each returns the value in its canonical type or raises :class:`~bayeslogit.exceptions.OptionError` naming the option,
what was received and what is allowed: "`draws` must be an integer >= 1; got 0".
"""

import numbers
import warnings

import numpy as np

from bayeslogit.exceptions import OptionError


def check_count(name: str, value, minimum: int) -> int:
    """Return ``value`` as an int if it is an integer ``>= minimum``, else raise naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise OptionError(f"`{name}` must be an integer >= {minimum}; got {value!r} of type {type(value).__name__}")
    if value < minimum:
        raise OptionError(f"`{name}` must be an integer >= {minimum}; got {value}")
    return int(value)


def check_positive(name: str, value) -> float:
    """Return ``value`` as a float if it is positive and finite, else raise naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < np.inf:
        raise OptionError(f"`{name}` must be a positive finite number; got {value!r}")
    return float(value)


def check_probability(name: str, value) -> float:
    """Return ``value`` as a float if it lies in the open interval (0, 1), else raise naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise OptionError(f"`{name}` must be a probability in (0, 1); got {value!r}")
    return float(value)


def check_choice(name: str, value, allowed) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise listing them (an unhashable value is not one)."""
    try:
        known = value in allowed
    except TypeError:
        known = False
    if not known:
        raise OptionError(f"`{name}` must be one of {list(allowed)}; got {value!r}")
    return value


def check_flag(name: str, value) -> bool:
    """Return ``value`` as a bool if it is True or False (a NumPy bool too), else raise naming it."""
    if not isinstance(value, bool | np.bool_):
        raise OptionError(f"`{name}` must be True or False; got {value!r} of type {type(value).__name__}")
    return bool(value)


def check_newton_options(tol, max_iter) -> tuple[float, int]:
    """``tol`` (positive) and ``max_iter`` (an integer >= 1) of Newton's method, checked."""
    return check_positive("tol", tol), check_count("max_iter", max_iter, 1)


def warn_renamed(old: str, new: str, why: str) -> None:
    """Warn DeprecationWarning that the name ``old`` (of a method or attribute, called by the user) is now ``new``;
    the old name works for one release."""
    warnings.warn(f"{old} is renamed {new} ({why}); {old} will be removed in the next release", DeprecationWarning, 3)
