"""A scikit-learn estimator over :class:`bayeslogit.LogisticModel`: ML, MAP, Laplace or MCMC in one classifier.

``BayesLogitClassifier`` validates its input as scikit-learn's estimators do, builds a
:class:`~bayeslogit.LogisticModel` of it and keeps the fit as ``fit_``, so it works in ``Pipeline``,
``GridSearchCV`` and ``cross_val_score`` while every bayeslogit table and plot stays one attribute away.

Conventions
-----------
Attributes are shaped as those of scikit-learn's ``LogisticRegression``: ``classes_`` is sorted, the columns of
``predict_proba`` follow it, ``coef_`` is (1, n_features) for two classes and (n_classes, n_features) for more,
``intercept_`` (1,) or (n_classes,). bayeslogit's multiclass model uses a reference category, the class
``reference`` (default the first, ``classes_[0]``), whose coefficients are fixed at zero: its row of ``coef_``
and its ``intercept_`` are zeros, and the row of class ``k`` is the log-odds of class ``k`` against the reference.
Scikit-learn's multinomial rows are instead symmetric (one free vector per class). The softmax does not change
when one vector is added to every row, so only differences between rows mean anything: ``coef_[k] - coef_[j]``
is the same under both, and under every ``reference``, for "ml"; under a prior they differ by design (a Gaussian
prior on ``K - 1`` log-odds against the reference is not one on ``K`` symmetric rows, nor on the log-odds against
another class). For two classes ``coef_[0]`` is the log-odds of ``classes_[1]``, as in scikit-learn, whatever
``reference`` is.

Randomness
----------
``random_state`` seeds the draws of "laplace" and "mcmc", as scikit-learn names it: an int gives the same draws on
every fit (and in every clone); None fresh draws on every fit, from the operating system's entropy, not from
NumPy's global generator. A ``numpy.random.Generator`` or a ``numpy.random.RandomState`` is consumed, as
scikit-learn consumes a ``RandomState``: each fit draws its seed from it, so two fits of one estimator differ, and
a clone (which copies the generator in its current state) repeats the original's next fit.

``random_seed``, ``prior_sigma`` and ``intercept_sigma``, the former names of ``random_state``, ``prior_scale`` and
``intercept_scale``, are still accepted, with a warning (:data:`FORMER_NAMES`).

Scikit-learn is an optional dependency: ``pip install "bayeslogit[sklearn]"``.
"""

import inspect
import numbers
import warnings
from collections.abc import Callable

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as error:
    raise ImportError(
        f"bayeslogit.sklearn needs scikit-learn >= 1.9.1 ({error}); install or upgrade it with "
        'pip install "bayeslogit[sklearn]"'
    ) from error

from bayeslogit.checks import check_choice
from bayeslogit.exceptions import BayeslogitError, DataError, OptionError, warn_convergence
from bayeslogit.held_warnings import held_warnings, reissue
from bayeslogit.rows import counts
from bayeslogit.surface.advice import in_words
from bayeslogit.surface.estimator_parameters import sampler_options, seed_of
from bayeslogit.surface.methods import METHODS, FitSettings
from bayeslogit.surface.model import LogisticModel
from bayeslogit.surface.priors import make_prior

DEPRECATED = "deprecated"
"""The default of a parameter's former name (:data:`FORMER_NAMES`): not given."""

FORMER_NAMES = {
    "random_state": ("random_seed", DeprecationWarning, "scikit-learn's name for it"),
    "prior_scale": ("prior_sigma", FutureWarning, "the name of a prior's scale throughout bayeslogit"),
    "intercept_scale": ("intercept_sigma", FutureWarning, "the name of a prior's scale throughout bayeslogit"),
}
"""Parameter -> its former name, still accepted (default :data:`DEPRECATED`), the category of the warning that
using it gives, and why the parameter is named as it is."""


def fit_in_estimator_words[Fit](make_fit: Callable[[], Fit]) -> Fit:
    """``make_fit()``, its bayeslogit errors re-raised and its warnings re-issued in the estimator's words: their
    remedies as the estimator's parameters (``method="mcmc"``, :mod:`bayeslogit.surface.advice`).

    A reworded warning is attributed to the first caller outside the package, the others where they were issued.
    """
    caught = []
    try:
        with held_warnings() as caught:
            return make_fit()
    except BayeslogitError as error:
        error.args = (in_words(error, "estimator"), *error.args[1:])
        raise
    finally:
        for warning in caught:
            message = in_words(warning.message, "estimator")
            if message == str(warning.message):
                reissue([warning])
            else:
                warn_convergence(message, warning.category)


