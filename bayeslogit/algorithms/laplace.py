"""The Laplace approximation: the Gaussian at the MAP whose precision is the objective's Hessian.

Conventions
-----------
Everything here lives in the objective's free coordinates ``u`` of shape (n_free,) (see
:mod:`bayeslogit.numerics.objective`); the coefficient matrix of a point is ``objective.coef(u)``.
The Gaussian ``N(mean, H^-1)`` is stored through a square root ``R`` of its covariance
(``R @ R.T = H^-1``), so that a standard-normal ``z`` of shape (n_free,) maps to ``u = mean + R z``.
The same ``R`` whitens the posterior for MCMC (:mod:`.pymc_backend`).
"""

from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, cholesky, solve_triangular

from ..exceptions import SingularHessianError
from ..numerics.links import logsumexp

PSIS_MIN_DRAWS = 25  # PSIS fits its Pareto tail to the largest S / 5 ratios and needs at least 5 of them


@dataclass(frozen=True)
class Gaussian:
    """The Gaussian ``N(mean, root @ root.T)`` in free coordinates.

    Attributes
    ----------
    mean : ndarray of shape (n_free,)
        The MAP.
    root : ndarray of shape (n_free, n_free)
        Upper-triangular square root of the covariance: ``C^-T`` where ``H = C C^T`` is the
        Cholesky factorisation of the Hessian ``H``.
    """

    mean: np.ndarray
    root: np.ndarray

    @classmethod
    def at_mode(cls, mean: np.ndarray, hessian: np.ndarray) -> "Gaussian":
        """The Laplace approximation at ``mean`` (n_free,) with precision ``hessian`` (n_free, n_free).

        Raises
        ------
        SingularHessianError
            When the Hessian is not positive definite (its Cholesky factorisation fails).
        """
        try:
            factor = cholesky(hessian, lower=True)
        except LinAlgError:
            raise SingularHessianError(
                "the Laplace approximation needs a positive definite Hessian at the MAP, and its Cholesky "
                "factorisation failed; remove collinear columns or use a stronger prior") from None
        root = solve_triangular(factor, np.eye(len(factor)), lower=True, trans="T")
        return cls(np.asarray(mean, dtype=float), root)

    @property
    def covariance(self) -> np.ndarray:
        """``H^-1`` of shape (n_free, n_free)."""
        return self.root @ self.root.T

    def point(self, z: np.ndarray) -> np.ndarray:
        """Free coordinates ``mean + root z`` of shape (S, n_free) for standard-normal ``z`` (S, n_free)."""
        return self.mean + z @ self.root.T


@dataclass(frozen=True)
class ImportanceWeights:
    """Pareto-smoothed importance weights of the exact posterior against the Laplace Gaussian.

    Attributes
    ----------
    log_weights : ndarray of shape (S,)
        Normalised (``logsumexp == 0``) smoothed log weights; the raw ones when there are too few draws.
    khat : float
        Pareto-k-hat of the ratios: above 0.7 the importance estimates, and the Gaussian as a stand-in
        for the posterior, are unreliable. NaN when it cannot be estimated: too few draws (fewer than
        :data:`PSIS_MIN_DRAWS`), or ratios so spread that a handful of draws carry all the weight.
    log_ratio_range : float
        ``max - min`` of the log importance ratios: 0 when the Gaussian is exact, tens when it is poor,
        thousands when it misses the posterior entirely.
    """

    log_weights: np.ndarray
    khat: float
    log_ratio_range: float


def importance_weights(objective, gaussian: Gaussian, z: np.ndarray) -> ImportanceWeights:
    """Importance weights of the Laplace draws ``u = mean + root z`` against the exact posterior.

    The log importance ratio of the draw is ``-objective(u) - log q(u)`` with ``log q(u) = -|z|^2 / 2``
    (both up to constants, which the normalised weights do not see). The ratios are smoothed by ArviZ's
    PSIS.

    Parameters
    ----------
    objective : Objective
        The negative log posterior (up to a constant).
    gaussian : Gaussian
    z : ndarray of shape (S, n_free)
        The standard-normal draws behind the Laplace draws.
    """
    from arviz_stats.base import array_stats

    draws = np.stack([objective.coef(u) for u in gaussian.point(z)])
    log_ratio = -objective.values_of_draws(draws) + 0.5 * np.einsum("si,si->s", z, z)
    spread = float(np.ptp(log_ratio))
    if len(z) < PSIS_MIN_DRAWS or not np.all(np.isfinite(log_ratio)):
        return ImportanceWeights(log_ratio - logsumexp(log_ratio), float("nan"), spread)
    # psislw takes the negated log ratio (its LOO use passes log-likelihoods, whose ratios are 1/p).
    log_weights, khat = array_stats.psislw(-(log_ratio - log_ratio.max()))
    khat = float(khat)
    return ImportanceWeights(log_weights - logsumexp(log_weights), khat if np.isfinite(khat) else float("nan"),
                             spread)
