"""Plots: what was drawn (coordinates, contours, legends), checked against the numbers it stands for."""

import subprocess
import sys
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.contour import ContourSet
from PIL import Image
from scipy import stats
from scipy.special import expit

import bayeslogit as bl
from bayeslogit.compare import calibration_bins, compare
from bayeslogit.plots import animate_optimization, plot_boundary, plot_calibration, plot_coef

PRIOR = bl.Normal(2.5)


@pytest.fixture(scope="module")
def wells_fits(wells_split_fits):
    """Wells fitted every way on 75% of its rows; the plots draw those rows."""
    return wells_split_fits[0]


@pytest.fixture(scope="module")
def iris_fits():
    model = bl.LogisticModel.from_formula("species ~ petal_length + petal_width", bl.datasets.load_iris())
    return model.fit_all(PRIOR, random_seed=0, draws=1000, chains=1, methods=("ml", "map", "laplace"))


@pytest.fixture(scope="module")
def challenger_fits():
    model = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())
    with pytest.warns(bl.ConvergenceWarning, match=r"Pareto k-hat = 0\.75 > 0\.7"):  # a skewed posterior
        return model.fit_all(PRIOR, random_seed=0, draws=4000, chains=1, methods=("ml", "map", "laplace"))


def by_gid(ax, gid: str) -> list:
    return [artist for artist in ax.get_children() if artist.get_gid() == gid]


def legend_texts(legend) -> list[str]:
    return [text.get_text() for text in legend.get_texts()]


def contour_sets(ax, levels) -> list:
    return [c for c in ax.collections if isinstance(c, ContourSet) and list(c.levels) == list(levels)]


def test_wells_lines_bands_and_surface(wells_fits):
    fig = plot_boundary(wells_fits, ci_prob=0.94, ci_kind="hdi")
    main, sd_panel = fig.axes[:2]
    assert (main.get_xlabel(), main.get_ylabel()) == ("dist100", "arsenic")
    assert main.get_title() == "Where each method puts Pr(switched = 1) = 0.5"
    for method in ("ml", "map"):
        (line,) = by_gid(main, f"{method}-boundary")
        b = wells_fits[method].boundary()
        x, y = line.get_data()
        np.testing.assert_allclose(y, b.intercept + b.slope * x, rtol=1e-12, atol=1e-12)
    draws = by_gid(main, "mcmc-draw")
    assert len(draws) == 40
    posterior = wells_fits["mcmc"].boundary().variables
    slopes, intercepts = posterior["slope"].ravel(), posterior["intercept"].ravel()
    for line in draws:  # each spaghetti line is the boundary of one posterior draw
        x, y = line.get_data()
        slope = (y[-1] - y[0]) / (x[-1] - x[0])
        i = np.argmin(abs(slopes - slope))
        np.testing.assert_allclose(y, intercepts[i] + slopes[i] * x, rtol=1e-10)
    for method in ("laplace", "mcmc"):
        (band,) = by_gid(main, f"{method}-band")
        assert isinstance(band, PolyCollection)
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
    assert set(legend_texts(main.get_legend())) == {
        "switched = 0", "switched = 1", "ML boundary", "MAP boundary", "Laplace 94% HDI of the boundary",
        "MCMC 94% HDI of the boundary", "MCMC boundary of 40 posterior draws",
        "posterior mean Pr(switched = 1) (MCMC) = 0.5"}
    assert sd_panel.get_title() == "Posterior uncertainty of Pr(switched = 1) (MCMC)"
    assert len(contour_sets(sd_panel, [0.5])) == 1


