"""Posterior fits: the Laplace approximation and MCMC, both held as coefficient draws.

Conventions
-----------
``P`` coefficients per linear predictor, ``M`` linear predictors (see :mod:`bayeslogit.fits.coef_labels`).
A fit holds ``coef_draws`` of shape (n_chains, n_draws, P, M): ``n_draws`` is per chain, as ArviZ's
``draw`` dim (the Laplace fit has one chain of independent draws); ``posterior`` is the same as a labelled
``xarray.DataArray``. What differs between the two lives on
their classes: :class:`LaplaceFit` reports the Gaussian's mean and covariance and checks itself by Pareto
k-hat, :class:`MCMCFit` the draws' moments and checks R-hat, ESS and divergences. ArviZ and xarray are
imported inside the methods that need them.
"""

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.linalg import eigh

from bayeslogit.checks import check_choice, warn_renamed
from bayeslogit.exceptions import OptionError, warn_convergence
from bayeslogit.fits.diagnostics import sensitivity
from bayeslogit.fits.diagnostics.convergence import LaplaceDiagnosis
from bayeslogit.fits.diagnostics.loo import loo_estimate, loo_rows
from bayeslogit.fits.diagnostics.mcmc_convergence import MCMCDiagnosis
from bayeslogit.fits.results.base import FitBase
from bayeslogit.fits.results.draws_summary import arviz_summary
from bayeslogit.fits.results.point import PointFit
from bayeslogit.fits.results.prediction import DrawPrediction
from bayeslogit.fits.results.summary_header import posterior_summary
from bayeslogit.fits.results.summary_table import SummaryTable
from bayeslogit.fits.statistics import intervals, odds
from bayeslogit.fits.statistics.boundary import PosteriorBoundary
from bayeslogit.fits.storage import files
from bayeslogit.numerics import predictive
from bayeslogit.numerics.design import Design
from bayeslogit.rows import sources


