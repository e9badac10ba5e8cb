"""Can the Laplace approximation be trusted? Its importance-sampling check, and the rule every diagnosis follows
(MCMC's are in :mod:`.mcmc_convergence`).

Each diagnosis is computed when the fit is made, which warns :class:`~bayeslogit.ConvergenceWarning` with
the diagnosis's :attr:`message` when it fails; ``fit.diagnose()`` returns it (and warns again), and
:func:`bayeslogit.surface.compare` shows its figures as rows.

Every figure here is estimated from random draws, so each verdict compares an estimate with its threshold
only where the estimate is further from it than its own Monte Carlo noise (:data:`Z` standard errors); where
it is not, the verdict says so ("borderline") rather than choosing a side by the seed.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from bayeslogit.algorithms.laplace import ImportanceWeights, MomentShifts, coef_draws, log_ratios
from bayeslogit.exceptions import Advice, Remedy

Z = 2.0  # standard errors between an estimate and a threshold for the estimate to count as on one side of it
KHAT_THRESHOLD = 0.7  # Pareto-k-hat above which importance sampling (and the Laplace Gaussian) is unreliable
SHIFT_NEGLIGIBLE = 0.2  # posterior sds: a mean or sd moved less than this by the weights is close enough
SHIFT_POOR = 0.5  # posterior sds: a mean or sd moved more than this is misplaced by the Gaussian
DIAGNOSIS_DRAWS = 4000  # Gaussian draws behind the Laplace check (the fit's draws, topped up from its generator)
SECOND_ROUND_DRAWS = 16_000  # the check's draws when the first round is borderline


class Diagnosis:
    """What every diagnosis answers: a ``verdict`` (``"ok"``, ``"borderline"`` or ``"poor"``), whether it is ok, and
    a ``message`` (None when ok)."""

    verdict: str

    @property
    def ok(self) -> bool:
        """Whether the verdict is ``"ok"`` (no warning)."""
        return self.verdict == "ok"


@dataclass(frozen=True)
class LaplaceDiagnosis(Diagnosis):
    """How well the Laplace Gaussian stands in for the exact posterior: importance sampling of the one by the other.

    Two figures, each with its Monte Carlo standard error. Pareto k-hat (ArviZ's PSIS) says whether the
    importance ratios exact posterior / Gaussian have tails too heavy for the Gaussian to stand in (above
    :data:`KHAT_THRESHOLD`). The shifts say how far the Pareto-smoothed weights move each coefficient's mean
    and sd, in posterior sds: the error of the Gaussian's moments, estimated directly. When k-hat is high
    the weights under-represent the tails the Gaussian misses, so the shifts are then too small, never too
    large: a large shift is trusted, a small one vouches for the Gaussian only with a k-hat clearly below its
    threshold. The :attr:`verdict`:

    * ``"poor"``: k-hat above 0.7, or a shift above :data:`SHIFT_POOR`, by more than :data:`Z` standard
      errors (or k-hat cannot be estimated: a few draws carry all the weight);
    * ``"ok"``: k-hat below 0.7 and every shift below :data:`SHIFT_NEGLIGIBLE`, by more than Z standard
      errors;
    * ``"borderline"``: neither, so the approximation may be poor.

    Attributes
    ----------
    khat : float
        Pareto-k-hat of the importance ratios; NaN when it cannot be estimated.
    corrected_coef : Series or DataFrame
        Posterior means re-weighted by the Pareto-smoothed importance weights, labelled like ``coef``.
    n_draws : int
        The Gaussian draws behind the estimates: :data:`DIAGNOSIS_DRAWS` (or the fit's draws, when more), and
        :data:`SECOND_ROUND_DRAWS` when the first round was borderline.
    log_ratio_range : float
        ``max - min`` of the log importance ratios.
    khat_se : float
        Standard error of ``khat`` (see :class:`~bayeslogit.algorithms.laplace.ImportanceWeights`).
    mean_shift, mean_shift_se, sd_shift, sd_shift_se : Series or DataFrame
        The weighted mean less the Gaussian's, and the weighted sd less the Gaussian's, in the Gaussian's sds,
        with their standard errors; labelled like ``coef`` (see
        :class:`~bayeslogit.algorithms.laplace.MomentShifts`).
    """

    khat: float
    corrected_coef: pd.Series | pd.DataFrame
    n_draws: int
    log_ratio_range: float
    khat_se: float
    mean_shift: pd.Series | pd.DataFrame
    mean_shift_se: pd.Series | pd.DataFrame
    sd_shift: pd.Series | pd.DataFrame
    sd_shift_se: pd.Series | pd.DataFrame

    @classmethod
    def of(cls, layout, draws: np.ndarray, log_ratio: np.ndarray) -> "LaplaceDiagnosis":
        """The diagnosis of coefficient draws ``draws`` (S, P, M) from the Gaussian with log importance ratios
        ``log_ratio`` (S,), labelled by ``layout`` (:mod:`bayeslogit.fits.coef_labels`)."""
        weights = ImportanceWeights.smoothed(log_ratio)
        corrected = np.tensordot(np.exp(weights.log_weights), draws, axes=1)
        shifts = MomentShifts.of(draws, weights.log_weights)
        figures = {
            "mean_shift": shifts.mean,
            "mean_shift_se": shifts.mean_se,
            "sd_shift": shifts.sd,
            "sd_shift_se": shifts.sd_se,
        }
        return cls(
            weights.khat,
            layout.labelled(corrected),
            len(draws),
            weights.log_ratio_range,
            weights.khat_se,
            **{name: layout.labelled(figure, name=name) for name, figure in figures.items()},
        )

    @cached_property
    def _shifts(self) -> pd.DataFrame:
        """Every shift (rows ``mean of name``, ``sd of name``) with its ``shift`` (absolute), ``se`` and bounds."""
        parts = []
        moments = (("mean", self.mean_shift, self.mean_shift_se), ("sd", self.sd_shift, self.sd_shift_se))
        for moment, shift, se in moments:
            shift, se = _flat(shift), _flat(se)
            parts.append(
                pd.DataFrame(
                    {"shift": shift.abs().to_numpy(), "se": se.to_numpy()},
                    index=[f"{moment} of {label}" for label in shift.index],
                )
            )
        table = pd.concat(parts)
        return table.assign(lower=table["shift"] - Z * table["se"], upper=table["shift"] + Z * table["se"])

    @property
    def khat_side(self) -> str:
        """``"below"``, ``"near"`` or ``"above"`` :data:`KHAT_THRESHOLD`, by Z standard errors."""
        return side(self.khat, self.khat_se, KHAT_THRESHOLD)

    @property
    def shift_size(self) -> str:
        """``"negligible"`` (every shift below :data:`SHIFT_NEGLIGIBLE` by Z standard errors), ``"large"`` (one
        above :data:`SHIFT_POOR` by Z standard errors) or ``"moderate"``."""
        if (self._shifts["lower"] > SHIFT_POOR).any():
            return "large"
        return "negligible" if (self._shifts["upper"] <= SHIFT_NEGLIGIBLE).all() else "moderate"

    @property
    def verdict(self) -> str:
        """``"ok"``, ``"borderline"`` or ``"poor"``: see the class's description."""
        if not np.isfinite(self.khat) or self.khat_side == "above" or self.shift_size == "large":
            return "poor"
        return "ok" if self.khat_side == "below" and self.shift_size == "negligible" else "borderline"

    @property
    def message(self) -> str | None:
        """What was found and what to do, or None when the approximation is good."""
        verdict = self.verdict
        if verdict == "ok":
            return None
        if not np.isfinite(self.khat):
            return Advice(
                f"Pareto k-hat could not be estimated: the log importance ratios of the exact posterior to the "
                f"Gaussian span {self.log_ratio_range:.3g}, so a few of the {self.n_draws} draws carry all the "
                "weight. The Laplace approximation misses the posterior badly here; use ",
                Remedy("use_mcmc"),
            )
        found = f"{self._khat_text()}, and {self._shift_text()}"
        if verdict == "poor":
            return Advice(
                f"{found}: the Laplace approximation is poor here (the posterior has skew or tails that the "
                "Gaussian at the MAP misses); use ",
                Remedy("use_mcmc"),
            )
        return Advice(f"{found}: the Laplace approximation may be poor here; check it with ", Remedy("use_mcmc"))

    def _khat_text(self) -> str:
        where = {"below": "below", "near": "within its noise of", "above": "above"}[self.khat_side]
        return f"Pareto k-hat = {self.khat:.2f} ± {self.khat_se:.2f}, {where} {KHAT_THRESHOLD}"

    def _shift_text(self) -> str:
        """The shift that decides :attr:`shift_size`: the largest lower bound when large, else the largest upper."""
        size = self.shift_size
        worst = self._shifts.sort_values("lower" if size == "large" else "upper").iloc[-1]
        bounds = {
            "negligible": f"below {SHIFT_NEGLIGIBLE}, negligible",
            "moderate": f"neither clearly below {SHIFT_NEGLIGIBLE} (negligible) nor above {SHIFT_POOR} (poor)",
            "large": f"above {SHIFT_POOR}",
        }[size]
        caveat = {
            "below": "",
            "near": " (k-hat may be high enough for the weights to understate it)",
            "above": " (with k-hat this high the weights understate it)",
        }[self.khat_side]
        return (
            f"the importance weights move the {worst.name} by {worst['shift']:.2f} ± {worst['se']:.2f} posterior "
            f"sds, {bounds}{caveat}"
        )

    @property
    def shift_max(self) -> float:
        """The largest shift of a mean or sd, in posterior sds."""
        return float(self._shifts["shift"].max())

    @property
    def rows(self) -> dict:
        """The figures :func:`bayeslogit.surface.compare` shows: ``khat``, ``khat_se`` and ``shift_max``."""
        return {"khat": self.khat, "khat_se": self.khat_se, "shift_max": self.shift_max}

    def __repr__(self) -> str:
        return (
            f"LaplaceDiagnosis({self.verdict}, khat={self.khat:.2f} ± {self.khat_se:.2f}, "
            f"shift_max={self.shift_max:.2f} sd, {self.n_draws} draws)"
        )

    def _repr_html_(self) -> str:
        """IPython's rich display: the verdict, the draws and the figures :func:`bayeslogit.surface.compare` shows
        (formatted as there), and the message when the verdict is not ok."""
        from bayeslogit.fits.display import frame

        facts = [("verdict", self.verdict), ("draws", str(self.n_draws))]
        return frame.figures_html(type(self).__name__, facts, self.rows, [self.message] if self.message else [])


def laplace_diagnosis(map_fit, latent: np.ndarray, draws: np.ndarray, rng: np.random.Generator) -> LaplaceDiagnosis:
    """The check of the Laplace approximation ``map_fit.gaussian`` from its draws and more.

    The first round uses the fit's standard-normal draws ``latent`` (S, n_free), topped up to
    :data:`DIAGNOSIS_DRAWS` from ``rng``; when its verdict is borderline, a second round adds draws from ``rng``
    up to :data:`SECOND_ROUND_DRAWS` and decides again on all of them. Each draw costs one evaluation of the
    log posterior (see :meth:`~bayeslogit.numerics.objective.Objective.values_of_draws`) and is mapped to its
    coefficients once (:func:`~bayeslogit.algorithms.laplace.coef_draws`).

    Parameters
    ----------
    map_fit : PointFit
        The MAP fit, whose ``gaussian`` is the approximation and ``objective`` the exact log posterior.
    latent : ndarray of shape (S, n_free)
    draws : ndarray of shape (S, P, M)
        The fit's coefficient draws, those of ``latent``.
    rng : numpy.random.Generator
        The generator that drew ``latent``.
    """
    objective, gaussian = map_fit.objective, map_fit.gaussian
    extra = rng.standard_normal((max(DIAGNOSIS_DRAWS - len(latent), 0), objective.n_free))
    z, draws = np.concatenate([latent, extra]), np.concatenate([draws, coef_draws(objective, gaussian, extra)])
    log_ratio = log_ratios(objective, draws, z)
    diagnosis = LaplaceDiagnosis.of(map_fit.layout, draws, log_ratio)
    if diagnosis.verdict != "borderline" or len(z) >= SECOND_ROUND_DRAWS:
        return diagnosis
    extra = rng.standard_normal((SECOND_ROUND_DRAWS - len(z), objective.n_free))
    more = coef_draws(objective, gaussian, extra)
    draws, log_ratio = np.concatenate([draws, more]), np.concatenate([log_ratio, log_ratios(objective, more, extra)])
    return LaplaceDiagnosis.of(map_fit.layout, draws, log_ratio)


def side(estimate: float, se: float, threshold: float) -> str:
    """``"below"`` or ``"above"`` ``threshold`` when ``estimate`` is more than Z ``se`` from it, else ``"near"``."""
    if estimate + Z * se <= threshold:
        return "below"
    return "above" if estimate - Z * se > threshold else "near"


def _flat(figure: pd.Series | pd.DataFrame) -> pd.Series:
    """A Series labelled like ``coef`` as is; a DataFrame [coef x class] as a Series indexed ``name[class]``."""
    if isinstance(figure, pd.Series):
        return figure
    return pd.Series(
        figure.to_numpy().ravel(), index=[f"{name}[{label}]" for name in figure.index for label in figure.columns]
    )
