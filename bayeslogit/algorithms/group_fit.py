"""Maximum likelihood and MAP for multilevel logistic models, in the two stages of lme4's ``glmer``.

Stage 1 optimises the thetas alone, the fixed effects found with the group effects by penalised IRLS (glmer's
``nAGQ = 0``); stage 2 optimises thetas and fixed effects together on the Laplace (or adaptive Gauss-Hermite)
deviance, penalised IRLS finding the group effects alone. Both stages run L-BFGS-B, the thetas on ``T``'s diagonal
bounded below at 0 (glmer uses bobyqa, then Nelder-Mead); the gradient in the thetas is by central differences, in
the fixed effects exact for the Laplace deviance, and stage 2 scales the fixed effects by their curvature at stage 1's
end. The fixed effects' covariance is glmer's ``vcov``: twice the fixed-effect block of the inverse Hessian of the
deviance in (theta, beta), by finite differences (:mod:`.group_hessian`), below :data:`HESSIAN_MAX_ROWS` rows.

MAP (blme's ``bglmer``) adds ``-2`` log prior to the deviance: a Gaussian prior of given precisions on the fixed
effects and a :class:`~bayeslogit.numerics.group_design.GroupPrior` on each term's sds and correlations, whose mode is
taken in that parameterisation (blme's ``posterior.scale = "sd"``).
"""

from collections.abc import Sequence

import numpy as np
import scipy.optimize

from bayeslogit.algorithms.collinearity import collinearity_of_gram
from bayeslogit.algorithms.group_hessian import fd_gradient
from bayeslogit.algorithms.group_objective import MarginalDeviance, Penalty
from bayeslogit.algorithms.group_result import GroupFit, group_fit_result
from bayeslogit.algorithms.separation import find_separation
from bayeslogit.exceptions import CollinearityError, ConvergenceError, OptionError, SeparationError
from bayeslogit.numerics.blas_threads import blas_threads
from bayeslogit.numerics.group_covariance import theta_on_diagonal, theta_start
from bayeslogit.numerics.group_design import GroupPrior, GroupTerm
from bayeslogit.numerics.group_laplace import GroupData, Mode
from bayeslogit.numerics.group_systems import group_system

__all__ = ["fit_group_ml", "fit_group_map", "GroupFit"]

HESSIAN_MAX_ROWS = 10_000
"""glmer computes the Hessian for ``vcov`` by finite differences below this many rows; above it (and here too) the
fixed effects' covariance is the inverse of their penalised IRLS Schur complement at the optimum."""

_OPTIONS = {"maxiter": 1000, "ftol": 1e-14, "gtol": 1e-6, "maxcor": 20}
_DIVERGED_ETA = 25.0  # fixed effects' linear predictors this large after stage 1 are checked for separation
_RESTARTS = 5
_ESCAPE = 0.01  # how far a theta at its bound 0 is moved to see whether the value falls off the bound
_RESTART_GTOL = 1e-3  # a projected gradient above this where L-BFGS-B stopped restarts it
_STAGE1_OPTIONS = {"maxiter": 1000, "ftol": 1e-9, "gtol": 1e-3}  # a start for stage 2, which refines the thetas


def _bounds(terms: tuple[GroupTerm, ...], lower: float) -> list[tuple[float | None, None]]:
    diagonal = np.concatenate([theta_on_diagonal(t.n_columns, t.correlated) for t in terms])
    return [(lower, None) if d else (None, None) for d in diagonal]


