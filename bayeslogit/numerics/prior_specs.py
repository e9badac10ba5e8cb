"""Priors on the coefficients: what users build (:class:`Normal`, :class:`StudentT`, :class:`Cauchy`), each
resolved for a model into the term it adds to the objective (:mod:`.prior_terms`).

Every prior here is independent across coefficients, centred at zero, with one scale per coefficient row ``j``
(intercept first). In a multiclass model the same prior applies to every class's coefficients. An infinite scale
is a flat prior (the intercept's, by default).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bayeslogit.checks import check_flag
from bayeslogit.exceptions import OptionError
from bayeslogit.numerics.prior_densities import GaussianTerm, StudentTTerm, flat_term


def _check_scale(name: str, value) -> np.ndarray:
    try:
        scale = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise OptionError(f"`{name}` must be a number or a sequence of numbers; got {value!r}") from None
    if scale.ndim > 1:
        raise OptionError(f"`{name}` must be a scalar or a 1-D sequence; got an array of shape {scale.shape}")
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        shown = scale.item() if scale.ndim == 0 else scale.tolist()
        raise OptionError(f"`{name}` must be positive and finite; got {shown}")
    return scale


def _check_number(name: str, value) -> float:
    """``value`` as a positive, finite float, or an error naming ``name``."""
    scale = _check_scale(name, value)
    if scale.ndim:
        raise OptionError(f"`{name}` must be one number; got {scale.tolist()}")
    return scale.item()


def _plain_scale(name: str, value):
    """``value`` checked, as a float or a tuple of floats (hashable, so that priors compare and hash)."""
    scale = _check_scale(name, value)
    return scale.item() if scale.ndim == 0 else tuple(scale.tolist())


class _Prior:
    """What :class:`Normal`, :class:`StudentT` and :class:`Cauchy` share: the scales of a model's coefficient rows."""

    fixed_fields = ()
    scale_names: tuple  # the fields of the slopes' scale and of the intercept's

    def __post_init__(self):
        """Check the scales (stored as a float or a tuple of floats, so that priors compare and hash) and the flag."""
        slope, head = self.scale_names
        object.__setattr__(self, slope, _plain_scale(slope, getattr(self, slope)))
        if getattr(self, head) is not None:
            object.__setattr__(self, head, _check_number(head, getattr(self, head)))
        object.__setattr__(self, "autoscale", check_flag("autoscale", self.autoscale))

    def _slope_scale(self):
        return getattr(self, self.scale_names[0])

    def _intercept_scale(self):
        return getattr(self, self.scale_names[1])

    def scales(self, n_features: int, intercept: bool, predictor_sd: np.ndarray | None = None) -> np.ndarray:
        """The prior scale of each coefficient row, intercept first (``inf`` where flat).

        Parameters
        ----------
        n_features : int
        intercept : bool
        predictor_sd : ndarray of shape (n_features,), optional
            Each predictor's standard deviation; needed when ``autoscale`` is True, which divides the slopes'
            scales by it (rstanarm's convention).

        Returns
        -------
        ndarray of shape (n_features + intercept,)
        """
        names = self.scale_names
        slopes = np.asarray(self._slope_scale(), dtype=float)
        if slopes.ndim == 0:
            slopes = np.full(n_features, slopes)
        if slopes.shape != (n_features,):
            besides = " besides the intercept" if intercept else ""
            raise OptionError(
                f"`{names[0]}` has {slopes.size} values but the model has {n_features} predictors"
                f"{besides}; give one value or one per predictor"
            )
        if self.autoscale:
            slopes = slopes / _checked_sd(predictor_sd, n_features)
        head = self._intercept_scale()
        if not intercept:
            if head is not None:
                raise OptionError(
                    f"`{names[1]}` is {head} but the model has no intercept; leave it None, or build "
                    "the model with intercept=True"
                )
            return slopes
        return np.concatenate([[np.inf if head is None else head], slopes])

    tail_advice = ""
    """What MCMC's convergence warning adds about this prior's tails (nothing for a Normal)."""

    def term(self, n_features: int, intercept: bool, predictor_sd: np.ndarray | None = None):
        """The term this prior adds to a model's objective (see :meth:`scales` for the parameters)."""
        return self.term_of(self.scales(n_features, intercept, predictor_sd))

    def __repr__(self) -> str:
        """The fields, less those a class fixes (Cauchy's ``nu``) and a Normal's ``autoscale=False``: what rebuilds the
        prior, and says whether Student-t and Cauchy scales are autoscaled."""
        shown = [
            name
            for name in self.__dataclass_fields__
            if name not in self.fixed_fields
            and (name != "autoscale" or self.autoscale or self.__dataclass_fields__[name].default)
        ]
        return f"{type(self).__name__}({', '.join(f'{name}={getattr(self, name)}' for name in shown)})"


