"""The prior predictive check drawn: the class probabilities a prior implies, before any data."""

import numpy as np

from bayeslogit.checks import check_count
from bayeslogit.exceptions import OptionError
from bayeslogit.fits.diagnostics.prior_predictive import NEAR_CERTAIN, PriorPredictive
from bayeslogit.numerics.prior_specs import PRIORS
from bayeslogit.plots.fonts import draw_names
from bayeslogit.plots.style import CLASS_COLORS, add_footnote, new_axes

BAND_COLOR = "#D55E00"  # the near-certain bands and the share written on each panel


def plot_prior_predictive(result, prior=None, ax=None, *, draws: int = 1000, random_seed=0, bins: int = 100):
    """Histogram of the probabilities a prior implies on the model's rows: one panel per class (binary: the event).

    The bands within 0.01 of 0 and of 1 are shaded, and each panel says what share of its probabilities lies
    there: a prior that puts most of them there claims near-certain predictions before seeing any data.

    Parameters
    ----------
    result : PriorPredictive or LogisticModel
        ``model.prior_predictive(prior, ...)``, or the model itself (then give ``prior``).
    prior : Normal, StudentT or Cauchy, optional
        With a model: the prior to draw from.
    ax : Axes or sequence of Axes, optional
        One per panel. Default: a new figure.
    draws, random_seed
        With a model: passed to ``model.prior_predictive``.
    bins : int
        Equal-width bins of [0, 1]; the default, 100, makes the first and last bins the shaded bands.

    Returns
    -------
    matplotlib.figure.Figure
        Per panel: the bars (``gid`` ``"prior-predictive"``, heights the share of the probabilities in each bin),
        two shaded spans (``gid`` ``"near-certain"``) and the share as text (``gid`` ``"share-near-certain"``).

    Raises
    ------
    TypeError
        When ``result`` is neither a PriorPredictive nor a model with a prior.
    """
    bins = check_count("bins", bins, 1)
    if not isinstance(result, PriorPredictive):
        if not (isinstance(prior, PRIORS) and hasattr(result, "prior_predictive")):
            raise OptionError(
                "plot_prior_predictive needs model.prior_predictive(prior), or a LogisticModel and its "
                "prior: plot_prior_predictive(model, bl.Normal(1, intercept_scale=1.5)); got "
                f"{type(result).__name__} and prior={prior!r}"
            )
        result = result.prior_predictive(prior, draws=draws, random_seed=random_seed)
    values, shares = result.by_class(), result.shares_near_certain()
    n_panels = len(result.classes)
    fig, axes = new_axes(ax, n_panels, (max(7.0, 5.0 * min(n_panels, 3)), 4.5))
    edges = np.linspace(0.0, 1.0, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    near = (centres < NEAR_CERTAIN) | (centres > 1 - NEAR_CERTAIN)  # bins inside the bands, drawn in their colour
    for k, (panel, label) in enumerate(zip(axes, result.classes)):
        counts, _ = np.histogram(values[..., k], bins=edges)
        colors = np.where(near, BAND_COLOR, CLASS_COLORS[k % len(CLASS_COLORS)])
        panel.bar(
            edges[:-1],
            counts / counts.sum(),
            width=np.diff(edges),
            align="edge",
            color=colors,
            edgecolor="none",
            gid="prior-predictive",
        )
        for low, high in ((0.0, NEAR_CERTAIN), (1 - NEAR_CERTAIN, 1.0)):
            panel.axvspan(low, high, color=BAND_COLOR, alpha=0.25, linewidth=0, gid="near-certain")
        panel.text(
            0.5,
            0.97,
            f"{shares[k]:.1%} within {NEAR_CERTAIN} of 0 or 1",
            transform=panel.transAxes,
            ha="center",
            va="top",
            color=BAND_COLOR,
            fontsize=10,
            gid="share-near-certain",
            bbox={"facecolor": "white", "edgecolor": BAND_COLOR, "alpha": 0.9},
        )
        panel.set(
            xlim=(0, 1),
            ylim=(0, 1.15 * counts.max() / counts.sum()),
            xlabel=f"Pr({result.response} = {label})",
            title=f"Class {label}" if n_panels > 1 else "",
        )
    axes[0].set_ylabel("share of prior predictive probabilities")
    fig.suptitle(f"Prior predictive check: {result.prior!r}", fontsize=11)
    add_footnote(
        fig,
        [
            f"{result.n_draws} coefficient draws from the prior on {result.n_rows} rows"
            + (f" (a subsample of {result.n_rows_total})." if result.n_rows < result.n_rows_total else "."),
        ],
    )
    return draw_names(fig)