def _minimize(fun, x0: np.ndarray, bounds: list, options: dict = _OPTIONS) -> scipy.optimize.OptimizeResult:
    """L-BFGS-B on ``fun(x) -> (value, gradient)`` from ``x0`` moved inside its bounds, restarted where it stops
    short (up to :data:`_RESTARTS` times).

    A point where penalised IRLS finds no mode (a line search's trial far out, where the linear predictors are
    hundreds) has an infinite value, which makes the line search step back; L-BFGS-B may then stop before the
    gradient vanishes, and starts again from where it stopped. A theta on ``T``'s diagonal is even in the deviance, so
    that at its bound 0 its derivative vanishes whether 0 is a minimum or a maximum: a theta that ends there is moved
    off by :data:`_ESCAPE` and the optimiser restarted when that lowers the value (glmer's derivative-free bobyqa
    meets no such saddle)."""

    def finite(x):
        try:
            return fun(x)
        except ConvergenceError:
            return np.inf, np.zeros(len(x))

    lower = np.array([-np.inf if b[0] is None else b[0] for b in bounds])
    x, iterations = np.maximum(x0, lower), 0
    for _ in range(_RESTARTS):
        result = scipy.optimize.minimize(finite, x, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
        iterations += result.nit
        x, at_bound = result.x, result.x - lower < 1e-8
        projected = np.where(at_bound, np.minimum(result.jac, 0.0), result.jac)
        escaped = False
        for j in np.flatnonzero(at_bound):
            trial = x.copy()
            trial[j] = lower[j] + _ESCAPE
            if finite(trial)[0] < result.fun:
                x, escaped = trial, True
                break
        if not escaped and np.max(np.abs(projected), initial=0.0) < _RESTART_GTOL:
            break
    else:
        result.success = False
    result.x, result.nit = x, iterations
    return result


def _stage1(deviance: MarginalDeviance, penalty: Penalty, theta0: np.ndarray, bounds: list):
    """Stage 1's optimum thetas, the fixed effects at the joint mode."""

    def fun(theta):
        def value(t):
            return deviance.stage1(t) + penalty.theta_part(t)

        return value(theta), fd_gradient(value, theta)

    return _minimize(fun, theta0, bounds, _STAGE1_OPTIONS)


def _stage2(deviance: MarginalDeviance, penalty: Penalty, start: np.ndarray, bounds: list, scale: np.ndarray):
    """Stage 2's optimum (theta, beta) from ``start``, the fixed effects' coordinates ``z`` with
    ``beta = beta_start + scale @ z``: ``scale`` (p, p) makes the Hessian in them near the identity, so that
    L-BFGS-B meets a problem of one scale."""
    n_theta = len(start) - len(scale)

    def params_of(z):
        return np.concatenate([z[:n_theta], start[n_theta:] + scale @ z[n_theta:]])

    def fun(z):
        params = params_of(z)
        value, gradient = deviance.value_and_gradient(params)
        value += penalty(params, n_theta)
        gradient = gradient + penalty.gradient(params, n_theta)
        return value, np.concatenate([gradient[:n_theta], scale.T @ gradient[n_theta:]])

    z0 = np.concatenate([start[:n_theta], np.zeros(len(scale))])
    result = _minimize(fun, z0, bounds)
    return params_of(result.x), result


def _separation_error(data: GroupData, names: Sequence[str]) -> SeparationError | None:
    """A SeparationError naming the fixed-effect columns that separate the outcomes, if any do."""
    X, labels, n_classes = data.separation_rows()
    separation = find_separation(X, labels, n_classes, intercept=False, names=names)
    if separation is None:
        return None
    return SeparationError(
        f"the fixed effects separate the outcomes ({separation.describe()}), so their maximum "
        "likelihood estimate is infinite: drop or merge those columns, or fit MAP with a prior on the fixed effects",
        columns=separation.columns,
        kind=separation.kind,
    )


def fit_group_data(data, penalty: Penalty, n_agq: int, names: Sequence[str], hessian: bool | None) -> GroupFit:
    """The fit of ``data`` (a :class:`~bayeslogit.numerics.group_laplace.GroupData` or a
    :class:`~bayeslogit.numerics.group_categorical.CategoricalGroupData`) under ``penalty``: both stages and the
    result, BLAS on one thread: its products here are small, and NumPy's and SciPy's OpenBLAS pools, alternating,
    would fight over the cores. ``names`` are the columns of ``data.design``."""
    with blas_threads(1):
        return _fit_stages(data, penalty, n_agq, names, hessian)


def _fit_stages(data: GroupData, penalty: Penalty, n_agq: int, names: Sequence[str], hessian: bool | None) -> GroupFit:
    terms, p = data.system.terms, data.X.shape[1]
    flat = penalty.precision is None or np.any(penalty.precision == 0)
    collinear = collinearity_of_gram(data.design.T @ data.design, False, tuple(names)) if flat else None
    if collinear is not None:
        raise CollinearityError(
            f"the fixed effects' columns are not linearly independent: {collinear.describe()}",
            columns=collinear.columns,
        )
    theta0 = np.concatenate([theta_start(t.n_columns, t.correlated) for t in terms])
    n_theta = len(theta0)
    lower = 0.0 if penalty.priors is None else 1e-6
    deviance = MarginalDeviance(data, n_agq)
    try:
        first = _stage1(deviance, penalty, theta0, _bounds(terms, lower))
        deviance.stage1(first.x)
    except ConvergenceError:
        error = _separation_error(data, names) if penalty.precision is None else None
        if error is None:
            raise
        raise error from None
    if penalty.precision is None and np.max(np.abs(data.X @ deviance.last.beta)) > _DIVERGED_ETA:
        error = _separation_error(data, names)
        if error is not None:
            raise error
    start = np.concatenate([first.x, deviance.last.beta])
    scale = np.linalg.inv(np.linalg.cholesky(2.0 * _schur(data, deviance.last_at, deviance.last))).T
    params, second = _stage2(deviance, penalty, start, _bounds(terms, lower) + [(None, None)] * p, scale)
    if hessian is None:
        hessian = data.n_rows < HESSIAN_MAX_ROWS
    curvature = deviance.hessian(params) + penalty.hessian(params, n_theta) if hessian else None
    value = deviance(params)  # the mode at the optimum
    return group_fit_result(
        data,
        deviance.last_at,
        deviance.last,
        params,
        curvature,
        _schur(data, deviance.last_at, deviance.last),
        value,
        value + penalty(params, n_theta),
        iterations=(first.nit, second.nit),
        converged=bool(first.success and second.success),
    )


def _schur(data: GroupData, at, mode: Mode) -> np.ndarray:
    """The fixed effects' Schur complement ``X^T W X - C^T H^-1 C`` (p, p), ``C = Lambda^T Z^T W X``: half the
    Hessian of the penalised deviance in ``beta`` with ``u`` at its mode."""
    WX = data.weigh(mode.w, data.X)
    C = at.adjoint(WX)
    return data.X.T @ WX - C.T @ mode.factor.solve(C)


def _group_data(X, successes, trials, terms) -> GroupData:
    X = np.asarray(X, float)
    successes = np.asarray(successes, float)
    trials = np.ones_like(successes) if trials is None else np.asarray(trials, float)
    return GroupData(X, successes, trials, group_system(tuple(terms)))


def fit_group_ml(
    X: np.ndarray,
    successes: np.ndarray,
    trials: np.ndarray | None,
    terms: Sequence[GroupTerm],
    *,
    n_agq: int = 1,
    names: Sequence[str] | None = None,
    hessian: bool | None = None,
) -> GroupFit:
    """Maximum likelihood for a multilevel logistic model, as glmer computes it.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        The fixed effects' design, an intercept column included where there is one.
    successes : ndarray of shape (n,)
        Successes per row (the 0/1 response for Bernoulli rows).
    trials : ndarray of shape (n,) or None
        Trials per row; None for Bernoulli rows (one trial each).
    terms : sequence of GroupTerm
        The group terms (:func:`bayeslogit.rows.group_terms.group_terms`).
    n_agq : int
        Adaptive Gauss-Hermite nodes per level (glmer's ``nAGQ``): 1 is the Laplace approximation; more need a
        single scalar term.
    names : sequence of str, optional
        The fixed effects' names, for messages.
    hessian : bool, optional
        Whether the fixed effects' covariance comes from the finite-difference Hessian in (theta, beta); default
        as glmer: below :data:`HESSIAN_MAX_ROWS` rows.

    Returns
    -------
    GroupFit

    Raises
    ------
    SeparationError
        When the fixed effects separate successes from failures.
    CollinearityError
        When the fixed effects' columns are linearly dependent.
    ConvergenceError
        When penalised IRLS finds no conditional mode.
    OptionError
        When ``n_agq`` is not a positive integer, or above 1 with other than one scalar term.
    """
    data = _group_data(X, successes, trials, terms)
    if not isinstance(n_agq, int) or n_agq < 1:
        raise OptionError(f"n_agq must be a positive integer; got {n_agq!r}")
    if n_agq > 1 and (len(data.system.terms) > 1 or data.system.terms[0].n_columns > 1):
        raise OptionError(
            f"n_agq > 1 (adaptive Gauss-Hermite quadrature) needs a single scalar group term such as (1 | g); got "
            f"n_agq={n_agq} with {len(data.system.terms)} terms: use n_agq=1, the Laplace approximation"
        )
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(data.X.shape[1]))
    return fit_group_data(data, Penalty(data.system.terms, None, None), n_agq, names, hessian)


