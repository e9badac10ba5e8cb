"""Plots: what was drawn (coordinates, contours, legends), checked against the numbers it stands for."""

import subprocess
import sys
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.contour import ContourSet
from PIL import Image
from scipy import stats
from scipy.special import expit

import bayeslogit as bl
from bayeslogit.fits.statistics.calibration import calibration_bins
from bayeslogit.plots import animate_optimization, plot_boundary, plot_calibration, plot_coef
from bayeslogit.plots.style import trouble_note
from bayeslogit.surface.compare import compare

PRIOR = bl.Normal(2.5)


@pytest.fixture(scope="module")
def wells_fits(wells_split_fits):
    """Wells fitted every way on 75% of its rows; the plots draw those rows."""
    return wells_split_fits[0]


@pytest.fixture(scope="module")
def iris_fits():
    model = bl.LogisticModel.from_formula("species ~ petal_length + petal_width", bl.datasets.load_iris())
    with pytest.warns(bl.ConvergenceWarning, match="the Laplace approximation may be poor here"):
        return model.fit_all(PRIOR, random_seed=0, draws=1000, chains=1, methods=("ml", "map", "laplace"))


@pytest.fixture(scope="module")
def challenger_fits():
    model = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())
    skewed = r"Pareto k-hat = 0\.\d\d ± 0\.\d\d, within its noise of 0\.7"  # a skewed posterior
    with pytest.warns(bl.ConvergenceWarning, match=skewed):
        return model.fit_all(PRIOR, random_seed=0, draws=4000, chains=1, methods=("ml", "map", "laplace"))


def by_gid(ax, gid: str) -> list:
    return [artist for artist in ax.get_children() if artist.get_gid() == gid]


def legend_texts(legend) -> list[str]:
    return [text.get_text() for text in legend.get_texts()]


def contour_sets(ax, levels) -> list:
    return [c for c in ax.collections if isinstance(c, ContourSet) and list(c.levels) == list(levels)]


def points_of(ax) -> dict:
    """Class code -> (n, 2) coordinates of the rows drawn, over the interleaved batches."""
    batches = {}
    for artist in ax.collections:
        gid = artist.get_gid() or ""
        if gid.startswith("points-"):
            batches.setdefault(int(gid.split("-")[1]), []).append(artist)
    return {k: np.concatenate([a.get_offsets() for a in found]) for k, found in batches.items()}


