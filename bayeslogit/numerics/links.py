"""Inverse links of the two families and their logarithms, in NumPy, stable for every finite input.

The sigmoid, its logarithm, the log-softmax and log-sum-exp are written here from ``exp`` and ``log1p`` of
non-positive numbers (never overflowing), rather than taken from :mod:`scipy.special`, whose import alone
costs a maximum-likelihood fit more than the fit itself on data of the size of wells.
"""

import numpy as np

__all__ = ["expit", "log_softmax", "logsumexp", "sigmoid_pair", "log_sigmoid_pair", "with_reference"]


def expit(eta: np.ndarray) -> np.ndarray:
    """``sig(eta) = 1 / (1 + e^-eta)``, of ``eta``'s shape."""
    return sigmoid_pair(eta)[0]


def logsumexp(a: np.ndarray, axis: int | None = None) -> np.ndarray:
    """``log sum exp(a)`` over ``axis`` (all entries when None), shifted by the maximum; ``-inf`` where every
    entry is ``-inf``."""
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        total = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return total.item() if axis is None else np.squeeze(total, axis=axis)


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """``logits - logsumexp(logits)`` along ``axis``: the log-probabilities of a softmax."""
    return logits - np.expand_dims(logsumexp(logits, axis=axis), axis)


def sigmoid_pair(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sig(eta)`` and ``1 - sig(eta)``, each accurate to rounding (no cancellation), from one exponential.

    Parameters
    ----------
    eta : ndarray of any shape

    Returns
    -------
    ndarray, ndarray of ``eta``'s shape
    """
    small = np.exp(-np.abs(eta))  # e^-|eta|: never overflows
    big = 1.0 / (1.0 + small)  # sig(|eta|)
    small *= big  # sig(-|eta|)
    positive = eta >= 0
    return np.where(positive, big, small), np.where(positive, small, big)


def log_sigmoid_pair(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log sig(eta)`` and ``log(1 - sig(eta))``, sharing one ``log1p(exp(-|eta|))``.

    ``log sig(eta) = min(eta, 0) - log1p(e^-|eta|)``, exact for every finite ``eta`` (scipy's ``log_expit``
    computes the same value at about three times the cost).

    Parameters
    ----------
    eta : ndarray of any shape

    Returns
    -------
    ndarray, ndarray of ``eta``'s shape
    """
    tail = np.log1p(np.exp(-np.abs(eta)))
    return np.minimum(eta, 0.0) - tail, np.minimum(-eta, 0.0) - tail


def with_reference(eta: np.ndarray) -> np.ndarray:
    """Prepend the reference category's zero logit.

    Parameters
    ----------
    eta : ndarray of shape (..., K - 1), real or complex

    Returns
    -------
    ndarray of shape (..., K)
    """
    return np.concatenate([np.zeros_like(eta[..., :1]), eta], axis=-1)
