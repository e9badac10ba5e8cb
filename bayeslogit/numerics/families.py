"""The two likelihood families and everything that differs between them.

Conventions
-----------
The linear predictor ``eta`` has shape (..., M): one row per sample (and per draw, where draws are
stacked), ``M`` linear predictors per row:

* Bernoulli: ``M = 1``; ``eta[..., 0]`` is the logit of ``Pr(w = 1)``.
* Categorical, reference parameterization: ``M = K - 1``; class 0 has logit 0 and ``eta[..., m]`` is the
  logit of class ``m + 1``.
* Categorical, symmetric parameterization: ``M = K``; ``eta[..., k]`` is the logit of class ``k``.

Every family maps ``eta`` to the ``K`` class logits (:meth:`class_logits`, zeros for a reference class);
applied to a coefficient matrix ``B`` of shape (P, M) the same map gives the class coefficient vectors
``theta`` of shape (P, K), from which the decision boundaries between pairs of classes follow.
``y`` holds integer class codes ``0 .. K-1`` of shape (n_samples,); ``weights`` are non-negative sample
weights of shape (n_samples,). :meth:`derivatives` returns, in one pass and in log space,

* ``value``: ``sum_i w_i * nll_i`` (a float),
* ``d1``: ndarray (n_samples, M), the derivative of ``w_i * nll_i`` with respect to ``eta[i]``,
* ``d2``: ndarray (n_samples, M, M), its Hessian with respect to ``eta[i]``.

:meth:`hessian_parts` gives the same Hessian as ``diag(a_i) - b_i b_i^T`` (``a``, ``b`` of shape (n_samples, M)),
the form in which the objective's pass sums it against the rows (one Gram matrix per linear predictor, and one for
the rank-one parts of every pair at once).

The families are also what the rest of the package asks where the two differ: the labels of the
coefficient columns, whether outputs keep a class axis (:meth:`collapse`), the PyTensor log-likelihood of
the sampler (:meth:`log_likelihood_tensor`, written with the tensor module it is handed, so that this
module imports nothing but NumPy and SciPy) and the constraint of the symmetric parameterization.
"""

from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space

from bayeslogit.exceptions import OptionError
from bayeslogit.numerics.links import (
    log_sigmoid,
    log_sigmoid_pair,
    log_softmax,
    sigmoid_pair,
    softplus,
    with_reference,
)

PARAMETERIZATIONS = ("reference", "symmetric")


