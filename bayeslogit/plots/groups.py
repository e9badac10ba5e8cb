"""Group effects of multilevel fits: how far each fit pulls each group's own estimate towards zero (the shrinkage
plot), and every group's effect with its interval, sorted (the caterpillar plot).

The fits' group effects and the groups' own estimates come from :mod:`bayeslogit.plots.group_fits`.
"""

import math

import numpy as np

from bayeslogit.exceptions import OptionError
from bayeslogit.plots.fonts import draw_names
from bayeslogit.plots.group_fits import Effects, effect_unit, no_pooling, plotted_effects, sd_note
from bayeslogit.plots.style import add_footnote, labelled, style

NAMED_LEVELS = 30  # a caterpillar plot names every level up to this many, every second one up to MAX_NAMED_LEVELS
MAX_NAMED_LEVELS = 60  # beyond this many levels the names would not be legible: none are shown
MAX_MARKER_AREA = 260.0  # points^2 of the largest group's marker in the shrinkage plot; area ~ trials
MIN_MARKER_AREA = 12.0  # and of the smallest, at least, so that a group of one trial stays visible


def plot_shrinkage(fits, term: str | None = None, column: str = "Intercept", *, ci_prob: float | None = None):
    """Each group's own estimate against each fit's: how far the fits pull the groups towards zero.

    The horizontal axis is the no-pooling estimate: each group's maximum-likelihood effect from its rows alone, with
    the fixed effects (and any other group effects) held at the first fit's estimates (:func:`no_pooling`); for an
    intercept without other fixed effects it is ``logit(successes / trials) - intercept``. The vertical axis is each
    fit's estimate: ML's and MAP's conditional modes, MCMC's posterior mean with its equal-tailed interval as a
    vertical bar. On the identity line a fit leaves a group where its own data put it; at zero it pools it
    completely. The pull is strongest for small groups (marker area ~ trials) and a small group-level sd, which the
    legend gives per fit; an sd at zero (a singular ML fit) pulls every group to zero. A group whose rows are all
    successes or all failures has an infinite no-pooling estimate: it is drawn at the panel's edge as a filled
    triangle pointing the way it runs off.

    Parameters
    ----------
    fits : dict of str to fit, sequence of fits, or a fit
        Fits of one multilevel model (``model.fit_all()``, or a list of its fits); the rows they were fitted on
        give the no-pooling estimates and the groups' trials.
    term : str, optional
        The group term's label (``"herd"``); default the model's first.
    column : str
        The term's column whose effects are drawn.
    ci_prob : float, optional
        Probability of the MCMC intervals; default ``arviz_base.rcParams["stats.ci_prob"]``.

    Returns
    -------
    matplotlib.figure.Figure
        One panel. For a fit given under ``name``: ``gid`` ``"<name>-estimate"``, a scatter of the groups with finite
        no-pooling estimates (offsets ``(no-pooling, estimate)``, sizes ~ trials); ``"<name>-edge-high"`` and
        ``"<name>-edge-low"``, those at ``+inf`` and ``-inf`` (drawn at the panel's edge); for MCMC
        ``"<name>-interval"``, a vertical segment per group, in the order of the estimates. ``"identity"`` is the
        line of no pooling.

    Raises
    ------
    OptionError
        For fits that are not of one multilevel model, an unknown ``term`` or ``column``; for a categorical model's
        fits (whose groups have no successes to set them against: :func:`plot_caterpillar` draws them by class).
    """
    import matplotlib.pyplot as plt

    fitted, layout, t, c, label, column, effects = plotted_effects(fits, term, column, ci_prob)
    if layout.classes:
        raise OptionError(
            "plot_shrinkage sets each group's fits against its own estimate from its successes and failures, which a "
            f"categorical model of {len(layout.classes)} classes does not have: draw each class's group effects with "
            f"plot_caterpillar(fits, term={layout.labels[t]!r}), or read fit.ranef()"
        )
    first = next(iter(fitted))
    x = no_pooling(fitted[first], t, c)
    rows = fitted[first].source
    trials = np.bincount(rows.terms[t].codes, weights=rows.trials, minlength=len(x))

    fig, ax = plt.subplots(figsize=(10.0, 6.4), layout="constrained")
    ax.axline((0, 0), slope=1, color="grey", linestyle=(0, (4, 3)), linewidth=1, zorder=1, gid="identity")
    ax.axhline(0, color="grey", linewidth=0.8, zorder=1)
    ax.axvline(0, color="0.85", linewidth=0.8, zorder=0)
    drawn_x = shrinkage_axes(ax, x, effects.values())
    area = np.maximum(MAX_MARKER_AREA * trials / trials.max(), MIN_MARKER_AREA)
    for i, (name, group) in enumerate(effects.items()):
        draw_fit_groups(ax, name, group, x, drawn_x, area, zorder=3 + i)
    tied = annotate_ties(ax, drawn_x, effects[first].estimate)
    unit = effect_unit(column)
    ax.set_xlabel(f"no-pooling estimate: the group's own ML fit ({unit})")
    ax.set_ylabel(f"the fits' estimate of the group effect ({unit})")
    ax.set_title(f"Shrinkage of the {label} effects on {column} ({len(x)} groups)", fontsize=11, loc="left")
    handles = shrinkage_handles(fitted, effects, label, column, x) + size_handles(trials)
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, labelspacing=0.9, borderpad=0.8,
               title="Estimate of each group", title_fontsize=9, alignment="left")  # fmt: skip
    held = "fixed effects" if len(layout.labels) == 1 and len(layout.columns[t]) == 1 else "other effects"
    silent = int(np.isnan(x).sum())
    add_footnote(
        fig,
        [
            f"No-pooling estimate: each group's maximum-likelihood {column} effect from its own rows, the {held} held "
            f"at the {style(first)['label']} fit's. Marker area is proportional to the group's trials.",
            f"{silent} group(s) whose rows say nothing of the {column} effect are not shown." if silent else "",
            f"\u00d7k: k groups share the point (of the {style(first)['label']} fit)." if tied else "",
        ],
    )
    return draw_names(fig)


