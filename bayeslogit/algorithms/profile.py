"""Profile-likelihood intervals of the coefficients (or linear combinations of them) of a fitted objective.

The profile of a quantity ``q = a^T u`` (a coefficient ``vec(B)_j``, or a contrast of coefficients, as a linear
function of the free coordinates ``u``) is ``f_a(c) = min { f(u) : a^T u = c }``, the objective minimised with
that quantity held fixed. For the negative log-likelihood ``f``, the profile interval of probability
``ci_prob`` holds the ``c`` with ``f_a(c) - f(u_hat) <= chi2_1.ppf(ci_prob) / 2`` (the likelihood-ratio test's
acceptance region; for a log posterior ``f`` the same construction gives a profile-posterior interval); its
bounds are the roots of that equation on either side of the estimate, found by
:func:`scipy.optimize.brentq`. Each value of the profile is a Newton solve (:func:`~.newton.newton`) on the
free coordinates left once ``a^T u = c`` is fixed: ``u = c a / |a|^2 + N v`` with ``N`` an orthonormal basis
of ``a``'s complement (for ``vec(B)_j``, ``a`` is row ``j`` of the objective's transform, or the unit vector
``e_j`` when the free coordinates are ``vec(B)`` itself). Each solve starts from the previous one's optimum.

Where the profile never rises by the threshold within :data:`MAX_STANDARD_ERRORS` standard errors of the
estimate (a likelihood flat towards infinity, as under quasi-separation), or the inner solve fails, the bound
is ``-inf`` / ``inf`` and a :class:`~bayeslogit.exceptions.ConvergenceWarning` names the coefficient.
"""

import warnings
from statistics import NormalDist

import numpy as np
from scipy.linalg import null_space

from bayeslogit.algorithms.newton import newton
from bayeslogit.exceptions import Advice, ConvergenceWarning, Remedy, SingularHessianError, warn_convergence

MAX_STANDARD_ERRORS = 1024.0
"""How far from the estimate, in standard errors, a bound is looked for before it is reported as infinite."""
_XTOL = 1e-10  # brentq's absolute tolerance on a bound, relative to max(1, |bound|)


class _NotClosing(Exception):
    """The profile could not be evaluated or bracketed on one side."""


