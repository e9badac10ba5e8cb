"""Forest plot of the coefficients of several fits: estimate and interval per method."""

import numpy as np

from bayeslogit.fits.statistics import intervals
from bayeslogit.plots.fonts import draw_names
from bayeslogit.plots.style import add_footnote, failure_note, interval_label, labelled, new_axes, plot_units, style
from bayeslogit.surface.compare import collect_fits


def coef_intervals(fit, ci_prob: float, ci_kind: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Estimates and intervals of ``vec(B)``, and the interval's name.

    Fits whose draws are a posterior's: the posterior mean and the ``ci_kind`` interval of the draws. Point fits:
    the estimate and the Wald interval ``estimate -+ z se`` (``ci_kind`` concerns posteriors only).

    Returns
    -------
    estimate : ndarray of shape (P*M,)
    interval : ndarray of shape (P*M, 2)
    kind : str
        E.g. ``"89% Wald"`` or ``"89% ETI"``.
    """
    estimate = fit.params.ravel(order="F")
    if not fit.draws_are_posterior:
        bounds = intervals.wald(estimate, fit.uncertainty, ci_prob)
        return estimate, np.column_stack(bounds), interval_label(ci_prob, "wald")
    draws = fit.pooled_draws()
    flat = draws.transpose(0, 2, 1).reshape(len(draws), -1)  # (S, P*M) in vec order
    return estimate, intervals.of_draws(flat.T, ci_prob, ci_kind), interval_label(ci_prob, ci_kind)


INNER_PROB = 0.5  # the thick inner interval, as ArviZ's forest plot draws its "trunk"


def plot_coef(fits, ax=None, *, ci_prob: float | None = None, ci_kind: str | None = None, units: dict | None = None):
    """Every coefficient across the methods: one panel per coefficient, one row per method.

    Each coefficient has its own horizontal scale (an intercept and a slope can differ by orders of
    magnitude); a vertical line marks zero when it is in range. As in ArviZ's forest plot, each method shows
    its estimate, a thick 50% interval and a thin ``ci_prob`` interval, all solid; methods differ by colour,
    marker and row. For a multiclass model with a reference class, each panel says which class its
    coefficient compares with the reference. A coefficient of a column with a unit says per what it is: a
    slope is the change in log-odds per unit of its column (``"dist100 (per 100 m)"``). A fit whose computation
    did not pass its checks is named with its trouble in the legend (``"... (53 divergences)"``).

    Parameters
    ----------
    fits : dict of str to fit, sequence of fits, or a fit
        Fits of one model; failed fits are named under the plot.
    ax : sequence of Axes, optional
        One per coefficient (``P * M``), in the order of ``coef_labels``. Default: a new figure.
    ci_prob : float, optional
        Probability of the thin intervals (Wald intervals for point fits); default
        ``arviz_base.rcParams["stats.ci_prob"]``.
    ci_kind : {"eti", "hdi"}, optional
        The posterior fits' intervals; default ``arviz_base.rcParams["stats.ci_kind"]``.
    units : dict of str to str, optional
        Units of columns, e.g. ``{"income": "USD 1000"}``; they update those in the model's data frame's
        ``attrs["units"]`` (where the bundled data sets keep theirs).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes`` holds one panel per coefficient; in each, method ``i`` (in the order of ``fits``) is
        drawn at height ``-i``: ``gid`` ``"<method>-interval"`` (``ci_prob``), ``"<method>-inner"`` (50%) and
        ``"<method>-estimate"``.
    """
    ci_prob, ci_kind = intervals.resolve(ci_prob, ci_kind, intervals.POSTERIOR_KINDS)
    fitted, failed = collect_fits(fits)
    model = next(iter(fitted.values())).model
    labels = coef_titles(model, plot_units(model, None, units))
    fig, axes = new_axes(ax, len(labels), (7.5, 1.0 + 1.1 * len(labels) + 0.25 * len(fitted)), nrows=len(labels))
    shown = {method: coef_intervals(fit, ci_prob, ci_kind) for method, fit in fitted.items()}
    inner = {method: coef_intervals(fit, INNER_PROB, ci_kind)[1] for method, fit in fitted.items()}
    for j, (panel, label) in enumerate(zip(axes, labels)):
        for i, (method, (estimate, interval, kind)) in enumerate(shown.items()):
            look = style(method)
            what = fitted[method].estimate_name
            panel.plot(
                interval[j],
                [-i, -i],
                color=look["color"],
                linewidth=1.2,
                solid_capstyle="butt",
                gid=f"{method}-interval",
            )
            panel.plot(
                inner[method][j],
                [-i, -i],
                color=look["color"],
                linewidth=4,
                solid_capstyle="butt",
                gid=f"{method}-inner",
            )
            panel.plot(
                estimate[j],
                -i,
                marker=look["marker"],
                color=look["color"],
                markeredgecolor="white",
                linestyle="none",
                markersize=8,
                label=labelled(f"{look['label']}: {what}, 50% and {kind}", fitted[method]),
                gid=f"{method}-estimate",
            )
        panel.margins(x=0.08)
        low, high = panel.get_xlim()
        if low < 0 < high:
            panel.axvline(0, color="grey", linewidth=0.8, zorder=0)
        panel.set_yticks(-np.arange(len(shown)), [style(m)["label"] for m in shown])
        panel.set_ylim(-len(shown) + 0.4, 0.6)
        panel.set_title(label, fontsize=10, loc="left")
    axes[-1].set_xlabel("coefficient (change in log-odds per unit of the feature)")
    fig.legend(
        handles=axes[0].get_legend_handles_labels()[0],
        loc="outside upper center",
        ncols=2,
        fontsize=8,
        title=f"Coefficients by method: estimate, 50% (thick) and {int(ci_prob * 100)}% (thin) intervals",
        title_fontsize=10,
    )
    add_footnote(fig, [failure_note(failed)])
    return draw_names(fig)


def coef_titles(model, units: dict | None = None) -> list[str]:
    """The panels' titles: the labels of ``vec(B)`` with the unit of their column where ``units`` has one
    (``"dist100 (per 100 m)"``), and for a multiclass model with a reference class what each column's coefficients
    compare (``"petal_length[versicolor] (per cm): log-odds of versicolor against setosa (reference)"``)."""
    units, names, P = {} if units is None else units, model.coef_names, len(model.coef_names)
    labels = [
        f"{label} (per {units[names[i % P]]})" if names[i % P] in units else label
        for i, label in enumerate(model.layout.flat_labels)
    ]
    if model.n_classes == 2 or not model.family.reference:
        return labels
    reference = model.classes_[0]
    return [
        f"{label}: log-odds of {model.coef_classes[i // P]} against {reference} (reference)"
        for i, label in enumerate(labels)
    ]
