"""Exceptions and warnings raised by bayeslogit, and their messages as data.

Each one says what went wrong and what to do about it. What to do depends on the door the user came in by: the
Python API says ``fit_map``, the command line ``--methods map``, the scikit-learn estimator ``method="map"``. So a
message is an :class:`Advice`: door-free text and :class:`Remedy` values, each naming what to do, in order. The
user surface gives each door's words for the remedies (:mod:`bayeslogit.surface.advice`, through
:func:`give_words`, when the package is imported); an :class:`Advice` reads as its Python words, the package's own
API, and :meth:`Advice.render` says it in another door's.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_PACKAGE_DIR = str(Path(__file__).parent)

DEFAULT_DOOR = "python"
"""The door whose words a message reads as: the Python API."""

_WORDS: dict[str, Callable] = {}  # door -> words(remedy) -> str, given by the user surface (give_words)


@dataclass(frozen=True)
class Remedy:
    """What to do about a problem, as data: ``name`` says what (``"use_map"``, ``"autoscale_off"``,
    ``"raise_target_accept"``), ``value`` the figure it suggests, if any (``0.95``). Each door has its words for it.
    """

    name: str
    value: float | int | None = None


def give_words(door: str, words: Callable[[Remedy], str]) -> None:
    """Let messages say remedies in ``door``'s words: ``words(remedy) -> str``."""
    _WORDS[door] = words


def _said(parts: tuple, door: str) -> str:
    """The text of ``parts`` (text and remedies) with each remedy in ``door``'s words, capitalised where it starts
    a sentence; a remedy without words reads as its name in brackets."""
    words, text = _WORDS.get(door), ""
    for part in parts:
        if isinstance(part, Remedy):
            said = words(part) if words else f"[{part.name}]"
            starts = not text or (text.endswith((". ", "? ", "! ")) and not text.endswith(("e.g. ", "i.e. ")))
            part = said[:1].upper() + said[1:] if starts else said
        text += part
    return text


class Advice(str):
    """A message as data: its text in the Python API's words (it is that ``str``), and the parts it was said from,
    door-free text and :class:`Remedy` values, so that another door can say it in its own words (:meth:`render`).

    Parameters
    ----------
    *parts : str or Remedy
        In order: ``Advice("did not converge. ", Remedy("raise_max_iter"), ", or use ", Remedy("use_map"))``.
    """

    parts: tuple

    def __new__(cls, *parts: str | Remedy) -> "Advice":
        advice = super().__new__(cls, _said(parts, DEFAULT_DOOR))
        advice.parts = parts
        return advice

    @property
    def remedies(self) -> tuple[Remedy, ...]:
        """The remedies it suggests, in order."""
        return tuple(part for part in self.parts if isinstance(part, Remedy))

    def render(self, door: str) -> str:
        """The message in ``door``'s words (``"python"``, ``"cli"``, ``"estimator"``)."""
        return _said(self.parts, door)


def advice_of(message) -> Advice | None:
    """The :class:`Advice` that an exception or warning was raised with (or ``message`` itself), None if none."""
    found = message.args[0] if isinstance(message, BaseException) and message.args else message
    return found if isinstance(found, Advice) else None


class Advised:
    """What the package's exceptions and warnings share: a message (``args[0]``) that may be an :class:`Advice`."""

    @property
    def remedies(self) -> tuple[Remedy, ...]:
        """What the message suggests doing, in order (none for a message of plain text)."""
        advice = advice_of(self)
        return () if advice is None else advice.remedies


class BayeslogitError(Advised, Exception):
    """Base class of every exception the package raises on purpose; its message is a ``str`` or an
    :class:`Advice`."""


class DataError(BayeslogitError, ValueError):
    """The data handed to a model cannot be used as given (NaN, wrong shape, one class, ...)."""


class OptionError(BayeslogitError, ValueError, TypeError):
    """An option has a value or type it cannot take (``draws=0``, ``ci_prob=1.5``, ``method="newton"``).

    It is a ``ValueError`` and a ``TypeError`` both, as the checks it replaces raised one or the other.
    """


class DataTypeError(DataError, TypeError):
    """Data of a type the model cannot read: text or dates in ``X``, an array where a formula model needs a data frame.

    It is a ``TypeError`` too, as the checks it replaces raised one.
    """


class FormulaError(DataError):
    """A formula cannot be parsed or evaluated on the data (syntax, unknown names, names that need quoting)."""


class SeparationError(BayeslogitError, ValueError):
    """Maximum likelihood does not exist: some predictors separate the classes.

    Attributes
    ----------
    columns : tuple of str
        The predictors named as separating: every one that separates the classes on its own, or, when none
        does, a minimal set that separates them together. Others may diverge with them.
    kind : {"complete", "quasi-complete"}
        How all the predictors together separate the classes.
    """

    def __init__(self, message: str, columns: tuple[str, ...] = (), kind: str = "complete"):
        super().__init__(message)
        self.columns = tuple(columns)
        self.kind = kind


class CollinearityError(BayeslogitError, ValueError):
    """The design matrix is rank deficient, so the maximum-likelihood coefficients are not unique."""

    def __init__(self, message: str, columns: tuple[str, ...] = ()):
        super().__init__(message)
        self.columns = tuple(columns)


class SingularHessianError(BayeslogitError, ArithmeticError):
    """The Hessian of the objective is not positive definite where it must be."""


class ConvergenceError(BayeslogitError, ArithmeticError):
    """An iterative solver that a fit cannot go on without did not converge (penalised IRLS for the conditional
    modes of a multilevel model's group effects)."""


class ConvergenceWarning(Advised, UserWarning):
    """An optimiser or a sampler did not reach its convergence criteria."""


class PriorWarning(Advised, UserWarning):
    """A prior implies near-certain predictions before seeing data (see ``LogisticModel.prior_predictive``)."""


class MissingGlyphWarning(Advised, UserWarning):
    """Names in a figure have characters that no installed font can draw; they show as boxes."""


def warn_convergence(message: str, category: type[Warning] = ConvergenceWarning):
    """Issue a warning (a :class:`ConvergenceWarning` by default) attributed to the first caller outside the
    package; an :class:`Advice` stays one, as the warning's ``args[0]``, for another door to say in its words."""
    warnings.warn(message, category, skip_file_prefixes=(_PACKAGE_DIR,))
