"""The scikit-learn estimator: scikit-learn's own checks, agreement with LogisticModel and LogisticRegression, model
selection, ``random_state``, messages in the estimator's words, and the error without scikit-learn."""

import importlib
import re
import sys

import numpy as np
import pytest

import bayeslogit as bl

pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks  # noqa: E402

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


# Most checks fit classes that one feature decides (y = int(X[:, 0]) for X[:, 0] = 3 U(0, 1)), or 15 rows with 30
# features (62 coefficients): the data are separated, the posterior is skewed along the separating directions, and
# the Laplace diagnosis rightly finds the Gaussian poor (or borderline) there and warns. Those warnings are right for
# those fits; the checks test the estimator's interface, and test_laplace_warns_in_the_estimators_words the warning.
@pytest.mark.filterwarnings("ignore:Pareto k-hat:bayeslogit.exceptions.ConvergenceWarning")
@parametrize_with_checks([BayesLogitClassifier(method="map"), BayesLogitClassifier(method="laplace")])
def test_passes_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.filterwarnings("ignore:Skipping check check_array_api_input:sklearn.exceptions.SkipTestWarning")
def test_ml_fails_scikit_learns_checks_only_where_maximum_likelihood_does_not_exist():
    """The checks' data above separate the classes (SeparationError) or have more coefficients than rows
    (CollinearityError): the ML estimate does not exist there, and ML rightly refuses them. Every other check passes.
    """
    results = check_estimator(BayesLogitClassifier(method="ml"), on_fail=None)
    failures = [result["exception"] for result in results if result["status"] == "failed"]
    existence = (bl.SeparationError, bl.CollinearityError)
    # A check that asserts on the error of fit (e.g. check_fit2d_1feature) raises an AssertionError from it.
    assert failures and all(
        isinstance(error, existence) or isinstance(error.__cause__, existence) for error in failures
    )
    assert {type(error) for error in failures} >= {bl.SeparationError, bl.CollinearityError}


def test_map_coefficients_are_the_models(wells):
    X, y = wells
    clf = BayesLogitClassifier(prior_scale=0.5, intercept_scale=3.0).fit(X, y)
    fit = bl.LogisticModel(X, y).fit_map(bl.Normal(0.5, intercept_scale=3.0, autoscale=True))
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
    clf = BayesLogitClassifier(fit_intercept=False, autoscale=False).fit(X, y)
    fit = bl.LogisticModel(X, y, intercept=False).fit_map(bl.Normal(2.5))
    np.testing.assert_array_equal(clf.intercept_, [0.0])
    np.testing.assert_allclose(clf.coef_[0], fit.coef, rtol=0, atol=1e-10)
    np.testing.assert_allclose(clf.decision_function(X), X.to_numpy() @ clf.coef_[0], rtol=1e-12, atol=1e-12)


def test_multiclass_coefficients_have_a_zero_reference_row(iris):
    X, y = iris
    clf = BayesLogitClassifier(prior_scale=1.0, autoscale=False).fit(X, y)
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
    clf = BayesLogitClassifier(method="laplace", draws=500, random_state=1).fit(X, y)
    fit = bl.LogisticModel(X, y).fit_laplace(bl.Normal(2.5, autoscale=True), draws=500, random_seed=1)
    np.testing.assert_allclose(clf.coef_[0], fit.map_fit.coef[FEATURES], rtol=0, atol=1e-10)  # the mean is the MAP
    np.testing.assert_allclose(clf.predict_proba(X), fit.predict_proba(X), rtol=1e-12)
    p = clf.predict_proba(X)[:, 1]
    np.testing.assert_allclose(clf.decision_function(X), np.log(p) - np.log1p(-p), rtol=1e-9, atol=1e-12)


def test_mcmc_with_few_draws(wells):
    """200 draws: the posterior mean is within 0.3 posterior sd of the MAP (its Monte Carlo error is ~0.1 sd)."""
    X, y = wells
    clf = BayesLogitClassifier(method="mcmc", draws=100, tune=100, chains=2, random_state=0)
    with pytest.warns(bl.ConvergenceWarning, match="ESS"):
        clf.fit(X, y)
    assert clf.fit_.coef_draws.shape == (2, 100, 5, 1)
    np.testing.assert_allclose(clf.coef_[0], clf.fit_.coef_draws[..., 1:, 0].mean(axis=(0, 1)), rtol=1e-12)
    map_fit = bl.LogisticModel(X, y).fit_map(bl.Normal(2.5, autoscale=True))
    assert np.all(np.abs(clf.coef_[0] - map_fit.coef[FEATURES]) < 0.3 * map_fit.se[FEATURES])


