"""A multilevel model of more than two classes as users meet it: the fits' tables by class, predictions against
the estimates written out, compare, and the refusals that say what to do instead."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import softmax

import bayeslogit as bl
from bayeslogit.algorithms.group_fit_categorical import fit_categorical_map, fit_categorical_ml

FORMULA = "y ~ x + (1 | g)"


def simulated_frame(rng, levels=40, per_level=100, sd=(0.5, 1.0)):
    """Three classes "A" (the reference), "B", "C"; coefficients (0.2, 0.8) and (-0.3, -0.5); intercept effects of
    sds ``sd`` per class."""
    n = levels * per_level
    codes = np.repeat(np.arange(levels), per_level)
    x = rng.normal(size=n)
    eta = np.column_stack([np.ones(n), x]) @ np.array([[0.2, -0.3], [0.8, -0.5]])
    eta += (rng.normal(size=(levels, 2)) * np.asarray(sd))[codes]
    P = softmax(np.column_stack([np.zeros(n), eta]), axis=1)
    y = (rng.random(n)[:, None] > np.cumsum(P, axis=1)[:, :-1]).sum(axis=1)
    return pd.DataFrame({"y": np.array(["A", "B", "C"])[y], "x": x, "g": [f"g{c:02d}" for c in codes]})


@pytest.fixture(scope="module")
def frame():
    return simulated_frame(np.random.default_rng(2))


@pytest.fixture(scope="module")
def model(frame):
    return bl.MultilevelModel.from_formula(FORMULA, frame)


@pytest.fixture(scope="module")
def ml(model):
    return model.fit_ml()


@pytest.fixture(scope="module")
def map_fit(model):
    return model.fit_map()


def test_the_model_reads_the_classes_and_labels_each_class_term(model, frame):
    assert model.classes == ("A", "B", "C")
    assert model.successes is None
    assert model.layout.labels == ("g (class B)", "g (class C)")
    assert model.layout.flat_coef_names == ["Intercept[B]", "x[B]", "Intercept[C]", "x[C]"]


def test_ml_and_map_tables_hold_the_engines_estimates_by_class(model, ml, map_fit):
    direct = fit_categorical_ml(model.X, model.response.codes, model.classes, model.terms)
    assert ml.coef.shape == (2, 2)
    assert list(ml.coef.columns) == ["B", "C"] and ml.coef.columns.name == "class"
    np.testing.assert_allclose(ml.coef.to_numpy(), direct.beta.reshape(2, 2).T, rtol=1e-6)
    np.testing.assert_allclose(ml.cov.loc["x[C]", "x[C]"], direct.beta_cov[3, 3], rtol=1e-5)
    np.testing.assert_allclose(ml.group_sd.to_numpy(), np.concatenate(direct.sd), rtol=1e-6)
    assert list(ml.group_sd.index) == ["g (class B): Intercept", "g (class C): Intercept"]
    scale = 2.5  # the default prior: Normal(0, 2.5) on x, flat on the intercept
    mode = fit_categorical_map(
        model.X, model.response.codes, model.classes, model.terms, bl.GroupPrior(), np.r_[0.0, 1 / scale**2]
    )
    np.testing.assert_allclose(map_fit.coef.to_numpy(), mode.beta.reshape(2, 2).T, rtol=1e-10)
    table = ml.random_effects()
    assert list(table["class"]) == ["B", "C"]
    np.testing.assert_allclose(table["sd"], ml.group_sd.to_numpy())
    ranef = ml.ranef()
    assert set(ranef["class"]) == {"B", "C"} and len(ranef) == 80
    text = str(ml.summary())
    assert "Random effects, g (class B): Intercept: variance" in text
    assert "sd[g (class C): Intercept]" in text and "x[C]" in text


def test_ml_and_map_recover_the_simulated_truth(ml, map_fit):
    """40 levels: an sd's standard error is about ``sd / sqrt(2 * 40)``; three of them bound the error. The
    coefficients within three standard errors of the truth."""
    truth = pd.DataFrame({"B": [0.2, 0.8], "C": [-0.3, -0.5]}, index=["Intercept", "x"])
    for fit in (ml, map_fit):
        assert np.all(np.abs(fit.group_sd.to_numpy() - [0.5, 1.0]) < 3 * np.array([0.5, 1.0]) / np.sqrt(80))
        se = fit.summary()["se"][fit.layout.flat_coef_names].to_numpy().reshape(2, 2).T
        assert np.all(np.abs(fit.coef - truth).to_numpy() < 3 * se)


def test_predictions_by_hand_for_known_and_new_groups(ml):
    new = pd.DataFrame({"x": [0.5, 0.5, -1.0], "g": ["g03", "unseen", "g07"]})
    B = ml.coef.to_numpy()
    effects = ml.ranef().pivot(index="level", columns="class", values="estimate")
    eta = np.array([1.0, 0.5]) @ B + effects.loc["g03"].to_numpy()
    proba = ml.predict_proba(new)
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba[0], softmax(np.r_[0.0, eta]), rtol=1e-10)
    np.testing.assert_allclose(proba[1], softmax(np.r_[0.0, np.array([1.0, 0.5]) @ B]), rtol=1e-10)
    # a new group integrated over Normal(0, diag(sd^2)) per class: Gauss-Hermite against 2,000 Monte Carlo draws
    integrated = ml.predict_proba(new, new_groups="integrate")
    np.testing.assert_allclose(integrated[[0, 2]], proba[[0, 2]])
    z, w = np.polynomial.hermite.hermgauss(30)
    sd = ml.group_sd.to_numpy()
    shifts = np.sqrt(2.0) * np.stack(np.meshgrid(z, z, indexing="ij"), axis=-1).reshape(-1, 2) * sd
    weights = np.outer(w, w).ravel() / np.pi
    exact = weights @ softmax(np.column_stack([np.zeros(len(shifts)), np.array([1.0, 0.5]) @ B + shifts]), axis=1)
    np.testing.assert_allclose(integrated[1], exact, atol=0.02)  # 2,000 draws: a Monte Carlo sd below 0.007
    assert integrated[1, 2] > proba[1, 2]  # the spread raises the rare class's average chance


def test_compare_puts_the_classes_coefficients_and_the_categorical_likelihood_side_by_side(ml, map_fit, frame):
    table = bl.compare({"ml": ml, "map": map_fit})
    assert table.loc[("coef", "x[C]"), "ml"] == pytest.approx(ml.coef.loc["x", "C"])
    proba = ml.predict_proba(frame)
    codes = pd.Index(["A", "B", "C"]).get_indexer(frame["y"])
    loglik = np.log(proba[np.arange(len(frame)), codes]).sum()
    assert table.loc[("in-sample", "loglik"), "ml"] == pytest.approx(loglik, rel=1e-10)
    assert table.loc[("group_sd", "g (class C): Intercept"), "map"] == pytest.approx(map_fit.group_sd.iloc[1])
    with pytest.raises(bl.DataError, match="classes the model was not fitted on"):
        bl.compare({"ml": ml}, frame.assign(y="Z"))


def test_refusals_name_the_limitation_and_the_fix(model, ml, frame):
    with pytest.raises(bl.OptionError, match="one group term"):
        bl.MultilevelModel.from_formula("y ~ x + (1 | g) + (1 | h)", frame.assign(h=frame["g"].str[-1]))
    with pytest.raises(bl.OptionError, match="n_agq=1"):
        model.fit_ml(n_agq=5)
    rare = frame.copy()
    rare.loc[rare.index[:3], "y"] = "D"
    with pytest.raises(bl.DataError, match=r"'D' \(3 rows\).*merge them into another class"):
        bl.MultilevelModel.from_formula(FORMULA, rare)
    with pytest.raises(bl.OptionError, match="boundary per pair of classes"):
        ml.group_boundaries("x")
    separated = frame.assign(y=np.where(frame["x"] > 1.0, "C", np.where(frame["y"] == "C", "B", frame["y"])))
    with pytest.raises(bl.SeparationError, match="separate"):
        bl.MultilevelModel.from_formula(FORMULA, separated).fit_ml()


def test_a_class_missing_from_some_groups_is_fine(frame):
    """Class C absent from a quarter of the groups: their C effects rest on the prior alone, shrunk towards 0."""
    sparse = frame[~((frame["y"] == "C") & frame["g"].isin([f"g{c:02d}" for c in range(10)]))]
    fit = bl.MultilevelModel.from_formula(FORMULA, sparse).fit_ml()
    effects = fit.ranef().query("`class` == 'C'").set_index("level")["estimate"]
    assert effects[[f"g{c:02d}" for c in range(10)]].max() < 0


def test_the_group_plots_draw_a_class_or_say_how(ml, map_fit):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = bl.plot_caterpillar({"ml": ml, "map": map_fit}, term="g (class C)")
    (line,) = [artist for artist in fig.axes[0].get_lines() if artist.get_gid() == "ml-estimate"]
    estimates = ml.ranef().query("term == 'g (class C)'")["estimate"].to_numpy()
    np.testing.assert_allclose(np.sort(line.get_xdata()), np.sort(estimates))
    plt.close(fig)
    with pytest.raises(bl.OptionError, match=r"plot_caterpillar\(fits, term='g \(class B\)'\)"):
        bl.plot_shrinkage({"ml": ml})


@pytest.mark.slow
def test_mcmc_converges_and_agrees_with_map():
    """40 levels of 25 rows (with 100 rows a level the non-centred intercepts mix slowly: R-hat 1.013 at 4 x 500
    draws). Posterior means within one posterior sd of MAP (the mode of a posterior close to Normal; measured: within
    0.4 sd); R-hat at most 1.01 and no divergences (measured: 1.008, 0)."""
    model = bl.MultilevelModel.from_formula(FORMULA, simulated_frame(np.random.default_rng(2), per_level=25))
    with warnings.catch_warnings():
        warnings.simplefilter("error", bl.ConvergenceWarning)
        fit = model.fit_mcmc(draws=500, tune=500, chains=4, random_seed=1)
    table = fit.summary()
    assert fit.diagnosis.divergences == 0
    assert table["r_hat"].max() <= 1.01
    assert fit.coef.shape == (2, 2)
    assert fit.posterior.posterior["coef"].dims == ("chain", "draw", "predictor", "class")
    mode = model.fit_map().summary()["estimate"]
    for name in [*model.layout.flat_coef_names, *(f"sd[{label}]" for label in model.layout.sd_labels)]:
        assert abs(table.loc[name, "estimate"] - mode[name]) < table.loc[name, "sd"], name
    proba = fit.predict_proba(pd.DataFrame({"x": [0.0, 0.0], "g": ["g00", "new"]}), new_groups="integrate")
    assert proba.shape == (2, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_the_likelihood_ratio_test_refuses_a_categorical_fit_saying_how_to_do_it(ml):
    with pytest.raises(bl.OptionError, match=r"has 3 classes.*len\(fit.result.theta\)"):
        ml.lr_test(ml)
