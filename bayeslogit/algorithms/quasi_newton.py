"""Quasi-Newton steps with BFGS updates of a Hessian estimate: how :func:`~.newton.fit_newton` ends on many rows,
from the Hessian of its last row subsample, with passes over the data for the value and gradient only."""

from collections.abc import Callable

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from bayeslogit.algorithms.descent import Iteration, OptimizeResult, converged, line_search, max_abs

MARGIN = 1e-2
"""Quasi-Newton declares convergence at this share of ``tol`` (see :func:`quasi_newton`)."""


def quasi_newton(
    fun: Callable, x: np.ndarray, B: np.ndarray, *, tol: float, gtol: float, max_iter: int
) -> OptimizeResult:
    """Quasi-Newton steps ``-B^-1 g`` from ``x`` with BFGS updates of the Hessian estimate ``B`` (n, n).

    ``fun(x) -> (value, gradient)``; the line search (:func:`~.descent.line_search`) backtracks from the unit
    step, evaluating the gradient with each trial value, as the update needs it at the step taken. Stops when
    :func:`~.descent.converged` holds with ``B``'s decrement and ``MARGIN * tol`` (after one more step, as
    :func:`~.newton.newton` does), after ``max_iter`` steps, or when the line search fails or ``B`` cannot be
    factorised (``converged`` False, ``n_iter < max_iter``). The margin stands in for the precision of Newton's
    final step, which squares the error where a quasi-Newton step only scales it: with it, the estimate agrees
    with Newton's to about 1e-9 rather than 1e-8.

    Returns
    -------
    OptimizeResult
        ``hess`` is None; each record's ``decrement`` is the one of the Hessian estimate.
    """
    f, g = fun(x)
    iterations, done = [], False
    for _ in range(max_iter):
        try:
            direction = -cho_solve(cho_factor(B, lower=True), g)
        except LinAlgError:  # the estimate lost its positive definiteness to rounding
            break
        decrement, grad_norm = -0.5 * float(g @ direction), max_abs(g)
        if converged(f, decrement, grad_norm, MARGIN * tol, gtol):
            iterations.append(Iteration(f, grad_norm, decrement, 1.0, x.copy()))
            x = x + direction
            f, g = fun(x)
            done = True
            break
        step, trial = line_search(fun, x, f, -2 * decrement, direction)
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