def test_grid_search_picks_a_prior_scale_and_refits(wells):
    """On 60 rows a nearly flat prior overfits and a tiny scale underfits: the held-out log loss per row is 0.61
    at scale 0.3 against 0.67 and 0.72, a margin far above the solver's tolerance."""
    rows = np.random.default_rng(0).choice(len(wells[1]), 60, replace=False)
    X, y = wells[0].iloc[rows], wells[1].iloc[rows]
    grid = GridSearchCV(
        BayesLogitClassifier(autoscale=False),
        {"prior_scale": [0.01, 0.3, 100.0]},
        scoring="neg_log_loss",
        cv=StratifiedKFold(3),
    ).fit(X, y)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"], [-0.667, -0.6116, -0.7203], atol=5e-4)
    assert grid.best_params_ == {"prior_scale": 0.3}
    refit = BayesLogitClassifier(prior_scale=0.3, autoscale=False).fit(X, y)
    np.testing.assert_allclose(grid.best_estimator_.coef_, refit.coef_, rtol=0, atol=1e-12)


def test_cross_val_score_in_a_pipeline_equals_a_hand_loop(wells):
    X, y = wells[0].to_numpy(), wells[1].to_numpy()
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = cross_val_score(
        make_pipeline(StandardScaler(), BayesLogitClassifier(prior_scale=1.0, autoscale=False)),
        X,
        y,
        cv=cv,
        scoring="neg_log_loss",
    )
    by_hand = []
    for train, test in cv.split(X, y):
        mean, sd = X[train].mean(axis=0), X[train].std(axis=0)
        fit = bl.LogisticModel((X[train] - mean) / sd, y[train]).fit_map(bl.Normal(1.0))
        log_p = fit.log_proba((X[test] - mean) / sd)
        by_hand.append(log_p[np.arange(len(test)), y[test]].mean())
    np.testing.assert_allclose(scores, by_hand, rtol=1e-10)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"method": "bayes"}, ValueError, "`method` must be one of ['ml', 'map', 'laplace', 'mcmc']; got 'bayes'"),
        (
            {"prior_scale": -1.0},
            ValueError,
            "prior_scale=-1.0, intercept_scale=None, prior_nu=7.0, autoscale=True) is not a valid prior",
        ),
        ({"method": "laplace", "draws": 0}, ValueError, "`draws` must be an integer >= 1; got 0"),
    ],
)
def test_bad_parameters_are_named_when_fitting(wells, params, error, match):
    X, y = wells
    with pytest.raises(error, match=re.escape(match)):
        BayesLogitClassifier(**params).fit(X.iloc[:50], y.iloc[:50])


def test_the_default_prior_is_autoscaled_so_units_do_not_change_the_fit(wells):
    """Distance in metres instead of hundreds of metres: the autoscaled MAP's slope is the same effect per metre
    (1/100 of the slope per 100 m), to the solver's tolerance; the unscaled prior's is not, as its scale of 2.5 on
    a slope per metre is then a far tighter prior on the effect of the distance."""
    X, y = wells
    in_metres = X.assign(dist100=X["dist100"] * 100)
    per_100m = BayesLogitClassifier().fit(X, y).coef_[0, 0]
    per_metre = BayesLogitClassifier().fit(in_metres, y).coef_[0, 0]
    assert per_metre == pytest.approx(per_100m / 100, rel=1e-8)
    unscaled = BayesLogitClassifier(autoscale=False)
    assert unscaled.fit(in_metres, y).coef_[0, 0] != pytest.approx(unscaled.fit(X, y).coef_[0, 0] / 100, rel=1e-3)


# 2 x 200 draws may give an ESS below 400, and the estimator rightly warns; the step sizes are what is tested here.
@pytest.mark.filterwarnings("ignore:MCMC may not have converged:bayeslogit.exceptions.ConvergenceWarning")
def test_target_accept_tunes_the_step_size_of_mcmc(wells):
    """NUTS adapts its step size so that the mean acceptance is near the target: 0.99 gives a mean acceptance far
    above the default target's (0.8: about 0.85 here) and smaller steps."""
    X, y = wells[0].iloc[:300], wells[1].iloc[:300]
    stats = {
        accept: BayesLogitClassifier(method="mcmc", draws=200, chains=2, random_state=0, target_accept=accept)
        .fit(X, y)
        .fit_.sample_stats
        for accept in (None, 0.99)
    }
    assert float(stats[0.99]["mean_tree_accept"].mean()) > 0.95 > float(stats[None]["mean_tree_accept"].mean())
    assert float(stats[0.99]["step_size"].mean()) < 0.75 * float(stats[None]["step_size"].mean())


