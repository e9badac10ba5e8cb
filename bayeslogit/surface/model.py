"""LogisticModel: the data, the likelihood family and the coefficient layout shared by every fit."""

import time
import warnings
from functools import partial

import numpy as np
import pandas as pd

from bayeslogit.algorithms import pymc_backend
from bayeslogit.algorithms.dask_backend import in_memory, is_dask
from bayeslogit.algorithms.newton_modes import highest_mode
from bayeslogit.checks import check_choice, check_count, check_newton_options
from bayeslogit.exceptions import BayeslogitError, ConvergenceWarning, OptionError, SingularHessianError
from bayeslogit.fits.coef_labels import CoefLayout
from bayeslogit.fits.diagnostics.prior_predictive import PriorPredictive, prior_predictive
from bayeslogit.fits.results.point import FailedFit, PointFit
from bayeslogit.fits.results.posterior import LaplaceFit, MCMCFit
from bayeslogit.numerics import predictive
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.families import FAMILIES, PARAMETERIZATIONS
from bayeslogit.numerics.prior_specs import prior_term
from bayeslogit.rows import chunked as dask_data
from bayeslogit.rows import formulas
from bayeslogit.rows import in_memory as data_layer

METHODS = {"ml": None, "map": None, "laplace": "map", "mcmc": "map"}
"""The methods of :meth:`LogisticModel.fit_all`, in the order they are made, and the fit each is built on."""


