"""The shrinkage and caterpillar plots of multilevel fits, checked by the numbers they draw: the fits' group effects
and intervals, each group's no-pooling estimate against statsmodels and a closed form, the sort order, the groups
whose own estimate is infinite, and the sds in the legend."""

import re
import runpy
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import logit

import bayeslogit as bl
from bayeslogit.numerics.no_pooling import no_pooling_effects
from bayeslogit.plots import group_fits

CBPP = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
EXAMPLES = Path(__file__).parents[1] / "examples"


def by_gid(ax, gid: str) -> list:
    return [artist for artist in ax.get_children() if artist.get_gid() == gid]


def legend_texts(fig) -> list[str]:
    return [text.get_text() for legend in fig.legends for text in legend.get_texts()]


def effects(fit, column="estimate") -> np.ndarray:
    return fit.ranef()[column].to_numpy()


@pytest.fixture(scope="module")
def cbpp_model():
    return bl.MultilevelModel.from_formula(CBPP, bl.datasets.load_cbpp())


@pytest.fixture(scope="module")
def cbpp_fits(cbpp_model):
    """ML, MAP and 2 short chains of NUTS (ESS below 400, so MCMC warns)."""
    with pytest.warns(bl.ConvergenceWarning, match="^MCMC may not have converged"):
        mcmc = cbpp_model.fit_mcmc(draws=300, tune=300, chains=2, random_seed=0)
    return {"ml": cbpp_model.fit_ml(), "map": cbpp_model.fit_map(), "mcmc": mcmc}


@pytest.fixture(scope="module")
def separated():
    """cbpp with herd 14's cattle all infected and herd 9's none: their own estimates are +inf and -inf."""
    data = bl.datasets.load_cbpp()
    data.loc[data["herd"] == "14", "incidence"] = data.loc[data["herd"] == "14", "size"]
    data.loc[data["herd"] == "9", "incidence"] = 0
    model = bl.MultilevelModel.from_formula(CBPP, data)
    return model, {"ml": model.fit_ml(), "map": model.fit_map()}


def statsmodels_no_pooling(model, fit) -> np.ndarray:
    """Each herd's intercept from a binomial GLM of its rows alone, offset by the fit's fixed effects."""
    offset = model.X @ fit.coef.to_numpy()
    codes = model.terms[0].codes
    estimates = []
    for g in range(model.terms[0].n_levels):
        rows = codes == g
        y, m = model.successes[rows], model.trials[rows]
        glm = sm.GLM(np.column_stack([y, m - y]), np.ones((rows.sum(), 1)), sm.families.Binomial(), offset=offset[rows])
        with np.errstate(invalid="ignore"):  # a herd of one row: no residual degrees of freedom for its scale
            estimates.append(glm.fit(tol=1e-12).params[0])
    return np.array(estimates)


