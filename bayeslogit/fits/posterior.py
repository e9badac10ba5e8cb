"""Posterior fits: the Laplace approximation and MCMC, held as coefficient draws in a :class:`PosteriorFit`.

Conventions
-----------
``P`` coefficients per linear predictor, ``M`` linear predictors (see :mod:`bayeslogit.numerics.objective`).
A fit holds ``samples`` of shape (n_chains, n_draws, P, M) (the Laplace fit has one chain of independent
draws). ``vec(B)`` flattens a (P, M) matrix class-major (``order="F"``), the order of
:func:`bayeslogit.fits.coef_labels`. ArviZ and xarray are imported inside the functions that need them.
"""

import os
import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.linalg import LinAlgError, cholesky

from .algorithms import pymc_backend
from .algorithms.laplace import importance_log_weights
from .data import check_choice, check_count, check_prior
from .exceptions import warn_convergence
from .fits import FitBase, PointFit, coef_labels, labelled_coef
from .numerics.links import expit
from .numerics.priors import Normal

KHAT_THRESHOLD = 0.7  # Pareto-k-hat above which importance sampling (and the Laplace Gaussian) is unreliable
RHAT_THRESHOLD = 1.01
ESS_THRESHOLD = 400


@dataclass(frozen=True)
class LaplaceDiagnosis:
    """How well the Laplace Gaussian stands in for the exact posterior.

    Attributes
    ----------
    khat : float
        Pareto-k-hat of the importance ratios exact posterior / Gaussian (reliable below 0.7).
    corrected_coef : Series or DataFrame
        Posterior means re-weighted by the Pareto-smoothed importance weights, labelled like ``coef``.
    """

    khat: float
    corrected_coef: pd.Series | pd.DataFrame


@dataclass(frozen=True)
class MCMCDiagnosis:
    """Convergence of the chains.

    Attributes
    ----------
    table : DataFrame
        ArviZ's ``r_hat``, ``ess_bulk`` and ``ess_tail`` per coefficient (index: ``coef_labels``).
    divergences : int
        Divergent transitions after tuning, all chains together.
    concerned : list of str
        Coefficients whose R-hat exceeds 1.01 or whose bulk or tail ESS is below 400, or for which ArviZ
        could not compute them (NaN: too few draws, or a chain that never moved).
    """

    table: pd.DataFrame
    divergences: int
    concerned: list

    @property
    def ok(self) -> bool:
        return not self.concerned and self.divergences == 0


