"""The group-level part of a multilevel model, as arrays: its terms and the prior on their standard deviations.

A term ``(columns | factor)`` (lme4's syntax) gives every level of ``factor`` its own effects on ``columns``:
row ``i`` adds ``values[i] @ b[codes[i]]`` to its linear predictor, where the group effects ``b[g]`` (one per
column) are drawn from a zero-mean Normal with the term's covariance ``diag(sd) R diag(sd)`` (``R`` the
correlations; the identity for an uncorrelated term, lme4's ``||``).
"""

from dataclasses import dataclass

import numpy as np

from bayeslogit.exceptions import OptionError


@dataclass(frozen=True, eq=False)
class GroupTerm:
    """One term ``(columns | factor)`` of a multilevel model.

    Attributes
    ----------
    factor : str
        The grouping factor's name as written (``"herd"``; ``"a:b"`` for the groups of ``b`` within ``a``).
    columns : tuple of str
        The term's columns, k of them (``("Intercept",)``, ``("Intercept", "x")``).
    levels : tuple
        The factor's levels, in the order of their codes (n_levels of them).
    codes : ndarray of shape (n_samples,), int64
        Each row's level, ``0 <= code < n_levels``.
    values : ndarray of shape (n_samples, k), float64
        Each row's values of the term's columns (a column of ones for an intercept).
    correlated : bool
        Whether the effects of the columns within a group are correlated (``|``) or independent (``||``).
    """

    factor: str
    columns: tuple
    levels: tuple
    codes: np.ndarray
    values: np.ndarray
    correlated: bool = True

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def n_columns(self) -> int:
        return len(self.columns)


@dataclass(frozen=True)
class GroupPrior:
    """The prior on a term's group-level standard deviations and correlations.

    Each sd has a Gamma(``sd_shape``, ``sd_rate``) density, ``sd^(shape - 1) exp(-rate sd)``: with a shape above 1
    it vanishes at zero, which keeps the mode off the boundary where maximum likelihood can put it (Chung et al.
    2013, blme, take shape 2 and rate -> 0; a rate of 0 is improper, so a posterior sample needs a positive one).
    A correlated term's correlation matrix ``R`` has the LKJ density ``det(R)^(corr_eta - 1)``, which keeps it off
    ``|correlation| = 1`` when ``corr_eta > 1``.
    """

    sd_shape: float = 2.0
    sd_rate: float = 1.0
    corr_eta: float = 2.0

    def __post_init__(self):
        """Each field a finite number: ``sd_shape`` and ``corr_eta`` positive, ``sd_rate`` 0 (blme's improper limit,
        for a mode only) or positive; stored as floats."""
        for name, least in (("sd_shape", None), ("sd_rate", 0.0), ("corr_eta", None)):
            value = getattr(self, name)
            number = float(value) if isinstance(value, int | float | np.integer | np.floating) else np.nan
            if not (np.isfinite(number) and (number > 0 or number == least)) or isinstance(value, bool):
                bound = "0 or more" if least == 0.0 else "positive"
                raise OptionError(f"GroupPrior's `{name}` must be a finite number, {bound}; got {value!r}")
            object.__setattr__(self, name, number)

    def log_density(self, sd: np.ndarray, corr: np.ndarray | None = None) -> float:
        """The log density, up to a constant, at the sds (k,) and correlation matrix (k, k) of one term."""
        value = float(np.sum((self.sd_shape - 1.0) * np.log(sd) - self.sd_rate * sd))
        if corr is not None and len(sd) > 1:
            sign, log_det = np.linalg.slogdet(corr)
            value += (self.corr_eta - 1.0) * log_det if sign > 0 else -np.inf
        return value
