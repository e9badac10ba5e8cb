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
draw (1, 1), a posterior fit keeps the chains of its ``samples`` so that ArviZ's R-hat is meaningful.
"""

from dataclasses import dataclass
from functools import cached_property
from itertools import product

import numpy as np
import pandas as pd
from scipy.special import logit

from .fits import PointFit, normal_interval

_COMPLEX_STEP = 1e-30  # step of the complex-step derivative: exact to rounding for any step this small


def class_pairs(classes) -> list[tuple[int, int]]:
    """Index pairs ``(j, k)``, ``j < k``, of the classes whose boundaries are reported."""
    return [(j, k) for j in range(len(classes)) for k in range(j + 1, len(classes))]


def pair_label(classes, pair: tuple[int, int]) -> str:
    """``"a|b"`` for the pair of classes ``(a, b)``."""
    return f"{classes[pair[0]]}|{classes[pair[1]]}"


def pair_directions(model, draws: np.ndarray) -> np.ndarray:
    """Directions ``theta_k - theta_j`` of every class pair.

    Parameters
    ----------
    model : LogisticModel
    draws : ndarray of shape (..., P, M)
        Coefficient matrices.

    Returns
    -------
    ndarray of shape (..., P, n_pairs)
        For a binary model ``n_pairs = 1`` and the direction is the coefficient vector itself.
    """
    if model.likelihood == "bernoulli":
        return draws
    flat = draws.reshape(-1, draws.shape[-1])
    theta = model.full_logits(flat).reshape(*draws.shape[:-1], model.n_classes)  # zeros for a reference class
    pairs = class_pairs(model.classes_)
    return np.stack([theta[..., k] - theta[..., j] for j, k in pairs], axis=-1)


def boundary_quantities(directions: np.ndarray, intercept: bool, level: float = 0.5) -> dict:
    """The quantities that place the boundary ``w_0 + w^T x = logit(level)``.

    Parameters
    ----------
    directions : ndarray of shape (..., P, L)
        ``w`` for each of ``L`` pairs of classes (see :func:`pair_directions`); real or complex.
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
    w = directions[..., int(intercept):, :]
    shift = logit(level) - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        if w.shape[-2] == 1:
            return {"threshold": shift / w[..., 0, :]}
        if w.shape[-2] == 2:
            return {"slope": -w[..., 0, :] / w[..., 1, :], "intercept": shift / w[..., 1, :]}
        norm = np.sqrt((w**2).sum(axis=-2))  # not np.linalg.norm, which drops the complex step
        return {"normal": w / norm[..., None, :], "offset": shift / norm}