@dataclass(frozen=True, eq=False)
class PosteriorFit(FitBase):
    """Posterior draws of the coefficients, from the Laplace approximation or from MCMC.

    Attributes
    ----------
    method : {"laplace", "mcmc"}
    model : LogisticModel
    prior : Normal
    samples : ndarray of shape (n_chains, n_draws, P, M)
        Coefficient draws (the Laplace fit has ``n_chains = 1``).
    fit_time : float
        Seconds spent, including the MAP fit that the approximation (or the sampler's start and
        whitening) is built on.
    map_fit : PointFit
        The MAP fit under ``prior``; its ``gaussian``, ``N(MAP, H^-1)`` in the objective's free
        coordinates, is the Laplace approximation (and the whitening of MCMC).
    latent : ndarray of shape (n_draws, n_free) or None
        Laplace: the standard-normal draws ``z`` behind ``samples`` (free coordinates
        ``map_fit.gaussian.point(z)``).
    sample_stats : xarray.Dataset or None
        MCMC: the sampler's statistics (``diverging``, step sizes, ...), dims (chain, draw).
    sampler : str or None
        MCMC: the NUTS implementation that ran.
    """

    method: str
    model: object
    prior: Normal
    samples: np.ndarray
    fit_time: float
    map_fit: PointFit
    latent: np.ndarray | None = None
    sample_stats: object = None
    sampler: str | None = None

    # ---- estimates ------------------------------------------------------------------------------
    @cached_property
    def params(self) -> np.ndarray:
        """Posterior mean of shape (P, M); for the Laplace fit exactly the MAP (the Gaussian's mean)."""
        if self.method == "laplace":
            return self.map_fit.params
        return self.samples.mean(axis=(0, 1))

    @property
    def coef(self):
        """Posterior means: Series indexed by ``coef_names``, or DataFrame [coef x class] for multiclass."""
        return labelled_coef(self.model, self.params)

    @cached_property
    def _cov(self) -> np.ndarray:
        if self.method == "laplace":
            return self.map_fit._cov
        return np.atleast_2d(np.cov(self._flat_draws(), rowvar=False))

    @property
    def cov(self) -> pd.DataFrame:
        """Posterior covariance of ``vec(B)``, (P*M, P*M) labelled by ``coef_labels``: the Gaussian's
        ``H^-1`` for Laplace, the sample covariance for MCMC."""
        return pd.DataFrame(self._cov, index=self._labels, columns=self._labels)

    @property
    def _labels(self) -> list[str]:
        return coef_labels(self.model)

    def _flat_draws(self) -> np.ndarray:
        """Draws of ``vec(B)``, shape (n_chains * n_draws, P*M)."""
        return self.coef_draws().transpose(0, 2, 1).reshape(self.n_draws, -1)

    def coef_draws(self) -> np.ndarray:
        """All draws, chains concatenated: shape (n_chains * n_draws, P, M)."""
        return self.samples.reshape(-1, *self.samples.shape[2:])

    @property
    def draws(self):
        """The draws as an ``xarray.DataArray`` named ``coef`` with dims (chain, draw, predictor) for binary
        models, (chain, draw, predictor, class) for multiclass, labelled by ``coef_names`` and classes."""
        import xarray as xr

        coords = {"chain": np.arange(self.samples.shape[0]), "draw": np.arange(self.samples.shape[1]),
                  "predictor": self.model.coef_names}
        if self.model.likelihood == "bernoulli":
            return xr.DataArray(self.samples[..., 0], dims=tuple(coords), coords=coords, name="coef")
        coords["class"] = self.model.coef_classes
        return xr.DataArray(self.samples, dims=tuple(coords), coords=coords, name="coef")

    @property
    def n_draws(self) -> int:
        """Total number of draws, all chains together."""
        return self.samples.shape[0] * self.samples.shape[1]

    @property
    def ess_bulk_min(self) -> float:
        """Smallest bulk effective sample size over the coefficients (MCMC); for the Laplace fit, whose
        draws are independent, the number of draws."""
        if self.method == "laplace":
            return float(self.n_draws)
        return float(self._mcmc_diagnosis.table["ess_bulk"].min())

    # ---- ArviZ ----------------------------------------------------------------------------------
    def _arviz_summary(self, kind: str, hdi_prob: float = 0.94) -> pd.DataFrame:
        import xarray as xr
        from arviz_stats import summary

        flat_draws = self._flat_draws().reshape(*self.samples.shape[:2], -1)
        flat = xr.Dataset({"coef": (("chain", "draw", "coefficient"), flat_draws)},
                          coords={"coefficient": self._labels})
        frame = summary(flat, var_names=["coef"], kind=kind, ci_prob=hdi_prob, ci_kind="hdi", round_to="none")
        frame.index = pd.Index(self._labels, name="coef")
        return frame

    def summary(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        """ArviZ's summary of the coefficients.

        Parameters
        ----------
        hdi_prob : float
            Probability mass of the highest-density interval.

        Returns
        -------
        DataFrame indexed by coefficient (``name[class]`` for multiclass) with ``mean, sd`` and the HDI
        bounds, and for MCMC also ``ess_bulk, ess_tail, r_hat, mcse_mean, mcse_sd``.
        """
        if not 0 < hdi_prob < 1:
            raise ValueError(f"`hdi_prob` must be in (0, 1); got {hdi_prob}")
        return self._arviz_summary("all" if self.method == "mcmc" else "stats", hdi_prob)

    def log_likelihood(self) -> np.ndarray:
        """Log-likelihood of each training observation (times its weight) at each draw.

        Returns
        -------
        ndarray of shape (n_chains, n_draws, n_samples)
        """
        data = self.model.data
        rows = np.arange(len(data.y))
        out = np.empty((self.n_draws, len(rows)))
        for s, B in enumerate(self.coef_draws()):
            out[s] = data.weights * self.model.log_probabilities(B, data.X)[rows, data.y]
        return out.reshape(*self.samples.shape[:2], len(rows))

    def to_datatree(self):
        """The fit as an ArviZ-ready ``xarray.DataTree``.

        Groups: ``posterior`` (variable ``coef``, see :attr:`draws`), ``log_likelihood`` and
        ``observed_data`` (variable ``y``, dim ``obs``; ``y`` holds the class codes ``0 .. K-1`` of
        ``model.classes_``), and for MCMC ``sample_stats``.
        """
        import xarray as xr

        obs = {"obs": np.arange(len(self.model.data.y))}
        groups = {
            "posterior": xr.Dataset({"coef": self.draws}),
            "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), self.log_likelihood())},
                                         coords={"chain": np.arange(self.samples.shape[0]),
                                                 "draw": np.arange(self.samples.shape[1]), **obs}),
            "observed_data": xr.Dataset({"y": ("obs", self.model.data.y)}, coords=obs,
                                        attrs={"classes": [str(label) for label in self.model.classes_]}),
        }
        if self.sample_stats is not None:
            groups["sample_stats"] = self.sample_stats
        return xr.DataTree.from_dict(groups)

    # ---- diagnostics ----------------------------------------------------------------------------
    def diagnose(self) -> LaplaceDiagnosis | MCMCDiagnosis:
        """Check the fit; warn :class:`ConvergenceWarning` when it cannot be trusted.

        Laplace: Pareto-k-hat of the importance ratios exact posterior / Gaussian (ArviZ's PSIS),
        warning above 0.7. MCMC: R-hat (> 1.01), bulk and tail ESS (< 400) and divergences. A diagnostic
        that cannot be computed (NaN, e.g. from too few draws) counts as a failed one.
        """
        if self.method == "laplace":
            diagnosis = self._laplace_diagnosis
            if not diagnosis.khat <= KHAT_THRESHOLD:
                warn_convergence(_khat_message(diagnosis.khat, self.n_draws))
            return diagnosis
        diagnosis = self._mcmc_diagnosis
        if not diagnosis.ok:
            warn_convergence(_convergence_message(diagnosis, *self.samples.shape[:2]))
        return diagnosis

    @cached_property
    def _laplace_diagnosis(self) -> LaplaceDiagnosis:
        objective = self.model.objective(self.prior)
        log_weights, khat = importance_log_weights(objective, self.map_fit.gaussian, self.latent)
        corrected = np.tensordot(np.exp(log_weights), self.coef_draws(), axes=1)
        return LaplaceDiagnosis(khat, labelled_coef(self.model, corrected))

    @cached_property
    def _mcmc_diagnosis(self) -> MCMCDiagnosis:
        table = self._arviz_summary("diagnostics")[["r_hat", "ess_bulk", "ess_tail"]]
        # Written as "not good" so that a NaN diagnostic (it compares False with anything) is a problem.
        good = (table["r_hat"] <= RHAT_THRESHOLD) & (table[["ess_bulk", "ess_tail"]] >= ESS_THRESHOLD).all(axis=1)
        return MCMCDiagnosis(table, int(self.sample_stats["diverging"].sum()), list(table.index[~good]))

    # ---- predictions ----------------------------------------------------------------------------
    def predict_proba(self, X=None, method: str = "mc") -> np.ndarray:
        """Posterior predictive probabilities.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), optional
            New data; default: the training data.
        method : {"mc", "probit"}
            "mc": the probability averaged over the draws. "probit" (binary models): MacKay's probit
            approximation ``sig(mu / sqrt(1 + pi s^2 / 8))``, with ``mu`` and ``s^2`` the mean and
            variance of the linear predictor under the Gaussian with the fit's mean and covariance
            (exact Laplace moments; sample moments for MCMC).

        Returns
        -------
        ndarray of shape (n_samples,) for binary models, (n_samples, K) for multiclass.
        """
        check_choice("method", method, ("mc", "probit"))
        if method == "mc":
            return super().predict_proba(X)
        if self.model.likelihood != "bernoulli":
            raise ValueError("method='probit' approximates the sigmoid of a Gaussian and needs a binary model; "
                             f"this one has {self.model.n_classes} classes. Use method='mc'")
        # One linear predictor of (P, 1 + P) coefficients: the mean's, then those of the columns of a root
        # R of the covariance (R R^T = cov), whose squares sum to the variance z^T cov z of each row z.
        eta = self.model.linear_predictor(np.column_stack([self.params[:, 0], self._cov_root]), X)
        mu, variance = eta[:, 0], (eta[:, 1:] ** 2).sum(axis=1)
        return expit(mu / np.sqrt(1 + np.pi * variance / 8))

    @cached_property
    def _cov_root(self) -> np.ndarray:
        """Lower Cholesky factor of the covariance of ``vec(B)``, shape (P*M, P*M)."""
        try:
            return cholesky(self._cov, lower=True)
        except (LinAlgError, ValueError):  # not positive definite; NaN from a single draw
            raise ValueError(f"the covariance of the {self.n_draws} draws is singular (too few draws, or chains that "
                             "did not move), so method='probit' cannot use it; use method='mc' or draw more") from None

    def __repr__(self) -> str:
        shape = f"{self.samples.shape[0]} x {self.samples.shape[1]} draws"
        return (f"PosteriorFit(method={self.method!r}, {shape}, {self.fit_time:.2f} s)\n"
                f"{self.coef.round(4).to_string()}")


