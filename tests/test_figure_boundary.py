"""The boundary plot's plane: which predictors it draws, what the others are held at, units, and marks of trouble."""

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayeslogit as bl
from bayeslogit.plots import plot_boundary, plot_coef
from bayeslogit.plots.style import trouble_note

PRIOR = bl.Normal(2.5)


def by_gid(ax, gid: str) -> list:
    return [artist for artist in ax.get_children() if artist.get_gid() == gid]


def footnote(fig) -> str:
    return " ".join(fig.get_supxlabel().split())


def shuffled(values, counts, rng) -> np.ndarray:
    """``values`` repeated ``counts`` times, in random order: a column whose most frequent value is known."""
    return rng.permutation(np.repeat(values, counts))


@pytest.fixture(scope="module")
def mixed():
    """400 rows: continuous x1, x2, z; a string category (b most frequent), a numeric one read through C() (3 most
    frequent) and a 0/1 column (1 most frequent); and an ML fit of them all."""
    rng = np.random.default_rng(5)
    n = 400
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "z": rng.normal(2.0, 1.0, size=n),
            "kind": shuffled(["a", "b", "c"], [80, 200, 120], rng),
            "job": shuffled([1.0, 2.0, 3.0], [120, 100, 180], rng),
            "flag": shuffled([0, 1], [120, 280], rng),
        }
    )
    eta = 0.3 + 1.2 * frame.x1 - 0.8 * frame.x2 + 0.4 * frame.z + 0.5 * (frame.kind == "b") + 0.6 * frame.flag
    frame["y"] = (rng.random(n) < expit(eta)).astype(int)
    model = bl.LogisticModel.from_formula("y ~ x1 + x2 + z + kind + C(job) + flag", frame)
    return frame, model.fit_ml()


def test_categories_and_binary_columns_are_held_at_their_most_frequent_level_continuous_at_the_mean(mixed):
    frame, fit = mixed
    fig = plot_boundary(fit, features=["x1", "x2"])
    # The held row goes through the formula: kind = b and job = 3 set their dummies to one level's values.
    held = pd.DataFrame({"x1": [0.0], "x2": [0.0], "z": [frame.z.mean()], "kind": ["b"], "job": [3.0], "flag": [1]})
    row = fit.model.design_matrix(held)[0]
    coef = fit.params[:, 0]
    (line,) = by_gid(fig.axes[0], "ml-boundary")
    x, y = line.get_data()
    np.testing.assert_allclose(y, -(coef[0] + row @ coef[1:] + coef[1] * x) / coef[2], rtol=1e-10)
    assert footnote(fig) == (
        f"Other predictors held fixed: z at its mean {frame.z.mean():.3g}, kind at b (most frequent), job at 3 "
        "(most frequent), flag at 1 (most frequent)."
    )


def test_by_default_the_two_continuous_predictors_of_largest_standardised_effect_are_drawn():
    rng = np.random.default_rng(8)
    n = 600
    frame = pd.DataFrame(
        {
            "x_small": rng.normal(size=n),
            "flag": shuffled([0, 1], [250, 350], rng),
            "x_big": rng.normal(size=n),
            "x_mid": rng.normal(0, 2.0, size=n),
        }
    )
    # The 0/1 column has the largest |coef| x sd (3 x 0.49), but a binary column has no axis worth drawing.
    eta = 0.2 * frame.x_small + 3.0 * frame.flag - 1.5 + 2.0 * frame.x_big + 0.5 * frame.x_mid
    frame["y"] = (rng.random(n) < expit(eta)).astype(int)
    fit = bl.LogisticModel.from_formula("y ~ x_small + flag + x_big + x_mid", frame).fit_ml()
    fig = plot_boundary(fit)
    main = fig.axes[0]
    assert (main.get_xlabel(), main.get_ylabel()) == ("x_big", "x_mid")  # in the formula's order
    coef = dict(zip(fit.model.coef_names, fit.params[:, 0]))
    effect = {name: abs(coef[name]) * frame[name].std(ddof=0) for name in ("x_big", "x_mid", "x_small")}
    assert effect["x_big"] > effect["x_mid"] > effect["x_small"]
    shown = ", ".join(f"{name} {value:.2g}" for name, value in effect.items())
    assert footnote(fig) == (
        f"Drawn in x_big and x_mid, the continuous predictors of largest standardised effect (|coef| × sd) in the "
        f"ML fit: {shown}. Other predictors held fixed: x_small at its mean {frame.x_small.mean():.3g}, flag at 1 "
        "(most frequent)."
    )


