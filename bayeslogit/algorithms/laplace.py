"""The Laplace approximation: the Gaussian at the MAP whose precision is the objective's Hessian, and the parts of
its check: the log importance ratios of its draws against the exact posterior, ArviZ's Pareto smoothing of them
(with the standard error of Pareto k-hat), and how far the smoothed weights move each coefficient's mean and sd.

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

from bayeslogit.exceptions import SingularHessianError
from bayeslogit.numerics.links import logsumexp


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
                "factorisation failed; remove collinear columns or use a stronger prior"
            ) from None
        root = solve_triangular(factor, np.eye(len(factor)), lower=True, trans="T")
        return cls(np.asarray(mean, dtype=float), root)

    @property
    def covariance(self) -> np.ndarray:
        """``H^-1`` of shape (n_free, n_free)."""
        return self.root @ self.root.T

    def point(self, z: np.ndarray) -> np.ndarray:
        """Free coordinates ``mean + root z`` of shape (S, n_free) for standard-normal ``z`` (S, n_free)."""
        return self.mean + z @ self.root.T

    def whitening(self, transform: np.ndarray | None) -> np.ndarray:
        """``W = T R`` of shape (P * M, n_free), ``T`` (P * M, n_free) the objective's transform (None: the identity):
        ``vec(B) = T mean + W z`` has this Gaussian's distribution for ``z ~ N(0, I)``."""
        return self.root if transform is None else transform @ self.root


def coef_draws(objective, gaussian: Gaussian, z: np.ndarray) -> np.ndarray:
    """The coefficient matrices of the points ``u = mean + root z``, shape (..., P, M), for ``z`` of shape
    (..., n_free): Laplace draws, the draws of the check, and the sampler's whitened draws alike.

    Each is ``objective.coef(u)``: ``vec(B) = T mean + W z`` (``W`` of :meth:`Gaussian.whitening`), reshaped
    column-major to (P, M), for every draw in one matrix product.
    """
    transform = objective.transform
    centre = gaussian.mean if transform is None else transform @ gaussian.mean
    vec = centre + z @ gaussian.whitening(transform).T
    P, M = objective.shape
    return np.swapaxes(vec.reshape(*z.shape[:-1], M, P), -1, -2)


