"""The scikit-learn estimator: scikit-learn's own checks, agreement with LogisticModel and LogisticRegression, model
selection, and the error without scikit-learn."""

import importlib
import re
import sys

import numpy as np
import pytest

import bayeslogit as bl

pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from bayeslogit.sklearn import BayesLogitClassifier  # noqa: E402

FEATURES = ["dist100", "arsenic", "educ", "assoc"]


@pytest.fixture(scope="module")
def wells():
    frame = bl.datasets.load_wells()
    return frame[FEATURES], frame["switched"]


@pytest.fixture(scope="module")
def iris():
    frame = bl.datasets.load_iris()
    return frame.drop(columns="species"), frame["species"]


# The checks fit the Laplace approximation to small random data sets (down to 15 rows for 62 coefficients), whose
# posteriors its k-hat rightly finds far from Gaussian; they test the estimator's interface, not that fit.
@pytest.mark.filterwarnings("ignore:Pareto k-hat:bayeslogit.exceptions.ConvergenceWarning")
@parametrize_with_checks([BayesLogitClassifier(method="map"),
                          BayesLogitClassifier(method="laplace", random_seed=0)])
def test_passes_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def test_map_coefficients_are_the_models(wells):
    X, y = wells
    clf = BayesLogitClassifier(prior_sigma=0.5, intercept_sigma=3.0).fit(X, y)
    fit = bl.LogisticModel(X, y).fit_map(bl.Normal(0.5, intercept_sigma=3.0))
    assert clf.coef_.shape == (1, 4) and clf.intercept_.shape == (1,)
    np.testing.assert_allclose(clf.coef_[0], fit.coef[FEATURES], rtol=0, atol=1e-10)
    np.testing.assert_allclose(clf.intercept_, fit.coef["Intercept"], rtol=0, atol=1e-10)
    # The DataFrame's columns name the features, here and in the bayeslogit fit.
    assert clf.feature_names_in_.tolist() == FEATURES and clf.fit_.coef.index.tolist() == ["Intercept", *FEATURES]
    assert clf.n_features_in_ == 4
    # A point fit's decision function is the linear predictor, and its probabilities the sigmoid of it.
    decision = clf.decision_function(X)
    np.testing.assert_allclose(decision, X.to_numpy() @ clf.coef_[0] + clf.intercept_[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], 1 / (1 + np.exp(-decision)), rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), (decision > 0).astype(int))


def test_ml_coefficients_equal_scikit_learns_unpenalised_fit(wells):
    """Both solve the same strictly convex problem to tight tolerances: 1e-5 is far above either's error."""
    X, y = wells
    ours = BayesLogitClassifier(method="ml").fit(X, y)
    theirs = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-5)
    assert ours.fit_.method == "ml"


def test_ml_multiclass_row_differences_equal_scikit_learns(rng):
    """scikit-learn's rows are symmetric, bayeslogit's have a zero reference row; unpenalised, the softmax fixes
    only their differences, and those agree."""
    X = rng.normal(size=(400, 2))
    logits = X @ np.array([[0.0, 1.0, -1.0], [0.0, 0.5, 1.0]]) + np.array([0.0, 0.2, -0.3])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = (rng.random((400, 1)) > p.cumsum(axis=1)).sum(axis=1)
    ours = BayesLogitClassifier(method="ml").fit(X, y)
    theirs = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_ - theirs.coef_[0], rtol=0, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_ - theirs.intercept_[0], rtol=0, atol=1e-5)


def test_without_an_intercept(wells):
    X, y = wells
    clf = BayesLogitClassifier(fit_intercept=False).fit(X, y)
    fit = bl.LogisticModel(X, y, intercept=False).fit_map(bl.Normal(2.5))
    np.testing.assert_array_equal(clf.intercept_, [0.0])
    np.testing.assert_allclose(clf.coef_[0], fit.coef, rtol=0, atol=1e-10)
    np.testing.assert_allclose(clf.decision_function(X), X.to_numpy() @ clf.coef_[0], rtol=1e-12, atol=1e-12)


