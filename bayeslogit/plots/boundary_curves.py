"""A binary model in one variable: the probability curves of the fits, and where each puts the threshold."""

import numpy as np

from bayeslogit.fits.statistics import intervals
from bayeslogit.fits.statistics.boundary import boundary_quantities, slice_directions
from bayeslogit.plots.boundary_scene import Scene, points_look, scatter_classes, winner_share
from bayeslogit.plots.style import CLASS_COLORS, add_footnote, interval_band, interval_label, line_look, new_axes, style

CURVE_POINTS = 300  # values of the variable at which the curves are computed
BAND_ALPHA = 0.18  # fill of the exact posterior's band; an approximation's band is hatched, not filled
APPROXIMATION_HATCH = "//"


def draw_curves(scene: Scene, ax):
    """Binary model, one variable: ``Pr(classes_[1])`` over the data above, the thresholds in a strip below.

    In a feature plane each fit's threshold is ``Pr = 0.5`` exactly, drawn with its interval: a point fit's
    delta-method Wald interval, a posterior's median and ``ci_kind`` interval over the draws. In a data-variable
    plane the curve can cross 0.5 more than once or never: the strip marks each crossing of the (posterior mean)
    curve and, for posterior fits, the band of :func:`~bayeslogit.plots.boundary_scene.winner_share`. Bands of
    the curves are outlined in their method's line style; the exact posterior's is filled, an approximation's
    hatched, so that where they overlap each stays itself.
    """
    plane = scene.plane
    fig, (axis, strip) = new_axes(ax, 2, (9, 7), nrows=2, height_ratios=[4, 1.1])
    x_grid, rows = plane.line(CURVE_POINTS)
    jitter = scene.rng.uniform(-0.02, 0.02, len(scene.codes))
    scatter_classes(
        scene, axis, plane.points[:, 0], scene.codes + jitter, CLASS_COLORS, **points_look(len(scene.codes))
    )
    axis.axhline(0.5, color="grey", linewidth=0.8, zorder=1)
    numbers = []
    for row, (method, fit) in enumerate(scene.fitted.items()):
        look = style(method)
        curves = fit.predictive_draws(rows)[:, :, 1]  # (S, 300): Pr(classes_[1]) along the grid, per draw
        if fit.draws_are_posterior:
            _band(scene, axis, method, fit, x_grid, interval_band(curves, scene.ci_prob, scene.ci_kind))
        axis.plot(
            x_grid,
            curves.mean(axis=0),
            **line_look(method),
            label=f"{look['label']} {fit.estimate_name}",  # a posterior's trouble is named with its band
            gid=f"{method}-curve",
            zorder=look["zorder"],
        )
        if plane.columns is not None:
            numbers.append(_exact_threshold(scene, strip, row, method, fit))
        else:
            _crossings(scene, strip, row, method, fit, x_grid, rows, curves.mean(axis=0))
    name = plane.labels[0]
    event = f"Pr({scene.class_label(1)})"
    axis.set(xlim=plane.spans[0], ylim=(-0.06, 1.06), ylabel=event, title=f"{event} against {plane.names[0]}")
    axis.tick_params(labelbottom=False)
    fig.legend(handles=axis.get_legend_handles_labels()[0], loc="outside upper center", fontsize=8, ncols=4)
    strip.set(xlim=plane.spans[0], ylim=(-len(scene.fitted) + 0.4, 0.6), xlabel=name)
    strip.set_yticks(-np.arange(len(scene.fitted)), [style(m)["label"] for m in scene.fitted])
    band_label = interval_label(scene.ci_prob, scene.ci_kind)
    how = (
        f"estimate and {interval_label(scene.ci_prob, 'wald')} (delta method); posterior median and {band_label}"
        if plane.columns is not None
        else f"the curves' crossings;\nshaded where the equal-tailed {int(scene.ci_prob * 100)}% interval of "
        f"{event} contains 0.5"
    )
    strip.set_title(f"Threshold, where {event} = 0.5: {how}", fontsize=9, loc="left")
    strip.grid(axis="x", color="0.9")
    if numbers:  # each threshold's numbers beside its row, clear of the bars
        right = strip.secondary_yaxis("right")
        right.set_yticks(-np.arange(len(numbers)), numbers, fontsize=7.5)
        right.set_gid("threshold-numbers")
    add_footnote(fig, scene.notes())
    return fig


