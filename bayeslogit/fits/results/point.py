"""Point fits (maximum likelihood and MAP) and fits that could not be made.

Results are immutable and hold what the fit produced (coefficients, Hessian, iterations); derived figures
such as the covariance and standard errors are computed on demand. What differs between ML and MAP (Wald tests
or not, what a profile interval profiles, which statistics mean something) lives on :class:`MLFit` and
:class:`MAPFit`; :class:`PointFit` holds what they share.
"""

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np
import pandas as pd

from bayeslogit.algorithms.laplace import Gaussian
from bayeslogit.checks import warn_renamed
from bayeslogit.exceptions import DEFAULT_DOOR, OptionError, advice_of
from bayeslogit.fits.results.base import FitBase
from bayeslogit.fits.results.prediction import WaldPrediction
from bayeslogit.fits.results.summary_header import point_summary
from bayeslogit.fits.results.summary_table import SummaryTable
from bayeslogit.fits.statistics import intervals, odds
from bayeslogit.fits.statistics.boundary import PointBoundary
from bayeslogit.fits.storage import files


@dataclass(frozen=True, eq=False)
class PointFit(FitBase):
    """A point estimate by Newton's method: the base of :class:`MLFit` and :class:`MAPFit`.

    Attributes
    ----------
    model : FittedModel
        The model it was made from (a :class:`~bayeslogit.LogisticModel`; for a loaded fit, a
        :class:`~bayeslogit.fits.model_view.ModelView` of its labels), read through the interface of
        :mod:`bayeslogit.fits.model_view`.
    prior : Normal, StudentT, Cauchy or None
        None for maximum likelihood.
    objective : Objective
        What was minimised: the negative log-likelihood (ML) or log posterior (MAP).
    params : ndarray of shape (P, M)
        The coefficient matrix (unlabelled; see ``coef``).
    llf : float
        Log-likelihood at the estimate (without the prior term), ``statistics()["llf"]``.
    n_iter : int
        Newton steps taken.
    converged : bool
    fit_time : float
        Seconds spent in the fit.
    iterations : tuple of Iteration
        The optimiser's record of each step; :attr:`history` is the same as a table.
    _hessian : ndarray of shape (n_free, n_free) or None
        The optimiser's Hessian at the optimum, when it computed one there (see :attr:`hessian`).

    The class-level declarations of every fit class are :class:`~bayeslogit.fits.results.base.FitBase`'s; a point
    fit's ``profiled`` is what its profile intervals profile.
    """

    model: object
    prior: object
    objective: object
    params: np.ndarray
    llf: float
    n_iter: int
    converged: bool
    fit_time: float
    iterations: tuple
    _hessian: np.ndarray | None = field(default=None, repr=False)

    profiled: ClassVar[str]
    """What a profile interval profiles: the objective the fit minimised."""
    draws_are_posterior = False
    markov_chains = False
    estimate_name = "estimate"
    interval_kinds = intervals.POINT_KINDS
    prediction = WaldPrediction
    _boundary_type = PointBoundary

    @property
    def coef_draws(self) -> np.ndarray:
        """The estimate as one chain of one draw, shape (1, 1, P, M)."""
        return self.params[None, None]

    @cached_property
    def hessian(self) -> np.ndarray:
        """Hessian of the objective at the optimum, shape (n_free, n_free), in the optimiser's free coordinates.

        The optimiser's own when it computed it there (Newton's method); otherwise (quasi-Newton steps on many
        rows) computed from the data on first use, one pass over them.
        """
        if self._hessian is not None:
            return self._hessian
        return self.objective(self.iterations[-1].x)[2]

    @cached_property
    def gaussian(self) -> Gaussian:
        """``N(estimate, H^-1)`` in the optimiser's free coordinates: the Laplace approximation at a MAP.

        Raises
        ------
        SingularHessianError
            When the Hessian is not positive definite.
        """
        return Gaussian.at_mode(self.iterations[-1].x, self.hessian)

    @cached_property
    def _cov(self) -> np.ndarray:
        """Covariance of ``vec(params)``, shape (P*M, P*M): ``T H^-1 T^T``."""
        cov = self.gaussian.covariance
        transform = self.objective.transform
        return cov if transform is None else transform @ cov @ transform.T

    @property
    def loglik(self) -> float:
        """Deprecated: :attr:`llf`, as :meth:`statistics` names it."""
        warn_renamed("fit.loglik", "fit.llf", "as statistics() and statsmodels name it")
        return self.llf

    @property
    def se(self) -> pd.Series | pd.DataFrame:
        """Standard errors, shaped like ``coef``."""
        return self.layout.labelled(self.layout.unflatten(self.uncertainty), "se")

    @property
    def history(self) -> pd.DataFrame:
        """One row per iteration: objective, grad_norm, decrement, step_size and the coefficients."""
        rows = [
            [it.objective, it.grad_norm, it.decrement, it.step_size, *self.objective.coef(it.x).ravel(order="F")]
            for it in self.iterations
        ]
        frame = pd.DataFrame(
            rows, columns=["objective", "grad_norm", "decrement", "step_size", *self.layout.flat_labels]
        )
        frame.index.name = "iteration"
        return frame

    def summary(self, ci_prob: float | None = None, ci_kind: str | None = None) -> SummaryTable:
        """Table of estimates, standard errors and intervals, with Wald tests for maximum likelihood, printed under
        a header of the fit's statistics.

        Parameters
        ----------
        ci_prob : float, optional
            Probability of the interval; default ``arviz_base.rcParams["stats.ci_prob"]``.
        ci_kind : {"wald", "profile"}, optional
            "wald" (the default): ``estimate -+ z * se``. "profile": where the objective, minimised over the
            other coefficients, rises by ``chi2(1).ppf(ci_prob) / 2`` (see
            :mod:`bayeslogit.algorithms.profile`); for MAP this profiles the log posterior, so the interval is
            that of the penalised likelihood (a profile-posterior interval). A bound that does not close is
            ``inf`` with a :class:`~bayeslogit.exceptions.ConvergenceWarning`.

        Returns
        -------
        SummaryTable
            A DataFrame indexed by coefficient (``name[class]`` for multiclass) with columns ``estimate, se``, for
            maximum likelihood ``z, p_value`` (a MAP estimate is shrunk towards 0 by its prior, so its Wald z is
            not a test), and the interval's bounds (``wald89_lb, wald89_ub``). ``attrs["uncertainty"]`` names
            what ``se`` and the interval are. Printed, it shows above the rows the response, formula, classes,
            prior and :meth:`statistics` as statsmodels' summary names them (for MAP the log-likelihood at the
            estimate, LL-Null and McFadden's pseudo R-squared, and a note on why the rest is absent); its
            ``statistics`` attribute holds those numbers. See :mod:`bayeslogit.fits.results.summary_header`.
        """
        ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, self.interval_kinds)
        estimate = self.params.ravel(order="F")
        se = self.uncertainty
        lower, upper = intervals.POINT_INTERVALS[ci_kind](self, np.eye(len(estimate)), self.layout.flat_labels, ci_prob)
        lb, ub = intervals.column_names(ci_kind, ci_prob)
        table = pd.DataFrame(
            {"estimate": estimate, "se": se, **self.wald_tests(estimate, se), lb: lower, ub: upper},
            index=pd.Index(self.layout.flat_labels, name="coef"),
        )
        interval = {"wald": "Wald interval", "profile": f"profile interval of the {self.profiled}"}[ci_kind]
        table.attrs["uncertainty"] = f"{self.method.upper()} standard error (inverse Hessian); {interval}"
        return point_summary(self, table)

    def wald_tests(self, estimate: np.ndarray, se: np.ndarray) -> dict:
        """The summary's Wald test columns of the estimates (P*M,) and their standard errors (P*M,): ``z`` and
        ``p_value``, or none where the estimate is shrunk by a prior."""
        return {}

    def describe_prior(self) -> str:
        """The prior as the summary's header names it."""
        return repr(self.prior)

    def odds_ratios(self, ci_prob: float | None = None, ci_kind: str | None = None) -> pd.DataFrame:
        """``exp`` of the slopes: odds ratios (binary) or relative risk ratios against ``classes_[0]`` (multiclass).

        Parameters
        ----------
        ci_prob : float, optional
            Probability of the interval; default ``arviz_base.rcParams["stats.ci_prob"]``.
        ci_kind : {"wald", "profile"}, optional
            The interval of the slope (see :meth:`summary`), whose bounds are exponentiated.

        Returns
        -------
        DataFrame indexed by slope (``name[k vs reference]`` for multiclass; no intercept row, see
        :mod:`bayeslogit.fits.statistics.odds`) with ``odds_ratio`` and the interval's bounds (``wald89_lb,
        wald89_ub``).
        """
        ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, self.interval_kinds)
        return odds.point_odds_ratios(self, ci_prob, ci_kind)

    def comparison_rows(self) -> dict:
        """The rows this fit adds to :func:`bayeslogit.surface.compare`: its ``cost``."""
        return {"cost": {"fit_time_s": self.fit_time, "n_iter": self.n_iter}}

    def __repr__(self) -> str:
        status = "converged" if self.converged else "NOT converged"
        return f"{type(self).__name__}({status} in {self.n_iter} iterations, llf={self.llf:.4f}, {self._coef_text()})"

    def statistics(self) -> pd.Series:
        """``llf, llnull, llr, llr_pvalue, prsquared, aic, bic, nobs, df_model, df_resid`` as statsmodels names
        them; NaN where a MAP fit's penalised likelihood makes them meaningless (see
        :mod:`bayeslogit.fits.statistics.likelihood`)."""
        from bayeslogit.fits.statistics.likelihood import (
            statistics,  # on first use: it needs scipy.stats, a tenth of a second to import
        )

        return statistics(self)

    def lr_test(self, other: "PointFit"):
        """Likelihood-ratio test against another ML fit of the same rows, nested in this one or containing it:
        a ``LikelihoodRatioTest(statistic, df, p_value)`` (see
        :func:`bayeslogit.fits.statistics.likelihood.lr_test`); against a multilevel ML fit, its
        :meth:`~bayeslogit.fits.results.multilevel_point.MultilevelMLFit.lr_test`.

        Raises
        ------
        TypeError
            When ``other`` is not a point fit (an :class:`OptionError`, a TypeError too).
        """
        from bayeslogit.fits.results.multilevel_point import MultilevelMLFit
        from bayeslogit.fits.statistics.likelihood import lr_test  # on first use, as statistics

        if isinstance(other, MultilevelMLFit):  # the flat model nested in a multilevel one: lme4's anova
            return other.lr_test(self)
        if not isinstance(other, PointFit):
            raise OptionError(f"lr_test compares two point fits (model.fit_ml()); got {type(other).__name__}")
        return lr_test(self, other)


