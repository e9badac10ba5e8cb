"""The priors through the command line (``--prior``, ``--prior-scale``, ``--prior-nu``, ``--autoscale``) and the
scikit-learn estimator (``prior_family``, ``prior_scale``, ``prior_nu``, ``autoscale``): the same prior, and the same
fit, as built in Python; the former names of the scales still work, with a deprecation note."""

import re

import numpy as np
import pytest
from test_cli_reference import run_command

import bayeslogit as bl

FORMULA = "switched ~ dist100 + arsenic"


@pytest.mark.parametrize(
    "options, prior",
    [
        (["--prior", "cauchy", "--intercept-scale", "10"], bl.Cauchy(2.5, intercept_scale=10)),
        (
            ["--prior", "student-t", "--prior-nu", "4", "--prior-scale", "1", "--no-autoscale"],
            bl.StudentT(4, 1.0, autoscale=False),
        ),
        (["--prior-scale", "1", "--no-autoscale"], bl.Normal(1.0)),
        ([], bl.Normal(2.5, autoscale=True)),
    ],
    ids=["cauchy", "student-t", "normal-not-autoscaled", "default"],
)
def test_the_command_fits_under_the_prior_it_is_given(monkeypatch, options, prior):
    argv = ["compare", "wells", "--formula", FORMULA, "--methods", "map", "--test-size", "0", *options]
    status, stdout, _, fits = run_command(argv, monkeypatch)
    assert status == 0
    assert fits["map"].prior == prior and type(fits["map"].prior) is type(prior)
    direct = bl.LogisticModel.from_formula(FORMULA, bl.datasets.load_wells()).fit_map(prior)
    np.testing.assert_allclose(fits["map"].params, direct.params, rtol=0, atol=1e-12)


def test_an_unknown_prior_is_refused_with_the_choices(monkeypatch):
    status, _, stderr, _ = run_command(["compare", "wells", "--formula", FORMULA, "--prior", "laplace"], monkeypatch)
    assert status == 2
    assert stderr == (
        "bayeslogit: error: argument --prior: invalid choice: 'laplace' (choose from 'normal', "
        "'student-t', 'cauchy') (see 'bayeslogit compare --help')\n"
    )


@pytest.fixture(scope="module")
def wells_arrays():
    wells = bl.datasets.load_wells()
    return wells[["dist100", "arsenic"]].to_numpy(), wells["switched"].to_numpy()


@pytest.mark.parametrize(
    "params, prior",
    [
        ({"prior_family": "cauchy", "intercept_scale": 10.0}, bl.Cauchy(2.5, intercept_scale=10)),
        (
            {"prior_family": "student-t", "prior_nu": 3.0, "prior_scale": 1.0, "autoscale": False},
            bl.StudentT(3, 1.0, autoscale=False),
        ),
        ({"autoscale": True}, bl.Normal(2.5, autoscale=True)),
    ],
    ids=["cauchy", "student-t", "normal-autoscaled"],
)
def test_the_estimator_fits_under_its_prior(wells_arrays, params, prior):
    from sklearn.base import clone

    from bayeslogit.sklearn import BayesLogitClassifier

    X, y = wells_arrays
    clf = BayesLogitClassifier(**params).fit(X, y)
    assert clf.fit_.prior == prior
    direct = bl.LogisticModel(X, y).fit_map(prior)
    np.testing.assert_allclose(clf.coef_[0], direct.params[1:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(clf.intercept_[0], direct.params[0, 0], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(clone(clf).fit(X, y).coef_, clf.coef_)


def test_the_estimator_names_a_bad_prior(wells_arrays):
    from bayeslogit.sklearn import BayesLogitClassifier

    with pytest.raises(
        ValueError,
        match=re.escape(
            "BayesLogitClassifier(prior_family='horseshoe', prior_scale=2.5, "
            "intercept_scale=None, prior_nu=7.0, autoscale=True) is not a valid "
            "prior (unknown prior 'horseshoe'; choose one of ['normal', "
            "'student-t', 'cauchy'])"
        ),
    ):
        BayesLogitClassifier(prior_family="horseshoe").fit(*wells_arrays)


def test_the_former_option_names_still_set_the_scales_with_a_deprecation_note(monkeypatch):
    argv = ["compare", "wells", "--formula", FORMULA, "--methods", "map", "--test-size", "0"]
    status, _, stderr, fits = run_command([*argv, "--prior-sigma", "1", "--intercept-sigma", "10"], monkeypatch)
    assert status == 0 and fits["map"].prior == bl.Normal(1.0, intercept_scale=10.0, autoscale=True)
    for former, current in (("--prior-sigma", "--prior-scale"), ("--intercept-sigma", "--intercept-scale")):
        note = f"bayeslogit: warning: {former} is deprecated and will be removed in a future release; use {current}\n"
        assert stderr.count(note) == 1
    status, _, stderr, _ = run_command([*argv, "--prior-sigma", "0"], monkeypatch)
    assert status == 2 and "argument --prior-sigma: must be a positive number; got '0'" in stderr
    status, stdout, _, _ = run_command(["compare", "--help"], monkeypatch)
    assert status == 0 and "--prior-scale" in stdout and "sigma" not in stdout.lower()


def test_the_estimators_former_scale_names_still_set_the_prior_with_a_future_warning(wells_arrays):
    from bayeslogit.sklearn import BayesLogitClassifier

    X, y = wells_arrays
    estimator = BayesLogitClassifier(prior_sigma=0.5, intercept_sigma=3.0)
    with pytest.warns(FutureWarning) as record:
        estimator.fit(X, y)
    assert [str(warning.message) for warning in record] == [
        f"BayesLogitClassifier's `{former}` is deprecated and will be removed in a future release; use `{current}`, "
        "the name of a prior's scale throughout bayeslogit"
        for former, current in (("prior_sigma", "prior_scale"), ("intercept_sigma", "intercept_scale"))
    ]
    assert all(warning.filename == __file__ for warning in record)  # at the caller of fit
    assert estimator.fit_.prior == bl.Normal(0.5, intercept_scale=3.0, autoscale=True)
    assert BayesLogitClassifier().get_params()["prior_sigma"] == "deprecated"
    with pytest.warns(FutureWarning), pytest.raises(bl.OptionError, match="give prior_scale only"):
        BayesLogitClassifier(prior_scale=1.0, prior_sigma=1.0).fit(X, y)


def test_the_command_makes_the_map_fit_once_for_the_posterior_fits(monkeypatch):
    """The posterior fits start from the MAP fit already made, so its warnings are not repeated either."""
    argv = [
        "compare",
        "wells",
        "--formula",
        FORMULA,
        "--methods",
        "laplace,map",
        "--test-size",
        "0",
        "--draws",
        "100",
        "--chains",
        "2",
    ]
    status, _, _, fits = run_command(argv, monkeypatch)
    assert status == 0 and list(fits) == ["laplace", "map"]
    assert fits["laplace"].map_fit is fits["map"]
