"""Decision boundaries of several fits of one model, drawn over the data.

matplotlib is imported inside the functions, so that importing bayeslogit does not import it.
Everything is drawn in the model's feature space (``model.feature_names``); with more features than the
plot has axes, the other features are held at their means over the plotted rows.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ..boundary import boundary_quantities, pair_directions
from ..compare import evaluation_data
from ..fits import PointFit, collect_fits

METHOD_STYLES = {
    "ml": {"label": "ML", "color": "black", "linestyle": "-", "marker": "o"},
    "map": {"label": "MAP", "color": "#D55E00", "linestyle": "--", "marker": "s"},
    "laplace": {"label": "Laplace", "color": "#0072B2", "linestyle": ":", "marker": "^"},
    "mcmc": {"label": "MCMC", "color": "#009E73", "linestyle": "-.", "marker": "D"},
}
"""Method -> how it is drawn: Okabe-Ito colours, with line styles and markers that keep the methods apart
in grey-scale print."""

CLASS_MARKERS = ("o", "^", "s", "v", "D", "P", "X", "*")
MAX_SURFACE_DRAWS = 400  # posterior draws (evenly thinned) behind a probability surface


# ---- shared by the plotting modules ---------------------------------------------------------------
def style(method: str) -> dict:
    """Colour, line style, marker and label of a method (neutral for names outside :data:`METHOD_STYLES`)."""
    return METHOD_STYLES.get(method, {"label": method, "color": "grey", "linestyle": "-", "marker": "x"})


def response_name(model) -> str:
    """The formula's response, or ``"y"``."""
    formula = getattr(model, "formula", None)
    return formula.split("~")[0].strip() if formula else "y"


def failure_note(failed: dict) -> str:
    """One line naming the missing fits (``failed``: method -> FailedFit) and why, the first sentence of each reason."""
    return "; ".join(f"{style(m)['label']} not shown: {fit.reason.split('. ')[0]}" for m, fit in failed.items())


def new_axes(ax, n_panels: int, figsize: tuple, nrows: int = 1, height_ratios=None):
    """``ax`` as a list of ``n_panels`` axes (checked), or a new figure with that many."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, axes = plt.subplots(nrows, n_panels // nrows, figsize=figsize, squeeze=False, layout="constrained",
                                 height_ratios=height_ratios)
        return fig, list(axes.ravel())
    axes = list(np.atleast_1d(ax).ravel())
    if len(axes) != n_panels:
        raise ValueError(f"this plot has {n_panels} panel(s), so `ax` must hold {n_panels} axes; got {len(axes)}")
    return axes[0].figure, axes


def add_footnote(fig, lines: list[str]):
    """Notes under the panels (held features, fits not shown), wrapped to the figure's width."""
    import textwrap

    width = int(16 * fig.get_figwidth())  # characters of 8-point text per line, roughly
    text = "\n".join(textwrap.fill(line, width) for line in lines if line)
    if text:
        fig.supxlabel(text, x=0.01, ha="left", fontsize=8)


# ---- geometry -------------------------------------------------------------------------------------
def choose_features(model, features, allowed: tuple = (1, 2)) -> list[int]:
    """Column indices of the plotted features: ``features`` by name, or all when the model has few enough."""
    names = model.feature_names
    if features is None:
        if len(names) not in allowed:
            raise ValueError(f"the model has {len(names)} features {names}; pick {' or '.join(map(str, allowed))} "
                             "to plot with features=[...] (the others are held at their means)")
        return list(range(len(names)))
    features = [features] if isinstance(features, str) else list(features)
    unknown = [f for f in features if f not in names]
    if unknown:
        raise ValueError(f"features {unknown} are not features of the model; choose from {names}")
    if len(features) not in allowed or len(set(features)) != len(features):
        raise ValueError(f"give {' or '.join(map(str, allowed))} distinct feature names; got {features}")
    return [names.index(f) for f in features]


def held_note(model, chosen: list[int], fixed: np.ndarray) -> str:
    others = [j for j in range(len(fixed)) if j not in chosen]
    if not others:
        return ""
    values = ", ".join(f"{model.feature_names[j]} = {fixed[j]:.3g}" for j in others)
    return f"Other features held at their means: {values}."


