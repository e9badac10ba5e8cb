"""Posterior fits: the Laplace approximation and MCMC, both held as coefficient draws.

Conventions
-----------
``P`` coefficients per linear predictor, ``M`` linear predictors (see :mod:`bayeslogit.fits.coef_labels`).
A fit holds ``coef_draws`` of shape (n_chains, n_draws, P, M): ``n_draws`` is per chain, as ArviZ's
``draw`` dim (the Laplace fit has one chain of independent draws). What differs between the two lives on
their classes: :class:`LaplaceFit` reports the Gaussian's mean and covariance and checks itself by Pareto
k-hat, :class:`MCMCFit` the draws' moments and checks R-hat, ESS and divergences. ArviZ and xarray are
imported inside the methods that need them.
"""

import time
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.linalg import eigh

from bayeslogit.algorithms import pymc_backend
from bayeslogit.algorithms.dask_backend import is_dask, map_row_chunks
from bayeslogit.algorithms.laplace import coef_draws
from bayeslogit.checks import check_choice
from bayeslogit.exceptions import OptionError, warn_convergence
from bayeslogit.fits.diagnostics import sensitivity
from bayeslogit.fits.diagnostics.convergence import (
    LaplaceDiagnosis,
    MCMCDiagnosis,
    folded_ess,
    laplace_diagnosis,
)
from bayeslogit.fits.diagnostics.loo import loo_estimate, loo_rows
from bayeslogit.fits.results.base import FitBase
from bayeslogit.fits.results.point import PointFit
from bayeslogit.fits.results.summary_table import SummaryTable, arviz_summary, posterior_summary
from bayeslogit.fits.statistics import intervals, odds
from bayeslogit.fits.statistics.boundary import PosteriorBoundary
from bayeslogit.fits.storage import files
from bayeslogit.numerics import predictive
from bayeslogit.numerics.design import Design


