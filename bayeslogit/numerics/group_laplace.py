"""The Laplace (and adaptive Gauss-Hermite) approximation of a multilevel logistic model's marginal likelihood.

Conventions
-----------
``n`` rows, ``p`` fixed effects, ``q`` spherical group effects ``u ~ N(0, I)`` (see :mod:`.group_systems`).
Row ``i`` has ``y_i`` successes in ``m_i`` trials (Bernoulli: ``m_i = 1``) and linear predictor
``eta_i = X_i beta + (Z Lambda(theta) u)_i``. Its deviance is ``-2 log Binomial(y_i | m_i, expit(eta_i))``, the
binomial coefficient included, as glmer's ``logLik`` has it.

Penalised IRLS (:func:`pirls`) finds the conditional mode ``u*`` of the penalised deviance
``D(u) = sum_i dev_i + |u|^2`` by Newton's method with step halving, as lme4 does; given both ``u`` and ``beta``
(``joint=True``) it finds their joint mode, the inner problem of glmer's first stage (``nAGQ = 0``). The Laplace
deviance (:func:`laplace_deviance`) is ``D(u*) + log det H``, ``H = Lambda^T Z^T W Z Lambda + I`` at ``u*``;
``-1/2`` of it approximates the log marginal likelihood. :func:`agq_deviance` replaces the Laplace step by
adaptive Gauss-Hermite quadrature for one scalar term.

What depends on the response lives on the data object: :class:`GroupData` (binomial rows) and
:class:`~.group_categorical.CategoricalGroupData` (rows of K classes, ``K - 1`` pseudo-rows each, whose weights are
(K-1) x (K-1) matrices) both give ``row_state`` (deviance, probabilities, weights at ``eta``), ``residual``,
``weigh`` (the weights times pseudo-row values), ``logdet_sensitivity`` (``d log det H / d eta``) and
``log_choose``, so that penalised IRLS and the Laplace deviance and its gradient here serve both.
"""

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from scipy.special import gammaln, logsumexp

from bayeslogit.exceptions import ConvergenceError
from bayeslogit.numerics.group_systems import BlockSystem, CrossedSystem

PIRLS_MAX_ITER = 50
PIRLS_TOL = 1e-10  # the Newton decrement below which one last full step ends the iterations
_MAX_HALVINGS = 30


