"""What the descent methods share (Newton's method, its quasi-Newton variant and steepest descent): the record of
a step (:class:`Iteration`), the outcome (:class:`OptimizeResult`), the backtracking line search and the
convergence test.

Convergence is judged on the gradient (``max |g| <= gtol``) and on the Newton decrement
``lambda^2 = g^T H^-1 g`` (``lambda^2 / 2 <= tol``, an estimate of the objective's distance to its
minimum), never on the change of the parameters.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

ARMIJO = 1e-4
"""Sufficient-decrease constant of the backtracking line search."""
MAX_HALVINGS = 50
"""Trial steps of the line search (the first, then halvings) before it gives up."""
ROUNDING_ULPS = 100
"""Multiples of ``eps * |f|`` below which a change of the objective is rounding (see :func:`lost_in_rounding`)."""


@dataclass(frozen=True)
class Iteration:
    """One step of an optimiser, recorded before the step is taken.

    Attributes
    ----------
    objective : float
        Objective at ``x``.
    grad_norm : float
        ``max |gradient|`` at ``x``.
    decrement : float
        ``lambda^2 / 2`` (Newton; quasi-Newton with its Hessian estimate) or NaN (gradient descent).
    step_size : float
        Line-search step taken from ``x`` (0 for the final record).
    x : ndarray of shape (n_params,)
    """

    objective: float
    grad_norm: float
    decrement: float
    step_size: float
    x: np.ndarray


@dataclass(frozen=True)
class OptimizeResult:
    """Outcome of :func:`~.newton.newton`, :func:`~.newton.fit_newton`, :func:`~.quasi_newton.quasi_newton` or
    :func:`~.gradient_descent.gradient_descent`.

    Attributes
    ----------
    x : ndarray of shape (n_params,)
    value : float
    grad : ndarray of shape (n_params,)
    hess : ndarray of shape (n_params, n_params) or None
        The exact Hessian at ``x``; None when the optimiser did not compute it there.
    n_iter : int
        Steps taken.
    converged : bool
    iterations : tuple of Iteration
        One record per step, plus one for the final point.
    """

    x: np.ndarray
    value: float
    grad: np.ndarray
    hess: np.ndarray | None
    n_iter: int
    converged: bool
    iterations: tuple


def line_search(
    evaluate: Callable[[np.ndarray], tuple],
    x: np.ndarray,
    f: float,
    slope: float,
    direction: np.ndarray,
    t: float = 1.0,
    trials: int = MAX_HALVINGS,
) -> tuple[float, tuple | None]:
    """Backtracking (Armijo) line search: the largest of ``t, t/2, ...`` (``trials`` of them) with
    ``value(x + t d) <= f + ARMIJO t slope``.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(x) -> tuple`` whose first item is the objective's value at ``x`` (the rest, such as the
        gradient, comes back with the step, so that the caller need not evaluate the accepted point again).
    x : ndarray of shape (n,)
    f : float
        The objective at ``x``.
    slope : float
        The directional derivative ``g^T d`` at ``x`` (negative).
    direction : ndarray of shape (n,)
    t : float
        The first trial step.
    trials : int
        How many steps to try.

    Returns
    -------
    step : float
        0.0 when no trial step decreases the objective enough (or gives a finite value).
    evaluated : tuple or None
        ``evaluate(x + step * direction)``; None when ``step`` is 0.
    """
    for _ in range(trials):
        trial = evaluate(x + t * direction)
        if np.isfinite(trial[0]) and trial[0] <= f + ARMIJO * t * slope:
            return t, trial
        t *= 0.5
    return 0.0, None


def converged(f: float, decrement: float, grad_norm: float, tol: float, gtol: float) -> bool:
    """The decrement is below ``tol``, and so is the gradient or the decrement is lost in ``f``'s rounding."""
    return decrement <= tol and (grad_norm <= gtol or lost_in_rounding(f, decrement))


def lost_in_rounding(f: float, decrease: float) -> bool:
    """Whether a decrease of the objective from ``f`` is below what ``f``'s value can show.

    An objective summed over ``n`` rows carries a rounding error of several ``eps * |f|`` (the chunked and
    pairwise sums of :mod:`bayeslogit.numerics` keep it near ``eps * |f|`` times a small factor; ``ROUNDING_ULPS``
    bounds it). A line search cannot judge a step whose predicted decrease is below that: its Armijo test would
    compare rounding errors and backtrack through passes over the data for nothing.
    """
    return decrease <= ROUNDING_ULPS * np.finfo(float).eps * max(1.0, abs(f))


def max_abs(g: np.ndarray) -> float:
    """``max |g|`` (0 for an empty gradient)."""
    return float(np.max(np.abs(g), initial=0.0))