def log_ratios(objective, draws: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Log importance ratios exact posterior / Gaussian of the draws ``u = mean + root z``, shape (S,).

    Each is ``-objective(u) - log q(u)`` with ``log q(u) = -|z|^2 / 2``, both up to constants, which
    normalised weights do not see (so ratios of draws computed in separate calls may be pooled).

    Parameters
    ----------
    objective : Objective
        The negative log posterior (up to a constant).
    draws : ndarray of shape (S, P, M)
        The coefficient matrices of the draws, :func:`coef_draws` of ``z``.
    z : ndarray of shape (S, n_free)
        The standard-normal draws behind them.
    """
    return -objective.values_of_draws(draws) + 0.5 * np.einsum("si,si->s", z, z)


@dataclass(frozen=True)
class ImportanceWeights:
    """Pareto-smoothed importance weights of the exact posterior against the Laplace Gaussian.

    Attributes
    ----------
    log_weights : ndarray of shape (S,)
        Normalised (``logsumexp == 0``) smoothed log weights; the raw ones when k-hat cannot be estimated.
    khat : float
        Pareto-k-hat of the ratios: above 0.7 the importance estimates, and the Gaussian as a stand-in
        for the posterior, are unreliable. NaN when it cannot be estimated: ratios so spread that a handful
        of draws carry all the weight (or not finite).
    khat_se : float
        Standard error of ``khat``: ``(1 + k) / sqrt(M)``, the asymptotic sd of the generalized Pareto
        shape fitted to the ``M`` largest ratios (PSIS fits ``M = 3 sqrt(S)`` of them, so it shrinks
        only as ``S^(-1/4)``). NaN with ``khat``.
    log_ratio_range : float
        ``max - min`` of the log importance ratios: 0 when the Gaussian is exact, tens when it is poor,
        thousands when it misses the posterior entirely.
    """

    log_weights: np.ndarray
    khat: float
    khat_se: float
    log_ratio_range: float

    @classmethod
    def smoothed(cls, log_ratio: np.ndarray) -> "ImportanceWeights":
        """ArviZ's PSIS of the log importance ratios ``log_ratio`` of shape (S,), S >= 226 (see :func:`log_ratios`).

        ArviZ fits the Pareto tail to ``floor(3 sqrt(S))`` ratios when ``S > 225`` (one chain of independent
        draws, relative efficiency 1); that count gives ``khat_se``.
        """
        from arviz_stats.base import array_stats

        spread = float(np.ptp(log_ratio))
        if not np.all(np.isfinite(log_ratio)):
            return cls(log_ratio - logsumexp(log_ratio), float("nan"), float("nan"), spread)
        # psislw takes the negated log ratio (its LOO use passes log-likelihoods, whose ratios are 1/p).
        log_weights, khat = array_stats.psislw(-(log_ratio - log_ratio.max()))
        khat = float(khat) if np.isfinite(khat) else float("nan")
        tail = np.floor(3 * np.sqrt(len(log_ratio)))
        return cls(log_weights - logsumexp(log_weights), khat, float((1 + khat) / np.sqrt(tail)), spread)


@dataclass(frozen=True)
class MomentShifts:
    """How far importance weights move each coefficient's mean and sd from those of the unweighted draws.

    Both shifts are in units of the unweighted draws' sd ``s`` (the Gaussian's): ``mean`` is ``(mean_w - mean) / s``
    and ``sd`` is ``(sd_w - s) / s``, each of shape (P, M). Their standard errors, of the same shape, are the delta
    method's: the root sum of squares over draws of each draw's influence on the shift, through the weighted
    estimate, the unweighted one and ``s`` alike (they share their draws, so much of their Monte Carlo error
    cancels). Coefficients the Gaussian holds fixed (``s = 0``) have shifts 0.
    """

    mean: np.ndarray
    mean_se: np.ndarray
    sd: np.ndarray
    sd_se: np.ndarray

    @classmethod
    def of(cls, draws: np.ndarray, log_weights: np.ndarray) -> "MomentShifts":
        """The shifts of the coefficient draws ``draws`` (S, P, M) under normalised ``log_weights`` (S,)."""
        S = len(draws)
        x = draws.reshape(S, -1)
        w = np.exp(log_weights)[:, None]
        plain_mean, weighted_mean = x.mean(axis=0), (w * x).sum(axis=0)
        plain_dev, weighted_dev = x - plain_mean, x - weighted_mean
        plain_var, weighted_var = (plain_dev**2).mean(axis=0), (w * weighted_dev**2).sum(axis=0)
        sd, weighted_sd = np.sqrt(plain_var), np.sqrt(weighted_var)
        with np.errstate(divide="ignore", invalid="ignore"):
            # Each draw's influence on the plain sd, the weighted mean less the plain one, and the weighted sd.
            sd_influence = (plain_dev**2 - plain_var) / (2 * S * sd)
            mean_influence = w * weighted_dev - plain_dev / S
            weighted_sd_influence = w * (weighted_dev**2 - weighted_var) / (2 * weighted_sd)
            mean_shift, sd_ratio = (weighted_mean - plain_mean) / sd, weighted_sd / sd
            # The delta method for a ratio a / s: (influence of a - a / s * influence of s) / s.
            mean_se = np.sqrt(((mean_influence - mean_shift * sd_influence) ** 2).sum(axis=0)) / sd
            sd_se = np.sqrt(((weighted_sd_influence - sd_ratio * sd_influence) ** 2).sum(axis=0)) / sd
            figures = [mean_shift, mean_se, sd_ratio - 1, sd_se]
        return cls(*(np.where(sd > 0, figure, 0.0).reshape(draws.shape[1:]) for figure in figures))