def _band(scene: Scene, axis, method: str, fit, x_grid, band):
    """A posterior's band of the curve (``band`` (G, 2)), outlined in its method's line style: filled for the exact
    posterior, hatched for an approximation."""
    from matplotlib.colors import to_rgba

    look = style(method)
    axis.fill_between(
        x_grid,
        band[:, 0],
        band[:, 1],
        facecolor=to_rgba(look["color"], BAND_ALPHA) if fit.exact else "none",
        hatch=None if fit.exact else APPROXIMATION_HATCH,
        edgecolor=to_rgba(look["color"], 0.8),
        linestyle=look["linestyle"],
        linewidth=1.0,
        label=scene.label(method, interval_label(scene.ci_prob, scene.ci_kind)),
        gid=f"{method}-band",
        zorder=1.5,
    )


def _exact_threshold(scene: Scene, strip, row: int, method: str, fit) -> str:
    """A feature's threshold ``x* = -w_0 / w_1`` in the strip with its interval: a point fit's value and
    delta-method Wald interval, a posterior's median and ``ci_kind`` interval. Returns its numbers as text."""
    directions = slice_directions(
        scene.model.layout, fit.pooled_draws(), list(scene.plane.columns), scene.plane.held_row()
    )
    threshold = boundary_quantities(directions, True)["threshold"][:, 0]
    if fit.draws_are_posterior:
        centre, kind = np.median(threshold), scene.ci_kind
        low, high = interval_band(threshold[:, None], scene.ci_prob, kind)[0]
    else:
        centre, kind = threshold[0], "wald"
        low, high = point_threshold_interval(scene, fit, centre)
    look = style(method)
    bar = strip.errorbar(
        centre,
        -row,
        xerr=[[centre - low], [high - centre]],
        fmt=look["marker"],
        color=look["color"],
        capsize=4,
        linewidth=2,
        markersize=7,
    )
    bar.lines[0].set_gid(f"{method}-threshold")  # the marker, at the threshold
    bar.lines[2][0].set_gid(f"{method}-threshold-interval")
    name = "median " if fit.draws_are_posterior else ""
    return f"{name}{centre:.4g}, {interval_label(scene.ci_prob, kind)} [{low:.4g}, {high:.4g}]"


def point_threshold_interval(scene: Scene, fit, threshold: float) -> tuple[float, float]:
    """The delta-method Wald interval of a point fit's threshold in the plotted feature ``a``, the other features
    held: ``x* = -c^T b / b_a`` with ``c`` the intercept's 1 and the held values (0 at ``a``), so that its
    gradient is ``-(c + x* e_a) / b_a`` and its standard error ``sqrt(g^T cov g)``."""
    model, (a,) = scene.model, scene.plane.columns
    c = np.concatenate([np.ones(int(model.intercept)), scene.plane.held_row()])
    at = int(model.intercept) + a
    gradient = -(c + threshold * np.eye(len(c))[at]) / fit.params[at, 0]
    se = np.sqrt(gradient @ np.asarray(fit.cov) @ gradient)
    low, high = intervals.wald(threshold, se, scene.ci_prob)
    return float(low), float(high)


def _crossings(scene: Scene, strip, row: int, method: str, fit, x_grid, rows, curve):
    """Where a curve in a data variable crosses 0.5 (linear interpolation on the grid), and a posterior's band."""
    look = style(method)
    sign = np.sign(curve - 0.5)
    at = np.flatnonzero(sign[:-1] * sign[1:] < 0)
    crossings = x_grid[at] + (0.5 - curve[at]) * (x_grid[at + 1] - x_grid[at]) / (curve[at + 1] - curve[at])
    if fit.draws_are_posterior:
        inside = winner_share(fit, rows) < (1 + scene.ci_prob) / 2
        strip.fill_between(
            x_grid,
            -row - 0.25,
            -row + 0.25,
            where=inside,
            color=look["color"],
            alpha=0.35,
            linewidth=0,
            gid=f"{method}-band",
        )
    strip.plot(
        crossings,
        np.full(len(crossings), -row),
        marker=look["marker"],
        color=look["color"],
        linestyle="none",
        markersize=7,
        gid=f"{method}-threshold",
    )