class Family:
    """What both families share: class pairs and the geometry of their decision boundaries."""

    name: str
    coef_dims: tuple
    """ArviZ dims of a coefficient matrix: ``("predictor",)`` or ``("predictor", "class")``."""
    pair_dims: tuple
    """Dims of the class-pair axis of boundary quantities: ``()`` (one pair, dropped) or ``("pair",)``."""

    def log_probabilities(self, eta: np.ndarray) -> np.ndarray:
        """Class log-probabilities of shape (..., K) from ``eta`` of shape (..., M)."""
        return log_softmax(self.class_logits(eta), axis=-1)

    def probabilities(self, eta: np.ndarray) -> np.ndarray:
        """Class probabilities of shape (..., K) from ``eta`` of shape (..., M)."""
        return np.exp(self.log_probabilities(eta))

    def probability_sums(self, eta: np.ndarray) -> np.ndarray:
        """Class probabilities summed over draws: ``eta`` (n, s, M) -> (n, K), each sum accurate to about
        ``s * eps`` in absolute terms (a small class's sum can lose relative precision)."""
        return np.einsum("rsk->rk", self.probabilities(eta))

    def log_likelihood(self, eta: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Log-probability of each row's class: ``eta`` of shape (n, ..., M), codes ``y`` (n,); shape (n, ...)."""
        log_p = self.log_probabilities(eta)
        codes = y.reshape(-1, *[1] * (log_p.ndim - 1))
        return np.take_along_axis(log_p, codes, axis=-1)[..., 0]

    def class_pairs(self, n_classes: int) -> list[tuple[int, int]]:
        """Index pairs ``(j, k)``, ``j < k``, of the classes whose boundaries are reported."""
        return [(j, k) for j in range(n_classes) for k in range(j + 1, n_classes)]

    def pair_directions(self, B: np.ndarray, n_classes: int) -> np.ndarray:
        """Directions ``theta_k - theta_j`` of every class pair, shape (..., P, n_pairs), of ``B`` (..., P, M).

        ``theta_k - theta_j`` is the coefficient vector of the log-odds of class ``k`` against class ``j``;
        their boundary is where it is zero.
        """
        theta = self.class_logits(B)
        return np.stack([theta[..., k] - theta[..., j] for j, k in self.class_pairs(n_classes)], axis=-1)

    def flat_labels(self, coef_names, columns) -> list[str]:
        """Labels of ``vec(B)`` (class-major): ``name[class]`` for each column label and coefficient name."""
        return [f"{name}[{label}]" for label in columns for name in coef_names]

    def columns(self, classes) -> list:
        """Labels of the M coefficient columns, given the K class labels."""
        return list(classes[len(classes) - self.n_linear_predictors(len(classes)) :])

    def free_transform(self, flat_prior: np.ndarray, n_classes: int) -> np.ndarray | None:
        """Map (P*M, n_free) from the optimiser's free coordinates to ``vec(B)``; None for the identity."""
        return None


@dataclass(frozen=True)
class Bernoulli(Family):
    """Bernoulli likelihood with a logit (sigmoid) link: ``nll = log(1 + e^eta) - y * eta``.

    One linear predictor: coefficient matrices have one column, which :meth:`collapse` drops from what
    users see (a Series of coefficients, ``Pr(w = 1)`` of shape (n,), one boundary).
    """

    name = "bernoulli"
    coef_dims = ("predictor",)
    pair_dims = ()

    parameterizations = ("reference",)

    @classmethod
    def with_parameterization(cls, parameterization: str) -> "Bernoulli":
        if parameterization not in cls.parameterizations:
            raise OptionError(
                f"parameterization={parameterization!r} is for the categorical likelihood; a "
                "Bernoulli model has one coefficient vector. Pass likelihood='categorical' too"
            )
        return cls()

    def check_classes(self, classes) -> None:
        if len(classes) != 2:
            raise OptionError(
                f"likelihood='bernoulli' needs two classes; y has {len(classes)}: "
                f"{list(classes)}. Use likelihood='categorical'"
            )

    def n_linear_predictors(self, n_classes: int) -> int:
        return 1

    def class_logits(self, eta: np.ndarray) -> np.ndarray:
        """``[0, eta]`` of shape (..., 2)."""
        return with_reference(eta)

    def log_probabilities(self, eta: np.ndarray) -> np.ndarray:
        """Log-probabilities of both classes, shape (..., 2), from ``eta`` (..., 1)."""
        log_p1, log_p0 = log_sigmoid_pair(eta[..., 0])
        return _class_last(log_p0, log_p1)

    def probabilities(self, eta: np.ndarray) -> np.ndarray:
        """Probabilities of both classes, shape (..., 2), each accurate to rounding, from ``eta`` (..., 1)."""
        p1, p0 = sigmoid_pair(eta[..., 0])
        return _class_last(p0, p1)

    def probability_sums(self, eta: np.ndarray) -> np.ndarray:
        """``sum_s Pr(w = 0)`` and ``sum_s Pr(w = 1)`` over the draws of ``eta`` (n, s, 1), shape (n, 2); the
        sum for class 0 is ``s`` less that for class 1, accurate to ``s * eps`` in absolute terms."""
        ones = np.negative(eta[..., 0], dtype=np.result_type(eta.dtype, np.float64))  # then 1 / (1 + e^-eta) in place
        with np.errstate(over="ignore"):  # exp(-eta) = inf for eta < -709 gives Pr(w = 1) = 0, as it should
            np.exp(ones, out=ones)
        ones += 1.0
        ones = np.reciprocal(ones, out=ones).sum(axis=1)
        return np.column_stack([eta.shape[1] - ones, ones])

    def log_likelihood(self, eta: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``log Pr(y_i | eta)``: ``eta`` of shape (n, ..., 1), codes ``y`` (n,); shape (n, ...)."""
        signed = eta[..., 0] * (2.0 * y - 1.0).reshape(-1, *[1] * (eta.ndim - 2))  # log sig(signed) is the answer
        return log_sigmoid(signed, out=signed)

    def value(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
        """``sum_i w_i (log(1 + e^eta_i) - y_i eta_i)`` of ``eta`` (n, 1)."""
        eta = eta[:, 0]
        return float(weights @ (softplus(eta) - y * eta))

    def first_derivatives(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray):
        """``value`` and ``d1`` (n, 1) without the Hessian's cost: one ``exp`` and one ``log1p`` a row."""
        value, d1, _ = self._derivative_parts(eta[:, 0], y, weights, with_variance=False)
        return value, d1[:, None]

    def derivatives(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray):
        """``value``, ``d1`` (n, 1) and ``d2 = w sig(eta) (1 - sig(eta))`` (n, 1, 1), from the same exponential."""
        value, d1, variance = self._derivative_parts(eta[:, 0], y, weights)
        return value, d1[:, None], (weights * variance)[:, None, None]

    def hessian_parts(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray):
        """``value``, ``d1`` (n, 1) and the Hessian in ``eta`` as ``diag(a) - b b^T``: ``a = d2`` (n, 1), ``b`` None."""
        value, d1, variance = self._derivative_parts(eta[:, 0], y, weights)
        return value, d1[:, None], (weights * variance)[:, None], None

    @staticmethod
    def _derivative_parts(eta: np.ndarray, y: np.ndarray, weights: np.ndarray, with_variance: bool = True):
        """The value, ``d1`` (n,) and ``sig(eta) (1 - sig(eta))`` (n,; None unless ``with_variance``) of logits
        ``eta`` (n,), all from one
        exponential, ``e^-|eta|``: :func:`~.links.softplus` and :func:`~.links.sigmoid_pair` written in place, with
        few temporaries (the sampler's gradient on small data costs about its NumPy calls)."""
        eta = eta.astype(np.result_type(eta.dtype, np.float64), copy=False)
        decay = np.abs(eta)
        np.negative(decay, out=decay)
        np.exp(decay, out=decay)  # e^-|eta|: never overflows
        value = float(weights @ (np.maximum(eta, 0.0) + np.log1p(decay) - y * eta))  # softplus(eta) - y eta
        big = decay + 1.0
        np.reciprocal(big, out=big)  # sig(|eta|)
        decay *= big  # sig(-|eta|)
        p1 = np.where(eta >= 0, big, decay)
        variance = big * decay if with_variance else None
        p1 -= y
        p1 *= weights
        return value, p1, variance

    def collapse(self, values: np.ndarray) -> np.ndarray:
        """Drop the trailing axis of length one (linear predictors, or class pairs)."""
        return values[..., 0]

    def flat_labels(self, coef_names, columns) -> list[str]:
        return list(coef_names)

    def output_linear_predictor(self, eta: np.ndarray) -> np.ndarray:
        """A fit's ``linear_predictor``: the logit of ``Pr(w = 1)``, shape (n,), from ``eta`` (n, 1)."""
        return eta[:, 0]

    def output_probabilities(self, proba: np.ndarray) -> np.ndarray:
        """What a table of one row's probabilities shows (``predict_interval``, the prior predictive): ``Pr(w = 1)``
        alone, shape (n, ...), from the class probabilities (n, 2, ...). ``predict_proba`` keeps both columns."""
        return proba[:, 1]

    def log_likelihood_tensor(self, eta, y: np.ndarray, pt):
        """Per-row log-likelihood (n,) of ``eta`` (n, 1) in PyTensor, ``pt`` being ``pytensor.tensor``."""
        return y * eta[:, 0] - pt.softplus(eta[:, 0])


@dataclass(frozen=True)
class Categorical(Family):
    """Categorical likelihood with a softmax link: ``nll = logsumexp(a) - a_y``.

    Parameters
    ----------
    reference : bool
        True: class 0's logit is fixed at zero and ``eta`` holds the other ``K - 1``. False (symmetric):
        one column per class; the softmax is unchanged by adding a vector to every class, so every
        coefficient row whose prior is flat is constrained to sum to zero over the classes.
    """

    reference: bool = True
    name = "categorical"
    coef_dims = ("predictor", "class")
    pair_dims = ("pair",)

    parameterizations = {"reference": True, "symmetric": False}  # name -> whether class 0 is the reference

    @classmethod
    def with_parameterization(cls, parameterization: str) -> "Categorical":
        return cls(reference=cls.parameterizations[parameterization])

    def check_classes(self, classes) -> None:
        """Any number of classes of at least two (checked with the labels) is a categorical model."""

    def n_linear_predictors(self, n_classes: int) -> int:
        return n_classes - 1 if self.reference else n_classes

    def class_logits(self, eta: np.ndarray) -> np.ndarray:
        """The K class logits (..., K), zeros for the reference class."""
        return with_reference(eta) if self.reference else eta

    def value(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
        return self._value_and_log_probabilities(eta, y, weights)[0]

    def first_derivatives(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray):
        """``value`` and ``d1`` (n, M) without the Hessian's cost."""
        value, d1, _ = self._softmax_pass(eta, y, weights, keep_probabilities=False)
        return value, d1

    def hessian_parts(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray):
        """``value``, ``d1`` (n, M) and the Hessian in ``eta`` as ``diag(a) - b b^T`` per row: ``a = w p`` and
        ``b = sqrt(w) p`` (n, M), ``p`` the probabilities of the classes with a linear predictor. Summed over rows
        against ``z z^T``, the two parts are a Gram matrix per class and one of all classes at once."""
        value, d1, p = self._softmax_pass(eta, y, weights, keep_probabilities=True)
        return value, d1, weights[:, None] * p, np.sqrt(weights)[:, None] * p

    def derivatives(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray):
        value, d1, p = self._softmax_pass(eta, y, weights, keep_probabilities=True)
        d2 = -p[:, :, None] * p[:, None, :]
        d2[:, np.arange(p.shape[1]), np.arange(p.shape[1])] += p
        d2 *= weights[:, None, None]
        return value, d1, d2

    def _value_and_log_probabilities(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray):
        """``sum_i w_i nll_i`` and the class log-probabilities (n, K) of ``eta`` (n, M)."""
        log_p = self.log_probabilities(eta)
        return float(-weights @ log_p[np.arange(len(y)), y]), log_p

    def _softmax_pass(self, eta: np.ndarray, y: np.ndarray, weights: np.ndarray, keep_probabilities: bool):
        """What the derivatives share, from one softmax: the value, ``d1 = w (p - onehot(y))`` (n, M) and, when
        ``keep_probabilities``, the probabilities ``p`` (n, M) of the classes with a linear predictor (else None)."""
        value, log_p = self._value_and_log_probabilities(eta, y, weights)
        p = np.exp(log_p)
        residual = p.copy() if keep_probabilities else p
        residual[np.arange(len(y)), y] -= 1.0
        free = slice(1, None) if self.reference else slice(None)
        return value, weights[:, None] * residual[:, free], p[:, free] if keep_probabilities else None

    def collapse(self, values: np.ndarray) -> np.ndarray:
        """Keep the class (or class-pair) axis."""
        return values

    def output_linear_predictor(self, eta: np.ndarray) -> np.ndarray:
        """A fit's ``linear_predictor``: the class logits (n, K), zeros for a reference class."""
        return self.class_logits(eta)

    def output_probabilities(self, proba: np.ndarray) -> np.ndarray:
        """Every class's probability, as they are (n, K, ...)."""
        return proba

    def log_likelihood_tensor(self, eta, y: np.ndarray, pt):
        """Per-row log-likelihood (n,) of ``eta`` (n, M) of static shape in PyTensor (``pt``)."""
        if self.reference:
            eta = pt.concatenate([pt.zeros((eta.shape[0], 1)), eta], axis=1)
        return pt.special.log_softmax(eta, axis=1)[pt.arange(eta.shape[0]), y]

    def free_transform(self, flat_prior: np.ndarray, n_classes: int) -> np.ndarray | None:
        """Symmetric parameterization: the rows marked in ``flat_prior`` (P,) sum to zero over the K classes,
        parameterized by an orthonormal basis of that subspace. None (the identity) for a reference class."""
        if self.reference:
            return None
        P = len(flat_prior)
        basis = null_space(np.ones((1, n_classes)))  # (K, K-1)
        columns = []
        for j in range(P):
            for direction in basis.T if flat_prior[j] else np.eye(n_classes):
                column = np.zeros((P, n_classes))
                column[j] = direction
                columns.append(column.ravel(order="F"))
        return np.column_stack(columns)


def _class_last(*columns: np.ndarray) -> np.ndarray:
    """The arrays stacked on a last axis, each stored contiguously (a view of a class-first array), so that
    sums over the other axes run over contiguous memory."""
    return np.moveaxis(np.stack(columns), 0, -1)


FAMILIES = {"bernoulli": Bernoulli.with_parameterization, "categorical": Categorical.with_parameterization}
"""Family name -> constructor taking the multiclass parameterization (one of :data:`PARAMETERIZATIONS`)."""