EDGE_STRIP = 0.1  # the width of the strip at either side where infinite no-pooling estimates are drawn, of the range


def shrinkage_axes(ax, x: np.ndarray, effects) -> np.ndarray:
    """Set the shrinkage plot's limits (the same on both axes) to hold every finite estimate, interval and zero,
    with a strip at the side of ``+inf`` (``-inf``) no-pooling estimates, whose tick says so; return where each
    group is drawn across (n_levels,): its no-pooling estimate, or the middle of its strip."""
    shown = ~np.isnan(x)
    ends = [x[np.isfinite(x)], [0.0]]
    for group in effects:
        ends += [group.estimate[shown], *(group.interval[shown].T if group.posterior else [])]
    low, high = min(np.min(e) for e in ends), max(np.max(e) for e in ends)
    span = high - low or 1.0
    finite_limits = (low - 0.05 * span, high + 0.05 * span)
    ticks = [
        v
        for v in ax.xaxis.get_major_locator().tick_values(*finite_limits)
        if low - 0.05 * span <= v <= high + 0.05 * span
    ]
    labels = [f"{v:g}".replace("-", "\u2212") for v in ticks]
    limits, edge = list(finite_limits), {}
    for sign, side in ((1, 1), (-1, 0)):
        if np.any(x == sign * np.inf):
            limits[side] += sign * 2 * EDGE_STRIP * span
            edge[sign] = finite_limits[side] + sign * EDGE_STRIP * span
            strip = sorted([finite_limits[side] + sign * 0.5 * EDGE_STRIP * span, limits[side]])
            ax.axvspan(*strip, color="0.94", zorder=0, linewidth=0)
            ticks.append(edge[sign])
            labels.append("+\u221e" if sign > 0 else "\u2212\u221e")
    ax.set_xlim(limits)
    ax.set_ylim(limits)
    ax.set_xticks(ticks, labels)
    drawn = x.copy()
    for sign, position in edge.items():
        drawn[x == sign * np.inf] = position
    return drawn


def annotate_ties(ax, drawn_x: np.ndarray, estimate: np.ndarray) -> bool:
    """Write ``"\u00d7k"`` by each point of the first fit that k > 1 groups share (groups with the same counts, common
    in small Bernoulli groups), which the markers alone would hide; return whether there was any."""
    shown = ~np.isnan(drawn_x)
    points, counts = np.unique(np.round(np.column_stack([drawn_x, estimate])[shown], 9), axis=0, return_counts=True)
    for (px, py), count in zip(points[counts > 1], counts[counts > 1]):
        ax.annotate(f"\u00d7{count}", (px, py), xytext=(8, 6), textcoords="offset points", fontsize=8, color="0.3",
                    gid="tie-count")  # fmt: skip
    return bool(np.any(counts > 1))


