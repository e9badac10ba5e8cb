"""What a fit of a multilevel logistic model holds: the fixed effects, the group-level sds and correlations, and the
groups' own effects, from maximum likelihood, MAP (:class:`MultilevelPointFit`) or the posterior's draws
(:class:`MultilevelMCMCFit`), with the same names.

Labels. A group term is labelled by its factor (``"herd"``; a factor's second and third terms ``"herd.1"``,
``"herd.2"``, as lme4's ``VarCorr`` does); a term's sd by ``"herd: Intercept"``; a correlation by
``"g: Intercept, x"``. The groups' effects (:meth:`ranef`) are a long table of term, level, column.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from bayeslogit.exceptions import OptionError
from bayeslogit.fits.diagnostics.mcmc_convergence import MCMCDiagnosis, folded_ess
from bayeslogit.fits.results.summary_render import HeaderContent
from bayeslogit.fits.results.summary_table import SummaryTable
from bayeslogit.fits.statistics import intervals

NEW_GROUPS = ("population", "integrate")
"""How rows of a group the fit has not seen are predicted (see :meth:`MultilevelFitBase.predict_proba`)."""
_INTEGRATION_DRAWS = 2000  # draws of a new group's effects per row (point fits), or per posterior draw (MCMC)


@dataclass(frozen=True)
class GroupLayout:
    """The names of a multilevel model's parts.

    Attributes
    ----------
    coef_names : tuple of str
        The fixed effects' names (p), the intercept first where there is one.
    labels : tuple of str
        Each group term's label.
    columns : tuple of tuple of str
        Each term's columns.
    levels : tuple of tuple
        Each term's levels, in the order of the model's codes.
    correlated : tuple of bool
        Whether each term's columns are correlated.
    """

    coef_names: tuple
    labels: tuple
    columns: tuple
    levels: tuple
    correlated: tuple

    @property
    def sd_labels(self) -> list[str]:
        """``"herd: Intercept"`` for every term's every column."""
        return [f"{label}: {column}" for label, columns in zip(self.labels, self.columns) for column in columns]

    @property
    def corr_labels(self) -> list[str]:
        """``"g: Intercept, x"`` for every pair of columns ``c < d`` of every correlated term."""
        return [
            f"{label}: {columns[c]}, {columns[d]}"
            for label, columns, correlated in zip(self.labels, self.columns, self.correlated)
            if correlated
            for c in range(len(columns))
            for d in range(c + 1, len(columns))
        ]


@dataclass(frozen=True, eq=False)
class FitSource:
    """What a multilevel fit needs of its model.

    Attributes
    ----------
    formula : str
        The model's formula.
    frame : DataFrame
        The rows it was fitted on.
    new_rows : callable
        ``new_rows(data) -> (X (n, p), ((codes (n,), values (n, k)), ...) per term)``: the design of new rows, each
        row's level code in the term's levels (-1 for a level the fit has not seen).
    """

    formula: str
    frame: pd.DataFrame
    new_rows: Callable[[pd.DataFrame], tuple[np.ndarray, tuple]]


