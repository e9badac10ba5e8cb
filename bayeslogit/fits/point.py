"""Fit results: :class:`PointFit` (ML, MAP) and the predictions every fit shares.

Results are immutable and hold what the fit produced (coefficients, Hessian, history); derived
figures such as the covariance and standard errors are computed on demand.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import logsumexp, ndtr, ndtri

from .algorithms.laplace import Gaussian

_DRAW_BLOCK = 256  # posterior draws evaluated together when averaging predictions


def coef_labels(model) -> list[str]:
    """Flat labels of ``vec(B)``: the coefficient names, or ``name[class]`` for multiclass."""
    if model.likelihood == "bernoulli":
        return list(model.coef_names)
    return [f"{name}[{label}]" for label in model.coef_classes for name in model.coef_names]


def labelled_coef(model, B: np.ndarray, name: str = "coef"):
    """``B`` (P, M) as a Series (binary) or a DataFrame [coef x class] (multiclass)."""
    if model.likelihood == "bernoulli":
        return pd.Series(B[:, 0], index=model.coef_names, name=name)
    frame = pd.DataFrame(B, index=model.coef_names, columns=model.coef_classes)
    frame.index.name, frame.columns.name = "coef", "class"
    return frame


def normal_interval(estimate: np.ndarray, sd: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounds ``estimate -+ z sd`` of the central normal interval of probability ``prob``."""
    half = ndtri(0.5 + prob / 2) * sd
    return estimate - half, estimate + half


class FitBase:
    """Predictions shared by point and posterior fits.

    Subclasses provide ``model``, ``params`` (P, M), the point estimate or posterior mean, and
    ``coef_draws()``, an array (S, P, M) of coefficient matrices (S = 1 for point fits) over which
    probabilities are averaged.
    """

    def decision_function(self, X=None) -> np.ndarray:
        """Linear predictor at the fit's coefficients (for posterior fits, the posterior mean).

        Returns
        -------
        ndarray of shape (n_samples,) for binary models (the logit of ``classes_[1]``), else
        (n_samples, K) class logits (the reference class's logit is 0).
        """
        eta = self.model.linear_predictor(self.params, X)
        if self.model.likelihood == "bernoulli":
            return eta[:, 0]
        return self.model.full_logits(eta)

    def log_proba(self, X=None) -> np.ndarray:
        """Log of the predicted class probabilities, averaged over the draws in log space.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), optional
            New data (a DataFrame for formula models); default: the training data.

        Returns
        -------
        ndarray of shape (n_samples, K)
            One column per class of ``model.classes_``, binary models included.
        """
        return self.log_proba_of_design(self.model.design_matrix(X))

    def log_proba_of_design(self, X: np.ndarray) -> np.ndarray:
        """:meth:`log_proba` of a design already validated by ``model.design_matrix`` (n_samples, n_features)."""
        draws = self.coef_draws()
        total = None
        for start in range(0, len(draws), _DRAW_BLOCK):
            block = np.stack([self.model.log_probabilities(B, X) for B in draws[start:start + _DRAW_BLOCK]])
            block_total = logsumexp(block, axis=0)
            total = block_total if total is None else np.logaddexp(total, block_total)
        return total - np.log(len(draws))

    def predict_proba(self, X=None) -> np.ndarray:
        """Predicted probabilities, averaged over the posterior draws for posterior fits.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), optional
            New data (a DataFrame for formula models); default: the training data.

        Returns
        -------
        ndarray of shape (n_samples,), ``Pr(w = classes_[1])``, for binary models;
        (n_samples, K) for multiclass.
        """
        proba = np.exp(self.log_proba(X))
        return proba[:, 1] if self.model.likelihood == "bernoulli" else proba

    def predict(self, X=None) -> np.ndarray:
        """The most probable class label of each row, shape (n_samples,)."""
        proba = self.predict_proba(X)
        if proba.ndim == 1:
            return self.model.classes_[(proba > 0.5).astype(int)]
        return self.model.classes_[np.argmax(proba, axis=1)]

    def boundary(self, level: float = 0.5):
        """Where the predicted probability equals ``level``: threshold, line or hyperplane, per class pair.

        Returns
        -------
        Boundary
            Point values with delta-method sds, or per-draw values with an ArviZ summary; see
            :class:`bayeslogit.boundary.Boundary`.
        """
        from .boundary import boundary

        return boundary(self, level)