def test_iris_regions_contours_and_class_vectors(iris_fits):
    fig = plot_boundary(iris_fits)
    panels = fig.axes[:2]
    assert [p.get_title() for p in panels] == [
        "MAP: most probable class (argmax of probabilities)",
        "Laplace: most probable class (argmax of posterior mean probabilities)"]
    map_fit = iris_fits["map"]
    for panel in panels:
        ties = contour_sets(panel, [0.0])
        assert len(ties) == 3  # one region edge per class
        assert len(by_gid(panel, f"{'map' if panel is panels[0] else 'laplace'}-regions")) == 1
        labels = sorted(t.get_text() for t in panel.texts if t.get_text())  # the arrows are empty annotations
        assert labels == [r"$\theta$[setosa]", r"$\theta$[versicolor]", r"$\theta$[virginica]"]
    for k, contour in enumerate(contour_sets(panels[0], [0.0])):  # on class k's edge, k ties with the best other
        points = np.concatenate([path.vertices for path in contour.get_paths()])
        proba = map_fit.predict_proba(pd.DataFrame(points, columns=["petal_length", "petal_width"]))
        best_other = np.delete(proba, k, axis=1).max(axis=1)
        np.testing.assert_allclose(proba[:, k], best_other, atol=2e-3)
    assert set(legend_texts(fig.legends[0])) == {
        "species = setosa", "species = versicolor", "species = virginica",
        r"class vector $\theta_k$ (centred; a point goes to the largest $\theta_k \cdot x$)",
        "decision boundary (probabilities tie)"}
    assert "ML not shown: SeparationError: maximum likelihood does not exist" in fig.get_supxlabel()


def test_challenger_curves_and_threshold_hdi(challenger_fits):
    fig = plot_boundary(challenger_fits, ci_prob=0.94, ci_kind="hdi")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("temp", "Pr(damaged = 1)")
    for method in ("ml", "map"):
        c0, c1 = challenger_fits[method].params[:, 0]
        (curve,) = by_gid(ax, f"{method}-curve")
        x, y = curve.get_data()
        np.testing.assert_allclose(y, expit(c0 + c1 * x), rtol=1e-12)
        (threshold,) = by_gid(ax, f"{method}-threshold")
        assert threshold.get_xdata()[0] == pytest.approx(-c0 / c1, rel=1e-12)
    row = challenger_fits["laplace"].boundary().summary(ci_prob=0.94, ci_kind="hdi").loc["threshold"]
    label = (f"Laplace threshold: median {row['median']:.4g}, 94% HDI "
             f"[{row['hdi94_lb']:.4g}, {row['hdi94_ub']:.4g}]")
    assert label in legend_texts(ax.get_legend())


def test_without_an_intercept_every_threshold_is_at_zero(rng):
    x = rng.normal(size=60)
    model = bl.LogisticModel(x[:, None], rng.random(60) < expit(1.5 * x), feature_names=["x"], intercept=False)
    fits = model.fit_all(PRIOR, random_seed=0, draws=500, chains=1, methods=("ml", "map", "laplace"))
    ax = plot_boundary(fits, ci_prob=0.94, ci_kind="hdi").axes[0]
    (curve,) = by_gid(ax, "ml-curve")
    grid, proba = curve.get_data()
    np.testing.assert_allclose(proba, expit(fits["ml"].params[0, 0] * grid), rtol=1e-12)
    for method in ("ml", "map"):  # Pr = 1/2 where the linear predictor c x is 0
        (threshold,) = by_gid(ax, f"{method}-threshold")
        assert threshold.get_xdata()[0] == 0
    assert "Laplace threshold: median 0, 94% HDI [0, 0]" in legend_texts(ax.get_legend())
    assert ax.get_ylabel() == "Pr(y = True)"


def test_more_features_are_held_at_their_means():
    data = bl.datasets.load_wells()
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic + educ", data)
    fit = model.fit_ml()
    with pytest.raises(ValueError, match=r"pick 1 or 2 to plot with features=\[...\]"):
        plot_boundary(fit)
    fig = plot_boundary(fit, features=["dist100", "arsenic"])
    c0, c1, c2, c3 = fit.params[:, 0]
    (line,) = by_gid(fig.axes[0], "ml-boundary")
    x, y = line.get_data()
    np.testing.assert_allclose(y, -(c0 + c3 * data["educ"].mean() + c1 * x) / c2, rtol=1e-12)
    assert f"Other features held at their means: educ = {data['educ'].mean():.3g}." in fig.get_supxlabel()