def test_a_predictor_of_several_columns_is_ranked_by_the_sd_of_its_contribution():
    data = bl.datasets.load_wells()
    model = bl.LogisticModel.from_formula("switched ~ bs(dist100, df=4) + np.log(arsenic) + educ", data)
    fit = model.fit_ml()
    fig = plot_boundary(fit, X=data, grid_size=40)
    design, names, coef = model.design_matrix(data), model.feature_names, fit.params[1:, 0]

    def effect(prefix: str) -> float:
        columns = [j for j, name in enumerate(names) if name.startswith(prefix)]
        return float(np.std(design[:, columns] @ coef[columns]))

    effects = {"arsenic": effect("np.log(arsenic)"), "dist100": effect("bs(dist100"), "educ": effect("educ")}
    assert sorted(effects, key=effects.get, reverse=True) == ["arsenic", "dist100", "educ"]
    main = fig.axes[0]
    assert (main.get_xlabel(), main.get_ylabel()) == ("dist100 (100 m)", "arsenic (100 µg/L)")  # curved, in data
    assert by_gid(main, "ml-boundary")[0].levels.tolist() == [0.5]
    shown = ", ".join(f"{name} {value:.2g}" for name, value in effects.items())
    assert footnote(fig).startswith(
        "Drawn in dist100 and arsenic, the continuous predictors of largest standardised effect (|coef| × sd) in "
        f"the ML fit: {shown}. Other predictors held fixed: educ at its mean {data.educ.mean():.3g} yr."
    )


def test_an_array_model_holds_a_zero_one_column_at_its_most_frequent_value(rng):
    n = 500
    X = np.column_stack([rng.normal(size=n), rng.permutation(np.repeat([0.0, 1.0], [150, 350])), rng.normal(size=n)])
    y = rng.random(n) < expit(X @ [1.5, 0.8, -0.3])
    fit = bl.LogisticModel(X, y, feature_names=["a", "b", "c"]).fit_ml()
    fig = plot_boundary(fit)
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("a", "c")  # the two continuous ones
    c0, ca, cb, cc = fit.params[:, 0]
    (line,) = by_gid(fig.axes[0], "ml-boundary")
    x, height = line.get_data()
    np.testing.assert_allclose(height, -(c0 + cb * 1.0 + ca * x) / cc, rtol=1e-10)
    assert footnote(fig).endswith("Other predictors held fixed: b at 1 (most frequent).")


def test_units_come_from_the_frame_and_the_argument_which_is_checked(mixed):
    frame, fit = mixed
    frame = frame.copy()
    frame.attrs["units"] = {"x1": "kg", "x2": "s", "z": "cm"}
    fig = plot_boundary(fit, X=frame, features=["x1", "x2"], units={"x2": "min"})  # the argument wins
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("x1 (kg)", "x2 (min)")
    assert f"z at its mean {frame.z.mean():.3g} cm," in footnote(fig)
    with pytest.raises(bl.OptionError, match=r"units names \['weight'\], which are not columns of the model; choose"):
        plot_boundary(fit, features=["x1", "x2"], units={"weight": "kg"})
    with pytest.raises(bl.OptionError, match=r'units must be a dict of column name to unit, e.g. \{"dist": "m"\}'):
        plot_boundary(fit, features=["x1", "x2"], units="kg")


