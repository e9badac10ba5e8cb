"""Decision boundaries: where a fit's predicted probability equals a level.

Conventions
-----------
``P`` coefficients per linear predictor (the intercept first when the model has one), ``p`` features,
``K`` classes. A boundary is described pair by pair of classes: for the pair ``(j, k)``, ``j < k`` in
``model.classes_``, the direction ``w = theta_k - theta_j`` (P,) of class coefficient vectors, and the
boundary is the set where ``w_0 + w^T x = logit(level)``, i.e. ``Pr(k | j or k) = level`` (for
``level = 0.5`` the two classes' probabilities tie). A binary model has the one pair
``(classes_[0], classes_[1])`` and ``w`` is its coefficient vector.

What describes the boundary depends on ``p``:

* ``p = 1``: the ``threshold`` ``x* = (logit(level) - w_0) / w_1``;
* ``p = 2``: the line ``x2 = intercept + slope * x1`` with ``slope = -w_1 / w_2`` and
  ``intercept = (logit(level) - w_0) / w_2`` (``x1``, ``x2`` the first and second feature);
* ``p > 2``: the unit ``normal = w_{1:} / |w_{1:}|`` and the ``offset`` ``(logit(level) - w_0) / |w_{1:}|``,
  the signed distance of the hyperplane ``normal^T x = offset`` from the origin.

Quantities are computed per draw, on arrays of shape (n_chains, n_draws, ...): a point fit is the single
draw (1, 1), a posterior fit keeps the chains of its ``coef_draws`` so that ArviZ's R-hat is meaningful.
The family gives the class-pair directions; a Bernoulli model's single pair axis is dropped.
"""

from dataclasses import dataclass
from functools import cached_property
from itertools import product

import numpy as np
import pandas as pd

from bayeslogit.checks import check_probability
from bayeslogit.exceptions import OptionError
from bayeslogit.fits.coef_labels import listing
from bayeslogit.fits.display.frame import FormattedFrame
from bayeslogit.fits.statistics import intervals

_COMPLEX_STEP = 1e-30  # step of the complex-step derivative: exact to rounding for any step this small


def boundary_quantities(directions: np.ndarray, intercept: bool, level: float = 0.5) -> dict:
    """The quantities that place the boundary ``w_0 + w^T x = logit(level)``.

    Parameters
    ----------
    directions : ndarray of shape (..., P, L)
        ``w`` for each of ``L`` pairs of classes (see ``family.pair_directions``); real or complex.
    intercept : bool
        Whether row 0 of ``directions`` is the intercept ``w_0`` (otherwise ``w_0 = 0``).
    level : float

    Returns
    -------
    dict
        ``{"threshold": (..., L)}`` for one feature, ``{"slope": (..., L), "intercept": (..., L)}`` for
        two, ``{"normal": (..., p, L), "offset": (..., L)}`` for more. A zero denominator gives inf or
        NaN (e.g. a vertical line), without a warning.
    """
    w0 = directions[..., 0, :] if intercept else np.zeros_like(directions[..., 0, :])
    w = directions[..., int(intercept) :, :]
    shift = np.log(level) - np.log1p(-level) - w0  # logit(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        if w.shape[-2] == 1:
            return {"threshold": shift / w[..., 0, :]}
        if w.shape[-2] == 2:
            return {"slope": -w[..., 0, :] / w[..., 1, :], "intercept": shift / w[..., 1, :]}
        norm = np.sqrt((w**2).sum(axis=-2))  # not np.linalg.norm, which drops the complex step
        return {"normal": w / norm[..., None, :], "offset": shift / norm}


def slice_directions(layout, draws: np.ndarray, chosen: list[int], fixed: np.ndarray) -> np.ndarray:
    """Class-pair directions in the plane (or line) of the ``chosen`` features, the others held at ``fixed``.

    Parameters
    ----------
    layout : CoefLayout
    draws : ndarray of shape (S, P, M)
    chosen : list of int
        Feature columns kept.
    fixed : ndarray of shape (n_features,)
        Values of the other features.

    Returns
    -------
    ndarray of shape (S, 1 + len(chosen), n_pairs)
        An intercept (with the held features' contribution) and the chosen features' entries, ready for
        :func:`boundary_quantities` with ``intercept=True``.
    """
    W = layout.family.pair_directions(draws, len(layout.classes))
    start = int(layout.intercept)
    w0 = W[:, 0] if layout.intercept else np.zeros_like(W[:, 0])
    others = [j for j in range(len(fixed)) if j not in chosen]
    w0 = w0 + np.einsum("sjl,j->sl", W[:, [start + j for j in others]], fixed[others])
    return np.concatenate([w0[:, None], W[:, [start + j for j in chosen]]], axis=1)


