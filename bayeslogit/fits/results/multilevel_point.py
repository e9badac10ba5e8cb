"""Multilevel fits at a point: maximum likelihood (glmer's) and the posterior mode (blme's), from the engine's
:class:`~bayeslogit.algorithms.group_result.GroupFit`; their tables, boundaries and predictions."""

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from bayeslogit.fits.results.group_effects import covariance_of, linear_predictors, new_group_shifts, ranef_table
from bayeslogit.fits.results.multilevel import INTEGRATION_DRAWS, MultilevelFitBase
from bayeslogit.fits.statistics import intervals


class MultilevelPointFit(MultilevelFitBase):
    """A multilevel model's ML or MAP estimate (glmer's, or blme's under a prior).

    Attributes
    ----------
    result : GroupFit
        The estimate's arrays (:class:`~bayeslogit.algorithms.group_result.GroupFit`).
    layout : GroupLayout
    prior : object
        The fixed effects' prior (None for ML) and ``group_prior``, the group-level prior (None for ML).
    n_agq : int
        Gauss-Hermite nodes per level of the marginal likelihood (1: the Laplace approximation).
    """

    method: str
    wald_test: bool
    """Whether the summary tests each fixed effect against zero (a MAP estimate is shrunk towards 0 by its prior,
    so its Wald z is not a test)."""

    def __init__(self, result, layout, source, prior=None, group_prior=None, n_agq=1, seconds=0.0):
        self.result, self.layout, self.source = result, layout, source
        self.prior, self.group_prior, self.n_agq, self.seconds = prior, group_prior, n_agq, seconds

    @property
    def coef(self) -> pd.Series | pd.DataFrame:
        """The fixed effects, by name; a DataFrame [coef x class] of the non-reference classes for a categorical
        model."""
        return self.layout.coef_table(self.result.beta, self.method)

    @property
    def cov(self) -> pd.DataFrame:
        """The fixed effects' covariance (glmer's ``vcov``), labelled ``"x[B]"`` for a categorical model."""
        names = self.layout.flat_coef_names
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
        return ranef_table(self.layout, {"estimate": self.result.ranef, "sd": self.result.ranef_sd})

    def summary(self, ci_prob: float | None = None) -> pd.DataFrame:
        """The fixed effects (``estimate``, ``se``, for ML the Wald ``z`` and ``p_value``, and the Wald interval)
        and, below them, the group-level sds (``sd[herd: Intercept]``) and correlations (``corr[g: Intercept, x]``),
        whose ``se`` is not estimated (NaN), as lme4 reports them."""
        ci_prob, _ = intervals.resolve(ci_prob, "wald", ("wald",))
        lb, ub = intervals.column_names("wald", ci_prob)
        z = ndtri(0.5 + ci_prob / 2)
        names = self.layout.flat_coef_names
        estimate, se = pd.Series(self.result.beta, index=names), pd.Series(self.result.beta_se, index=names)
        table = pd.DataFrame({"estimate": estimate, "se": se})
        if self.wald_test:
            table["z"] = estimate / se
            table["p_value"] = 2 * ndtr(-np.abs(table["z"]))
        table[lb], table[ub] = estimate - z * se, estimate + z * se
        group = pd.concat(
            [self.group_sd.rename(lambda label: f"sd[{label}]"), self.group_corr.rename(lambda label: f"corr[{label}]")]
        )
        parameters = len(names) + len(self.result.theta)
        statistics = {"llf": self.loglik, "aic": 2 * parameters - 2 * self.loglik}
        statistics["bic"] = np.log(len(self.source.X)) * parameters - 2 * self.loglik
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
        z = ndtri(0.5 + ci_prob / 2)
        levels = list(self.layout.levels[t])
        return pd.DataFrame(
            {"boundary": x, "se": se, lb: x - z * se, ub: x + z * se}, index=pd.Index(levels, name="level")
        )

    def describe_method(self) -> str:
        approximation = "Laplace" if self.n_agq == 1 else f"adaptive Gauss-Hermite, {self.n_agq} nodes"
        return f"{self.method.upper()}, marginal likelihood by {approximation}"

    def proba_of_design(self, X: np.ndarray, parts: tuple, new_groups: str) -> np.ndarray:
        eta = linear_predictors(self.layout, X, self.result.beta, parts, self.result.ranef)
        if new_groups == "population" or all(np.all(codes >= 0) for codes, _ in parts):
            return self.layout.probabilities(eta)
        covariances = [covariance_of(sd, corr) for sd, corr in zip(self.result.sd, self.result.corr)]
        shifts = new_group_shifts(self.layout, parts, covariances, np.random.default_rng(0), INTEGRATION_DRAWS)
        return self.layout.probabilities(eta + shifts).mean(axis=0)

    def comparison_diagnostics(self) -> dict:
        """The rows of the comparison's ``diagnostics`` section: the log marginal likelihood and the count of
        singular terms."""
        return {"marginal_loglik": self.loglik, "singular_terms": float(len(self.singular))}


class MultilevelMLFit(MultilevelPointFit):
    """Maximum likelihood (glmer's)."""

    method = "ml"
    wald_test = True

    def lr_test(self, other):
        """Likelihood-ratio test against another ML fit of the same rows, multilevel or flat, nested in this one or
        containing it (lme4's ``anova``): a ``GroupLikelihoodRatioTest(statistic, df, p_value, p_value_boundary)``
        (see :mod:`bayeslogit.fits.statistics.multilevel_lr`)."""
        from bayeslogit.fits.statistics.multilevel_lr import group_lr_test

        return group_lr_test(self, other)


class MultilevelMAPFit(MultilevelPointFit):
    """The posterior mode on the marginal likelihood (blme's), under ``prior`` and ``group_prior``."""

    method = "map"
    wald_test = False