def draw_fit_groups(ax, name: str, group: Effects, x: np.ndarray, drawn_x: np.ndarray, area: np.ndarray, zorder: int):
    """One fit's groups in the shrinkage plot: hollow markers at finite no-pooling estimates, filled triangles in the
    edge strips for infinite ones, and a posterior's intervals as vertical bars."""
    from matplotlib.collections import LineCollection

    look = style(name)
    shown = ~np.isnan(x)
    if group.posterior:
        segments = [[(px, lo), (px, hi)] for px, (lo, hi) in zip(drawn_x[shown], group.interval[shown])]
        ax.add_collection(
            LineCollection(segments, colors=look["color"], linewidths=1.2, alpha=0.6, zorder=2, gid=f"{name}-interval")
        )
    finite = np.isfinite(x)
    ax.scatter(
        x[finite], group.estimate[finite], s=area[finite], marker=look["marker"], facecolors="none",
        edgecolors=look["color"], linewidths=1.5, zorder=zorder, gid=f"{name}-estimate",
    )  # fmt: skip
    for side, marker, where in (("high", ">", x == np.inf), ("low", "<", x == -np.inf)):
        if where.any():
            ax.scatter(
                drawn_x[where], group.estimate[where], s=area[where], marker=marker, color=look["color"],
                edgecolors="white", linewidths=0.5, zorder=zorder, gid=f"{name}-edge-{side}",
            )  # fmt: skip


def shrinkage_handles(fitted: dict, effects: dict, label: str, column: str, x: np.ndarray) -> list:
    """The shrinkage plot's legend entries: each fit with its group-level sd, the reference lines, and the edge
    triangles where there are any."""
    from matplotlib.lines import Line2D

    handles = []
    for name, group in effects.items():
        look, fit = style(name), fitted[name]
        what = f"{group.estimate_name} {group.interval_name}" if group.posterior else group.estimate_name
        handles.append(
            Line2D(
                [], [], marker=look["marker"], markerfacecolor="none", markeredgecolor=look["color"], markersize=8,
                markeredgewidth=1.5, color=look["color"], linestyle="-" if group.posterior else "none", linewidth=1.2,
                label=labelled(f"{look['label']} {what} ({sd_note(fit, label, column)})", fit),
            )
        )  # fmt: skip
    handles.append(Line2D([], [], color="grey", linestyle=(0, (4, 3)), linewidth=1, label="identity: no pooling"))
    handles.append(Line2D([], [], color="grey", linewidth=0.8, label="zero: complete pooling"))
    for sign, marker, outcome in ((1, ">", "successes"), (-1, "<", "failures")):
        if np.any(x == sign * np.inf):
            handles.append(
                Line2D([], [], marker=marker, color="grey", linestyle="none", markersize=8,
                       label=f"no-pooling estimate {'+' if sign > 0 else '\u2212'}\u221e (all {outcome}): in the strip")
            )  # fmt: skip
    return handles


def size_handles(trials: np.ndarray) -> list:
    """Legend entries for about three group sizes from the smallest to the largest, drawn at their areas, under a
    heading."""
    from matplotlib.lines import Line2D

    sizes = np.unique(np.round(np.quantile(trials, [0.0, 0.5, 1.0]))).astype(int)
    heading = Line2D([], [], linestyle="none", label="trials in the group (marker area):")
    return [heading] + [
        Line2D([], [], marker="o", markerfacecolor="none", markeredgecolor="grey", linestyle="none",
               markersize=math.sqrt(max(MAX_MARKER_AREA * size / trials.max(), MIN_MARKER_AREA)),
               label=f"{size:,} trials")
        for size in sizes
    ]  # fmt: skip


