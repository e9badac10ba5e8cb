"""Decision boundaries of several fits of one model, drawn over the data.

matplotlib is imported inside the functions, so that importing bayeslogit does not import it.
Everything is drawn in the model's feature space (``model.feature_names``); with more features than the
plot has axes, the other features are held at their means over the plotted rows.
"""

import numpy as np

from ..fits import intervals
from ..fits.boundary import boundary_quantities, slice_directions
from ..fits.collection import collect_fits
from ..fits.posterior import PosteriorFit
from .regions import draw_regions
from .scene import Scene, scatter_classes
from .style import (MAX_SURFACE_DRAWS, add_footnote, choose_features, interval_band, interval_label, new_axes,
                    style)


def plot_boundary(fits, X=None, y=None, ax=None, features=None, *, ci_prob: float | None = None,
                  ci_kind: str | None = None, n_lines: int = 40, grid_size: int = 150, random_seed=0):
    """Draw where the fits put the decision boundary, with the posterior's uncertainty about it.

    * Binary, two features: the data by class; the ML and MAP lines; for the posterior fits the
      ``ci_prob`` credible band of the boundary and, for the MCMC fit (else the Laplace fit), a sample of
      boundary lines and the posterior mean of ``Pr(classes_[1])`` as a surface with its 0.5 contour; a
      second panel shows that probability's posterior sd.
    * Binary, one feature: ``Pr(classes_[1])`` per method with credible bands; the threshold of each point
      fit and the credible interval of each posterior's threshold.
    * Multiclass, two features: one panel per method with the decision regions (argmax of the posterior
      mean probabilities), paler where the winning class is less probable, and the class vectors
      ``theta_k`` (centred over the classes, which leaves the softmax unchanged) as arrows from the data's
      centre: a point belongs to the class whose vector has the largest dot product with it. Axes have
      equal scales when the features' ranges are within a factor 5, so that the vectors are
      perpendicular to the boundaries as in the algebra.

    Parameters
    ----------
    fits : dict of str to fit, sequence of fits, or a fit
        Fits of one model, e.g. ``model.fit_all(prior)``; failed fits are named under the plot.
    X : array-like or DataFrame of shape (n_samples, n_features), optional
        Rows to draw (for formula models the raw data frame); default: the training data.
    y : array-like of shape (n_samples,), optional
        Their class labels; give it with ``X``.
    ax : Axes or sequence of Axes, optional
        One per panel: two for a binary model with two features and a posterior fit, one per fit for a
        multiclass model, else one. Default: a new figure.
    features : str or sequence of str, optional
        The one (binary only) or two features to draw; required when the model has more, whose others are
        then held at their means over ``X`` (noted under the plot).
    ci_prob : float, optional
        Probability of the credible bands and intervals; default ``arviz_base.rcParams["stats.ci_prob"]``.
    ci_kind : {"eti", "hdi"}, optional
        Their kind; default ``arviz_base.rcParams["stats.ci_kind"]``.
    n_lines : int
        Posterior boundary lines drawn (binary, two features).
    grid_size : int
        Points per axis of the probability surfaces.
    random_seed : int or numpy.random.Generator
        Chooses the posterior lines drawn and the vertical jitter of one-feature plots.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes`` starts with the panels, in order; colour bars follow.
    """
    ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, intervals.POSTERIOR_KINDS)
    fitted, failed = collect_fits(fits)
    model = next(iter(fitted.values())).model
    if X is None and y is None:
        model.data.require_in_memory("plot_boundary, which draws every row,",
                                     "pass an in-memory sample of the rows: plot_boundary(fits, X=..., y=...)")
    X, codes, _, _ = model.evaluation_data(X, y)
    chosen = choose_features(model, features)
    scene = Scene(model, fitted, failed, X, codes, chosen, ci_prob, ci_kind, grid_size,
                  np.random.default_rng(random_seed))
    if len(model.layout.pairs) > 1:  # several class pairs: regions, not one boundary
        if len(chosen) != 2:
            raise ValueError(f"a model of {model.n_classes} classes is drawn in two features; got "
                             f"{[model.feature_names[j] for j in chosen]}. Give two with features=[...]")
        return draw_regions(scene, ax)
    if len(chosen) == 1:
        return _draw_curves(scene, ax)
    return _draw_lines(scene, ax, n_lines)


