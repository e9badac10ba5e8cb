"""The terms priors add to a model's objective: :class:`GaussianTerm` and :class:`StudentTTerm`.

A term is a prior resolved for a model (see :mod:`.prior_specs`): the scales ``s`` (P,) of the coefficient rows,
``inf`` where flat, and the shape of the density, ``B_jm = s_j z`` with ``z`` standard normal or Student-t. It gives
the objective (the negative log posterior) ``sum_{j,m} rho(B_jm / s_j)`` with ``rho(0) = 0``, its gradient and its
(diagonal) Hessian, the normalised log density that ArviZ's prior-sensitivity checks read, and draws.
"""

import math
from dataclasses import dataclass

import numpy as np


class _Term:
    """What :class:`GaussianTerm` and :class:`StudentTTerm` share: everything but ``rho`` and its derivatives,
    which they give as functions of the standardised coefficient ``z = B / s``."""

    scale: np.ndarray

    @property
    def flat(self) -> np.ndarray:
        """Which coefficient rows have a flat prior, shape (P,)."""
        return np.isinf(self.scale)

    def penalty(self, B: np.ndarray) -> float:
        """``sum_{j,m} rho(B_jm / s_j)`` of coefficients ``B`` (P, M): minus the log prior up to a constant."""
        return float(self._rho(B / self.scale[:, None]).sum())

    def gradient(self, B: np.ndarray) -> np.ndarray:
        """Gradient of :meth:`penalty`, shape (P, M)."""
        return self._rho1(B / self.scale[:, None]) / self.scale[:, None]

    def hessian_diagonal(self, B: np.ndarray) -> np.ndarray:
        """Second derivatives of :meth:`penalty` in each coefficient (its Hessian is diagonal), shape (P, M)."""
        return self._rho2(B / self.scale[:, None]) / self.scale[:, None] ** 2

    def penalties(self, draws: np.ndarray) -> np.ndarray:
        """:meth:`penalty` of each of ``S`` coefficient matrices ``draws`` (S, P, M), shape (S,)."""
        return self._rho(draws / self.scale[:, None]).sum(axis=(1, 2))

    def log_density(self, draws: np.ndarray) -> np.ndarray:
        """Normalised log prior density of each coefficient of ``draws`` (..., P, M), the same shape; 0 where flat."""
        proper = ~self.flat[:, None]
        log_norm = np.where(proper, self._log_norm() - np.log(np.where(proper, self.scale[:, None], 1.0)), 0.0)
        return log_norm - self._rho(draws / self.scale[:, None])

    def draw(self, rng: np.random.Generator, size: tuple) -> np.ndarray:
        """``size = (S, P, M)`` coefficient draws from the prior, 0 where it is flat."""
        scale = np.where(self.flat, 0.0, self.scale)[:, None]
        return self._standard_draws(rng, size) * scale


@dataclass(frozen=True, eq=False)
class GaussianTerm(_Term):
    """``B_jm ~ N(0, s_j^2)``: ``rho(z) = z^2 / 2``; convex, so Newton's Hessian stays positive definite.

    Parameters
    ----------
    scale : ndarray of shape (P,)
        Prior sd per coefficient row, ``inf`` where flat (maximum likelihood: all of them).

    Examples
    --------
    >>> GaussianTerm(np.array([np.inf, 2.0])).hessian_diagonal(np.ones((2, 1))).ravel().tolist()
    [0.0, 0.25]
    """

    scale: np.ndarray
    convex = True

    @staticmethod
    def _rho(z):
        return 0.5 * z**2

    @staticmethod
    def _rho1(z):
        return z

    @staticmethod
    def _rho2(z):
        return np.ones_like(z)

    @staticmethod
    def _log_norm() -> float:
        return -0.5 * math.log(2 * math.pi)

    @staticmethod
    def _standard_draws(rng, size):
        return rng.standard_normal(size)


@dataclass(frozen=True, eq=False)
class StudentTTerm(_Term):
    """``B_jm ~ s_j t_nu``: ``rho(z) = (nu + 1) / 2 log(1 + z^2 / nu)``.

    Not convex: ``rho''(z) = (nu + 1) (nu - z^2) / (nu + z^2)^2`` is negative beyond ``|z| = sqrt(nu)``, so the
    objective's Hessian can be indefinite there (see :func:`bayeslogit.algorithms.newton.newton`).

    Parameters
    ----------
    nu : float
        Degrees of freedom (1: Cauchy).
    scale : ndarray of shape (P,)
        Prior scale per coefficient row, ``inf`` where flat.
    """

    nu: float
    scale: np.ndarray
    convex = False

    def _rho(self, z):
        return 0.5 * (self.nu + 1) * np.log1p(z**2 / self.nu)

    def _rho1(self, z):
        return (self.nu + 1) * z / (self.nu + z**2)

    def _rho2(self, z):
        return (self.nu + 1) * (self.nu - z**2) / (self.nu + z**2) ** 2

    def _log_norm(self) -> float:
        nu = self.nu
        return math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)

    def _standard_draws(self, rng, size):
        return rng.standard_t(self.nu, size)


def flat_term(n_coef: int) -> GaussianTerm:
    """The prior term of maximum likelihood: flat on each of ``n_coef`` coefficient rows (it adds nothing)."""
    return GaussianTerm(np.full(n_coef, np.inf))