def test_wells_lines_bands_and_surface(wells_fits):
    fig = plot_boundary(wells_fits, ci_prob=0.94, ci_kind="hdi")
    main, sd_panel = fig.axes[:2]
    assert (main.get_xlabel(), main.get_ylabel()) == ("dist100 (100 m)", "arsenic (100 µg/L)")  # the data's units
    assert main.get_title() == "Where each method puts Pr(switched = 1) = 0.5"
    for method in ("ml", "map"):
        (line,) = by_gid(main, f"{method}-boundary")
        b = wells_fits[method].boundary()
        x, y = line.get_data()
        np.testing.assert_allclose(y, b.intercept + b.slope * x, rtol=1e-12, atol=1e-12)
    draws = by_gid(main, "mcmc-draw")
    assert len(draws) == 20
    posterior = wells_fits["mcmc"].boundary().variables
    slopes, intercepts = posterior["slope"].ravel(), posterior["intercept"].ravel()
    for line in draws:  # each thin line is the boundary of one posterior draw
        x, y = line.get_data()
        slope = (y[-1] - y[0]) / (x[-1] - x[0])
        i = np.argmin(abs(slopes - slope))
        np.testing.assert_allclose(y, intercepts[i] + slopes[i] * x, rtol=1e-10)
    # Draw lines are thin and of their own colour, apart from the MCMC band's.
    assert {line.get_linewidth() for line in draws} == {0.5}
    assert {line.get_color() for line in draws} == {"#882255"}
    for method in ("laplace", "mcmc"):  # both bands filled, light, with an edge in the method's full colour
        (band,) = by_gid(main, f"{method}-band")
        assert isinstance(band, PolyCollection)
        assert band.get_facecolor()[0][3] == pytest.approx(0.15) and band.get_edgecolor()[0][3] == 1.0
    # Uncertainty grows away from the data: the MCMC band is wider at the right edge than at the data's mean.
    vertices = by_gid(main, "mcmc-band")[0].get_paths()[0].vertices
    x_mean = wells_fits["mcmc"].model.data.X[:, 0].mean()
    x_edge = vertices[:, 0].max()
    near_mean, right_edge = (np.ptp(vertices[np.abs(vertices[:, 0] - x) < 0.02, 1]) for x in (x_mean, x_edge))
    assert right_edge > 3 * near_mean
    (half,) = contour_sets(main, [0.5])
    points = np.concatenate([path.vertices for path in half.get_paths()])
    mean, _ = wells_fits["mcmc"].predictive_moments(points, max_draws=400)
    np.testing.assert_allclose(mean[:, 1], 0.5, atol=1e-3)  # linear interpolation on a 150 x 150 grid
    # The posterior mean contour is drawn above the ML and MAP lines, which are above the bands and draws.
    (ml_line,), (map_line,) = by_gid(main, "ml-boundary"), by_gid(main, "map-boundary")
    assert half.get_zorder() > map_line.get_zorder() > ml_line.get_zorder() > draws[0].get_zorder() > 2
    assert ml_line.get_linewidth() > map_line.get_linewidth()  # ML shows around MAP where they coincide
    # 2,265 rows in small translucent points, the classes interleaved in 12 batches each, above the bands.
    batches = [c for c in main.collections if (c.get_gid() or "").startswith("points-")]
    assert len(batches) == 24 and [c.get_gid() for c in batches[:4]] == ["points-0", "points-1"] * 2
    assert {c.get_alpha() for c in batches} == {0.55} and {c.get_sizes()[0] for c in batches} == {9}
    assert min(c.get_zorder() for c in batches) > max(c.get_zorder() for c in draws + by_gid(main, "mcmc-band"))
    drawn = points_of(main)
    assert sum(len(v) for v in drawn.values()) == len(wells_fits["ml"].model.data.y)
    assert set(legend_texts(main.get_legend())) == {
        "switched = 0",
        "switched = 1",
        "ML boundary",
        "MAP boundary",
        "Laplace 94% HDI of the boundary",
        "MCMC 94% HDI of the boundary",
        "MCMC boundary of 20 posterior draws",
        "posterior mean Pr(switched = 1) (MCMC) = 0.5",
    }
    assert sd_panel.get_title() == "Posterior uncertainty of Pr(switched = 1): MCMC"
    assert len(contour_sets(sd_panel, [0.5])) == 1


def test_iris_regions_contours_band_and_class_vectors(iris_fits):
    fig = plot_boundary(iris_fits, ci_prob=0.9)
    panels = fig.axes[:2]
    assert [p.get_title() for p in panels] == [
        "MAP: most probable class (probabilities)",
        f"Laplace ({trouble_note(iris_fits['laplace'])}): most probable class (posterior mean probabilities)",
    ]
    map_fit = iris_fits["map"]
    for panel, method in zip(panels, ("map", "laplace")):
        ties = contour_sets(panel, [0.0])
        assert len(ties) == 3  # one region edge per class
        assert len(by_gid(panel, f"{method}-regions")) == 1
        (confidence,) = by_gid(panel, f"{method}-confidence")
        assert list(confidence.levels) == [0.75, 0.95]
        # Points in their class's colour with a dark edge, over light regions.
        for k, color in enumerate(("#56B4E9", "#E69F00", "#CC79A7")):
            batch = next(c for c in panel.collections if c.get_gid() == f"points-{k}")
            np.testing.assert_allclose(batch.get_facecolor()[0][:3], to_rgb(color))
            np.testing.assert_allclose(batch.get_edgecolor()[0][:3], 0.0)
        region = by_gid(panel, f"{method}-regions")[0].get_array()
        assert region.min() >= 0.69  # every region colour is 70% white or lighter
        (inset,) = [a for a in panel.child_axes if a.get_gid() == f"{method}-vectors"]
        assert sorted(t.get_text() for t in inset.texts if t.get_text()) == ["setosa", "versicolor", "virginica"]
    (band,) = by_gid(panels[1], "laplace-band")  # the posterior fit's band of the region edges
    assert list(band.levels) == [0.0, 0.95]
    assert not by_gid(panels[0], "map-band")
    for k, contour in enumerate(contour_sets(panels[0], [0.0])):  # on class k's edge, k ties with the best other
        points = np.concatenate([path.vertices for path in contour.get_paths()])
        proba = map_fit.predict_proba(pd.DataFrame(points, columns=["petal_length", "petal_width"]))
        best_other = np.delete(proba, k, axis=1).max(axis=1)
        np.testing.assert_allclose(proba[:, k], best_other, atol=2e-3)
    assert set(legend_texts(fig.legends[0])) == {
        "species = setosa",
        "species = versicolor",
        "species = virginica",
        "decision boundary (most probable class changes)",
        "Pr(most probable class) = 0.75 and 0.95",
        "90% band of the boundaries (posterior fits)",
    }
    assert len(fig.axes) == 2  # no colour bar
    assert "ML not shown: SeparationError: maximum likelihood does not exist" in fig.get_supxlabel()
    assert (  # at ci_prob 0.9, a class is the most probable one in at least (1 + 0.9) / 2 of the draws
        "Grey band (90%): where fewer than 95.0% of the posterior draws agree on the most probable class; outside "
        "it, at least 95.0% of them agree."
    ) in " ".join(fig.get_supxlabel().split())


