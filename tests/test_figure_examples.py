"""The figures the examples print, checked against the numbers they stand for: thresholds with their delta-method
intervals, bands that stay themselves where they overlap, class vectors and contour labels clear of the data, and
fits that fail their checks marked as such."""

import runpy
import sys
from pathlib import Path
from statistics import NormalDist
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from matplotlib.colors import to_rgb, to_rgba

import bayeslogit as bl
from bayeslogit.plots import boundary_curves, boundary_regions
from bayeslogit.plots.style import style

EXAMPLES = Path(__file__).parents[1] / "examples"


def by_gid(ax, gid: str) -> list:
    return [artist for artist in ax.get_children() if artist.get_gid() == gid]


def strip_numbers(strip) -> list[str]:
    (right,) = [a for a in strip.child_axes if a.get_gid() == "threshold-numbers"]
    return [t.get_text() for t in right.get_yticklabels()]


def example(script: str, monkeypatch) -> dict:
    """The functions of ``examples/<script>``, loaded as ``python examples/<script>`` would (not run)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setattr(sys, "argv", [script])
    return runpy.run_path(str(EXAMPLES / script))


@pytest.fixture(scope="module")
def challenger_fits():
    """Every method on the Challenger flights; 2 short chains (ESS below 400, so MCMC warns) and a skewed posterior
    (so Laplace warns)."""
    model = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())
    with pytest.warns(bl.ConvergenceWarning):
        return model.fit_all(bl.Normal(2.5), random_seed=0, draws=300, tune=300, chains=2, progressbar=False)


def test_point_thresholds_carry_the_delta_method_interval(challenger_fits):
    fig = bl.plot_boundary(challenger_fits, ci_prob=0.89, ranges={"temp": (30, 82)})
    strip = fig.axes[1]
    flights = bl.datasets.load_challenger()
    reference = sm.Logit(flights["damaged"], sm.add_constant(flights["temp"])).fit(disp=0, tol=1e-12)
    (b0, b1), cov = reference.params.to_numpy(), reference.cov_params().to_numpy()
    gradient = np.array([-1 / b1, b0 / b1**2])  # of x* = -b0 / b1
    half = NormalDist().inv_cdf(0.945) * np.sqrt(gradient @ cov @ gradient)
    texts = strip_numbers(strip)
    for row, method in enumerate(("ml", "map")):
        summary = challenger_fits[method].boundary().summary(ci_prob=0.89).loc["threshold"]
        (marker,) = by_gid(strip, f"{method}-threshold")
        (interval,) = by_gid(strip, f"{method}-threshold-interval")
        (low, _), (high, _) = interval.get_segments()[0]
        assert marker.get_xdata()[0] == pytest.approx(summary["estimate"], rel=1e-12)
        # the strip's gradient is analytic, the summary's a complex step: both exact to rounding
        assert (low, high) == pytest.approx((summary["wald89_lb"], summary["wald89_ub"]), rel=1e-10)
        estimate, lb, ub = summary["estimate"], summary["wald89_lb"], summary["wald89_ub"]
        assert texts[row] == f"{estimate:.4g}, 89% Wald interval [{lb:.4g}, {ub:.4g}]"
    # ML against statsmodels' estimate and covariance (both converged to 1e-8 or better in the coefficients)
    (interval,) = by_gid(strip, "ml-threshold-interval")
    (low, _), (high, _) = interval.get_segments()[0]
    assert (low, high) == pytest.approx((-b0 / b1 - half, -b0 / b1 + half), rel=1e-6)
    assert texts[2].startswith("median ") and ", 89% ETI [" in texts[2]


def test_a_threshold_with_features_held_is_the_delta_method_of_its_slice():
    wells = bl.datasets.load_wells()
    ml = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells).fit_ml()
    fig = bl.plot_boundary(ml, features=["dist100"], ci_prob=0.9)
    b = ml.params[:, 0]
    held = np.array([1.0, 0.0, wells["arsenic"].mean()])  # the intercept, dist100 drawn, arsenic at its mean

    def threshold(coef):
        return -(held @ coef) / coef[1]

    steps = 1e-6 * np.eye(3) * np.abs(b)  # central differences: error of order 1e-12 relative
    gradient = np.array([(threshold(b + h) - threshold(b - h)) / (2 * h.sum()) for h in steps])
    half = NormalDist().inv_cdf(0.95) * np.sqrt(gradient @ np.asarray(ml.cov) @ gradient)
    (interval,) = by_gid(fig.axes[1], "ml-threshold-interval")
    (low, _), (high, _) = interval.get_segments()[0]
    assert (low, high) == pytest.approx((threshold(b) - half, threshold(b) + half), rel=1e-7)


def test_overlapping_bands_are_filled_or_hatched_and_outlined_in_their_line_style(challenger_fits):
    from matplotlib.collections import LineCollection

    fig = bl.plot_boundary(challenger_fits, ci_prob=0.89)
    curves = fig.axes[0]
    (laplace,) = by_gid(curves, "laplace-band")
    (mcmc,) = by_gid(curves, "mcmc-band")
    assert laplace.get_hatch() == boundary_curves.APPROXIMATION_HATCH and len(laplace.get_facecolor()) == 0  # no fill
    assert mcmc.get_hatch() is None
    np.testing.assert_allclose(mcmc.get_facecolor()[0], to_rgba(style("mcmc")["color"], boundary_curves.BAND_ALPHA))
    for band, method in ((laplace, "laplace"), (mcmc, "mcmc")):
        np.testing.assert_allclose(band.get_edgecolor()[0][:3], to_rgb(style(method)["color"]))
        dashes = LineCollection([], linestyle=style(method)["linestyle"], linewidth=1.0).get_linestyle()
        assert band.get_linestyle() == dashes
    labels = [text.get_text() for text in fig.legends[0].get_texts()]
    assert any(label.startswith("Laplace 89% ETI") for label in labels)
    assert any(label.startswith("MCMC 89% ETI") for label in labels)


@pytest.fixture(scope="module")
def iris_regions():
    model = bl.LogisticModel.from_formula("species ~ petal_length + petal_width", bl.datasets.load_iris())
    with pytest.warns(bl.ConvergenceWarning, match="the Laplace approximation may be poor here"):
        fits = model.fit_all(bl.Normal(2.5), random_seed=0, draws=1000, chains=1, methods=("ml", "map", "laplace"))
    return bl.plot_boundary(fits, ci_prob=0.9), model


def drawn(fig):
    """The renderer of ``fig`` drawn on an Agg canvas (the module's figure outlives pyplot's, closed after each
    test), so that texts and axes have their final places."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def test_class_vectors_sit_beside_the_data_panel(iris_regions):
    fig, _ = iris_regions
    renderer = drawn(fig)
    for panel, method in zip(fig.axes[:2], ("map", "laplace")):
        (vectors,) = [a for a in panel.child_axes if a.get_gid() == f"{method}-vectors"]
        assert vectors.get_window_extent(renderer).x0 > panel.get_window_extent(renderer).x1
        names = [t for t in vectors.texts if t.get_text()]
        boxes = [t.get_window_extent(renderer) for t in names]
        assert all(not a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_contour_labels_keep_apart_and_off_the_points(iris_regions):
    fig, model = iris_regions
    renderer = drawn(fig)
    for panel, method in zip(fig.axes[:2], ("map", "laplace")):
        (confidence,) = by_gid(panel, f"{method}-confidence")
        labels = confidence.labelTexts
        assert 1 <= len(labels) <= 6  # one per long piece of a contour at most
        boxes = [label.get_window_extent(renderer) for label in labels]
        assert all(not a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
        points = panel.transData.transform(model.data.X)
        assert not any(box.contains(*point) for box in boxes for point in points)


def test_the_band_caption_says_what_it_means(iris_regions):
    fig, _ = iris_regions
    assert (
        "Grey band (90%): where fewer than 95.0% of the posterior draws agree on the most probable class; outside "
        "it, at least 95.0% of them agree."
    ) in fig.get_supxlabel().replace("\n", " ")


def test_label_places_one_per_long_piece_apart_and_clear_of_points():
    extent = [0.0, 10.0, 0.0, 1.0]
    far = [np.column_stack([np.linspace(0, 10, 101), np.full(101, 0.2)])]  # long, along the bottom
    near = [np.column_stack([np.linspace(0, 10, 101), np.full(101, 0.25)])]  # too close to the first's label
    short = [np.array([[9.0, 0.9], [9.5, 0.9]])]  # 5% of the panel: unlabelled
    points = np.array([[5.0, 0.2], [5.0, 0.9]])
    places = boundary_regions.label_places([far, near + short], extent, points)
    assert len(places) == 1
    x, y = places[0]
    assert y == 0.2 and 2 <= x <= 8 and abs(x - 5.0) / 10 >= boundary_regions.LABEL_GAP / 3


def _diagnosis(ok: bool, **rows) -> SimpleNamespace:
    return SimpleNamespace(ok=ok, rows=rows, divergences=rows.pop("divergences", 0), verdict="poor")


def test_the_sweep_draws_failing_fits_hollow_with_what_failed(monkeypatch):
    functions = example("separation.py", monkeypatch)
    columns = pd.MultiIndex.from_tuples(
        [("map", "estimate"), *[(m, c) for m in ("laplace", "mcmc") for c in ("mean", "eti89_lb", "eti89_ub")]]
    )
    table = pd.DataFrame([[2.0, 2.0, 1.6, 2.4, 2.1, 1.6, 2.5], [7.1, 7.1, 0.9, 13.5, 14.4, 6.2, 25.3]], columns=columns)
    table.index = pd.Index([0.5, 10.0], name="sigma")
    fine = SimpleNamespace(diagnosis=_diagnosis(True))
    posterior = {
        0.5: {"laplace": fine, "mcmc": fine},
        10.0: {
            "laplace": SimpleNamespace(diagnosis=_diagnosis(False, khat=0.63, shift_max=1.23)),
            "mcmc": SimpleNamespace(diagnosis=_diagnosis(False, divergences=53, r_hat_max=1.007)),
        },
    }
    axis = functions["plot_sweep"](table, posterior, 0.89).axes[0]
    notes = {text.get_text(): text.xy for text in axis.texts}
    assert notes == {"k-hat 0.63\nshift 1.23 sd": (9.0, 0.9), "53 divergences": (11.0, 25.3)}  # below, above
    markers = [line for line in axis.lines if line.get_marker() in ("^", "D")]
    hollow = [(line.get_marker(), line.get_xdata()[0]) for line in markers if line.get_markerfacecolor() == "white"]
    assert sorted(hollow) == [("D", 11.0), ("^", 9.0)]  # the two failing fits, at sigma 10 (offsets 0.9 and 1.1)
    assert axis.get_legend().get_texts()[-1].get_text() == "hollow: the fit fails its checks (what failed beside it)"


def test_the_tails_name_a_sampler_that_fails_its_checks(monkeypatch):
    functions = example("weakly_informative.py", monkeypatch)
    rng = np.random.default_rng(0)
    draws = {"Normal(2.5)": 4 + rng.standard_normal((2, 50)), "Cauchy(2.5)": 8 + np.abs(rng.standard_cauchy((2, 50)))}
    fits = {
        "Normal(2.5)": SimpleNamespace(diagnosis=_diagnosis(True)),
        "Cauchy(2.5)": SimpleNamespace(diagnosis=_diagnosis(False, divergences=116, r_hat_max=1.013)),
    }
    for label, fit in fits.items():
        fit.coef_draws = np.stack([np.zeros_like(draws[label]), draws[label]], axis=-1)[..., None]  # (2, 50, 2, 1)
    table = pd.DataFrame({"MAP slope": [3.6, 4.4]}, index=list(fits))
    axis = functions["plot_tails"](fits, table).axes[0]
    texts = [text.get_text() for text in axis.get_legend().get_texts()]
    assert texts[1].endswith("(MCMC fails its checks: 116 divergences, R-hat 1.013)") and "fails" not in texts[0]
    styles = {patch.get_label(): patch.get_linestyle() for patch in axis.patches}
    assert styles[texts[0]][1] is None and styles[texts[1]][1] is not None  # (offset, dashes): solid, dashed
