"""Priors on the coefficients: what users build (:class:`Normal`, :class:`StudentT`, :class:`Cauchy`), each
resolved for a model into the term it adds to the objective (:mod:`.prior_densities`).

Every prior here is independent across coefficients, centred at zero, with one scale per coefficient row ``j``
(intercept first): ``scale`` for the slopes, ``intercept_scale`` for the intercept (rstanarm's names; a Normal's
scale is its standard deviation). In a multiclass model the same prior applies to every class's coefficients. An
infinite scale is a flat prior (the intercept's, by default).
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bayeslogit.checks import check_flag
from bayeslogit.exceptions import Advice, OptionError, Remedy
from bayeslogit.numerics.group_design import GroupPrior
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
    scale: float | tuple
    intercept_scale: float | None
    autoscale: bool

    def __post_init__(self):
        """Check the scales (stored as a float or a tuple of floats, so that priors compare and hash) and the flag."""
        object.__setattr__(self, "scale", _plain_scale("scale", self.scale))
        if self.intercept_scale is not None:
            object.__setattr__(self, "intercept_scale", _check_number("intercept_scale", self.intercept_scale))
        object.__setattr__(self, "autoscale", check_flag("autoscale", self.autoscale))

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
        slopes = np.asarray(self.scale, dtype=float)
        if slopes.ndim == 0:
            slopes = np.full(n_features, slopes)
        if slopes.shape != (n_features,):
            besides = " besides the intercept" if intercept else ""
            raise OptionError(
                f"`scale` has {slopes.size} values but the model has {n_features} predictors"
                f"{besides}; give one value or one per predictor"
            )
        if self.autoscale:
            slopes = slopes / _checked_sd(predictor_sd, n_features)
        head = self.intercept_scale
        if not intercept:
            if head is not None:
                raise OptionError(
                    Advice(
                        f"`intercept_scale` is {head} but the model has no intercept; ",
                        Remedy("no_intercept_scale"),
                        ", or ",
                        Remedy("add_intercept"),
                    )
                )
            return slopes
        return np.concatenate([[np.inf if head is None else head], slopes])

    tail_advice: tuple = ()
    """What MCMC's convergence warning adds about this prior's tails, as parts of an
    :class:`~bayeslogit.exceptions.Advice` (nothing for a Normal)."""

    def term(self, n_features: int, intercept: bool, predictor_sd: np.ndarray | None = None):
        """The term this prior adds to a model's objective (see :meth:`scales` for the parameters)."""
        return self.term_of(self.scales(n_features, intercept, predictor_sd))

    def __repr__(self) -> str:
        """The fields, less those a class fixes (Cauchy's ``nu``), a Normal's ``autoscale=False`` and its ``group``
        when None: what rebuilds the prior, and says whether Student-t and Cauchy scales are autoscaled."""
        shown = [
            name
            for name in self.__dataclass_fields__
            if name not in self.fixed_fields
            and (name != "autoscale" or self.autoscale or self.__dataclass_fields__[name].default)
            and (name != "group" or getattr(self, name) is not None)
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
            Advice(
                "autoscaling divides each slope's prior scale by its predictor's standard deviation, "
                f"which is 0 or undefined for {names}: a constant column (remove it), or weights that sum "
                "to 1 or less (autoscale reads weights as frequencies: rescale them to the rows they "
                "stand for); or set ",
                Remedy("autoscale_off"),
            )
        )
    return values


FORMER_NAMES = {"sigma": "scale", "intercept_sigma": "intercept_scale"}
"""A :class:`Normal`'s former keywords -> its keywords now, the names of every prior (rstanarm's)."""


class _Default:
    """A keyword's default, told apart from the same value given: ``Normal(scale=2.5, sigma=1)`` is a conflict."""

    def __init__(self, value):
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)


_DEFAULT_SCALE, _FLAT = _Default(2.5), _Default(None)


def _under_current_names(former: dict, given: dict) -> dict:
    """``given`` (keyword -> value or :class:`_Default`), with the values of ``former`` keywords
    (:data:`FORMER_NAMES`) moved to their current names, each with a DeprecationWarning, and defaults filled in; a
    TypeError for another keyword, or for both names of one field."""
    unknown = sorted(set(former) - set(FORMER_NAMES))
    if unknown:
        raise TypeError(f"Normal() got an unexpected keyword argument {unknown[0]!r}")
    given = dict(given)
    for old, value in former.items():
        new = FORMER_NAMES[old]
        if not isinstance(given[new], _Default):
            raise TypeError(f"Normal() got `{new}` and its former name `{old}`; give `{new}` only")
        warnings.warn(
            f"Normal's `{old}` is now called `{new}`, as in StudentT and Cauchy; `{old}` will be removed in a "
            f"future release: write Normal({new}=...)",
            DeprecationWarning,
            stacklevel=3,
        )
        given[new] = value
    return {name: value.value if isinstance(value, _Default) else value for name, value in given.items()}