class LogisticModel:
    """Logistic classification model: Bernoulli/sigmoid for two classes, Categorical/softmax for more.

    Parameters
    ----------
    X : array-like, DataFrame or dask array of shape (n_samples, n_features)
        Numeric predictors, without a column of ones (see ``intercept``). A dask array keeps the rows out of
        core: the fits read them a chunk at a time (see :mod:`bayeslogit.rows.chunked`).
    y : array-like or dask array of shape (n_samples,)
        Class labels: 0/1, bool, strings or a pandas Categorical (whose category order is kept;
        other labels are sorted). For two classes, ``classes_[1]`` is the event ``w = 1``.
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
        for ML, the intercept without ``intercept_sigma``/``intercept_scale``) is constrained to sum to zero.
    weights : array-like of shape (n_samples,), optional
        Non-negative sample weights (a row of weight 2 counts as two identical rows).
    reference : class label, optional
        The class moved first in ``classes_``: a multiclass model's reference, a binary model's non-event class
        (the event is the other). Refused with ``parameterization="symmetric"``.

    Attributes
    ----------
    data : ModelData or ChunkedData
        The validated predictors, class codes, weights and labels, in memory or (dask) out of core.
    design : Design
        The predictors with the implicit intercept column.
    family : Bernoulli or Categorical
        The likelihood, per sample, of the linear predictor, and what follows from it.
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
        prepare = dask_data.prepare if is_dask(X) else data_layer.prepare
        self._init(prepare(X, y, feature_names, weights), intercept, likelihood, parameterization, reference)

    def _init(self, model_data: data_layer.ModelData, intercept: bool, likelihood, parameterization: str, reference):
        if likelihood is None:
            likelihood = "bernoulli" if len(model_data.classes) == 2 else "categorical"
        check_choice("likelihood", likelihood, FAMILIES)
        check_choice("parameterization", parameterization, PARAMETERIZATIONS)
        self.family = FAMILIES[likelihood](parameterization)
        model_data = data_layer.with_reference(model_data, reference, self.family)
        self.family.check_classes(model_data.classes)
        self.data = model_data
        self.intercept = data_layer.check_intercept(intercept, len(model_data.feature_names))
        self.parameterization = parameterization
        self.design = Design(model_data.X, self.intercept)
        self.layout = CoefLayout(self.family, model_data.classes, model_data.feature_names, self.intercept)
        self.formula = self.response = self.dropped_rows = None

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
        ``dropped_rows``).
        """
        response, rhs = formulas.split_formula(formula, data)
        data, weights, dropped = formulas.handle_missing(response, rhs, data, weights, missing)
        formula_data = dask_data.formula_data if is_dask(data) else data_layer.formula_data
        model_data, intercept = formula_data(rhs, response, data, weights)
        model = cls.__new__(cls)
        model._init(model_data, intercept, likelihood, parameterization, reference)
        model.formula, model.response, model.dropped_rows = formula, response, dropped
        return model

    # ---- labels ---------------------------------------------------------------------------------
    @property
    def likelihood(self) -> str:
        """``"bernoulli"`` or ``"categorical"``."""
        return self.family.name

    @property
    def classes_(self) -> np.ndarray:
        """Class labels, shape (n_classes,)."""
        return self.data.classes

    @property
    def n_classes(self) -> int:
        return len(self.data.classes)

    @property
    def feature_names(self) -> list[str]:
        return list(self.data.feature_names)

    @property
    def coef_names(self) -> list[str]:
        """Names of the coefficient rows: ``"Intercept"`` first when present, then the features."""
        return self.layout.coef_names

    @property
    def coef_classes(self) -> list:
        """Labels of the coefficient columns: the event class, the non-reference classes, or all (symmetric)."""
        return self.layout.columns

    # ---- the objective and the data of predictions -------------------------------------------------
    def objective(self, prior=None):
        """The negative log posterior (``prior=None``: log-likelihood) of this model, an :class:`Objective` (for dask
        rows, its sum over the row chunks); an autoscaled prior's scales are divided by the predictors' sds."""
        term = prior_term(
            prior and data_layer.check_prior(prior), self.design.n_coef, self.intercept, self.data.predictor_sd
        )
        return self.data.objective(
            self.family, self.intercept, self.n_classes, term, self.family.free_transform(term.flat, self.n_classes)
        )

    def design_matrix(self, X=None):
        """Validated predictors (n_samples, n_features) for prediction; None gives the training data. Dask rows
        (a dask X, or the training rows of dask data) give a dask array, validated chunk by chunk when computed."""
        if X is None:
            return self.data.X
        rhs = self.formula.split("~", 1)[1].strip() if self.formula else None
        new_design = dask_data.new_design if is_dask(X) else data_layer.new_design
        return new_design(self.data, rhs, X)

    def evaluation_data(self, X=None, y=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Validated rows to evaluate on: the training data when both ``X`` and ``y`` are None.

        Returns
        -------
        X : ndarray or dask array of shape (n, p)
            In the model's feature space (a dask array for the training rows of a model of dask data).
        codes : ndarray of int of shape (n,)
        weights : ndarray of shape (n,)
            The model's sample weights in-sample, ones for new data.
        held_out : bool
        """
        if X is None and y is None:
            return self.data.X, *in_memory(self.data.y, self.data.weights), False
        if X is None or y is None:
            raise OptionError(
                "give both X and y to evaluate on new data (X as the model's features, or the raw data "
                "frame of a formula model; y as class labels), or neither for the training data"
            )
        X = self.design_matrix(X)
        codes = data_layer.class_codes(self.classes_, *in_memory(y))
        if len(codes) != X.shape[0]:
            raise data_layer.DataError(data_layer.MESSAGES["y_length"].format(n_X=X.shape[0], n_y=len(codes)))
        return X, codes, np.ones(len(codes)), True

    def log_probabilities(self, B: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Class log-probabilities (n, K) at coefficients ``B`` (P, M) for a validated design ``X`` (n, p)."""
        return predictive.average_log_proba(self.family, Design(X, self.intercept), B[None])

    def loglik(self, B: np.ndarray) -> float:
        """Log-likelihood of the training data at coefficients ``B`` (P, M)."""
        return -self.family.value(self.design.linear_predictor(B), self.data.y, self.data.weights)

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
        self.data.raise_if_collinear(
            self.intercept,
            "maximum likelihood is not unique",
            "or use fit_map(bl.Normal(...)), whose prior makes the estimate unique",
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            try:
                fit = self._fit_point("ml", None, tol, max_iter)
            except (SingularHessianError, FloatingPointError):
                self.data.raise_if_separated(self.intercept, self.n_classes, None)
                raise
        if not fit.converged or self.data.shows_separation(fit, tol):
            self.data.raise_if_separated(self.intercept, self.n_classes, fit)
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        return fit

    def fit_map(self, prior, tol: float = 1e-10, max_iter: int = 100) -> PointFit:
        """Maximum a posteriori estimate by Newton's method; under a Student-t or Cauchy prior, whose log posterior is
        not concave, from two starts (:func:`~bayeslogit.algorithms.newton_modes.highest_mode`: a warning if they
        differ). Dependent columns so large that the prior's curvature is lost in rounding raise
        :class:`CollinearityError`."""
        prior, (tol, max_iter) = data_layer.check_prior(prior), check_newton_options(tol, max_iter)
        try:
            return self._fit_point("map", prior, tol, max_iter)
        except SingularHessianError:
            self.data.raise_if_collinear(
                self.intercept,
                "the MAP's Hessian is singular in float64",
                "or standardise "
                "them (at their scale the prior's curvature is lost in rounding), or use a "
                "prior with autoscale=True",
            )
            raise

    def _fit_point(self, method: str, prior, tol: float, max_iter: int) -> PointFit:
        start = time.perf_counter()
        objective = self.objective(prior)
        name = f"Newton's method ({method.upper()})"
        solve = partial(self.data.minimize, tol=tol, max_iter=max_iter, name=name)
        result = highest_mode(objective, solve, name)
        B = objective.coef(result.x)
        return PointFit(
            method,
            self,
            prior,
            objective,
            B,
            objective.penalty(B) - result.value,
            result.n_iter,
            result.converged,
            time.perf_counter() - start,
            result.iterations,
            result.hess,
        )

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
        data_layer.check_prior(prior)
        draws = check_count("draws", draws, 1)
        return LaplaceFit.from_map(self, prior, self._mode(prior, map_fit), draws, random_seed)

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
        normal: 200 tuning steps give the ESS and R-hat of 1,000 (measured over seeds and data sets). nutpie, the
        default, samples the package's objective and compiles nothing; "pymc" and "numpyro" a PyMC model of it.

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
        data_layer.check_prior(prior)
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
        return MCMCFit.sample(
            self,
            prior,
            self._mode(prior, map_fit),
            nuts_sampler,
            **counts,
            random_seed=random_seed,
            progressbar=progressbar,
            **sampler_kwargs,
        )

    def _mode(self, prior, map_fit: PointFit | None) -> PointFit:
        """The MAP fit to build on: ``map_fit`` when it is this model's MAP under ``prior``, else a new one."""
        if map_fit is None:
            return self.fit_map(prior)
        if not isinstance(map_fit, PointFit) or map_fit.model is not self or map_fit.prior != prior:
            raise OptionError(
                f"`map_fit` must be model.fit_map(prior) of this model under {prior!r}; got a "
                f"{getattr(map_fit, 'method', type(map_fit).__name__)!r} fit with prior "
                f"{getattr(map_fit, 'prior', None)!r}"
            )
        return map_fit

    def prior_predictive(self, prior, draws: int = 1000, random_seed=0) -> PriorPredictive:
        """What ``prior`` implies about the class probabilities of the rows before any data (warns PriorWarning)."""
        return prior_predictive(self, data_layer.check_prior(prior), draws, random_seed)

    def fit_all(
        self,
        prior,
        random_seed=0,
        draws: int = 1000,
        tune: int = 200,
        chains: int = 4,
        methods: tuple = tuple(METHODS),
        map_fit=None,
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
        map_fit : PointFit or FailedFit, optional
            The MAP fit under ``prior`` (or its failure), when already at hand: the posterior fits start from it.

        Returns
        -------
        dict
            method -> PointFit, LaplaceFit, MCMCFit or FailedFit (e.g. ML under separation), in ``methods`` order.
        """
        if isinstance(methods, str):
            raise OptionError(f"`methods` must be a sequence of method names, e.g. ('ml', 'map'); got {methods!r}")
        for method in methods:
            check_choice("methods", method, METHODS)
        makers = {
            "ml": self.fit_ml,
            "map": lambda: self.fit_map(prior),
            "laplace": lambda: self.fit_laplace(
                prior, draws=draws * chains, random_seed=random_seed, map_fit=made["map"]
            ),
            "mcmc": lambda: self.fit_mcmc(
                prior,
                draws=draws,
                tune=tune,
                chains=chains,
                random_seed=random_seed,
                map_fit=made["map"],
                **mcmc_kwargs,
            ),
        }
        needed = set(methods) | {METHODS[method] for method in methods} - {None}
        made = {} if map_fit is None else {"map": map_fit}
        for method in (m for m in METHODS if m in needed - set(made)):
            base = made.get(METHODS[method])
            if isinstance(base, FailedFit):
                made[method] = FailedFit(method, base.error)
                continue
            try:
                made[method] = makers[method]()
            except (BayeslogitError, FloatingPointError) as error:
                made[method] = FailedFit(method, error)
        return {method: made[method] for method in methods}

    def __repr__(self) -> str:
        return (
            f"LogisticModel({self.likelihood}, {self.data.X.shape[0]} observations, "
            f"classes={self.classes_.tolist()}, coef={self.coef_names})"
        )