class BayesLogitClassifier(ClassifierMixin, BaseEstimator):
    """Logistic classifier fitted by maximum likelihood, MAP, the Laplace approximation or MCMC.

    Two classes give a Bernoulli model with a sigmoid link, more a categorical model with a softmax link and a
    reference category (see the module's Conventions for how that maps onto ``coef_``).

    Parameters
    ----------
    method : {"ml", "map", "laplace", "mcmc"}
        "ml": maximum likelihood by Newton's method (raises :class:`~bayeslogit.SeparationError` where it does
        not exist); "map": the mode of the posterior under the Gaussian prior; "laplace": the Gaussian at that
        mode; "mcmc": the exact posterior by NUTS. The posterior methods predict the posterior predictive
        probabilities, averaged over their draws.
    prior_scale : float or array-like of shape (n_features,)
        Prior scale of the slopes (for "normal", the standard deviation: ``coef ~ N(0, prior_scale^2)``): one value
        for all, or one per feature, before autoscaling. Smaller values shrink more. For two classes, a normal prior
        with ``autoscale=False`` and ``intercept_scale=None`` the MAP is scikit-learn's
        ``LogisticRegression(C=prior_scale**2)``. Ignored by "ml".
    intercept_scale : float or None
        Prior scale of the intercept; None puts a flat prior on it. Ignored by "ml".
    prior_family : {"normal", "student-t", "cauchy"}
        The prior's shape: :class:`~bayeslogit.Normal`, :class:`~bayeslogit.StudentT` (``prior_nu`` degrees of
        freedom) or :class:`~bayeslogit.Cauchy`, whose heavier tails shrink large effects less.
    prior_nu : float
        "student-t" only: the degrees of freedom.
    autoscale : bool or None
        Divide each slope's prior scale by its feature's standard deviation, as rstanarm's default priors do, so
        that the fit does not depend on the features' units. False takes ``prior_scale`` as given; None: the
        family's default (off for "normal", on for "student-t" and "cauchy").

        .. versionchanged:: 0.1.0
           The default is True. It was None, which left a normal prior unscaled, so that a feature's unit changed
           its fit; that changes the fits of features that are not standardised, and ``autoscale=False`` gives the
           former ones.
    draws : int
        "laplace": independent draws from the Gaussian; "mcmc": draws per chain.
    tune : int
        "mcmc" only: tuning steps per chain (the sampler starts whitened at the MAP, so 200 are enough).
    chains : int
        "mcmc" only: the number of chains.
    target_accept : float or None
        "mcmc" only: the acceptance rate in (0, 1) that NUTS tunes its step size to; a higher one (0.95) takes
        smaller steps, which can remove divergent transitions. None: the sampler's default, 0.8.
    max_iter : int
        Most Newton iterations of "ml" and "map", and of the MAP that "laplace" and "mcmc" start from.
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None
        Seeds the draws of "laplace" and "mcmc": an int gives the same draws on every fit, None fresh ones, and a
        generator is consumed, one seed per fit (see the module's Randomness).
    fit_intercept : bool
        Fit an intercept (the first coefficient of the model); without one, ``intercept_`` is zeros.
    reference : class label or None
        The base class of the coefficients, passed to :class:`~bayeslogit.LogisticModel` (None: ``classes_[0]``).
        With more than two classes its row of ``coef_`` is zeros and every row is the log-odds against it; the
        ``fit_``'s coefficient columns are the other classes. With two classes ``coef_`` stays the log-odds of
        ``classes_[1]`` and only ``fit_`` changes (``fit_.coef`` is the log-odds of the class that is not
        ``reference``). ``classes_`` and the columns of ``predict_proba`` stay in sorted order. Under "ml" the
        probabilities do not depend on it; under a prior they do (the prior is on the log-odds against it).
    random_seed, prior_sigma, intercept_sigma
        Deprecated: the former names of ``random_state``, ``prior_scale`` and ``intercept_scale``, which ``fit`` uses
        in their stead with a warning (a DeprecationWarning, a FutureWarning as scikit-learn's deprecations).

    Attributes
    ----------
    fit_ : MLFit, MAPFit, LaplaceFit or MCMCFit
        The bayeslogit fit: ``fit_.summary()``, ``fit_.boundary()``, ``fit_.model`` and the rest. Its model's
        classes start with ``reference`` when one is given.
    classes_ : ndarray of shape (n_classes,)
        The sorted class labels; ``classes_[1]`` is the event of ``coef_`` for two classes.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The slopes (posterior means for "laplace", where they are the MAP, and "mcmc").
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
        Newton iterations of the fit ("ml", "map"), or of the MAP it starts from ("laplace", "mcmc").
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        The column names of a DataFrame ``X`` with string column names; they label ``fit_`` too.

    Examples
    --------
    >>> import bayeslogit as bl
    >>> from bayeslogit.surface.estimator import BayesLogitClassifier
    >>> wells = bl.datasets.load_wells()
    >>> clf = BayesLogitClassifier(method="ml").fit(wells[["dist100", "arsenic"]], wells["switched"])
    >>> clf.coef_.round(4).tolist(), clf.intercept_.round(4).tolist()
    ([[-0.8966, 0.4608]], [0.0027])
    """

    def __init__(
        self,
        method: str = "map",
        prior_scale=2.5,
        intercept_scale: float | None = None,
        draws: int = 1000,
        random_state=None,
        tune: int = 200,
        chains: int = 4,
        fit_intercept: bool = True,
        reference=None,
        prior_family: str = "normal",
        prior_nu: float = 7.0,
        autoscale: bool | None = True,
        target_accept: float | None = None,
        max_iter: int = 100,
        random_seed=DEPRECATED,
        prior_sigma=DEPRECATED,
        intercept_sigma=DEPRECATED,
    ):
        self.method = method
        self.prior_scale = prior_scale
        self.intercept_scale = intercept_scale
        self.prior_family = prior_family
        self.prior_nu = prior_nu
        self.autoscale = autoscale
        self.draws = draws
        self.random_state = random_state
        self.tune = tune
        self.chains = chains
        self.fit_intercept = fit_intercept
        self.reference = reference
        self.target_accept = target_accept
        self.max_iter = max_iter
        self.random_seed = random_seed
        self.prior_sigma = prior_sigma
        self.intercept_sigma = intercept_sigma

    def prior(self):
        """The prior of ``prior_family``, ``prior_scale``, ``intercept_scale``, ``prior_nu`` and ``autoscale``.

        Raises
        ------
        ValueError, TypeError
            When they do not make a prior, naming them.
        """
        return self._prior(self._parameter("prior_scale"), self._parameter("intercept_scale"))

    def _prior(self, scale, intercept_scale):
        """:meth:`prior`, of the scales :meth:`_parameter` gives."""
        try:
            return make_prior(self.prior_family, scale, intercept_scale, self.prior_nu, self.autoscale)
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"BayesLogitClassifier(prior_family={self.prior_family!r}, prior_scale={scale!r}, "
                f"intercept_scale={intercept_scale!r}, prior_nu={self.prior_nu!r}, autoscale={self.autoscale!r}) "
                f"is not a valid prior ({error}); prior_scale must be a positive number or one per feature, "
                "intercept_scale positive or None"
            ) from None

    def fit(self, X, y, sample_weight=None) -> "BayesLogitClassifier":
        """Fit the model by ``method``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric features, without a column of ones.
        y : array-like of shape (n_samples,)
            Class labels, at least two distinct ones (binomial counts of two columns are refused: see
            :class:`~bayeslogit.LogisticModel`).
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; a row of weight 2 counts as two identical rows (the prior is not rescaled).

        Returns
        -------
        self

        Raises
        ------
        SeparationError, CollinearityError
            For "ml", where the estimate does not exist or is not unique; their advice is put as ``method``.

        Warns
        -----
        ConvergenceWarning
            Where the fit's diagnosis is poor (see :meth:`LogisticModel.fit_laplace` and ``fit_mcmc``), its advice
            put as ``method``.
        DeprecationWarning, FutureWarning
            When ``random_seed``, or ``prior_sigma`` or ``intercept_sigma``, is given.
        """
        method = METHODS[check_choice("method", self.method, METHODS)]
        seed = seed_of(self._parameter("random_state"))
        scales = self._parameter("prior_scale"), self._parameter("intercept_scale")
        if (isinstance(y, np.ndarray) or hasattr(y, "columns")) and counts.is_counts(y):
            raise DataError(
                f"y has shape {np.shape(y)}: BayesLogitClassifier takes one class label per row, and scikit-learn "
                "scores predictions against labels. For binomial counts (successes, failures) use "
                "bl.LogisticModel(X, counts) or LogisticModel.from_formula('cbind(successes, failures) ~ x', data); "
                "here, give a row per class with its count as sample_weight"
            )
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(y)
        names = getattr(self, "feature_names_in_", None)
        model = LogisticModel(
            X, y, feature_names=names, intercept=self.fit_intercept, weights=sample_weight, reference=self.reference
        )
        settings = FitSettings(
            draws=self.draws,
            tune=self.tune,
            chains=self.chains,
            independent_draws=self.draws,  # "laplace": draws, not draws per chain
            random_seed=seed,
            sampler_options=sampler_options(self.target_accept),
            max_iter=self.max_iter,
        )
        prior = self._prior(*scales) if method.fit_class.penalised else None
        self.fit_ = fit_in_estimator_words(lambda: method.make(model, prior, None, settings))
        self.classes_ = np.sort(model.classes_)  # the model's, with the reference moved first
        theta = model.family.class_logits(self.fit_.params)[:, self._model_columns()]  # (P, K); reference's are 0
        if len(self.classes_) == 2:
            theta = theta[:, 1:] - theta[:, :1]  # scikit-learn's binary layout: one row, the log-odds of classes_[1]
        self.intercept_ = theta[0] if self.fit_intercept else np.zeros(theta.shape[1])
        self.n_iter_ = (self.fit_.map_fit if method.built_on else self.fit_).n_iter
        self.coef_ = theta[int(self.fit_intercept) :].T
        return self

    def _parameter(self, name: str):
        """Parameter ``name``, or the value of its former name (:data:`FORMER_NAMES`), with a warning, when that is
        given; an OptionError when both are."""
        former, category, why = FORMER_NAMES[name]
        value = getattr(self, former)
        if isinstance(value, str) and value == DEPRECATED:
            return getattr(self, name)
        warnings.warn(
            f"BayesLogitClassifier's `{former}` is deprecated and will be removed in a future release; use `{name}`, "
            f"{why}",
            category,
            stacklevel=3,
        )
        current, default = getattr(self, name), inspect.signature(type(self)).parameters[name].default
        if not (current is default or (isinstance(current, numbers.Real) and current == default)):
            raise OptionError(
                f"BayesLogitClassifier got {name}={current!r} and its deprecated name {former}={value!r}; give "
                f"{name} only"
            )
        return value

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of the predicted class probabilities (posterior predictive for "laplace" and "mcmc").

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; computed in log space, so tiny probabilities keep their digits.
        """
        check_is_fitted(self)
        return self.fit_.log_proba(validate_data(self, X, dtype=np.float64, reset=False))[:, self._model_columns()]

    def _model_columns(self) -> list[int]:
        """The position of each class of ``classes_`` among the model's classes (which start with ``reference``)."""
        labels = self.fit_.model.classes_.tolist()
        return [labels.index(label) for label in self.classes_.tolist()]

    def predict_proba(self, X) -> np.ndarray:
        """Predicted class probabilities, ``exp(predict_log_proba(X))``: shape (n_samples, n_classes), columns in
        the order of ``classes_``, binary models included."""
        return np.exp(self.predict_log_proba(X))

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of each class against the reference class (``reference``, default ``classes_[0]``) under the
        predicted probabilities.

        For "ml" and "map" this is the linear predictor ``X @ coef_.T + intercept_``. For "laplace" and "mcmc"
        it is the log-odds of the posterior predictive probabilities, which the linear predictor at the
        posterior mean (``coef_``) only approximates; so ``predict`` always agrees with it.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (the log-odds of ``classes_[1]`` against ``classes_[0]``),
        else (n_samples, n_classes) (the reference's column is zero).
        """
        log_proba = self.predict_log_proba(X)
        if len(self.classes_) == 2:
            return log_proba[:, 1] - log_proba[:, 0]
        return log_proba - log_proba[:, self._model_columns().index(0), None]

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row, shape (n_samples,)."""
        most_probable = np.argmax(self.predict_log_proba(X), axis=1)
        return self.classes_[most_probable]