def test_coefficient_forest_shows_estimates_and_intervals(wells_fits):
    fig = plot_coef(wells_fits, ci_prob=0.94, ci_kind="hdi")
    labels = ["Intercept", "dist100", "arsenic"]
    assert [ax.get_title(loc="left") for ax in fig.axes[:3]] == labels
    ml, mcmc = wells_fits["ml"], wells_fits["mcmc"]
    z = stats.norm.ppf(0.97)
    for j, ax in enumerate(fig.axes[:3]):
        (marker,) = by_gid(ax, "ml-estimate")
        assert marker.get_xdata()[0] == ml.params[j, 0]
        (interval,) = by_gid(ax, "ml-interval")
        wald = ml.params[j, 0] + np.array([-z, z]) * ml.se.iloc[j]
        np.testing.assert_allclose(interval.get_xdata(), wald, rtol=1e-12)
        (posterior,) = by_gid(ax, "mcmc-interval")
        low, high = posterior.get_xdata()
        draws = mcmc.pooled_draws()[:, j, 0]
        assert 0.935 <= np.mean((draws >= low) & (draws <= high)) <= 0.945  # an HDI holds 94% of the draws
        assert [t.get_text() for t in ax.get_yticklabels()] == ["ML", "MAP", "Laplace", "MCMC"]
    assert legend_texts(fig.legends[0]) == ["ML: estimate, 94% Wald interval", "MAP: estimate, 94% Wald interval",
                                            "Laplace: posterior mean, 94% HDI", "MCMC: posterior mean, 94% HDI"]


def test_reliability_diagram_matches_the_bins_and_compare(wells_fits):
    fig = plot_calibration(wells_fits)
    diagram = fig.axes[0]
    table = compare({m: wells_fits[m] for m in ("ml", "map")})
    model = wells_fits["ml"].model
    for method in ("ml", "map"):
        (line,) = by_gid(diagram, f"{method}-reliability")
        p1 = wells_fits[method].predict_proba()
        bins = calibration_bins(np.column_stack([1 - p1, p1]), model.data.y)
        np.testing.assert_allclose(line.get_xdata(), bins["confidence"], rtol=1e-12)
        np.testing.assert_allclose(line.get_ydata(), bins["frequency"], rtol=1e-12)
        label = f"{method.upper()} (ECE {table.loc[('in-sample', 'ece'), method]:.3f})"
        assert label in legend_texts(diagram.get_legend())
    assert diagram.get_title() == f"Reliability diagram (in-sample, {len(model.data.y)} rows)"
    assert diagram.get_xlabel() == "predicted Pr(switched = 1)"


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
    with pytest.raises(ValueError, match=r"`path` must end in .gif or .mp4; got 'x.png'"):
        animate_optimization(model, path=tmp_path / "x.png")
    with pytest.raises(TypeError, match=r"prior must be a bl.Normal, e.g. bl.Normal\(sigma=2.5\); got float"):
        animate_optimization(model, path=tmp_path / "x.gif", prior=2.5)
    with pytest.raises(ValueError, match="`max_iter` must be an integer >= 1; got 0"):
        animate_optimization(model, path=tmp_path / "x.gif", max_iter=0)
    assert not (tmp_path / "x.gif").exists()
    assert repr(result) == (f"OptimizationAnimation({str(result.path)!r}, 4 frames; gradient_descent 200 steps, "
                            "newton 6 steps)")


def test_wrong_number_of_axes_is_explained(wells_fits):
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"this plot has 2 panel\(s\), so `ax` must hold 2 axes; got 1"):
        plot_boundary(wells_fits, ax=ax)


def test_importing_the_package_does_not_import_plotting_sampling_or_statistics_libraries():
    code = ("import sys, bayeslogit, bayeslogit.plots, bayeslogit.compare, bayeslogit.fits.boundary; print([m for m in "
            "('matplotlib', 'arviz', 'arviz_stats', 'pymc', 'pytensor', 'scipy.stats') if m in sys.modules])")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
