"""Newton's method and steepest descent over an objective that returns value, gradient and Hessian.

Both are plain functions of ``fun(x) -> (value, gradient, hessian)`` (and ``value(x) -> float`` for
the line search) and record one :class:`Iteration` per step (the ``iterations`` of their result), so
that the two can be compared iteration by iteration. :data:`OPTIMIZERS` maps their names to them, and
:func:`minimize` runs one of them on an :class:`~bayeslogit.numerics.objective.Objective` from zero.

Convergence is judged on the gradient (``max |g| <= gtol``) and on the Newton decrement
``lambda^2 = g^T H^-1 g`` (``lambda^2 / 2 <= tol``, an estimate of the objective's distance to its
minimum), never on the change of the parameters.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from ..exceptions import SingularHessianError, warn_convergence

Derivatives = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]

_ARMIJO = 1e-4  # sufficient-decrease constant of the backtracking line search
_MAX_HALVINGS = 50


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
        ``lambda^2 / 2`` (Newton) or NaN (gradient descent).
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
    """Outcome of :func:`newton` or :func:`gradient_descent`.

    Attributes
    ----------
    x : ndarray of shape (n_params,)
    value : float
    grad : ndarray of shape (n_params,)
    hess : ndarray of shape (n_params, n_params)
    n_iter : int
        Steps taken.
    converged : bool
    iterations : tuple of Iteration
        One record per step, plus one for the final point.
    """

    x: np.ndarray
    value: float
    grad: np.ndarray
    hess: np.ndarray
    n_iter: int
    converged: bool
    iterations: tuple


def _backtrack(value: Callable, x: np.ndarray, f: float, slope: float, direction: np.ndarray,
               t: float = 1.0) -> float:
    """Largest ``t * 2^-k`` with ``value(x + t d) <= f + c t slope``; 0 when none is found."""
    for _ in range(_MAX_HALVINGS):
        trial = value(x + t * direction)
        if np.isfinite(trial) and trial <= f + _ARMIJO * t * slope:
            return t
        t *= 0.5
    return 0.0


def _rounding_floor(f: float) -> float:
    """Decreases of the objective smaller than this are lost in its rounding error."""
    return 100 * np.finfo(float).eps * max(1.0, abs(f))


def _newton_direction(H: np.ndarray, g: np.ndarray, name: str, iteration: int) -> np.ndarray:
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(g))):
        raise FloatingPointError(f"{name}: the gradient or Hessian overflowed at iteration {iteration}; "
                                 "rescale the predictors (e.g. standardise them)")
    try:
        factor = cho_factor(H, lower=True)
    except LinAlgError:
        raise SingularHessianError(
            f"{name}: the Hessian is not positive definite at iteration {iteration}, so the coefficients "
            "are not identified: remove collinear columns or use a proper prior"
        ) from None
    return -cho_solve(factor, g)


def newton(fun: Derivatives, x0: np.ndarray, *, value: Callable | None = None, tol: float = 1e-10,
           gtol: float = 1e-7, max_iter: int = 100, name: str = "Newton's method") -> OptimizeResult:
    """Minimise a smooth convex objective by Newton steps with a backtracking (Armijo) line search.

    Each step solves ``H d = -g`` by Cholesky; a failed factorisation is how a singular (or
    indefinite) Hessian is detected.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (value, gradient (n,), hessian (n, n))``.
    x0 : ndarray of shape (n,)
    value : callable, optional
        ``value(x) -> float``, used by the line search; defaults to ``fun(x)[0]``.
    tol : float
        Converged when the Newton decrement ``lambda^2 / 2 <= tol`` ...
    gtol : float
        ... and ``max |gradient| <= gtol``, or when the decrement is below the objective's rounding
        error. The final Newton step is then still taken (it squares the error).
    max_iter : int
        Largest number of Newton steps.
    name : str
        The method's name in messages.

    Returns
    -------
    OptimizeResult
        ``iterations`` holds one record per step plus one for the final point.

    Raises
    ------
    SingularHessianError
        When the Hessian's Cholesky factorisation fails.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` is reached or the line search cannot decrease the objective.
    """
    value = value or (lambda x: fun(x)[0])
    x = np.array(x0, dtype=float)
    f, g, H = fun(x)
    iterations, converged = [], False
    for iteration in range(max_iter):
        direction = _newton_direction(H, g, name, iteration)
        decrement = -0.5 * float(g @ direction)
        grad_norm = float(np.max(np.abs(g), initial=0.0))
        if decrement <= tol and (grad_norm <= gtol or decrement <= _rounding_floor(f)):
            iterations.append(Iteration(f, grad_norm, decrement, 1.0, x.copy()))
            x, converged = x + direction, True
            f, g, H = fun(x)
            break
        step, trial = _newton_step(fun, value, x, f, decrement, direction)
        iterations.append(Iteration(f, grad_norm, decrement, step, x.copy()))
        if step == 0.0:
            warn_convergence(f"{name} stopped: the line search found no decrease of the objective from a point "
                  f"where max |gradient| = {grad_norm:.3g}. The problem may be badly scaled (standardise "
                  "the predictors) or the optimum may not exist (separation: use a proper prior)")
            break
        x = x + step * direction
        f, g, H = trial
    else:
        warn_convergence(f"{name} did not converge in {max_iter} iterations: max |gradient| = {grad_norm:.3g}, "
              f"Newton decrement = {decrement:.3g}. Increase max_iter, standardise the predictors, or use "
              "a proper prior (fit_map)")
    iterations.append(Iteration(f, float(np.max(np.abs(g), initial=0.0)), np.nan, 0.0, x.copy()))
    return OptimizeResult(x, f, g, H, len(iterations) - 1, converged, tuple(iterations))


def _newton_step(fun: Derivatives, value: Callable, x: np.ndarray, f: float, decrement: float,
                 direction: np.ndarray) -> tuple[float, tuple | None]:
    """Step size along the Newton direction and the derivatives there (None when no step is found).

    The full step usually passes the Armijo test, so it is evaluated with its derivatives, which the
    next iteration reuses; only when it fails does the line search backtrack on values alone.
    """
    trial = fun(x + direction)
    if np.isfinite(trial[0]) and trial[0] <= f - _ARMIJO * 2 * decrement:
        return 1.0, trial
    step = _backtrack(value, x, f, -2 * decrement, direction, t=0.5)
    return step, (fun(x + step * direction) if step > 0.0 else None)


def gradient_descent(fun: Callable, x0: np.ndarray, *, value: Callable | None = None, gtol: float = 1e-5,
                     max_iter: int = 1000, name: str = "Gradient descent") -> OptimizeResult:
    """Minimise by steepest descent with a backtracking (Armijo) line search.

    The first trial step has unit length; after each accepted step the next trial step is twice the
    one accepted, and the line search halves it as needed.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (value, gradient (n,))``; the Hessian is not used.
    x0, value, max_iter, name
        As for :func:`newton`.
    gtol : float
        Converged when ``max |gradient| <= gtol``.

    Returns
    -------
    OptimizeResult
        ``hess`` is None.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` is reached (expected for ill-conditioned problems: that is the point of
        comparing it with Newton's method).
    """
    value = value or (lambda x: fun(x)[0])
    x = np.array(x0, dtype=float)
    f, g = fun(x)
    scale = 1.0 / max(np.linalg.norm(g), np.finfo(float).tiny)
    iterations, converged = [], False
    for _ in range(max_iter):
        grad_norm = float(np.max(np.abs(g), initial=0.0))
        if grad_norm <= gtol:
            converged = True
            break
        step = _backtrack(value, x, f, -scale * float(g @ g), -scale * g)
        iterations.append(Iteration(f, grad_norm, np.nan, step * scale, x.copy()))
        if step == 0.0:
            break
        x = x - step * scale * g
        scale *= 2 * step
        f, g = fun(x)
    if not converged:
        warn_convergence(f"{name} did not converge in {max_iter} iterations: max |gradient| = {grad_norm:.3g}. "
              "Increase max_iter or use newton")
    iterations.append(Iteration(f, float(np.max(np.abs(g), initial=0.0)), np.nan, 0.0, x.copy()))
    return OptimizeResult(x, f, g, None, len(iterations) - 1, converged, tuple(iterations))


OPTIMIZERS = {
    "newton": ("Newton's method", lambda objective, **options: newton(objective, np.zeros(objective.n_free),
                                                                      value=objective.value, **options)),
    "gradient_descent": ("Steepest descent", lambda objective, **options: gradient_descent(
        objective.value_and_gradient, np.zeros(objective.n_free), value=objective.value, **options)),
}
"""Optimiser name -> (display name, ``run(objective, **options) -> OptimizeResult`` from zero coefficients)."""


def minimize(objective, method: str = "newton", *, name: str | None = None, **options) -> OptimizeResult:
    """Minimise an objective from zero coefficients with the optimiser ``method`` of :data:`OPTIMIZERS`.

    Parameters
    ----------
    objective : Objective
        Called for value, gradient and Hessian; ``objective.value`` serves the line search.
    method : {"newton", "gradient_descent"}
    name : str, optional
        The method's name in messages; default its display name.
    **options
        ``tol`` (Newton), ``gtol``, ``max_iter``.
    """
    display, run = OPTIMIZERS[method]
    return run(objective, name=name or display, **options)
