"""Predicted class probabilities with intervals, one row per observation.

Conventions
-----------
``n`` rows of a validated design ``X`` (n, p), ``K`` classes, a coefficient matrix of shape (P, M) whose
``vec`` (class-major, see :mod:`bayeslogit.fits.coef_labels`) has the covariance ``fit._cov`` (P*M, P*M). Each
kind of fit makes an array of shape (n, K, 3): per row and class the probability and the interval's lower
and upper bounds. What differs between the kinds lives on :class:`WaldPrediction` (point fits) and
:class:`DrawPrediction` (posterior fits), which each fit class names as its ``prediction``; both take the rows in
blocks, so memory holds a bounded number of intermediate values whatever ``n`` is.
"""

import numpy as np
import pandas as pd

from bayeslogit.fits.statistics import intervals
from bayeslogit.numerics.blocks import block_slices
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.links import expit, logsumexp
from bayeslogit.rows import sources


class WaldPrediction:
    """A point fit's probabilities with Wald intervals of each class's log-odds, by the delta method.

    For class ``k`` the interval is ``expit(logit p_k -+ z se)``, where ``logit p_k = log p_k - log(1 - p_k)``
    is the log-odds of class ``k`` against all the others and ``se^2 = g^T cov g`` its delta-method variance,
    ``g`` its gradient in ``vec(B)``. For a binary model that is the log-odds ``x^T b`` of the event, with
    ``se^2 = x^T cov x``; for a multiclass model, each class (the reference included) against the rest.
    """

    kinds = intervals.DELTA_KINDS
    centre = "estimate"
    description = (
        "point estimate of the probability; Wald interval of its log-odds against the other classes "
        "(delta method with the fit's covariance), mapped through expit"
    )

    @staticmethod
    def values(fit, X: np.ndarray, ci_prob: float, ci_kind: str) -> np.ndarray:
        """Estimate and bounds of every class's probability, shape (n, K, 3)."""
        family = fit.layout.family
        P, M = fit.params.shape
        design = Design(X, fit.model.intercept)
        to_classes = family.class_logits(np.eye(M))  # (M, K): class logits = eta @ to_classes
        cov = fit.cov.to_numpy().reshape(M, P, M, P)  # [m, p, m', q]: vec(B) index m * P + p

        def block(rows: slice) -> np.ndarray:
            rows_with_intercept = design.linear_predictor(np.eye(P), rows)  # (r, P): [1, x] of each row
            rows_cov = np.tensordot(rows_with_intercept, cov, axes=([1], [1]))  # (r, M, M, P)
            eta_cov = np.einsum("imnq,iq->imn", rows_cov, rows_with_intercept)  # (r, M, M)
            logits = family.class_logits(design.linear_predictor(fit.params, rows))  # (r, K)
            logit_cov = to_classes.T @ eta_cov @ to_classes  # (r, K, K)
            log_odds, gradient = _log_odds_against_rest(logits)
            se = np.sqrt(np.einsum("ikm,imn,ikn->ik", gradient, logit_cov, gradient))
            lower, upper = intervals.wald(log_odds, se, ci_prob)
            return np.stack([expit(log_odds), expit(lower), expit(upper)], axis=-1)

        return _by_row_blocks(block, X.shape[0], M * M * P + to_classes.shape[1] ** 2)


class DrawPrediction:
    """A posterior fit's probabilities: the mean over the draws of ``p``, and the ``ci_kind`` interval (ArviZ's
    ``eti`` or ``hdi``) of ``p`` over the draws. The rows are taken in blocks, so memory holds the probabilities
    of every draw at a block of rows only."""

    kinds = intervals.POSTERIOR_KINDS
    centre = "mean"
    description = "posterior mean of the probability; interval of the probability over the posterior draws"

    @staticmethod
    def values(fit, X: np.ndarray, ci_prob: float, ci_kind: str) -> np.ndarray:
        """Mean and bounds of every class's probability over the draws, shape (n, K, 3)."""
        n_draws = len(fit.pooled_draws())

        def block(rows: slice) -> np.ndarray:
            per_draw = fit.predictive_draws(X[rows]).transpose(1, 2, 0)  # (r, K, S)
            bounds = intervals.of_draws(per_draw.reshape(-1, n_draws), ci_prob, ci_kind)
            return np.concatenate([per_draw.mean(axis=-1)[..., None], bounds.reshape(*per_draw.shape[:2], 2)], axis=-1)

        return _by_row_blocks(block, X.shape[0], n_draws * fit.model.n_classes)


def predict_interval(fit, X=None, ci_prob: float | None = None, ci_kind: str | None = None) -> pd.DataFrame:
    """Predicted probabilities with their intervals; see
    :meth:`bayeslogit.fits.results.base.FitBase.predict_interval`."""
    prediction = fit.prediction
    ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, prediction.kinds)
    design = fit.model.design_matrix(X)

    def of_rows(rows: np.ndarray) -> np.ndarray:
        return prediction.values(fit, rows, ci_prob, ci_kind)

    values = fit.layout.family.output_probabilities(sources.kind_of(design).by_row_chunks(of_rows, design))
    stats = [prediction.centre, *intervals.column_names(ci_kind, ci_prob)]
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(values))
    if values.ndim == 2:
        table = pd.DataFrame(values, index=index, columns=stats)
        event = f"Pr(class {fit.model.classes_[1]}): "
    else:
        columns = pd.MultiIndex.from_product([list(fit.model.classes_), stats], names=["class", "stat"])
        table = pd.DataFrame(values.reshape(len(values), -1), index=index, columns=columns)
        event = "each class's probability: "
    table.attrs["interval"] = event + prediction.description
    return table


def _log_odds_against_rest(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log p_k - log(1 - p_k)`` of every class and its gradient in the class logits, in log space.

    Parameters
    ----------
    logits : ndarray of shape (n, K)

    Returns
    -------
    log_odds : ndarray of shape (n, K)
    gradient : ndarray of shape (n, K, K)
        ``gradient[i, k, j]``: 1 for ``j = k``, else minus class ``j``'s share of the classes other than ``k``.
    """
    K = logits.shape[1]
    others = np.where(np.eye(K, dtype=bool), -np.inf, logits[:, None, :])  # (n, K, K): class k masked in row k
    log_rest = logsumexp(others, axis=-1)  # (n, K): log of the sum of e^logit over the classes other than k
    share = np.exp(others - log_rest[..., None])  # zero at j = k
    return logits - log_rest, np.eye(K) - share


def _by_row_blocks(block, n_rows: int, per_row: int) -> np.ndarray:
    """``block(rows)`` (r, K, 3) over the row slices of :func:`~bayeslogit.numerics.blocks.block_slices` for rows
    of ``per_row`` intermediate values, concatenated."""
    return np.concatenate([block(rows) for rows in block_slices(n_rows, per_row)])
