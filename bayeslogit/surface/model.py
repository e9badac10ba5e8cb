"""LogisticModel: a model's rows, likelihood family and coefficient labels (a :class:`ModelView`), and its fits.

Each fit method checks its arguments once, builds the objective, runs the algorithm (:mod:`.fitting`) and hands back
a result, which holds the model as the :class:`~bayeslogit.fits.model_view.FittedModel` it needs and never calls
back to fit.
"""

import numpy as np
import pandas as pd

from bayeslogit.algorithms import pymc_backend, pymc_model
from bayeslogit.checks import check_choice, check_count, check_newton_options
from bayeslogit.exceptions import BayeslogitError, ConvergenceWarning, OptionError, SingularHessianError
from bayeslogit.fits.diagnostics.prior_predictive import PriorPredictive, prior_predictive
from bayeslogit.fits.model_view import ModelView
from bayeslogit.fits.results.point import FailedFit, MAPFit, MLFit, PointFit
from bayeslogit.fits.results.posterior import LaplaceFit, MCMCFit
from bayeslogit.held_warnings import held_warnings, reissue
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.families import FAMILIES, PARAMETERIZATIONS
from bayeslogit.rows import formulas, in_memory, sources
from bayeslogit.surface import fitting
from bayeslogit.surface.methods import METHODS, FitSettings
from bayeslogit.surface.priors import checked_prior