def _khat_message(khat: float, n_draws: int) -> str:
    if not np.isfinite(khat):
        return (f"Pareto k-hat could not be computed (too few draws: {n_draws}), so the Laplace approximation is "
                "unchecked; draw more (draws=4000)")
    return f"Pareto k-hat = {khat:.2f} > {KHAT_THRESHOLD}: the Laplace approximation is poor here; use fit_mcmc"


def _convergence_message(diagnosis: MCMCDiagnosis, n_chains: int, n_draws: int) -> str:
    problems = []
    table = diagnosis.table.loc[diagnosis.concerned]
    unknown = ~np.isfinite(table.to_numpy()).all(axis=1)
    if unknown.any():
        problems.append(f"R-hat or ESS could not be computed for {', '.join(table.index[unknown])} (too few draws: "
                        f"{n_chains} chain(s) of {n_draws}, or a chain that never moved)")
    if not unknown.all():
        shown = ", ".join(f"{name} (r_hat={row.r_hat:.3f}, ess_bulk={row.ess_bulk:.0f}, "
                          f"ess_tail={row.ess_tail:.0f})" for name, row in table[~unknown].iterrows())
        problems.append(f"R-hat > {RHAT_THRESHOLD} or ESS < {ESS_THRESHOLD} for {shown}")
    if diagnosis.divergences:
        problems.append(f"{diagnosis.divergences} divergent transitions")
    return ("MCMC may not have converged: " + "; ".join(problems) + ". Try more tuning (tune=2000) and draws, "
            "a higher target_accept (target_accept=0.95), or a stronger prior (a smaller sigma)")