def strip_numbers(strip) -> list[str]:
    """The thresholds' numbers, written right of the strip."""
    (right,) = [a for a in strip.child_axes if a.get_gid() == "threshold-numbers"]
    return [t.get_text() for t in right.get_yticklabels()]


def test_challenger_curves_threshold_strip_and_range(challenger_fits):
    fig = plot_boundary(challenger_fits, ci_prob=0.94, ci_kind="hdi", ranges={"temp": (30, 82)})
    ax, strip = fig.axes[:2]
    assert (strip.get_xlabel(), ax.get_ylabel()) == ("temp (°F)", "Pr(damaged = 1)")
    assert ax.get_xlim() == strip.get_xlim() == (30, 82)  # the curves reach the 31 F of the launch
    for method in ("ml", "map"):
        c0, c1 = challenger_fits[method].params[:, 0]
        (curve,) = by_gid(ax, f"{method}-curve")
        x, y = curve.get_data()
        assert x[0] == 30 and x[-1] == 82
        np.testing.assert_allclose(y, expit(c0 + c1 * x), rtol=1e-12)
        (threshold,) = by_gid(strip, f"{method}-threshold")
        assert threshold.get_xdata()[0] == pytest.approx(-c0 / c1, rel=1e-12)
    row = challenger_fits["laplace"].boundary().summary(ci_prob=0.94, ci_kind="hdi").loc["threshold"]
    laplace = f"median {row['median']:.4g}, 94% HDI [{row['hdi94_lb']:.4g}, {row['hdi94_ub']:.4g}]"
    points = [challenger_fits[m].boundary().summary(ci_prob=0.94).loc["threshold"] for m in ("ml", "map")]
    wald = [f"{p['estimate']:.4g}, 94% Wald interval [{p['wald94_lb']:.4g}, {p['wald94_ub']:.4g}]" for p in points]
    assert strip_numbers(strip) == [*wald, laplace]  # point fits with their delta-method interval
    assert [t.get_text() for t in strip.get_yticklabels()] == ["ML", "MAP", "Laplace"]
    (legend,) = fig.legends  # compact, above the panels, clear of the data
    assert legend._ncols == 4 and len(legend_texts(legend)) == 6 and ax.get_legend() is None


def test_without_an_intercept_every_threshold_is_at_zero(rng):
    x = rng.normal(size=60)
    model = bl.LogisticModel(x[:, None], rng.random(60) < expit(1.5 * x), feature_names=["x"], intercept=False)
    fits = model.fit_all(PRIOR, random_seed=0, draws=500, chains=1, methods=("ml", "map", "laplace"))
    ax, strip = plot_boundary(fits, ci_prob=0.94, ci_kind="hdi").axes[:2]
    (curve,) = by_gid(ax, "ml-curve")
    grid, proba = curve.get_data()
    np.testing.assert_allclose(proba, expit(fits["ml"].params[0, 0] * grid), rtol=1e-12)
    for method in ("ml", "map"):  # Pr = 1/2 where the linear predictor c x is 0
        (threshold,) = by_gid(strip, f"{method}-threshold")
        assert threshold.get_xdata()[0] == 0
    assert strip_numbers(strip)[2] == "median 0, 94% HDI [0, 0]"
    assert ax.get_ylabel() == "Pr(y = True)"


