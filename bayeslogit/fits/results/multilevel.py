"""What a fit of a multilevel logistic model holds: the fixed effects, the group-level sds and correlations, and the
groups' own effects, from maximum likelihood, MAP (:mod:`.multilevel_point`) or the posterior's draws
(:mod:`.multilevel_mcmc`), with the same names.

Labels. A group term is labelled by its factor (``"herd"``; a factor's second and third terms ``"herd.1"``,
``"herd.2"``, as lme4's ``VarCorr`` does); a term's sd by ``"herd: Intercept"``; a correlation by
``"g: Intercept, x"``. The groups' effects (:meth:`ranef`) are a long table of term, level, column.

A categorical model of ``K`` classes (``GroupLayout.classes``) has ``M = K - 1`` linear predictors, one per
non-reference class, and its fixed effects ``vec(B)`` class-major (``B`` (p, M)); each group term of the model is
``M`` terms of the layout, one per class in order, labelled ``"g (class B)"``: each level's effects for each class,
correlated within a class as the term says, independent across classes, with a separate sd per class.
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.special import expit

from bayeslogit.exceptions import OptionError
from bayeslogit.fits.results.summary_render import HeaderContent
from bayeslogit.fits.results.summary_table import SummaryTable
from bayeslogit.fits.storage import multilevel_files
from bayeslogit.numerics.families import Categorical
from bayeslogit.rows.group_rows import GroupRowReader

if TYPE_CHECKING:  # the categorical engine's blocks (SciPy's sparse matrices) are not imported with bayeslogit
    from bayeslogit.rows.group_response import BinomialResponse, CategoricalResponse

NEW_GROUPS = ("population", "integrate")
"""How rows of a group the fit has not seen are predicted (see :meth:`MultilevelFitBase.predict_proba`)."""
INTEGRATION_DRAWS = 2000  # draws of a new group's effects per row (point fits), or per posterior draw (MCMC)


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
    classes : tuple
        A categorical model's K class labels, the reference first; empty for a two-class (binomial) model.
    """

    coef_names: tuple
    labels: tuple
    columns: tuple
    levels: tuple
    correlated: tuple
    classes: tuple = ()

    @property
    def n_predictors(self) -> int:
        """``M``: the linear predictors per row (1 for a binomial model)."""
        return max(len(self.classes) - 1, 1)

    @property
    def flat_coef_names(self) -> list[str]:
        """The fixed effects' labels in ``vec(B)`` order: ``"x[B]"`` for a categorical model."""
        if not self.classes:
            return list(self.coef_names)
        return [f"{name}[{label}]" for label in self.classes[1:] for name in self.coef_names]

    def coef_table(self, beta: np.ndarray, name: str) -> pd.Series | pd.DataFrame:
        """The fixed effects ``vec(B)`` (p M,) as a Series by name, or for a categorical model a DataFrame
        [coef x class] of the non-reference classes (the reference's coefficients are 0), as the flat models."""
        if not self.classes:
            return pd.Series(beta, index=list(self.coef_names), name=name)
        frame = pd.DataFrame(
            beta.reshape(self.n_predictors, -1).T, index=list(self.coef_names), columns=list(self.classes[1:])
        )
        frame.index.name, frame.columns.name = "coef", "class"
        return frame

    def term_class(self, t: int) -> object:
        """The class of the layout's term ``t`` (None for a binomial model)."""
        return self.classes[1 + t % self.n_predictors] if self.classes else None

    def probabilities(self, eta: np.ndarray) -> np.ndarray:
        """The probability of success (..., n) from ``eta`` (..., n, 1), or of each class (..., n, K) from ``eta``
        (..., n, M)."""
        if not self.classes:
            return expit(eta[..., 0])
        return Categorical().probabilities(eta)

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
    """What a multilevel fit needs of its model: how it reads new rows, and what it read of the training rows (a
    loaded fit's, as saved: see :mod:`bayeslogit.fits.storage.multilevel_files`).

    Attributes
    ----------
    formula : str
        The model's formula.
    new_rows : GroupRowReader
        ``new_rows(data) -> (X (n, p), ((codes (n,), values (n, k)), ...) per term)``: the design of new rows, each
        row's level code in the term's levels (-1 for a level the fit has not seen).
    X : ndarray of shape (n, p)
        The fixed effects' design of the rows it was fitted on.
    terms : tuple of GroupTerm
        Their group terms, the model's (not the layout's per-class ones).
    response : BinomialResponse or CategoricalResponse
        Their responses, of the response's kind (:mod:`bayeslogit.rows.group_response`), which reads held-out rows'
        responses (``held_out(data, formula)``) and their log-likelihood (``log_likelihood(proba)``).
    """

    formula: str
    new_rows: GroupRowReader
    X: np.ndarray
    terms: tuple
    response: "BinomialResponse | CategoricalResponse"

    @property
    def successes(self) -> np.ndarray | None:
        """The rows' successes (n,); None for a categorical model."""
        return self.response.successes

    @property
    def trials(self) -> np.ndarray | None:
        """The rows' trials (n,); None for a categorical model."""
        return self.response.trials


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
        ``variance``, ``sd``, ``n_levels``, for a categorical model ``class`` (the class whose logit against the
        reference the term's effects move, which its label names too: ``"g (class B)"``) and, for a correlated
        term's second column on, its correlation with each earlier column (``corr_<column>``)."""
        rows = []
        sds, corr = self.group_sd, self.group_corr
        for t, (label, columns, levels, correlated) in enumerate(
            zip(self.layout.labels, self.layout.columns, self.layout.levels, self.layout.correlated)
        ):
            for d, column in enumerate(columns):
                sd = float(sds[f"{label}: {column}"])
                row = {"groups": label, "name": column, "variance": sd**2, "sd": sd, "n_levels": len(levels)}
                if self.layout.classes:
                    row["class"] = self.layout.term_class(t)
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
            lines = (("Formula", self.source.formula), *self._prior_lines(), *self.random_effects_lines())
            values = {"nobs": float(len(self.source.X)), **statistics}
            return HeaderContent(facts, pd.Series(values, dtype=float), lines, notes)

        return SummaryTable.of(table, header)

    def _prior_lines(self) -> tuple:
        """The summary's line of the priors, ``(("Prior", text),)``, or none (ML)."""
        if self.prior is None:
            return ()
        fixed, group = dataclasses.replace(self.prior, group=None), self.group_prior
        return (
            (
                "Prior",
                f"{fixed!r} on the fixed effects; Gamma({group.sd_shape:g}, {group.sd_rate:g}) on each group sd, "
                f"LKJ({group.corr_eta:g}) on correlations",
            ),
        )

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
        if self.layout.classes:
            raise OptionError(
                "group_boundaries reads a two-class model's boundary, where the probability of success is `level`; a "
                "categorical model has a boundary per pair of classes: compare fit.predict_proba on a grid of "
                "`feature`, or fit a two-class model of the pair"
            )
        names = list(self.layout.coef_names)
        if feature not in names or feature == "Intercept":
            raise OptionError(f"feature must be a fixed-effect column other than the intercept: one of {names[1:]}")
        labels = list(self.layout.labels)
        term = labels[0] if term is None else term
        if term not in labels:
            raise OptionError(f"term must be one of the group terms {labels}; got {term!r}")
        t = labels.index(term)
        means = self.source.X.mean(axis=0)
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
        """The probability of success (the event) of each row of ``data``, shape (n,); for a categorical model the
        probability of each class, shape (n, K), the classes in ``layout.classes``' order.

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

    def save(self, path) -> Path:
        """Write the fit to ``path``, a NetCDF-4 file (``.nc``) or a zarr directory (``.zarr``), atomically, and
        return ``path``; :func:`bayeslogit.load` reads it back.

        The file holds the estimates (an MCMC fit's whole posterior tree), the formula's specs (the fixed effects'
        and each group term's: levels, transforms' states) and what the fit read of the training rows: the fixed
        design (n, p), the responses (a categorical fit's class codes, with its classes, the reference first) and
        each term's codes and values (n, k), so that a loaded fit does all that this one does, in-sample comparisons
        and shrinkage plots included; see
        :mod:`bayeslogit.fits.storage.multilevel_files`. A formula term or transform's state that is not plain data
        raises DataError, naming it; without the format's packages (``pip install "bayeslogit[io]"``) an
        ImportError says so, and nothing is written.
        """
        return multilevel_files.save(self, path)
