"""Odds ratios (binary) and relative risk ratios (multiclass) of a fit's coefficients.

A slope ``beta_j`` of the log-odds of class ``k`` against the reference class 0 is reported as ``exp(beta_j)``:
the factor by which ``Pr(k) / Pr(0)`` changes when predictor ``j`` grows by one unit, the others held. For a
binary model that is the odds ratio of the event ``classes_[1]``; for a multiclass model the relative risk
ratio of each other class against ``classes_[0]`` (computed from the class logits, so a symmetric
parameterization gives the same ratios as a reference one). The intercept is not a ratio (its ``exp`` is the
baseline odds at all predictors zero, ``exp(fit.coef["Intercept"])``), so its rows are left out.

Intervals are those of the log-ratios, exponentiated (``exp`` is monotone, so a Wald, profile, ETI interval of
``beta`` maps to one of ``exp(beta)``), never a delta-method standard error of ``exp(beta)``.
"""

import numpy as np
import pandas as pd

from bayeslogit.fits.statistics import intervals


def contrast_matrix(layout) -> tuple[np.ndarray, list[str]]:
    """The log-ratios as a matrix of ``vec(B)``, without the intercept's rows, and their labels.

    Returns
    -------
    matrix : ndarray of shape (Q, P*M)
        Row ``q`` gives ``theta_k[j] - theta_0[j]`` (class logits' coefficients) for the ``q``-th pair of a
        slope ``j`` and a class ``k >= 1``, class-major.
    labels : list of str of length Q
        The slope's name, or ``"name[k vs reference]"`` for a multiclass model.
    """
    P, M = len(layout.coef_names), len(layout.columns)
    family = layout.family
    columns = []
    for unit in np.eye(P * M):
        logits = family.class_logits(layout.unflatten(unit))  # (P, K)
        columns.append((logits[:, 1:] - logits[:, :1]).ravel(order="F"))
    matrix = np.array(columns).T  # (P*(K-1), P*M)
    classes = layout.classes
    pairs = [f"{label} vs {classes[0]}" for label in classes[1:]]
    labels = family.flat_labels(layout.coef_names, pairs)
    slopes = np.tile(np.arange(P) >= layout.intercept, len(pairs))
    return matrix[slopes], [label for label, slope in zip(labels, slopes) if slope]


def point_odds_ratios(fit, ci_prob: float, ci_kind: str) -> pd.DataFrame:
    """``exp`` of a point fit's log-ratios and of their ``ci_kind`` interval's bounds."""
    matrix, labels = contrast_matrix(fit.layout)
    lower, upper = intervals.POINT_INTERVALS[ci_kind](fit, matrix, labels, ci_prob)
    lb, ub = intervals.column_names(ci_kind, ci_prob)
    table = pd.DataFrame(
        {"odds_ratio": np.exp(matrix @ fit.params.ravel(order="F")), lb: np.exp(lower), ub: np.exp(upper)},
        index=pd.Index(labels, name="coef"),
    )
    table.attrs["uncertainty"] = f"{fit.method.upper()} {ci_kind.capitalize()} interval of the log-ratio, exponentiated"
    return table


def posterior_odds_ratios(fit, ci_prob: float, ci_kind: str) -> pd.DataFrame:
    """The posterior of a posterior fit's ratios: mean, median and the ``ci_kind`` interval of ``exp`` of the
    log-ratios' draws."""
    matrix, labels = contrast_matrix(fit.layout)
    draws = fit.pooled_draws()
    flat = draws.transpose(0, 2, 1).reshape(len(draws), -1)  # (S, P*M), vec order
    ratios = np.exp(matrix @ flat.T)  # (Q, S)
    bounds = intervals.of_draws(ratios, ci_prob, ci_kind)
    lb, ub = intervals.column_names(ci_kind, ci_prob)
    table = pd.DataFrame(
        {"mean": ratios.mean(axis=1), "median": np.median(ratios, axis=1), lb: bounds[:, 0], ub: bounds[:, 1]},
        index=pd.Index(labels, name="coef"),
    )
    table.attrs["uncertainty"] = (
        f"{fit.method.upper()} posterior of the ratio: mean, median and {ci_kind.upper()} "
        "interval of the exponentiated draws"
    )
    return table