@dataclass(frozen=True, eq=False)
class GroupData:
    """The fixed data of a multilevel binomial model.

    Attributes
    ----------
    X : ndarray of shape (n, p)
        The fixed effects' design, an intercept column included where there is one.
    successes, trials : ndarray of shape (n,)
        ``0 <= successes <= trials``.
    system : BlockSystem or CrossedSystem
        The group terms (:func:`~.group_systems.group_system`).
    """

    X: np.ndarray
    successes: np.ndarray
    trials: np.ndarray
    system: BlockSystem | CrossedSystem

    @cached_property
    def log_choose(self) -> float:
        """The sum over rows of the log binomial coefficients."""
        y, m = self.successes, self.trials
        return float(np.sum(gammaln(m + 1) - gammaln(y + 1) - gammaln(m - y + 1)))

    @property
    def design(self) -> np.ndarray:
        """The fixed effects' design (n, p), as the checks of its columns read it."""
        return self.X

    @property
    def n_rows(self) -> int:
        return len(self.successes)

    def row_state(self, eta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """At the linear predictors ``eta`` (n,): the summed deviance (less the binomial coefficients), the
        probabilities ``p`` and the weights ``w = m p (1 - p)`` (n,)."""
        log1pexp = np.logaddexp(0.0, eta)
        p = np.exp(eta - log1pexp)
        return -2.0 * float(self.successes @ eta - self.trials @ log1pexp), p, self.trials * p * (1.0 - p)

    def residual(self, p: np.ndarray) -> np.ndarray:
        """``y - m p`` (n,): minus half the deviance's gradient in ``eta``."""
        return self.successes - self.trials * p

    def weigh(self, w: np.ndarray, M: np.ndarray) -> np.ndarray:
        """``diag(w) M`` for ``M`` of shape (n,) or (n, c)."""
        return w * M if M.ndim == 1 else w[:, None] * M

    def logdet_sensitivity(self, mode: "Mode") -> np.ndarray:
        """``d log det H / d eta`` (n,) at a factored mode: the leverages times ``w' = w (1 - 2p)``."""
        return mode.factor.leverage() * mode.w * (1.0 - 2.0 * mode.p)

    def separation_rows(self) -> tuple[np.ndarray, np.ndarray, int]:
        """The rows (design, class codes, number of classes) whose separation makes the estimate infinite: each
        row with successes as a success, each with failures as a failure."""
        y, m = self.successes, self.trials
        X = np.concatenate([self.X[y > 0], self.X[m - y > 0]])
        return X, np.concatenate([np.ones(np.sum(y > 0), int), np.zeros(np.sum(m - y > 0), int)]), 2


@dataclass(frozen=True, eq=False)
class Mode:
    """The state of penalised IRLS: effects ``u`` (q,), ``beta`` (p,), and at them the linear predictor ``eta``
        (n,), the summed deviance ``deviance`` of the rows (without the binomial coefficients), the probabilities ``p``
    and weights ``w = m p (1 - p)`` (n,),
        and the factor of ``H`` (None until converged)."""

    u: np.ndarray
    beta: np.ndarray
    eta: np.ndarray
    deviance: float
    p: np.ndarray
    w: np.ndarray
    factor: object = None

    @property
    def penalised(self) -> float:
        return self.deviance + float(self.u @ self.u)


def row_deviance(eta: np.ndarray, successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """``-2 (y eta - m log(1 + e^eta))`` per row, shape like ``eta``: the deviance less the binomial coefficients."""
    return -2.0 * (successes * eta - trials * np.logaddexp(0.0, eta))


def _state(data: GroupData, at, u: np.ndarray, beta: np.ndarray) -> Mode:
    eta = data.X @ beta + at.effect(u)
    return Mode(u, beta, eta, *data.row_state(eta))


def _newton_step(data: GroupData, at, mode: Mode, joint: bool) -> tuple[Mode, np.ndarray, np.ndarray, float]:
    """The factored state, the Newton steps on ``u`` and ``beta`` (zero unless ``joint``) and the decrement."""
    factor = at.factor(mode.w)
    mode = replace(mode, factor=factor)
    r = data.residual(mode.p)
    g_u = mode.u - at.adjoint(r)
    if not joint:
        step_u = -factor.solve(g_u)
        return mode, step_u, np.zeros_like(mode.beta), float(-g_u @ step_u)
    WX = data.weigh(mode.w, data.X)
    C = at.adjoint(WX)  # (q, p)
    HC = factor.solve(C)
    schur = data.X.T @ WX - C.T @ HC
    g_beta = -(data.X.T @ r)
    Hg = factor.solve(g_u)
    try:
        step_beta = -np.linalg.solve(schur, g_beta - C.T @ Hg)
    except np.linalg.LinAlgError:
        raise ConvergenceError(
            "the fixed effects' penalised IRLS system is singular: the fixed-effect columns are collinear, or "
            "some of them separate the successes from the failures; drop or merge those columns"
        ) from None
    step_u = -(Hg + HC @ step_beta)
    return mode, step_u, step_beta, float(-(g_u @ step_u + g_beta @ step_beta))


def pirls(data: GroupData, at, u: np.ndarray, beta: np.ndarray, joint: bool = False) -> Mode:
    """The conditional mode of ``u`` at ``beta`` (or the joint mode of both, with ``joint``), from ``u`` (q,) and
    ``beta`` (p,), for the system ``at`` its thetas (:meth:`~.group_systems.BlockSystem.at`).

    Raises
    ------
    ConvergenceError
        When Newton's steps, halved up to 30 times, no longer decrease the penalised deviance before it converges,
        or after :data:`PIRLS_MAX_ITER` steps; or (``joint``) when the fixed effects' system is singular.
    """
    mode = _state(data, at, u, beta)
    for _ in range(PIRLS_MAX_ITER):
        mode, step_u, step_beta, decrement = _newton_step(data, at, mode, joint)
        if decrement < PIRLS_TOL:
            final = _state(data, at, mode.u + step_u, mode.beta + step_beta)
            return replace(final, factor=at.factor(final.w))
        scale = 1.0
        for _ in range(_MAX_HALVINGS):
            trial = _state(data, at, mode.u + scale * step_u, mode.beta + scale * step_beta)
            if trial.penalised <= mode.penalised:
                break
            scale /= 2
        else:
            if decrement < 1e-6 * (1.0 + abs(mode.penalised)):  # lost in rounding: the mode is as good as it gets
                return mode
            raise ConvergenceError(_not_converged(f"no step decreased the penalised deviance {mode.penalised:.6g}"))
        mode = trial
    raise ConvergenceError(_not_converged(f"{PIRLS_MAX_ITER} Newton steps did not converge"))


def _not_converged(problem: str) -> str:
    return (
        f"penalised IRLS found no conditional mode of the group effects: {problem}. Some groups or fixed-effect "
        "columns may separate the successes from the failures: check for columns or groups with all successes or "
        "all failures, drop or merge them, or fit MAP with a prior on the fixed effects"
    )


def laplace_deviance(data: GroupData, mode: Mode) -> float:
    """``-2`` times the Laplace approximation of the log marginal likelihood at a converged mode (fixed ``beta``)."""
    return mode.penalised + mode.factor.log_det - 2.0 * data.log_choose


def laplace_beta_gradient(data: GroupData, at, mode: Mode) -> np.ndarray:
    """The gradient (p,) in ``beta`` of :func:`laplace_deviance`, ``u*`` following ``beta``.

    ``D(u*)`` changes as at fixed ``u`` (``u*`` is its minimum): ``-2 X^T r``, ``r = y - m p``. ``log det H`` changes
    through the weights: ``sum_i h_i w'_i d eta_i / d beta``, with ``h`` the leverages ``diag(Z Lambda H^-1 Lambda^T
    Z^T)``, ``w' = w (1 - 2p)`` and ``d eta / d beta = X - Z Lambda H^-1 Lambda^T Z^T W X``.
    """
    r = data.residual(mode.p)
    c = data.logdet_sensitivity(mode)
    C = at.adjoint(data.weigh(mode.w, data.X))
    return data.X.T @ (c - 2.0 * r) - C.T @ mode.factor.solve(at.adjoint(c))


def agq_deviance(data: GroupData, mode: Mode, sd: float, n_agq: int) -> float:
    """``-2`` times the adaptive Gauss-Hermite approximation (``n_agq`` nodes) of the log marginal likelihood, for
    one scalar term of relative sd ``sd``, at a converged conditional mode (fixed ``beta``).

    Each level's integral over its effect ``u_g ~ N(0, 1)`` takes nodes centred at the mode ``u*_g`` and scaled by
    its conditional sd ``H_g^(-1/2)``; one node is the Laplace approximation.
    """
    system = data.system
    term = system.term
    nodes, weights = np.polynomial.hermite.hermgauss(n_agq)
    scale = np.sqrt(2.0 * mode.factor.inverse[:, 0, 0])  # sqrt(2) times each level's conditional sd
    fixed = mode.eta - sd * term.values[:, 0] * mode.u[term.codes]
    log_terms = np.empty((term.n_levels, n_agq))
    for j, z in enumerate(nodes):
        u = mode.u + scale * z
        eta = fixed + sd * term.values[:, 0] * u[term.codes]
        dev = np.bincount(term.codes, row_deviance(eta, data.successes, data.trials), minlength=term.n_levels)
        log_terms[:, j] = np.log(weights[j]) - 0.5 * (dev + u**2) + z**2
    per_level = -2.0 * np.log(scale / np.sqrt(2.0)) + np.log(np.pi) - 2.0 * logsumexp(log_terms, axis=1)
    return float(np.sum(per_level)) - 2.0 * data.log_choose