@pytest.fixture(scope="module")
def spline_fits():
    """Wells with a spline in distance and log arsenic: a curved boundary in the data's own variables."""
    data = bl.datasets.load_wells()
    model = bl.LogisticModel.from_formula("switched ~ bs(dist100, df=4) + np.log(arsenic) + educ", data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bl.ConvergenceWarning)  # k-hat is not under test here
        fits = model.fit_all(PRIOR, random_seed=0, draws=400, chains=1, methods=("ml", "map", "laplace"))
    return fits, data


def test_data_columns_draw_curved_boundaries_through_the_formula(spline_fits):
    fits, data = spline_fits
    fig = plot_boundary(
        fits, X=data, features=["dist100", "arsenic"], ranges={"dist100": (0.5, 3)}, ci_prob=0.9, grid_size=80
    )
    main = fig.axes[0]
    assert (main.get_xlabel(), main.get_ylabel()) == ("dist100 (100 m)", "arsenic (100 µg/L)")
    assert main.get_xlim() == (0.5, 3)
    educ = data["educ"].mean()
    assert f"Other predictors held fixed: educ at its mean {educ:.3g} yr." in fig.get_supxlabel()
    for method in ("ml", "map"):  # each point on a fit's contour has Pr = 0.5 through the formula
        (contour,) = by_gid(main, f"{method}-boundary")
        points = np.concatenate([path.vertices for path in contour.get_paths()])
        frame = pd.DataFrame({"dist100": points[:, 0], "arsenic": points[:, 1], "educ": educ})
        np.testing.assert_allclose(fits[method].predict_proba(frame)[:, 1], 0.5, atol=5e-3)  # linear interpolation
    # The band's edge: where the posterior probability that Pr > 0.5 is 0.05 or 0.95, so the winning class
    # wins in 95% of the draws. The share moves in steps of 1/400 and is interpolated linearly on an 80 x 80
    # grid, over cells across which it changes by up to 0.05 where the band is narrow.
    (edge,) = by_gid(main, "laplace-band-edge")
    points = np.concatenate([path.vertices for path in edge.get_paths()])
    frame = pd.DataFrame({"dist100": points[:, 0], "arsenic": points[:, 1], "educ": educ})
    laplace = fits["laplace"]
    design = laplace.model.design_matrix(frame)
    above = np.mean(
        [laplace.model.log_probabilities(B, design)[:, 1] > np.log(0.5) for B in laplace.pooled_draws()], axis=0
    )
    share = np.maximum(above, 1 - above)
    assert abs(np.median(share) - 0.95) < 0.01
    np.testing.assert_allclose(share, 0.95, atol=0.05)
    assert len(by_gid(main, "laplace-draw")) == 20
    drawn = points_of(main)  # the raw columns, not the spline's
    np.testing.assert_allclose(np.sort(np.concatenate(list(drawn.values()))[:, 0]), np.sort(data["dist100"]))
    assert "Laplace 90% band of the boundary" in legend_texts(main.get_legend())
    assert "Bands: where the posterior probability that Pr(switched = 1) > 0.5 is between 0.05 and 0.95" in (
        fig.get_supxlabel().replace("\n", " ")
    )


def test_one_data_column_through_a_quadratic_formula():
    data = bl.datasets.load_challenger()
    model = bl.LogisticModel.from_formula("damaged ~ temp + I(temp**2)", data)
    with pytest.warns(bl.ConvergenceWarning, match="Pareto k-hat"):  # 23 rows and a quadratic: a skewed posterior
        fits = {"map": model.fit_map(PRIOR), "laplace": model.fit_laplace(PRIOR, draws=400, random_seed=0)}
    # temp enters temp**2 too (holding that at its mean would draw another model), so temp is drawn through the
    # formula, from the rows the model kept; a data frame given as X draws the same curve.
    kept = plot_boundary(fits, features=["temp"], ranges={"temp": (30, 82)})
    fig = plot_boundary(fits, X=data, features=["temp"], ranges={"temp": (30, 82)})
    np.testing.assert_array_equal(
        by_gid(kept.axes[0], "map-curve")[0].get_ydata(), by_gid(fig.axes[0], "map-curve")[0].get_ydata()
    )
    ax, strip = fig.axes[:2]
    (curve,) = by_gid(ax, "map-curve")
    x, y = curve.get_data()
    np.testing.assert_allclose(y, fits["map"].predict_proba(pd.DataFrame({"temp": x}))[:, 1], rtol=1e-12)
    (crossings,) = by_gid(strip, "map-threshold")
    at = crossings.get_xdata()
    assert len(at) >= 1
    np.testing.assert_allclose(fits["map"].predict_proba(pd.DataFrame({"temp": at}))[:, 1], 0.5, atol=1e-3)
    assert fig.get_supxlabel() == ""  # nothing is held


