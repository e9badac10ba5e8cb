"""The reliability diagram: bins the rows can fill, curves that coincide named once, a legend off the data."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayeslogit as bl
from bayeslogit.fits.statistics.calibration import calibration_bins, expected_calibration_error
from bayeslogit.plots import plot_calibration
from bayeslogit.plots.style import trouble_note
from bayeslogit.surface.compare import compare


def model_of(n: int, seed: int, slope: float = 1.5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame({"x": x, "y": (rng.random(n) < expit(slope * x)).astype(int)})
    return bl.LogisticModel.from_formula("y ~ x", frame)


def by_gid(ax, gid: str) -> list:
    return [artist for artist in ax.get_children() if artist.get_gid() == gid]


def footnote(fig) -> str:
    return " ".join(fig.get_supxlabel().split())


def test_fewer_rows_than_two_bins_need_draw_no_curve_and_say_why():
    fig = plot_calibration(model_of(39, 1).fit_ml())
    diagram, counts = fig.axes
    assert len(diagram.lines) == len(diagram.collections) == len(fig.legends) == 0
    (note,) = by_gid(diagram, "too-few-rows")
    assert note.get_text() == "No curve: 39 rows, fewer than the 40\nthat two bins of 20 rows need"
    assert not counts.axison
    assert footnote(fig) == (
        "39 rows are too few for a reliability diagram, which needs 40 (20 in each of two bins) to show a curve. "
        "Evaluate on more rows, or compare the methods' log loss and Brier score."
    )


def test_the_bins_are_as_many_as_the_rows_fill_and_sparse_bins_are_left_out():
    model = model_of(100, 2)
    fit = model.fit_ml()
    fig = plot_calibration(fit)
    bins = calibration_bins(fit.predict_proba(), model.data.y, 5)  # 100 rows fill 5 bins of 20
    kept = bins[bins["weight"] >= 20]
    assert 0 < len(kept) < len(bins)  # equal-width bins: the tails hold fewer rows
    (line,) = by_gid(fig.axes[0], "ml-reliability")
    x, y = line.get_data()
    np.testing.assert_allclose(x[~np.isnan(x)], kept["confidence"], rtol=1e-12)
    np.testing.assert_allclose(y[~np.isnan(y)], kept["frequency"], rtol=1e-12)
    assert [bar.get_height() for bar in by_gid(fig.axes[1], "ml-counts")] == list(bins["weight"])
    sparse = bins[bins["weight"] < 20]
    ece = compare(fit).loc[("in-sample", "ece"), "ml"]  # over 10 bins, as the table reports it
    assert line.get_label() == f"ML (ECE {ece:.3f})"
    assert footnote(fig) == (
        "Bars: 89% Jeffreys intervals of each bin's frequency. 5 bins, not 10: 100 rows fill 5 bins of 20 rows on "
        "average (the legend's ECE is over 10 bins, as compare reports it). Left out of the curves: "
        f"{len(sparse)} bin{'s' if len(sparse) > 1 else ''} of fewer than 20 rows ({sparse['weight'].sum():.0f} "
        "rows in all), whose frequency says little; the counts show them."
    )


def test_a_curve_is_broken_where_bins_between_were_left_out():
    model = model_of(300, 6, slope=8.0)  # nearly separated: the middle bins hold few rows
    fit = model.fit_ml()
    bins = calibration_bins(fit.predict_proba(), model.data.y, 10)
    kept = bins[bins["weight"] >= 20]
    assert np.diff(kept.index).max() > 1  # a bin left out between two drawn
    (line,) = by_gid(plot_calibration(fit).axes[0], "ml-reliability")
    x = line.get_xdata()
    segments = np.split(x, np.flatnonzero(np.isnan(x)))
    runs = np.split(kept["confidence"].to_numpy(), np.flatnonzero(np.diff(kept.index) > 1) + 1)
    assert len(segments) == len(runs)
    for segment, run in zip(segments, runs):  # a line through consecutive bins only
        np.testing.assert_allclose(segment[~np.isnan(segment)], run, rtol=1e-12)


def test_curves_that_coincide_are_one_curve_and_one_legend_entry():
    model = model_of(400, 3)
    fits = {"ml": model.fit_ml(), "map": model.fit_map(bl.Normal(1e4)), "map 0.1": model.fit_map(bl.Normal(0.1))}
    # A prior sd of 10,000 moves the predictions by far less than 0.005; one of 0.1 shrinks them towards 0.5.
    np.testing.assert_allclose(fits["map"].predict_proba(), fits["ml"].predict_proba(), atol=1e-5)
    fig = plot_calibration(fits)
    diagram = fig.axes[0]
    assert [line.get_gid() for line in diagram.lines[1:]] == ["ml+map-reliability", "map 0.1-reliability"]
    table = compare(fits).loc[("in-sample", "ece")]
    assert [text.get_text() for text in fig.legends[0].get_texts()] == [
        "perfect calibration",
        f"ML = MAP (ECE {table['ml']:.3f})",
        f"map 0.1 (ECE {table['map 0.1']:.3f})",
    ]
    assert diagram.get_legend() is None  # the one legend is the figure's, above the panels


def test_a_fit_that_fails_its_checks_is_named_with_its_trouble():
    model = model_of(60, 3, slope=10.0)  # nearly separated: a skewed posterior
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bl.ConvergenceWarning)  # the trouble itself is under test
        laplace = model.fit_laplace(bl.Normal(2.5), draws=1000, random_seed=0)
    note = trouble_note(laplace)
    assert note.startswith("k-hat ")
    (line,) = by_gid(plot_calibration({"laplace": laplace}).axes[0], "laplace-reliability")
    ece = expected_calibration_error(laplace.predict_proba(), model.data.y, 10)
    assert line.get_label() == f"Laplace ({note}) (ECE {ece:.3f})"


@pytest.mark.parametrize("rows", [40, 59])
def test_two_bins_from_forty_rows(rows):
    fig = plot_calibration(model_of(rows, 4).fit_ml())
    assert len(by_gid(fig.axes[1], "ml-counts")) <= 2
    assert f"2 bins, not 10: {rows} rows fill 2 bins of 20 rows on average" in footnote(fig)
