"""Steepest descent with a backtracking line search: the first-order method that Newton's method is compared with
(``bl.animate_optimization``), step by step on the same records (:class:`~.descent.Iteration`)."""

from collections.abc import Callable

import numpy as np

from bayeslogit.algorithms.descent import Iteration, OptimizeResult, line_search, max_abs
from bayeslogit.exceptions import warn_convergence


def gradient_descent(
    fun: Callable,
    x0: np.ndarray,
    *,
    value: Callable | None = None,
    gtol: float = 1e-5,
    max_iter: int = 1000,
    name: str = "Gradient descent",
) -> OptimizeResult:
    """Minimise by steepest descent with a backtracking (Armijo) line search.

    The first trial step has unit length; after each accepted step the next trial step is twice the
    one accepted, and the line search halves it as needed.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (value, gradient (n,))``; the Hessian is not used.
    x0 : ndarray of shape (n,)
    value : callable, optional
        ``value(x) -> float``, used by the line search; defaults to ``fun(x)[0]``.
    gtol : float
        Converged when ``max |gradient| <= gtol``.
    max_iter : int
        Largest number of steps.
    name : str
        The method's name in messages.

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
        grad_norm = max_abs(g)
        if grad_norm <= gtol:
            converged = True
            break
        step, _ = line_search(lambda x: (value(x),), x, f, -scale * float(g @ g), -scale * g)
        iterations.append(Iteration(f, grad_norm, np.nan, step * scale, x.copy()))
        if step == 0.0:
            break
        x = x - step * scale * g
        scale *= 2 * step
        f, g = fun(x)
    if not converged:
        warn_convergence(
            f"{name} did not converge in {max_iter} iterations: max |gradient| = {grad_norm:.3g}. "
            "Increase max_iter or use newton"
        )
    iterations.append(Iteration(f, max_abs(g), np.nan, 0.0, x.copy()))
    return OptimizeResult(x, f, g, None, len(iterations) - 1, converged, tuple(iterations))