def test_plane_misuse_is_explained(spline_fits, wells_fits):
    fits, data = spline_fits
    dask_frame = pytest.importorskip("dask.dataframe").from_pandas(data, npartitions=2)
    with pytest.raises(
        ValueError,
        match=r"pass the rows as a pandas data frame, X=data \(of dask data, an "
        r"in-memory sample\)",
    ):  # a dask model keeps no frame, and reads chunks
        plot_boundary(
            bl.LogisticModel.from_formula("switched ~ dist100 + I(dist100**2)", dask_frame).fit_ml(),
            X=dask_frame,
            y=dask_frame["switched"],
            features=["dist100"],
        )
    with pytest.raises(ValueError, match=r"features \['assoc'\] are not features of the model; choose from"):
        plot_boundary(fits["ml"], X=data, features=["dist100", "assoc"])
    with pytest.raises(
        ValueError,
        match=r"ranges\['dist100'\] must be \(low, high\) with finite low < high; "
        r"got \(3, 0\)",
    ):
        plot_boundary(fits["ml"], X=data, features=["dist100", "arsenic"], ranges={"dist100": (3, 0)})
    with pytest.raises(ValueError, match=r"ranges names \['educ'\], which are not plotted"):
        plot_boundary(wells_fits["ml"], ranges={"educ": (0, 1)})
    with pytest.raises(
        bl.DataError,
        match=r"The plot's grid spans dist100 in \[0, 3\], arsenic in \[0.51, 9.65\]: "
        r"keep `ranges` within the data",
    ):  # a spline refuses to extrapolate
        plot_boundary(fits["ml"], X=data, features=["dist100", "arsenic"], ranges={"dist100": (0, 3)})


def test_coefficient_forest_shows_estimates_and_two_intervals(wells_fits):
    fig = plot_coef(wells_fits, ci_prob=0.94, ci_kind="hdi")
    labels = ["Intercept", "dist100 (per 100 m)", "arsenic (per 100 µg/L)"]  # a slope is per unit of its column
    assert [ax.get_title(loc="left") for ax in fig.axes[:3]] == labels
    ml, mcmc = wells_fits["ml"], wells_fits["mcmc"]
    for j, ax in enumerate(fig.axes[:3]):
        (marker,) = by_gid(ax, "ml-estimate")
        assert marker.get_xdata()[0] == ml.params[j, 0]
        for gid, prob in (("ml-interval", 0.94), ("ml-inner", 0.5)):
            (interval,) = by_gid(ax, gid)
            z = stats.norm.ppf(0.5 + prob / 2)
            np.testing.assert_allclose(
                interval.get_xdata(), ml.params[j, 0] + np.array([-z, z]) * ml.se.iloc[j], rtol=1e-12
            )
        draws = mcmc.pooled_draws()[:, j, 0]
        for gid, low_share, high_share in (("mcmc-interval", 0.935, 0.945), ("mcmc-inner", 0.49, 0.51)):
            (posterior,) = by_gid(ax, gid)
            low, high = posterior.get_xdata()
            assert low_share <= np.mean((draws >= low) & (draws <= high)) <= high_share  # an HDI's share of draws
        lines = [a for a in ax.lines if (a.get_gid() or "").endswith(("-interval", "-inner"))]
        assert {line.get_linestyle() for line in lines} == {"-"}  # solid: no interval reads as broken
        assert by_gid(ax, "mcmc-inner")[0].get_linewidth() > by_gid(ax, "mcmc-interval")[0].get_linewidth()
        ends = np.concatenate([line.get_xdata() for line in lines])
        low, high = ax.get_xlim()
        assert low < ends.min() - 0.05 * (high - low) and ends.max() + 0.05 * (high - low) < high
        assert [t.get_text() for t in ax.get_yticklabels()] == ["ML", "MAP", "Laplace", "MCMC"]
    assert legend_texts(fig.legends[0]) == [
        "ML: estimate, 50% and 94% Wald interval",
        "MAP: estimate, 50% and 94% Wald interval",
        "Laplace: posterior mean, 50% and 94% HDI",
        "MCMC: posterior mean, 50% and 94% HDI",
    ]