def test_multiclass_coefficients_have_a_zero_reference_row(iris):
    X, y = iris
    clf = BayesLogitClassifier(prior_sigma=1.0).fit(X, y)
    fit = bl.LogisticModel(X, y).fit_map(bl.Normal(1.0))
    assert clf.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert clf.coef_.shape == (3, 4) and clf.intercept_.shape == (3,)
    np.testing.assert_array_equal(clf.coef_[0], 0.0)
    assert clf.intercept_[0] == 0.0
    np.testing.assert_allclose(clf.coef_[1:], fit.coef.drop(index="Intercept").T, rtol=0, atol=1e-10)
    np.testing.assert_allclose(clf.intercept_[1:], fit.coef.loc["Intercept"], rtol=0, atol=1e-10)
    decision = clf.decision_function(X)
    np.testing.assert_allclose(decision, X.to_numpy() @ clf.coef_.T + clf.intercept_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(clf.predict_proba(X), fit.predict_proba(X), rtol=1e-12, atol=1e-15)


def test_laplace_predicts_the_posterior_predictive(wells):
    X, y = wells
    clf = BayesLogitClassifier(method="laplace", draws=500, random_seed=1).fit(X, y)
    fit = bl.LogisticModel(X, y).fit_laplace(bl.Normal(2.5), draws=500, random_seed=1)
    np.testing.assert_allclose(clf.coef_[0], fit.map_fit.coef[FEATURES], rtol=0, atol=1e-10)  # the mean is the MAP
    p = clf.predict_proba(X)[:, 1]
    np.testing.assert_allclose(p, fit.predict_proba(X), rtol=1e-12)
    np.testing.assert_allclose(clf.decision_function(X), np.log(p) - np.log1p(-p), rtol=1e-9, atol=1e-12)


def test_mcmc_with_few_draws(wells):
    """200 draws: the posterior mean is within 0.3 posterior sd of the MAP (its Monte Carlo error is ~0.1 sd)."""
    X, y = wells
    clf = BayesLogitClassifier(method="mcmc", draws=100, tune=100, chains=2, random_seed=0)
    with pytest.warns(bl.ConvergenceWarning, match="ESS"):
        clf.fit(X, y)
    assert clf.fit_.coef_draws.shape == (2, 100, 5, 1)
    np.testing.assert_allclose(clf.coef_[0], clf.fit_.coef_draws[..., 1:, 0].mean(axis=(0, 1)), rtol=1e-12)
    map_fit = bl.LogisticModel(X, y).fit_map(bl.Normal(2.5))
    assert np.all(np.abs(clf.coef_[0] - map_fit.coef[FEATURES]) < 0.3 * map_fit.se[FEATURES])


def test_grid_search_picks_a_prior_sigma_and_refits(wells):
    """On 60 rows a nearly flat prior overfits and a tiny sigma underfits: the held-out log loss per row is 0.61
    at sigma 0.3 against 0.67 and 0.72, a margin far above the solver's tolerance."""
    rows = np.random.default_rng(0).choice(len(wells[1]), 60, replace=False)
    X, y = wells[0].iloc[rows], wells[1].iloc[rows]
    grid = GridSearchCV(BayesLogitClassifier(), {"prior_sigma": [0.01, 0.3, 100.0]}, scoring="neg_log_loss",
                        cv=StratifiedKFold(3)).fit(X, y)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"], [-0.667, -0.6116, -0.7203], atol=5e-4)
    assert grid.best_params_ == {"prior_sigma": 0.3}
    refit = BayesLogitClassifier(prior_sigma=0.3).fit(X, y)
    np.testing.assert_allclose(grid.best_estimator_.coef_, refit.coef_, rtol=0, atol=1e-12)


def test_cross_val_score_in_a_pipeline_equals_a_hand_loop(wells):
    X, y = wells[0].to_numpy(), wells[1].to_numpy()
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = cross_val_score(make_pipeline(StandardScaler(), BayesLogitClassifier(prior_sigma=1.0)), X, y,
                             cv=cv, scoring="neg_log_loss")
    by_hand = []
    for train, test in cv.split(X, y):
        mean, sd = X[train].mean(axis=0), X[train].std(axis=0)
        fit = bl.LogisticModel((X[train] - mean) / sd, y[train]).fit_map(bl.Normal(1.0))
        log_p = fit.log_proba((X[test] - mean) / sd)
        by_hand.append(log_p[np.arange(len(test)), y[test]].mean())
    np.testing.assert_allclose(scores, by_hand, rtol=1e-10)


@pytest.mark.parametrize(("params", "error", "match"), [
    ({"method": "bayes"}, ValueError, "`method` must be one of ['ml', 'map', 'laplace', 'mcmc']; got 'bayes'"),
    ({"prior_sigma": -1.0}, ValueError,
     "prior_sigma=-1.0, intercept_sigma=None, prior_nu=7.0, autoscale=None) is not a valid prior"),
    ({"method": "laplace", "draws": 0}, ValueError, "`draws` must be an integer >= 1; got 0"),
])
def test_bad_parameters_are_named_when_fitting(wells, params, error, match):
    X, y = wells
    with pytest.raises(error, match=re.escape(match)):
        BayesLogitClassifier(**params).fit(X.iloc[:50], y.iloc[:50])


def test_separation_error_of_ml_reaches_the_user(iris):
    X, y = iris
    two_species = y != "virginica"
    with pytest.raises(bl.SeparationError, match="maximum likelihood does not exist"):
        BayesLogitClassifier(method="ml").fit(X[two_species][["petal_length"]], y[two_species])


def test_import_without_scikit_learn_says_how_to_install_it(monkeypatch):
    for name in [name for name in sys.modules if name == "sklearn" or name.startswith("sklearn.")]:
        monkeypatch.setitem(sys.modules, name, None)  # importing it now fails as if it were not installed
    monkeypatch.delitem(sys.modules, "bayeslogit.sklearn")
    with pytest.raises(ImportError, match=re.escape('pip install "bayeslogit[sklearn]"')):
        importlib.import_module("bayeslogit.sklearn")