@dataclass(frozen=True, eq=False)
class PosteriorFit(FitBase):
    """Posterior draws of the coefficients; the base of :class:`LaplaceFit` and :class:`MCMCFit`.

    Attributes
    ----------
    model : FittedModel
        As :class:`~bayeslogit.fits.results.point.PointFit`'s.
    prior : Normal, StudentT or Cauchy
    coef_draws : ndarray of shape (n_chains, n_draws, P, M)
    fit_time : float
        Seconds spent, including the MAP fit that the approximation (or the sampler's start and
        whitening) is built on.
    map_fit : PointFit
        The MAP fit under ``prior``; its ``gaussian``, ``N(MAP, H^-1)`` in the objective's free
        coordinates, is the Laplace approximation (and the whitening of MCMC).
    diagnosis : LaplaceDiagnosis or MCMCDiagnosis
        The fit's check, made (and warned about) when the fit was made; see :meth:`diagnose`.

    The class-level declarations of every fit class are :class:`~bayeslogit.fits.results.base.FitBase`'s; a
    posterior fit's ``exact`` says whether its draws are from the exact posterior (MCMC) rather than an
    approximation of it.
    """

    model: object
    prior: object
    coef_draws: np.ndarray
    fit_time: float
    map_fit: PointFit
    diagnosis: LaplaceDiagnosis | MCMCDiagnosis

    exact: ClassVar[bool]
    penalised = True
    draws_are_posterior = True
    estimate_name = "posterior mean"
    interval_kinds = intervals.POSTERIOR_KINDS
    prediction = DrawPrediction
    _summary_kind: ClassVar[str]
    _uncertainty: ClassVar[str]
    _boundary_type = PosteriorBoundary

    @property
    def n_chains(self) -> int:
        return self.coef_draws.shape[0]

    @property
    def n_draws(self) -> int:
        """Draws per chain."""
        return self.coef_draws.shape[1]

    @property
    def posterior(self):
        """The draws as an ``xarray.DataArray`` named ``coef``, dims (chain, draw, predictor) for binary models
        and (chain, draw, predictor, class) for multiclass, labelled by ``coef_names`` and classes: the variable of
        the ``posterior`` group of :meth:`to_datatree` (``coef_draws`` is the same as an ndarray)."""
        return self.layout.dataarray(self.coef_draws)

    @property
    def draws(self):
        """Deprecated: :attr:`posterior` (``draws`` is a count throughout bayeslogit)."""
        warn_renamed("fit.draws", "fit.posterior", "draws is a count throughout bayeslogit")
        return self.posterior

    @property
    def objective(self):
        """The negative log posterior that the MAP fit minimised (its prior term, its free coordinates)."""
        return self.map_fit.objective

    def diagnose(self) -> LaplaceDiagnosis | MCMCDiagnosis:
        """The fit's check, warning :class:`~bayeslogit.exceptions.ConvergenceWarning` when its verdict is not ``"ok"``.

        Laplace: Pareto k-hat of the importance ratios exact posterior / Gaussian and the moves of the means and sds
        by the weights (:class:`LaplaceDiagnosis`). MCMC: R-hat, bulk and tail ESS and divergences
        (:class:`MCMCDiagnosis`). Each figure is compared with its threshold beyond its Monte Carlo noise: the
        verdict is "borderline" where it is within it. The same check ran, and warned, when the fit was made.
        """
        if not self.diagnosis.ok:
            warn_convergence(self.diagnosis.message)
        return self.diagnosis

    def summary(self, ci_prob: float | None = None, ci_kind: str | None = None) -> SummaryTable:
        """ArviZ's summary of the coefficients, printed under a header of the fit's draws, ELPD-LOO and diagnostics.

        Parameters
        ----------
        ci_prob : float, optional
            Probability of the interval; default ``arviz_base.rcParams["stats.ci_prob"]``.
        ci_kind : {"eti", "hdi"}, optional
            Equal-tailed or highest-density interval; default ``arviz_base.rcParams["stats.ci_kind"]``.

        Returns
        -------
        SummaryTable
            A DataFrame indexed by coefficient (``name[class]`` for multiclass) with ``mean, sd`` and the interval's
            bounds (``eti89_lb, eti89_ub``), and for MCMC also ``ess_bulk, ess_tail, r_hat, mcse_mean, mcse_sd``.
            ``attrs["uncertainty"]`` names what ``sd`` is. Printed, it shows above the rows the method, response,
            formula, classes, prior, draws and chains, the ELPD-LOO of
            :func:`~bayeslogit.fits.diagnostics.loo.loo_rows` (with its SE, p_loo and the rows whose Pareto k is high)
            and the diagnosis's rows; ELPD-LOO is computed when the header is first printed (or its ``statistics``
            read), about a second per few thousand rows. See :mod:`bayeslogit.fits.results.summary_header`.
        """
        ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, self.interval_kinds)
        table = arviz_summary(self.layout, self.coef_draws, self._summary_kind, ci_prob, ci_kind)
        table.attrs["uncertainty"] = f"{self._uncertainty} ({ci_kind.upper()})"
        return posterior_summary(self, table)

    def odds_ratios(self, ci_prob: float | None = None, ci_kind: str | None = None) -> pd.DataFrame:
        """The posterior of ``exp`` of the slopes: odds ratios (binary) or relative risk ratios against
        ``classes_[0]`` (multiclass).

        Parameters
        ----------
        ci_prob : float, optional
            Probability of the interval; default ``arviz_base.rcParams["stats.ci_prob"]``.
        ci_kind : {"eti", "hdi"}, optional
            Interval of the exponentiated draws; default ``arviz_base.rcParams["stats.ci_kind"]``.

        Returns
        -------
        DataFrame indexed by slope (``name[k vs reference]`` for multiclass; no intercept row, see
        :mod:`bayeslogit.fits.statistics.odds`) with the ratios' posterior ``mean, median`` and the interval's bounds.
        """
        ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, self.interval_kinds)
        return odds.posterior_odds_ratios(self, ci_prob, ci_kind)

    def log_likelihood(self) -> np.ndarray:
        """Log-likelihood of each training observation (times its weight) at each draw: of a binomial model, of each
        observation of successes and failures, its binomial coefficient included (one per row of the data, not per
        trial; see :mod:`bayeslogit.numerics.observations`).

        Returns
        -------
        ndarray of shape (n_chains, n_draws, n_observations)

        Raises
        ------
        DataError
            When the rows are dask arrays, which this array would hold n_draws times over.
        """
        data = self.model.data
        data.require_in_memory(
            "the log-likelihood of every row at every draw (log_likelihood, to_datatree, loo)",
            "compare(fits) estimates PSIS-LOO from a subsample of the rows, or fit a model "
            "of an in-memory subsample for the full DataTree",
        )
        values = predictive.log_likelihood_per_draw(
            self.layout.family, Design(data.X, self.model.intercept), data.y, data.weights, self.pooled_draws()
        )
        every = np.arange(data.observations.count(len(data.y)))
        values = data.observations.pointwise(values, every, data.observations.rows_of(every)[1])
        return values.reshape(self.n_chains, self.n_draws, -1)

    def to_datatree(self):
        """The fit as an ArviZ-ready ``xarray.DataTree``.

        Groups: ``posterior`` (variable ``coef``, see :attr:`posterior`), ``log_likelihood``, ``log_prior`` (``coef``,
        see :func:`~bayeslogit.fits.diagnostics.sensitivity.log_prior_group`) and ``observed_data`` (variable ``y``,
        dim ``obs``; ``y`` holds the class codes ``0 .. K-1`` of ``model.classes_``; of a binomial model, the
        successes, and ``trials``), and for MCMC ``sample_stats``. ``obs`` counts observations: a binomial model's
        rows of counts, one log-likelihood each (:meth:`log_likelihood`).
        """
        import xarray as xr

        obs = {"obs": np.arange(self.model.data.observations.count(len(self.model.data.y)))}
        draws = {"chain": np.arange(self.n_chains), "draw": np.arange(self.n_draws)}
        groups = {
            "posterior": xr.Dataset({"coef": self.posterior}),
            "log_likelihood": xr.Dataset(
                {"y": (("chain", "draw", "obs"), self.log_likelihood())}, coords={**draws, **obs}
            ),
            "observed_data": xr.Dataset(
                {
                    name: ("obs", values)
                    for name, values in self.model.data.observations.observed(self.model.data.y).items()
                },
                coords=obs,
                attrs={"classes": [str(label) for label in self.model.classes_]},
            ),
            "log_prior": sensitivity.log_prior_group(self),
        }
        return xr.DataTree.from_dict(groups | self._extra_groups())

    def prior_sensitivity(self, threshold: float = 0.05) -> pd.DataFrame:
        """How much the prior matters to each coefficient: see
        :func:`~bayeslogit.fits.diagnostics.sensitivity.prior_sensitivity`."""
        return sensitivity.prior_sensitivity(self, threshold)

    def _extra_groups(self) -> dict:
        return {}

    @cached_property
    def loo_estimate(self) -> tuple[dict, str | None]:
        """This fit's PSIS-LOO rows and what they warn of (:func:`~bayeslogit.fits.diagnostics.loo.loo_estimate`),
        computed once: the summary's header and :func:`bayeslogit.surface.compare` both read it."""
        return loo_estimate(self)

    def loo(self):
        """ArviZ's PSIS-LOO estimate of the expected log predictive density (``arviz_stats.loo``), pointwise.

        ArviZ warns when some rows' Pareto k exceed its threshold (the estimate is unreliable there);
        ``pareto_k`` holds them, and :func:`bayeslogit.surface.compare` counts them.
        """
        from arviz_stats import loo

        return loo(self.to_datatree(), pointwise=True)

    def comparison_rows(self) -> dict:
        """The rows this fit adds to :func:`bayeslogit.surface.compare`: ``loo``, ``diagnostics`` and ``cost``."""
        return {
            "loo": loo_rows(self),
            "diagnostics": self.diagnosis.rows,
            "cost": {"fit_time_s": self.fit_time, "chains": self.n_chains, "draws": self.n_draws},
        }

    # ---- predictions ----------------------------------------------------------------------------
    def predict_proba(self, X=None, approximation: str = "mc") -> np.ndarray:
        """Posterior predictive class probabilities.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), optional
            New data; default: the training data.
        approximation : {"mc", "probit"}
            "mc": the probability averaged over the draws. "probit" (two classes): MacKay's probit
            approximation ``sig(mu / sqrt(1 + pi s^2 / 8))``, with ``mu`` and ``s^2`` the mean and variance
            of the log-odds of ``classes_[1]`` under the Gaussian with the fit's mean and covariance (exact
            Laplace moments; sample moments for MCMC).

        Returns
        -------
        ndarray of shape (n_samples, K)
            One column per class of ``model.classes_``, binary models included (see
            :meth:`~bayeslogit.fits.results.base.FitBase.predict_proba`).
        """
        approximations = {"mc": super().predict_proba, "probit": self._probit_proba}
        return approximations[check_choice("approximation", approximation, approximations)](X)

    def _probit_proba(self, X) -> np.ndarray:
        family, n_classes = self.layout.family, self.model.n_classes
        if len(family.class_pairs(n_classes)) != 1:
            raise OptionError(
                "the probit approximation averages the sigmoid of a Gaussian log-odds and needs two "
                f"classes; this model has {n_classes}. Use approximation='mc'"
            )
        # The log-odds direction of the mean's coefficients and of each column of a root R of the covariance
        # (R R^T = cov, columns as (P, M) matrices): the squares of the latter sum to the log-odds' variance.
        P, M = self.params.shape
        columns = self._cov_root.T.reshape(-1, M, P).transpose(0, 2, 1)  # (J, P, M)
        directions = family.pair_directions(np.concatenate([self.params[None], columns]), n_classes)[..., 0]

        def event_proba(X: np.ndarray) -> np.ndarray:
            log_odds = Design(X, self.model.intercept).linear_predictor(directions.T)  # (n, 1 + J)
            return predictive.probit_average(log_odds[:, 0], (log_odds[:, 1:] ** 2).sum(axis=1))

        X = self.model.design_matrix(X)
        p1 = sources.kind_of(X).by_row_chunks(event_proba, X)
        return np.column_stack([1 - p1, p1])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.n_chains} x {self.n_draws} draws, {self.fit_time:.2f} s, {self._coef_text()})"
        )


