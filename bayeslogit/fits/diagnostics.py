"""Can a posterior fit be trusted? The Laplace approximation's Pareto k-hat and MCMC's convergence checks.

Each diagnosis is computed when the fit is made, which warns :class:`~bayeslogit.ConvergenceWarning` with
the diagnosis's :attr:`message` when it fails; ``fit.diagnose()`` returns it (and warns again), and
:func:`bayeslogit.compare` shows its figures as rows.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..algorithms.laplace import PSIS_MIN_DRAWS

KHAT_THRESHOLD = 0.7  # Pareto-k-hat above which importance sampling (and the Laplace Gaussian) is unreliable
RHAT_THRESHOLD = 1.01
ESS_THRESHOLD = 400


@dataclass(frozen=True)
class LaplaceDiagnosis:
    """How well the Laplace Gaussian stands in for the exact posterior.

    Attributes
    ----------
    khat : float
        Pareto-k-hat of the importance ratios exact posterior / Gaussian (reliable below 0.7); NaN when it
        cannot be estimated.
    corrected_coef : Series or DataFrame
        Posterior means re-weighted by the Pareto-smoothed importance weights, labelled like ``coef``.
    n_draws : int
        The Gaussian draws behind the estimate.
    log_ratio_range : float
        ``max - min`` of the log importance ratios.
    """

    khat: float
    corrected_coef: pd.Series | pd.DataFrame
    n_draws: int
    log_ratio_range: float

    @property
    def ok(self) -> bool:
        return bool(self.khat <= KHAT_THRESHOLD)

    @property
    def message(self) -> str | None:
        """What is wrong and what to do, or None when the approximation is good."""
        if self.ok:
            return None
        if np.isfinite(self.khat):
            return (f"Pareto k-hat = {self.khat:.2f} > {KHAT_THRESHOLD}: the Laplace approximation is poor here "
                    "(the posterior has skew or tails that the Gaussian at the MAP misses); use fit_mcmc")
        if self.n_draws < PSIS_MIN_DRAWS:
            return (f"Pareto k-hat could not be computed from {self.n_draws} draws (it needs at least "
                    f"{PSIS_MIN_DRAWS}), so the Laplace approximation is unchecked; draw more (draws=4000)")
        return (f"Pareto k-hat could not be estimated: the log importance ratios of the exact posterior to the "
                f"Gaussian span {self.log_ratio_range:.3g}, so a few of the {self.n_draws} draws carry all the "
                "weight. The Laplace approximation misses the posterior badly here; use fit_mcmc")

    @property
    def rows(self) -> dict:
        """The figures :func:`bayeslogit.compare` shows: ``khat``."""
        return {"khat": self.khat}

    def __repr__(self) -> str:
        return f"LaplaceDiagnosis(khat={self.khat:.3g}, {'ok' if self.ok else 'POOR'}, {self.n_draws} draws)"


@dataclass(frozen=True)
class MCMCDiagnosis:
    """Convergence of the chains.

    Attributes
    ----------
    table : DataFrame
        ArviZ's ``r_hat``, ``ess_bulk`` and ``ess_tail`` per coefficient (index: ``layout.flat_labels``).
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
    def concerned(self) -> list[str]:
        """Coefficients whose bulk or tail ESS is below 400 or whose R-hat exceeds 1.01, or for which ArviZ
        could not compute them (NaN: too few draws, or a chain that never moved). R-hat compares chains, so
        a single chain is judged on its ESS alone."""
        # Written as "not good" so that a NaN diagnostic (it compares False with anything) is a problem.
        good = (self.table[["ess_bulk", "ess_tail"]] >= ESS_THRESHOLD).all(axis=1)
        if self.n_chains > 1:
            good &= self.table["r_hat"] <= RHAT_THRESHOLD
        return list(self.table.index[~good])

    @property
    def ok(self) -> bool:
        return not self.concerned and self.divergences == 0

    @property
    def message(self) -> str | None:
        """What is wrong and what to do, or None when the chains pass every check."""
        if self.ok:
            return None
        judged = ["r_hat"] * (self.n_chains > 1) + ["ess_bulk", "ess_tail"]
        table = self.table.loc[self.concerned, judged]
        unknown = ~np.isfinite(table.to_numpy()).all(axis=1)
        problems = []
        if unknown.any():
            problems.append(f"{' or '.join(['R-hat'] * (self.n_chains > 1) + ['ESS'])} could not be computed for "
                            f"{', '.join(table.index[unknown])} (too few draws: {self.n_chains} chain(s) of "
                            f"{self.n_draws}, or a chain that never moved)")
        if not unknown.all():
            shown = ", ".join(f"{name} ({_figures(row)})" for name, row in table[~unknown].iterrows())
            criteria = f"R-hat > {RHAT_THRESHOLD} or " * (self.n_chains > 1) + f"ESS < {ESS_THRESHOLD}"
            problems.append(f"{criteria} for {shown}")
        if self.n_chains == 1 and self.concerned:
            problems.append("with one chain R-hat cannot be computed (it compares chains), so convergence is "
                            "judged on ESS alone; run chains=4")
        if self.divergences:
            problems.append(f"{self.divergences} divergent transitions")
        return ("MCMC may not have converged: " + "; ".join(problems) + ". Try more tuning (tune=2000) and draws, "
                f"a higher target_accept (target_accept=0.95), or a stronger prior (a smaller scale{self.tail_advice})")

    def __repr__(self) -> str:
        figures = ", ".join(f"{name}={value:.4g}" for name, value in self.rows.items())
        return f"MCMCDiagnosis({'ok' if self.ok else 'NOT converged'}, {self.n_chains} x {self.n_draws} draws, {figures})"

    @property
    def rows(self) -> dict:
        """The figures :func:`bayeslogit.compare` shows: the worst R-hat and ESS, and the divergences."""
        return {"r_hat_max": float(self.table["r_hat"].max()), "ess_bulk_min": float(self.table["ess_bulk"].min()),
                "ess_tail_min": float(self.table["ess_tail"].min()), "divergences": self.divergences}


def _figures(row: pd.Series) -> str:
    """``r_hat=1.020, ess_bulk=310, ess_tail=280`` for the diagnostics in ``row``."""
    return ", ".join(f"{name}={value:.3f}" if name == "r_hat" else f"{name}={value:.0f}" for name, value in row.items())