def test_shrinkage_draws_each_fit_against_the_groups_own_estimates(cbpp_model, cbpp_fits):
    fig = bl.plot_shrinkage(cbpp_fits)
    ax = fig.axes[0]
    own = statsmodels_no_pooling(cbpp_model, cbpp_fits["ml"])
    trials = pd.DataFrame({"g": cbpp_model.terms[0].codes, "m": cbpp_model.trials}).groupby("g")["m"].sum()
    for method, fit in cbpp_fits.items():
        (points,) = by_gid(ax, f"{method}-estimate")
        drawn = points.get_offsets().data
        assert drawn[:, 0] == pytest.approx(own, abs=1e-8)
        assert drawn[:, 1] == pytest.approx(effects(fit), rel=1e-12)
        area = points.get_sizes()
        assert area / trials.to_numpy() == pytest.approx(np.full(15, area.max() / trials.max()))  # area ~ trials
        assert not by_gid(ax, f"{method}-edge-high") and not by_gid(ax, f"{method}-edge-low")
    (bars,) = by_gid(ax, "mcmc-interval")
    table = cbpp_fits["mcmc"].ranef()
    for (x0, low), (x1, high), own_g, lb, ub in zip(*np.array(bars.get_segments()).transpose(1, 0, 2), own,
                                                     table["eti89_lb"], table["eti89_ub"]):  # fmt: skip
        assert x0 == x1 == pytest.approx(own_g, abs=1e-8) and (low, high) == pytest.approx((lb, ub), rel=1e-12)
    assert not by_gid(ax, "ml-interval") and not by_gid(ax, "map-interval")  # point fits: no bars
    # the legend gives each fit's sd, as group_sd has it
    texts = legend_texts(fig)
    for method, fit in cbpp_fits.items():
        (text,) = [t for t in texts if t.startswith(bl.plots.style.style(method)["label"] + " ")]
        assert float(re.search(r"\(sd (\d+\.\d\d)", text).group(1)) == pytest.approx(fit.group_sd.iloc[0], abs=0.005)
    assert any(t.startswith("MAP conditional mode (sd ") for t in texts)
    assert any(t.startswith("MCMC posterior mean and 89% ETI (sd ") for t in texts)
    # shrinkage: every fit draws each herd between its own estimate and zero
    for method, fit in cbpp_fits.items():
        if method != "mcmc":  # the posterior mean averages over the sd, so can lie beyond the mode
            assert np.all(np.abs(effects(fit)) < np.abs(own)) and np.all(np.sign(effects(fit)) == np.sign(own))


def test_the_no_pooling_estimate_is_the_logit_of_the_groups_proportion_without_other_fixed_effects():
    model = bl.MultilevelModel.from_formula(
        "cbind(incidence, size - incidence) ~ 1 + (1 | herd)", bl.datasets.load_cbpp()
    )
    ml = model.fit_ml()
    codes = model.terms[0].codes
    proportion = np.bincount(codes, model.successes) / np.bincount(codes, model.trials)
    expected = logit(proportion) - ml.coef["Intercept"]
    assert group_fits.no_pooling(ml, 0, 0) == pytest.approx(expected, abs=1e-10)
    (points,) = by_gid(bl.plot_shrinkage([ml]).axes[0], "ml-estimate")
    assert points.get_offsets().data[:, 0] == pytest.approx(expected, abs=1e-10)


def test_all_success_and_all_failure_groups_are_drawn_at_the_edges(separated):
    model, fits = separated
    fig = bl.plot_shrinkage(fits)
    ax = fig.axes[0]
    levels = list(model.layout.levels[0])
    high, low = levels.index("14"), levels.index("9")
    own = group_fits.no_pooling(fits["ml"], 0, 0)
    assert own[high] == np.inf and own[low] == -np.inf and np.isfinite(np.delete(own, [high, low])).all()
    x_limits = ax.get_xlim()
    for method, fit in fits.items():
        (finite,) = by_gid(ax, f"{method}-estimate")
        (right,), (left,) = by_gid(ax, f"{method}-edge-high"), by_gid(ax, f"{method}-edge-low")
        assert len(finite.get_offsets().data) == 13
        (x_high, y_high), (x_low, y_low) = right.get_offsets().data[0], left.get_offsets().data[0]
        assert (y_high, y_low) == pytest.approx((effects(fit)[high], effects(fit)[low]), rel=1e-12)
        assert x_high > finite.get_offsets().data[:, 0].max() and x_high < x_limits[1]  # in the strip on the right
        assert x_low < finite.get_offsets().data[:, 0].min() and x_low > x_limits[0]
    ticks = dict(zip(ax.get_xticks(), [t.get_text() for t in ax.get_xticklabels()]))
    assert ticks[x_high] == "+\u221e" and ticks[x_low] == "\u2212\u221e"
    texts = legend_texts(fig)
    assert "no-pooling estimate +\u221e (all successes): in the strip" in texts
    assert "no-pooling estimate \u2212\u221e (all failures): in the strip" in texts