def test_multiclass_coefficients_name_the_reference_class(iris_fits):
    fig = plot_coef(iris_fits)
    assert fig.axes[1].get_title(loc="left") == (
        "petal_length[versicolor] (per cm): log-odds of versicolor against setosa (reference)"
    )
    assert fig.axes[5].get_title(loc="left") == (
        "petal_width[virginica] (per cm): log-odds of virginica against setosa (reference)"
    )


def test_reliability_diagram_matches_the_bins_and_compare(wells_fits):
    fig = plot_calibration(wells_fits, ci_prob=0.9)
    diagram = fig.axes[0]
    table = compare(wells_fits)
    model = wells_fits["ml"].model
    bins = {m: calibration_bins(fit.predict_proba(), model.data.y) for m, fit in wells_fits.items()}
    kept = {m: b[b["weight"] >= 20] for m, b in bins.items()}  # bins of fewer than 20 rows are left out
    # ML and MAP (Normal(2.5) on 2,265 rows) agree to within 0.005 in every bin: one curve, one legend entry.
    np.testing.assert_allclose(kept["map"].iloc[:, :2], kept["ml"].iloc[:, :2], atol=0.005, rtol=0)
    (line,) = by_gid(diagram, "ml+map-reliability")
    np.testing.assert_allclose(line.get_xdata(), kept["ml"]["confidence"], rtol=1e-12)
    np.testing.assert_allclose(line.get_ydata(), kept["ml"]["frequency"], rtol=1e-12)
    assert not line.get_clip_on()
    ece = {m: f"{table.loc[('in-sample', 'ece'), m]:.3f}" for m in wells_fits}
    assert ece["ml"] == ece["map"]
    assert line.get_label() == f"ML = MAP (ECE {ece['ml']})"
    groups = [a.get_gid().removesuffix("-reliability").split("+") for a in diagram.lines if a.get_gid()]
    assert sorted(m for group in groups for m in group) == sorted(wells_fits)  # each method on one curve
    # Jeffreys intervals: the 5% and 95% quantiles of Beta(s + 1/2, n - s + 1/2) for s hits in n rows.
    (bars,) = [c for c in diagram.collections if c.get_gid() == "ml+map-interval"]
    hits, rows = kept["ml"]["frequency"] * kept["ml"]["weight"], kept["ml"]["weight"]
    ends = np.array([segment[:, 1] for segment in bars.get_segments()])
    np.testing.assert_allclose(ends[:, 0], stats.beta.ppf(0.05, hits + 0.5, rows - hits + 0.5), rtol=1e-9)
    np.testing.assert_allclose(ends[:, 1], stats.beta.ppf(0.95, hits + 0.5, rows - hits + 0.5), rtol=1e-9)
    counts = by_gid(fig.axes[1], "ml+map-counts")  # every non-empty bin's rows, the sparse ones too
    assert [bar.get_height() for bar in counts] == list(bins["ml"]["weight"])
    assert diagram.get_xlim() == diagram.get_ylim() == (-0.03, 1.03)  # markers at 0 and 1 are not cut
    assert diagram.get_title() == f"Reliability diagram (in-sample, {len(model.data.y)} rows)"
    assert diagram.get_xlabel() == "predicted Pr(switched = 1)"
    assert diagram.get_legend() is None and len(fig.legends) == 1  # above the panels, off the data
    sparse = bins["ml"][bins["ml"]["weight"] < 20]
    assert fig.get_supxlabel().replace("\n", " ") == (
        "Bars: 90% Jeffreys intervals of each bin's frequency. Left out of the curves: "
        f"{len(sparse)} bins of fewer than 20 rows ({sparse['weight'].sum():.0f} rows in all), whose frequency says "
        "little; the counts show them."
    )