def fit_group_map(
    X: np.ndarray,
    successes: np.ndarray,
    trials: np.ndarray | None,
    terms: Sequence[GroupTerm],
    prior: GroupPrior | Sequence[GroupPrior] | None = None,
    beta_precision: float | np.ndarray = 0.0,
    *,
    names: Sequence[str] | None = None,
    hessian: bool | None = None,
) -> GroupFit:
    """The posterior mode of a multilevel logistic model under a prior, on the Laplace marginal likelihood.

    Parameters
    ----------
    X, successes, trials, terms, names, hessian
        As :func:`fit_group_ml`.
    prior : GroupPrior or sequence of GroupPrior, optional
        The prior on each term's sds and correlations (one for all terms, or one per term); default ``GroupPrior()``.
    beta_precision : float or ndarray of shape (p,)
        The Gaussian prior's precision ``1 / sigma_j^2`` of each fixed effect; 0 for a flat prior.

    Returns
    -------
    GroupFit
        Its ``deviance`` and ``loglik`` are the marginal likelihood's at the mode; ``objective`` adds ``-2`` log
        prior.

    Raises
    ------
    OptionError
        When ``prior`` is neither one GroupPrior nor one per term, or a precision is negative.
    CollinearityError, ConvergenceError
        As :func:`fit_group_ml` (collinearity only where some fixed effect's prior is flat).
    """
    data = _group_data(X, successes, trials, terms)
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(data.X.shape[1]))
    penalty = map_penalty(data.system.terms, prior, beta_precision, data.X.shape[1])
    return fit_group_data(data, penalty, 1, names, hessian)


def map_penalty(terms: tuple[GroupTerm, ...], prior, beta_precision, p: int) -> Penalty:
    """MAP's penalty: ``prior`` (None, one GroupPrior, or one per term of ``terms``) on the terms' sds and
    correlations, and a Gaussian of precisions ``beta_precision`` (scalar or (p,)) on the ``p`` fixed effects.

    Raises
    ------
    OptionError
        When ``prior`` is neither one GroupPrior nor one per term, or a precision is negative.
    """
    prior = GroupPrior() if prior is None else prior
    priors = (prior,) * len(terms) if isinstance(prior, GroupPrior) else tuple(prior)
    if len(priors) != len(terms):
        raise OptionError(f"prior must be one GroupPrior or one per term ({len(terms)}); got {len(priors)}")
    precision = np.broadcast_to(np.asarray(beta_precision, float), (p,)).copy()
    if not np.all(precision >= 0):
        raise OptionError(f"beta_precision must be non-negative (0 for a flat prior); got {beta_precision!r}")
    return Penalty(terms, priors, precision)
