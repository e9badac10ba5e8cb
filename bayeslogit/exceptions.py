"""Exceptions and warnings raised by bayeslogit.

Each one says what went wrong and what to do about it.
"""

import warnings
from pathlib import Path

_PACKAGE_DIR = str(Path(__file__).parent)


class BayeslogitError(Exception):
    """Base class of every exception the package raises on purpose."""


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


class ConvergenceWarning(UserWarning):
    """An optimiser or a sampler did not reach its convergence criteria."""


class PriorWarning(UserWarning):
    """A prior implies near-certain predictions before seeing data (see ``LogisticModel.prior_predictive``)."""


def warn_convergence(message: str, category: type[Warning] = ConvergenceWarning):
    """Issue a warning (a :class:`ConvergenceWarning` by default) attributed to the first caller outside the
    package."""
    warnings.warn(message, category, skip_file_prefixes=(_PACKAGE_DIR,))