def _checked_sd(predictor_sd, n_features: int) -> np.ndarray:
    """``predictor_sd`` (n_features,; a Series indexed by feature name, or an array) as an array, every value
    positive, or a ValueError naming the predictors whose scale cannot be divided."""
    if predictor_sd is None or np.shape(predictor_sd) != (n_features,):
        raise OptionError(f"autoscale=True needs the standard deviation of each of the {n_features} predictors")
    values = np.asarray(predictor_sd, dtype=float)
    bad = ~(values > 0)
    if bad.any():
        names = np.asarray(getattr(predictor_sd, "index", np.arange(n_features)))[bad].tolist()
        raise OptionError(
            f"autoscale=True divides each slope's prior scale by its predictor's standard deviation, "
            f"which is 0 or undefined for {names}: a constant column (remove it), or weights that sum "
            "to 1 or less (autoscale reads weights as frequencies: rescale them to the rows they "
            "stand for); or set autoscale=False (--no-autoscale)"
        )
    return values


@dataclass(frozen=True, repr=False)
class Normal(_Prior):
    """Independent zero-mean Gaussian prior ``coef_j ~ N(0, sigma_j^2)``.

    Adds ``1/2 * sum_j (coef_j / sigma_j)^2`` to the objective (the negative log posterior, up to a constant).

    Parameters
    ----------
    sigma : float or sequence of float of length n_features
        Prior standard deviation of the slopes: one value for all, or one per predictor (in the order
        of ``model.coef_names`` without the intercept).
    intercept_sigma : float or None
        Prior standard deviation of the intercept; None (the default) puts a flat prior on it.
    autoscale : bool
        Divide each slope's ``sigma`` by its predictor's standard deviation (rstanarm's convention), so that
        ``sigma`` is the prior sd of the change in log-odds per standard deviation of the predictor; the scales
        used are recorded on the fit (``fit.prior_scales``).

    Examples
    --------
    >>> Normal(2.5).scales(n_features=2, intercept=True).tolist()
    [inf, 2.5, 2.5]
    >>> Normal(2.5, autoscale=True).scales(2, True, predictor_sd=np.array([0.5, 10.0])).tolist()
    [inf, 5.0, 0.25]
    """

    sigma: float | tuple = 2.5
    intercept_sigma: float | None = None
    autoscale: bool = False
    scale_names = ("sigma", "intercept_sigma")

    @staticmethod
    def term_of(scale: np.ndarray) -> GaussianTerm:
        """The Gaussian term of prior sds ``scale`` (P,), ``inf`` where flat."""
        return GaussianTerm(np.asarray(scale, dtype=float))


@dataclass(frozen=True, repr=False)
class StudentT(_Prior):
    """Independent Student-t prior ``coef_j ~ scale_j * t_nu``, heavier-tailed than :class:`Normal`.

    Weakly informative in the sense of Gelman, Jakulin, Pittau & Su (2008): most of its mass keeps the
    coefficients moderate, as a Gaussian would, yet a strong effect in the data is shrunk little, and under
    separation the estimates stay finite. The log density is not concave, so MAP's Newton method modifies an
    indefinite Hessian (see :func:`bayeslogit.algorithms.newton.newton`).

    Parameters
    ----------
    nu : float
        Degrees of freedom (> 0); 1 is :class:`Cauchy`, and as ``nu`` grows it approaches :class:`Normal`.
    scale : float or sequence of float of length n_features
        Prior scale of the slopes (one value, or one per predictor).
    intercept_scale : float or None
        Prior scale of the intercept (same ``nu``); None puts a flat prior on it.
    autoscale : bool
        Divide each slope's scale by its predictor's standard deviation (rstanarm's convention, the default
        here): ``scale=2.5`` is then the prior of the change in log-odds per standard deviation of the predictor.
        Gelman et al. (2008) scale inputs to sd 0.5 instead: their ``Cauchy(0, 2.5)`` is ``Cauchy(scale=1.25)``
        with ``autoscale=True``.
    """

    nu: float = 7.0
    scale: float | tuple = 2.5
    intercept_scale: float | None = None
    autoscale: bool = True
    scale_names = ("scale", "intercept_scale")

    def __post_init__(self):
        object.__setattr__(self, "nu", _check_number("nu", self.nu))
        super().__post_init__()

    @property
    def tail_advice(self) -> str:
        return (
            f"; where the classes are separated, the posterior keeps the prior's Student-t tail (nu={self.nu:g}): "
            "a larger nu, or bl.Normal, has lighter tails"
        )

    def term_of(self, scale: np.ndarray) -> StudentTTerm:
        """The Student-t term of scales ``scale`` (P,), ``inf`` where flat."""
        return StudentTTerm(self.nu, np.asarray(scale, dtype=float))


