"""Decision regions of a multiclass model in two variables, one panel per fit."""

import numpy as np

from bayeslogit.plots.boundary_scene import Scene, scatter_classes, winner_share
from bayeslogit.plots.style import CLASS_COLORS, MAX_SURFACE_DRAWS, add_footnote, new_axes

REGION_TINT = 0.3  # a region's colour: its class's colour at this strength over white
CONFIDENCE_LEVELS = (0.75, 0.95)  # contours of the probability of the most probable class
BAND_COLOR = (0.1, 0.1, 0.1, 0.1)  # light: far from the data the band can cover most of the plane
LABEL_GAP = 0.15  # contour labels at least this far apart (fraction of the panel), and as far from the points
MIN_LABELLED = 0.2  # contour pieces shorter than this (fraction of the panel's diagonal) go unlabelled
VECTORS_BOX = [1.04, 0.0, 0.3, 0.6]  # the class vectors' panel, right of the data panel (axes fraction)


def draw_regions(scene: Scene, ax):
    """Multiclass model, two variables: one panel per fit, and (features of the design) beside each the class
    vectors ``theta_k`` in a small panel of their own."""
    from matplotlib.colors import to_rgb

    plane, K = scene.plane, scene.model.n_classes
    span = np.ptp(plane.points, axis=0)
    equal = max(span) / max(min(span), 1e-12) < 5
    n = len(scene.fitted)
    vectors = plane.columns is not None
    width = 8 + 2.5 * vectors
    fig, axes = new_axes(
        ax, n, (width, 1.8 + 3.6 * n) if equal else (1.5 + (5 + 2 * vectors) * n, 6), nrows=n if equal else 1
    )
    colors = np.array([to_rgb(CLASS_COLORS[k % len(CLASS_COLORS)]) for k in range(K)])
    light = 1 - REGION_TINT * (1 - colors)
    G1, G2, rows = plane.grid(scene.grid_size)
    extent = [*plane.spans[0], *plane.spans[1]]
    any_posterior = False
    for panel, (method, fit) in zip(axes, scene.fitted.items()):
        mean, _ = fit.predictive_moments(rows, MAX_SURFACE_DRAWS)
        panel.imshow(
            light[mean.argmax(axis=1)].reshape(*G1.shape, 3),
            origin="lower",
            extent=extent,
            aspect="auto",
            interpolation="nearest",
            gid=f"{method}-regions",
            zorder=0,
        )
        for k in range(K):  # the edge of class k's region: where its lead over the best other class is 0
            lead = mean[:, k] - np.delete(mean, k, axis=1).max(axis=1)
            panel.contour(G1, G2, lead.reshape(G1.shape), levels=[0.0], colors="black", linewidths=1.2, zorder=2)
        top = panel.contour(
            G1,
            G2,
            mean.max(axis=1).reshape(G1.shape),
            levels=list(CONFIDENCE_LEVELS),
            colors="0.3",
            linewidths=0.7,
            linestyles=":",
            zorder=2,
        )
        top.set_gid(f"{method}-confidence")
        places = label_places(top.allsegs, extent, plane.points)
        if places:
            panel.clabel(top, fmt=lambda level: f"{level:.2f}", fontsize=7, manual=places)
        if fit.draws_are_posterior:
            any_posterior = True
            share = winner_share(fit, rows).reshape(G1.shape)
            edge = (1 + scene.ci_prob) / 2
            panel.contourf(G1, G2, share, levels=[0.0, edge], colors=[BAND_COLOR], zorder=1).set_gid(f"{method}-band")
            panel.contour(G1, G2, share, levels=[edge], colors="0.35", linewidths=0.6, linestyles="--", zorder=1)
        scatter_classes(scene, panel, *plane.points.T, colors, size=22, alpha=0.9)
        if vectors:
            _class_vectors(scene, panel, method, fit, colors)
        what = "posterior mean probabilities" if fit.draws_are_posterior else "probabilities"
        panel.set(
            xlim=extent[:2],
            ylim=extent[2:],
            xlabel=plane.labels[0],
            ylabel=plane.labels[1],
            title=f"{scene.label(method)}: most probable class ({what})",
        )
        panel.set_aspect("equal" if equal else "auto")
    fig.legend(handles=_legend_handles(scene, axes[0], any_posterior), loc="outside upper center", ncols=2, fontsize=8)
    notes = scene.notes()
    if any_posterior:
        agree = (1 + scene.ci_prob) / 2
        notes.append(
            f"Grey band ({int(scene.ci_prob * 100)}%): where fewer than {agree:.1%} of the posterior draws agree on "
            f"the most probable class; outside it, at least {agree:.1%} of them agree."
        )
    add_footnote(fig, notes)
    return fig


