"""Has MCMC converged? R-hat, bulk, tail and folded ESS, and divergences, each against its threshold beyond its
Monte Carlo noise (:data:`~bayeslogit.fits.diagnostics.convergence.Z` standard errors; within it, "borderline").

The diagnosis is computed when the fit is made, which warns :class:`~bayeslogit.ConvergenceWarning` with its
:attr:`~MCMCDiagnosis.message` when it fails; ``fit.diagnose()`` returns it (and warns again).
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from bayeslogit.exceptions import Advice, Remedy
from bayeslogit.fits.diagnostics.convergence import Diagnosis, side
from bayeslogit.fits.display import cells

RHAT_THRESHOLD = 1.01
ESS_THRESHOLD = 400
ESS_NOISE = 3.0  # an ESS estimate's relative standard error is about ESS_NOISE / sqrt(ESS) (see MCMCDiagnosis)


@dataclass(frozen=True)
class MCMCDiagnosis(Diagnosis):
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
    tail_advice : tuple
        What :attr:`message` adds about the prior's tails: the prior's ``tail_advice``, parts of an
        :class:`~bayeslogit.exceptions.Advice` (none for a Normal).
    higher_target_accept : float
        The target acceptance :attr:`message` suggests: above the one the chains ran at.
    """

    table: pd.DataFrame
    divergences: int
    n_chains: int
    n_draws: int
    tail_advice: tuple = ()
    higher_target_accept: float = 0.95

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
            one_chain = "with one chain R-hat cannot be computed (it compares chains), so convergence is judged on ESS "
            problems.append((one_chain + "alone; run ", Remedy("more_chains", 4)))
        if self.divergences:
            problems.append(f"{self.divergences} divergent transitions")
        remedies = (
            Remedy("more_tuning", 2000),
            ", ",
            Remedy("raise_target_accept", self.higher_target_accept),
            ", or a stronger prior (",
        )
        remedies += (Remedy("smaller_scale"), *self.tail_advice, ")")
        if verdict == "poor":
            remedies = ("Try ", *remedies)
        else:
            settle = ("These figures are within their noise of the thresholds, so convergence is uncertain: run more ",)
            settle += ("draws (", Remedy("more_draws", 2 * self.n_draws), ") to settle it, and if it persists try ")
            remedies = (*settle, *remedies)
        said = [
            part for problem in problems for part in ("; ", *(problem if isinstance(problem, tuple) else (problem,)))
        ]
        return Advice("MCMC may not have converged: ", *said[1:], ". ", *remedies)

    def _figures(self, name: str, shown: pd.Series) -> str:
        """``r_hat=1.020 ± 0.004, ess_tail=280 ± 50`` for the figures of coefficient ``name`` marked in ``shown``."""
        texts = []
        for figure in shown.index[shown.to_numpy()]:
            value, se = self.table.loc[name, figure], self.standard_errors.loc[name, figure]
            digits = 3 if figure == "r_hat" else 0
            texts.append(f"{figure}={value:.{digits}f} ± {se:.{digits}f}")
        return ", ".join(texts)

    def __repr__(self) -> str:
        figures = ", ".join(
            f"{name}={cells.figure(value, cells.spec_of(name, '{:.4g}'))}" for name, value in self.rows.items()
        )
        return f"MCMCDiagnosis({self.verdict}, {self.n_chains} x {self.n_draws} draws, {figures})"

    def _repr_html_(self) -> str:
        """IPython's rich display: the verdict, the draws and the figures :func:`bayeslogit.surface.compare` shows
        (formatted as there), the message when the verdict is not ok, and R-hat and ESS per coefficient."""
        from bayeslogit.fits.display import frame

        facts = [("verdict", self.verdict), ("draws", f"{self.n_chains} x {self.n_draws}")]
        notes = [self.message] if self.message else []
        return frame.figures_html(type(self).__name__, facts, self.rows, notes, self.table)

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
    found = side(estimate, se, threshold)
    return "near" if found == "near" else "good" if found == good else "bad"
