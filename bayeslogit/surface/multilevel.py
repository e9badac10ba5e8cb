"""Multilevel logistic models: fixed effects and group terms written as lme4 writes them, fitted three ways.

``MultilevelModel.from_formula("cbind(incidence, size - incidence) ~ period + (1 | herd)", cbpp)`` (or a 0/1 or
two-class response, ``"r2 ~ Anger + (1 | id) + (1 | item)"``, or one of more classes, a categorical model with one
group term: :mod:`bayeslogit.rows.group_response`) builds the model; :meth:`~MultilevelModel.fit_ml` is
glmer's maximum likelihood (the Laplace approximation of the marginal likelihood, or adaptive Gauss-Hermite
quadrature), :meth:`~MultilevelModel.fit_map` blme's posterior mode, :meth:`~MultilevelModel.fit_mcmc` the full
posterior by NUTS in the non-centred parameterisation. A Gaussian approximation at the joint mode of fixed and group
effects degenerates as a group sd goes to zero, so :meth:`~MultilevelModel.fit_laplace` refuses and says so.
"""

import time
import warnings

import numpy as np
import pandas as pd

from bayeslogit.algorithms.pymc_multilevel import term_labels
from bayeslogit.checks import check_count, check_probability
from bayeslogit.exceptions import Advice, ConvergenceWarning, DataError, DataTypeError, OptionError, Remedy
from bayeslogit.fits.results.multilevel import FitSource, GroupLayout
from bayeslogit.fits.results.multilevel_mcmc import MultilevelMCMCFit, multilevel_diagnosis
from bayeslogit.fits.results.multilevel_point import MultilevelMAPFit, MultilevelMLFit, MultilevelPointFit
from bayeslogit.numerics.group_design import GroupPrior
from bayeslogit.numerics.prior_specs import Normal, prior_term
from bayeslogit.rows.group_response import read_response
from bayeslogit.rows.group_rows import GroupRowReader, fixed_design
from bayeslogit.rows.group_terms import group_terms, term_specs

DEFAULT_PRIOR = Normal(2.5)
"""The fixed effects' prior of MAP and MCMC when none is given: Normal(0, 2.5) on the slopes, a flat intercept."""


