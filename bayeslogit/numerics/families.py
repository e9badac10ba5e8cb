"""Per-sample negative log-likelihoods of the linear predictor.

Conventions
-----------
The linear predictor ``eta`` is always 2-D, of shape (n_samples, M):

* Bernoulli: ``M = 1``; ``eta[:, 0]`` is the logit of ``Pr(w = 1)``.
* Categorical, ``"reference"``: ``M = K - 1``; class 0 has logit 0, ``eta[:, m]`` is the logit of
  class ``m + 1``.
* Categorical, ``"symmetric"``: ``M = K``; ``eta[:, k]`` is the logit of class ``k``.

``y`` holds integer class codes ``0 .. K-1`` of shape (n_samples,); ``weights`` are non-negative
sample weights of shape (n_samples,). Each family's :meth:`derivatives` returns, in one pass and in
log space,

* ``value``: ``sum_i w_i * nll_i`` (a float),
* ``d1``: ndarray (n_samples, M), the derivative of ``w_i * nll_i`` with respect to ``eta[i]``,
* ``d2``: ndarray (n_samples, M, M), its Hessian with respect to ``eta[i]``.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax

from .links import expit, log_expit, sigmoid_variance, with_reference


@dataclass(frozen=True)
class Bernoulli:
    """Bernoulli likelihood with a logit (sigmoid) link: ``nll = log(1 + e^eta) - y * eta``."""

    name = "bernoulli"

    def n_linear_predictors(self, n_classes: int) -> int:
        return 1

    def value(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
        eta = eta[:, 0]
        return float(weights @ (np.logaddexp(0.0, eta) - y * eta))

    def derivatives(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray):
        value = self.value(eta, y, weights)
        eta = eta[:, 0]
        d1 = weights * (expit(eta) - y)
        d2 = weights * sigmoid_variance(eta)
        return value, d1[:, None], d2[:, None, None]

    def probabilities(self, eta: np.ndarray) -> np.ndarray:
        """``Pr(w = 1)`` of shape (n_samples,) from ``eta`` of shape (n_samples, 1)."""
        return expit(eta[:, 0])

    def log_probabilities(self, eta: np.ndarray) -> np.ndarray:
        """Log-probabilities of both classes, shape (n_samples, 2), from ``eta`` (n_samples, 1)."""
        return np.column_stack([log_expit(-eta[:, 0]), log_expit(eta[:, 0])])


@dataclass(frozen=True)
class Categorical:
    """Categorical likelihood with a softmax link: ``nll = logsumexp(a) - a_y``.

    Parameters
    ----------
    reference : bool
        True: class 0's logit is fixed at zero and ``eta`` holds the other ``K - 1``.
    """

    reference: bool = True
    name = "categorical"

    def n_linear_predictors(self, n_classes: int) -> int:
        return n_classes - 1 if self.reference else n_classes

    def log_probabilities(self, eta: np.ndarray) -> np.ndarray:
        """Log-probabilities of the K classes, shape (n_samples, K)."""
        logits = with_reference(eta) if self.reference else eta
        return log_softmax(logits, axis=1)

    def value(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
        log_p = self.log_probabilities(eta)
        return float(-weights @ log_p[np.arange(len(y)), y])

    def derivatives(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray):
        log_p = self.log_probabilities(eta)
        rows = np.arange(len(y))
        value = float(-weights @ log_p[rows, y])
        p = np.exp(log_p)
        residual = p.copy()
        residual[rows, y] -= 1.0
        if self.reference:
            p, residual = p[:, 1:], residual[:, 1:]
        d1 = weights[:, None] * residual
        d2 = -p[:, :, None] * p[:, None, :]
        d2[:, np.arange(p.shape[1]), np.arange(p.shape[1])] += p
        d2 *= weights[:, None, None]
        return value, d1, d2

    def probabilities(self, eta: np.ndarray) -> np.ndarray:
        """Class probabilities of shape (n_samples, K)."""
        return np.exp(self.log_probabilities(eta))


FAMILIES = {
    "bernoulli": lambda parameterization: Bernoulli(),
    "categorical": lambda parameterization: Categorical(reference=parameterization == "reference"),
}
"""Family name -> constructor taking the multiclass parameterization."""
