"""The fixed data of a categorical multilevel model, in the form penalised IRLS (:mod:`.group_laplace`) takes.

Conventions
-----------
``n`` rows with class codes ``y_i`` in ``0 .. K-1`` (class 0 the reference), ``M = K - 1`` linear predictors per row
laid out as ``n M`` pseudo-rows (see :mod:`.categorical_blocks`), ``p`` fixed-effect columns. The fixed effects
``B`` (p, M) are held as ``vec(B)`` class-major (``B.ravel(order="F")``, as the flat models' coefficients), so that
the pseudo-rows' design is ``X kron``-expanded: ``X_full[(i, c), (d, j)] = [c = d] X[i, j]``, shape (n M, p M).
Row ``i``'s deviance is ``-2 log softmax(0, eta_i)[y_i]``; its weight the (M, M) matrix ``diag(p_i) - p_i p_i^T``
of the non-reference classes' probabilities ``p_i``.

With two classes (``M = 1``) every quantity is the Bernoulli one of :class:`~.group_laplace.GroupData`.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bayeslogit.numerics.categorical_blocks import CategoricalBlockSystem
from bayeslogit.numerics.group_design import GroupTerm


@dataclass(frozen=True, eq=False)
class CategoricalGroupData:
    """A categorical multilevel model's data.

    Attributes
    ----------
    design : ndarray of shape (n, p)
        The fixed effects' design, an intercept column included where there is one.
    codes : ndarray of shape (n,), int
        Each row's class, ``0 <= code < K``.
    system : CategoricalBlockSystem
        The group terms, one per non-reference class.
    """

    design: np.ndarray
    codes: np.ndarray
    system: CategoricalBlockSystem

    log_choose = 0.0  # one draw per row: no multinomial coefficients

    @property
    def n_classes(self) -> int:
        """``K``."""
        return self.system.n_classes + 1

    @property
    def n_rows(self) -> int:
        return len(self.codes)

    @cached_property
    def X(self) -> np.ndarray:
        """The pseudo-rows' fixed design (n M, p M)."""
        M = self.system.n_classes
        n, p = self.design.shape
        return np.einsum("ij,cd->icdj", self.design, np.eye(M)).reshape(n * M, M * p)

    @cached_property
    def outcomes(self) -> np.ndarray:
        """The non-reference classes' indicators (n, M)."""
        return (self.codes[:, None] == np.arange(1, self.n_classes)).astype(float)

    def row_state(self, eta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """At the pseudo-rows' linear predictors ``eta`` (n M,): the summed deviance, the probabilities ``p``
        (n M,) of the non-reference classes and the rows' weights (n, M, M)."""
        E = eta.reshape(self.n_rows, -1)
        top = np.maximum(E.max(axis=1), 0.0)
        log_norm = top + np.log(np.exp(-top) + np.exp(E - top[:, None]).sum(axis=1))  # logsumexp(0, E_i)
        P = np.exp(E - log_norm[:, None])
        W = P[:, :, None] * (np.eye(E.shape[1]) - P[:, None, :])
        deviance = -2.0 * float(np.sum(self.outcomes * E) - np.sum(log_norm))
        return deviance, P.ravel(), W

    def residual(self, p: np.ndarray) -> np.ndarray:
        """``y - p`` (n M,): minus half the deviance's gradient in ``eta``."""
        return self.outcomes.ravel() - p

    def weigh(self, W: np.ndarray, A: np.ndarray) -> np.ndarray:
        """``W A`` for pseudo-row values ``A`` of shape (n M,) or (n M, c), ``W`` block diagonal (n, M, M)."""
        n, M = W.shape[:2]
        if A.ndim == 1:
            return np.einsum("icd,id->ic", W, A.reshape(n, M)).ravel()
        return np.einsum("icd,idx->icx", W, A.reshape(n, M, -1)).reshape(A.shape)

    def logdet_sensitivity(self, mode) -> np.ndarray:
        """``d log det H / d eta`` (n M,) at a factored mode: ``tr(L_i dW_i / d eta_ic)`` with ``L_i`` the row's
        leverage block (M, M); with ``dp_l / d eta_c = p_l ([l = c] - p_c)`` it is ``p_c (a_c - p . a)``,
        ``a = diag(L_i) - 2 L_i p_i``."""
        L = mode.factor.leverage()
        P = mode.p.reshape(self.n_rows, -1)
        a = np.diagonal(L, axis1=1, axis2=2) - 2.0 * np.einsum("icd,id->ic", L, P)
        return (P * (a - np.sum(P * a, axis=1, keepdims=True))).ravel()

    def separation_rows(self) -> tuple[np.ndarray, np.ndarray, int]:
        """The rows (design, class codes, number of classes) whose separation makes the estimate infinite."""
        return self.design, self.codes, self.n_classes


def class_terms(term: GroupTerm, classes) -> tuple[GroupTerm, ...]:
    """A term's per-class copies, one for each non-reference class of ``classes`` (K labels), factor labelled
    ``"g (class B)"``: each level's effects for each class, independent across classes."""
    return tuple(
        GroupTerm(f"{term.factor} (class {label})", term.columns, term.levels, term.codes, term.values, term.correlated)
        for label in list(classes)[1:]
    )


def categorical_group_data(X: np.ndarray, codes: np.ndarray, terms) -> CategoricalGroupData:
    """The data of rows with design ``X`` (n, p), class codes ``codes`` (n,) and one grouping factor's per-class
    ``terms`` (:func:`class_terms`)."""
    return CategoricalGroupData(np.asarray(X, float), np.asarray(codes, int), CategoricalBlockSystem(tuple(terms)))