class MultilevelFitBase:
    """What every multilevel fit derives from its estimates: tables, predictions and the random-effects block.

    Subclasses provide ``method``, ``layout``, ``source`` (a :class:`FitSource`), ``seconds``, :attr:`coef`,
    :attr:`cov`, :attr:`group_sd`, :attr:`group_corr`, :meth:`ranef`, :meth:`summary` and :meth:`proba_of_design`.
    """

    method: str
    layout: GroupLayout
    source: FitSource
    seconds: float

    def random_effects(self) -> pd.DataFrame:
        """lme4's random-effects block: a row per term column, ``groups`` (the term), ``name`` (the column),
        ``variance``, ``sd``, ``n_levels`` and, for a correlated term's second column on, its correlation with each
        earlier column (``corr_<column>``)."""
        rows = []
        sds, corr = self.group_sd, self.group_corr
        for label, columns, levels, correlated in zip(
            self.layout.labels, self.layout.columns, self.layout.levels, self.layout.correlated
        ):
            for d, column in enumerate(columns):
                sd = float(sds[f"{label}: {column}"])
                row = {"groups": label, "name": column, "variance": sd**2, "sd": sd, "n_levels": len(levels)}
                if correlated:
                    for c in range(d):
                        row[f"corr_{columns[c]}"] = float(corr[f"{label}: {columns[c]}, {column}"])
                rows.append(row)
        return pd.DataFrame(rows)

    def random_effects_lines(self) -> tuple:
        """The random-effects block as the summary's header shows it: ``(label, text)`` per term column, e.g.
        ``("herd", "Intercept: variance 0.4125, sd 0.6423 (15 levels)")``, a correlated column's correlations after."""
        lines = []
        for row in self.random_effects().to_dict("records"):
            corr = ", ".join(  # the correlations with the columns before this one (NaN for the others)
                f"corr with {key[5:]} {value:.3f}"
                for key, value in row.items()
                if key.startswith("corr_") and value == value
            )
            text = f"{row['name']}: variance {row['variance']:.4g}, sd {row['sd']:.4g} ({row['n_levels']} levels)"
            lines.append((f"Random effects, {row['groups']}", text + (f"; {corr}" if corr else "")))
        return tuple(lines)

    def _summary_table(self, table: pd.DataFrame, statistics: dict, notes: tuple = ()) -> SummaryTable:
        """``table`` under a header of the method, formula, observations, groups, ``statistics`` and the
        random-effects block (:meth:`random_effects_lines`)."""

        def header() -> HeaderContent:
            groups = ", ".join(
                f"{label} {len(levels)}" for label, levels in zip(self.layout.labels, self.layout.levels)
            )
            facts = (("Method", self.describe_method()), ("Groups", groups))
            lines = (("Formula", self.source.formula), *self.random_effects_lines())
            values = {"nobs": float(len(self.source.frame)), **statistics}
            return HeaderContent(facts, pd.Series(values, dtype=float), lines, notes)

        return SummaryTable.of(table, header)

    def describe_method(self) -> str:
        """The method as the summary's header names it."""
        raise NotImplementedError

    def group_boundaries(self, feature: str, term: str | None = None, level: float = 0.5, ci_prob=None):
        """Each group's decision boundary along ``feature``: the value where its probability of success is
        ``level``, the other fixed-effect columns held at their training means and the other terms' effects at zero.

        For group ``g`` of ``term`` (default the first), ``eta(x) = c_g + s_g x`` with ``c_g`` the fixed part at the
        means plus the group's intercept effect (where the term has one) and ``s_g`` the slope of ``feature`` plus
        the group's slope effect (where the term has one), so the boundary is ``(logit(level) - c_g) / s_g``.

        Returns
        -------
        DataFrame
            A row per level: ``boundary`` (MCMC: the median of the draws, which stays finite where a few draws'
            slope is near zero), the interval (``wald89_*`` for a point fit, by the delta method with the fixed
            effects' covariance and the group effects' conditional variances taken as independent; ``eti89_*`` of
            the draws for MCMC), and for MCMC ArviZ's ``r_hat`` and ``ess_bulk`` of the boundary's draws and
            ``sign_flips``, the share of draws whose slope ``s_g`` has the other sign than most (where the boundary
            lies on the other side of infinity: a boundary that is not there).
        """
        names = list(self.layout.coef_names)
        if feature not in names or feature == "Intercept":
            raise OptionError(f"feature must be a fixed-effect column other than the intercept: one of {names[1:]}")
        labels = list(self.layout.labels)
        term = labels[0] if term is None else term
        if term not in labels:
            raise OptionError(f"term must be one of the group terms {labels}; got {term!r}")
        t = labels.index(term)
        X, _ = self.source.new_rows(self.source.frame)
        means = X.mean(axis=0)
        j = names.index(feature)
        beta, effects = self._coefficient_draws(term)  # (chains, draws, p), (chains, draws, n_levels, k)
        columns = list(self.layout.columns[t])
        at_intercept = columns.index("Intercept") if "Intercept" in columns else None
        at_feature = columns.index(feature) if feature in columns else None
        a = means.copy()
        a[j] = 0.0
        constant = (beta @ a)[..., None] + (effects[..., at_intercept] if at_intercept is not None else 0.0)
        slope = beta[..., j][..., None] + (effects[..., at_feature] if at_feature is not None else 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            boundary = (np.log(level / (1 - level)) - constant) / slope  # (chains, draws, n_levels)
        return self._boundary_table(boundary, constant, slope, (a, j, at_intercept, at_feature), t, ci_prob)

    def predict_proba(self, data: pd.DataFrame, new_groups: str = "population") -> np.ndarray:
        """The probability of success (the event) of each row of ``data``, shape (n,).

        Rows of groups the fit has seen use those groups' effects (their estimates for a point fit; each draw's for
        MCMC, averaged over the draws). Rows of a group it has not seen take, by ``new_groups``:

        * ``"population"`` (the default): the group effects at zero, their mean, as lme4's
          ``predict(re.form = NA)`` and ``allow.new.levels`` do: the typical group, not the average over groups;
        * ``"integrate"``: the average over the group distribution, ``Normal(0, diag(sd) R diag(sd))`` (Monte Carlo
          with 2,000 draws per row and fit draw): the chance of success in a new group drawn at random.

        Raises
        ------
        OptionError
            When ``new_groups`` is neither.
        """
        if new_groups not in NEW_GROUPS:
            raise OptionError(f"new_groups must be one of {NEW_GROUPS}; got {new_groups!r}")
        X, parts = self.source.new_rows(data)
        return self.proba_of_design(X, parts, new_groups)

    def proba_of_design(self, X: np.ndarray, parts: tuple, new_groups: str) -> np.ndarray:
        """:meth:`predict_proba` of the rows' designs: fixed ``X`` (n, p) and each term's ``(codes, values)``."""
        raise NotImplementedError


def _term_slices(layout: GroupLayout) -> list[slice]:
    """Each term's columns' positions among all the terms' sd labels."""
    sizes = [len(columns) for columns in layout.columns]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    return [slice(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:])]


