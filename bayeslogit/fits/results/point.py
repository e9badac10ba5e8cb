"""Point fits (maximum likelihood and MAP) and fits that could not be made.

Results are immutable and hold what the fit produced (coefficients, Hessian, iterations); derived figures
such as the covariance and standard errors are computed on demand.
"""

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from bayeslogit.algorithms.laplace import Gaussian
from bayeslogit.exceptions import OptionError
from bayeslogit.fits.results.base import FitBase
from bayeslogit.fits.results.summary_table import SummaryTable, point_summary
from bayeslogit.fits.statistics import intervals, odds
from bayeslogit.fits.statistics.boundary import PointBoundary
from bayeslogit.fits.storage import files


@files.storable
@dataclass(frozen=True, eq=False)
class PointFit(FitBase):
    """Maximum-likelihood or MAP estimate.

    Attributes
    ----------
    method : {"ml", "map"}
    model : LogisticModel
    prior : Normal, StudentT, Cauchy or None
        None for maximum likelihood.
    objective : Objective
        What was minimised: the negative log-likelihood (ML) or log posterior (MAP).
    params : ndarray of shape (P, M)
        The coefficient matrix (unlabelled; see ``coef``).
    loglik : float
        Log-likelihood at the estimate (without the prior term).
    n_iter : int
        Newton steps taken.
    converged : bool
    fit_time : float
        Seconds spent in the fit.
    iterations : tuple of Iteration
        The optimiser's record of each step; :attr:`history` is the same as a table.
    _hessian : ndarray of shape (n_free, n_free) or None
        The optimiser's Hessian at the optimum, when it computed one there (see :attr:`hessian`).
    """

    method: str
    model: object
    prior: object
    objective: object
    params: np.ndarray
    loglik: float
    n_iter: int
    converged: bool
    fit_time: float
    iterations: tuple
    _hessian: np.ndarray | None = field(default=None, repr=False)

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
            ``inf`` with a :class:`ConvergenceWarning`.

        Returns
        -------
        SummaryTable
            A DataFrame indexed by coefficient (``name[class]`` for multiclass) with columns ``estimate, se``, for
            maximum likelihood ``z, p_value`` (a MAP estimate is shrunk towards 0 by its prior, so its Wald z is
            not a test), and the interval's bounds (``wald89_lb, wald89_ub``). ``attrs["uncertainty"]`` names
            what ``se`` and the interval are. Printed, it shows above the rows the response, formula, classes,
            prior and :meth:`statistics` as statsmodels' summary names them (for MAP the log-likelihood at the
            estimate, LL-Null and McFadden's pseudo R-squared, and a note on why the rest is absent); its
            ``statistics`` attribute holds those numbers. See :mod:`bayeslogit.fits.results.summary_table`.
        """
        ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, intervals.POINT_KINDS)
        estimate = self.params.ravel(order="F")
        se = self.uncertainty
        lower, upper = intervals.POINT_INTERVALS[ci_kind](self, np.eye(len(estimate)), self.layout.flat_labels, ci_prob)
        lb, ub = intervals.column_names(ci_kind, ci_prob)
        tests = {} if self.prior is not None else {"z": estimate / se, "p_value": _two_sided_p(estimate / se)}
        table = pd.DataFrame(
            {"estimate": estimate, "se": se, **tests, lb: lower, ub: upper},
            index=pd.Index(self.layout.flat_labels, name="coef"),
        )
        profiled = "likelihood" if self.prior is None else "log posterior (penalised likelihood)"
        interval = {"wald": "Wald interval", "profile": f"profile interval of the {profiled}"}[ci_kind]
        table.attrs["uncertainty"] = f"{self.method.upper()} standard error (inverse Hessian); {interval}"
        return point_summary(self, table)

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
        ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, intervals.POINT_KINDS)
        return odds.point_odds_ratios(self, ci_prob, ci_kind)

    def comparison_rows(self) -> dict:
        """The rows this fit adds to :func:`bayeslogit.surface.compare`: its ``cost``."""
        return {"cost": {"fit_time_s": self.fit_time, "n_iter": self.n_iter}}

    def __repr__(self) -> str:
        status = "converged" if self.converged else "NOT converged"
        return (
            f"PointFit(method={self.method!r}, {status} in {self.n_iter} iterations, "
            f"loglik={self.loglik:.4f}, {self._coef_text()})"
        )

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
        :func:`bayeslogit.fits.statistics.likelihood.lr_test`)."""
        from bayeslogit.fits.statistics.likelihood import lr_test  # on first use, as statistics

        return lr_test(self, other)


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
    """

    method: str
    error: Exception

    @property
    def reason(self) -> str:
        """The error's class and message."""
        return f"{type(self.error).__name__}: {self.error}"

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