def _outline(width: float = 2.5) -> list:
    """Path effects that give a line a black outline, so that a white line shows on any surface colour."""
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=width + 2, foreground="black"), patheffects.Normal()]


def _half_contour(axis, G1, G2, p_mean):
    """The 0.5 contour of a probability surface, white with a black outline."""
    axis.contour(G1, G2, p_mean, levels=[0.5], colors="white", linewidths=2.5).set_path_effects(_outline())


def _draw_lines(scene: Scene, ax, n_lines: int):
    """Binary model, two features."""
    from matplotlib.lines import Line2D

    model, (a, b) = scene.model, scene.chosen
    primary = scene.posterior_method()
    fig, axes = new_axes(ax, 2 if primary else 1, (13, 7) if primary else (7.5, 7))
    main = axes[0]
    G1, G2, rows = scene.grid()
    # Without a posterior, the surface of the first fit under a prior (a MAP stays finite under separation).
    shown = primary or next((m for m, f in scene.fitted.items() if f.prior is not None), next(iter(scene.fitted)))
    mean, sd = scene.fitted[shown].predictive_moments(rows, MAX_SURFACE_DRAWS)
    p_mean = mean[:, 1].reshape(G1.shape)
    event = f"Pr({scene.class_label(1)})"
    where = f"{'posterior mean ' if primary else ''}{event} ({style(shown)['label']})"
    filled = main.contourf(G1, G2, p_mean, levels=np.linspace(0, 1, 11), cmap="cividis", alpha=0.45)
    fig.colorbar(filled, ax=main, label=where)
    _half_contour(main, G1, G2, p_mean)
    scatter_classes(scene, main, scene.X[:, a], scene.X[:, b], ["white", "#E69F00"], size=10)
    contour_handle = Line2D([], [], color="white", linewidth=2.5, path_effects=_outline(), label=f"{where} = 0.5")
    x_grid = np.linspace(*scene.limits(a), 200)
    band_label = interval_label(scene.ci_prob, scene.ci_kind)
    for method, fit in scene.fitted.items():
        directions = slice_directions(model.layout, fit.pooled_draws(), scene.chosen, scene.fixed)
        lines = boundary_quantities(directions, True)
        heights = lines["intercept"][:, :1] + lines["slope"][:, :1] * x_grid  # (S, 200)
        look = style(method)
        if not isinstance(fit, PosteriorFit):
            main.plot(x_grid, heights[0], color=look["color"], linestyle=look["linestyle"], linewidth=2,
                      label=f"{look['label']} boundary", gid=f"{method}-boundary", zorder=4)
            continue
        band = interval_band(heights, scene.ci_prob, scene.ci_kind)
        filled_band = method == primary  # the other posteriors' bands are hatched outlines
        main.fill_between(x_grid, band[:, 0], band[:, 1], facecolor=look["color"] if filled_band else "none",
                          edgecolor=look["color"], hatch=None if filled_band else "//",
                          alpha=0.35 if filled_band else 0.8, linestyle=look["linestyle"],
                          label=f"{look['label']} {band_label} of the boundary", gid=f"{method}-band",
                          zorder=2)
        if filled_band:
            picked = scene.rng.choice(len(heights), size=min(n_lines, len(heights)), replace=False)
            for i, row in enumerate(heights[picked]):
                main.plot(x_grid, row, color=look["color"], linewidth=0.6, alpha=0.4, gid=f"{method}-draw",
                          label=f"{look['label']} boundary of {len(picked)} posterior draws" if i == 0 else None,
                          zorder=2)
    main.set(xlim=scene.limits(a), ylim=scene.limits(b), xlabel=model.feature_names[a],
             ylabel=model.feature_names[b], title=f"Where each method puts {event} = 0.5")
    legend = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.1), "fontsize": 8, "ncols": 2}
    main.legend(handles=main.get_legend_handles_labels()[0] + [contour_handle], **legend)
    if primary:
        panel = axes[1]
        image = panel.contourf(G1, G2, sd[:, 1].reshape(G1.shape), levels=12, cmap="viridis")
        fig.colorbar(image, ax=panel, label=f"posterior sd of {event}")
        _half_contour(panel, G1, G2, p_mean)
        panel.legend(handles=[contour_handle], **legend)
        panel.set(xlim=scene.limits(a), ylim=scene.limits(b), xlabel=model.feature_names[a],
                  ylabel=model.feature_names[b], title=f"Posterior uncertainty of {event} ({style(primary)['label']})")
    add_footnote(fig, scene.notes())
    return fig