# ---- the MAP behind both fits -------------------------------------------------------------------------
def _mode(model, prior: Normal, map_fit: PointFit | None) -> PointFit:
    """The MAP fit to build on: ``map_fit`` when it is this model's MAP under ``prior``, else a new one."""
    if map_fit is None:
        return model.fit_map(prior)
    if not isinstance(map_fit, PointFit) or map_fit.method != "map" or map_fit.model is not model \
            or map_fit.prior != prior:
        raise ValueError(f"`map_fit` must be model.fit_map(prior) of this model under {prior!r}; got a "
                         f"{getattr(map_fit, 'method', type(map_fit).__name__)!r} fit with prior "
                         f"{getattr(map_fit, 'prior', None)!r}")
    return map_fit


def laplace_whitening(map_fit: PointFit) -> np.ndarray:
    """``W = T R`` of shape (P*M, n_free): ``vec(MAP) + W z`` has the Laplace distribution for ``z ~ N(0, I)``.

    ``R`` is the root of ``map_fit.gaussian`` (``R R^T = H^-1`` in free coordinates) and ``T`` the
    objective's transform (the identity when None).
    """
    root = map_fit.gaussian.root
    return root if map_fit.transform is None else map_fit.transform @ root


# ---- the two fits -----------------------------------------------------------------------------------
def fit_laplace(model, prior: Normal, draws: int = 4000, random_seed=None,
                map_fit: PointFit | None = None) -> PosteriorFit:
    """Laplace approximation: the Gaussian at the MAP with covariance the inverse Hessian of the objective.

    Parameters
    ----------
    model : LogisticModel
    prior : Normal
    draws : int
        Independent draws from the Gaussian (for predictions, summaries and the k-hat diagnostic).
    random_seed : int, numpy.random.Generator or None
        Seeds the ``numpy.random.Generator`` of the draws.
    map_fit : PointFit, optional
        ``model.fit_map(prior)``, when already at hand.

    Returns
    -------
    PosteriorFit
        ``method="laplace"``; ``params`` is exactly the MAP and ``cov`` the Gaussian's covariance.

    Raises
    ------
    SingularHessianError
        When the Hessian at the MAP is not positive definite.
    """
    check_prior(prior)
    draws = check_count("draws", draws, 1)
    start = time.perf_counter()
    map_fit = _mode(model, prior, map_fit)
    objective = model.objective(prior)
    latent = np.random.default_rng(random_seed).standard_normal((draws, objective.n_free))
    samples = np.stack([objective.coef(u) for u in map_fit.gaussian.point(latent)])[None]
    fit_time = map_fit.fit_time + time.perf_counter() - start
    return PosteriorFit("laplace", model, prior, samples, fit_time, map_fit, latent=latent)


