"""Calibration of predicted probabilities: does a predicted probability of p come true a fraction p of the time?

Conventions
-----------
``n`` rows, ``K`` classes; ``proba`` (n, K) holds each row's predicted class probabilities and ``codes`` (n,) its
observed class, ``0 .. K-1``. For a binary model (``K = 2``) column 1 is ``classes_[1]``.
"""

import numpy as np
import pandas as pd


def calibration_bins(proba: np.ndarray, codes: np.ndarray, n_bins: int = 10, weights=None) -> pd.DataFrame:
    """Reliability-diagram bins of predicted probabilities.

    Binary models (``K = 2``) are binned on ``Pr(classes_[1])`` against the observed frequency of
    ``classes_[1]``; multiclass models on the top-label confidence ``max_k Pr(k)`` against the accuracy of
    the top label. Bins are ``n_bins`` equal widths of [0, 1]; empty bins are left out.

    Parameters
    ----------
    proba : ndarray of shape (n, K)
    codes : ndarray of int of shape (n,)
    n_bins : int
    weights : ndarray of shape (n,), optional

    Returns
    -------
    DataFrame indexed by bin number with columns ``confidence`` (mean prediction), ``frequency``
    (observed frequency or accuracy) and ``weight`` (the bin's total weight, its count when unweighted).
    """
    weights = np.ones(len(codes)) if weights is None else weights
    if proba.shape[1] == 2:
        confidence, hit = proba[:, 1], codes == 1
    else:
        confidence, hit = proba.max(axis=1), np.argmax(proba, axis=1) == codes
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    frame = pd.DataFrame({"bin": bins, "w": weights, "wc": weights * confidence, "wh": weights * hit})
    sums = frame.groupby("bin").sum()
    sums = sums[sums["w"] > 0]
    return pd.DataFrame(
        {"confidence": sums["wc"] / sums["w"], "frequency": sums["wh"] / sums["w"], "weight": sums["w"]}
    )


def expected_calibration_error(proba: np.ndarray, codes: np.ndarray, n_bins: int = 10, weights=None) -> float:
    """``sum_b (weight_b / total) |frequency_b - confidence_b|`` over the bins of :func:`calibration_bins`."""
    bins = calibration_bins(proba, codes, n_bins, weights)
    return float((bins["weight"] * (bins["frequency"] - bins["confidence"]).abs()).sum() / bins["weight"].sum())
