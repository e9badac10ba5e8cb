"""A multilevel model's posterior drawn by NUTS: its tables from the draws, the diagnosis of the chains, the groups'
boundaries with their R-hat and ESS, and predictions averaged over the draws."""

from functools import cached_property

import numpy as np
import pandas as pd

from bayeslogit.fits.diagnostics.mcmc_convergence import MCMCDiagnosis, folded_ess
from bayeslogit.fits.results.group_effects import (
    covariance_of,
    linear_predictors,
    new_group_shifts,
    ranef_table,
    term_slices,
)
from bayeslogit.fits.results.multilevel import GroupLayout, MultilevelFitBase
from bayeslogit.fits.statistics import intervals


def multilevel_diagnosis(posterior, layout: GroupLayout) -> MCMCDiagnosis:
    """R-hat, bulk and tail ESS (ArviZ's) and the folded ESS of the fixed effects, the group sds and the
    correlations, indexed as :meth:`MultilevelMCMCFit.summary` names them, and the divergent transitions; its advice
    raises the target acceptance to 0.99, above the 0.95 multilevel fits run at by default."""
    from arviz_stats.base import array_stats

    names = [*layout.flat_coef_names, *(f"sd[{label}]" for label in layout.sd_labels)]
    parts = [flat_coef(posterior.posterior["coef"].values), posterior.posterior["group_sd"].values]
    if layout.corr_labels:
        names += [f"corr[{label}]" for label in layout.corr_labels]
        parts.append(posterior.posterior["group_corr"].values)
    draws = np.concatenate(parts, axis=2)  # (chains, draws, K)
    by_quantity = draws.transpose(2, 0, 1)
    table = pd.DataFrame(
        {
            "r_hat": array_stats.rhat(by_quantity, method="rank"),
            "ess_bulk": array_stats.ess(by_quantity, method="bulk"),
            "ess_tail": array_stats.ess(by_quantity, method="tail", prob=(0.05, 0.95)),
            "ess_folded": folded_ess(draws[..., None]),
        },
        index=names,
    )
    divergences = int(posterior.sample_stats["diverging"].values.sum())
    return MCMCDiagnosis(table, divergences, draws.shape[0], draws.shape[1], higher_target_accept=0.99)


def flat_coef(values: np.ndarray) -> np.ndarray:
    """Coefficient draws (chains, draws, p) as they are, or (chains, draws, p, M) as ``vec(B)`` (chains, draws,
    p M), class-major."""
    if values.ndim == 3:
        return values
    return values.swapaxes(-1, -2).reshape(*values.shape[:2], -1)


