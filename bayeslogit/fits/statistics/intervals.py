"""One interval convention for every table and plot, the ArviZ 1.x one.

An interval is asked for by ``ci_prob`` (its probability; default ``arviz_base.rcParams["stats.ci_prob"]``)
and ``ci_kind``: ``"eti"`` (equal-tailed) or ``"hdi"`` (highest density) for posterior draws (default
``rcParams["stats.ci_kind"]``), ``"wald"`` (estimate +- z * standard error) or ``"profile"`` (profile
likelihood, :mod:`bayeslogit.algorithms.profile`) for point fits. Its bounds are
the columns ``{kind}{percent}_lb`` and ``{kind}{percent}_ub`` (``eti89_lb``), named as ArviZ names them.
The defaults are read from ArviZ when an interval is made, so importing the package does not import it.
"""

from statistics import NormalDist

import numpy as np

from bayeslogit.algorithms.profile import free_directions, profile_intervals
from bayeslogit.checks import check_choice, check_probability

POSTERIOR_KINDS = ("eti", "hdi")


def resolve(ci_prob: float | None, ci_kind: str | None, allowed: tuple) -> tuple[float, str]:
    """The interval's probability and kind, checked; ArviZ's defaults where None.

    The default kind is ArviZ's ``stats.ci_kind`` when ``allowed`` holds it, else the first allowed kind (for
    point fits, whose kinds ArviZ does not know, without reading ArviZ's settings).
    """
    if ci_kind is None and not set(allowed) & set(POSTERIOR_KINDS):
        ci_kind = allowed[0]
    if ci_prob is None or ci_kind is None:
        from arviz_base import rcParams

        ci_prob = rcParams["stats.ci_prob"] if ci_prob is None else ci_prob
        ci_kind = ci_kind or (rcParams["stats.ci_kind"] if rcParams["stats.ci_kind"] in allowed else allowed[0])
    return check_probability("ci_prob", ci_prob), check_choice("ci_kind", ci_kind, allowed)


def column_names(ci_kind: str, ci_prob: float) -> tuple[str, str]:
    """``("eti89_lb", "eti89_ub")``: the bounds' column names, the percentage truncated as ArviZ does."""
    percent = int(ci_prob * 100)
    return f"{ci_kind}{percent}_lb", f"{ci_kind}{percent}_ub"


def wald(estimate: np.ndarray, se: np.ndarray, ci_prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounds ``estimate -+ z se`` of the central normal interval of probability ``ci_prob``."""
    half = NormalDist().inv_cdf(0.5 + ci_prob / 2) * se
    return estimate - half, estimate + half


def of_draws(values: np.ndarray, ci_prob: float, ci_kind: str) -> np.ndarray:
    """ArviZ's interval of each row of ``values`` (Q, S) over its S draws, shape (Q, 2)."""
    from arviz_stats.base import array_stats

    return getattr(array_stats, ci_kind)(values, ci_prob, axis=-1)


def wald_of_fit(fit, matrix: np.ndarray, names: list[str], ci_prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Wald bounds (Q,) of the quantities ``matrix @ vec(params)`` (``matrix`` (Q, P*M)) of a point fit, their
    standard errors ``sqrt(diag(matrix cov matrix^T))``."""
    se = np.sqrt(np.einsum("qi,ij,qj->q", matrix, fit._cov, matrix))
    return wald(matrix @ fit.params.ravel(order="F"), se, ci_prob)


def profile_of_fit(fit, matrix: np.ndarray, names: list[str], ci_prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Profile bounds (Q,) of the quantities ``matrix @ vec(params)`` of a point fit, of the objective it
    minimised (the log-likelihood for ML, the log posterior for MAP); ``-inf`` / ``inf`` with a warning, naming
    the quantity by ``names``, where one does not close."""
    se = np.sqrt(np.einsum("qi,ij,qj->q", matrix, fit._cov, matrix))
    return profile_intervals(
        fit.objective, fit.iterations[-1].x, free_directions(fit.objective, matrix), se, ci_prob, names
    )


POINT_INTERVALS = {"wald": wald_of_fit, "profile": profile_of_fit}
"""Point-fit interval kind -> function ``(fit, matrix, names, ci_prob) -> (lower, upper)`` of the quantities
``matrix @ vec(params)``."""
POINT_KINDS = tuple(POINT_INTERVALS)
DELTA_KINDS = ("wald",)
"""Point-fit interval kinds of quantities that are not linear in the coefficients (boundaries, predicted
probabilities): the delta method's Wald interval only."""
