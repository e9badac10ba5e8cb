"""Newton directions: ``-H^-1 g`` by Cholesky, and where the objective is not convex, from a modified Hessian.

A convex objective's Hessian is positive semi-definite everywhere; when its Cholesky factorisation fails, the
Hessian is singular and the coefficients are not identified, which is an error
(:class:`~bayeslogit.exceptions.SingularHessianError`). A heavy-tailed prior (Student-t, Cauchy) makes the
negative log posterior non-convex: ``rho''(z) < 0`` beyond ``|z| = sqrt(nu)``, so far from the mode the Hessian can
be indefinite and ``-H^-1 g`` need not descend. There the Hessian is modified as in Nocedal & Wright, *Numerical
Optimization* (2006), section 3.4: with ``H = Q diag(lambda) Q^T``, each eigenvalue is replaced by
``max(|lambda_i|, delta)``, ``delta = sqrt(eps) * max(1, max |lambda|)``. The modified matrix is positive definite,
so the direction descends and the line search applies; it keeps ``H``'s curvature where that is positive and
reverses it where it is negative, so the step leaves a region of negative curvature instead of being drawn
towards a saddle. Near the mode the Hessian is positive definite again and the steps are Newton's, with its
quadratic convergence.
"""

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, eigh

from bayeslogit.exceptions import SingularHessianError


def newton_direction(H: np.ndarray, g: np.ndarray, name: str, iteration: int, convex: bool = True) -> np.ndarray:
    """The step ``d`` (n,) solving ``H d = -g``, with ``H`` (n, n) modified where ``convex`` is False and ``H`` is
    not positive definite (see the module's docstring).

    Raises
    ------
    FloatingPointError
        When the gradient or Hessian is not finite.
    SingularHessianError
        When ``convex`` is True and the Cholesky factorisation of ``H`` fails.
    """
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(g))):
        raise FloatingPointError(
            f"{name}: the gradient or Hessian overflowed at iteration {iteration}; "
            "rescale the predictors (e.g. standardise them)"
        )
    try:
        factor = cho_factor(H, lower=True)
    except LinAlgError:
        if not convex:
            return -modified_inverse(H) @ g
        raise SingularHessianError(
            f"{name}: the Hessian is not positive definite at iteration {iteration}, so the coefficients "
            "are not identified: remove collinear columns or use a proper prior"
        ) from None
    return -cho_solve(factor, g)


def modified_inverse(H: np.ndarray) -> np.ndarray:
    """The inverse (n, n) of ``H`` (n, n, symmetric) with its eigenvalues replaced by ``max(|lambda|, delta)``."""
    eigenvalues, vectors = eigh(H)
    delta = np.sqrt(np.finfo(float).eps) * max(1.0, float(np.abs(eigenvalues).max(initial=0.0)))
    return (vectors / np.maximum(np.abs(eigenvalues), delta)) @ vectors.T


def is_positive_definite(H: np.ndarray) -> bool:
    """Whether the Cholesky factorisation of ``H`` (n, n) succeeds."""
    try:
        cho_factor(H, lower=True)
    except LinAlgError:
        return False
    return True