@dataclass(frozen=True, eq=False)
class PosteriorFit(FitBase):
    """Posterior draws of the coefficients; the base of :class:`LaplaceFit` and :class:`MCMCFit`.

    Attributes
    ----------
    model : LogisticModel
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
    """

    model: object
    prior: object
    coef_draws: np.ndarray
    fit_time: float
    map_fit: PointFit
    diagnosis: LaplaceDiagnosis | MCMCDiagnosis

    method: ClassVar[str]
    exact: ClassVar[bool]
    """Whether the draws are from the exact posterior (MCMC) rather than an approximation of it."""
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
    def draws(self):
        """The draws as an ``xarray.DataArray`` named ``coef``, dims (chain, draw, predictor) for binary models
        and (chain, draw, predictor, class) for multiclass, labelled by ``coef_names`` and classes."""
        return self.layout.dataarray(self.coef_draws)

    def diagnose(self) -> LaplaceDiagnosis | MCMCDiagnosis:
        """The fit's check, warning :class:`ConvergenceWarning` when its verdict is not ``"ok"``.

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
            read), about a second per few thousand rows. See :mod:`bayeslogit.fits.results.summary_table`.
        """
        ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, intervals.POSTERIOR_KINDS)
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
        ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, intervals.POSTERIOR_KINDS)
        return odds.posterior_odds_ratios(self, ci_prob, ci_kind)

    def log_likelihood(self) -> np.ndarray:
        """Log-likelihood of each training observation (times its weight) at each draw.

        Returns
        -------
        ndarray of shape (n_chains, n_draws, n_samples)

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
        return values.reshape(self.n_chains, self.n_draws, -1)

    def to_datatree(self):
        """The fit as an ArviZ-ready ``xarray.DataTree``.

        Groups: ``posterior`` (variable ``coef``, see :attr:`draws`), ``log_likelihood``, ``log_prior`` (``coef``,
        see :func:`~.sensitivity.log_prior_group`) and ``observed_data`` (variable ``y``, dim ``obs``; ``y`` holds
        the class codes ``0 .. K-1`` of ``model.classes_``), and for MCMC ``sample_stats``.
        """
        import xarray as xr

        obs = {"obs": np.arange(len(self.model.data.y))}
        draws = {"chain": np.arange(self.n_chains), "draw": np.arange(self.n_draws)}
        groups = {
            "posterior": xr.Dataset({"coef": self.draws}),
            "log_likelihood": xr.Dataset(
                {"y": (("chain", "draw", "obs"), self.log_likelihood())}, coords={**draws, **obs}
            ),
            "observed_data": xr.Dataset(
                {"y": ("obs", self.model.data.y)},
                coords=obs,
                attrs={"classes": [str(label) for label in self.model.classes_]},
            ),
            "log_prior": sensitivity.log_prior_group(self),
        }
        return xr.DataTree.from_dict(groups | self._extra_groups())

    def prior_sensitivity(self, threshold: float = 0.05) -> pd.DataFrame:
        """How much the prior matters to each coefficient: see :func:`~.sensitivity.prior_sensitivity`."""
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
        """Posterior predictive probabilities.

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
        ndarray of shape (n_samples,) for binary models, (n_samples, K) for multiclass.
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
        p1 = map_row_chunks(event_proba, X) if is_dask(X) else event_proba(X)
        return family.output_probabilities(np.column_stack([1 - p1, p1]))

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
    exact = False
    _summary_kind = "stats"
    _uncertainty = "Laplace posterior sd (the Gaussian at the MAP); interval of its draws"

    @classmethod
    def from_map(cls, model, prior, map_fit: PointFit, draws: int, random_seed) -> "LaplaceFit":
        """Draw from ``map_fit.gaussian`` and check the approximation (:func:`.diagnostics.laplace_diagnosis`), warning
        when it is poor or borderline.

        Parameters
        ----------
        model, prior
            Those of ``map_fit``.
        map_fit : PointFit
            ``model.fit_map(prior)``.
        draws : int
        random_seed : int, numpy.random.Generator or None

        Raises
        ------
        SingularHessianError
            When the Hessian at the MAP is not positive definite.
        """
        started = time.perf_counter()
        rng = np.random.default_rng(random_seed)
        latent = rng.standard_normal((draws, map_fit.objective.n_free))
        samples = coef_draws(map_fit.objective, map_fit.gaussian, latent)
        diagnosis = laplace_diagnosis(map_fit, latent, rng)
        if not diagnosis.ok:
            warn_convergence(diagnosis.message)
        return cls(
            model, prior, samples[None], map_fit.fit_time + time.perf_counter() - started, map_fit, diagnosis, latent
        )

    @property
    def params(self) -> np.ndarray:
        """The Gaussian's mean, exactly the MAP, shape (P, M)."""
        return self.map_fit.params

    @property
    def _cov(self) -> np.ndarray:
        return self.map_fit._cov

    @property
    def _cov_root(self) -> np.ndarray:
        return laplace_whitening(self.map_fit)


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
    exact = True
    _summary_kind = "all"
    _uncertainty = "MCMC posterior sd; interval of the draws"

    @classmethod
    def sample(
        cls,
        model,
        prior,
        map_fit: PointFit,
        nuts_sampler: str,
        *,
        draws: int,
        tune: int,
        chains: int,
        random_seed,
        progressbar: bool,
        **sampler_kwargs,
    ) -> "MCMCFit":
        """Run NUTS from the MAP in the Laplace-whitened coordinates and check convergence, warning on failure.

        Parameters
        ----------
        model, prior, map_fit
            As for :meth:`LaplaceFit.from_map`.
        nuts_sampler : {"nutpie", "pymc", "numpyro"}
        draws, tune, chains, random_seed, progressbar, **sampler_kwargs
            See :meth:`bayeslogit.LogisticModel.fit_mcmc`.
        """
        started = time.perf_counter()
        posterior = pymc_backend.WhitenedPosterior(map_fit.objective, map_fit.gaussian)
        samples, sample_stats = pymc_backend.sample(
            posterior,
            map_fit.layout.coords,
            nuts_sampler,
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=random_seed,
            progressbar=progressbar,
            **sampler_kwargs,
        )
        table = arviz_summary(map_fit.layout, samples, "diagnostics")[["r_hat", "ess_bulk", "ess_tail"]]
        table["ess_folded"] = folded_ess(samples)
        diagnosis = MCMCDiagnosis(table, int(sample_stats["diverging"].sum()), chains, draws, prior.tail_advice)
        if not diagnosis.ok:
            warn_convergence(diagnosis.message)
        return cls(
            model,
            prior,
            samples,
            map_fit.fit_time + time.perf_counter() - started,
            map_fit,
            diagnosis,
            sample_stats,
            nuts_sampler,
        )

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


def laplace_whitening(map_fit: PointFit) -> np.ndarray:
    """``W = T R`` of shape (P*M, n_free): ``vec(MAP) + W z`` has the Laplace distribution for ``z ~ N(0, I)``.

    ``R`` is the root of ``map_fit.gaussian`` (``R R^T = H^-1`` in free coordinates) and ``T`` the
    objective's transform (the identity when None).
    """
    root = map_fit.gaussian.root
    transform = map_fit.objective.transform
    return root if transform is None else transform @ root
