"""A second start for Newton's method where the objective is not convex.

A Student-t or Cauchy prior makes the log posterior non-concave, and then it can have more than one mode: a
prior of small scale holds one near zero, the likelihood one near its own peak. Newton's method from zero stops
at the first it reaches. :func:`highest_mode` starts again from the likelihood's side, at the MAP under a
Gaussian prior of :data:`WIDER` times the prior's scales (a convex problem with one solution, near the ML
estimate where that exists and finite where it does not), runs Newton on the actual objective from there, and
keeps the lower of the two converged ends (so also the mode, where the start from zero stopped at a saddle).
When they are different modes, a :class:`~bayeslogit.ConvergenceWarning` says so: a multimodal posterior is not
summarised by one mode, nor by the Laplace approximation at it.
"""

from collections.abc import Callable

import numpy as np

from bayeslogit.algorithms.newton import OptimizeResult
from bayeslogit.exceptions import Advice, Remedy, warn_convergence
from bayeslogit.held_warnings import held_warnings, reissue
from bayeslogit.numerics.prior_densities import GaussianTerm

WIDER = 10.0
"""The Gaussian prior of the second start has this many times the prior's scales."""
SAME_MODE = 1e-6
"""Two ends are the same mode when their coordinates differ by at most this, relative to ``1 + max |x|``."""


def highest_mode(objective, minimize: Callable, name: str) -> OptimizeResult:
    """Newton's method from zero on ``objective`` and, where it is not convex, from the likelihood's side too: the
    converged end of lower objective.

    Parameters
    ----------
    objective : Objective or ChunkedObjective
        With ``convex``, ``prior``, ``with_prior``, ``value`` and ``coef``.
    minimize : callable
        ``minimize(objective, start=None) -> OptimizeResult``: Newton's method from ``start`` (default zero).
    name : str
        The method's name in the warning.

    Returns
    -------
    OptimizeResult
        The start from zero when it converged to the only mode either start found (or when neither converged);
        its warnings are those of the start returned (a start from zero that stopped at a saddle is not reported
        when the other start reached the mode).

    Warns
    -----
    ConvergenceWarning
        When the two starts reach different modes, and as :func:`~.newton.newton` warns for the start returned.
    """
    if objective.convex:
        return minimize(objective)
    first, first_warnings = _recorded(minimize, objective)
    wide = minimize(objective.with_prior(GaussianTerm(WIDER * objective.prior.scale)))
    second, second_warnings = _recorded(minimize, objective, start=wide.x)
    same = np.max(np.abs(first.x - second.x)) <= SAME_MODE * (1 + np.max(np.abs(first.x)))
    if not second.converged or (first.converged and same):
        return _reissued(first, first_warnings)
    if not first.converged:
        return _reissued(second, second_warnings)
    best, other = sorted((first, second), key=lambda result: result.value)
    warn_convergence(
        Advice(
            f"{name}: the posterior has more than one mode. From zero, Newton's method reached "
            f"{_shown(objective, first)}; from the likelihood's side, {_shown(objective, second)}. The "
            f"higher mode (objective {best.value:.6g}, against {other.value:.6g}) is returned. A "
            "heavy-tailed prior of small scale holds a mode near 0 apart from the likelihood's: a Laplace "
            "approximation describes one mode only; widen the prior, or use ",
            Remedy("use_normal_prior"),
        )
    )
    return best


def _recorded(minimize: Callable, objective, start=None) -> tuple[OptimizeResult, list]:
    """``minimize(objective, start=start)`` and the warnings it raised, held back."""
    with held_warnings() as caught:
        result = minimize(objective, start=start)
    return result, caught


def _reissued(result: OptimizeResult, caught: list) -> OptimizeResult:
    """``result``, its held-back warnings raised again where they were first attributed."""
    reissue(caught)
    return result


def _shown(objective, result: OptimizeResult) -> str:
    coef = np.round(objective.coef(result.x).ravel(order="F"), 4).tolist()
    return f"coefficients {coef} (objective {result.value:.6g})"