def _variables(layout, draws: np.ndarray, level: float) -> dict:
    """Boundary quantities of coefficient draws (n_chains, n_draws, P, M); the family drops a single pair axis."""
    directions = layout.family.pair_directions(draws, len(layout.classes))
    values = boundary_quantities(directions, layout.intercept, level)
    return {name: layout.family.collapse(v) for name, v in values.items()}


@dataclass(frozen=True, eq=False)
class Boundary:
    """The decision boundary of a fit: where ``Pr(class) = level`` (ties of class pairs, for multiclass).

    Built by ``fit.boundary(level)``: a :class:`PointBoundary` for a point fit (one value per quantity, with
    delta-method standard errors from ``fit.cov``), a :class:`PosteriorBoundary` for a posterior fit (one
    value per posterior draw, so that every quantity has a posterior, summarised by ArviZ).

    The quantities are ratios of coefficients (see :mod:`bayeslogit.fits.statistics.boundary`): when the denominator's
    uncertainty reaches zero their distribution has heavy tails (the mean and sd may not exist), so read
    the median and the interval of :meth:`summary`, which :attr:`estimate` reports for posterior fits. For
    the same reason the delta-method standard error of a point fit is trustworthy only when the
    denominator is many standard errors from zero.

    Attributes
    ----------
    fit : PointFit or PosteriorFit
    level : float
    variables : dict of str to ndarray
        Per-draw values, each of shape (n_chains, n_draws[, n_features][, n_pairs]): ``threshold``,
        ``slope`` and ``intercept``, or ``normal`` and ``offset`` (see the module docstring); the
        ``n_pairs`` axis only for multiclass models. Point fits have one chain of one draw.
    """

    fit: object
    level: float
    variables: dict

    @classmethod
    def of(cls, fit, level: float = 0.5) -> "Boundary":
        """The boundary of ``fit`` at ``level`` (a probability in (0, 1))."""
        level = check_probability("level", level)
        if not fit.model.feature_names:
            raise OptionError(
                "the model has no features, so its prediction is the same everywhere and there is "
                "no boundary; add predictors"
            )
        return cls(fit, level, _variables(fit.layout, fit.coef_draws, level))

    @property
    def model(self):
        return self.fit.model

    @property
    def feature_names(self) -> list[str]:
        """The features, in order: for a line, ``x1`` is the first and ``x2`` the second."""
        return self.model.feature_names

    @property
    def pairs(self) -> list[str]:
        """Labels ``"a|b"`` of the class pairs, one per boundary (one for a binary model)."""
        return self.fit.layout.pairs

    @cached_property
    def _dims(self) -> dict:
        pair_dims = list(self.fit.layout.family.pair_dims)
        return {name: ["feature"] * (name == "normal") + pair_dims for name in self.variables}

    @cached_property
    def names(self) -> list[str]:
        """Row labels of :meth:`summary`, e.g. ``slope``, ``normal[arsenic]``, ``slope[setosa|versicolor]``."""
        coords = {"feature": self.feature_names, "pair": self.pairs}
        labels = []
        for name, dims in self._dims.items():
            for combination in product(*(coords[d] for d in dims)):
                labels.append(f"{name}[{', '.join(map(str, combination))}]" if dims else name)
        return labels

    def _stacked(self) -> np.ndarray:
        """All quantities per draw, shape (n_chains, n_draws, Q) in the order of :attr:`names`."""
        n_chains, n_draws = next(iter(self.variables.values())).shape[:2]
        return np.concatenate([v.reshape(n_chains, n_draws, -1) for v in self.variables.values()], axis=2)

    @property
    def estimate(self) -> pd.Series:
        """The point fit's values, or the posterior medians (robust to the heavy tails of ratios)."""
        flat = self._stacked().reshape(-1, len(self.names))
        return pd.Series(np.median(flat, axis=0), index=self.names, name="estimate")

    def _lookup(self, name: str):
        if name not in self.variables:
            raise AttributeError(
                f"a boundary in {len(self.feature_names)} feature(s) has {' and '.join(self.variables)}, not {name}"
            )
        values = self.estimate[[label for label in self.names if label.split("[")[0] == name]].to_numpy()
        family = self.fit.layout.family
        if name == "normal":
            normal = family.collapse(values.reshape(len(self.feature_names), -1))
            if normal.ndim == 1:
                return pd.Series(normal, index=self.feature_names, name="normal")
            return pd.DataFrame(normal, index=self.feature_names, columns=self.pairs)
        values = family.collapse(values)
        return float(values) if np.ndim(values) == 0 else pd.Series(values, index=self.pairs, name=name)

    threshold = property(lambda self: self._lookup("threshold"), doc="The threshold x* (one feature).")
    slope = property(lambda self: self._lookup("slope"), doc="The line's slope dx2/dx1 (two features).")
    intercept = property(lambda self: self._lookup("intercept"), doc="The line's x2 at x1 = 0 (two features).")
    normal = property(lambda self: self._lookup("normal"), doc="The unit normal (more than two features).")
    offset = property(lambda self: self._lookup("offset"), doc="Signed distance from the origin (> 2 features).")

    def __repr__(self) -> str:
        values = listing(self.estimate.index, self.estimate.to_numpy())
        return f"{type(self).__name__}({self.fit.method}, level={self.level}, {values})"

    def _repr_html_(self) -> str:
        """IPython's rich display: :meth:`summary` as a table (digits per column, ``-`` where a figure is missing),
        captioned by the fit's method and the level."""
        from bayeslogit.fits.display import frame, markup

        caption = f"{type(self).__name__}({self.fit.method}, level={self.level})"
        return markup.block(frame.html(self.summary(), caption))


