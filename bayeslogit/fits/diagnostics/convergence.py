"""Can a posterior fit be trusted? The Laplace approximation's importance-sampling check and MCMC's convergence checks.

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

Z = 2.0  # standard errors between an estimate and a threshold for the estimate to count as on one side of it
KHAT_THRESHOLD = 0.7  # Pareto-k-hat above which importance sampling (and the Laplace Gaussian) is unreliable
SHIFT_NEGLIGIBLE = 0.2  # posterior sds: a mean or sd moved less than this by the weights is close enough
SHIFT_POOR = 0.5  # posterior sds: a mean or sd moved more than this is misplaced by the Gaussian
DIAGNOSIS_DRAWS = 4000  # Gaussian draws behind the Laplace check (the fit's draws, topped up from its generator)
SECOND_ROUND_DRAWS = 16_000  # the check's draws when the first round is borderline
RHAT_THRESHOLD = 1.01
ESS_THRESHOLD = 400
ESS_NOISE = 3.0  # an ESS estimate's relative standard error is about ESS_NOISE / sqrt(ESS) (see MCMCDiagnosis)


@dataclass(frozen=True)
class LaplaceDiagnosis:
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
        return _side(self.khat, self.khat_se, KHAT_THRESHOLD)

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
    def ok(self) -> bool:
        """Whether the verdict is ``"ok"`` (no warning)."""
        return self.verdict == "ok"

    @property
    def message(self) -> str | None:
        """What was found and what to do, or None when the approximation is good."""
        verdict = self.verdict
        if verdict == "ok":
            return None
        if not np.isfinite(self.khat):
            return (
                f"Pareto k-hat could not be estimated: the log importance ratios of the exact posterior to the "
                f"Gaussian span {self.log_ratio_range:.3g}, so a few of the {self.n_draws} draws carry all the "
                "weight. The Laplace approximation misses the posterior badly here; use fit_mcmc"
            )
        found = f"{self._khat_text()}, and {self._shift_text()}"
        if verdict == "poor":
            return (
                f"{found}: the Laplace approximation is poor here (the posterior has skew or tails that the "
                "Gaussian at the MAP misses); use fit_mcmc"
            )
        return f"{found}: the Laplace approximation may be poor here; check it with fit_mcmc"

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


def laplace_diagnosis(map_fit, latent: np.ndarray, rng: np.random.Generator) -> LaplaceDiagnosis:
    """The check of the Laplace approximation ``map_fit.gaussian`` from its draws ``latent`` and more.

    The first round uses the fit's standard-normal draws ``latent`` (S, n_free), topped up to
    :data:`DIAGNOSIS_DRAWS` from ``rng``; when its verdict is borderline, a second round adds draws from ``rng``
    up to :data:`SECOND_ROUND_DRAWS` and decides again on all of them. Each draw costs one evaluation of the
    log posterior (see :meth:`~bayeslogit.numerics.objective.Objective.values_of_draws`).

    Parameters
    ----------
    map_fit : PointFit
        The MAP fit, whose ``gaussian`` is the approximation and ``objective`` the exact log posterior.
    latent : ndarray of shape (S, n_free)
    rng : numpy.random.Generator
        The generator that drew ``latent``.
    """
    objective, gaussian = map_fit.objective, map_fit.gaussian
    z = np.concatenate([latent, rng.standard_normal((max(DIAGNOSIS_DRAWS - len(latent), 0), objective.n_free))])
    log_ratio = log_ratios(objective, gaussian, z)
    diagnosis = LaplaceDiagnosis.of(map_fit.layout, coef_draws(objective, gaussian, z), log_ratio)
    if diagnosis.verdict != "borderline" or len(z) >= SECOND_ROUND_DRAWS:
        return diagnosis
    extra = rng.standard_normal((SECOND_ROUND_DRAWS - len(z), objective.n_free))
    z, log_ratio = np.concatenate([z, extra]), np.concatenate([log_ratio, log_ratios(objective, gaussian, extra)])
    return LaplaceDiagnosis.of(map_fit.layout, coef_draws(objective, gaussian, z), log_ratio)


def _side(estimate: float, se: float, threshold: float) -> str:
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


@dataclass(frozen=True)
class MCMCDiagnosis:
    """Convergence of the chains: R-hat and bulk and tail ESS per coefficient, and divergent transitions.

    Each figure is compared with its threshold only beyond :data:`Z` of its standard errors:

    * R-hat (two chains or more) with 1.01, above it only. Under convergence, split R-hat over ``m = 2 n_chains``
      half-chains has sd ``sqrt(2 / (m - 1)) m / (2 ESS)`` (its between-chain variance is a chi-square of ``m - 1``
      degrees of freedom over the ESS per half-chain); ArviZ's rank R-hat is the larger of the bulk and folded
      R-hats, so ESS is the smaller of the bulk and folded ESS. Converged chains put R-hat about ``m / (2 ESS)``
      above 1 as well, so that with a few hundred ESS it sits just below 1.01 by its nature: a band below 1.01
      would call such runs uncertain by the seed. What R-hat cannot tell at a low ESS, the ESS's own band says.
    * bulk and tail ESS with 400: an ESS estimate has a relative sd of about :data:`ESS_NOISE` ``/ sqrt(ESS)``
      (Madras and Sokal's variance of an integrated autocorrelation time ``tau`` summed over a window of ``W``
      lags, ``2 (2W + 1) tau^2 / N``, with ``W`` about ``2 tau``).
    * divergent transitions with none: a count, of Poisson sd ``sqrt(d)`` (so 1 to 4 are within their noise).

    The :attr:`verdict` is ``"poor"`` when a figure is on the wrong side of its threshold beyond that noise (or
    cannot be computed), ``"ok"`` when every one is on the right side beyond it, and ``"borderline"`` otherwise.

    Attributes
    ----------
    table : DataFrame
        ArviZ's ``r_hat``, ``ess_bulk``, ``ess_tail`` and ``ess_folded`` (the ESS of the draws' distances from
        their median) per coefficient (index: ``layout.flat_labels``).
    divergences : int
        Divergent transitions after tuning, all chains together.
    n_chains, n_draws : int
        Chains, and draws per chain.
    tail_advice : str
        What :attr:`message` adds about the prior's tails (the prior's ``tail_advice``; empty for a Normal).
    """

    table: pd.DataFrame
    divergences: int
    n_chains: int
    n_draws: int
    tail_advice: str = ""

    @cached_property
    def checks(self) -> pd.DataFrame:
        """Per coefficient (rows) and figure (columns ``r_hat`` with two chains or more, ``ess_bulk``, ``ess_tail``):
        ``"good"``, ``"near"`` (within Z standard errors of its threshold), ``"bad"`` or ``"unknown"`` (NaN: too
        few draws, or a chain that never moved). R-hat compares chains, so a single chain is judged on ESS alone."""
        table, states = self.table, {}
        if self.n_chains > 1:
            states["r_hat"] = [_rhat_state(*figures) for figures in zip(table["r_hat"], self.standard_errors["r_hat"])]
        for name in ("ess_bulk", "ess_tail"):
            states[name] = [
                _state(*figures, ESS_THRESHOLD, "above") for figures in zip(table[name], self.standard_errors[name])
            ]
        return pd.DataFrame(states, index=table.index)

    @cached_property
    def standard_errors(self) -> pd.DataFrame:
        """The standard errors of ``r_hat``, ``ess_bulk`` and ``ess_tail`` (see the class's description)."""
        table, m = self.table, 2 * self.n_chains
        return pd.DataFrame(
            {
                "r_hat": np.sqrt(2 / max(m - 1, 1))
                * m
                / (2 * table[["ess_bulk", "ess_folded"]].min(axis=1, skipna=False)),
                "ess_bulk": ESS_NOISE * np.sqrt(table["ess_bulk"]),
                "ess_tail": ESS_NOISE * np.sqrt(table["ess_tail"]),
            }
        )

    @property
    def divergence_state(self) -> str:
        """``"good"`` (none), ``"near"`` (1 to 4: within the Poisson noise of none) or ``"bad"``."""
        return _state(self.divergences, np.sqrt(self.divergences), 0, "below")

    @property
    def concerned(self) -> list[str]:
        """Coefficients with a figure that is not clearly good."""
        return list(self.checks.index[(self.checks != "good").any(axis=1)])

    @property
    def verdict(self) -> str:
        """``"ok"``, ``"borderline"`` or ``"poor"``: see the class's description."""
        states = set(self.checks.to_numpy().ravel()) | {self.divergence_state}
        if states & {"bad", "unknown"}:
            return "poor"
        return "ok" if states == {"good"} else "borderline"

    @property
    def ok(self) -> bool:
        """Whether the verdict is ``"ok"`` (no warning)."""
        return self.verdict == "ok"

    @property
    def message(self) -> str | None:
        """What is wrong and what to do, or None when the chains pass every check."""
        verdict = self.verdict
        if verdict == "ok":
            return None
        checks = self.checks.loc[self.concerned]
        problems = []
        unknown = checks.index[(checks == "unknown").any(axis=1)]
        if len(unknown):
            problems.append(
                f"{' or '.join(['R-hat'] * (self.n_chains > 1) + ['ESS'])} could not be computed for "
                f"{', '.join(unknown)} (too few draws: {self.n_chains} chain(s) of {self.n_draws}, or a "
                "chain that never moved)"
            )
        # A poor verdict names the figures beyond their noise; a borderline one those within it.
        state, where = ("bad", "beyond") if verdict == "poor" else ("near", "within")
        rows = checks[(checks == state).any(axis=1) & ~checks.index.isin(unknown)]
        if len(rows):
            criteria = f"R-hat > {RHAT_THRESHOLD} or " * (self.n_chains > 1) + f"ESS < {ESS_THRESHOLD}"
            shown = ", ".join(f"{name} ({self._figures(name, row == state)})" for name, row in rows.iterrows())
            problems.append(f"{criteria} {where} their Monte Carlo noise for {shown}")
        if self.n_chains == 1 and self.concerned:
            problems.append(
                "with one chain R-hat cannot be computed (it compares chains), so convergence is "
                "judged on ESS alone; run chains=4"
            )
        if self.divergences:
            problems.append(f"{self.divergences} divergent transitions")
        remedies = (
            f"more tuning (tune=2000) and draws, a higher target_accept (target_accept=0.95), or a stronger "
            f"prior (a smaller scale{self.tail_advice})"
        )
        advice = (
            f"Try {remedies}"
            if verdict == "poor"
            else "These figures are within their noise of the thresholds, "
            f"so convergence is uncertain: run more draws (draws={2 * self.n_draws}) to settle it, and if it "
            f"persists try {remedies}"
        )
        return "MCMC may not have converged: " + "; ".join(problems) + ". " + advice

    def _figures(self, name: str, shown: pd.Series) -> str:
        """``r_hat=1.020 ± 0.004, ess_tail=280 ± 50`` for the figures of coefficient ``name`` marked in ``shown``."""
        texts = []
        for figure in shown.index[shown.to_numpy()]:
            value, se = self.table.loc[name, figure], self.standard_errors.loc[name, figure]
            digits = 3 if figure == "r_hat" else 0
            texts.append(f"{figure}={value:.{digits}f} ± {se:.{digits}f}")
        return ", ".join(texts)

    def __repr__(self) -> str:
        figures = ", ".join(f"{name}={value:.4g}" for name, value in self.rows.items())
        return f"MCMCDiagnosis({self.verdict}, {self.n_chains} x {self.n_draws} draws, {figures})"

    @property
    def rows(self) -> dict:
        """The figures :func:`bayeslogit.surface.compare` shows: the worst R-hat and ESS, and the divergences."""
        return {
            "r_hat_max": float(self.table["r_hat"].max()),
            "ess_bulk_min": float(self.table["ess_bulk"].min()),
            "ess_tail_min": float(self.table["ess_tail"].min()),
            "divergences": self.divergences,
        }


def folded_ess(draws: np.ndarray) -> np.ndarray:
    """ArviZ's ESS of the draws' distances from their median (``method="folded"``), the figure behind the folded half
    of the rank R-hat, of draws (n_chains, n_draws, P, M); shape (P*M,), ordered like ``layout.flat_labels``."""
    from arviz_stats.base import array_stats

    flat = draws.transpose(0, 1, 3, 2).reshape(*draws.shape[:2], -1)  # vec(B), class-major
    return array_stats.ess(flat.transpose(2, 0, 1), method="folded")


def _rhat_state(r_hat: float, se: float) -> str:
    """R-hat's state: ``"good"`` at or below 1.01, else ``"bad"`` or ``"near"`` by Z standard errors ``se``."""
    return _state(r_hat, 0.0 if r_hat <= RHAT_THRESHOLD else se, RHAT_THRESHOLD, "below")


def _state(estimate: float, se: float, threshold: float, good: str) -> str:
    """``"good"`` or ``"bad"`` when ``estimate`` is more than Z ``se`` on the ``good`` side (``"below"`` or
    ``"above"``) of ``threshold`` or the other, ``"near"`` when within, ``"unknown"`` when either is NaN."""
    if not (np.isfinite(estimate) and np.isfinite(se)):
        return "unknown"
    side = _side(estimate, se, threshold)
    return "near" if side == "near" else "good" if side == good else "bad"
