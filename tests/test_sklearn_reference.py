"""``BayesLogitClassifier(reference=...)``: the coefficients' base class changes, scikit-learn's conventions do not.

Tolerances: the probabilities of ML fits under two references are those of one convex problem in two
coordinates, each solved by Newton to a decrement below 1e-10, and agree to rounding (measured 2e-15), hence
1e-10; coefficients of about 10 agree to 1e-8 (the same fits, differenced).
"""

import numpy as np
import pytest

import bayeslogit as bl

pytest.importorskip("sklearn")
from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: E402

from bayeslogit.sklearn import BayesLogitClassifier  # noqa: E402

CLASSES = ["setosa", "versicolor", "virginica"]


@pytest.fixture(scope="module")
def iris():
    """Three classes on one sepal feature, which does not separate them, so ML exists."""
    frame = bl.datasets.load_iris()
    return frame[["sepal_length"]], frame["species"]


@pytest.fixture(scope="module")
def wells():
    frame = bl.datasets.load_wells()
    return frame[["dist100", "arsenic"]], frame["switched"]


def test_multiclass_coefficients_are_contrasts_against_the_reference_and_probabilities_do_not_move(iris):
    X, y = iris
    default = BayesLogitClassifier(method="ml").fit(X, y)
    against_virginica = BayesLogitClassifier(method="ml", reference="virginica").fit(X, y)
    assert against_virginica.classes_.tolist() == default.classes_.tolist() == CLASSES  # sorted, as scikit-learn's
    assert against_virginica.fit_.model.classes_.tolist() == ["virginica", "setosa", "versicolor"]
    np.testing.assert_allclose(against_virginica.predict_proba(X), default.predict_proba(X), rtol=0, atol=1e-10)
    np.testing.assert_array_equal(against_virginica.predict(X), default.predict(X))
    # row k: log-odds of class k against virginica = (k against setosa) - (virginica against setosa)
    np.testing.assert_allclose(against_virginica.coef_, default.coef_ - default.coef_[2], rtol=0, atol=1e-8)
    np.testing.assert_allclose(against_virginica.intercept_, default.intercept_ - default.intercept_[2], atol=1e-8)
    assert np.all(against_virginica.coef_[2] == 0) and against_virginica.intercept_[2] == 0
    np.testing.assert_allclose(against_virginica.coef_[0], [-6.8464], atol=5e-5)  # -(virginica vs setosa) slope
    linear = X.to_numpy() @ against_virginica.coef_.T + against_virginica.intercept_
    np.testing.assert_allclose(against_virginica.decision_function(X), linear, rtol=0, atol=1e-10)


def test_binary_coef_stays_the_log_odds_of_classes_1(wells):
    X, y = wells
    default = BayesLogitClassifier(method="map", autoscale=False).fit(X, y)
    flipped = BayesLogitClassifier(method="map", autoscale=False, reference=1).fit(X, y)
    assert flipped.classes_.tolist() == [0, 1] and flipped.fit_.model.classes_.tolist() == [1, 0]
    # A zero-mean Gaussian prior is symmetric under the sign flip of every coefficient, so the MAP is the same.
    np.testing.assert_allclose(flipped.coef_, default.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(flipped.intercept_, default.intercept_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(flipped.fit_.coef.to_numpy(), -default.fit_.coef.to_numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(flipped.predict_proba(X), default.predict_proba(X), rtol=0, atol=1e-10)
    np.testing.assert_allclose(flipped.decision_function(X), default.decision_function(X), rtol=0, atol=1e-8)
    np.testing.assert_allclose(default.coef_, [[-0.8950, 0.4605]], atol=5e-5)  # Gelman & Hill's, nearly (ML)


def test_a_prior_on_other_contrasts_is_the_models_under_that_reference(iris):
    """Under MAP the reference changes the answer (the prior is on the log-odds against it): the estimator's
    probabilities are the model's with that reference, reordered to ``classes_``."""
    X, y = iris
    estimator = BayesLogitClassifier(method="map", prior_scale=1.0, reference="versicolor").fit(X, y)
    model = bl.LogisticModel(X, y, reference="versicolor")
    expected = model.fit_map(bl.Normal(1.0, autoscale=True)).predict_proba(X)[
        :, [1, 0, 2]
    ]  # model order: versicolor first
    np.testing.assert_allclose(estimator.predict_proba(X), expected, rtol=0, atol=1e-12)
    default = BayesLogitClassifier(method="map", prior_scale=1.0).fit(X, y)
    assert np.abs(estimator.predict_proba(X) - default.predict_proba(X)).max() > 1e-4


def test_cross_validation_scores_do_not_depend_on_the_reference_for_ml(iris):
    X, y = iris
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = [
        cross_val_score(BayesLogitClassifier(method="ml", reference=reference), X, y, cv=folds, scoring="neg_log_loss")
        for reference in (None, "virginica")
    ]
    np.testing.assert_allclose(scores[1], scores[0], rtol=1e-10)
    assert np.all(scores[0] < 0)


def test_an_unknown_reference_is_refused_listing_the_classes(iris):
    X, y = iris
    with pytest.raises(
        bl.DataError,
        match=r"reference='daisy' is not a class of y; the classes are "
        r"\['setosa', 'versicolor', 'virginica'\]",
    ):
        BayesLogitClassifier(method="ml", reference="daisy").fit(X, y)