@pytest.mark.parametrize("target_accept", [0.0, 1.0, "0.9", True])
def test_a_target_accept_outside_0_and_1_is_refused_when_fitting(wells, target_accept):
    estimator = BayesLogitClassifier(method="mcmc", target_accept=target_accept)  # stored as given
    assert estimator.get_params()["target_accept"] is target_accept
    with pytest.raises(bl.OptionError, match=re.escape(f"between 0 and 1, e.g. 0.95, or None; got {target_accept!r}")):
        estimator.fit(*wells)


def test_max_iter_caps_newton_and_the_warning_says_to_raise_it(wells):
    """One Newton step from zero does not reach the MAP of wells (five do): the fit stops after one iteration and
    says to increase max_iter, the estimator's parameter."""
    X, y = wells
    with pytest.warns(bl.ConvergenceWarning, match=r"Increase max_iter, .*\(method=\"map\"\)$"):
        capped = BayesLogitClassifier(max_iter=1).fit(X, y)
    assert capped.fit_.n_iter == capped.n_iter_ == 1 and not capped.fit_.converged
    with pytest.warns(bl.ConvergenceWarning) as record:  # the MAP that Laplace starts from (and so the Laplace check)
        assert BayesLogitClassifier(method="laplace", max_iter=1).fit(X, y).fit_.map_fit.n_iter == 1
    assert any(str(warning.message).startswith("Newton's method (MAP)") for warning in record)
    assert BayesLogitClassifier().fit(X, y).fit_.converged
    with pytest.raises(bl.OptionError, match="max_iter"):
        BayesLogitClassifier(max_iter=0).fit(X, y)


# ---- random_state ---------------------------------------------------------------------------------------------------
# Laplace fits of wells: the posterior of 3,020 rows is nearly Gaussian, and its diagnosis was ok for every seed tried
# (k-hat at most 0.38 over 40 seeds), so the fits of fresh entropy below do not warn.
def laplace_draws(wells, **params) -> np.ndarray:
    """``coef_draws`` of shape (1, 1000, 5, 1) of a Laplace estimator fitted to wells."""
    return BayesLogitClassifier(method="laplace", autoscale=False, **params).fit(*wells).fit_.coef_draws


def test_an_int_random_state_repeats_the_draws_and_none_draws_afresh(wells):
    np.testing.assert_array_equal(laplace_draws(wells, random_state=3), laplace_draws(wells, random_state=3))
    model_draws = bl.LogisticModel(*wells).fit_laplace(bl.Normal(2.5), draws=1000, random_seed=3).coef_draws
    np.testing.assert_array_equal(laplace_draws(wells, random_state=3), model_draws)  # the int is passed down
    # Two streams of fresh entropy: continuous draws, no two of which tie.
    assert not np.any(laplace_draws(wells) == laplace_draws(wells))


def test_mcmc_repeats_its_draws_under_an_int_random_state(wells):
    X, y = wells[0].iloc[:200], wells[1].iloc[:200]
    estimator = BayesLogitClassifier(method="mcmc", draws=50, tune=50, chains=1, random_state=5)
    with pytest.warns(bl.ConvergenceWarning, match="ESS"):  # 50 draws cannot give an ESS of 400, as it says
        first = estimator.fit(X, y).fit_.coef_draws
        again = clone(estimator).fit(X, y).fit_.coef_draws
    assert first.shape == (1, 50, 5, 1)
    np.testing.assert_array_equal(again, first)


@pytest.mark.parametrize(
    ("generator", "first_seed"),
    [
        (lambda: np.random.default_rng(7), lambda: np.random.default_rng(7).integers(np.iinfo(np.int64).max)),
        (
            lambda: np.random.RandomState(7),
            lambda: np.random.RandomState(7).randint(np.iinfo(np.int64).max, dtype=np.int64),
        ),
    ],
    ids=["Generator", "RandomState"],
)
def test_a_generator_gives_one_seed_per_fit_and_a_clone_repeats_them(wells, generator, first_seed):
    estimator = BayesLogitClassifier(method="laplace", autoscale=False, random_state=generator())
    twin = clone(estimator)  # a copy of the generator in its state now
    first = estimator.fit(*wells).fit_.coef_draws
    second = estimator.fit(*wells).fit_.coef_draws
    assert not np.any(first == second)  # the generator moved on
    np.testing.assert_array_equal(twin.fit(*wells).fit_.coef_draws, first)
    np.testing.assert_array_equal(laplace_draws(wells, random_state=int(first_seed())), first)