def level_ticks(names: list) -> tuple[np.ndarray, list]:
    """Which of ``names`` (one per row, bottom up) a caterpillar plot labels: all up to :data:`NAMED_LEVELS`, every
    second one up to :data:`MAX_NAMED_LEVELS`, none beyond."""
    n = len(names)
    if n > MAX_NAMED_LEVELS:
        return np.array([], dtype=int), []
    rows = np.arange(0, n, 1 if n <= NAMED_LEVELS else 2)
    return rows, [str(names[r]) for r in rows]


def plot_caterpillar(fits, term: str | None = None, column: str = "Intercept", ci_prob: float | None = None):
    """Every group's effect with its interval, one row per level, sorted by the first fit's estimate.

    The fits are drawn side by side within each row (the first on top). ML and MAP show the conditional mode and
    ``mode -+ z`` conditional sds (given the estimated fixed effects and sds, so narrower than a posterior's), MCMC
    the posterior mean and the equal-tailed interval. The level names label the rows: every one up to 30 levels,
    every second up to 60, none beyond (the axis label says so).

    Parameters
    ----------
    fits : dict of str to fit, sequence of fits, or a fit
        Fits of one :class:`~bayeslogit.MultilevelModel`.
    term : str, optional
        The group term's label (``"herd"``; for a categorical model a class's, ``"g (class B)"``); default the
        model's first.
    column : str
        The term's column whose effects are drawn.
    ci_prob : float, optional
        Probability of the intervals; default ``arviz_base.rcParams["stats.ci_prob"]``.

    Returns
    -------
    matplotlib.figure.Figure
        One panel; level ``order[r]`` is on row ``r`` (bottom up). For a fit given under ``name``: ``gid``
        ``"<name>-estimate"``, a line of markers (x the estimates, y the rows plus the fit's offset) and
        ``"<name>-interval"``, a horizontal segment per row, in the rows' order.

    Raises
    ------
    OptionError
        For fits that are not of one multilevel model, an unknown ``term`` or ``column``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    fitted, layout, t, c, label, column, effects = plotted_effects(fits, term, column, ci_prob)
    levels = layout.levels[t]
    first = next(iter(fitted))
    order = np.argsort(effects[first][0], kind="stable")
    n, k = len(levels), len(fitted)
    row_height = 0.12 + 0.08 * k if n <= NAMED_LEVELS else 0.16
    height = min(1.9 + row_height * n, 11.0)
    fig, ax = plt.subplots(figsize=(7.5, height), layout="constrained")
    spacing = min(0.25, 0.75 / k)
    rows = np.arange(n, dtype=float)
    for i, (name, (estimate, interval, estimate_name, interval_name, _)) in enumerate(effects.items()):
        look = style(name)
        y = rows + ((k - 1) / 2 - i) * spacing
        ax.add_collection(
            LineCollection(
                [[(lo, yy), (hi, yy)] for (lo, hi), yy in zip(interval[order], y)],
                colors=look["color"], linewidths=1.3 if n <= MAX_NAMED_LEVELS else 0.8, gid=f"{name}-interval",
            )
        )  # fmt: skip
        ax.plot(
            estimate[order], y, marker=look["marker"], linestyle="none", color=look["color"],
            markersize=5 if n <= MAX_NAMED_LEVELS else 3, markeredgecolor="white", markeredgewidth=0.5,
            gid=f"{name}-estimate", label=labelled(f"{look['label']} {estimate_name} {interval_name}", fitted[name]),
        )  # fmt: skip
    ax.axvline(0, color="grey", linewidth=0.8, zorder=0)
    ax.autoscale_view()
    ax.set_ylim(-0.6, n - 0.4)
    ticks, names = level_ticks([levels[g] for g in order])
    ax.set_yticks(ticks, names, fontsize=8 if n <= NAMED_LEVELS else 7)
    sorted_by = f"sorted by the {style(first)['label']} estimate"
    if n > MAX_NAMED_LEVELS:
        ax.set_ylabel(f"{n} levels of {label}, {sorted_by} (too many to name)")
    else:
        every = "" if n <= NAMED_LEVELS else ", every second named"
        ax.set_ylabel(f"{label} ({n} levels{every}), {sorted_by}")
    ax.set_xlabel(f"group effect on {column} ({effect_unit(column)})")
    ax.grid(axis="y", color="0.93", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.legend(loc="outside upper center", ncols=1, fontsize=8, title=f"Group effects of {label} on {column}",
               title_fontsize=10)  # fmt: skip
    return draw_names(fig)
