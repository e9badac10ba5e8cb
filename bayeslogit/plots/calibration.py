"""Reliability diagrams: does a predicted probability of p come true a fraction p of the time?"""

import numpy as np

from ..checks import check_count
from ..compare import calibration_bins, expected_calibration_error
from ..fits.collection import collect_fits
from .style import add_footnote, failure_note, new_axes, response_name, style


def plot_calibration(fits, X=None, y=None, ax=None, *, n_bins: int = 10):
    """Reliability diagram per method, with the number of rows behind each bin.

    Binary models: the predicted ``Pr(classes_[1])`` against the observed frequency of ``classes_[1]``.
    Multiclass models: the top-label confidence ``max_k Pr(k)`` against the accuracy of the top label.
    Predictions are posterior predictive for posterior fits; bins are as in
    :func:`bayeslogit.compare.calibration_bins`, and the legend gives each method's expected calibration
    error, as reported by :func:`bayeslogit.compare`.

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

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` is the diagram (one line per method, ``gid`` ``"<method>-reliability"``),
        ``fig.axes[1]`` the rows per bin.
    """
    n_bins = check_count("n_bins", n_bins, 1)
    fitted, failed = collect_fits(fits)
    model = next(iter(fitted.values())).model
    design, codes, weights, held_out = model.evaluation_data(X, y)
    fig, (diagram, counts) = new_axes(ax, 2, (7, 8), nrows=2, height_ratios=[3, 1])
    diagram.plot([0, 1], [0, 1], color="grey", linewidth=1.5, linestyle=(0, (1, 2)), label="perfect calibration")
    centres = (np.arange(n_bins) + 0.5) / n_bins
    for i, (method, fit) in enumerate(fitted.items()):
        proba = np.exp(fit.log_proba_of_design(design))
        bins = calibration_bins(proba, codes, n_bins, weights)
        ece = expected_calibration_error(proba, codes, n_bins, weights)
        look = style(method)
        diagram.plot(bins["confidence"], bins["frequency"], color=look["color"], linestyle=look["linestyle"],
                     marker=look["marker"], label=f"{look['label']} (ECE {ece:.3f})", gid=f"{method}-reliability")
        width = 0.8 / n_bins / len(fitted)
        counts.bar(centres[bins.index] + (i - (len(fitted) - 1) / 2) * width, bins["weight"], width=width,
                   color=look["color"], hatch=("", "//", "..", "xx")[i % 4], edgecolor="black", linewidth=0.3,
                   label=look["label"], gid=f"{method}-counts")
    binary = model.n_classes == 2
    event = f"{response_name(model)} = {model.classes_[1]}"
    where = f"{'held-out' if held_out else 'in-sample'}, {len(codes)} rows"
    diagram.set(xlim=(0, 1), ylim=(0, 1),
                xlabel=f"predicted Pr({event})" if binary else "confidence: Pr(predicted class)",
                ylabel=f"observed frequency of {event}" if binary else "accuracy of the predicted class",
                title=f"Reliability diagram ({where})")
    diagram.legend(loc="upper left", fontsize=8)
    counts.set(xlim=(0, 1), xlabel=diagram.get_xlabel(), ylabel="rows per bin", title="How many rows each bin holds")
    counts.legend(fontsize=8)
    add_footnote(fig, [failure_note(failed)])
    return fig
