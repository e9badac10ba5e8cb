"""What the plots share: how each method is drawn, their axes and footnotes, the features they show,
and the intervals they draw."""

import textwrap

import numpy as np

from ..fits import intervals

METHOD_STYLES = {
    "ml": {"label": "ML", "color": "black", "linestyle": "-", "marker": "o"},
    "map": {"label": "MAP", "color": "#D55E00", "linestyle": "--", "marker": "s"},
    "laplace": {"label": "Laplace", "color": "#0072B2", "linestyle": ":", "marker": "^"},
    "mcmc": {"label": "MCMC", "color": "#009E73", "linestyle": "-.", "marker": "D"},
}
"""Method -> how it is drawn: Okabe-Ito colours, with line styles and markers that keep the methods apart
in grey-scale print."""

MAX_SURFACE_DRAWS = 400  # posterior draws (evenly thinned) behind a probability surface


def style(method: str) -> dict:
    """Colour, line style, marker and label of a method (neutral for names outside :data:`METHOD_STYLES`)."""
    return METHOD_STYLES.get(method, {"label": method, "color": "grey", "linestyle": "-", "marker": "x"})


def response_name(model) -> str:
    """The formula's response, or ``"y"``."""
    formula = getattr(model, "formula", None)
    return formula.split("~")[0].strip() if formula else "y"


def failure_note(failed: dict) -> str:
    """One line naming the missing fits (``failed``: method -> FailedFit) and why."""
    return "; ".join(f"{style(m)['label']} not shown: {fit.reason}" for m, fit in failed.items())


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
    width = int(16 * fig.get_figwidth())  # characters of 8-point text per line, roughly
    text = "\n".join(textwrap.fill(line, width) for line in lines if line)
    if text:
        fig.supxlabel(text, x=0.01, ha="left", fontsize=8)


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


def interval_band(values: np.ndarray, ci_prob: float, ci_kind: str) -> np.ndarray:
    """ArviZ's interval over draws of each column of ``values`` (S, G), shape (G, 2)."""
    return intervals.of_draws(values.T, ci_prob, ci_kind)


def interval_label(ci_prob: float, ci_kind: str) -> str:
    """``"89% ETI"``, ``"89% HDI"``, ``"89% Wald interval"``: an interval's level and kind as a legend says it."""
    kind = ci_kind.upper() if ci_kind in intervals.POSTERIOR_KINDS else f"{ci_kind.capitalize()} interval"
    return f"{int(ci_prob * 100)}% {kind}"