@pytest.mark.parametrize("random_state", ["0", -1, True, 1.5, np.random.default_rng])
def test_a_random_state_that_cannot_seed_is_refused(wells, random_state):
    expected = (
        "`random_state` must be a non-negative int, a numpy.random.Generator, a numpy.random.RandomState or "
        f"None; got {random_state!r}"
    )
    with pytest.raises(bl.OptionError, match=re.escape(expected)):
        BayesLogitClassifier(method="laplace", random_state=random_state).fit(*wells)


def test_random_seed_is_the_deprecated_name_of_random_state(wells):
    estimator = BayesLogitClassifier(method="laplace", autoscale=False, random_seed=3)
    with pytest.warns(DeprecationWarning, match="`random_seed` is deprecated .*; use `random_state`") as record:
        draws = estimator.fit(*wells).fit_.coef_draws
    assert len(record) == 1 and record[0].filename == __file__  # once, at the caller of fit
    np.testing.assert_array_equal(draws, laplace_draws(wells, random_state=3))
    # It is still a parameter, so scikit-learn's clone carries it; unset, it reads "deprecated".
    assert clone(estimator).get_params()["random_seed"] == 3
    assert BayesLogitClassifier().get_params()["random_seed"] == "deprecated"
    with pytest.warns(DeprecationWarning), pytest.raises(bl.OptionError, match="give random_state only"):
        BayesLogitClassifier(random_state=3, random_seed=3).fit(*wells)


def test_get_params_clone_and_set_params_round_trip():
    estimator = BayesLogitClassifier(method="laplace", prior_scale=[1.0, 2.0], draws=300, random_state=11, reference=1)
    params = estimator.get_params()
    assert params == {
        "method": "laplace",
        "prior_scale": [1.0, 2.0],
        "intercept_scale": None,
        "draws": 300,
        "random_state": 11,
        "tune": 200,
        "chains": 4,
        "fit_intercept": True,
        "reference": 1,
        "prior_family": "normal",
        "prior_nu": 7.0,
        "autoscale": True,
        "target_accept": None,
        "max_iter": 100,
        "random_seed": "deprecated",
        "prior_sigma": "deprecated",
        "intercept_sigma": "deprecated",
    }
    assert clone(estimator).get_params() == params
    assert BayesLogitClassifier(**params).get_params() == params
    assert estimator.set_params(random_state=12) is estimator and estimator.get_params()["random_state"] == 12


# ---- messages in the estimator's words --------------------------------------------------------------------------
def test_laplace_warns_in_the_estimators_words():
    """15 rows and 45 features: 46 coefficients under a wide prior (scale 10) make a posterior far from the Gaussian
    at its mode, whatever the draws (k-hat above 1.1 on every seed tried)."""
    X, y = np.random.default_rng(0).random((15, 45)), np.arange(15) % 2
    with pytest.warns(bl.ConvergenceWarning, match='^Pareto k-hat .*; use method="mcmc"$') as record:
        BayesLogitClassifier(method="laplace", prior_scale=10.0, random_state=0).fit(X, y)
    assert len(record) == 1 and record[0].filename == __file__  # at the caller of fit


def test_separation_error_of_ml_says_which_method_to_use(iris):
    X, y = iris
    two_species = y != "virginica"
    with pytest.raises(
        bl.SeparationError,
        match=re.escape(
            'so the ML coefficients diverge to infinity. Use method="map" (or "laplace" or "mcmc") for finite estimates'
        ),
    ) as caught:
        BayesLogitClassifier(method="ml").fit(X[two_species][["petal_length"]], y[two_species])
    assert caught.value.columns == ("petal_length",) and caught.value.kind == "complete"


def test_collinearity_error_of_ml_says_which_method_to_use(wells):
    X, y = wells
    with pytest.raises(
        bl.CollinearityError, match=re.escape('or use method="map", whose prior makes the estimate unique')
    ) as caught:
        BayesLogitClassifier(method="ml").fit(X.assign(dist_again=X["dist100"]), y)
    assert "fit_map" not in str(caught.value) and set(caught.value.columns) == {"dist100", "dist_again"}


def test_import_without_scikit_learn_says_how_to_install_it(monkeypatch):
    for name in [name for name in sys.modules if name == "sklearn" or name.startswith("sklearn.")]:
        monkeypatch.setitem(sys.modules, name, None)  # importing it now fails as if it were not installed
    monkeypatch.delitem(sys.modules, "bayeslogit.surface.estimator")
    with pytest.raises(ImportError, match=re.escape('pip install "bayeslogit[sklearn]"')):
        importlib.import_module("bayeslogit.surface.estimator")
