"""The objective of a multilevel fit: the Laplace or AGQ deviance in (theta, beta), and the prior's ``-2`` log density.

:class:`MarginalDeviance` evaluates the deviance by penalised IRLS (:mod:`bayeslogit.numerics.group_laplace`), with
its gradient and Hessian; :class:`Penalty` is MAP's addition, zero for maximum likelihood.
"""

from dataclasses import dataclass

import numpy as np

from bayeslogit.algorithms.group_hessian import fd_gradient, fd_hessian, fd_jacobian
from bayeslogit.exceptions import ConvergenceError
from bayeslogit.numerics.group_covariance import relative_factor, sd_corr, theta_size
from bayeslogit.numerics.group_design import GroupPrior, GroupTerm
from bayeslogit.numerics.group_laplace import (
    GroupData,
    Mode,
    agq_deviance,
    laplace_beta_gradient,
    laplace_deviance,
    pirls,
)


class MarginalDeviance:
    """The Laplace or AGQ deviance of a multilevel model as a function of its parameters, with its gradient and
    Hessian, for an optimiser.

    Penalised IRLS starts each evaluation from the previous one's mode, so the object holds that mode; every
    evaluation converges to the Newton decrement :data:`~bayeslogit.numerics.group_laplace.PIRLS_TOL`, so the
    values do not depend on the order of the evaluations beyond rounding. The Laplace deviance's gradient in the
    fixed effects is exact (:func:`~bayeslogit.numerics.group_laplace.laplace_beta_gradient`); in the thetas, and
    for AGQ in all, it is by central differences.
    """

    def __init__(self, data: GroupData, n_agq: int = 1):
        self.data, self.n_agq = data, n_agq
        self.last = None  # the last Mode
        self.last_at = None  # the system at the last thetas

    def _pirls(self, theta: np.ndarray, beta: np.ndarray, joint: bool) -> Mode:
        at = self.data.system.at(theta)
        u = np.zeros(self.data.system.n_effects) if self.last is None else self.last.u
        try:
            mode = pirls(self.data, at, u, beta, joint=joint)
        except ConvergenceError:
            if self.last is None:
                raise
            mode = pirls(self.data, at, np.zeros_like(u), beta, joint=joint)
        self.last, self.last_at = mode, at
        return mode

    def stage1(self, theta: np.ndarray) -> float:
        """The deviance at ``theta``, the fixed effects at the joint mode (glmer's ``nAGQ = 0``)."""
        beta = self.last.beta if self.last is not None else np.zeros(self.data.X.shape[1])
        return laplace_deviance(self.data, self._pirls(theta, beta, joint=True))

    def __call__(self, params: np.ndarray) -> float:
        """The deviance at ``params = (theta, beta)``."""
        n_theta = len(params) - self.data.X.shape[1]
        theta, beta = params[:n_theta], params[n_theta:]
        mode = self._pirls(theta, beta, joint=False)
        if self.n_agq == 1:
            return laplace_deviance(self.data, mode)
        return agq_deviance(self.data, mode, float(abs(theta[0])), self.n_agq)

    def _beta_gradient(self, params: np.ndarray) -> np.ndarray:
        self(params)
        return laplace_beta_gradient(self.data, self.last_at, self.last)

    def value_and_gradient(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """The deviance and its gradient (d,) at ``params`` (d,)."""
        if self.n_agq > 1:
            return self(params), fd_gradient(self, params)
        n_theta = len(params) - self.data.X.shape[1]
        theta_gradient = fd_gradient(lambda theta: self(np.concatenate([theta, params[n_theta:]])), params[:n_theta])
        value = self(params)
        beta_gradient = laplace_beta_gradient(self.data, self.last_at, self.last)
        return value, np.concatenate([theta_gradient, beta_gradient])

    def hessian(self, params: np.ndarray) -> np.ndarray:
        """The Hessian (d, d) at ``params``: the thetas' block by second differences of the deviance (lme4's
        ``deriv12``), the fixed effects' rows by central differences of their exact gradient (all of it by second
        differences for AGQ)."""
        if self.n_agq > 1:
            return fd_hessian(self, params)
        n_theta, d = len(params) - self.data.X.shape[1], len(params)
        H = np.empty((d, d))
        H[:n_theta, :n_theta] = fd_hessian(
            lambda theta: self(np.concatenate([theta, params[n_theta:]])), params[:n_theta]
        )
        rows = fd_jacobian(self._beta_gradient, params)  # (p, d)
        H[n_theta:, :] = rows
        H[:n_theta, n_theta:] = rows[:, :n_theta].T
        H[n_theta:, n_theta:] = 0.5 * (rows[:, n_theta:] + rows[:, n_theta:].T)
        return H


@dataclass(frozen=True)
class Penalty:
    """``-2`` log prior of (theta, beta): Gaussian on beta with ``precision`` (p,), ``priors`` on each term's sds and
    correlations (None for maximum likelihood: no penalty)."""

    terms: tuple[GroupTerm, ...]
    priors: tuple[GroupPrior, ...] | None
    precision: np.ndarray | None

    def theta_part(self, theta: np.ndarray) -> float:
        if self.priors is None:
            return 0.0
        value, start = 0.0, 0
        for term, prior in zip(self.terms, self.priors):
            size = theta_size(term.n_columns, term.correlated)
            T = relative_factor(theta[start : start + size], term.n_columns, term.correlated)
            sd, corr = sd_corr(T)
            value -= 2.0 * prior.log_density(sd, corr if term.correlated else None)
            start += size
        return value

    def __call__(self, params: np.ndarray, n_theta: int) -> float:
        value = self.theta_part(params[:n_theta])
        if self.precision is not None:
            value += float(np.sum(self.precision * params[n_theta:] ** 2))
        return value

    def gradient(self, params: np.ndarray, n_theta: int) -> np.ndarray:
        gradient = np.zeros(len(params))
        if self.priors is not None:
            gradient[:n_theta] = fd_gradient(self.theta_part, params[:n_theta])
        if self.precision is not None:
            gradient[n_theta:] = 2.0 * self.precision * params[n_theta:]
        return gradient

    def hessian(self, params: np.ndarray, n_theta: int) -> np.ndarray:
        H = np.zeros((len(params), len(params)))
        if self.priors is not None:
            H[:n_theta, :n_theta] = fd_hessian(self.theta_part, params[:n_theta])
        if self.precision is not None:
            H[n_theta:, n_theta:] = np.diag(2.0 * self.precision)
        return H