def sliced_directions(model, draws: np.ndarray, chosen: list[int], fixed: np.ndarray) -> np.ndarray:
    """Class-pair directions restricted to the plotted features, the other features held at ``fixed``.

    Parameters
    ----------
    draws : ndarray of shape (S, P, M)
    chosen : list of int
        Plotted feature columns.
    fixed : ndarray of shape (n_features,)

    Returns
    -------
    ndarray of shape (S, 1 + len(chosen), n_pairs)
        An intercept (with the held features' contribution) and the chosen features' entries, ready for
        :func:`bayeslogit.boundary.boundary_quantities` with ``intercept=True``.
    """
    W = pair_directions(model, draws)
    start = int(model.intercept)
    w0 = W[:, 0] if model.intercept else np.zeros_like(W[:, 0])
    others = [j for j in range(len(fixed)) if j not in chosen]
    w0 = w0 + np.einsum("sjl,j->sl", W[:, [start + j for j in others]], fixed[others])
    return np.concatenate([w0[:, None], W[:, [start + j for j in chosen]]], axis=1)


def surface(fit, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and sd of the class probabilities at the rows of ``grid`` (G, n_features).

    Posterior fits use at most :data:`MAX_SURFACE_DRAWS` evenly thinned draws.

    Returns
    -------
    mean, sd : ndarray of shape (G, K)
        The sd is zero for a point fit.
    """
    draws = fit.coef_draws()
    draws = draws[np.linspace(0, len(draws) - 1, min(MAX_SURFACE_DRAWS, len(draws))).astype(int)]
    total = square = 0.0
    for B in draws:
        proba = np.exp(fit.model.log_probabilities(B, grid))
        total, square = total + proba, square + proba**2
    mean = total / len(draws)
    return mean, np.sqrt(np.maximum(square / len(draws) - mean**2, 0.0))


def hdi_band(values: np.ndarray, prob: float) -> np.ndarray:
    """HDI over draws of each column of ``values`` (S, G), shape (G, 2)."""
    from arviz_stats.base import array_stats

    return array_stats.hdi(values.T, prob, axis=-1)


@dataclass(frozen=True)
class _Scene:
    """What every drawing needs: the model, fits, rows to draw and the plane they are drawn in."""

    model: object
    fitted: dict
    failed: dict
    X: np.ndarray
    codes: np.ndarray
    chosen: list
    hdi_prob: float
    grid_size: int
    rng: np.random.Generator

    @property
    def fixed(self) -> np.ndarray:
        return self.X.mean(axis=0)

    def limits(self, column: int) -> tuple[float, float]:
        low, high = self.X[:, column].min(), self.X[:, column].max()
        margin = 0.05 * (high - low or 1.0)
        return low - margin, high + margin

    def grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mesh of the two plotted features: G1, G2 (n, n) and the full rows (n*n, n_features)."""
        a, b = self.chosen
        G1, G2 = np.meshgrid(np.linspace(*self.limits(a), self.grid_size), np.linspace(*self.limits(b), self.grid_size))
        rows = np.tile(self.fixed, (G1.size, 1))
        rows[:, a], rows[:, b] = G1.ravel(), G2.ravel()
        return G1, G2, rows

    def posterior_method(self) -> str | None:
        """The posterior fit whose draws are shown: MCMC (exact) when present, else the first one."""
        methods = [m for m, f in self.fitted.items() if not isinstance(f, PointFit)]
        return "mcmc" if "mcmc" in methods else (methods[0] if methods else None)

    def class_label(self, k: int) -> str:
        return f"{response_name(self.model)} = {self.model.classes_[k]}"

    def notes(self) -> list[str]:
        return [held_note(self.model, self.chosen, self.fixed), failure_note(self.failed)]


def plot_boundary(fits, X=None, y=None, ax=None, features=None, *, hdi_prob: float = 0.94, n_lines: int = 40,
                  grid_size: int = 150, random_seed=0):
    """Draw where the fits put the decision boundary, with the posterior's uncertainty about it.

    * Binary, two features: the data by class; the ML and MAP lines; for the posterior fits the
      ``hdi_prob`` HDI band of the boundary and, for the MCMC fit (else the Laplace fit), a sample of
      boundary lines and the posterior mean of ``Pr(classes_[1])`` as a surface with its 0.5 contour; a
      second panel shows that probability's posterior sd.
    * Binary, one feature: ``Pr(classes_[1])`` per method with credible bands; the threshold of each point
      fit and the HDI of each posterior's threshold.
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
    hdi_prob : float
        Probability of the credible bands and intervals.
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
    if not 0 < hdi_prob < 1:
        raise ValueError(f"`hdi_prob` must be in (0, 1); got {hdi_prob}")
    fitted, failed = collect_fits(fits)
    model = next(iter(fitted.values())).model
    X, codes, _, _ = evaluation_data(model, X, y)
    chosen = choose_features(model, features)
    if model.likelihood == "categorical" and len(chosen) != 2:
        raise ValueError(f"a multiclass model is drawn in two features; got {[model.feature_names[j] for j in chosen]}."
                         " Give two with features=[...]")
    scene = _Scene(model, fitted, failed, X, codes, chosen, hdi_prob, grid_size, np.random.default_rng(random_seed))
    if model.likelihood == "categorical":
        return _draw_regions(scene, ax)
    if len(chosen) == 1:
        return _draw_curves(scene, ax)
    return _draw_lines(scene, ax, n_lines)


def _scatter_classes(scene: _Scene, ax, x: np.ndarray, y: np.ndarray, colors, size: float = 14, alpha: float = 0.6):
    for k in range(scene.model.n_classes):
        mask = scene.codes == k
        ax.scatter(x[mask], y[mask], marker=CLASS_MARKERS[k % len(CLASS_MARKERS)], s=size, facecolor=colors[k],
                   edgecolor="black", linewidth=0.4, alpha=alpha, label=scene.class_label(k), zorder=3)


def _outline(width: float = 2.5) -> list:
    """Path effects that give a line a black outline, so that a white line shows on any surface colour."""
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=width + 2, foreground="black"), patheffects.Normal()]


def _half_contour(axis, G1, G2, p_mean):
    """The 0.5 contour of a probability surface, white with a black outline."""
    axis.contour(G1, G2, p_mean, levels=[0.5], colors="white", linewidths=2.5).set_path_effects(_outline())


def _draw_lines(scene: _Scene, ax, n_lines: int):
    """Binary model, two features."""
    from matplotlib.lines import Line2D

    model, (a, b) = scene.model, scene.chosen
    primary = scene.posterior_method()
    fig, axes = new_axes(ax, 2 if primary else 1, (13, 7) if primary else (7.5, 7))
    main = axes[0]
    G1, G2, rows = scene.grid()
    shown = primary or ("map" if "map" in scene.fitted else next(iter(scene.fitted)))
    mean, sd = surface(scene.fitted[shown], rows)
    p_mean = mean[:, 1].reshape(G1.shape)
    event = f"Pr({scene.class_label(1)})"
    where = f"{'posterior mean ' if primary else ''}{event} ({style(shown)['label']})"
    filled = main.contourf(G1, G2, p_mean, levels=np.linspace(0, 1, 11), cmap="cividis", alpha=0.45)
    fig.colorbar(filled, ax=main, label=where)
    _half_contour(main, G1, G2, p_mean)
    _scatter_classes(scene, main, scene.X[:, a], scene.X[:, b], ["white", "#E69F00"], size=10)
    contour_handle = Line2D([], [], color="white", linewidth=2.5, path_effects=_outline(), label=f"{where} = 0.5")
    x_grid = np.linspace(*scene.limits(a), 200)
    for method, fit in scene.fitted.items():
        lines = boundary_quantities(sliced_directions(model, fit.coef_draws(), scene.chosen, scene.fixed), True)
        heights = lines["intercept"][:, :1] + lines["slope"][:, :1] * x_grid  # (S, 200)
        look = style(method)
        if isinstance(fit, PointFit):
            main.plot(x_grid, heights[0], color=look["color"], linestyle=look["linestyle"], linewidth=2,
                      label=f"{look['label']} boundary", gid=f"{method}-boundary", zorder=4)
            continue
        band = hdi_band(heights, scene.hdi_prob)
        filled_band = method == primary  # the other posteriors' bands are hatched outlines
        main.fill_between(x_grid, band[:, 0], band[:, 1], facecolor=look["color"] if filled_band else "none",
                          edgecolor=look["color"], hatch=None if filled_band else "//",
                          alpha=0.35 if filled_band else 0.8, linestyle=look["linestyle"],
                          label=f"{look['label']} {scene.hdi_prob:.0%} HDI of the boundary", gid=f"{method}-band",
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


def _draw_curves(scene: _Scene, ax):
    """Binary model, one feature."""
    model, (a,) = scene.model, scene.chosen
    fig, (axis,) = new_axes(ax, 1, (11, 5.5))
    x_grid = np.linspace(*scene.limits(a), 300)
    jitter = scene.rng.uniform(-0.02, 0.02, len(scene.codes))
    _scatter_classes(scene, axis, scene.X[:, a], scene.codes + jitter, ["white", "#E69F00"], size=30, alpha=0.8)
    axis.axhline(0.5, color="grey", linewidth=0.8, zorder=1)
    posterior_index = 0
    for method, fit in scene.fitted.items():
        look = style(method)
        directions = sliced_directions(model, fit.coef_draws(), scene.chosen, scene.fixed)[..., 0]  # (S, 2)
        curves = expit(directions[:, :1] + directions[:, 1:] * x_grid)
        threshold = boundary_quantities(directions[..., None], True)["threshold"][:, 0]
        if isinstance(fit, PointFit):
            axis.plot(x_grid, curves[0], color=look["color"], linestyle=look["linestyle"], linewidth=2,
                      label=look["label"], gid=f"{method}-curve")
            axis.axvline(threshold[0], color=look["color"], linestyle=look["linestyle"], linewidth=1,
                         label=f"{look['label']} threshold {threshold[0]:.4g}", gid=f"{method}-threshold")
            continue
        band = hdi_band(curves, scene.hdi_prob)
        axis.fill_between(x_grid, band[:, 0], band[:, 1], color=look["color"], alpha=0.2,
                          label=f"{look['label']} {scene.hdi_prob:.0%} HDI", gid=f"{method}-band")
        axis.plot(x_grid, curves.mean(axis=0), color=look["color"], linestyle=look["linestyle"], linewidth=2,
                  label=f"{look['label']} posterior mean", gid=f"{method}-curve")
        low, high = hdi_band(threshold[:, None], scene.hdi_prob)[0]
        median = np.median(threshold)
        posterior_index += 1
        axis.errorbar(median, 0.5 + 0.06 * posterior_index, xerr=[[median - low], [high - median]],
                      fmt=look["marker"], color=look["color"], capsize=5, gid=f"{method}-threshold",
                      label=f"{look['label']} threshold: median {median:.4g}, {scene.hdi_prob:.0%} HDI "
                            f"[{low:.4g}, {high:.4g}]")
    name = model.feature_names[a]
    axis.set(xlim=scene.limits(a), ylim=(-0.08, 1.08), xlabel=name, ylabel=f"Pr({scene.class_label(1)})",
             title=f"Pr({scene.class_label(1)}) against {name}; the threshold is where it crosses 0.5")
    axis.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    add_footnote(fig, scene.notes())
    return fig


def _draw_regions(scene: _Scene, ax):
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
        mean, _ = surface(fit, rows)
        winner = mean.argmax(axis=1)
        strength = (mean.max(axis=1) - 1 / K) / (1 - 1 / K)
        image = 1 - strength[:, None] * (1 - base[winner])
        panel.imshow(image.reshape(*G1.shape, 3), origin="lower", extent=extent, aspect="auto",
                     interpolation="bilinear", gid=f"{method}-regions")
        for k in range(K):  # the edge of class k's region: where its lead over the best other class is 0
            lead = mean[:, k] - np.delete(mean, k, axis=1).max(axis=1)
            panel.contour(G1, G2, lead.reshape(G1.shape), levels=[0.0], colors="black", linewidths=1.2)
        _scatter_classes(scene, panel, scene.X[:, a], scene.X[:, b], base, size=22, alpha=0.9)
        _class_arrows(scene, panel, fit)
        what = "posterior mean probabilities" if not isinstance(fit, PointFit) else "probabilities"
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


def _class_arrows(scene: _Scene, panel, fit):
    """Arrows of the centred class vectors in the plotted plane, from the centre of the data."""
    model, (a, b) = scene.model, scene.chosen
    start = int(model.intercept)
    theta = model.full_logits(fit.params)[[start + a, start + b]]  # (2, K): zero column for a reference class
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
