"""A binary model in one variable: the probability curves of the fits, and where each puts the threshold."""

import numpy as np

from bayeslogit.fits.statistics.boundary import boundary_quantities, slice_directions
from bayeslogit.plots.boundary_scene import Scene, scatter_classes, winner_share
from bayeslogit.plots.style import CLASS_COLORS, add_footnote, interval_band, interval_label, line_look, new_axes, style

CURVE_POINTS = 300  # values of the variable at which the curves are computed
MANY_ROWS = 200


def draw_curves(scene: Scene, ax):
    """Binary model, one variable: ``Pr(classes_[1])`` over the data above, the thresholds in a strip below.

    In a feature plane each fit's threshold is ``Pr = 0.5`` exactly (a posterior's: its median and ``ci_kind``
    interval over the draws). In a data-variable plane the curve can cross 0.5 more than once or never: the
    strip marks each crossing of the (posterior mean) curve and, for posterior fits, the band of
    :func:`~bayeslogit.plots.boundary_scene.winner_share`.
    """
    plane = scene.plane
    fig, (axis, strip) = new_axes(ax, 2, (9, 7), nrows=2, height_ratios=[4, 1.1])
    x_grid, rows = plane.line(CURVE_POINTS)
    jitter = scene.rng.uniform(-0.02, 0.02, len(scene.codes))
    many = len(scene.codes) > MANY_ROWS  # smaller, fainter points where they would bury each other
    scatter_classes(
        scene,
        axis,
        plane.points[:, 0],
        scene.codes + jitter,
        CLASS_COLORS,
        size=10 if many else 30,
        alpha=0.3 if many else 0.8,
    )
    axis.axhline(0.5, color="grey", linewidth=0.8, zorder=1)
    band_label = interval_label(scene.ci_prob, scene.ci_kind)
    numbers = []
    for row, (method, fit) in enumerate(scene.fitted.items()):
        look = style(method)
        curves = fit.predictive_draws(rows)[:, :, 1]  # (S, 300): Pr(classes_[1]) along the grid, per draw
        if fit.draws_are_posterior:
            band = interval_band(curves, scene.ci_prob, scene.ci_kind)
            axis.fill_between(
                x_grid,
                band[:, 0],
                band[:, 1],
                color=look["color"],
                alpha=0.2,
                label=f"{look['label']} {band_label}",
                gid=f"{method}-band",
            )
        axis.plot(
            x_grid,
            curves.mean(axis=0),
            **line_look(method),
            label=f"{look['label']} {fit.estimate_name}",
            gid=f"{method}-curve",
            zorder=look["zorder"],
        )
        if plane.columns is not None:
            numbers.append(_exact_threshold(scene, strip, row, method, fit))
        else:
            _crossings(scene, strip, row, method, fit, x_grid, rows, curves.mean(axis=0))
    name = plane.names[0]
    event = f"Pr({scene.class_label(1)})"
    axis.set(xlim=plane.spans[0], ylim=(-0.06, 1.06), ylabel=event, title=f"{event} against {name}")
    axis.tick_params(labelbottom=False)
    fig.legend(handles=axis.get_legend_handles_labels()[0], loc="outside upper center", fontsize=8, ncols=4)
    strip.set(xlim=plane.spans[0], ylim=(-len(scene.fitted) + 0.4, 0.6), xlabel=name)
    strip.set_yticks(-np.arange(len(scene.fitted)), [style(m)["label"] for m in scene.fitted])
    how = (
        f"estimate, posterior median and {band_label}"
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


def _exact_threshold(scene: Scene, strip, row: int, method: str, fit) -> str:
    """A feature's threshold ``x* = -w_0 / w_1`` in the strip: a point fit's value, a posterior's median and
    interval. Returns its numbers as text."""
    look = style(method)
    directions = slice_directions(
        scene.model.layout, fit.pooled_draws(), list(scene.plane.columns), scene.plane.held_row()
    )
    threshold = boundary_quantities(directions, True)["threshold"][:, 0]
    if not fit.draws_are_posterior:
        strip.plot(
            threshold[:1],
            [-row],
            marker=look["marker"],
            color=look["color"],
            linestyle="none",
            markersize=7,
            gid=f"{method}-threshold",
        )
        return f"{threshold[0]:.4g}"
    low, high = interval_band(threshold[:, None], scene.ci_prob, scene.ci_kind)[0]
    median = np.median(threshold)
    strip.errorbar(
        median,
        -row,
        xerr=[[median - low], [high - median]],
        fmt=look["marker"],
        color=look["color"],
        capsize=4,
        linewidth=2,
        markersize=7,
        gid=f"{method}-threshold",
    )
    return f"median {median:.4g}, {interval_label(scene.ci_prob, scene.ci_kind)} [{low:.4g}, {high:.4g}]"


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