class MultilevelMCMCFit(MultilevelFitBase):
    """A multilevel model's posterior, drawn by NUTS in the non-centred parameterisation.

    Attributes
    ----------
    posterior : xarray.DataTree
        :func:`~bayeslogit.algorithms.pymc_multilevel.sample_multilevel`'s draws: ``coef``, ``group_sd``,
        ``group_corr``, ``b__<label>``, and the sampler's statistics.
    diagnosis : MCMCDiagnosis
        R-hat, ESS and divergences of the fixed effects, sds and correlations.
    """

    method = "mcmc"

    def __init__(self, posterior, diagnosis, layout, source, prior, group_prior, seconds=0.0):
        self.posterior, self.diagnosis, self.layout, self.source = posterior, diagnosis, layout, source
        self.prior, self.group_prior, self.seconds = prior, group_prior, seconds

    def draws(self, name: str) -> np.ndarray:
        """The draws of posterior variable ``name`` with chains and draws flattened first: (S, ...)."""
        values = self.posterior.posterior[name].values
        return values.reshape(-1, *values.shape[2:])

    @cached_property
    def _coef(self) -> np.ndarray:
        """The fixed effects' draws ``vec(B)`` (S, p M)."""
        values = flat_coef(self.posterior.posterior["coef"].values)
        return values.reshape(-1, values.shape[-1])

    @property
    def coef(self) -> pd.Series | pd.DataFrame:
        """The fixed effects' posterior means; a DataFrame [coef x class] for a categorical model."""
        return self.layout.coef_table(self._coef.mean(axis=0), self.method)

    @property
    def cov(self) -> pd.DataFrame:
        """The fixed effects' posterior covariance, labelled ``"x[B]"`` for a categorical model."""
        names = self.layout.flat_coef_names
        return pd.DataFrame(
            np.cov(self._coef, rowvar=False).reshape(len(names), len(names)), index=names, columns=names
        )

    @property
    def group_sd(self) -> pd.Series:
        """Each term column's group-level sd, posterior mean."""
        return pd.Series(self.draws("group_sd").mean(axis=0), index=self.layout.sd_labels, name=self.method)

    @property
    def group_corr(self) -> pd.Series:
        """The correlated terms' correlations, posterior mean."""
        if not self.layout.corr_labels:
            return pd.Series([], index=[], name=self.method, dtype=float)
        return pd.Series(self.draws("group_corr").mean(axis=0), index=self.layout.corr_labels, name=self.method)

    def _effects(self, label: str) -> np.ndarray:
        """Draws (S, n_levels, k) of term ``label``'s group effects."""
        return self.draws(f"b__{label}")

    def ranef(self, ci_prob: float | None = None) -> pd.DataFrame:
        """The groups' effects: a row per term, level and column with the posterior ``estimate`` (mean), ``sd`` and
        equal-tailed interval (``eti89_lb``, ``eti89_ub`` at the default ``ci_prob``)."""
        ci_prob, _ = intervals.resolve(ci_prob, "eti", ("eti",))
        lb, ub = intervals.column_names("eti", ci_prob)
        effects = [self._effects(label) for label in self.layout.labels]  # each (S, n_levels, k)
        bounds = [np.quantile(draws, [0.5 - ci_prob / 2, 0.5 + ci_prob / 2], axis=0) for draws in effects]
        return ranef_table(
            self.layout,
            {
                "estimate": [draws.mean(axis=0) for draws in effects],
                "sd": [draws.std(axis=0, ddof=1) for draws in effects],
                lb: [low for low, _ in bounds],
                ub: [high for _, high in bounds],
            },
        )

    def summary(self, ci_prob: float | None = None) -> pd.DataFrame:
        """Posterior mean, sd, equal-tailed interval, R-hat and bulk and tail ESS of the fixed effects, then of the
        group-level sds (``sd[herd: Intercept]``) and correlations (``corr[g: Intercept, x]``)."""
        ci_prob, _ = intervals.resolve(ci_prob, "eti", ("eti",))
        lb, ub = intervals.column_names("eti", ci_prob)
        parts = [(self._coef, self.layout.flat_coef_names), (self.draws("group_sd"), [
            f"sd[{label}]" for label in self.layout.sd_labels])]  # fmt: skip
        if self.layout.corr_labels:
            parts.append((self.draws("group_corr"), [f"corr[{label}]" for label in self.layout.corr_labels]))
        draws = np.concatenate([values for values, _ in parts], axis=1)
        names = [name for _, labels in parts for name in labels]
        low, high = np.quantile(draws, [0.5 - ci_prob / 2, 0.5 + ci_prob / 2], axis=0)
        table = pd.DataFrame(
            {"estimate": draws.mean(axis=0), "sd": draws.std(axis=0, ddof=1), lb: low, ub: high}, index=names
        )
        statistics = {
            "chains": self.diagnosis.n_chains,
            "draws": self.diagnosis.n_draws,
            "r_hat_max": self.diagnosis.table["r_hat"].max(),
            "ess_bulk_min": self.diagnosis.table["ess_bulk"].min(),
            "ess_tail_min": self.diagnosis.table["ess_tail"].min(),
            "divergences": self.diagnosis.divergences,
        }
        notes = () if self.diagnosis.ok else (str(self.diagnosis.message),)
        return self._summary_table(
            table.join(self.diagnosis.table[["r_hat", "ess_bulk", "ess_tail"]]), statistics, notes
        )

    def _coefficient_draws(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The draws by chain: fixed effects (chains, draws, p), ``term``'s group effects (chains, draws, L, k)."""
        posterior = self.posterior.posterior
        return posterior["coef"].values, posterior[f"b__{term}"].values

    def _boundary_table(self, boundary, constant, slope, combination, t, ci_prob) -> pd.DataFrame:
        """The draws' median and equal-tailed interval, ArviZ's R-hat and bulk ESS per level, and the share of
        draws whose slope has the minority sign."""
        from arviz_stats.base import array_stats

        ci_prob, _ = intervals.resolve(ci_prob, "eti", ("eti",))
        lb, ub = intervals.column_names("eti", ci_prob)
        flat = boundary.reshape(-1, boundary.shape[-1])
        positive = (slope > 0).reshape(-1, slope.shape[-1]).mean(axis=0)
        by_level = np.moveaxis(boundary, -1, 0)  # (n_levels, chains, draws)
        low, high = np.quantile(flat, [0.5 - ci_prob / 2, 0.5 + ci_prob / 2], axis=0)
        table = {
            "boundary": np.median(flat, axis=0),
            lb: low,
            ub: high,
            "r_hat": array_stats.rhat(by_level, method="rank"),
            "ess_bulk": array_stats.ess(by_level, method="bulk"),
            "sign_flips": np.minimum(positive, 1 - positive),
        }
        return pd.DataFrame(table, index=pd.Index(list(self.layout.levels[t]), name="level"))

    def describe_method(self) -> str:
        return "MCMC (NUTS, group effects non-centred)"

    def comparison_diagnostics(self) -> dict:
        """The rows of the comparison's ``diagnostics`` section: the chains' worst R-hat and ESS, and divergences."""
        table = self.diagnosis.table
        return {
            "r_hat_max": float(table["r_hat"].max()),
            "ess_bulk_min": float(table["ess_bulk"].min()),
            "ess_tail_min": float(table["ess_tail"].min()),
            "divergences": float(self.diagnosis.divergences),
        }

    def proba_of_design(self, X: np.ndarray, parts: tuple, new_groups: str) -> np.ndarray:
        coef, sds = self._coef, self.draws("group_sd")
        effects = [self._effects(label) for label in self.layout.labels]
        corr = self.draws("group_corr") if self.layout.corr_labels else None
        rng = np.random.default_rng(0)
        unknown = any(np.any(codes < 0) for codes, _ in parts)
        total = 0.0
        slices = term_slices(self.layout)
        for s in range(len(coef)):
            eta = linear_predictors(self.layout, X, coef[s], parts, [b[s] for b in effects])
            if new_groups == "population" or not unknown:
                total = total + self.layout.probabilities(eta)
                continue
            covariances = [
                covariance_of(sds[s, where], _term_corr(self.layout, t, corr[s] if corr is not None else None))
                for t, where in enumerate(slices)
            ]
            shift = new_group_shifts(self.layout, parts, covariances, rng, 1)[0]
            total = total + self.layout.probabilities(eta + shift)
        return total / len(coef)


def _term_corr(layout: GroupLayout, term: int, corr_draw: np.ndarray | None) -> np.ndarray:
    """Term ``term``'s correlation matrix (k, k) from one draw of all the correlations (in ``corr_labels`` order)."""
    k = len(layout.columns[term])
    matrix = np.eye(k)
    if not layout.correlated[term] or corr_draw is None:
        return matrix
    offset = sum(
        len(columns) * (len(columns) - 1) // 2
        for columns, correlated in zip(layout.columns[:term], layout.correlated[:term])
        if correlated
    )
    upper = np.triu_indices(k, 1)
    matrix[upper] = corr_draw[offset : offset + len(upper[0])]
    matrix.T[upper] = matrix[upper]
    return matrix