class LinearProfile:
    """The objective minimised over the free coordinates with one linear combination of them held fixed.

    Parameters
    ----------
    objective : Objective
        ``objective(u) -> (value, gradient (n_free,), hessian (n_free, n_free))``, with ``value(u)``.
    direction : ndarray of shape (n_free,)
        ``a``: the quantity held fixed is ``a^T u``.
    start : ndarray of shape (n_free,)
        The unconstrained optimum, where the first inner solve starts.
    """

    def __init__(self, objective, direction: np.ndarray, start: np.ndarray):
        self.objective = objective
        self.direction = np.asarray(direction, dtype=float)
        self.basis = null_space(self.direction[None, :])  # (n_free, n_free - 1), orthonormal
        self.latest = np.array(start, dtype=float)

    def _point(self, c: float, v: np.ndarray) -> np.ndarray:
        return c * self.direction / (self.direction @ self.direction) + self.basis @ v

    def __call__(self, c: float) -> float:
        """``f_a(c)``, by Newton's method from the latest optimum; raises :class:`_NotClosing` when it fails."""
        basis = self.basis
        v0 = basis.T @ self.latest
        if basis.shape[1] == 0:
            self.latest = self._point(c, v0)
            return self.objective.value(self.latest)

        def restricted(v: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            value, gradient, hessian = self.objective(self._point(c, v))
            return value, basis.T @ gradient, basis.T @ hessian @ basis

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # judged below by ``converged``
            try:
                result = newton(
                    restricted,
                    v0,
                    value=lambda v: self.objective.value(self._point(c, v)),
                    name="the profile's inner fit",
                    convex=self.objective.convex,
                )
            except (SingularHessianError, FloatingPointError) as error:
                raise _NotClosing(str(error)) from None
        if not result.converged:
            raise _NotClosing("the inner fit did not converge")
        self.latest = self._point(c, result.x)
        return result.value


def _bound(profile: LinearProfile, estimate: float, se: float, threshold: float, side: float) -> float:
    """The root of ``profile(c) = threshold`` on ``side`` (+1 or -1) of ``estimate``; raises :class:`_NotClosing`."""
    from scipy.optimize import brentq  # on first use: the fits that need no profile skip importing scipy.optimize

    scale = se if np.isfinite(se) and se > 0 else 1.0
    inner, step = estimate, scale
    while step <= MAX_STANDARD_ERRORS * scale:
        outer = estimate + side * step
        if profile(outer) > threshold:
            break
        inner, step = outer, 2.0 * step
    else:
        raise _NotClosing(f"the profile stays within the threshold up to {outer:.6g}")
    return brentq(
        lambda c: profile(c) - threshold,
        min(inner, outer),
        max(inner, outer),
        xtol=_XTOL * max(1.0, abs(outer)),
        rtol=4 * np.finfo(float).eps,
    )


def free_directions(objective, matrix: np.ndarray) -> np.ndarray:
    """The quantities ``matrix @ vec(B)`` (``matrix`` of shape (Q, P*M)) as functions ``A u`` of the free
    coordinates: ``A = matrix @ T`` of shape (Q, n_free), ``T`` the objective's transform (the identity when None)."""
    return matrix if objective.transform is None else matrix @ objective.transform


def profile_intervals(
    objective, optimum: np.ndarray, directions: np.ndarray, se: np.ndarray, ci_prob: float, names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Profile intervals of the quantities ``directions @ u``.

    Parameters
    ----------
    objective : Objective
        The minimised objective (negative log-likelihood, or log posterior for a penalised profile).
    optimum : ndarray of shape (n_free,)
        Its minimiser ``u``, in free coordinates.
    directions : ndarray of shape (Q, n_free)
        One row ``a`` per quantity ``a^T u`` (see :func:`free_directions`).
    se : ndarray of shape (Q,)
        Standard errors of the quantities, the scale on which bounds are bracketed.
    ci_prob : float
        The interval's probability: the threshold is ``chi2(1).ppf(ci_prob) / 2`` above the minimum.
    names : list of str of length Q
        The quantities' labels, for the warning.

    Returns
    -------
    lower, upper : ndarray of shape (Q,)
        The bounds; ``-inf`` / ``inf`` where the profile does not close.

    Warns
    -----
    ConvergenceWarning
        For each bound reported as infinite, naming the coefficient and the reason.
    """
    minimum = objective(optimum)[0]  # a loaded fit's stand-in objective raises here, saying what to attach
    threshold = minimum + NormalDist().inv_cdf(0.5 + ci_prob / 2) ** 2 / 2  # chi2_1.ppf(ci_prob) / 2
    bounds = np.empty((len(directions), 2))
    for index, (direction, name) in enumerate(zip(directions, names)):
        for column, side in enumerate((-1.0, 1.0)):
            profile = LinearProfile(objective, direction, optimum)  # each side starts from the optimum
            try:
                bounds[index, column] = _bound(profile, direction @ optimum, se[index], threshold, side)
            except _NotClosing as reason:
                bounds[index, column] = side * np.inf
                advice = (
                    (
                        "the likelihood is flat that way (separation-like data); use ",
                        Remedy("use_map"),
                        " with a prior, or a posterior fit, for a finite interval",
                    )
                    if objective.prior.flat.all()
                    else ("the log posterior is flat that way; use a posterior fit (its interval of the draws)",)
                )
                warn_convergence(
                    Advice(
                        f"the {ci_prob:.0%} profile interval of {name!r} does not close on the "
                        f"{'lower' if side < 0 else 'upper'} side ({reason}), so that bound is reported "
                        "as infinite: ",
                        *advice,
                    )
                )
    return bounds[:, 0], bounds[:, 1]
