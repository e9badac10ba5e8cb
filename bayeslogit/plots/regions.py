"""Decision regions of a multiclass model in two features, one panel per fit."""

import numpy as np

from ..fits.posterior import PosteriorFit
from .scene import Scene, scatter_classes
from .style import MAX_SURFACE_DRAWS, add_footnote, new_axes, style


def draw_regions(scene: Scene, ax):
    """Multiclass model, two features: one panel per fit."""
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D

    model, (a, b), K = scene.model, scene.chosen, scene.model.n_classes
    span = np.ptp(scene.X[:, [a, b]], axis=0)
    equal = max(span) / max(min(span), 1e-12) < 5
    n = len(scene.fitted)
    fig, axes = new_axes(ax, n, (9, 1.8 + 3.6 * n) if equal else (1.5 + 5 * n, 6), nrows=n if equal else 1)
    base = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, K))[:, :3]
    G1, G2, rows = scene.grid()
    extent = [*scene.limits(a), *scene.limits(b)]
    for panel, (method, fit) in zip(axes, scene.fitted.items()):
        mean, _ = fit.predictive_moments(rows, MAX_SURFACE_DRAWS)
        winner = mean.argmax(axis=1)
        strength = (mean.max(axis=1) - 1 / K) / (1 - 1 / K)
        image = 1 - strength[:, None] * (1 - base[winner])
        panel.imshow(image.reshape(*G1.shape, 3), origin="lower", extent=extent, aspect="auto",
                     interpolation="bilinear", gid=f"{method}-regions")
        for k in range(K):  # the edge of class k's region: where its lead over the best other class is 0
            lead = mean[:, k] - np.delete(mean, k, axis=1).max(axis=1)
            panel.contour(G1, G2, lead.reshape(G1.shape), levels=[0.0], colors="black", linewidths=1.2)
        scatter_classes(scene, panel, scene.X[:, a], scene.X[:, b], base, size=22, alpha=0.9)
        _class_arrows(scene, panel, fit)
        what = "posterior mean probabilities" if isinstance(fit, PosteriorFit) else "probabilities"
        panel.set(xlim=extent[:2], ylim=extent[2:], xlabel=model.feature_names[a], ylabel=model.feature_names[b],
                  title=f"{style(method)['label']}: most probable class (argmax of {what})")
        panel.set_aspect("equal" if equal else "auto")
    arrow = Line2D([], [], color="black", marker=r"$\rightarrow$", markersize=14, linestyle="none",
                   label=r"class vector $\theta_k$ (centred; a point goes to the largest $\theta_k \cdot x$)")
    tie = Line2D([], [], color="black", linewidth=1.2, label="decision boundary (probabilities tie)")
    fig.legend(handles=axes[0].get_legend_handles_labels()[0] + [arrow, tie], loc="outside upper center",
               ncols=3, fontsize=8)
    shade = ScalarMappable(Normalize(1 / K, 1), plt.get_cmap("Greys"))
    fig.colorbar(shade, ax=axes, label="Pr(predicted class): paler = less certain", shrink=0.6)
    add_footnote(fig, scene.notes())
    return fig


def _class_arrows(scene: Scene, panel, fit):
    """Arrows of the centred class vectors in the plotted plane, from the centre of the data."""
    model, (a, b) = scene.model, scene.chosen
    start = int(model.intercept)
    theta = model.family.class_logits(fit.params)[[start + a, start + b]]  # (2, K): zeros for a reference class
    theta = theta - theta.mean(axis=1, keepdims=True)
    lengths = np.linalg.norm(theta, axis=0)
    scale = 0.4 * np.ptp(scene.X[:, [a, b]], axis=0).min() / max(lengths.max(), 1e-12)
    centre = scene.X[:, [a, b]].mean(axis=0)
    for k in range(model.n_classes):
        tip = centre + scale * theta[:, k]
        panel.annotate("", xy=tip, xytext=centre, arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.8},
                       zorder=5)
        offset = 14 * theta[:, k] / max(lengths[k], 1e-12)  # points beyond the tip, along the arrow
        panel.annotate(rf"$\theta$[{model.classes_[k]}]", xy=tip, xytext=offset, textcoords="offset points",
                       fontsize=9, ha="center", va="center", zorder=5,
                       bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.85, "linewidth": 0})