@dataclass(frozen=True, repr=False)
class Normal(_Prior):
    """Independent zero-mean Gaussian prior ``coef_j ~ N(0, scale_j^2)``.

    Adds ``1/2 * sum_j (coef_j / scale_j)^2`` to the objective (the negative log posterior, up to a constant).

    Parameters
    ----------
    scale : float or sequence of float of length n_features
        Prior standard deviation of the slopes: one value for all, or one per predictor (in the order
        of ``model.coef_names`` without the intercept).
    intercept_scale : float or None
        Prior standard deviation of the intercept; None (the default) puts a flat prior on it.
    autoscale : bool
        Divide each slope's ``scale`` by its predictor's standard deviation (rstanarm's convention), so that
        ``scale`` is the prior sd of the change in log-odds per standard deviation of the predictor; the scales
        used are recorded on the fit (``fit.prior_scales``).
    group : GroupPrior or None
        A multilevel model's prior on each group term's sds and correlations
        (:class:`~bayeslogit.numerics.group_design.GroupPrior`); None, the default, is ``GroupPrior()`` there. A model
        without group terms refuses a prior that sets one.
    sigma, intercept_sigma
        The former names of ``scale`` and ``intercept_scale``: accepted as keywords, with a DeprecationWarning.

    Examples
    --------
    >>> Normal(2.5).scales(n_features=2, intercept=True).tolist()
    [inf, 2.5, 2.5]
    >>> Normal(2.5, autoscale=True).scales(2, True, predictor_sd=np.array([0.5, 10.0])).tolist()
    [inf, 5.0, 0.25]
    >>> Normal(2.5, group=GroupPrior(sd_rate=0.5))
    Normal(scale=2.5, intercept_scale=None, group=GroupPrior(sd_shape=2.0, sd_rate=0.5, corr_eta=2.0))
    """

    scale: float | tuple = 2.5
    intercept_scale: float | None = None
    autoscale: bool = False
    group: GroupPrior | None = None

    def __init__(
        self, scale=_DEFAULT_SCALE, intercept_scale=_FLAT, autoscale: bool = False, group=None, **former
    ):  # fmt: skip
        given = {"scale": scale, "intercept_scale": intercept_scale}
        for name, value in _under_current_names(former, given).items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "autoscale", autoscale)
        if group is not None and not isinstance(group, GroupPrior):
            raise OptionError(
                "`group` is a multilevel model's prior on its group sds and correlations and must be a bl.GroupPrior, "
                f"e.g. bl.Normal(2.5, group=bl.GroupPrior(sd_rate=0.5)); got {type(group).__name__}"
            )
        object.__setattr__(self, "group", group)
        self.__post_init__()

    @property
    def sigma(self):
        """Deprecated: :attr:`scale`."""
        warnings.warn("Normal's `sigma` is now called `scale`", DeprecationWarning, stacklevel=2)
        return self.scale

    @property
    def intercept_sigma(self):
        """Deprecated: :attr:`intercept_scale`."""
        warnings.warn("Normal's `intercept_sigma` is now called `intercept_scale`", DeprecationWarning, stacklevel=2)
        return self.intercept_scale

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

    def __post_init__(self):
        object.__setattr__(self, "nu", _check_number("nu", self.nu))
        super().__post_init__()

    @property
    def tail_advice(self) -> tuple:
        return (
            f"; where the classes are separated, the posterior keeps the prior's Student-t tail (nu={self.nu:g}): "
            "a larger nu, or ",
            Remedy("use_normal_prior"),
            ", has lighter tails",
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
        "; where the classes are separated, a Cauchy posterior has the prior's heavy tail and no mean: ",
        Remedy("use_student_t_prior", 7),
        " has lighter tails",
    )

    def __init__(self, scale=2.5, intercept_scale=None, autoscale: bool = True, nu: float = 1.0):
        if nu != 1:
            raise OptionError(
                Advice(
                    f"a Cauchy prior has nu = 1; got nu={nu!r}: for other degrees of freedom, use ",
                    Remedy("use_student_t_prior", _check_number("nu", nu)),
                )
            )
        super().__init__(1.0, scale, intercept_scale, autoscale)


PRIORS = (Normal, StudentT, Cauchy)
"""The prior classes a fit accepts."""


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
    return {"kind": type(prior).__name__, **{name: getattr(prior, name) for name in data_fields(type(prior))}}


def data_fields(cls) -> list[str]:
    """The fields of a prior class that its plain data holds: all but those the class fixes (Cauchy's ``nu``) and a
    Normal's ``group``, which flat models refuse and so never save."""
    return [name for name in cls.__dataclass_fields__ if name not in cls.fixed_fields and name != "group"]


def current_fields(fields: dict) -> dict:
    """A prior's plain data (:func:`prior_fields`) under the fields' current names: a :class:`Normal` saved before
    its ``sigma`` and ``intercept_sigma`` were named ``scale`` and ``intercept_scale`` (:data:`FORMER_NAMES`)."""
    return {FORMER_NAMES.get(name, name): value for name, value in fields.items()}


def prior_from_fields(fields: dict | None):
    """The prior of :func:`prior_fields`'s output, also under former names (:func:`current_fields`); without
    ``kind`` (fits saved before there were other priors), a :class:`Normal`."""
    if fields is None:
        return None
    fields = current_fields(fields)
    return {cls.__name__: cls for cls in PRIORS}[fields.pop("kind", "Normal")](**fields)
