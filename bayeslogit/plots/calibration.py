"""Reliability diagrams: does a predicted probability of p come true a fraction p of the time?"""

import numpy as np

from bayeslogit.checks import check_count
from bayeslogit.fits.statistics import intervals
from bayeslogit.fits.statistics.calibration import calibration_bins, expected_calibration_error
from bayeslogit.plots.style import add_footnote, failure_note, new_axes, response_name, style
from bayeslogit.surface.compare import collect_fits

FEW_ROWS = 10  # bins with fewer rows (total weight) are drawn hollow and named under the plot
AXIS_MARGIN = 0.03  # beyond [0, 1], so that markers at 0 or 1 are not cut


def plot_calibration(fits, X=None, y=None, ax=None, *, n_bins: int = 10, ci_prob: float | None = None):
    """Reliability diagram per method, with binomial intervals and the number of rows behind each bin.

    Binary models: the predicted ``Pr(classes_[1])`` against the observed frequency of ``classes_[1]``.
    Multiclass models: the top-label confidence ``max_k Pr(k)`` (at least ``1/K``) against the accuracy of
    the top label. Predictions are posterior predictive for posterior fits; bins are as in
    :func:`bayeslogit.fits.statistics.calibration.calibration_bins`, and the legend gives each method's expected
    calibration error, as reported by :func:`bayeslogit.surface.compare`. Each bin's frequency has its Jeffreys
    interval (the ``Beta(s + 1/2, n - s + 1/2)`` quantiles for ``s`` hits in ``n`` rows), so that a bin of two rows
    does not look alarming; bins of fewer than 10 rows are drawn hollow.

    Parameters
    ----------
    fits : dict of str to fit, sequence of fits, or a fit
        Fits of one model; failed fits are named under the plot.
    X : array-like or DataFrame of shape (n_samples, n_features), optional
        Rows to evaluate (for formula models the raw data frame); default: the training data.
    y : array-like of shape (n_samples,), optional
        Their class labels; give it with ``X``.
    ax : sequence of two Axes, optional
        The diagram and, below it, the bin counts. Default: a new figure.
    n_bins : int
        Equal-width bins of [0, 1].
    ci_prob : float, optional
        Probability of the bins' intervals; default ``arviz_base.rcParams["stats.ci_prob"]``.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` is the diagram (one line per method, ``gid`` ``"<method>-reliability"``, its
        intervals ``"<method>-interval"``), ``fig.axes[1]`` the rows per bin.
    """
    n_bins = check_count("n_bins", n_bins, 1)
    ci_prob, _ = intervals.resolve(ci_prob, "eti", ("eti",))
    fitted, failed = collect_fits(fits)
    model = next(iter(fitted.values())).model
    design, codes, weights, held_out = model.evaluation_data(X, y)
    fig, (diagram, counts) = new_axes(ax, 2, (7, 8), nrows=2, height_ratios=[3, 1])
    floor = 1 / model.n_classes if model.n_classes > 2 else 0.0  # the top-label confidence is at least 1/K
    diagram.plot(
        [floor, 1], [floor, 1], color="grey", linewidth=1.5, linestyle=(0, (1, 2)), label="perfect calibration"
    )
    centres = (np.arange(n_bins) + 0.5) / n_bins
    few = 0
    for i, (method, fit) in enumerate(fitted.items()):
        proba = np.exp(fit.log_proba_of_design(design))
        bins = calibration_bins(proba, codes, n_bins, weights)
        ece = expected_calibration_error(proba, codes, n_bins, weights)
        look = style(method)
        low, high = jeffreys_interval(bins["frequency"] * bins["weight"], bins["weight"], ci_prob)
        diagram.vlines(
            bins["confidence"], low, high, color=look["color"], linewidth=1, alpha=0.7, gid=f"{method}-interval"
        )
        diagram.plot(
            bins["confidence"],
            bins["frequency"],
            color=look["color"],
            linewidth=1.5,
            marker=look["marker"],
            clip_on=False,
            label=f"{look['label']} (ECE {ece:.3f})",
            gid=f"{method}-reliability",
        )
        sparse = bins["weight"] < FEW_ROWS
        few = max(few, int(sparse.sum()))
        diagram.plot(
            bins["confidence"][sparse],
            bins["frequency"][sparse],
            linestyle="none",
            marker=look["marker"],
            markerfacecolor="white",
            markeredgecolor=look["color"],
            clip_on=False,
            gid=f"{method}-sparse",
        )
        width = 0.8 / n_bins / len(fitted)
        counts.bar(
            centres[bins.index] + (i - (len(fitted) - 1) / 2) * width,
            bins["weight"],
            width=width,
            color=look["color"],
            edgecolor="black",
            linewidth=0.3,
            label=look["label"],
            gid=f"{method}-counts",
        )
    binary = model.n_classes == 2
    event = f"{response_name(model)} = {model.classes_[1]}"
    where = f"{'held-out' if held_out else 'in-sample'}, {len(codes)} rows"
    limits = (floor - AXIS_MARGIN, 1 + AXIS_MARGIN)
    diagram.set(
        xlim=limits,
        ylim=(-AXIS_MARGIN, 1 + AXIS_MARGIN),
        xlabel=f"predicted Pr({event})" if binary else "confidence: Pr(predicted class)",
        ylabel=f"observed frequency of {event}" if binary else "accuracy of the predicted class",
        title=f"Reliability diagram ({where})",
    )
    diagram.legend(loc="upper left", fontsize=8)
    counts.set(xlim=limits, xlabel=diagram.get_xlabel(), ylabel="rows per bin", title="How many rows each bin holds")
    counts.legend(fontsize=8)
    notes = [f"Bars: {int(ci_prob * 100)}% Jeffreys intervals of each bin's frequency."]
    if few:
        notes.append(f"Hollow markers: bins of fewer than {FEW_ROWS} rows, whose frequency says little.")
    add_footnote(fig, [*notes, failure_note(failed)])
    return fig


def jeffreys_interval(hits: np.ndarray, rows: np.ndarray, ci_prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Jeffreys interval of a binomial proportion for ``hits`` of ``rows``: the central ``ci_prob`` interval of
    ``Beta(hits + 1/2, rows - hits + 1/2)``, with 0 as the lower bound when ``hits = 0`` and 1 as the upper when
    ``hits = rows``. Arrays of shape (n_bins,)."""
    from scipy.stats import beta

    rows = np.asarray(rows, float)
    hits = np.clip(np.asarray(hits, float), 0.0, rows)
    a, b = hits + 0.5, rows - hits + 0.5
    low = np.where(hits > 1e-9 * rows, beta.ppf((1 - ci_prob) / 2, a, b), 0.0)
    high = np.where(hits < (1 - 1e-9) * rows, beta.ppf((1 + ci_prob) / 2, a, b), 1.0)
    return low, high
