"""Quasi-Newton steps with BFGS updates of a Hessian estimate: how :func:`~.newton.fit_newton` ends on many rows,
from the Hessian of its last row subsample, with passes over the data for the value and gradient only."""

from collections.abc import Callable

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from bayeslogit.algorithms.descent import Iteration, OptimizeResult, converged, line_search, lost_in_rounding, max_abs

MARGIN = 1e-2
"""Quasi-Newton declares convergence at this share of ``tol`` (see :func:`quasi_newton`)."""
MAX_TRIALS = 6
"""Trial steps of one line search (the unit step, then halvings to 1/32): a quasi-Newton direction that needs a
shorter step has a poor Hessian estimate, and :func:`~.newton.fit_newton` hands over to Newton's method rather than
spend more passes over the rows on it."""


def quasi_newton(
    fun: Callable, x: np.ndarray, B: np.ndarray, *, tol: float, gtol: float, max_iter: int
) -> OptimizeResult:
    """Quasi-Newton steps ``-B^-1 g`` from ``x`` with BFGS updates of the Hessian estimate ``B`` (n, n).

    ``fun(x) -> (value, gradient)``; the line search (:func:`~.descent.line_search`) backtracks from the unit
    step (at most :data:`MAX_TRIALS` trials), evaluating the gradient with each trial value, as the update needs it
    at the step taken; where the predicted decrease is below the objective's rounding
    (:func:`~.descent.lost_in_rounding`) the unit step is taken untested, and judged by the next decrement (which
    must be smaller, and the value and gradient there finite, else the steps stop unconverged). Stops when
    :func:`~.descent.converged` holds with ``B``'s decrement and ``MARGIN * tol`` (after one more step, as
    :func:`~.newton.newton` does), after ``max_iter`` steps, or when the line search fails or ``B`` cannot be
    factorised (``converged`` False, ``n_iter < max_iter``). The margin stands in for the precision of Newton's
    final step, which squares the error where a quasi-Newton step only scales it: with it, the estimate agrees
    with Newton's to about 1e-9 rather than 1e-8.

    The last step is not evaluated where its decrement is below the objective's rounding (a pass over the rows
    saved): the final record then holds the value the quadratic model predicts, ``f - decrement`` (off by less than
    the decrement, so within the objective's rounding of the value there), and a NaN gradient norm.

    Returns
    -------
    OptimizeResult
        ``hess`` is None; each record's ``decrement`` is the one of the Hessian estimate.
    """
    f, g = fun(x)
    iterations, done, untested = [], False, None
    for _ in range(max_iter):
        try:
            direction = -cho_solve(cho_factor(B, lower=True), g)
        except LinAlgError:  # the estimate lost its positive definiteness to rounding
            break
        decrement, grad_norm = -0.5 * float(g @ direction), max_abs(g)
        if untested is not None and decrement >= untested:  # an untested step that did not bring the mode nearer
            break
        if converged(f, decrement, grad_norm, MARGIN * tol, gtol):
            iterations.append(Iteration(f, grad_norm, decrement, 1.0, x.copy()))
            x = x + direction
            if lost_in_rounding(f, decrement):  # a value there would differ from f - decrement by rounding only
                f, g = f - decrement, np.full_like(g, np.nan)
            else:
                f, g = fun(x)
            done = True
            break
        untested = decrement if lost_in_rounding(f, decrement) else None
        if untested is not None:  # the values cannot judge the step: the next decrement will
            step, trial = 1.0, fun(x + direction)
            if not all(np.all(np.isfinite(part)) for part in trial):
                break
        else:
            step, trial = line_search(fun, x, f, -2 * decrement, direction, trials=MAX_TRIALS)
        iterations.append(Iteration(f, grad_norm, decrement, step, x.copy()))
        if step == 0.0:
            break
        f_new, g_new = trial
        s, change = step * direction, g_new - g
        curvature = float(s @ change)
        if curvature > 0:  # BFGS: B s = change afterwards, and B stays positive definite
            Bs = B @ s
            B = B - np.outer(Bs, Bs) / float(s @ Bs) + np.outer(change, change) / curvature
        x, f, g = x + s, f_new, g_new
    iterations.append(Iteration(f, max_abs(g), np.nan, 0.0, x.copy()))
    return OptimizeResult(x, f, g, None, len(iterations) - 1, done, tuple(iterations))