@files.storable
@dataclass(frozen=True, eq=False, repr=False)
class LaplaceFit(PosteriorFit):
    """The Laplace approximation: the Gaussian at the MAP with covariance the inverse Hessian of the objective.

    Attributes
    ----------
    latent : ndarray of shape (n_draws, n_free)
        The standard-normal draws ``z`` behind ``coef_draws`` (free coordinates ``map_fit.gaussian.point(z)``).
    """

    latent: np.ndarray

    method = "laplace"
    title = "Laplace approximation"
    exact = False
    markov_chains = False
    _summary_kind = "stats"
    _uncertainty = "Laplace posterior sd (the Gaussian at the MAP); interval of its draws"

    @property
    def params(self) -> np.ndarray:
        """The Gaussian's mean, exactly the MAP, shape (P, M)."""
        return self.map_fit.params

    @property
    def _cov(self) -> np.ndarray:
        return self.map_fit._cov

    @property
    def _cov_root(self) -> np.ndarray:
        """``W = T R`` (P*M, n_free) of the Gaussian (:meth:`~bayeslogit.algorithms.laplace.Gaussian.whitening`)."""
        return self.map_fit.gaussian.whitening(self.map_fit.objective.transform)


@files.storable
@dataclass(frozen=True, eq=False, repr=False)
class MCMCFit(PosteriorFit):
    """The exact posterior by NUTS through PyMC, sampled in coordinates whitened by the Laplace Gaussian.

    Attributes
    ----------
    sample_stats : xarray.Dataset
        The sampler's statistics (``diverging``, step sizes, ...), dims (chain, draw).
    sampler : str
        The NUTS implementation that ran.
    """

    sample_stats: object
    sampler: str

    method = "mcmc"
    title = "MCMC (NUTS)"
    exact = True
    markov_chains = True
    _summary_kind = "all"
    _uncertainty = "MCMC posterior sd; interval of the draws"

    @cached_property
    def params(self) -> np.ndarray:
        """Posterior mean, shape (P, M)."""
        return self.coef_draws.mean(axis=(0, 1))

    @cached_property
    def _cov(self) -> np.ndarray:
        flat = sensitivity.flat_draws(self.coef_draws).reshape(-1, self.params.size)
        return np.atleast_2d(np.cov(flat, rowvar=False))

    @cached_property
    def _cov_root(self) -> np.ndarray:
        """A square root of the sample covariance (P*M, P*M), through its eigendecomposition (it may be singular)."""
        if not np.all(np.isfinite(self._cov)):
            raise ValueError(
                f"the covariance of the {self.n_chains} x {self.n_draws} draws is not finite (a single "
                "draw?), so approximation='probit' cannot use it; use approximation='mc' or draw more"
            )
        values, vectors = eigh(self._cov)
        return vectors * np.sqrt(np.clip(values, 0.0, None))

    def _extra_groups(self) -> dict:
        return {"sample_stats": self.sample_stats}
