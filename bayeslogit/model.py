"""LogisticModel: the data, the likelihood and the coefficient layout shared by every fit."""

import time
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.linalg import null_space

from . import data as data_layer
from .algorithms.collinearity import find_collinearity
from .algorithms.newton import newton
from .algorithms.separation import find_separation
from .exceptions import CollinearityError, ConvergenceWarning, SeparationError, SingularHessianError
from .fits import FailedFit, PointFit
from .numerics.likelihoods import FAMILIES
from .numerics.links import with_reference
from .numerics.objective import Design, Objective
from .numerics.priors import Normal

_LP_BUDGET = 500_000  # constraint-matrix entries under which separation is checked before Newton (~0.4 s)
_SATURATED_LOGIT = 30.0  # |eta| beyond which a fitted probability is within 1e-13 of 0 or 1


class LogisticModel:
    """Logistic classification model: Bernoulli/sigmoid for two classes, Categorical/softmax for more.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Numeric predictors, without a column of ones (see ``intercept``).
    y : array-like of shape (n_samples,)
        Class labels: 0/1, bool, strings or a pandas Categorical (whose category order is kept;
        other labels are sorted). For two classes, ``classes_[1]`` is the event ``w = 1``.
    feature_names : sequence of str, optional
        Default: the DataFrame's columns, else ``x0, x1, ...``.
    intercept : bool
        Add an intercept (the first coefficient).
    likelihood : {"bernoulli", "categorical"}, optional
        Default: "bernoulli" for two classes, "categorical" for more.
    parameterization : {"reference", "symmetric"}
        Multiclass only. "reference": class ``classes_[0]`` has coefficients fixed at zero, the
        coefficients have shape (n_coef, K-1). "symmetric": one column per class, (n_coef, K); the
        softmax is unchanged by adding a vector to every class, so every coefficient row whose prior
        is flat (all of them for ML, the intercept under ``Normal(intercept_sigma=None)``) is
        constrained to sum to zero over the classes.
    weights : array-like of shape (n_samples,), optional
        Non-negative sample weights (a row of weight 2 counts as two identical rows).

    Attributes
    ----------
    data : ModelData
        The validated predictors, class codes, weights and labels.
    design : Design
        The predictors with the implicit intercept column.
    family : Bernoulli or Categorical
        The likelihood, per sample, of the linear predictor.
    formula, response : str or None
        The formula and its response column, for models built by :meth:`from_formula`.

    Examples
    --------
    >>> import bayeslogit as bl
    >>> model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())
    >>> model.fit_ml().coef.round(4).tolist()
    [0.0027, -0.8966, 0.4608]
    """

    def __init__(self, X, y, feature_names=None, intercept: bool = True, likelihood: str | None = None,
                 parameterization: str = "reference", weights=None):
        self._init(data_layer.prepare(X, y, feature_names, weights), intercept, likelihood, parameterization)

    def _init(self, model_data: data_layer.ModelData, intercept: bool, likelihood, parameterization: str):
        n_classes = len(model_data.classes)
        if likelihood is None:
            likelihood = "bernoulli" if n_classes == 2 else "categorical"
        data_layer.check_choice("likelihood", likelihood, data_layer.LIKELIHOODS)
        data_layer.check_choice("parameterization", parameterization, data_layer.PARAMETERIZATIONS)
        if likelihood == "bernoulli" and n_classes != 2:
            raise ValueError(f"likelihood='bernoulli' needs two classes; y has {n_classes}: "
                             f"{model_data.classes.tolist()}. Use likelihood='categorical'")
        if likelihood == "bernoulli" and parameterization != "reference":
            raise ValueError(f"parameterization={parameterization!r} is for the categorical likelihood; a "
                             "Bernoulli model has one coefficient vector. Pass likelihood='categorical' too")
        self.data = model_data
        self.intercept = bool(intercept)
        self.likelihood = likelihood
        self.parameterization = parameterization
        self.family = FAMILIES[likelihood](parameterization)
        self.design = Design(model_data.X, self.intercept)
        self.formula = self.response = None

    @classmethod
    def from_formula(cls, formula: str, data: pd.DataFrame, likelihood: str | None = None,
                     parameterization: str = "reference", weights=None) -> "LogisticModel":
        """Build a model from a formula such as ``"switched ~ dist + np.log(arsenic) + C(educ)"``.

        The right-hand side is expanded by formulaic (``C()``, ``I()``, interactions, functions of
        columns); the intercept follows the formula (``- 1`` or ``+ 0`` removes it). New data frames
        given to ``predict_proba`` are expanded by the same model spec.
        """
        response, rhs = data_layer.split_formula(formula, data)
        X, intercept, spec = data_layer.design_from_formula(rhs, data)
        model_data = replace(data_layer.prepare(X, data[response], weights=weights), formula_spec=spec)
        model = cls.__new__(cls)
        model._init(model_data, intercept, likelihood, parameterization)
        model.formula, model.response = formula, response
        return model

    # ---- labels ---------------------------------------------------------------------------------
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
        return ["Intercept"] * self.intercept + self.feature_names

    @property
    def coef_classes(self) -> list:
        """Labels of the coefficient columns: the event class (binary), the non-reference classes
        (reference) or all classes (symmetric)."""
        M = self.family.n_linear_predictors(self.n_classes)
        return list(self.classes_[self.n_classes - M:])

    # ---- the objective and predictions ------------------------------------------------------------
    def objective(self, prior: Normal | None = None) -> Objective:
        """The negative log posterior (``prior=None``: negative log-likelihood) of this model."""
        P = self.design.n_coef
        precision = np.zeros(P) if prior is None else prior.precision(P - self.intercept, self.intercept)
        transform = None
        if self.likelihood == "categorical" and self.parameterization == "symmetric":
            transform = _sum_to_zero_transform(precision == 0, self.n_classes)
        return Objective(self.family, self.design, self.data.y, self.data.weights, self.n_classes,
                         precision, transform)

    def design_matrix(self, X=None) -> np.ndarray:
        """Validated predictors (n_samples, n_features) for prediction; None gives the training data."""
        if X is None:
            return self.data.X
        if self.data.formula_spec is not None:
            if not isinstance(X, pd.DataFrame):
                raise TypeError("this model was built from a formula: pass new data as a DataFrame with "
                                f"the formula's columns; got {type(X).__name__}")
            X, _, _ = data_layer.design_from_formula(self.formula, X, self.data.formula_spec)
        elif isinstance(X, pd.DataFrame) and self._named_features:
            missing = [name for name in self.feature_names if name not in set(map(str, X.columns))]
            if missing:
                raise data_layer.DataError(f"X lacks the column(s) {missing} that the model was fitted on "
                                           f"({self.feature_names})")
            X = X[self.feature_names]
        X, _ = data_layer.validate_X(X, None if isinstance(X, pd.DataFrame) else self._names_for(X))
        if X.shape[1] != len(self.feature_names):
            raise data_layer.DataError(f"X has {X.shape[1]} columns but the model was fitted on "
                                       f"{len(self.feature_names)}: {self.feature_names}")
        return X

    @property
    def _named_features(self) -> bool:
        """Whether the features have names of their own (not the default x0, x1, ...)."""
        return self.feature_names != [f"x{j}" for j in range(len(self.feature_names))]

    def _names_for(self, X) -> list | None:
        """The model's feature names for an array of the right width, so messages name the columns."""
        return self.feature_names if np.ndim(X) == 2 and np.shape(X)[1] == len(self.feature_names) else None

    def linear_predictor(self, B: np.ndarray, X=None) -> np.ndarray:
        """``eta`` of shape (n_samples, M) for coefficients ``B`` of shape (P, M)."""
        return Design(self.design_matrix(X), self.intercept).linear_predictor(B)

    def full_logits(self, eta: np.ndarray) -> np.ndarray:
        """Class logits (n_samples, K) from ``eta`` (n_samples, M) (zeros for the reference class)."""
        return eta if eta.shape[1] == self.n_classes else with_reference(eta)

    def log_probabilities(self, B: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Class log-probabilities (n, K) at coefficients ``B`` (P, M) for a validated design ``X`` (n, p)."""
        return self.family.log_probabilities(Design(X, self.intercept).linear_predictor(B))

    def loglik(self, B: np.ndarray) -> float:
        """Log-likelihood of the training data at coefficients ``B`` (P, M)."""
        return -self.family.value(self.design.linear_predictor(B), self.data.y, self.data.weights)

    # ---- point fits ---------------------------------------------------------------------------------
    def fit_ml(self, tol: float = 1e-10, max_iter: int = 100) -> PointFit:
        """Maximum likelihood by Newton's method.

        Before Newton, the design's rank is checked (collinear or constant columns raise
        :class:`CollinearityError` naming them). Separation is checked by a linear program: before
        Newton when the problem is small (n_samples * n_coef * M below 5e5, under half a second), otherwise only
        when Newton's fitted logits saturate (|eta| > 30) or it fails to converge.

        Raises
        ------
        SeparationError
            When some predictors separate the classes, so the ML estimate does not exist.
        CollinearityError
            When the design does not have full column rank.
        """
        tol, max_iter = _check_newton_options(tol, max_iter)
        reason, columns = find_collinearity(self.design, self.data.weights, self.data.feature_names)
        if reason:
            raise CollinearityError(
                f"maximum likelihood is not unique: {reason}. Drop one of them, or use "
                "fit_map(bl.Normal(...)), whose prior makes the estimate unique", columns)
        P, M = self.objective().shape
        if self.data.X.shape[0] * P * M <= _LP_BUDGET:
            self._raise_if_separated()
            return self._fit_point("ml", None, tol, max_iter)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            fit = self._fit_point("ml", None, tol, max_iter)
        if not fit.converged or np.abs(self.linear_predictor(fit.params)).max() > _SATURATED_LOGIT:
            self._raise_if_separated()
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        return fit

    def fit_map(self, prior: Normal, tol: float = 1e-10, max_iter: int = 100) -> PointFit:
        """Maximum a posteriori estimate under a Gaussian prior, by Newton's method."""
        return self._fit_point("map", data_layer.check_prior(prior), *_check_newton_options(tol, max_iter))

    def _fit_point(self, method: str, prior, tol: float, max_iter: int) -> PointFit:
        start = time.perf_counter()
        objective = self.objective(prior)
        name = "Newton's method (ML)" if prior is None else "Newton's method (MAP)"
        result = newton(objective, np.zeros(objective.n_free), value=objective.value, tol=tol,
                        max_iter=max_iter, name=name)
        B = objective.coef(result.x)
        return PointFit(method, self, prior, B, result.hess, objective.transform, self.loglik(B),
                        result.n_iter, result.converged, time.perf_counter() - start, result.history)

    def _raise_if_separated(self):
        found = find_separation(self.data.X, self.data.y, self.n_classes, intercept=self.intercept,
                                names=self.data.feature_names, weights=self.data.weights)
        if found is None:
            return
        verb = "separates" if len(found.columns) == 1 else "separate"
        raise SeparationError(
            f"maximum likelihood does not exist: {', '.join(repr(c) for c in found.columns)} {verb} the "
            f"classes ({found.kind} separation), so the ML coefficients diverge to infinity. Use "
            "fit_map(bl.Normal(sigma=2.5)) (or the posterior fits) for finite estimates",
            found.columns, found.kind)

    # ---- posterior fits ------------------------------------------------------------------------------
    def fit_laplace(self, prior: Normal, draws: int = 4000, random_seed=None, map_fit: PointFit | None = None):
        """Laplace approximation: the Gaussian at the MAP with covariance the inverse Hessian.

        Parameters
        ----------
        prior : Normal
        draws : int
            Number of draws from the Gaussian (for predictions and summaries).
        random_seed : int, numpy.random.Generator or None
        map_fit : PointFit, optional
            A MAP fit of this model under ``prior`` to reuse.

        Returns
        -------
        PosteriorFit
        """
        from .posterior import fit_laplace

        return fit_laplace(self, prior, draws=draws, random_seed=random_seed, map_fit=map_fit)

    def fit_mcmc(self, prior: Normal, draws: int = 1000, tune: int = 1000, chains: int = 4, random_seed=None,
                 sampler: str = "auto", progressbar: bool = True, map_fit: PointFit | None = None,
                 **sampler_kwargs):
        """Exact posterior by NUTS through PyMC; see :func:`bayeslogit.posterior.fit_mcmc`.

        Returns
        -------
        PosteriorFit
        """
        from .posterior import fit_mcmc

        return fit_mcmc(self, prior, draws=draws, tune=tune, chains=chains, random_seed=random_seed,
                        sampler=sampler, progressbar=progressbar, map_fit=map_fit, **sampler_kwargs)

    def fit_all(self, prior: Normal, random_seed=0, draws: int = 1000, tune: int = 1000, chains: int = 4,
                methods: tuple = ("ml", "map", "laplace", "mcmc"), **mcmc_kwargs) -> dict:
        """Fit the model every way, in order; a fit that fails is kept as a :class:`FailedFit`.

        Parameters
        ----------
        prior : Normal
            The prior of the MAP, Laplace and MCMC fits.
        random_seed : int
            Seeds the Laplace draws and the sampler.
        draws, tune, chains
            MCMC settings (Laplace takes ``draws * chains`` draws).
        methods : tuple of {"ml", "map", "laplace", "mcmc"}

        Returns
        -------
        dict
            method -> PointFit, PosteriorFit or FailedFit (e.g. ML under separation), in ``methods`` order.
        """
        for method in methods:
            data_layer.check_choice("methods", method, ("ml", "map", "laplace", "mcmc"))
        fits = {}
        map_fit = self.fit_map(prior) if set(methods) & {"map", "laplace", "mcmc"} else None
        makers = {
            "ml": self.fit_ml,
            "map": lambda: map_fit,
            "laplace": lambda: self.fit_laplace(prior, draws=draws * chains, random_seed=random_seed,
                                                map_fit=map_fit),
            "mcmc": lambda: self.fit_mcmc(prior, draws=draws, tune=tune, chains=chains, random_seed=random_seed,
                                          map_fit=map_fit, **mcmc_kwargs),
        }
        for method in methods:
            try:
                fits[method] = makers[method]()
            except (SeparationError, CollinearityError, SingularHessianError) as error:
                fits[method] = FailedFit(method, error)
        return fits

    def __repr__(self) -> str:
        return (f"LogisticModel({self.likelihood}, {self.data.X.shape[0]} observations, "
                f"classes={self.classes_.tolist()}, coef={self.coef_names})")


def _check_newton_options(tol, max_iter) -> tuple[float, int]:
    return data_layer.check_positive("tol", tol), data_layer.check_count("max_iter", max_iter, 1)


def _sum_to_zero_transform(constrained: np.ndarray, n_classes: int) -> np.ndarray:
    """Map (P*K, n_free) from free coordinates to ``vec(B)`` where the rows marked ``constrained``
    sum to zero over the K classes (parameterized by an orthonormal basis of that subspace)."""
    P = len(constrained)
    basis = null_space(np.ones((1, n_classes)))  # (K, K-1)
    columns = []
    for j in range(P):
        for direction in (basis.T if constrained[j] else np.eye(n_classes)):
            column = np.zeros((P, n_classes))
            column[j] = direction
            columns.append(column.ravel(order="F"))
    return np.column_stack(columns)
