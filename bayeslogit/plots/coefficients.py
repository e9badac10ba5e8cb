"""Forest plot of the coefficients of several fits: estimate and interval per method."""

import numpy as np

from ..fits import PointFit, coef_labels, collect_fits, normal_interval
from .boundary import add_footnote, failure_note, new_axes, style


def coef_intervals(fit, prob: float = 0.94) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and intervals of ``vec(B)``.

    Point fits: the estimate and the normal interval ``estimate +- z sd`` with ``sd`` from ``fit.cov``.
    Posterior fits: the posterior mean and the highest-density interval of the draws.

    Returns
    -------
    estimate : ndarray of shape (P*M,)
    interval : ndarray of shape (P*M, 2)
    """
    estimate = fit.params.ravel(order="F")
    if isinstance(fit, PointFit):
        return estimate, np.column_stack(normal_interval(estimate, np.sqrt(np.diag(fit.cov.to_numpy())), prob))
    from arviz_stats.base import array_stats

    draws = fit.coef_draws()
    flat = draws.transpose(0, 2, 1).reshape(len(draws), -1)  # (S, P*M) in vec order
    return estimate, array_stats.hdi(flat.T, prob, axis=-1)


def plot_coef(fits, ax=None, *, prob: float = 0.94):
    """Every coefficient across the methods: one panel per coefficient, one row per method.

    Each coefficient has its own horizontal scale (an intercept and a slope can differ by orders of
    magnitude); a vertical line marks zero when it is in range.

    Parameters
    ----------
    fits : dict of str to fit, sequence of fits, or a fit
        Fits of one model; failed fits are named under the plot.
    ax : sequence of Axes, optional
        One per coefficient (``P * M``), in the order of ``coef_labels``. Default: a new figure.
    prob : float
        Probability of the intervals: normal intervals for point fits, HDIs for posterior fits.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes`` holds one panel per coefficient; in each, method ``i`` (in the order of ``fits``) is
        drawn at height ``-i``.
    """
    if not 0 < prob < 1:
        raise ValueError(f"`prob` must be in (0, 1); got {prob}")
    fitted, failed = collect_fits(fits)
    model = next(iter(fitted.values())).model
    labels = coef_labels(model)
    fig, axes = new_axes(ax, len(labels), (7.5, 1.0 + 1.1 * len(labels) + 0.25 * len(fitted)), nrows=len(labels))
    intervals = {method: coef_intervals(fit, prob) for method, fit in fitted.items()}
    for j, (panel, label) in enumerate(zip(axes, labels)):
        for i, (method, (estimate, interval)) in enumerate(intervals.items()):
            look = style(method)
            kind = "normal interval" if isinstance(fitted[method], PointFit) else "HDI"
            panel.plot(interval[j], [-i, -i], color=look["color"], linestyle=look["linestyle"], linewidth=2,
                       gid=f"{method}-interval")
            panel.plot(estimate[j], -i, marker=look["marker"], color=look["color"], linestyle="none", markersize=7,
                       label=f"{look['label']}: {'estimate' if kind != 'HDI' else 'posterior mean'}, "
                             f"{prob:.0%} {kind}", gid=f"{method}-estimate")
        low, high = panel.get_xlim()
        if low < 0 < high:
            panel.axvline(0, color="grey", linewidth=0.8, zorder=0)
        panel.set_yticks(-np.arange(len(intervals)), [style(m)["label"] for m in intervals])
        panel.set_ylim(-len(intervals) + 0.4, 0.6)
        panel.set_title(label, fontsize=10, loc="left")
    axes[-1].set_xlabel("coefficient (change in log-odds per unit of the feature)")
    fig.legend(handles=axes[0].get_legend_handles_labels()[0], loc="outside upper center", ncols=2, fontsize=8,
               title=f"Coefficients by method: estimate and {prob:.0%} interval", title_fontsize=11)
    add_footnote(fig, [failure_note(failed)])
    return fig
