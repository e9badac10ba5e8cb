"""Inverse links of the two families and their logarithms, in NumPy, stable for every finite input.

The sigmoid, its logarithm, the log-softmax and log-sum-exp are written here from ``exp`` and ``log1p`` of
non-positive numbers (never overflowing), rather than taken from :mod:`scipy.special`, whose import would be a
large share of a maximum-likelihood fit of small data (``benchmarks/whole_process.py`` times such a fit in a whole
process).
"""

import numpy as np

__all__ = [
    "expit",
    "log_sigmoid",
    "log_sigmoid_pair",
    "log_softmax",
    "logsumexp",
    "sigmoid_pair",
    "softplus",
    "softplus_tail",
    "with_reference",
]


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


def sigmoid_pair(eta: np.ndarray, decay: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``sig(eta)`` and ``1 - sig(eta)``, each accurate to rounding (no cancellation), from one exponential.

    Parameters
    ----------
    eta : ndarray of any shape
    decay : ndarray of ``eta``'s shape, optional
        ``e^-|eta|`` when already at hand (as for :func:`softplus_tail`); it is overwritten.

    Returns
    -------
    ndarray, ndarray of ``eta``'s shape
    """
    small = np.exp(-np.abs(eta)) if decay is None else decay  # e^-|eta|: never overflows
    big = 1.0 / (1.0 + small)  # sig(|eta|)
    small *= big  # sig(-|eta|)
    positive = eta >= 0
    return np.where(positive, big, small), np.where(positive, small, big)


def softplus_tail(eta: np.ndarray, decay: np.ndarray | None = None) -> np.ndarray:
    """``log1p(e^-|eta|)``, a new array of ``eta``'s shape: what ``log sig(eta)`` and ``log(1 - sig(eta))`` share
    beyond ``min(+-eta, 0)`` (see :func:`log_sigmoid`); ``decay`` is ``e^-|eta|`` when already at hand."""
    if decay is not None:
        return np.log1p(decay)
    tail = np.abs(eta)
    np.negative(tail, out=tail)
    np.exp(tail, out=tail)  # e^-|eta|: never overflows
    return np.log1p(tail, out=tail)


def log_sigmoid(eta: np.ndarray, tail: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """``log sig(eta) = min(eta, 0) - log1p(e^-|eta|)``, exact for every finite ``eta`` (the value of scipy's
    ``log_expit``); never ``log`` of a sigmoid.

    Parameters
    ----------
    eta : ndarray of any shape
    tail : ndarray of ``eta``'s shape, optional
        ``softplus_tail(eta)`` (which ``log sig(-eta)`` shares) when already at hand.
    out : ndarray of ``eta``'s shape, optional
        Where to write the result (``eta`` itself will do, to save memory on many draws).
    """
    tail = softplus_tail(eta) if tail is None else tail
    return np.subtract(np.minimum(eta, 0.0, out=out), tail, out=out)


def softplus(eta: np.ndarray, tail: np.ndarray | None = None) -> np.ndarray:
    """``log(1 + e^eta) = -log sig(-eta)``, exact for every finite ``eta``: the Bernoulli negative log-likelihood of
    ``y = 0`` (``tail``: ``softplus_tail(eta)`` when already at hand)."""
    return -log_sigmoid(-eta, tail)


def log_sigmoid_pair(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log sig(eta)`` and ``log(1 - sig(eta)) = log sig(-eta)``, sharing one :func:`softplus_tail`.

    Parameters
    ----------
    eta : ndarray of any shape

    Returns
    -------
    ndarray, ndarray of ``eta``'s shape
    """
    tail = softplus_tail(eta)
    return log_sigmoid(eta, tail), log_sigmoid(-eta, tail)


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