def test_no_pooling_kernel_separation_and_silence():
    """A slope effect: +inf where the rows with v > 0 are all successes and those with v < 0 all failures, -inf the
    other way round, NaN where every v is 0, and otherwise the root of the score."""
    codes = np.array([0, 0, 1, 1, 2, 2, 3, 3, 3])
    values = np.array([1.0, -1.0, 1.0, -2.0, 0.0, 0.0, 1.0, -1.0, 0.5])
    successes = np.array([3.0, 0.0, 0.0, 4.0, 1.0, 2.0, 2.0, 1.0, 3.0])
    trials = np.array([3.0, 2.0, 5.0, 4.0, 3.0, 3.0, 5.0, 4.0, 6.0])
    offset = np.linspace(-0.5, 0.5, 9)
    estimate = no_pooling_effects(offset, values, successes, trials, codes, 4)
    assert estimate[0] == np.inf and estimate[1] == -np.inf and np.isnan(estimate[2])
    rows = codes == 3
    glm = sm.GLM(
        np.column_stack([successes[rows], trials[rows] - successes[rows]]), values[rows, None], sm.families.Binomial(),
        offset=offset[rows],
    ).fit(tol=1e-12)  # fmt: skip
    assert estimate[3] == pytest.approx(glm.params[0], abs=1e-8)


