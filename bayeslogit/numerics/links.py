"""Inverse links of the two families, computed in log space.

The sigmoid and its logarithm are taken from :mod:`scipy.special`, whose implementations never
overflow (as is the log-softmax the categorical family uses); this module only adds the few derived
quantities the likelihoods need.
"""

import numpy as np
from scipy.special import expit, log_expit

__all__ = ["expit", "log_expit", "sigmoid_variance", "with_reference"]


def sigmoid_variance(eta: np.ndarray) -> np.ndarray:
    """Return ``sig(eta) * (1 - sig(eta))`` without underflow to NaN.

    Parameters
    ----------
    eta : ndarray of any shape
        Logits.

    Returns
    -------
    ndarray of the same shape, in ``[0, 1/4]``.
    """
    return np.exp(log_expit(eta) + log_expit(-eta))


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
