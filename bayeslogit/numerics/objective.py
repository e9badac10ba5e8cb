"""The objective of every fit: the summed negative log-likelihood plus the prior's term.

Conventions
-----------
``n`` samples, ``p`` features, ``P = p + intercept`` coefficients per linear predictor, ``M`` linear
predictors (1 for Bernoulli, ``K - 1`` or ``K`` for Categorical; see :mod:`.families`).

* The data: a :class:`~bayeslogit.numerics.design.Design` (``X`` of shape (n, p) without an intercept
  column), class codes ``y`` (n,) and weights (n,).
* Coefficients ``B``: ndarray (P, M), the intercept in row 0 when present.
* The optimiser works on a flat vector ``u`` of free coordinates. ``vec(B) = B.ravel(order="F")``
  (class-major: the P coefficients of linear predictor 0, then of linear predictor 1, ...) equals ``u`` or, for
  constrained parameterizations, ``T @ u`` with a fixed matrix ``T`` (P*M, n_free).
* Objective: ``f(B) = sum_i w_i nll_i(B) + sum_{j,m} rho(B_jm / s_j)``, the prior's term (see
  :mod:`.prior_densities`: ``rho(z) = z^2 / 2`` for a Gaussian prior of sd ``s_j``); maximum likelihood is the same with
  every ``s_j`` infinite (a flat prior).

The data are visited in row blocks, each block's contributions accumulated, so the same code serves data
evaluated piece by piece, or a subset of rows (:meth:`Objective.subset`). A pass for the gradient alone
(:meth:`Objective.value_and_gradient`) costs a fraction of one with the Hessian (:meth:`Objective.__call__`):
two matrix-vector products per block against ``P^2 M (M + 1) / 2`` multiply-adds per row. On many rows
(:data:`~.fused.FUSED_MIN_ELEMENTS` data elements), and on every row subsample of such data, the passes are
compiled kernels that read each row once on every core (:mod:`.fused` for the value and gradient,
:mod:`.fused_hessian` with the Hessian); on fewer, NumPy's block passes, the Hessian's blocks shared over the cores
(:func:`~.fused.map_in_order`). All add their parts in a fixed order, so results do not depend on the threads.
"""

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from bayeslogit.numerics import fused, fused_hessian
from bayeslogit.numerics.design import Design, add_gram
from bayeslogit.numerics.draw_values import subsample, subsample_size, values_of_draws
from bayeslogit.numerics.prior_densities import GaussianTerm, StudentTTerm, flat_term


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
    prior : GaussianTerm or StudentTTerm
        The prior's term (:mod:`.prior_densities`); for maximum likelihood a flat one
        (:func:`~.prior_densities.flat_term`).
    transform : ndarray of shape (P * M, n_free) or None
        Map from free coordinates to ``vec(B)``; None for the identity.
    block_rows : int, optional
        Rows per block; default the design's (:meth:`~bayeslogit.numerics.design.Design.blocks`).
    fused_rows : bool
        Run the passes fused (:mod:`.fused`) at any number of rows.
    """

    family: object
    design: Design
    y: np.ndarray
    weights: np.ndarray
    n_classes: int
    prior: GaussianTerm | StudentTTerm
    transform: np.ndarray | None = None
    block_rows: int | None = field(default=None, compare=False)
    fused_rows: bool = field(default=False, compare=False)
    """Whether passes run fused whatever the number of rows: a subset of a fused objective (the compiler is loaded)."""
    _last_pass: dict = field(default_factory=dict, init=False, compare=False, repr=False)
    """``"largest"``: ``(B, max |eta|)`` of the last fused pass, which computes it anyway."""

    @property
    def shape(self) -> tuple[int, int]:
        """Shape (P, M) of the coefficient matrix."""
        return self.design.n_coef, self.family.n_linear_predictors(self.n_classes)

    @property
    def convex(self) -> bool:
        """Whether the objective is convex: the log-likelihood is concave, so whether the prior's log density is."""
        return self.prior.convex or bool(self.prior.flat.all())

    @property
    def n_free(self) -> int:
        P, M = self.shape
        return P * M if self.transform is None else self.transform.shape[1]

    def coef(self, u: np.ndarray) -> np.ndarray:
        """The coefficient matrix ``B`` (P, M) of free coordinates ``u`` (n_free,)."""
        vec = u if self.transform is None else self.transform @ u
        return vec.reshape(self.shape, order="F")

    def subset(self, rows: np.ndarray | slice, design: Design | None = None) -> "Objective":
        """The same objective on a subset of rows, with the weights rescaled to the full sample's total.

        The prior term is unchanged, so the subset's objective (and Hessian) estimates the full one. ``design``, the
        subset's own (default ``self.design.take(rows)``), is for :meth:`subset_at`, whose pass fills it.
        """
        weights = self.weights[rows]
        return Objective(
            self.family,
            self.design.take(rows) if design is None else design,
            self.y[rows],
            weights * (self.weights.sum() / weights.sum()),
            self.n_classes,
            self.prior,
            self.transform,
            self.block_rows,
            self._fused,
        )

    def subset_at(
        self, rows: np.ndarray, u: np.ndarray, hessian: np.ndarray | None = None
    ) -> tuple["Objective", tuple]:
        """:meth:`subset` of the rows with indices ``rows`` (n_rows,) and its value, gradient and Hessian at ``u``,
        as ``subset(rows)(u)`` gives them; on data passed fused, the pass that computes them copies the rows
        (:func:`~.fused_hessian.value_gradient_hessian`'s ``gather``), which saves reading them twice.

        Given a ``hessian`` (n_free, n_free), an estimate of the subset's at ``u`` (a smaller subsample's), the pass
        computes the value and gradient only, and ``hessian`` stands in for the Hessian.
        """
        if not self._fused:
            subset = self.subset(rows)
            return subset, subset(u) if hessian is None else (*subset.value_and_gradient(u), hessian)
        subset = self.subset(rows, Design(np.empty((len(rows), self.design.X.shape[1])), self.design.intercept))
        derivatives = subset._derivatives(u, gather=(self.design.X, rows), with_hessian=hessian is None)
        return subset, derivatives if hessian is None else (*derivatives[:2], hessian)

    def with_prior(self, prior) -> "Objective":
        """The same likelihood under another prior term with the same flat rows (so the same free coordinates)."""
        return replace(self, prior=prior)

    @property
    def _fused(self) -> bool:
        """Whether the passes run compiled (:mod:`.fused`, :mod:`.fused_hessian`): on large data (or a subset of it),
        in the package's blocks."""
        P, M = self.shape
        size = fused.FUSED_MIN_ELEMENTS if self.fused_rows else self.design.n_samples * P * M
        return self.block_rows is None and fused.fused_applies(size, self.family)

    @cached_property
    def _fused_data(self) -> tuple:
        """The leading arguments of :func:`.fused.value_and_gradient`."""
        unit_weights = bool(np.all(self.weights == 1.0))
        codes = self.y.astype(np.int64, copy=False)  # the kernels' type, converted once (labels' codes may be int8)
        return self.family, self.design.X, self.design.intercept, codes, self.weights, unit_weights

    def largest_linear_predictor(self, B: np.ndarray) -> float:
        """``max |eta|`` over the rows and linear predictors at ``B`` (P, M) (NaN if any is): from the last pass where
        it was at ``B``, else from a pass of its own."""
        at, largest = self._last_pass.get("largest", (None, None))
        if at is not None and np.array_equal(at, B):
            return largest
        return self.design.largest_linear_predictor(B)

    def penalty(self, B: np.ndarray) -> float:
        """The prior term of coefficients ``B`` (P, M): minus the log prior up to a constant; 0 for ML."""
        return self.prior.penalty(B)

    def _free(self, vec: np.ndarray) -> np.ndarray:
        """A gradient in ``vec(B)`` coordinates (P*M,) mapped to free coordinates (n_free,)."""
        return vec if self.transform is None else self.transform.T @ vec

    def value(self, u: np.ndarray) -> float:
        """The objective at ``u``."""
        B = self.coef(u)
        total = self.penalty(B)
        if self._fused:
            likelihood, _, largest = fused.value_and_gradient(*self._fused_data, B, with_gradient=False)
            self._last_pass["largest"] = (B.copy(), largest)
            return total + likelihood
        with self.design.one_blas_thread(B.shape[1]):
            for rows in self.design.blocks(self.block_rows):
                eta = self.design.linear_predictor(B, rows)
                total += self.family.value(eta, self.y[rows], self.weights[rows])
        return total

    def least_likely_other_class(self, u: np.ndarray) -> float:
        """``min w_i Pr_i(k)`` at ``u`` over the rows of positive weight and the classes ``k`` other than theirs.

        A sign of separation: where Newton's decrement ``g^T H^-1 g / 2`` is at most ``tol``, a separated
        problem has this at most ``2 tol``. Along a separating direction ``d``, with margins
        ``m_ik = z_i^T (d_{y_i} - d_k) >= 0`` (some positive), ``g^T d = -sum w_i p_ik m_ik`` and
        ``d^T H d <= sum w_i p_ik m_ik^2``, so ``g^T H^-1 g >= (g^T d)^2 / d^T H d >= sum w_i p_ik m_ik / max m``,
        which is at least ``w_i p_ik`` for the row and class of largest margin.
        """
        B = self.coef(u)
        least = np.inf
        for rows in self.design.blocks(self.block_rows):
            counted = self.weights[rows] > 0
            log_p = self.family.log_probabilities(self.design.linear_predictor(B, rows))[counted]
            log_p[np.arange(len(log_p)), self.y[rows][counted]] = np.inf
            least = min(least, float((log_p.min(axis=1) + np.log(self.weights[rows][counted])).min(initial=np.inf)))
        return float(np.exp(least))

    def values_of_draws(self, draws: np.ndarray) -> np.ndarray:
        """The objective at each of ``S`` coefficient matrices ``draws`` (S, P, M), shape (S,), in bounded time and
        memory: exact on few rows, else the expansion about the draws' mean plus a subsample's remainder
        (:func:`~bayeslogit.numerics.draw_values.values_of_draws`, the rows drawn as one block)."""
        return values_of_draws(self, draws, self.design.n_samples, self._expansion_and_subsample)

    def _expansion_and_subsample(self, centre: np.ndarray | None) -> tuple:
        """The negative log-likelihood's value, gradient and Hessian in ``vec(B)`` coordinates at ``centre`` (P, M)
        over all rows (None without a centre), and the subsample of the rows (``X``, ``y``, ``weights``)."""
        n = self.design.n_samples
        rows = subsample(0, subsample_size(n, n), self.design.X, self.y, self.weights)
        if centre is None:
            return None, rows
        likelihood = replace(self, prior=flat_term(self.shape[0]), transform=None)
        return likelihood(centre.ravel(order="F")), rows

    def value_and_gradient(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        """Value and gradient (n_free,) at ``u``, in one pass over the data without the Hessian's cost: the
        family's first derivatives with respect to ``eta`` (see ``family.first_derivatives``), then one product
        with the design per block."""
        B = self.coef(u)
        value = self.penalty(B)
        grad = self.prior.gradient(B)
        if self._fused:
            likelihood, likelihood_grad, largest = fused.value_and_gradient(*self._fused_data, B, with_gradient=True)
            self._last_pass["largest"] = (B.copy(), largest)
            return value + likelihood, self._free((grad + likelihood_grad).ravel(order="F"))
        with self.design.one_blas_thread(B.shape[1]):
            for rows in self.design.blocks(self.block_rows):
                eta = self.design.linear_predictor(B, rows)
                v, d1 = self.family.first_derivatives(eta, self.y[rows], self.weights[rows])
                value += v
                grad += self.design.transpose_product(d1, rows)
        return value, self._free(grad.ravel(order="F"))

    def __call__(self, u: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Value, gradient (n_free,) and Hessian (n_free, n_free) at ``u``, in one pass over the data: fused
        (:mod:`.fused_hessian`) on large data, else NumPy's passes over blocks of rows."""
        return self._derivatives(u)

    def _derivatives(
        self, u: np.ndarray, gather: tuple | None = None, with_hessian: bool = True
    ) -> tuple[float, np.ndarray, np.ndarray | None]:
        """:meth:`__call__`'s work; ``gather`` and ``with_hessian`` as for
        :func:`~.fused_hessian.value_gradient_hessian` (fused only; without the Hessian, None in its place)."""
        B = self.coef(u)
        P, M = self.shape
        value = self.penalty(B)
        grad = self.prior.gradient(B)
        if self._fused:
            likelihood, likelihood_grad, hess, largest = fused_hessian.value_gradient_hessian(
                *self._fused_data[:5], B, gather, with_hessian
            )
            self._last_pass["largest"] = (B.copy(), largest)
            value, grad = value + likelihood, grad + likelihood_grad
        else:
            value, grad, hess = self._block_passes(B, value, grad)
        if hess is None:
            return value, self._free(grad.ravel(order="F")), None
        hess[np.diag_indices(P * M)] += self.prior.hessian_diagonal(B).ravel(order="F")
        T = self.transform
        return value, self._free(grad.ravel(order="F")), hess if T is None else T.T @ hess @ T

    def _block_passes(self, B: np.ndarray, value: float, grad: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """``value``, ``grad`` (P, M) plus the likelihood's, and its Hessian (M * P, M * P), from NumPy's passes over
        the blocks of rows, shared by the threads of :func:`.fused.map_in_order` and added in the blocks' order."""
        P, M = self.shape
        hess = np.zeros((M * P, M * P))

        def block_terms(rows: slice) -> tuple:
            """The block's value, gradient (P, M) and Hessian (M * P, M * P), on one BLAS thread."""
            eta = self.design.linear_predictor(B, rows)
            v, d1, a, b = self.family.hessian_parts(eta, self.y[rows], self.weights[rows])
            return (
                v,
                self.design.transpose_product(d1, rows),
                block_hessian(self.design.X[rows], a, b, self.design.intercept),
            )

        with self.design.one_blas_thread(P * M):
            for v, block_grad, block_hess in fused.map_in_order(block_terms, list(self.design.blocks(self.block_rows))):
                value += v
                grad += block_grad
                hess += block_hess
        return value, grad, hess


def block_hessian(X: np.ndarray, a: np.ndarray, b: np.ndarray | None, intercept: bool) -> np.ndarray:
    """``sum_i (diag(a_i) - b_i b_i^T) kron z_i z_i^T`` of shape (M * P, M * P), ``z_i = [1, x_i]``, linear
    predictor major (the ``(m, k)`` block is rows ``m P ..``, columns ``k P ..``), exactly symmetric.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    a : ndarray of shape (n, M), non-negative
        Each linear predictor's own weights: a symmetric Gram matrix per linear predictor.
    b : ndarray of shape (n, M) or None
        The rank-one part of every row (None: none): one Gram matrix of the rows ``b_i kron z_i``, for all the
        class pairs at once (the categorical likelihood's ``w (diag(p) - p p^T)``).
    """
    n, M = a.shape
    P = X.shape[1] + intercept
    hess = np.zeros((M, P, M, P))
    for m in range(M):
        add_gram(hess[m, :, m, :], X, a[:, m], intercept, symmetric=True)
    hess = hess.reshape(M * P, M * P)
    if b is not None:
        rows = np.empty((n, M, P))
        if intercept:
            rows[:, :, 0] = b
        np.multiply(b[:, :, None], X[:, None, :], out=rows[:, :, int(intercept) :])
        rows = rows.reshape(n, M * P)
        with np.errstate(over="ignore", invalid="ignore"):
            outer = rows.T @ rows  # NumPy's symmetric rank-k update
        hess -= np.triu(outer) + np.triu(outer, 1).T  # exactly symmetric
    return hess
