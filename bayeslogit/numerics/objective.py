"""The objective of every fit: the summed negative log-likelihood plus a Gaussian prior term.

Conventions
-----------
``n`` samples, ``p`` features, ``P = p + intercept`` coefficients per linear predictor, ``M`` linear
predictors (1 for Bernoulli, ``K - 1`` or ``K`` for Categorical; see :mod:`.families`).

* The data: a :class:`~bayeslogit.numerics.design.Design` (``X`` of shape (n, p) without an intercept
  column), class codes ``y`` (n,) and weights (n,).
* Coefficients ``B``: ndarray (P, M), the intercept in row 0 when present.
* The optimiser works on a flat vector ``u`` of free coordinates. ``vec(B) = B.ravel(order="F")``
  (class-major: the P coefficients of predictor 0, then of predictor 1, ...) equals ``u`` or, for
  constrained parameterizations, ``T @ u`` with a fixed matrix ``T`` (P*M, n_free).
* Objective: ``f(B) = sum_i w_i nll_i(B) + 1/2 sum_{j,m} precision_j B_jm^2``; maximum likelihood is
  the same with ``precision = 0``.

The data are visited in row blocks: each block's linear predictor, gradient and Hessian contributions
are accumulated (the Hessian through a BLAS symmetric rank-k update into a reused buffer), so the same
code serves data that are evaluated piece by piece, or on a subset of rows.
"""

from dataclasses import dataclass, field

import numpy as np

from .design import Design, add_gram, mirror_upper
from .predictive import total_log_likelihood


@dataclass(frozen=True)
class Objective:
    """Value, gradient and Hessian of the negative log posterior in free coordinates.

    Parameters
    ----------
    family : Bernoulli or Categorical
        From :data:`bayeslogit.numerics.families.FAMILIES`.
    design : Design
    y : ndarray of shape (n_samples,)
        Integer class codes.
    weights : ndarray of shape (n_samples,)
    n_classes : int
    precision : ndarray of shape (P,)
        Prior precision per coefficient row; zeros for maximum likelihood.
    transform : ndarray of shape (P * M, n_free) or None
        Map from free coordinates to ``vec(B)``; None for the identity.
    """

    family: object
    design: Design
    y: np.ndarray
    weights: np.ndarray
    n_classes: int
    precision: np.ndarray
    transform: np.ndarray | None = None
    block_rows: int | None = field(default=None, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        """Shape (P, M) of the coefficient matrix."""
        return self.design.n_coef, self.family.n_linear_predictors(self.n_classes)

    @property
    def n_free(self) -> int:
        P, M = self.shape
        return P * M if self.transform is None else self.transform.shape[1]

    def coef(self, u: np.ndarray) -> np.ndarray:
        """The coefficient matrix ``B`` (P, M) of free coordinates ``u`` (n_free,)."""
        vec = u if self.transform is None else self.transform @ u
        return vec.reshape(self.shape, order="F")

    def subset(self, rows: np.ndarray) -> "Objective":
        """The same objective on a subset of rows, with the weights rescaled to the full sample size."""
        scale = self.weights.sum() / self.weights[rows].sum()
        return Objective(self.family, self.design.take(rows), self.y[rows], self.weights[rows] * scale,
                         self.n_classes, self.precision, self.transform, self.block_rows)

    def _penalty(self, B: np.ndarray) -> float:
        return 0.5 * float(self.precision @ (B**2).sum(axis=1))

    def value(self, u: np.ndarray) -> float:
        """The objective at ``u``."""
        B = self.coef(u)
        total = self._penalty(B)
        for rows in self.design.blocks(self.block_rows):
            eta = self.design.linear_predictor(B, rows)
            total += self.family.value(eta, self.y[rows], self.weights[rows])
        return total

    def values_of_draws(self, draws: np.ndarray) -> np.ndarray:
        """The objective at each of ``S`` coefficient matrices ``draws`` (S, P, M), shape (S,), in bounded memory."""
        loglik = total_log_likelihood(self.family, self.design, self.y, self.weights, draws)
        return 0.5 * (draws**2).sum(axis=2) @ self.precision - loglik

    def __call__(self, u: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Value, gradient (n_free,) and Hessian (n_free, n_free) at ``u``, in one pass over the data."""
        return self._evaluate(u, hessian=True)

    def value_and_gradient(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        """Value and gradient (n_free,) at ``u``, without the cost of the Hessian."""
        return self._evaluate(u, hessian=False)

    def _evaluate(self, u: np.ndarray, hessian: bool):
        B = self.coef(u)
        P, M = self.shape
        start = int(self.design.intercept)
        value = self._penalty(B)
        grad = np.zeros((P, M))
        grams = {(m, l): np.zeros((P, P), order="F") for m in range(M) for l in range(m, M)} if hessian else {}
        buffer = None
        for rows in self.design.blocks(self.block_rows):
            X, y, w = self.design.X[rows], self.y[rows], self.weights[rows]
            v, d1, d2 = self.family.derivatives(self.design.linear_predictor(B, rows), y, w)
            value += v
            grad[start:] += X.T @ d1
            if start:
                grad[0] += d1.sum(axis=0)
            if buffer is None and hessian:
                buffer = np.empty_like(X)
            for (m, l), gram in grams.items():
                add_gram(gram, X, d2[:, m, l], self.design.intercept, buffer, symmetric=m == l)
        grad = (grad + self.precision[:, None] * B).ravel(order="F")
        T = self.transform
        if not hessian:
            return value, grad if T is None else T.T @ grad
        hess = _assemble(grams, M, P)
        hess[np.diag_indices(P * M)] += np.tile(self.precision, M)
        if T is None:
            return value, grad, hess
        return value, T.T @ grad, T.T @ hess @ T


def _assemble(grams: dict, M: int, P: int) -> np.ndarray:
    """The (M*P, M*P) Hessian from its (P, P) blocks ``m <= l`` (diagonal blocks upper-triangular)."""
    hess = np.empty((M, P, M, P))
    for (m, l), gram in grams.items():
        if m == l:
            hess[m, :, m, :] = mirror_upper(gram)
        else:
            hess[m, :, l, :] = gram
            hess[l, :, m, :] = gram.T
    return hess.reshape(M * P, M * P)
