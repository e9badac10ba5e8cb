"""Plots of fits side by side: boundaries, coefficients, calibration, the optimisers' progress and MCMC chains;
and of what a prior implies before any data.

Every function imports matplotlib when it is called (so importing this package does not), returns the
Figure (or, for the animation, what it ran and wrote) and never calls ``plt.show()``.
"""

from .animation import animate_optimization
from .boundary import plot_boundary
from .calibration import plot_calibration
from .chains import plot_rank, plot_trace
from .coefficients import plot_coef
from .prior import plot_prior_predictive

__all__ = [
    "animate_optimization",
    "plot_boundary",
    "plot_calibration",
    "plot_coef",
    "plot_prior_predictive",
    "plot_rank",
    "plot_trace",
]
