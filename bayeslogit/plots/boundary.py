"""Decision boundaries of several fits of one model, drawn over the data.

matplotlib is imported inside the functions, so that importing bayeslogit does not import it. A plot is drawn
in a :class:`~bayeslogit.plots.boundary_plane.Plane`: features of the design (straight boundaries) or, for formula
models, columns of the data pushed through the formula (curved boundaries).
"""

import numpy as np
import pandas as pd

from bayeslogit.exceptions import OptionError
from bayeslogit.fits.statistics import intervals
from bayeslogit.fits.statistics.boundary import boundary_quantities, slice_directions
from bayeslogit.numerics import predictive
from bayeslogit.numerics.design import Design
from bayeslogit.plots.boundary_curves import draw_curves
from bayeslogit.plots.boundary_plane import make_plane
from bayeslogit.plots.boundary_regions import draw_regions
from bayeslogit.plots.boundary_scene import JITTER, Scene, jitter_lattice, points_look, scatter_classes, winner_share
from bayeslogit.plots.fonts import draw_names
from bayeslogit.plots.style import (
    CLASS_COLORS,
    DRAW_COLOR,
    MAX_SURFACE_DRAWS,
    add_footnote,
    interval_band,
    interval_label,
    line_look,
    new_axes,
    plot_units,
    style,
)
from bayeslogit.surface.compare import collect_fits