@files.storable
class MLFit(PointFit):
    """Maximum likelihood, by Newton's method: ``prior`` is None. Its summary has Wald tests, and its statistics
    (:meth:`~PointFit.statistics`) are those of a maximised likelihood."""

    method = "ml"
    title = "ML (Newton)"
    penalised = False
    profiled = "likelihood"

    def wald_tests(self, estimate: np.ndarray, se: np.ndarray) -> dict:
        """``z = estimate / se`` and its two-sided ``p_value`` under a standard normal."""
        return {"z": estimate / se, "p_value": _two_sided_p(estimate / se)}

    def describe_prior(self) -> str:
        return "none (maximum likelihood)"


@files.storable
class MAPFit(PointFit):
    """The mode of the posterior under ``prior``, by Newton's method. Its estimate is shrunk towards 0 by the prior,
    so its summary has no Wald tests, and the statistics that assume a maximised likelihood are NaN."""

    method = "map"
    title = "MAP (Newton)"
    penalised = True
    profiled = "log posterior (penalised likelihood)"


def _two_sided_p(z: np.ndarray) -> np.ndarray:
    """``Pr(|Z| >= |z|)`` for a standard normal ``Z``: ``erfc(|z| / sqrt 2)``, accurate far into the tail."""
    return np.array([math.erfc(abs(value) / math.sqrt(2.0)) for value in z])