def _group_shift(parts: tuple, effects: list[np.ndarray], known_only: bool = True) -> np.ndarray:
    """``sum_terms values[i] @ effects[codes[i]]`` (n,), zero for rows whose level is unknown (code -1)."""
    total = np.zeros(len(parts[0][0]) if parts else 0)
    for (codes, values), b in zip(parts, effects):
        known = codes >= 0
        total[known] += np.einsum("ik,ik->i", values[known], b[codes[known]])
    return total


def _new_group_draws(parts: tuple, covariances: list[np.ndarray], rng: np.random.Generator, draws: int) -> np.ndarray:
    """Draws (draws, n) of ``sum_terms values[i] @ b`` with ``b ~ Normal(0, covariance)`` for the rows of unknown
    levels (zero elsewhere)."""
    n = len(parts[0][0])
    total = np.zeros((draws, n))
    for (codes, values), covariance in zip(parts, covariances):
        unknown = codes < 0
        if unknown.any():
            root = np.linalg.cholesky(covariance + 1e-300 * np.eye(len(covariance)))
            b = rng.standard_normal((draws, unknown.sum(), len(covariance))) @ root.T
            total[:, unknown] += np.einsum("ik,dik->di", values[unknown], b)
    return total


def covariance_of(sd: np.ndarray, corr: np.ndarray) -> np.ndarray:
    """``diag(sd) corr diag(sd)`` (k, k)."""
    return corr * np.outer(sd, sd)