class PointBoundary(Boundary):
    """The boundary of a point fit, with delta-method standard errors."""

    @cached_property
    def jacobian(self) -> np.ndarray:
        """Derivatives of the quantities with respect to ``vec(B)`` at the fit, shape (Q, P*M).

        Computed by complex-step differentiation, ``Im f(b + i h e) / h``, which has no subtraction and
        so is exact to rounding.
        """
        P, M = self.fit.params.shape
        steps = np.eye(P * M).reshape(P * M, M, P).transpose(0, 2, 1)  # unit vec(B) directions as (P, M)
        perturbed = self.fit.params[None, None] + 1j * _COMPLEX_STEP * steps[None]
        quantities = _variables(self.fit.layout, perturbed, self.level)
        flat = np.concatenate([v.reshape(1, P * M, -1) for v in quantities.values()], axis=2)[0]
        return flat.imag.T / _COMPLEX_STEP

    def summary(self, ci_prob: float | None = None, ci_kind: str | None = None) -> pd.DataFrame:
        """Table of the boundary quantities, one row per entry of :attr:`names`.

        Parameters
        ----------
        ci_prob : float, optional
            Probability of the interval; default ``arviz_base.rcParams["stats.ci_prob"]``.
        ci_kind : {"wald"}, optional
            ``estimate -+ z * se``.

        Returns
        -------
        DataFrame with ``estimate``, the delta-method standard error ``se`` (``sqrt(diag(J cov J^T))``)
        and the interval's bounds (``wald89_lb, wald89_ub``).
        """
        ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, intervals.DELTA_KINDS)
        jacobian = self.jacobian
        se = np.sqrt(np.einsum("qi,ij,qj->q", jacobian, self.fit._cov, jacobian))
        estimate = self.estimate.to_numpy()
        lb, ub = intervals.column_names(ci_kind, ci_prob)
        lower, upper = intervals.wald(estimate, se, ci_prob)
        return FormattedFrame(
            {"estimate": estimate, "se": se, lb: lower, ub: upper}, index=pd.Index(self.names, name="quantity")
        )

    def to_datatree(self):
        raise OptionError(
            f"the {self.fit.method.upper()} boundary is a point estimate without draws; use "
            "summary() for its delta-method standard error, or fit_laplace / fit_mcmc for a posterior"
        )


class PosteriorBoundary(Boundary):
    """The boundary of a posterior fit: one boundary per draw, summarised by ArviZ."""

    def summary(self, ci_prob: float | None = None, ci_kind: str | None = None) -> pd.DataFrame:
        """ArviZ's summary of the boundary quantities, one row per entry of :attr:`names`.

        Parameters
        ----------
        ci_prob : float, optional
            Probability of the interval; default ``arviz_base.rcParams["stats.ci_prob"]``.
        ci_kind : {"eti", "hdi"}, optional
            Default ``arviz_base.rcParams["stats.ci_kind"]``.

        Returns
        -------
        DataFrame
            ``mean, sd``, ``median``, the interval's bounds (``eti89_lb, eti89_ub``), ``ess_bulk, ess_tail,
            r_hat, mcse_mean, mcse_sd``; single-chain (Laplace) draws have no R-hat (NaN).
        """
        from arviz_stats import summary

        ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, intervals.POSTERIOR_KINDS)
        # A quantity equal in every draw (the offset of a model without intercept is 0) has no ESS or R-hat:
        # ArviZ returns NaN for it, through a 0 / 0 that NumPy would otherwise report.
        with np.errstate(divide="ignore", invalid="ignore"):
            table = summary(self.to_datatree(), ci_prob=ci_prob, ci_kind=ci_kind, round_to="none")
        table = pd.DataFrame(table).reindex(self.names)
        table.insert(2, "median", self.estimate)
        return FormattedFrame(table)

    def to_datatree(self):
        """The per-draw quantities as an ArviZ DataTree (group ``posterior``, dims ``chain, draw[, feature]
        [, pair]``), for any ArviZ function (``arviz_stats.hdi``, ``arviz_plots.plot_dist``, ...)."""
        from arviz_base import from_dict

        tree = from_dict(
            {"posterior": self.variables}, dims=self._dims, coords={"feature": self.feature_names, "pair": self.pairs}
        )
        tree.attrs.update(level=self.level, method=self.fit.method)
        return tree