def test_a_singular_ml_fit_pulls_every_group_to_zero(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setattr(sys, "argv", ["multilevel.py"])
    script = runpy.run_path(str(EXAMPLES / "multilevel.py"))
    model = bl.MultilevelModel.from_formula(script["FEW_GROUPS"], script["simulate_few_groups"]())
    with pytest.warns(bl.ConvergenceWarning, match="^boundary \\(singular\\) fit"):
        ml = model.fit_ml()
    fits = {"ml": ml, "map": model.fit_map()}
    fig = bl.plot_shrinkage(fits)
    (points,) = by_gid(fig.axes[0], "ml-estimate")
    assert np.abs(points.get_offsets().data[:, 1]).max() < 1e-6 and np.ptp(points.get_offsets().data[:, 0]) > 0.3
    (shrunk,) = by_gid(fig.axes[0], "map-estimate")
    assert np.abs(shrunk.get_offsets().data[:, 1]).max() > 0.05  # MAP's sd is off zero, so its groups are too
    texts = legend_texts(fig)
    assert "ML conditional mode (sd 0.00, singular)" in texts
    assert f"MAP conditional mode (sd {fits['map'].group_sd.iloc[0]:.2f})" in texts


def test_caterpillar_sorts_by_the_first_fit_and_draws_each_interval(cbpp_fits):
    fig = bl.plot_caterpillar(cbpp_fits, ci_prob=0.95)
    ax = fig.axes[0]
    order = np.argsort(effects(cbpp_fits["ml"]))
    levels = np.array(cbpp_fits["ml"].layout.levels[0])
    assert [t.get_text() for t in ax.get_yticklabels()] == levels[order].tolist()
    assert ax.get_yticks().tolist() == list(range(15))
    z = NormalDist().inv_cdf(0.975)
    table = cbpp_fits["mcmc"].ranef(0.95)
    expected = {
        method: np.column_stack([effects(fit) - z * effects(fit, "sd"), effects(fit) + z * effects(fit, "sd")])
        for method, fit in cbpp_fits.items()
        if method != "mcmc"
    }
    expected["mcmc"] = table[["eti95_lb", "eti95_ub"]].to_numpy()
    heights = []
    for method, fit in cbpp_fits.items():
        (line,), (intervals,) = by_gid(ax, f"{method}-estimate"), by_gid(ax, f"{method}-interval")
        assert line.get_xdata() == pytest.approx(effects(fit)[order], rel=1e-12)
        segments = np.array(intervals.get_segments())  # (levels, 2 ends, xy)
        assert segments[:, :, 0] == pytest.approx(expected[method][order], rel=1e-12)
        assert np.all(segments[:, 0, 1] == line.get_ydata()) and np.all(segments[:, 1, 1] == line.get_ydata())
        heights.append(np.asarray(line.get_ydata()) - np.arange(15))
    offsets = [h[0] for h in heights]
    assert all(np.allclose(h, h[0]) for h in heights) and offsets == sorted(offsets, reverse=True)  # ML on top
    assert np.all(np.diff(effects(cbpp_fits["ml"])[order]) >= 0)
    texts = legend_texts(fig)
    assert texts == [
        f"ML conditional mode \u00b1 {z:.2f} conditional sd (95%)",
        f"MAP conditional mode \u00b1 {z:.2f} conditional sd (95%)",
        next(t for t in texts if t.startswith("MCMC posterior mean and 95% ETI")),
    ]
    assert ax.get_xlabel() == "group effect on Intercept (log-odds)"


def many_groups(n_levels: int, rng):
    """A model of ``n_levels`` groups of 4 Bernoulli rows, and its ML fit."""
    data = pd.DataFrame({"g": np.repeat([f"level{i:02d}" for i in range(n_levels)], 4)})
    effect = rng.normal(0, 1, n_levels)
    data["y"] = rng.binomial(1, 1 / (1 + np.exp(-np.repeat(effect, 4))))
    model = bl.MultilevelModel.from_formula("y ~ 1 + (1 | g)", data)
    return model, model.fit_ml()


def test_caterpillar_names_every_second_level_past_30_and_none_past_60(rng):
    ax = bl.plot_caterpillar(many_groups(45, rng)[1]).axes[0]
    assert ax.get_yticks().tolist() == list(range(0, 45, 2))
    assert len(ax.get_yticklabels()) == 23 and "every second named" in ax.get_ylabel()
    ax = bl.plot_caterpillar([many_groups(70, rng)[1]]).axes[0]
    assert len(ax.get_yticks()) == 0
    assert ax.get_ylabel() == "70 levels of g, sorted by the ML estimate (too many to name)"
    (line,) = by_gid(ax, "ml-estimate")
    assert len(line.get_xdata()) == 70


def test_shrinkage_counts_the_groups_that_share_a_point(rng):
    """Groups of 4 Bernoulli rows have 5 possible counts, so 45 of them share a handful of points."""
    model, ml = many_groups(45, rng)
    ax = bl.plot_shrinkage(ml).axes[0]
    successes = np.bincount(model.terms[0].codes, model.successes)
    _, shared = np.unique(successes, return_counts=True)
    counts = sorted(int(text.get_text().lstrip("\u00d7")) for text in by_gid(ax, "tie-count"))
    assert counts == sorted(shared[shared > 1].tolist())


def test_unknown_terms_columns_models_and_fits_are_refused(cbpp_model, cbpp_fits):
    with pytest.raises(bl.OptionError, match=r"term 'herds' is not a group term of the model; choose from \['herd'\]"):
        bl.plot_caterpillar(cbpp_fits, term="herds")
    with pytest.raises(bl.OptionError, match=r"column 'period' is not a column of .* choose from \['Intercept'\]"):
        bl.plot_shrinkage(cbpp_fits, column="period")
    other = bl.MultilevelModel.from_formula(
        "cbind(incidence, size - incidence) ~ 1 + (1 | herd)", bl.datasets.load_cbpp()
    )
    with pytest.raises(bl.OptionError, match="these fits come from different models"):
        bl.plot_caterpillar([cbpp_fits["ml"], other.fit_map()])
    logistic = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger()).fit_ml()
    with pytest.raises(
        bl.OptionError, match="not a fit of a MultilevelModel; plot a LogisticModel's fits with plot_coef"
    ):
        bl.plot_caterpillar({"ml": logistic})
