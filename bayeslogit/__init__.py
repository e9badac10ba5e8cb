"""bayeslogit: logistic classification by maximum likelihood, MAP and the full Bayesian posterior."""

from . import datasets
from .exceptions import (
    CollinearityError,
    ConvergenceWarning,
    DataError,
    SeparationError,
    SingularHessianError,
)
from .compare import compare
from .fits import FailedFit, PointFit
from .model import LogisticModel
from .numerics.priors import Normal
from .plots import animate_optimization, plot_boundary, plot_calibration, plot_coef
from .posterior import PosteriorFit

__all__ = [
    "LogisticModel",
    "Normal",
    "PointFit",
    "FailedFit",
    "compare",
    "plot_boundary",
    "plot_coef",
    "plot_calibration",
    "animate_optimization",
    "PosteriorFit",
    "datasets",
    "CollinearityError",
    "ConvergenceWarning",
    "DataError",
    "SeparationError",
    "SingularHessianError",
]
__version__ = "0.1.0"