def _legend_handles(scene: Scene, panel, any_posterior: bool) -> list:
    """The classes' points, the boundary, the probability contours and (posterior fits) the band."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = panel.get_legend_handles_labels()[0]
    handles.append(
        Line2D([], [], color="black", linewidth=1.2, label="decision boundary (most probable class changes)")
    )
    levels = " and ".join(map(str, CONFIDENCE_LEVELS))
    handles.append(
        Line2D([], [], color="0.3", linewidth=0.7, linestyle=":", label=f"Pr(most probable class) = {levels}")
    )
    if any_posterior:
        handles.append(
            Patch(
                facecolor=BAND_COLOR,
                edgecolor="0.35",
                linestyle="--",
                label=f"{int(scene.ci_prob * 100)}% band of the boundaries (posterior fits)",
            )
        )
    return handles


def label_places(segments: list, extent: list, points: np.ndarray) -> list:
    """Where to label contour lines: on each piece long enough (:data:`MIN_LABELLED`), the vertex of its middle
    60% farthest from the points, kept only when it is :data:`LABEL_GAP` from every label already placed and
    from every point (distances as fractions of the panel's width and height).

    Parameters
    ----------
    segments : list of list of ndarray of shape (m, 2)
        Per level, its pieces (``ContourSet.allsegs``).
    extent : list of float
        ``[x0, x1, y0, y1]`` of the panel.
    points : ndarray of shape (n, 2)
        The points drawn.

    Returns
    -------
    list of (float, float)
        Label positions in data coordinates, for ``clabel(manual=...)``.
    """
    origin, size = np.array(extent[::2]), np.array([extent[1] - extent[0], extent[3] - extent[2]])
    dots = (points - origin) / size
    places = []
    for pieces in segments:
        for piece in pieces:
            unit = (piece - origin) / size
            steps = np.linalg.norm(np.diff(unit, axis=0), axis=1)
            if steps.sum() < MIN_LABELLED * np.sqrt(2):
                continue
            along = np.concatenate([[0.0], np.cumsum(steps)]) / steps.sum()
            middle = unit[(along > 0.2) & (along < 0.8)]
            clearance = np.min(np.linalg.norm(middle[:, None] - dots[None], axis=2), axis=1, initial=np.inf)
            best = middle[np.argmax(clearance)]
            taken = [np.linalg.norm(best - (np.array(p) - origin) / size) for p in places]
            if clearance.max(initial=0.0) >= LABEL_GAP / 3 and min(taken, default=np.inf) >= LABEL_GAP:
                places.append(tuple(best * size + origin))
    return places


def _class_vectors(scene: Scene, panel, method: str, fit, colors):
    """The centred class vectors in the plotted plane, in a small panel right of ``panel``: a point goes to the
    class whose vector has the largest dot product with it (the intercepts aside). Each name sits beyond its
    arrow's tip, along the arrow, so that names of arrows apart stay apart."""
    model, (a, b) = scene.model, scene.plane.columns
    start = int(model.intercept)
    theta = model.family.class_logits(fit.params)[[start + a, start + b]]  # (2, K): zeros for a reference class
    theta = theta - theta.mean(axis=1, keepdims=True)
    theta = theta / max(np.linalg.norm(theta, axis=0).max(), 1e-12)
    inset = panel.inset_axes(VECTORS_BOX)
    inset.set_gid(f"{method}-vectors")
    for k in range(model.n_classes):
        tip = theta[:, k]
        inset.annotate(
            "",
            xy=tip,
            xytext=(0, 0),
            arrowprops={"arrowstyle": "-|>", "color": colors[k], "lw": 1.8, "shrinkA": 0, "shrinkB": 0},
        )
        away = tip / max(np.linalg.norm(tip), 1e-12)
        inset.annotate(
            str(model.classes_[k]),
            xy=tip,
            xytext=tuple(9 * away),
            textcoords="offset points",
            fontsize=7,
            ha="left" if away[0] > 0.3 else "right" if away[0] < -0.3 else "center",
            va="bottom" if away[1] > 0.3 else "top" if away[1] < -0.3 else "center",
        )
    inset.set(xlim=(-1.9, 1.9), ylim=(-1.6, 1.6), xticks=[], yticks=[], aspect="equal")
    inset.set_xlabel(f"{scene.plane.names[0]} coefficient", fontsize=7)
    inset.set_ylabel(f"{scene.plane.names[1]} coefficient", fontsize=7)
    inset.set_title("class vectors $\\theta_k$\n(centred, scaled)", fontsize=7, pad=2)