def fit_mcmc(model, prior: Normal, draws: int = 1000, tune: int = 1000, chains: int = 4, random_seed=None,
             sampler: str = "auto", progressbar: bool = True, map_fit: PointFit | None = None,
             **sampler_kwargs) -> PosteriorFit:
    """The exact posterior by NUTS through PyMC, sampled in coordinates whitened by the Laplace Gaussian.

    The sampler runs on ``z`` with ``vec(coef) = vec(MAP) + T R z`` (``R R^T`` the Laplace covariance,
    ``T`` the objective's transform), starting at the MAP (``z = 0``, jittered per chain); the prior and
    the likelihood are written on ``coef``. The chains run in parallel on up to ``os.cpu_count()`` cores.

    Parameters
    ----------
    model : LogisticModel
    prior : Normal
    draws, tune, chains : int
        Draws kept per chain (>= 1), tuning steps per chain (>= 0), chains (>= 1).
    random_seed : int or None
        The same seed gives the same draws.
    sampler : {"auto", "nutpie", "pymc", "numpyro"}
        NUTS implementation; "auto" is nutpie when installed, else PyMC's.
    progressbar : bool
        Show the sampler's progress; False also silences PyMC's log messages.
    map_fit : PointFit, optional
        ``model.fit_map(prior)``, when already at hand.
    **sampler_kwargs
        Passed to ``pymc.sample`` (e.g. ``target_accept=0.95``, ``cores=1``).

    Returns
    -------
    PosteriorFit
        ``method="mcmc"``.

    Warns
    -----
    ConvergenceWarning
        When R-hat > 1.01, a bulk or tail ESS < 400 (or they cannot be computed, from too few draws), or
        there are divergent transitions.
    """
    check_prior(prior)
    draws = check_count("draws", draws, 1)
    tune = check_count("tune", tune, 0)
    chains = check_count("chains", chains, 1)
    nuts_sampler = pymc_backend.resolve_sampler(sampler)
    start = time.perf_counter()
    map_fit = _mode(model, prior, map_fit)
    pm_model = pymc_backend.build_model(model, prior, map_fit.params, laplace_whitening(map_fit))
    options = {"cores": min(chains, os.cpu_count() or 1), **sampler_kwargs}
    tree = pymc_backend.sample(pm_model, nuts_sampler, draws=draws, tune=tune, chains=chains,
                               random_seed=random_seed, progressbar=progressbar, **options)
    samples = tree["posterior"]["coef"].to_numpy()
    if model.likelihood == "bernoulli":
        samples = samples[..., None]
    fit = PosteriorFit("mcmc", model, prior, samples, map_fit.fit_time + time.perf_counter() - start, map_fit,
                       sample_stats=tree["sample_stats"].to_dataset(), sampler=nuts_sampler)
    fit.diagnose()
    return fit