@dataclass(frozen=True)
class FailedFit:
    """A fit that could not be made, kept so that comparisons can show why.

    Attributes
    ----------
    method : str
    error : Exception
        The exception the fit raised.
    door : str
        The door whose words :attr:`reason` says the error's advice in (``"python"``, ``"cli"``, ``"estimator"``;
        see :class:`~bayeslogit.exceptions.Advice`): where the comparison, report or plot that shows it is read.
    """

    method: str
    error: Exception
    door: str = DEFAULT_DOOR

    failed: ClassVar[bool] = True
    """True: a failed fit (fits say False), so that a collection of fits can be split without testing types."""

    @property
    def reason(self) -> str:
        """The error's class and message, its advice in :attr:`door`'s words."""
        return self.reason_in(self.door)

    def reason_in(self, door: str) -> str:
        """The error's class and message, its advice in ``door``'s words (a message of plain text as it is)."""
        advice = advice_of(self.error)
        return f"{type(self.error).__name__}: {self.error if advice is None else advice.render(door)}"

    def save(self, path):
        """Refused: a failed fit has no estimates to save.

        Raises
        ------
        TypeError
            Always, with the reason the fit failed.
        """
        raise OptionError(
            f"the {self.method} fit failed ({self.reason}), so it has no estimates to save; save the "
            "fits that succeeded"
        )

    def __repr__(self) -> str:
        return f"FailedFit(method={self.method!r}, {self.reason})"

    def _repr_html_(self) -> str:
        """IPython's rich display: the method and the reason ``repr`` shows, as a table."""
        from bayeslogit.fits.display import markup

        return markup.block(markup.key_values([("method", self.method), ("reason", self.reason)], "FailedFit"))