class MultilevelModel:
    """A logistic model with group terms: fixed effects ``X beta`` plus each group's own effects, drawn from a
    zero-mean Normal whose sds (and correlations) are estimated.

    Build it with :meth:`from_formula`. Attributes: ``formula``, ``coef_names`` (fixed effects), ``terms`` (the
    :class:`~bayeslogit.numerics.group_design.GroupTerm` s), ``response`` (its kind), ``outcomes`` (failure and
    success labels, or a categorical model's classes), ``classes`` (a categorical model's K classes, the reference
    first; empty otherwise), ``X`` (n, p), ``successes`` and ``trials`` (n,; None for a categorical model).

    A categorical model (a response of K > 2 classes) has ``K - 1`` linear predictors ``X beta_c + Z b_c``, one per
    non-reference class. Its one group term gives each level its own effects for each class, correlated within a
    class as lme4's ``|`` (independent with ``||``), independent across classes, with a separate sd (and
    correlations) per class: ``(1 + x | g)`` behaves like ``K - 1`` terms, labelled ``"g (class B)"``.
    """

    def __init__(self, formula, X, response, terms, fixed_spec, term_specs_, frame):
        self.formula, self.X, self.response, self.terms, self.frame = formula, X, response, terms, frame
        self.successes, self.trials, self.outcomes = response.successes, response.trials, response.outcomes
        self._new_rows = GroupRowReader(formula, fixed_spec, terms, term_specs_)
        labelled = response.layout_terms(terms)
        self.layout = GroupLayout(
            tuple(fixed_spec.column_names),
            tuple(term_labels(list(labelled))),
            tuple(term.columns for term in labelled),
            tuple(term.levels for term in labelled),
            tuple(term.correlated for term in labelled),
            response.classes,
        )

    @property
    def classes(self) -> tuple:
        return self.response.classes

    @classmethod
    def from_formula(cls, formula: str, data: pd.DataFrame) -> "MultilevelModel":
        """A model from an lme4-style formula on a data frame.

        Parameters
        ----------
        formula : str
            ``"y ~ x + (1 | g)"``, ``"cbind(successes, failures) ~ x + (1 + x | g)"``; group terms as lme4 writes
            them: ``(1 | g)``, ``(1 + x | g)``, ``(1 + x || g)``, crossed ``(1 | a) + (1 | b)``, nested ``(1 | a/b)``.
        data : pandas DataFrame
            Without missing values in the columns the formula reads.

        Raises
        ------
        DataTypeError
            When ``data`` is not a data frame.
        FormulaError, DataError
            When a term cannot be built, or the response is not classes or counts; when a class has fewer than five
            rows.
        OptionError
            When a response of more than two classes comes with more than one group term.
        """
        if not isinstance(data, pd.DataFrame):
            raise DataTypeError(f"data must be a pandas DataFrame; got {type(data).__name__}")
        if not isinstance(formula, str):
            raise OptionError(f"formula must be a string such as 'y ~ x + (1 | g)'; got {type(formula).__name__}")
        if "~" not in formula:
            raise DataError(f"{formula!r} has no response: write it as 'y ~ x + (1 | g)'")
        fixed, terms = group_terms(formula, data)
        response, _, rhs = fixed.partition("~")
        read = read_response(response, data, formula, len(terms))
        design, spec = fixed_design(rhs.strip(), data)
        if not np.all(np.isfinite(design)):
            raise DataError(f"the fixed effects of {formula!r} have missing or infinite values: drop those rows")
        return cls(formula, design, read, terms, spec, term_specs(formula, data), data)

    @property
    def source(self) -> FitSource:
        """What the fits of this model keep of it."""
        return FitSource(self.formula, self._new_rows, self.X, self.terms, self.response)

    @property
    def coef_names(self) -> list[str]:
        return list(self.layout.coef_names)

    def _fixed_precision(self, prior) -> np.ndarray:
        """The fixed effects' prior precision ``1 / scale^2`` (p,) under a Normal prior (0 where flat), checked by
        :func:`_group_prior`."""
        intercept = self.layout.coef_names[:1] == ("Intercept",)
        X = self.X[:, int(intercept) :]
        term = prior_term(prior, self.X.shape[1], intercept, lambda: X.std(axis=0, ddof=1))
        return 1.0 / np.asarray(term.scale, dtype=float) ** 2

    def _point_fit(self, kind: type, result, prior, group_prior, n_agq: int, started: float) -> MultilevelPointFit:
        """A point fit of class ``kind`` of the engine's ``result``, warned of where it is singular."""
        fit = kind(result, self.layout, self.source, prior, group_prior, n_agq, time.perf_counter() - started)
        if fit.singular:
            warnings.warn(
                ConvergenceWarning(
                    Advice(
                        f"boundary (singular) fit: the {fit.method.upper()} estimate of the group-level covariance of "
                        f"{', '.join(repr(label) for label in fit.singular)} is singular (an sd at 0, or a correlation "
                        "at +-1): the data cannot tell that term's spread from none. Its sd is reported as estimated; "
                        "a prior on the group sds keeps it off zero: ",
                        Remedy("use_map"),
                    )
                ),
                stacklevel=3,
            )
        return fit

    def fit_ml(self, n_agq: int = 1) -> MultilevelPointFit:
        """Maximum likelihood, as lme4's ``glmer``: the marginal likelihood of the fixed effects and the group-level
        covariance, the group effects integrated out by the Laplace approximation (``n_agq=1``) or by adaptive
        Gauss-Hermite quadrature with ``n_agq`` nodes per level (a single scalar group term only).

        Warns ConvergenceWarning, naming the term, where the estimate is on the boundary (a singular fit)."""
        if not isinstance(n_agq, int | np.integer) or isinstance(n_agq, bool) or not 1 <= n_agq <= 100:
            raise OptionError(f"n_agq must be a whole number of nodes from 1 to 100; got {n_agq!r}")
        if n_agq > 1 and not self.classes and (len(self.terms) > 1 or self.terms[0].n_columns > 1):
            raise OptionError(
                f"n_agq={n_agq} (adaptive Gauss-Hermite quadrature) needs a single scalar group term such as (1 | g); "
                "this model has more: use the Laplace approximation, n_agq=1"
            )
        started = time.perf_counter()
        result = self.response.fit_ml(self.X, self.terms, self.coef_names, n_agq)
        return self._point_fit(MultilevelMLFit, result, None, None, n_agq, started)

    def fit_map(self, prior=DEFAULT_PRIOR) -> MultilevelPointFit:
        """The posterior mode on the Laplace marginal likelihood (blme's ``bglmer``) under ``prior``, a
        :class:`~bayeslogit.Normal` on the fixed effects whose ``group`` is the prior on each term's sds and
        correlations (None, the default: ``GroupPrior()``, Gamma(2, 1) on each sd, which vanishes at zero and so
        keeps the mode off the boundary, and LKJ(2) on correlations)."""
        group_prior = _group_prior(prior)
        started = time.perf_counter()
        precision = self._fixed_precision(prior)
        result = self.response.fit_map(self.X, self.terms, self.coef_names, group_prior, precision)
        return self._point_fit(MultilevelMAPFit, result, prior, group_prior, 1, started)

    def fit_laplace(self, *args, **kwargs):
        """Refused: see the error's message."""
        raise OptionError(
            Advice(
                "a multilevel model has no Laplace fit here: a Gaussian at the joint mode of the fixed and group "
                "effects degenerates as a group sd approaches zero (the mode's curvature in the group effects grows "
                "without bound), so its intervals would be too narrow exactly where the data say least. Use ",
                Remedy("use_mcmc"),
                " for the posterior, or ",
                Remedy("use_map"),
                " for its mode",
            )
        )

    def fit_mcmc(
        self,
        prior=DEFAULT_PRIOR,
        *,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        random_seed=None,
        target_accept: float = 0.95,
        progressbar: bool = False,
    ) -> MultilevelMCMCFit:
        """The posterior by NUTS, the group effects non-centred (``sd * z``, ``z`` standard normal), with R-hat, ESS
        and divergences checked (a ConvergenceWarning when they are poor). ``prior`` as for :meth:`fit_map`; its
        group prior must be proper: a Gamma rate above zero. ``target_accept`` is 0.95 by default, as
        rstanarm's ``stan_glmer`` sets it: where groups carry much data the non-centred effects form a funnel of
        their own, which smaller steps cross without diverging."""
        group_prior = _group_prior(prior)
        draws, tune, chains = (
            check_count("draws", draws, 1),
            check_count("tune", tune, 0),
            check_count("chains", chains, 1),
        )
        target_accept = check_probability("target_accept", target_accept)
        started = time.perf_counter()
        with np.errstate(divide="ignore"):  # a flat prior's precision 0: an infinite sd
            coef_sd = 1.0 / np.sqrt(self._fixed_precision(prior))
        posterior = self.response.sample(
            self.X, self.coef_names, self.terms, coef_sd, group_prior, draws=draws, tune=tune, chains=chains,
            random_seed=random_seed, target_accept=target_accept, progressbar=progressbar,
        )  # fmt: skip
        diagnosis = multilevel_diagnosis(posterior, self.layout)
        if not diagnosis.ok:
            warnings.warn(ConvergenceWarning(diagnosis.message), stacklevel=2)
        return MultilevelMCMCFit(
            posterior, diagnosis, self.layout, self.source, prior, group_prior, time.perf_counter() - started,
        )  # fmt: skip

    def fit_all(self, prior=DEFAULT_PRIOR, random_seed=0, **mcmc) -> dict:
        """``{"ml": ..., "map": ..., "mcmc": ...}``: the three fits, MAP and MCMC under one ``prior``
        (``mcmc``: :meth:`fit_mcmc`'s options)."""
        return {
            "ml": self.fit_ml(),
            "map": self.fit_map(prior),
            "mcmc": self.fit_mcmc(prior, random_seed=random_seed, **mcmc),
        }

    def __repr__(self) -> str:
        groups = ", ".join(
            f"{label} ({len(levels)} levels)" for label, levels in zip(self.layout.labels, self.layout.levels)
        )
        return f"MultilevelModel({self.formula!r}; {len(self.X)} rows; groups: {groups})"


def _group_prior(prior) -> GroupPrior:
    """The group-level prior that ``prior`` (the fixed effects' bl.Normal) carries: its ``group``, or the default."""
    if not isinstance(prior, Normal):
        raise OptionError(
            f"the fixed effects' prior of a multilevel model must be a bl.Normal; got {type(prior).__name__}"
        )
    return GroupPrior() if prior.group is None else prior.group