def plot_boundary(
    fits,
    X=None,
    y=None,
    ax=None,
    features=None,
    *,
    ranges: dict | None = None,
    units: dict | None = None,
    ci_prob: float | None = None,
    ci_kind: str | None = None,
    n_lines: int = 20,
    grid_size: int = 150,
    random_seed=0,
):
    """Draw where the fits put the decision boundary, with the posterior's uncertainty about it.

    * Binary, two variables: the data by class; each point fit's boundary; for each posterior fit the
      ``ci_prob`` credible band of the boundary; for the MCMC fit (else the Laplace fit) the boundaries of
      ``n_lines`` posterior draws and the posterior mean of ``Pr(classes_[1])`` as a surface with its 0.5
      contour; a second panel shows that probability's posterior sd.
    * Binary, one variable: ``Pr(classes_[1])`` per method with credible bands, and below, in a strip, where
      each method puts the threshold ``Pr = 0.5`` with its uncertainty.
    * Multiclass, two variables: one panel per fit with the decision regions (the most probable class under
      the posterior mean probabilities), contours of that class's probability, the posterior band of the
      region edges, and (features of the design) the class vectors ``theta_k`` in an inset.

    The variables are features of the design (straight boundaries; the band of a line is the ``ci_kind``
    interval of its height at each abscissa) or, for a formula model, columns of its data frame, pushed
    through the formula (``bs(dist100, df=4)``, ``np.log(arsenic)``): boundaries are then the 0.5 contours of
    the probability over a grid, and the band of a posterior fit is where no class is the most probable one in
    at least ``(1 + ci_prob) / 2`` of the draws, i.e. for two classes where the posterior probability that
    ``Pr(classes_[1]) > 0.5`` lies between ``(1 - ci_prob) / 2`` and ``(1 + ci_prob) / 2`` (the equal-tailed
    interval of the probability contains 0.5, whatever ``ci_kind``). Predictors not drawn are held at their most
    frequent level (categorical and two-valued ones) or their mean (continuous ones), as the figure says under the
    panels (see :mod:`bayeslogit.plots.boundary_plane`). A fit whose computation did not pass its checks (MCMC
    divergences, a poor Pareto k-hat) is named with its trouble in the legend: ``"MCMC (53 divergences)"``.

    Parameters
    ----------
    fits : dict of str to fit, sequence of fits, or a fit
        Fits of one model, e.g. ``model.fit_all(prior)``; failed fits are named under the plot.
    X : array-like or DataFrame of shape (n_samples, n_features), optional
        Rows to draw (for formula models the raw data frame); default: the training data, whose data columns a
        formula model keeps (``model.data.frame``) to draw them.
    y : array-like of shape (n_samples,), optional
        Their class labels; default, for a data frame holding the formula's response, that column.
    ax : Axes or sequence of Axes, optional
        One per panel: two for a binary model with two variables and a posterior fit, and for one variable (the
        curves and the threshold strip); one per fit for a multiclass model; else one. Default: a new figure.
    features : str or sequence of str, optional
        The one (binary only) or two variables to draw, features of the model or columns of a formula model's
        data. Default: the model's features when it has one or two, else the two continuous predictors with the
        largest standardised effect (``|coef| x sd``) in the first fit, as the figure says.
    ranges : dict of str to (float, float), optional
        Extent of plotted variables, e.g. ``{"temp": (30, 82)}``; others span their data with a 5% margin.
    units : dict of str to str, optional
        Units of columns, written on the axes and beside held values, e.g. ``{"income": "USD 1000"}``; they update
        those in the data frame's ``attrs["units"]`` (where the bundled data sets keep theirs).
    ci_prob : float, optional
        Probability of the credible bands and intervals; default ``arviz_base.rcParams["stats.ci_prob"]``.
    ci_kind : {"eti", "hdi"}, optional
        Kind of the intervals of lines and thresholds; default ``arviz_base.rcParams["stats.ci_kind"]``.
    n_lines : int
        Boundaries of single posterior draws drawn (binary, two variables).
    grid_size : int
        Points per axis of the probability surfaces.
    random_seed : int or numpy.random.Generator
        Chooses the posterior draws drawn, the order of the points and the vertical jitter of one-variable plots.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes`` starts with the panels, in order; colour bars and insets follow.
    """
    ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, intervals.POSTERIOR_KINDS)
    fitted, failed = collect_fits(fits)
    model = next(iter(fitted.values())).model
    if X is None and y is None:
        model.data.require_in_memory(
            "plot_boundary, which draws every row,",
            "pass an in-memory sample of the rows: plot_boundary(fits, X=..., y=...)",
        )
    if y is None and isinstance(X, pd.DataFrame) and model.response in X.columns:
        y = X[model.response]
    design, codes, _, _ = model.evaluation_data(X, y)
    frame = model.data.frame if X is None else X
    first = next(iter(fitted.values()))
    plane = make_plane(model, design, frame, features, ranges, (1, 2), fit=first, units=plot_units(model, frame, units))
    scene = Scene(model, fitted, failed, plane, codes, ci_prob, ci_kind, grid_size, np.random.default_rng(random_seed))
    if len(model.layout.pairs) > 1:  # several class pairs: regions, not one boundary
        if len(plane.names) != 2:
            raise OptionError(
                f"a model of {model.n_classes} classes is drawn in two variables; got "
                f"{list(plane.names)}. Give two with features=[...]"
            )
        return draw_names(draw_regions(scene, ax))
    if len(plane.names) == 1:
        return draw_names(draw_curves(scene, ax))
    return draw_names(_draw_binary_plane(scene, ax, n_lines))


def outline(width: float) -> list:
    """Path effects that give a line a black outline, so that a white line shows on any surface colour."""
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=width + 2, foreground="black"), patheffects.Normal()]


BAND_ALPHA = 0.15
"""Opacity of a posterior band's fill: light, so that the points (drawn above the bands) and a second band show
through; its edge is drawn in the full colour."""

MEAN_CONTOUR = {"colors": "white", "linewidths": 1.6, "linestyles": [(0, (4, 2))]}
"""The posterior mean 0.5 contour: a dashed white line with a black outline, above every other line."""


def _half_contour(axis, G1, G2, p_mean):
    contour = axis.contour(G1, G2, p_mean, levels=[0.5], zorder=6, **MEAN_CONTOUR)
    contour.set_path_effects(outline(1.6))