def test_multiclass_confidence_axis_starts_at_one_over_k(iris_fits):
    diagram = plot_calibration(iris_fits).axes[0]
    assert diagram.get_xlim() == pytest.approx((1 / 3 - 0.03, 1.03))
    assert diagram.get_xlabel() == "confidence: Pr(predicted class)"


def test_trace_and_rank_plots_are_arviz_plots_of_the_chains(wells_fits):
    mcmc = wells_fits["mcmc"]
    fig = bl.plot_trace(mcmc)
    traces = [line for ax in fig.axes for line in ax.lines if len(line.get_xdata()) == mcmc.n_draws]
    assert len(traces) == 3 * 2  # a line per chain for each of the 3 coefficients
    values = np.sort(np.concatenate([line.get_ydata() for line in traces]))
    np.testing.assert_allclose(values, np.sort(mcmc.pooled_draws()[:, :, 0].ravel()), rtol=1e-12)
    # each panel titled by its coefficient on one line (a second line would run into the row above)
    assert [ax.get_title() for ax in fig.axes] == list(mcmc.model.coef_names)
    assert len(bl.plot_rank(mcmc).axes) == 3
    with pytest.raises(
        TypeError,
        match=r"plot_trace shows Markov chains, so it needs an MCMC fit "
        r"\(model.fit_mcmc\(prior\)\); got a 'map' fit",
    ):
        bl.plot_trace(wells_fits["map"])


def test_animation_shows_newton_far_ahead_of_gradient_descent(tmp_path):
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())
    result = animate_optimization(model, path=tmp_path / "learning.gif", max_frames=6, dpi=40)
    assert result.n_iter["newton"] < 10
    assert result.n_iter["gradient_descent"] > 5 * result.n_iter["newton"]
    final = {m: h[-1].objective for m, h in result.iterations.items()}
    assert final["gradient_descent"] == pytest.approx(final["newton"], abs=1e-6)  # both reach the ML optimum
    with Image.open(result.path) as gif:
        assert gif.n_frames == len(result.frames) > 1
    assert result.frames[0] == 0 and result.frames[-1] == result.n_iter["gradient_descent"]


def test_animation_reports_non_convergence_instead_of_warning(tmp_path):
    model = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = animate_optimization(model, path=tmp_path / "challenger.gif", max_iter=200, max_frames=4, dpi=40)
    assert not [w for w in caught if issubclass(w.category, bl.ConvergenceWarning)]
    assert result.messages["gradient_descent"].startswith("Steepest descent did not converge in 200 iterations")
    assert result.messages["newton"] is None
    objectives = [iteration.objective for iteration in result.iterations["gradient_descent"]]
    assert objectives[-1] - result.results["newton"].value > 1  # far from the minimum, and still falling:
    assert result.outcomes == {
        "gradient_descent": f"stopped at the 200-step limit, still falling ({objectives[-2] - objectives[-1]:.1e} in "
        "its last step)",
        "newton": "converged in 6 steps",
    }
    with pytest.raises(ValueError, match=r"`path` must end in .gif or .mp4; got 'x.png'"):
        animate_optimization(model, path=tmp_path / "x.png")
    with pytest.raises(
        TypeError,
        match=r"prior must be bl.Normal, bl.StudentT or bl.Cauchy, e.g. "
        r"bl.Normal\(2.5\); got float",
    ):
        animate_optimization(model, path=tmp_path / "x.gif", prior=2.5)
    with pytest.raises(ValueError, match="`max_iter` must be an integer >= 1; got 0"):
        animate_optimization(model, path=tmp_path / "x.gif", max_iter=0)
    assert not (tmp_path / "x.gif").exists()
    assert repr(result) == (
        f"OptimizationAnimation({str(result.path)!r}, 4 frames; gradient_descent 200 steps, newton 6 steps)"
    )


def test_wrong_number_of_axes_is_explained(wells_fits):
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"this plot has 2 panel\(s\), so `ax` must hold 2 axes; got 1"):
        plot_boundary(wells_fits, ax=ax)


def test_importing_the_package_does_not_import_plotting_sampling_or_statistics_libraries():
    code = (
        "import sys, bayeslogit, bayeslogit.plots, bayeslogit.surface.compare, bayeslogit.fits.statistics.boundary; "
        "print([m for m in ('matplotlib', 'arviz', 'arviz_stats', 'pymc', 'pytensor', 'scipy.stats') "
        "if m in sys.modules])"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