def _draw_curves(scene: Scene, ax):
    """Binary model, one feature."""
    model, (a,) = scene.model, scene.chosen
    fig, (axis,) = new_axes(ax, 1, (11, 5.5))
    x_grid = np.linspace(*scene.limits(a), 300)
    rows = np.tile(scene.fixed, (len(x_grid), 1))
    rows[:, a] = x_grid
    jitter = scene.rng.uniform(-0.02, 0.02, len(scene.codes))
    scatter_classes(scene, axis, scene.X[:, a], scene.codes + jitter, ["white", "#E69F00"], size=30, alpha=0.8)
    axis.axhline(0.5, color="grey", linewidth=0.8, zorder=1)
    band_label = interval_label(scene.ci_prob, scene.ci_kind)
    posterior_index = 0
    for method, fit in scene.fitted.items():
        look = style(method)
        curves = fit.predictive_draws(rows)[:, :, 1]  # (S, 300): Pr(classes_[1]) along the grid, per draw
        directions = slice_directions(model.layout, fit.pooled_draws(), scene.chosen, scene.fixed)
        threshold = boundary_quantities(directions, True)["threshold"][:, 0]
        if not isinstance(fit, PosteriorFit):
            axis.plot(x_grid, curves[0], color=look["color"], linestyle=look["linestyle"], linewidth=2,
                      label=look["label"], gid=f"{method}-curve")
            axis.axvline(threshold[0], color=look["color"], linestyle=look["linestyle"], linewidth=1,
                         label=f"{look['label']} threshold {threshold[0]:.4g}", gid=f"{method}-threshold")
            continue
        band = interval_band(curves, scene.ci_prob, scene.ci_kind)
        axis.fill_between(x_grid, band[:, 0], band[:, 1], color=look["color"], alpha=0.2,
                          label=f"{look['label']} {band_label}", gid=f"{method}-band")
        axis.plot(x_grid, curves.mean(axis=0), color=look["color"], linestyle=look["linestyle"], linewidth=2,
                  label=f"{look['label']} posterior mean", gid=f"{method}-curve")
        low, high = interval_band(threshold[:, None], scene.ci_prob, scene.ci_kind)[0]
        median = np.median(threshold)
        posterior_index += 1
        axis.errorbar(median, 0.5 + 0.06 * posterior_index, xerr=[[median - low], [high - median]],
                      fmt=look["marker"], color=look["color"], capsize=5, gid=f"{method}-threshold",
                      label=f"{look['label']} threshold: median {median:.4g}, {band_label} [{low:.4g}, {high:.4g}]")
    name = model.feature_names[a]
    axis.set(xlim=scene.limits(a), ylim=(-0.08, 1.08), xlabel=name, ylabel=f"Pr({scene.class_label(1)})",
             title=f"Pr({scene.class_label(1)}) against {name}; the threshold is where it crosses 0.5")
    axis.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    add_footnote(fig, scene.notes())
    return fig


