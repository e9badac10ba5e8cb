"""What a multilevel fit returns: :class:`GroupFit`, arrays built once from the optimum."""

from dataclasses import dataclass

import numpy as np

from bayeslogit.numerics.group_covariance import relative_factor, sd_corr, theta_on_diagonal, theta_size
from bayeslogit.numerics.group_laplace import GroupData, Mode

SINGULAR_TOL = 1e-4
"""A theta on ``T``'s diagonal below this is on its boundary (lme4's ``isSingular(tol = 1e-4)``)."""


@dataclass(frozen=True, eq=False)
class GroupFit:
    """A multilevel logistic model's ML or MAP estimate, as glmer reports one.

    Per-term fields are tuples with one entry per group term, in the terms' order; ``k`` is the term's columns.

    Attributes
    ----------
    beta : ndarray of shape (p,)
        The fixed effects.
    beta_cov : ndarray of shape (p, p)
        Their covariance (glmer's ``vcov``).
    theta : ndarray of shape (n_theta,)
        The relative Cholesky factors' entries, term by term (:mod:`~bayeslogit.numerics.group_covariance`).
    factors : tuple of str
        Each term's grouping factor.
    columns : tuple of tuple of str
        Each term's columns.
    sd : tuple of ndarray of shape (k,)
        Each term's group-effect sds.
    corr : tuple of ndarray of shape (k, k)
        Each term's correlations (the identity for an uncorrelated term).
    ranef : tuple of ndarray of shape (n_levels, k)
        Each term's conditional modes of the group effects, ``Lambda u`` (glmer's ``ranef``).
    ranef_sd : tuple of ndarray of shape (n_levels, k)
        Their conditional sds (``condVar``), given the estimates.
    singular : tuple of bool
        Whether each term's estimate lies on the boundary: an sd at 0 or a correlation at +-1.
    loglik : float
        The (approximate) log marginal likelihood at the estimate, binomial coefficients included.
    deviance : float
        ``-2 loglik``.
    objective : float
        The minimised value: ``deviance`` for ML, plus ``-2`` log prior for MAP.
    iterations : tuple of int
        The optimiser's iterations in stage 1 (thetas) and stage 2 (thetas and fixed effects).
    converged : bool
        Whether both stages met their convergence criteria.
    """

    beta: np.ndarray
    beta_cov: np.ndarray
    theta: np.ndarray
    factors: tuple
    columns: tuple
    sd: tuple
    corr: tuple
    ranef: tuple
    ranef_sd: tuple
    singular: tuple
    loglik: float
    deviance: float
    objective: float
    iterations: tuple
    converged: bool

    @property
    def beta_se(self) -> np.ndarray:
        """The fixed effects' standard errors (p,)."""
        return np.sqrt(np.diag(self.beta_cov))


def group_fit_result(
    data: GroupData,
    at,
    mode: Mode,
    params: np.ndarray,
    hessian: np.ndarray | None,
    schur: np.ndarray,
    deviance: float,
    objective: float,
    iterations: tuple[int, int],
    converged: bool,
) -> GroupFit:
    """The :class:`GroupFit` at the optimum ``params = (theta, beta)``, the conditional mode ``mode`` there and the
    system ``at`` its thetas; ``hessian`` (d, d) of the objective in ``params``, or None to take the fixed effects'
    covariance from their Schur complement ``schur`` (p, p) in penalised IRLS."""
    terms = data.system.terms
    n_theta = len(params) - data.X.shape[1]
    theta = params[:n_theta]
    if hessian is not None:
        inverse = np.linalg.inv(hessian)[n_theta:, n_theta:]
        beta_cov = inverse + inverse.T
    else:
        beta_cov = np.linalg.inv(schur)
    b = at.term_effects(mode.u)
    cond_cov = mode.factor.cond_cov()
    sds, corrs, ranef, ranef_sd, singular, start = [], [], [], [], [], 0
    for term, effects, cov in zip(terms, b, cond_cov):
        size = theta_size(term.n_columns, term.correlated)
        term_theta = theta[start : start + size]
        sd, corr = sd_corr(relative_factor(term_theta, term.n_columns, term.correlated))
        sds.append(sd)
        corrs.append(corr)
        ranef.append(effects)
        ranef_sd.append(np.sqrt(np.diagonal(cov, axis1=1, axis2=2)))
        singular.append(bool(np.any(term_theta[theta_on_diagonal(term.n_columns, term.correlated)] < SINGULAR_TOL)))
        start += size
    return GroupFit(
        beta=params[n_theta:].copy(),
        beta_cov=beta_cov,
        theta=theta.copy(),
        factors=tuple(term.factor for term in terms),
        columns=tuple(term.columns for term in terms),
        sd=tuple(sds),
        corr=tuple(corrs),
        ranef=tuple(ranef),
        ranef_sd=tuple(ranef_sd),
        singular=tuple(singular),
        loglik=-0.5 * deviance,
        deviance=deviance,
        objective=objective,
        iterations=iterations,
        converged=converged,
    )