@dataclass(frozen=True, eq=False)
class Boundary:
    """The decision boundary of a fit: where ``Pr(class) = level`` (ties of class pairs, for multiclass).

    Built by ``fit.boundary(level)``. A point fit gives one value per quantity with delta-method
    standard deviations from ``fit.cov``; a posterior fit gives one value per posterior draw, so every
    quantity has a posterior, summarised by ArviZ.

    The quantities are ratios of coefficients (see :mod:`bayeslogit.boundary`): when the denominator's
    uncertainty reaches zero their distribution has heavy tails (the mean and sd may not exist), so read
    the median and the HDI of :meth:`summary`, which :attr:`estimate` reports for posterior fits. For the
    same reason the delta-method sd of a point fit is trustworthy only when the denominator is many
    standard errors from zero.

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
        return [pair_label(self.model.classes_, pair) for pair in class_pairs(self.model.classes_)]

    @property
    def is_posterior(self) -> bool:
        return not isinstance(self.fit, PointFit)

    @cached_property
    def _dims(self) -> dict:
        multiclass = self.model.likelihood == "categorical"
        return {name: ["feature"] * (name == "normal") + ["pair"] * multiclass for name in self.variables}

    @cached_property
    def names(self) -> list[str]:
        """Row labels of :meth:`summary`, e.g. ``slope``, ``normal[arsenic]``, ``slope[setosa|versicolor]``."""
        coords = {"feature": self.feature_names, "pair": self.pairs}
        labels = []
        for name, dims in self._dims.items():
            for combination in product(*(coords[d] for d in dims)):
                labels.append(f"{name}[{', '.join(map(str, combination))}]" if dims else name)
        return labels

    def draws(self) -> np.ndarray:
        """All quantities per draw, shape (n_chains, n_draws, Q) in the order of :attr:`names`."""
        n_chains, n_draws = next(iter(self.variables.values())).shape[:2]
        return np.concatenate([v.reshape(n_chains, n_draws, -1) for v in self.variables.values()], axis=2)

    @property
    def estimate(self) -> pd.Series:
        """The point fit's values, or the posterior medians (robust to the heavy tails of ratios)."""
        flat = self.draws().reshape(-1, len(self.names))
        return pd.Series(np.median(flat, axis=0), index=self.names, name="estimate")

    def _lookup(self, name: str):
        if name not in self.variables:
            raise AttributeError(f"a boundary in {len(self.feature_names)} feature(s) has "
                                 f"{' and '.join(self.variables)}, not {name}")
        values = self.estimate[[label for label in self.names if label.split("[")[0] == name]]
        if name == "normal":
            frame = values.to_numpy().reshape(len(self.feature_names), -1)
            table = pd.DataFrame(frame, index=self.feature_names, columns=self.pairs)
            return table.iloc[:, 0].rename("normal") if self.model.likelihood == "bernoulli" else table
        if self.model.likelihood == "bernoulli":
            return float(values.iloc[0])
        return pd.Series(values.to_numpy(), index=self.pairs, name=name)

    threshold = property(lambda self: self._lookup("threshold"), doc="The threshold x* (one feature).")
    slope = property(lambda self: self._lookup("slope"), doc="The line's slope dx2/dx1 (two features).")
    intercept = property(lambda self: self._lookup("intercept"), doc="The line's x2 at x1 = 0 (two features).")
    normal = property(lambda self: self._lookup("normal"), doc="The unit normal (more than two features).")
    offset = property(lambda self: self._lookup("offset"), doc="Signed distance from the origin (> 2 features).")

    @cached_property
    def jacobian(self) -> np.ndarray:
        """Derivatives of the quantities with respect to ``vec(B)`` at a point fit, shape (Q, P*M).

        Computed by complex-step differentiation, ``Im f(b + i h e) / h``, which has no subtraction and
        so is exact to rounding.
        """
        if self.is_posterior:
            raise TypeError("a posterior boundary has draws instead of a Jacobian; see draws() and summary()")
        P, M = self.fit.params.shape
        steps = np.eye(P * M).reshape(P * M, M, P).transpose(0, 2, 1)  # unit vec(B) directions as (P, M)
        perturbed = self.fit.params[None, None] + 1j * _COMPLEX_STEP * steps[None]
        quantities = _variables(self.model, perturbed, self.level)
        flat = np.concatenate([v.reshape(1, P * M, -1) for v in quantities.values()], axis=2)[0]
        return flat.imag.T / _COMPLEX_STEP

    def summary(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        """Table of the boundary quantities, one row per entry of :attr:`names`.

        Parameters
        ----------
        hdi_prob : float
            Posterior fits: the probability of the highest-density interval. Point fits: of the normal
            interval ``estimate +- z * sd``.

        Returns
        -------
        DataFrame
            Posterior fits: ArviZ's summary (``mean, sd, hdi{pct}_lb, hdi{pct}_ub, ess_bulk, ess_tail,
            r_hat, mcse_mean, mcse_sd``) with ``median`` after ``sd``; single-chain (Laplace) draws have
            no R-hat (NaN). Point fits: ``estimate``, the delta-method ``sd`` (``sqrt(diag(J cov J^T))``),
            ``lower`` and ``upper``.
        """
        if not 0 < hdi_prob < 1:
            raise ValueError(f"`hdi_prob` must be in (0, 1); got {hdi_prob}")
        if self.is_posterior:
            from arviz_stats import summary

            table = summary(self.to_datatree(), ci_prob=hdi_prob, ci_kind="hdi", round_to="none")
            table = pd.DataFrame(table).reindex(self.names)
            table.insert(2, "median", self.estimate)
            return table
        jacobian = self.jacobian
        sd = np.sqrt(np.einsum("qi,ij,qj->q", jacobian, self.fit.cov.to_numpy(), jacobian))
        estimate = self.estimate.to_numpy()
        lower, upper = normal_interval(estimate, sd, hdi_prob)
        return pd.DataFrame({"estimate": estimate, "sd": sd, "lower": lower, "upper": upper},
                            index=pd.Index(self.names, name="quantity"))

    def to_datatree(self):
        """The per-draw quantities as an ArviZ DataTree (group ``posterior``, dims ``chain, draw[, feature]
        [, pair]``), for any ArviZ function (``arviz_stats.hdi``, ``arviz_plots.plot_dist``, ...)."""
        if not self.is_posterior:
            raise TypeError(f"the {self.fit.method.upper()} boundary is a point estimate without draws; use "
                            "summary() for its delta-method sd, or fit_laplace / fit_mcmc for a posterior")
        from arviz_base import from_dict

        tree = from_dict({"posterior": self.variables}, dims=self._dims,
                         coords={"feature": self.feature_names, "pair": self.pairs})
        tree.attrs.update(level=self.level, method=self.fit.method)
        return tree

    def __repr__(self) -> str:
        kind = "posterior medians" if self.is_posterior else "estimates"
        return (f"Boundary({self.fit.method}, level={self.level}, features={self.feature_names}) {kind}:\n"
                f"{self.estimate.to_string()}")


def _variables(model, draws: np.ndarray, level: float) -> dict:
    """Boundary quantities of coefficient draws (n_chains, n_draws, P, M), the pair axis dropped if binary."""
    values = boundary_quantities(pair_directions(model, draws), model.intercept, level)
    if model.likelihood == "bernoulli":
        values = {name: v[..., 0] for name, v in values.items()}
    return values


def boundary(fit, level: float = 0.5) -> Boundary:
    """The decision boundary of ``fit`` at ``level``; see :class:`Boundary`.

    Parameters
    ----------
    fit : PointFit or PosteriorFit
    level : float
        The probability, in (0, 1), at which the boundary is drawn: ``Pr(classes_[1]) = level`` for a binary
        model, ``Pr(k | j or k) = level`` for a pair of classes ``j < k`` of a multiclass model.

    Returns
    -------
    Boundary
    """
    if not 0 < level < 1:
        raise ValueError(f"`level` must be a probability in (0, 1); got {level}")
    if not fit.model.feature_names:
        raise ValueError("the model has no features, so its prediction is the same everywhere and there is no "
                         "boundary; add predictors")
    draws = fit.params[None, None] if isinstance(fit, PointFit) else fit.samples
    return Boundary(fit, float(level), _variables(fit.model, draws, level))