@dataclass(frozen=True, repr=False)
class Cauchy(StudentT):
    """Independent Cauchy prior ``coef_j ~ Cauchy(0, scale_j)``: :class:`StudentT` with ``nu = 1``.

    Gelman, Jakulin, Pittau & Su (2008) recommend ``Cauchy(0, 2.5)`` on the slopes of inputs scaled to sd 0.5
    (``Cauchy(scale=1.25)`` here, with ``autoscale=True``) and ``Cauchy(0, 10)`` on the intercept of centred
    inputs. bayeslogit does not centre the predictors: ``intercept_scale`` is the prior of the log-odds where every
    predictor is 0, which is weak only where 0 lies within the data (centre them in the formula otherwise, e.g.
    ``I(x - 50)``).

    Parameters
    ----------
    scale, intercept_scale, autoscale
        As :class:`StudentT`'s.

    Examples
    --------
    >>> Cauchy(2.5, intercept_scale=10)
    Cauchy(scale=2.5, intercept_scale=10.0, autoscale=True)
    """

    nu: float = 1.0
    fixed_fields = ("nu",)

    tail_advice = (
        "; where the classes are separated, a Cauchy posterior has the prior's heavy tail and no mean: "
        "bl.StudentT(nu=7) has lighter tails"
    )

    def __init__(self, scale=2.5, intercept_scale=None, autoscale: bool = True, nu: float = 1.0):
        if nu != 1:
            raise OptionError(f"a Cauchy prior has nu = 1; got nu={nu!r}: use bl.StudentT(nu={nu!r}, ...)")
        super().__init__(1.0, scale, intercept_scale, autoscale)


PRIORS = (Normal, StudentT, Cauchy)
"""The prior classes a fit accepts."""


PRIOR_FAMILIES = {
    "normal": lambda scale, intercept_scale, nu, options: Normal(scale, intercept_scale, **options),
    "student-t": lambda scale, intercept_scale, nu, options: StudentT(nu, scale, intercept_scale, **options),
    "cauchy": lambda scale, intercept_scale, nu, options: Cauchy(scale, intercept_scale, **options),
}
"""Name -> ``(scale, intercept_scale, nu, {"autoscale": ...} or {}) ->`` the prior; see :func:`make_prior`."""


def make_prior(family: str, scale, intercept_scale=None, nu: float = 7.0, autoscale: bool | None = None):
    """The prior of a family named in :data:`PRIOR_FAMILIES` (as the command line and the scikit-learn estimator
    name them), with ``nu`` for Student-t only and ``autoscale=None`` for the family's default."""
    if family not in PRIOR_FAMILIES:
        raise OptionError(f"unknown prior {family!r}; choose one of {list(PRIOR_FAMILIES)}")
    return PRIOR_FAMILIES[family](scale, intercept_scale, nu, {} if autoscale is None else {"autoscale": autoscale})


def prior_term(prior, n_coef: int, intercept: bool, predictor_sd: Callable[[], np.ndarray]):
    """The term of ``prior`` (one of :data:`PRIORS`, or None for a flat prior) on ``n_coef`` coefficient rows.

    ``predictor_sd() -> ndarray (n_coef - intercept,)``, the predictors' standard deviations, is called only when
    the prior autoscales.
    """
    if prior is None:
        return flat_term(n_coef)
    return prior.term(n_coef - intercept, intercept, predictor_sd() if prior.autoscale else None)


def prior_fields(prior) -> dict | None:
    """A prior as plain data (None: no prior): its class name (``kind``) and fields, less those its class fixes
    (Cauchy's ``nu``); :func:`prior_from_fields` rebuilds it."""
    if prior is None:
        return None
    return {
        "kind": type(prior).__name__,
        **{name: getattr(prior, name) for name in prior.__dataclass_fields__ if name not in prior.fixed_fields},
    }


def prior_from_fields(fields: dict | None):
    """The prior of :func:`prior_fields`'s output; without ``kind`` (fits saved before there were other priors), a
    :class:`Normal`."""
    if fields is None:
        return None
    fields = dict(fields)
    return {cls.__name__: cls for cls in PRIORS}[fields.pop("kind", "Normal")](**fields)