class MultilevelPointFit(MultilevelFitBase):
    """A multilevel model's ML or MAP estimate (glmer's, or blme's under a prior).

    Attributes
    ----------
    method : {"ml", "map"}
    result : GroupFit
        The estimate's arrays (:class:`~bayeslogit.algorithms.group_result.GroupFit`).
    layout : GroupLayout
    prior : object
        The fixed effects' prior (None for ML) and ``group_prior``, the group-level prior (None for ML).
    n_agq : int
        Gauss-Hermite nodes per level of the marginal likelihood (1: the Laplace approximation).
    """

    def __init__(self, method, result, layout, source, prior=None, group_prior=None, n_agq=1, seconds=0.0):
        self.method, self.result, self.layout, self.source = method, result, layout, source
        self.prior, self.group_prior, self.n_agq, self.seconds = prior, group_prior, n_agq, seconds

    @property
    def coef(self) -> pd.Series:
        """The fixed effects, by name."""
        return pd.Series(self.result.beta, index=list(self.layout.coef_names), name=self.method)

    @property
    def cov(self) -> pd.DataFrame:
        """The fixed effects' covariance (glmer's ``vcov``)."""
        names = list(self.layout.coef_names)
        return pd.DataFrame(self.result.beta_cov, index=names, columns=names)

    @property
    def group_sd(self) -> pd.Series:
        """Each term column's group-level sd, labelled ``"herd: Intercept"``."""
        return pd.Series(np.concatenate(self.result.sd), index=self.layout.sd_labels, name=self.method)

    @property
    def group_corr(self) -> pd.Series:
        """The correlated terms' correlations, labelled ``"g: Intercept, x"``."""
        values = [
            corr[c, d]
            for corr, correlated in zip(self.result.corr, self.layout.correlated)
            if correlated
            for c in range(len(corr))
            for d in range(c + 1, len(corr))
        ]
        return pd.Series(values, index=self.layout.corr_labels, name=self.method, dtype=float)

    @property
    def singular(self) -> list[str]:
        """The labels of the terms whose estimate lies on the boundary (an sd at 0 or a correlation at +-1)."""
        return [label for label, flag in zip(self.layout.labels, self.result.singular) if flag]

    @property
    def loglik(self) -> float:
        """The log marginal likelihood at the estimate (Laplace or quadrature), binomial coefficients included."""
        return float(self.result.loglik)

    def ranef(self) -> pd.DataFrame:
        """The groups' effects: a row per term, level and column with the conditional mode ``estimate`` and its
        conditional sd ``sd`` given the estimates (lme4's ``ranef(condVar = TRUE)``)."""
        frames = []
        for label, columns, levels, modes, sds in zip(
            self.layout.labels, self.layout.columns, self.layout.levels, self.result.ranef, self.result.ranef_sd
        ):
            for c, column in enumerate(columns):
                frames.append(
                    pd.DataFrame(
                        {
                            "term": label,
                            "level": list(levels),
                            "column": column,
                            "estimate": modes[:, c],
                            "sd": sds[:, c],
                        }  # fmt: skip
                    )
                )
        return pd.concat(frames, ignore_index=True)

    def summary(self, ci_prob: float | None = None) -> pd.DataFrame:
        """The fixed effects (``estimate``, ``se``, for ML the Wald ``z`` and ``p_value``, and the Wald interval)
        and, below them, the group-level sds (``sd[herd: Intercept]``) and correlations (``corr[g: Intercept, x]``),
        whose ``se`` is not estimated (NaN), as lme4 reports them."""
        ci_prob, _ = intervals.resolve(ci_prob, "wald", ("wald",))
        lb, ub = intervals.column_names("wald", ci_prob)
        z = norm.ppf(0.5 + ci_prob / 2)
        estimate, se = self.coef, pd.Series(self.result.beta_se, index=self.coef.index)
        table = pd.DataFrame({"estimate": estimate, "se": se})
        if self.method == "ml":
            table["z"] = estimate / se
            table["p_value"] = 2 * norm.sf(np.abs(table["z"]))
        table[lb], table[ub] = estimate - z * se, estimate + z * se
        group = pd.concat(
            [self.group_sd.rename(lambda label: f"sd[{label}]"), self.group_corr.rename(lambda label: f"corr[{label}]")]
        )
        parameters = len(self.coef) + len(self.result.theta)
        statistics = {"llf": self.loglik, "aic": 2 * parameters - 2 * self.loglik}
        statistics["bic"] = np.log(len(self.source.frame)) * parameters - 2 * self.loglik
        notes = tuple(
            f"boundary (singular) fit: the covariance of {label!r} is singular (an sd at 0 or a correlation at +-1)"
            for label in self.singular
        )
        return self._summary_table(pd.concat([table, group.to_frame("estimate")]), statistics, notes)

    def _coefficient_draws(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The estimate as a single draw: fixed effects (1, 1, p) and ``term``'s group effects (1, 1, n_levels, k)."""
        t = list(self.layout.labels).index(term)
        return self.result.beta[None, None], self.result.ranef[t][None, None]

    def _boundary_table(self, boundary, constant, slope, combination, t, ci_prob) -> pd.DataFrame:
        """Point boundaries with delta-method intervals: ``var(x*) = (var(c) + x*^2 var(s) + 2 x* cov(c, s)) / s^2``,
        ``c = a^T beta + b_intercept``, ``s = beta_j + b_feature`` (``combination``: ``a``, ``j`` and the positions of
        the term's intercept and feature columns, None where it has none)."""
        ci_prob, _ = intervals.resolve(ci_prob, "wald", ("wald",))
        lb, ub = intervals.column_names("wald", ci_prob)
        a, j, at_intercept, at_feature = combination
        cov, conditional = self.result.beta_cov, self.result.ranef_sd[t] ** 2  # (p, p), (n_levels, k)
        var_c = a @ cov @ a + (conditional[:, at_intercept] if at_intercept is not None else 0.0)
        var_s = cov[j, j] + (conditional[:, at_feature] if at_feature is not None else 0.0)
        cov_cs = (cov @ a)[j]
        x, s = boundary[0, 0], slope[0, 0]
        se = np.sqrt(var_c + x**2 * var_s + 2 * x * cov_cs) / np.abs(s)
        z = norm.ppf(0.5 + ci_prob / 2)
        levels = list(self.layout.levels[t])
        return pd.DataFrame(
            {"boundary": x, "se": se, lb: x - z * se, ub: x + z * se}, index=pd.Index(levels, name="level")
        )

    def describe_method(self) -> str:
        approximation = "Laplace" if self.n_agq == 1 else f"adaptive Gauss-Hermite, {self.n_agq} nodes"
        return f"{self.method.upper()}, marginal likelihood by {approximation}"

    def proba_of_design(self, X: np.ndarray, parts: tuple, new_groups: str) -> np.ndarray:
        eta = X @ self.result.beta + _group_shift(parts, list(self.result.ranef))
        if new_groups == "population" or all(np.all(codes >= 0) for codes, _ in parts):
            return expit(eta)
        covariances = [covariance_of(sd, corr) for sd, corr in zip(self.result.sd, self.result.corr)]
        draws = _new_group_draws(parts, covariances, np.random.default_rng(0), _INTEGRATION_DRAWS)
        return expit(eta + draws).mean(axis=0)


def multilevel_diagnosis(posterior, layout: GroupLayout) -> MCMCDiagnosis:
    """R-hat, bulk and tail ESS (ArviZ's) and the folded ESS of the fixed effects, the group sds and the
    correlations, indexed as :meth:`MultilevelMCMCFit.summary` names them, and the divergent transitions."""
    from arviz_stats.base import array_stats

    names = [*layout.coef_names, *(f"sd[{label}]" for label in layout.sd_labels)]
    parts = [posterior.posterior["coef"].values, posterior.posterior["group_sd"].values]
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
    return MCMCDiagnosis(table, divergences, draws.shape[0], draws.shape[1])


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
        return self.draws("coef")

    @property
    def coef(self) -> pd.Series:
        """The fixed effects' posterior means."""
        return pd.Series(self._coef.mean(axis=0), index=list(self.layout.coef_names), name=self.method)

    @property
    def cov(self) -> pd.DataFrame:
        """The fixed effects' posterior covariance."""
        names = list(self.layout.coef_names)
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
        frames = []
        for label, columns, levels in zip(self.layout.labels, self.layout.columns, self.layout.levels):
            effects = self._effects(label)
            low, high = np.quantile(effects, [0.5 - ci_prob / 2, 0.5 + ci_prob / 2], axis=0)
            for c, column in enumerate(columns):
                frames.append(
                    pd.DataFrame(
                        {
                            "term": label,
                            "level": list(levels),
                            "column": column,
                            "estimate": effects[:, :, c].mean(axis=0),
                            "sd": effects[:, :, c].std(axis=0, ddof=1),
                            lb: low[:, c],
                            ub: high[:, c],
                        }  # fmt: skip
                    )
                )
        return pd.concat(frames, ignore_index=True)

    def summary(self, ci_prob: float | None = None) -> pd.DataFrame:
        """Posterior mean, sd, equal-tailed interval, R-hat and bulk and tail ESS of the fixed effects, then of the
        group-level sds (``sd[herd: Intercept]``) and correlations (``corr[g: Intercept, x]``)."""
        ci_prob, _ = intervals.resolve(ci_prob, "eti", ("eti",))
        lb, ub = intervals.column_names("eti", ci_prob)
        parts = [(self._coef, list(self.layout.coef_names)), (self.draws("group_sd"), [
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

    def proba_of_design(self, X: np.ndarray, parts: tuple, new_groups: str) -> np.ndarray:
        coef, sds = self._coef, self.draws("group_sd")
        effects = [self._effects(label) for label in self.layout.labels]
        corr = self.draws("group_corr") if self.layout.corr_labels else None
        rng = np.random.default_rng(0)
        unknown = any(np.any(codes < 0) for codes, _ in parts)
        total = np.zeros(len(X))
        slices = _term_slices(self.layout)
        for s in range(len(coef)):
            eta = X @ coef[s] + _group_shift(parts, [b[s] for b in effects])
            if new_groups == "population" or not unknown:
                total += expit(eta)
                continue
            covariances = [
                covariance_of(sds[s, where], _term_corr(self.layout, t, corr[s] if corr is not None else None))
                for t, where in enumerate(slices)
            ]
            total += expit(eta + _new_group_draws(parts, covariances, rng, 1)[0])
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
