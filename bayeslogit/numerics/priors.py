"""Gaussian priors on the coefficients."""

from dataclasses import dataclass

import numpy as np


def _check_scale(name: str, value) -> np.ndarray:
    try:
        scale = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a number or a sequence of numbers; got {value!r}") from None
    if scale.ndim > 1:
        raise ValueError(f"`{name}` must be a scalar or a 1-D sequence; got an array of shape {scale.shape}")
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        shown = scale.item() if scale.ndim == 0 else scale.tolist()
        raise ValueError(f"`{name}` must be positive and finite; got {shown}")
    return scale


@dataclass(frozen=True)
class Normal:
    """Independent zero-mean Gaussian prior ``coef_j ~ N(0, sigma_j^2)``.

    Adds ``1/2 * sum_j (coef_j / sigma_j)^2`` to the objective (the negative log posterior, up to a
    constant). In a multiclass model the same prior applies to every class's coefficients.

    Parameters
    ----------
    sigma : float or sequence of float of length n_features
        Prior standard deviation of the slopes: one value for all, or one per predictor (in the order
        of ``model.coef_names`` without the intercept).
    intercept_sigma : float or None
        Prior standard deviation of the intercept; None (the default) puts a flat prior on it.

    Examples
    --------
    >>> Normal(2.5).precision(n_features=2, intercept=True)
    array([0.  , 0.16, 0.16])
    """

    sigma: float | tuple = 2.5
    intercept_sigma: float | None = None

    def __post_init__(self):
        scale = _check_scale("sigma", self.sigma)
        object.__setattr__(self, "sigma", scale.item() if scale.ndim == 0 else tuple(scale.tolist()))
        if self.intercept_sigma is not None:
            object.__setattr__(self, "intercept_sigma", _check_scale("intercept_sigma", self.intercept_sigma).item())

    def precision(self, n_features: int, intercept: bool) -> np.ndarray:
        """Prior precisions ``1 / sigma_j^2``, intercept first (0 where the prior is flat).

        Returns
        -------
        ndarray of shape (n_features + intercept,)
        """
        sigma = np.asarray(self.sigma, dtype=float)
        if sigma.ndim == 0:
            sigma = np.full(n_features, sigma)
        if sigma.shape != (n_features,):
            besides = " besides the intercept" if intercept else ""
            raise ValueError(f"`sigma` has {sigma.size} values but the model has {n_features} predictors{besides}; "
                             "give one value or one per predictor")
        slopes = 1.0 / sigma**2
        if not intercept:
            if self.intercept_sigma is not None:
                raise ValueError(f"`intercept_sigma` is {self.intercept_sigma} but the model has no intercept; "
                                 "leave it None, or build the model with intercept=True")
            return slopes
        head = 0.0 if self.intercept_sigma is None else 1.0 / self.intercept_sigma**2
        return np.concatenate([[head], slopes])

    def __repr__(self) -> str:
        return f"Normal(sigma={self.sigma}, intercept_sigma={self.intercept_sigma})"
