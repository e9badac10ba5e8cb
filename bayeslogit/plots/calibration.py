"""Reliability diagrams: does a predicted probability of p come true a fraction p of the time?"""

import numpy as np

from bayeslogit.checks import check_count
from bayeslogit.fits.statistics import intervals
from bayeslogit.fits.statistics.calibration import calibration_bins, expected_calibration_error
from bayeslogit.plots.fonts import draw_names
from bayeslogit.plots.style import add_footnote, failure_note, labelled, new_axes, response_name, style
from bayeslogit.surface.compare import collect_fits

MIN_ROWS = 20
"""Rows (total weight) a bin needs to be drawn: at 20 rows the 89% Jeffreys interval of a frequency near 0.5 is
already +-0.17 wide; with fewer it spans much of the axis and the bin's frequency says little."""

COINCIDE = 0.005
"""Curves whose bins agree to within this much in predicted and observed probability are drawn as one, named
``"ML = MAP"``: a line 1.5 points wide on the default figure's 5-inch diagram is 0.5% of its axis wide."""

AXIS_MARGIN = 0.03  # beyond [0, 1], so that markers at 0 or 1 are not cut


def plot_calibration(fits, X=None, y=None, ax=None, *, n_bins: int = 10, ci_prob: float | None = None):
    """Reliability diagram per method, with binomial intervals and the number of rows behind each bin.

    Binary models: the predicted ``Pr(classes_[1])`` against the observed frequency of ``classes_[1]``.
    Multiclass models: the top-label confidence ``max_k Pr(k)`` (at least ``1/K``) against the accuracy of
    the top label. Predictions are posterior predictive for posterior fits; bins are as in
    :func:`bayeslogit.fits.statistics.calibration.calibration_bins`, and the legend gives each method's expected
    calibration error over ``n_bins`` bins, as reported by :func:`bayeslogit.surface.compare`. Each bin's
    frequency has its Jeffreys interval (the ``Beta(s + 1/2, n - s + 1/2)`` quantiles for ``s`` hits in ``n``
    rows).

    A bin needs :data:`MIN_ROWS` rows: the diagram uses no more bins than the rows fill on average (fewer than
    ``n_bins`` where the rows are few, as a note says), leaves out of the curves the bins that still hold fewer
    (their rows still show in the counts; a curve is broken where they were), and with fewer rows than two bins
    need draws no curve but says why.
    Methods whose curves coincide (:data:`COINCIDE`) share one curve and one legend entry, ``"ML = MAP"``; a fit
    whose computation did not pass its checks is named with its trouble, ``"MCMC (53 divergences)"``.

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
        Equal-width bins of [0, 1], at most; also those of the legend's expected calibration error.
    ci_prob : float, optional
        Probability of the bins' intervals; default ``arviz_base.rcParams["stats.ci_prob"]``.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` is the diagram: one line per group of coinciding methods, ``gid``
        ``"<methods>-reliability"`` (the methods joined by ``+``, e.g. ``"ml+map-reliability"``), its intervals
        ``"<methods>-interval"``; ``fig.axes[1]`` the rows per bin (``"<methods>-counts"``); ``fig.legends[0]``
        the legend, above the panels.
    """
    n_bins = check_count("n_bins", n_bins, 1)
    ci_prob, _ = intervals.resolve(ci_prob, "eti", ("eti",))
    fitted, failed = collect_fits(fits)
    model = next(iter(fitted.values())).model
    design, codes, weights, held_out = model.evaluation_data(X, y)
    fig, (diagram, counts) = new_axes(ax, 2, (7, 8.5), nrows=2, height_ratios=[3, 1])
    floor = 1 / model.n_classes if model.n_classes > 2 else 0.0  # the top-label confidence is at least 1/K
    _label_axes(diagram, counts, model, held_out, len(codes), floor)
    total = float(np.sum(weights))
    drawn = min(n_bins, int(total // MIN_ROWS))
    if drawn < 2:
        add_footnote(fig, [_too_few(diagram, counts, total), failure_note(failed)])
        return draw_names(fig)
    diagram.plot(
        [floor, 1], [floor, 1], color="grey", linewidth=1.5, linestyle=(0, (1, 2)), label="perfect calibration"
    )
    probabilities = {method: np.exp(fit.log_proba_of_design(design)) for method, fit in fitted.items()}
    curves = {method: calibration_bins(proba, codes, drawn, weights) for method, proba in probabilities.items()}
    eces = {m: expected_calibration_error(p, codes, n_bins, weights) for m, p in probabilities.items()}
    groups = _coinciding(curves)
    for i, group in enumerate(groups):
        names = " = ".join(labelled(style(m)["label"], fitted[m]) for m in group)
        shown = sorted({f"{eces[m]:.3f}" for m in group})  # one figure where they agree, else their range
        shown = shown[0] if len(shown) == 1 else f"{shown[0]} to {shown[-1]}"
        slot = (i, len(groups), drawn)
        _draw_group((diagram, counts), group, curves[group[0]], f"{names} (ECE {shown})", slot, ci_prob)
    notes = _bin_notes(curves, n_bins, drawn, total, ci_prob)
    fig.legend(handles=diagram.get_legend_handles_labels()[0], loc="outside upper center", ncols=2, fontsize=8)
    add_footnote(fig, [*notes, failure_note(failed)])
    return draw_names(fig)


def _coinciding(curves: dict) -> list[list[str]]:
    """The methods in groups whose curves coincide with the group's first one (the same bins drawn, within
    :data:`COINCIDE`), in the order given."""
    groups: list[list[str]] = []
    for method, bins in curves.items():
        kept = bins[bins["weight"] >= MIN_ROWS]
        for group in groups:
            first = curves[group[0]]
            first = first[first["weight"] >= MIN_ROWS]
            if kept.index.equals(first.index) and np.allclose(
                kept[["confidence", "frequency"]], first[["confidence", "frequency"]], rtol=0, atol=COINCIDE
            ):
                group.append(method)
                break
        else:
            groups.append([method])
    return groups


def _draw_group(axes: tuple, group: list, bins, label: str, slot: tuple, ci_prob: float) -> None:
    """The curve, intervals and counts of a group of coinciding methods, in its first method's look, on the axes
    ``(diagram, counts)``; ``slot`` is (the group's index, the number of groups, the number of bins)."""
    (diagram, counts), look, gid = axes, style(group[0]), "+".join(group)
    i, n_groups, n_bins = slot
    kept = bins[bins["weight"] >= MIN_ROWS]
    low, high = jeffreys_interval(kept["frequency"] * kept["weight"], kept["weight"], ci_prob)
    diagram.vlines(kept["confidence"], low, high, color=look["color"], linewidth=1, alpha=0.7, gid=f"{gid}-interval")
    width = 0.8 / n_bins / n_groups
    counts.bar(
        (bins.index + 0.5) / n_bins + (i - (n_groups - 1) / 2) * width,
        bins["weight"],
        width=width,
        color=look["color"],
        edgecolor="black",
        linewidth=0.3,
        gid=f"{gid}-counts",
    )
    diagram.plot(
        *_broken(kept),
        color=look["color"],
        linewidth=1.5,
        marker=look["marker"],
        clip_on=False,
        label=label,
        gid=f"{gid}-reliability",
    )


def _broken(kept) -> tuple[np.ndarray, np.ndarray]:
    """The curve through the bins ``kept`` (confidence, frequency), broken by a NaN where bins between two were
    left out: a line drawn across them would claim a calibration that no bin measured."""
    gaps = np.flatnonzero(np.diff(kept.index) > 1) + 1
    x, y = kept["confidence"].to_numpy(), kept["frequency"].to_numpy()
    return np.insert(x, gaps, np.nan), np.insert(y, gaps, np.nan)


def _bin_notes(curves: dict, n_bins: int, drawn: int, total: float, ci_prob: float) -> list[str]:
    """What the footnote says of the bins of ``curves`` (method -> bins): their intervals, fewer bins than asked,
    bins left out (of the method that leaves out most rows)."""
    notes = [f"Bars: {int(ci_prob * 100)}% Jeffreys intervals of each bin's frequency."]
    if drawn < n_bins:
        notes.append(
            f"{drawn} bins, not {n_bins}: {total:.0f} rows fill {drawn} bins of {MIN_ROWS} rows on average "
            f"(the legend's ECE is over {n_bins} bins, as compare reports it)."
        )
    sparse = max((bins[bins["weight"] < MIN_ROWS] for bins in curves.values()), key=lambda b: b["weight"].sum())
    if len(sparse):
        notes.append(
            f"Left out of the curves: {len(sparse)} bin{'s' if len(sparse) > 1 else ''} of fewer than {MIN_ROWS} "
            f"rows ({sparse['weight'].sum():.0f} rows in all), whose frequency says little; the counts show them."
        )
    return notes


def _too_few(diagram, counts, total: float) -> str:
    """No curve: say so in the diagram, leave the counts' panel empty, and return the footnote that says why and
    what to do."""
    diagram.text(
        0.5,
        0.5,
        f"No curve: {total:.0f} rows, fewer than the {2 * MIN_ROWS}\nthat two bins of {MIN_ROWS} rows need",
        transform=diagram.transAxes,
        ha="center",
        va="center",
        fontsize=9,
        gid="too-few-rows",
        bbox={"facecolor": "white", "edgecolor": "0.6"},
    )
    counts.set_axis_off()
    return (
        f"{total:.0f} rows are too few for a reliability diagram, which needs {2 * MIN_ROWS} ({MIN_ROWS} in each "
        "of two bins) to show a curve. Evaluate on more rows, or compare the methods' log loss and Brier score."
    )


def _label_axes(diagram, counts, model, held_out: bool, n_rows: int, floor: float) -> None:
    binary = model.n_classes == 2
    event = f"{response_name(model)} = {model.classes_[1]}"
    limits = (floor - AXIS_MARGIN, 1 + AXIS_MARGIN)
    diagram.set(
        xlim=limits,
        ylim=(-AXIS_MARGIN, 1 + AXIS_MARGIN),
        xlabel=f"predicted Pr({event})" if binary else "confidence: Pr(predicted class)",
        ylabel=f"observed frequency of {event}" if binary else "accuracy of the predicted class",
        title=f"Reliability diagram ({'held-out' if held_out else 'in-sample'}, {n_rows} rows)",
    )
    counts.set(xlim=limits, xlabel=diagram.get_xlabel(), ylabel="rows per bin", title="How many rows each bin holds")


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