class LogisticModel(ModelView):
    """Logistic classification model: Bernoulli/sigmoid for two classes, Categorical/softmax for more.

    Parameters
    ----------
    X : array-like, DataFrame or dask array of shape (n_samples, n_features)
        Numeric predictors, without a column of ones (see ``intercept``). A dask array keeps the rows out of
        core: the fits read them a chunk at a time (see :mod:`bayeslogit.rows.chunked`).
    y : array-like or dask array of shape (n_samples,), or array-like or DataFrame of shape (n_samples, 2)
        Class labels: 0/1, bool, strings or a pandas Categorical (whose category order is kept; other labels are
        sorted); for two classes, ``classes_[1]`` is the event ``w = 1``. Two columns are a binomial response,
        counts of successes and failures (R's ``cbind``; see :mod:`bayeslogit.rows.counts`).
    feature_names : sequence of str, optional
        Default: the DataFrame's columns, else ``x0, x1, ...``.
    intercept : bool
        Add an intercept (the first coefficient).
    likelihood : {"bernoulli", "categorical"}, optional
        Default: "bernoulli" for two classes, "categorical" for more.
    parameterization : {"reference", "symmetric"}
        Multiclass only. "reference": class ``classes_[0]`` (see ``reference``) has coefficients fixed at zero,
        the coefficients have shape (n_coef, K-1). "symmetric": one column per class, (n_coef, K); the softmax
        is unchanged by adding a vector to every class, so every coefficient row whose prior is flat (all of them
        for ML, the intercept without ``intercept_scale``) is constrained to sum to zero.
    weights : array-like of shape (n_samples,), optional
        Non-negative sample weights (a row of weight 2 counts as two identical rows).
    reference : class label, optional
        The class moved first in ``classes_``: a multiclass model's reference, a binary model's non-event class
        (the event is the other). Refused with ``parameterization="symmetric"``.

    Attributes
    ----------
    data : ModelData or ChunkedData
        The validated predictors, class codes, weights and labels, in memory or (dask) out of core (see
        :class:`~bayeslogit.rows.protocol.Rows`).
    family : Bernoulli or Categorical
        The implementation of ``likelihood`` (``model.likelihood`` is its name): the per-sample likelihood.
    layout : CoefLayout
        The labels of the coefficients, classes and class pairs.
    formula, response, dropped_rows : str, str, Index or None
        For models built by :meth:`from_formula`: the formula, its response column and the index labels of the
        rows dropped for missing values (``missing="drop"``; empty when none were).

    Examples
    --------
    >>> import bayeslogit as bl
    >>> model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())
    >>> model.fit_ml().coef.round(4).tolist()
    [0.0027, -0.8966, 0.4608]
    """

    def __init__(
        self,
        X,
        y,
        feature_names=None,
        intercept: bool = True,
        likelihood: str | None = None,
        parameterization: str = "reference",
        weights=None,
        reference=None,
    ):
        rows = sources.kind_of(X).prepare(X, y, feature_names, weights)
        self._init(rows, intercept, likelihood, parameterization, reference)

    def _init(self, rows, intercept: bool, likelihood, parameterization: str, reference, formula=None, response=None):
        if likelihood is None:
            likelihood = "bernoulli" if len(rows.classes) == 2 else "categorical"
        check_choice("likelihood", likelihood, FAMILIES)
        check_choice("parameterization", parameterization, PARAMETERIZATIONS)
        family = FAMILIES[likelihood](parameterization)
        rows = in_memory.with_reference(rows, reference, family)
        family.check_classes(rows.classes)
        intercept = in_memory.check_intercept(intercept, len(rows.feature_names))
        super().__init__(family, intercept, parameterization, rows, formula, response)
        self.dropped_rows = None

    @classmethod
    def from_formula(
        cls,
        formula: str,
        data: pd.DataFrame,
        likelihood: str | None = None,
        parameterization: str = "reference",
        weights=None,
        reference=None,
        missing: str = "raise",
    ) -> "LogisticModel":
        """Build a model from a formula such as ``"switched ~ dist + np.log(arsenic) + C(educ)"``.

        The right-hand side is expanded by formulaic (``C()``, ``I()``, interactions, functions of columns); the
        intercept follows the formula (``- 1`` or ``+ 0`` removes it). New data frames given to ``predict_proba``
        are expanded by the same model spec. A dask DataFrame is expanded partition by partition and kept out of
        core (see :func:`bayeslogit.rows.chunked.formula_data`). ``missing="raise"`` refuses missing values in the
        columns the formula reads, counted by column; ``"drop"`` drops their rows with a UserWarning (see
        ``dropped_rows``). Counts of successes and failures, as R writes them: ``"cbind(s, size - s) ~ x"``.
        """
        kind = sources.frame_kind(data)
        response, rhs = formulas.split_formula(formula, data)
        data, weights, dropped = kind.handle_missing(response, rhs, data, weights, missing)
        rows, intercept = kind.formula_data(rhs, response, data, weights)
        model = cls.__new__(cls)
        model._init(rows, intercept, likelihood, parameterization, reference, formula, response)
        model.dropped_rows = dropped
        return model

    def objective(self, prior=None):
        """The negative log posterior (``prior=None``: log-likelihood) of this model, an :class:`Objective` (for dask
        rows, its sum over the row chunks); an autoscaled prior's scales are divided by the predictors' sds."""
        return super().objective(checked_prior(prior, flat=True))

    def loglik(self, B: np.ndarray) -> float:
        """Log-likelihood of the training rows (in memory) at ``B`` (P, M), any binomial coefficients included."""
        self.data.require_in_memory("the log-likelihood at given coefficients", "compute it on a subsample")
        eta = Design(self.data.X, self.intercept).linear_predictor(B)
        return self.data.observations.log_constant - self.family.value(eta, self.data.y, self.data.weights)

    # ---- point fits ---------------------------------------------------------------------------------
    def fit_ml(self, tol: float = 1e-10, max_iter: int = 100) -> PointFit:
        """Maximum likelihood by Newton's method.

        Before Newton, the design's rank is checked (collinear or constant columns raise :class:`CollinearityError`
        naming them). Separation is checked by a linear program only on signs of it: the Hessian turns singular or
        overflows, Newton does not converge, or (n_samples * n_coef * M up to 5e5) least_likely_other_class is at
        most ``4 tol`` where it converged, or (beyond) |eta| > 30.

        Raises
        ------
        SeparationError
            When some predictors separate the classes, so the ML estimate does not exist.
        CollinearityError
            When the design does not have full column rank.
        SingularHessianError
            When the Hessian becomes singular for another reason than separation.
        """
        tol, max_iter = check_newton_options(tol, max_iter)
        fitting.raise_if_ml_not_unique(self.data, self.intercept)
        with held_warnings(ConvergenceWarning) as caught:
            try:
                fit = self._fit_point(MLFit, None, tol, max_iter)
            except (SingularHessianError, FloatingPointError):
                fitting.raise_if_separated(self.data, self.intercept, self.n_classes, None)
                raise
        if not fit.converged or fitting.shows_separation(self.data, self.intercept, fit, tol):
            fitting.raise_if_separated(self.data, self.intercept, self.n_classes, fit)
        reissue(caught)
        return fit

    def fit_map(self, prior, tol: float = 1e-10, max_iter: int = 100) -> PointFit:
        """Maximum a posteriori estimate by Newton's method; under a Student-t or Cauchy prior, whose log posterior is
        not concave, from two starts (:func:`~bayeslogit.algorithms.newton_modes.highest_mode`: a warning if they
        differ). Dependent columns so large that the prior's curvature is lost in rounding raise
        :class:`CollinearityError`."""
        return self._map(checked_prior(prior), *check_newton_options(tol, max_iter))

    def _map(self, prior, tol: float = 1e-10, max_iter: int = 100) -> PointFit:
        """:meth:`fit_map` under a checked ``prior``."""
        try:
            return self._fit_point(MAPFit, prior, tol, max_iter)
        except SingularHessianError:
            fitting.raise_if_map_lost_in_rounding(self.data, self.intercept)
            raise

    def _fit_point(self, fit_class: type, prior, tol: float, max_iter: int) -> PointFit:
        """A point fit of class ``fit_class`` under the checked ``prior`` (None: flat), :func:`.fitting.point_fit`."""
        return fitting.point_fit(self, fit_class, prior, super().objective(prior), tol, max_iter)

    # ---- posterior fits ------------------------------------------------------------------------------
    def fit_laplace(self, prior, draws: int = 4000, random_seed=None, map_fit: PointFit | None = None) -> LaplaceFit:
        """Laplace approximation: the Gaussian at the MAP (``params``) with covariance (``cov``) the inverse Hessian.

        The fit is checked when made (:class:`~bayeslogit.LaplaceDiagnosis`): PSIS k-hat of the exact posterior
        against the Gaussian, with its standard error, and each coefficient's mean and sd shifted by the importance
        weights, in posterior sds, from at least 4,000 draws of its own (16,000 when the first answer is within its
        noise of a threshold). "poor" (k-hat > 0.7 or a shift > 0.5 sd, beyond twice their standard errors) and
        "borderline" (within that noise) warn :class:`ConvergenceWarning`. Past 10,000 rows the posterior at each
        draw is its exact quadratic expansion plus a subsample's estimate of the rest, so the check costs a pass
        over the rows, not one per draw.

        Parameters
        ----------
        prior : Normal, StudentT or Cauchy
        draws : int
            Independent draws from the Gaussian, for predictions and summaries (the check tops them up to 4,000).
        random_seed : int, numpy.random.Generator or None
            Seeds the ``numpy.random.Generator`` of the draws.
        map_fit : PointFit, optional
            ``model.fit_map(prior)``, when already at hand.

        Returns
        -------
        LaplaceFit

        Raises
        ------
        SingularHessianError
            When the Hessian at the MAP is not positive definite.
        """
        prior, draws = checked_prior(prior), check_count("draws", draws, 1)
        mode = self._mode(prior, map_fit)
        samples, diagnosis, latent, seconds = fitting.laplace_parts(mode, draws, random_seed)
        return LaplaceFit(self, prior, samples, mode.fit_time + seconds, mode, diagnosis, latent)

    def fit_mcmc(
        self,
        prior,
        draws: int = 1000,
        tune: int = 200,
        chains: int = 4,
        random_seed=None,
        sampler: str = "auto",
        progressbar: bool = True,
        map_fit: PointFit | None = None,
        **sampler_kwargs,
    ) -> MCMCFit:
        """The exact posterior by NUTS, sampled in coordinates whitened by the Laplace Gaussian.

        The sampler runs on ``z``, ``vec(coef) = vec(MAP) + T R z`` (``R R^T`` the Laplace covariance, ``T`` the
        objective's transform), from the MAP (``z = 0``, jittered per chain), where the posterior is nearly standard
        normal: 200 tuning steps give the ESS and R-hat of 1,000, over seeds and data sets (``benchmarks/mcmc_wells.py``
        and ``benchmarks/mcmc_large.py`` report both). nutpie, the default, samples the package's objective and
        compiles nothing; "pymc" and "numpyro" a PyMC model of it.

        Parameters
        ----------
        prior : Normal, StudentT or Cauchy
        draws, tune, chains, random_seed : int
            Draws kept per chain (>= 1), tuning steps per chain (>= 0), chains (>= 1); a seed (or None).
        sampler : {"auto", "nutpie", "pymc", "numpyro"}
            NUTS implementation; "auto" is nutpie when installed, else PyMC's.
        progressbar : bool
            Show the sampler's progress; False also silences PyMC's log messages.
        map_fit : PointFit, optional
            ``model.fit_map(prior)``, when already at hand.
        **sampler_kwargs
            Passed to ``nutpie.sample`` or ``pymc.sample`` (e.g. ``target_accept=0.95``, ``cores=1``).

        Raises
        ------
        DataError
            When the rows are dask arrays: every NUTS step needs every row.

        Warns
        -----
        ConvergenceWarning
            When R-hat > 1.01 (two chains or more), a bulk or tail ESS < 400 (or they cannot be computed,
            from too few draws), or there are divergent transitions; each figure is compared with its threshold
            beyond twice its Monte Carlo standard error, and one within that noise is reported as borderline.
        """
        prior = checked_prior(prior)
        self.data.require_in_memory(
            "fit_mcmc",
            "use fit_laplace(prior), whose k-hat diagnostic says whether the "
            "Gaussian is good enough, or fit_mcmc on a model of an in-memory subsample of "
            "the rows, e.g. LogisticModel(X[:100_000].compute(), y[:100_000].compute())",
        )
        counts = {
            "draws": check_count("draws", draws, 1),
            "tune": check_count("tune", tune, 0),
            "chains": check_count("chains", chains, 1),
        }
        nuts_sampler = pymc_backend.resolve_sampler(sampler)
        mode = self._mode(prior, map_fit)
        samples, diagnosis, sample_stats, seconds = fitting.mcmc_parts(
            prior, mode, nuts_sampler, **counts, random_seed=random_seed, progressbar=progressbar, **sampler_kwargs
        )
        return MCMCFit(self, prior, samples, mode.fit_time + seconds, mode, diagnosis, sample_stats, nuts_sampler)

    def _mode(self, prior, map_fit: PointFit | None) -> PointFit:
        """The MAP fit to build on: ``map_fit`` when it is this model's MAP under the checked ``prior`` (else an
        OptionError, :func:`.fitting.checked_map_fit`); a new one when None."""
        return self._map(prior) if map_fit is None else fitting.checked_map_fit(self, prior, map_fit)

    def prior_predictive(self, prior, draws: int = 1000, random_seed=0) -> PriorPredictive:
        """What ``prior`` implies about the class probabilities of the rows before any data (warns PriorWarning)."""
        return prior_predictive(self, checked_prior(prior), draws, random_seed)

    def fit_all(
        self,
        prior,
        random_seed=0,
        draws: int = 1000,
        tune: int = 200,
        chains: int = 4,
        methods: tuple = tuple(METHODS),
        map_fit=None,
        max_iter: int = 100,
        **mcmc_kwargs,
    ) -> dict:
        """Fit the model every way, in order; a fit that fails is kept as a :class:`FailedFit`, and so are the
        posterior fits, built on the MAP fit, when it fails (with its error).

        Parameters
        ----------
        prior : Normal, StudentT or Cauchy
            The prior of the MAP, Laplace and MCMC fits.
        random_seed, draws, tune, chains
            Seed of the Laplace draws and the sampler; MCMC settings (Laplace takes ``draws * chains`` draws).
        methods : tuple of {"ml", "map", "laplace", "mcmc"}
        map_fit : MAPFit or FailedFit, optional
            The MAP fit under ``prior`` (or its failure), when already at hand: the posterior fits start from it.
        max_iter : int
            Most Newton iterations of the ML and MAP fits (the MAP fit the posterior fits start from included).

        Returns
        -------
        dict
            method -> MLFit, MAPFit, LaplaceFit, MCMCFit or FailedFit (e.g. ML under separation), in ``methods``
            order (see :data:`~bayeslogit.surface.methods.METHODS`).
        """
        if isinstance(methods, str):
            raise OptionError(f"`methods` must be a sequence of method names, e.g. ('ml', 'map'); got {methods!r}")
        for method in methods:
            check_choice("methods", method, METHODS)
        settings = FitSettings(draws, tune, chains, None, random_seed, mcmc_kwargs, max_iter)
        needed = set(methods) | {METHODS[name].built_on for name in methods} - {None}
        made = {} if map_fit is None else {MAPFit.method: map_fit}
        for name in (name for name in METHODS if name in needed - set(made)):
            method = METHODS[name]
            base = made.get(method.built_on)
            if base is not None and base.failed:
                made[name] = FailedFit(name, base.error)
                continue
            try:
                made[name] = method.make(self, prior, base, settings)
            except (BayeslogitError, FloatingPointError) as error:
                made[name] = FailedFit(name, error)
        return {name: made[name] for name in methods}

    def to_pymc(self, prior, observed: bool = True):
        """This model as a ``pymc.Model`` in its own coordinates, to sample, predict and extend in PyMC.

        Parameters
        ----------
        prior : Normal, StudentT, Cauchy or None
            The prior of ``coef``: ``pm.Normal``, ``pm.StudentT`` or ``pm.Cauchy``, ``pm.Flat`` where flat (None: all).
        observed : bool
            False leaves out the likelihood (``y``), for one's own.

        Returns
        -------
        pymc.Model
            ``pm.Data`` ``X`` (dims ``obs, feature``: for new rows, ``model.design_matrix(rows)``, no column of ones),
            ``y_codes`` (codes of ``classes_``) and ``weights`` (if any); ``coef`` (dims ``predictor``, and ``class``
            for more than two classes); ``y``, Bernoulli or Categorical (the reference class's logit 0), weighted by
            the potential ``weighting``. A fit's DataTree has these names, so its draws attach. The log density is
            ``-model.objective(prior)`` plus the prior's normalising constant (:mod:`bayeslogit.algorithms.pymc_model`).

        Raises
        ------
        DataError
            For dask rows.

        Examples
        --------
        >>> import pymc as pm
        >>> m = model.to_pymc(bl.Normal(2.5))
        >>> tree = pm.sample(model=m)  # or model.fit_mcmc(bl.Normal(2.5)).to_datatree()
        >>> with m:
        ...     pm.set_data({"X": model.design_matrix(new_frame)})
        ...     new = pm.sample_posterior_predictive(tree, predictions=True).predictions["y"]

        A group intercept (column ``group`` of the model's data frame ``df``) and a probit likelihood:

        >>> m, (codes, groups) = model.to_pymc(bl.Normal(2.5), observed=False), pd.factorize(df["group"])
        >>> with m:
        ...     m.add_coord("group", groups)
        ...     offset = pm.Normal("offset", 0.0, pm.HalfNormal("spread", 1.0), dims="group")
        ...     eta = m["coef"][0] + m["X"] @ m["coef"][1:] + offset[pm.Data("group_codes", codes, dims="obs")]
        ...     y = pm.Bernoulli("y", p=pm.math.invprobit(eta), observed=m["y_codes"], dims="obs")
        """
        self.data.require_in_memory(
            "to_pymc", "build it from a model of an in-memory subsample, e.g. LogisticModel(X[:100_000].compute(), ...)"
        )
        return pymc_model.logistic_model(self.objective(prior), self.layout.coords, self.feature_names, observed)