def test_few_points_are_drawn_large_and_outlined_above_a_light_band(rng):
    n = 150  # at most 200 rows: each point matters
    frame = pd.DataFrame({"u": rng.normal(size=n), "v": rng.normal(size=n)})
    frame["y"] = (rng.random(n) < expit(0.5 * frame.u - 0.5 * frame.v)).astype(int)
    model = bl.LogisticModel.from_formula("y ~ u + v", frame)
    fits = {"map": model.fit_map(PRIOR), "laplace": model.fit_laplace(PRIOR, draws=400, random_seed=0)}
    main = plot_boundary(fits).axes[0]
    points = [c for c in main.collections if (c.get_gid() or "").startswith("points-")]
    assert {c.get_sizes()[0] for c in points} == {28} and {c.get_alpha() for c in points} == {0.9}
    assert {tuple(c.get_edgecolor()[0]) for c in points if len(c.get_offsets())} == {(0.0, 0.0, 0.0, 0.9)}
    (band,) = by_gid(main, "laplace-band")
    assert band.get_facecolor()[0][3] == pytest.approx(0.15)
    assert min(c.get_zorder() for c in points) > band.get_zorder()


@pytest.fixture(scope="module")
def troubled():
    """Challenger in two predictors: its Laplace fit's importance weights move the mean by more than 0.2 sd."""
    model = bl.LogisticModel.from_formula("damaged ~ temp + flight", bl.datasets.load_challenger())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bl.ConvergenceWarning)  # the trouble itself is under test
        return model.fit_all(PRIOR, random_seed=0, draws=1000, chains=1, methods=("ml", "map", "laplace"))


def test_a_fit_that_fails_its_checks_is_named_with_its_trouble(troubled):
    note = trouble_note(troubled["laplace"])
    assert note.startswith("k-hat ") and float(note.split("shift ")[1].split(" sd")[0]) > 0.2
    assert trouble_note(troubled["map"]) == ""  # a point fit has no diagnosis
    legend = [t.get_text() for t in plot_boundary(troubled).axes[0].get_legend().get_texts()]
    assert f"Laplace 89% ETI of the boundary ({note})" in legend and "MAP boundary" in legend
    coef_legend = [t.get_text() for t in plot_coef(troubled).legends[0].get_texts()]
    assert coef_legend[2] == f"Laplace: posterior mean, 50% and 89% ETI ({note})"


def test_trouble_notes_count_divergences_and_chains_that_do_not_mix():
    def fit(ok: bool, divergences: int, **rows):
        return SimpleNamespace(diagnosis=SimpleNamespace(ok=ok, divergences=divergences, rows=rows, verdict="poor"))

    assert trouble_note(fit(False, 53, r_hat_max=1.0, ess_bulk_min=900, ess_tail_min=800)) == "53 divergences"
    assert trouble_note(fit(False, 0, r_hat_max=1.0812, ess_bulk_min=95, ess_tail_min=300)) == "R-hat 1.081, ESS 95"
    assert trouble_note(fit(False, 1, r_hat_max=1.0, ess_bulk_min=900, ess_tail_min=800)) == "1 divergence"
    assert trouble_note(fit(True, 0)) == ""


def test_points_on_a_lattice_are_jittered_and_the_footnote_says_so(rng):
    """A 1-5 rating against a continuous predictor: the rating's points spread within 0.3 of their value (so rows
    at one point do not hide each other), the continuous one's are drawn where they are, and the footnote says
    which axis moved."""
    n = 500
    frame = pd.DataFrame({"rating": rng.integers(1, 6, n).astype(float), "dose": rng.normal(size=n)})
    frame["y"] = (rng.random(n) < expit(0.6 * (frame.rating - 3) + frame.dose)).astype(int)
    fig = plot_boundary({"ml": bl.LogisticModel.from_formula("y ~ rating + dose", frame).fit_ml()})
    main = fig.axes[0]
    drawn = np.concatenate([c.get_offsets() for c in main.collections if (c.get_gid() or "").startswith("points-")])
    rating_axis = 0 if main.get_xlabel().startswith("rating") else 1
    offsets = drawn[:, rating_axis] - np.round(drawn[:, rating_axis])
    assert np.abs(offsets).max() <= 0.3 and offsets.std() > 0.1  # uniform on +-0.3: sd 0.17
    np.testing.assert_array_equal(np.sort(drawn[:, 1 - rating_axis]), np.sort(frame.dose.to_numpy()))
    assert "Points jittered along rating by up to 0.3 of the spacing" in footnote(fig)