def _draw_binary_plane(scene: Scene, ax, n_lines: int):
    """Binary model, two variables."""
    from matplotlib.lines import Line2D

    plane, primary = scene.plane, scene.posterior_method()
    fig, axes = new_axes(ax, 2 if primary else 1, (13, 7) if primary else (7.5, 7))
    main = axes[0]
    G1, G2, rows = plane.grid(scene.grid_size)
    # Without a posterior, the surface of the first fit under a prior (a MAP stays finite under separation).
    shown = primary or next((m for m, f in scene.fitted.items() if f.penalised), next(iter(scene.fitted)))
    mean, sd = scene.fitted[shown].predictive_moments(rows, MAX_SURFACE_DRAWS)
    p_mean = mean[:, 1].reshape(G1.shape)
    event = f"Pr({scene.class_label(1)})"
    where = f"{'posterior mean ' if primary else ''}{event} ({style(shown)['label']})"
    # Light greys (Pr = 1 at 40% grey), so that the points and every line show on the surface.
    filled = main.contourf(G1, G2, p_mean, levels=np.linspace(0, 1, 11), cmap="Greys", vmin=0, vmax=2.5, zorder=0)
    fig.colorbar(filled, ax=main, label=where)
    (x, x_jittered), (y, y_jittered) = (jitter_lattice(values, scene.rng) for values in plane.points.T)
    scatter_classes(scene, main, x, y, CLASS_COLORS, **points_look(len(scene.codes)))
    draw = _line_boundaries if plane.columns is not None else _contour_boundaries
    handles = draw(scene, main, (G1, G2, rows), primary, n_lines)
    _half_contour(main, G1, G2, p_mean)
    contour_handle = Line2D([], [], path_effects=outline(1.6), label=f"{where} = 0.5", **_line_of(MEAN_CONTOUR))
    (xlabel, ylabel), limits = plane.labels, {"xlim": plane.spans[0], "ylim": plane.spans[1]}
    main.set(**limits, xlabel=xlabel, ylabel=ylabel, title=f"Where each method puts {event} = 0.5")
    legend = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.1), "fontsize": 8, "ncols": 2}
    main.legend(handles=main.get_legend_handles_labels()[0][:2] + handles + [contour_handle], **legend)
    if primary:
        panel = axes[1]
        image = panel.contourf(G1, G2, sd[:, 1].reshape(G1.shape), levels=12, cmap="viridis")
        fig.colorbar(image, ax=panel, label=f"posterior sd of {event}")
        _half_contour(panel, G1, G2, p_mean)
        panel.legend(handles=[contour_handle], **legend)
        panel.set(
            **limits,
            xlabel=xlabel,
            ylabel=ylabel,
            title=f"Posterior uncertainty of {event}: {scene.label(primary)}",
        )
    band_note = "" if plane.columns is not None else _band_note(scene, event)
    jittered = [label for label, moved in zip(plane.labels, (x_jittered, y_jittered), strict=True) if moved]
    jitter_note = (
        f"Points jittered along {' and '.join(jittered)} by up to {JITTER:g} of the spacing of the values, which "
        "lie on a lattice; the surfaces and boundaries are not."
        if jittered
        else ""
    )
    add_footnote(fig, [*scene.notes(), band_note, jitter_note])
    return fig


def _line_of(contour_style: dict) -> dict:
    return {
        "color": contour_style["colors"],
        "linewidth": contour_style["linewidths"],
        "linestyle": contour_style["linestyles"][0],
    }


def _band_note(scene: Scene, event: str) -> str:
    low, high = (1 - scene.ci_prob) / 2, (1 + scene.ci_prob) / 2
    return (
        f"Bands: where the posterior probability that {event} > 0.5 is between {low:.3g} and {high:.3g} (the "
        f"equal-tailed {int(scene.ci_prob * 100)}% interval of {event} contains 0.5)."
    )


