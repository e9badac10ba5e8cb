"""A scikit-learn estimator over :class:`bayeslogit.LogisticModel`: ML, MAP, Laplace or MCMC in one classifier.

``BayesLogitClassifier`` validates its input as scikit-learn's estimators do, builds a
:class:`~bayeslogit.LogisticModel` of it and keeps the fit as ``fit_``, so it works in ``Pipeline``,
``GridSearchCV`` and ``cross_val_score`` while every bayeslogit table and plot stays one attribute away.

Conventions
-----------
Attributes are shaped as those of scikit-learn's ``LogisticRegression``: ``coef_`` is (1, n_features) for two
classes and (n_classes, n_features) for more, ``intercept_`` (1,) or (n_classes,). bayeslogit's multiclass
model uses a reference category: the first class, ``classes_[0]``, has all its coefficients fixed at zero, so
row 0 of ``coef_`` and ``intercept_[0]`` are zeros and row ``k`` is the log-odds of class ``k`` against class 0.
Scikit-learn's multinomial rows are instead symmetric (one free vector per class). The softmax does not change
when one vector is added to every row, so only differences between rows mean anything: ``coef_[k] - coef_[0]``
is the same under both for "ml", and under a prior the two differ by design (a Gaussian prior on ``K - 1``
log-odds against class 0 is not one on ``K`` symmetric rows). For two classes ``coef_[0]`` is the log-odds of
``classes_[1]``, as in scikit-learn.

Scikit-learn is an optional dependency: ``pip install "bayeslogit[sklearn]"``.
"""

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as error:
    raise ImportError(f"bayeslogit.sklearn needs scikit-learn >= 1.6 ({error}); install or upgrade it with "
                      'pip install "bayeslogit[sklearn]"') from error

from .checks import check_choice
from .model import LogisticModel
from .numerics.priors import Normal

