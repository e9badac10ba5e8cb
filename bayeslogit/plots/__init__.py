"""Plots of fits side by side: boundaries, coefficients, calibration, the optimisers' progress and MCMC chains,
and multilevel fits' group effects; and of what a prior implies before any data.

Every function imports matplotlib when it is called (so importing this package does not), returns the
Figure (or, for the animation, what it ran and wrote) and never calls ``plt.show()``. Names in any script are
drawn in a font that has their characters where one is installed; where none is, a :class:`MissingGlyphWarning`
says which (:mod:`bayeslogit.plots.fonts`).
"""

from bayeslogit.plots.animation import animate_optimization
from bayeslogit.plots.boundary import plot_boundary
from bayeslogit.plots.calibration import plot_calibration
from bayeslogit.plots.chains import plot_rank, plot_trace
from bayeslogit.plots.coefficients import plot_coef
from bayeslogit.plots.groups import plot_caterpillar, plot_shrinkage
from bayeslogit.plots.prior import plot_prior_predictive

__all__ = [
    "animate_optimization",
    "plot_boundary",
    "plot_calibration",
    "plot_caterpillar",
    "plot_coef",
    "plot_prior_predictive",
    "plot_rank",
    "plot_shrinkage",
    "plot_trace",
]
