"""Decision regions of a multiclass model in two variables, one panel per fit."""

import numpy as np

from bayeslogit.plots.boundary_scene import Scene, scatter_classes, winner_share
from bayeslogit.plots.style import CLASS_COLORS, MAX_SURFACE_DRAWS, add_footnote, new_axes, style

REGION_TINT = 0.3  # a region's colour: its class's colour at this strength over white
CONFIDENCE_LEVELS = (0.75, 0.95)  # contours of the probability of the most probable class
BAND_COLOR = (0.1, 0.1, 0.1, 0.1)  # light: far from the data the band can cover most of the plane


def draw_regions(scene: Scene, ax):
    """Multiclass model, two variables: one panel per fit."""
    from matplotlib.colors import to_rgb
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plane, K = scene.plane, scene.model.n_classes
    span = np.ptp(plane.points, axis=0)
    equal = max(span) / max(min(span), 1e-12) < 5
    n = len(scene.fitted)
    fig, axes = new_axes(ax, n, (8, 1.8 + 3.6 * n) if equal else (1.5 + 5 * n, 6), nrows=n if equal else 1)
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
        panel.clabel(top, fmt=lambda level: f"{level:.2f}", fontsize=7)
        if fit.draws_are_posterior:
            any_posterior = True
            share = winner_share(fit, rows).reshape(G1.shape)
            edge = (1 + scene.ci_prob) / 2
            panel.contourf(G1, G2, share, levels=[0.0, edge], colors=[BAND_COLOR], zorder=1).set_gid(f"{method}-band")
            panel.contour(G1, G2, share, levels=[edge], colors="0.35", linewidths=0.6, linestyles="--", zorder=1)
        scatter_classes(scene, panel, *plane.points.T, colors, size=22, alpha=0.9)
        if plane.columns is not None:
            _class_vectors(scene, panel, method, fit, colors)
        what = "posterior mean probabilities" if fit.draws_are_posterior else "probabilities"
        panel.set(
            xlim=extent[:2],
            ylim=extent[2:],
            xlabel=plane.names[0],
            ylabel=plane.names[1],
            title=f"{style(method)['label']}: most probable class ({what})",
        )
        panel.set_aspect("equal" if equal else "auto")
    handles = axes[0].get_legend_handles_labels()[0]
    handles.append(
        Line2D([], [], color="black", linewidth=1.2, label="decision boundary (most probable class changes)")
    )
    handles.append(
        Line2D(
            [],
            [],
            color="0.3",
            linewidth=0.7,
            linestyle=":",
            label=f"Pr(most probable class) = {' and '.join(map(str, CONFIDENCE_LEVELS))}",
        )
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
    fig.legend(handles=handles, loc="outside upper center", ncols=2, fontsize=8)
    notes = scene.notes()
    if any_posterior:
        notes.append(
            f"Band: where no class is the most probable one in at least {(1 + scene.ci_prob) / 2:.3g} of "
            "the posterior draws."
        )
    add_footnote(fig, notes)
    return fig


def _class_vectors(scene: Scene, panel, method: str, fit, colors):
    """The centred class vectors in the plotted plane, in an inset at the panel's lower right: a point goes to
    the class whose vector has the largest dot product with it (the intercepts aside)."""
    model, (a, b) = scene.model, scene.plane.columns
    start = int(model.intercept)
    theta = model.family.class_logits(fit.params)[[start + a, start + b]]  # (2, K): zeros for a reference class
    theta = theta - theta.mean(axis=1, keepdims=True)
    theta = theta / max(np.linalg.norm(theta, axis=0).max(), 1e-12)
    inset = panel.inset_axes([0.7, 0.03, 0.28, 0.36])
    inset.set_gid(f"{method}-vectors")
    for k in range(model.n_classes):
        inset.annotate(
            "",
            xy=theta[:, k],
            xytext=(0, 0),
            arrowprops={"arrowstyle": "-|>", "color": colors[k], "lw": 1.8, "shrinkA": 0, "shrinkB": 0},
        )
        inset.annotate(
            str(model.classes_[k]),
            xy=theta[:, k],
            xytext=(0, -7 if theta[1, k] < 0 else 7),
            textcoords="offset points",
            fontsize=6.5,
            ha="center",
            va="center",
        )
    inset.set(xlim=(-1.8, 1.8), ylim=(-1.5, 1.5), xticks=[], yticks=[], aspect="equal")
    inset.set_title(r"class vectors $\theta_k$", fontsize=7, pad=2)
