"""Each group's own estimate of one group effect, without pooling: the maximum-likelihood value of that effect from
the group's rows alone, everything else in the linear predictor held fixed.

For the rows ``i`` of group ``g``, with ``y_i`` successes in ``m_i`` trials, an offset ``o_i`` (the fixed effects and
the other group effects, held) and the effect's column value ``v_i`` (1 for an intercept), the estimate maximises::

    l_g(delta) = sum_i y_i (o_i + v_i delta) - m_i log(1 + exp(o_i + v_i delta))

a concave function of one number, found by Newton's method for all groups at once. It is infinite where the group's
rows separate in ``delta``: ``+inf`` where every row with ``v_i > 0`` is all successes and every row with
``v_i < 0`` all failures (for an intercept: the group's rows are all successes), ``-inf`` the other way round; NaN
where no row of the group has ``v_i != 0`` and a trial, so that its rows say nothing of ``delta``.
"""

import numpy as np
from scipy.special import expit

MAX_STEP = 4.0  # a Newton step in delta is at most this (log-odds): the first steps from 0 cannot overshoot far


def no_pooling_effects(
    offset: np.ndarray,
    values: np.ndarray,
    successes: np.ndarray,
    trials: np.ndarray,
    codes: np.ndarray,
    n_levels: int,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> np.ndarray:
    """Each group's maximum-likelihood effect from its own rows (see the module's docstring).

    Parameters
    ----------
    offset : ndarray of shape (n_samples,)
        The linear predictor without the effect.
    values : ndarray of shape (n_samples,)
        The effect's column (ones for an intercept).
    successes, trials : ndarray of shape (n_samples,)
        Each row's successes out of its trials.
    codes : ndarray of shape (n_samples,), int
        Each row's group, ``0 <= code < n_levels``.
    n_levels : int
        The number of groups.
    tol : float
        Newton stops when every group's step is below ``tol``.
    max_iter : int
        At most this many Newton steps.

    Returns
    -------
    ndarray of shape (n_levels,)
        Each group's estimate: finite, ``+inf`` or ``-inf`` where its rows separate, NaN where they say nothing.
    """

    def per_group(weights):
        return np.bincount(codes, weights=weights, minlength=n_levels)

    y, m, v = successes, trials, values
    informative = per_group((v != 0) & (m > 0)) > 0
    against_up = per_group(((v > 0) & (y < m)) | ((v < 0) & (y > 0)))  # rows that keep delta from +inf
    against_down = per_group(((v > 0) & (y > 0)) | ((v < 0) & (y < m)))  # and from -inf
    estimate = np.full(n_levels, np.nan)
    estimate[informative & (against_up == 0)] = np.inf
    estimate[informative & (against_down == 0)] = -np.inf
    finite = informative & (against_up > 0) & (against_down > 0)
    delta = np.zeros(n_levels)

    def loglik(at):
        eta = offset + v * at[codes]
        return per_group(y * eta - m * np.logaddexp(0.0, eta))

    current = loglik(delta)
    for _ in range(max_iter):
        p = expit(offset + v * delta[codes])
        gradient, curvature = per_group(v * (y - m * p)), per_group(v**2 * m * p * (1 - p))
        step = np.zeros(n_levels)
        step[finite] = np.clip(gradient[finite] / curvature[finite], -MAX_STEP, MAX_STEP)
        if np.max(np.abs(step)) < tol:
            break
        trial = loglik(delta + step)
        for _ in range(30):  # halve the steps that do not raise their group's log-likelihood
            worse = trial < current - 1e-12 * np.abs(current)
            if not worse.any():
                break
            step[worse] /= 2
            trial = loglik(delta + step)
        delta, current = delta + step, trial
    estimate[finite] = delta[finite]
    return estimate