FITS = {
    "ml": lambda model, estimator: model.fit_ml(),
    "map": lambda model, estimator: model.fit_map(estimator.prior()),
    "laplace": lambda model, estimator: model.fit_laplace(estimator.prior(), draws=estimator.draws,
                                                          random_seed=estimator.random_seed),
    "mcmc": lambda model, estimator: model.fit_mcmc(estimator.prior(), draws=estimator.draws, tune=estimator.tune,
                                                    chains=estimator.chains, random_seed=estimator.random_seed,
                                                    progressbar=False),
}
"""``method`` -> how :meth:`BayesLogitClassifier.fit` fits a model ``(model, estimator) -> fit``."""


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
    prior_sigma : float or array-like of shape (n_features,)
        Prior standard deviation of the slopes, ``coef ~ N(0, prior_sigma^2)``: one value for all, or one per
        feature. Smaller values shrink more. For two classes and ``intercept_sigma=None`` the MAP is scikit-learn's
        ``LogisticRegression(C=prior_sigma**2)``. Ignored by "ml".
    intercept_sigma : float or None
        Prior standard deviation of the intercept; None puts a flat prior on it. Ignored by "ml".
    draws : int
        "laplace": independent draws from the Gaussian; "mcmc": draws per chain.
    tune : int
        "mcmc" only: tuning steps per chain (the sampler starts whitened at the MAP, so 200 are enough).
    chains : int
        "mcmc" only: the number of chains.
    random_seed : int, numpy.random.Generator or None
        Seeds the draws of "laplace" and "mcmc" ("mcmc" takes an int or None). An int gives the same draws on
        every fit, as scikit-learn's checks and cross-validation expect.
    fit_intercept : bool
        Fit an intercept (the first coefficient of the model); without one, ``intercept_`` is zeros.

    Attributes
    ----------
    fit_ : PointFit, LaplaceFit or MCMCFit
        The bayeslogit fit: ``fit_.summary()``, ``fit_.boundary()``, ``fit_.model`` and the rest.
    classes_ : ndarray of shape (n_classes,)
        The sorted class labels; ``classes_[1]`` is the event of a binary model.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The slopes (posterior means for "laplace", where they are the MAP, and "mcmc").
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        The column names of a DataFrame ``X`` with string column names; they label ``fit_`` too.

    Examples
    --------
    >>> import bayeslogit as bl
    >>> from bayeslogit.sklearn import BayesLogitClassifier
    >>> wells = bl.datasets.load_wells()
    >>> clf = BayesLogitClassifier(method="ml").fit(wells[["dist100", "arsenic"]], wells["switched"])
    >>> clf.coef_.round(4).tolist(), clf.intercept_.round(4).tolist()
    ([[-0.8966, 0.4608]], [0.0027])
    """

    def __init__(self, method: str = "map", prior_sigma=2.5, intercept_sigma: float | None = None,
                 draws: int = 1000, random_seed=None, tune: int = 200, chains: int = 4, fit_intercept: bool = True):
        self.method = method
        self.prior_sigma = prior_sigma
        self.intercept_sigma = intercept_sigma
        self.draws = draws
        self.random_seed = random_seed
        self.tune = tune
        self.chains = chains
        self.fit_intercept = fit_intercept

    def prior(self) -> Normal:
        """The Gaussian prior of ``prior_sigma`` and ``intercept_sigma``.

        Raises
        ------
        ValueError, TypeError
            When they do not make a prior, naming them.
        """
        try:
            return Normal(sigma=self.prior_sigma, intercept_sigma=self.intercept_sigma)
        except (TypeError, ValueError) as error:
            raise type(error)(f"BayesLogitClassifier(prior_sigma={self.prior_sigma!r}, intercept_sigma="
                              f"{self.intercept_sigma!r}) is not a valid prior ({error}); prior_sigma must be a "
                              "positive number or one per feature, intercept_sigma positive or None") from None

    def fit(self, X, y, sample_weight=None) -> "BayesLogitClassifier":
        """Fit the model by ``method``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric features, without a column of ones.
        y : array-like of shape (n_samples,)
            Class labels, at least two distinct ones.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; a row of weight 2 counts as two identical rows (the prior is not rescaled).

        Returns
        -------
        self
        """
        check_choice("method", self.method, FITS)
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(y)
        names = getattr(self, "feature_names_in_", None)
        model = LogisticModel(X, y, feature_names=names, intercept=self.fit_intercept, weights=sample_weight)
        self.fit_ = FITS[self.method](model, self)
        self.classes_ = model.classes_
        theta = model.family.class_logits(self.fit_.params)  # (P, K) class coefficients; column 0 is zeros
        if len(self.classes_) == 2:
            theta = theta[:, 1:]  # scikit-learn's binary layout: one row, the log-odds of classes_[1]
        self.intercept_ = theta[0] if self.fit_intercept else np.zeros(theta.shape[1])
        self.coef_ = theta[int(self.fit_intercept):].T
        return self

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
        return self.fit_.log_proba(validate_data(self, X, dtype=np.float64, reset=False))

    def predict_proba(self, X) -> np.ndarray:
        """Predicted class probabilities, ``exp(predict_log_proba(X))``: shape (n_samples, n_classes), columns in
        the order of ``classes_``, binary models included."""
        return np.exp(self.predict_log_proba(X))

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of each class against ``classes_[0]`` under the predicted probabilities.

        For "ml" and "map" this is the linear predictor ``X @ coef_.T + intercept_``. For "laplace" and "mcmc"
        it is the log-odds of the posterior predictive probabilities, which the linear predictor at the
        posterior mean (``coef_``) only approximates; so ``predict`` always agrees with it.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (the log-odds of ``classes_[1]``), else
        (n_samples, n_classes) (column 0 is zero).
        """
        log_proba = self.predict_log_proba(X)
        log_odds = log_proba - log_proba[:, :1]
        return log_odds[:, 1] if len(self.classes_) == 2 else log_odds

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row, shape (n_samples,)."""
        most_probable = np.argmax(self.predict_log_proba(X), axis=1)
        return self.classes_[most_probable]
