"""bayeslogit: logistic classification by maximum likelihood, MAP and the full Bayesian posterior."""

from . import datasets
from .exceptions import (
    CollinearityError,
    ConvergenceWarning,
    DataError,
    SeparationError,
    SingularHessianError,
)
from .fits import PointFit
from .model import LogisticModel
from .numerics.priors import Normal

__all__ = [
    "LogisticModel",
    "Normal",
    "PointFit",
    "datasets",
    "CollinearityError",
    "ConvergenceWarning",
    "DataError",
    "SeparationError",
    "SingularHessianError",
]
__version__ = "0.1.0"