def _line_boundaries(scene: Scene, main, grid, primary: str | None, n_lines: int) -> list:
    """Straight boundaries in a plane of two features: lines of the point fits, bands of the posteriors' lines
    (the interval of the line's height at each abscissa) and lines of single draws. Returns legend handles."""
    from matplotlib.colors import to_rgba

    plane, x_grid = scene.plane, scene.plane.axis(0, 200)
    band_label = interval_label(scene.ci_prob, scene.ci_kind)
    for method, fit in scene.fitted.items():
        directions = slice_directions(scene.model.layout, fit.pooled_draws(), list(plane.columns), plane.held_row())
        lines = boundary_quantities(directions, True)
        heights = lines["intercept"][:, :1] + lines["slope"][:, :1] * x_grid  # (S, 200)
        look = style(method)
        if not fit.draws_are_posterior:
            main.plot(
                x_grid,
                heights[0],
                **line_look(method),
                label=scene.label(method, "boundary"),
                gid=f"{method}-boundary",
                zorder=look["zorder"],
            )
            continue
        band = interval_band(heights, scene.ci_prob, scene.ci_kind)
        main.fill_between(
            x_grid,
            band[:, 0],
            band[:, 1],
            facecolor=to_rgba(look["color"], BAND_ALPHA),
            edgecolor=look["color"],
            linewidth=0.8,
            label=scene.label(method, f"{band_label} of the boundary"),
            gid=f"{method}-band",
            zorder=2,
        )
        if method == primary:
            picked = scene.rng.choice(len(heights), size=min(n_lines, len(heights)), replace=False)
            for i, row in enumerate(heights[picked]):
                main.plot(
                    x_grid,
                    row,
                    color=DRAW_COLOR,
                    linewidth=0.5,
                    alpha=0.6,
                    gid=f"{method}-draw",
                    zorder=2.5,
                    label=f"{look['label']} boundary of {len(picked)} posterior draws" if i == 0 else None,
                )
    return main.get_legend_handles_labels()[0][2:]


def _contour_boundaries(scene: Scene, main, grid, primary: str | None, n_lines: int) -> list:
    """Curved boundaries in a plane of two data variables: 0.5 contours of the point fits, bands of the
    posterior fits (see :func:`plot_boundary`) and 0.5 contours of single draws. Returns legend handles."""
    from matplotlib.colors import to_rgba
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    G1, G2, rows = grid
    handles = []
    for method, fit in scene.fitted.items():
        look = style(method)
        if not fit.draws_are_posterior:
            p = np.exp(fit.log_proba_of_design(rows))[:, 1].reshape(G1.shape)
            lines = main.contour(
                G1,
                G2,
                p,
                levels=[0.5],
                colors=[look["color"]],
                linewidths=look["linewidth"],
                linestyles=[look["linestyle"]],
                zorder=look["zorder"],
            )
            lines.set_gid(f"{method}-boundary")
            handles.append(Line2D([], [], **line_look(method), label=scene.label(method, "boundary")))
            continue
        share = winner_share(fit, rows).reshape(G1.shape)
        edge = (1 + scene.ci_prob) / 2
        band = main.contourf(G1, G2, share, levels=[0.0, edge], colors=[look["color"]], alpha=BAND_ALPHA, zorder=2)
        band.set_gid(f"{method}-band")
        main.contour(G1, G2, share, levels=[edge], colors=[look["color"]], linewidths=0.8, zorder=2).set_gid(
            f"{method}-band-edge"
        )
        handles.append(
            Patch(
                facecolor=to_rgba(look["color"], BAND_ALPHA),
                edgecolor=look["color"],
                label=scene.label(method, f"{int(scene.ci_prob * 100)}% band of the boundary"),
            )
        )
        if method == primary:
            draws = fit.pooled_draws()
            picked = draws[scene.rng.choice(len(draws), size=min(n_lines, len(draws)), replace=False)]
            p = predictive.proba_per_draw(fit.layout.family, Design(rows, fit.model.intercept), picked)[:, :, 1]
            for row in p:
                main.contour(
                    G1,
                    G2,
                    row.reshape(G1.shape),
                    levels=[0.5],
                    colors=[DRAW_COLOR],
                    linewidths=0.5,
                    alpha=0.6,
                    zorder=2.5,
                ).set_gid(f"{method}-draw")
            handles.append(
                Line2D(
                    [],
                    [],
                    color=DRAW_COLOR,
                    linewidth=0.5,
                    label=f"{look['label']} boundary of {len(picked)} posterior draws",
                )
            )
    return handles