@dataclass(frozen=True, eq=False)
class PointFit(FitBase):
    """Maximum-likelihood or MAP estimate.

    Attributes
    ----------
    method : {"ml", "map"}
    model : LogisticModel
    prior : Normal or None
    params : ndarray of shape (P, M)
        The coefficient matrix (unlabelled; see ``coef``).
    hessian : ndarray of shape (n_free, n_free)
        Hessian of the objective at the optimum, in the optimiser's free coordinates.
    transform : ndarray of shape (P * M, n_free) or None
        Map from free coordinates to ``vec(params)``.
    loglik : float
        Log-likelihood at the estimate (without the prior term).
    n_iter : int
    converged : bool
    fit_time : float
        Seconds spent in the fit.
    iterations : tuple of Iteration
    """

    method: str
    model: object
    prior: object
    params: np.ndarray
    hessian: np.ndarray
    transform: np.ndarray | None
    loglik: float
    n_iter: int
    converged: bool
    fit_time: float
    iterations: tuple

    def coef_draws(self) -> np.ndarray:
        """The estimate as a single draw, shape (1, P, M)."""
        return self.params[None]

    @property
    def coef(self):
        """Estimates: Series indexed by ``coef_names``, or DataFrame [coef x class] for multiclass."""
        return labelled_coef(self.model, self.params)

    @cached_property
    def gaussian(self) -> Gaussian:
        """``N(estimate, H^-1)`` in the optimiser's free coordinates: the Laplace approximation at a MAP.

        Raises
        ------
        SingularHessianError
            When the Hessian is not positive definite.
        """
        return Gaussian.at_mode(self.iterations[-1].x, self.hessian)

    @cached_property
    def _cov(self) -> np.ndarray:
        """Covariance of ``vec(params)``, shape (P*M, P*M)."""
        cov = self.gaussian.covariance
        return cov if self.transform is None else self.transform @ cov @ self.transform.T

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of the estimates, the inverse Hessian of the objective, (P*M, P*M) labelled."""
        labels = coef_labels(self.model)
        return pd.DataFrame(self._cov, index=labels, columns=labels)

    @property
    def se(self):
        """Standard errors, shaped like ``coef``."""
        sd = np.sqrt(np.diag(self._cov)).reshape(self.params.shape, order="F")
        return labelled_coef(self.model, sd, "se")

    @property
    def history(self) -> pd.DataFrame:
        """One row per iteration: objective, grad_norm, decrement, step_size and the coefficients."""
        labels = coef_labels(self.model)
        objective = self.model.objective(self.prior)
        rows = []
        for it in self.iterations:
            B = objective.coef(it.x)
            rows.append([it.objective, it.grad_norm, it.decrement, it.step_size, *B.ravel(order="F")])
        frame = pd.DataFrame(rows, columns=["objective", "grad_norm", "decrement", "step_size", *labels])
        frame.index.name = "iteration"
        return frame

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """Table of estimates with Wald statistics.

        Parameters
        ----------
        alpha : float
            The interval is the central ``1 - alpha`` normal interval ``estimate +- z * sd``.

        Returns
        -------
        DataFrame indexed by coefficient (``name[class]`` for multiclass) with columns
        ``estimate, sd, z, p_value, lower, upper``.
        """
        if not 0 < alpha < 1:
            raise ValueError(f"`alpha` must be in (0, 1); got {alpha}")
        estimate = self.params.ravel(order="F")
        sd = np.sqrt(np.diag(self._cov))
        z = estimate / sd
        lower, upper = normal_interval(estimate, sd, 1 - alpha)
        return pd.DataFrame(
            {"estimate": estimate, "sd": sd, "z": z, "p_value": 2 * ndtr(-np.abs(z)), "lower": lower, "upper": upper},
            index=pd.Index(coef_labels(self.model), name="coef"),
        )

    def __repr__(self) -> str:
        status = "converged" if self.converged else "NOT converged"
        return (f"PointFit(method={self.method!r}, {status} in {self.n_iter} iterations, "
                f"loglik={self.loglik:.4f})\n{self.coef.round(4).to_string()}")


@dataclass(frozen=True)
class FailedFit:
    """A fit that could not be made, kept so that comparisons can show why.

    Attributes
    ----------
    method : str
    error : Exception
        The exception the fit raised.
    """

    method: str
    error: Exception

    @property
    def reason(self) -> str:
        return f"{type(self.error).__name__}: {self.error}"

    def __repr__(self) -> str:
        return f"FailedFit(method={self.method!r}, {self.reason})"


def collect_fits(fits) -> tuple[dict, dict]:
    """Split fits of one model into the usable ones and the failures.

    Parameters
    ----------
    fits : dict of str to fit, sequence of fits, or a single fit
        A sequence is keyed by each fit's ``method``, which must then be distinct.

    Returns
    -------
    fitted : dict
        method -> PointFit or PosteriorFit, in the given order.
    failed : dict
        method -> FailedFit.

    Raises
    ------
    ValueError
        When no fit is usable, two fits of a sequence share a method, or the fits come from
        different models.
    """
    if isinstance(fits, (FitBase, FailedFit)):
        fits = [fits]
    if not isinstance(fits, Mapping):
        fits = list(fits)
        methods = [fit.method for fit in fits]
        if len(set(methods)) < len(methods):
            raise ValueError(f"two fits share a method ({methods}); pass a dict to name them, e.g. "
                             "{'map sigma=1': fit_a, 'map sigma=0.1': fit_b}")
        fits = dict(zip(methods, fits))
    fitted = {name: fit for name, fit in fits.items() if not isinstance(fit, FailedFit)}
    failed = {name: fit for name, fit in fits.items() if isinstance(fit, FailedFit)}
    if not fitted:
        reasons = "; ".join(f"{name}: {fit.reason}" for name, fit in failed.items()) or "none given"
        raise ValueError(f"no usable fit ({reasons}); pass fits such as model.fit_all(prior)")
    if len({id(fit.model) for fit in fitted.values()}) > 1:
        raise ValueError("these fits come from different models; put fits of one model together")
    return fitted, failed
