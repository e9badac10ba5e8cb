"""What the plots share: how each fit is drawn (its method's style), their axes, units and footnotes, the features
they show, the intervals they draw, and the marks of a fit whose computation did not pass its checks."""

import textwrap

import numpy as np

from bayeslogit.exceptions import OptionError
from bayeslogit.fits.diagnostics.mcmc_convergence import ESS_THRESHOLD, RHAT_THRESHOLD
from bayeslogit.fits.statistics import intervals
from bayeslogit.rows.formulas import data_names
from bayeslogit.surface.methods import METHODS

CLASS_COLORS = ("#56B4E9", "#E69F00", "#CC79A7", "#F0E442", "#999999", "#882255", "#44AA99", "#332288")
"""Class -> colour of its points (and, lightened, of its decision region); apart from the methods' colours."""

DRAW_COLOR = "#882255"  # boundaries of single posterior draws: thin, apart from every band's colour

MAX_SURFACE_DRAWS = 400  # posterior draws (evenly thinned) behind a probability surface


NEUTRAL_STYLE = {"color": "grey", "linestyle": "-", "marker": "x", "linewidth": 2.0, "zorder": 5}
"""How a fit given under a name other than a method's is drawn, labelled by that name."""


def style(name: str) -> dict:
    """Colour, line style and width, marker and label of the fit given under ``name``: its method's style
    (:data:`~bayeslogit.surface.methods.METHODS`), or :data:`NEUTRAL_STYLE` labelled ``name``."""
    return METHODS[name].style if name in METHODS else {"label": name, **NEUTRAL_STYLE}


def line_look(name: str) -> dict:
    """matplotlib keywords of the line of the fit given under ``name``."""
    look = style(name)
    return {"color": look["color"], "linestyle": look["linestyle"], "linewidth": look["linewidth"]}


def response_name(model) -> str:
    """The formula's response, or ``"y"``."""
    formula = getattr(model, "formula", None)
    return formula.split("~")[0].strip() if formula else "y"


def plot_units(model, frame, units) -> dict:
    """Column -> unit of the columns a plot of ``model`` may name: ``frame.attrs["units"]`` (the bundled data sets
    carry theirs there) updated by ``units``, which is checked.

    Parameters
    ----------
    model : LogisticModel
    frame : DataFrame or None
        The rows drawn (or the model's data frame).
    units : dict of str to str or None
        The user's units, e.g. ``{"income": "USD 1000"}``; each key a feature or data column of the model.

    Raises
    ------
    OptionError
        When ``units`` is not such a dict or names a column the model does not have (the message lists them).
    """
    known = [*model.feature_names, *_data_columns(model)]
    given = {} if units is None else units
    if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
        raise OptionError(f'units must be a dict of column name to unit, e.g. {{"dist": "m"}}; got {units!r}')
    unknown = [name for name in given if name not in known]
    if unknown:
        raise OptionError(
            f"units names {unknown}, which are not columns of the model; choose from {sorted(set(known))}"
        )
    found = getattr(frame, "attrs", {}).get("units") or getattr(model.data.frame, "attrs", {}).get("units") or {}
    return {**found, **given}


def _data_columns(model) -> list[str]:
    """The data columns a formula model reads, [] for an array model."""
    spec = model.data.formula_spec
    return [] if spec is None else sorted(data_names(spec))


def with_unit(name: str, units: dict) -> str:
    """``"dist100 (100 m)"``: ``name`` and its unit, or ``name`` alone where ``units`` has none."""
    unit = units.get(name)
    return f"{name} ({unit})" if unit else name


def labelled(label: str, fit) -> str:
    """A fit's legend ``label`` with its :func:`trouble_note`: ``"MCMC (53 divergences)"``."""
    note = trouble_note(fit)
    return f"{label} ({note})" if note else label


def failure_note(failed: dict) -> str:
    """One line naming the missing fits (``failed``: method -> FailedFit) and why, in the words of each one's door
    (:attr:`FailedFit.reason`)."""
    return "; ".join(f"{style(m)['label']} not shown: {fit.reason}" for m, fit in failed.items())


def new_axes(ax, n_panels: int, figsize: tuple, nrows: int = 1, height_ratios=None):
    """``ax`` as a list of ``n_panels`` axes (checked), or a new figure with that many."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, axes = plt.subplots(
            nrows, n_panels // nrows, figsize=figsize, squeeze=False, layout="constrained", height_ratios=height_ratios
        )
        return fig, list(axes.ravel())
    axes = list(np.atleast_1d(ax).ravel())
    if len(axes) != n_panels:
        raise OptionError(f"this plot has {n_panels} panel(s), so `ax` must hold {n_panels} axes; got {len(axes)}")
    return axes[0].figure, axes


def add_footnote(fig, lines: list[str]):
    """Notes under the panels (held features, fits not shown), wrapped to the figure's width."""
    width = int(16 * fig.get_figwidth())  # characters of 8-point text per line, roughly
    text = "\n".join(textwrap.fill(line, width) for line in lines if line)
    if text:
        fig.supxlabel(text, x=0.01, ha="left", fontsize=8)


def interval_band(values: np.ndarray, ci_prob: float, ci_kind: str) -> np.ndarray:
    """ArviZ's interval over draws of each column of ``values`` (S, G), shape (G, 2)."""
    return intervals.of_draws(values.T, ci_prob, ci_kind)


def interval_label(ci_prob: float, ci_kind: str) -> str:
    """``"89% ETI"``, ``"89% HDI"``, ``"89% Wald interval"``: an interval's level and kind as a legend says it."""
    kind = ci_kind.upper() if ci_kind in intervals.POSTERIOR_KINDS else f"{ci_kind.capitalize()} interval"
    return f"{int(ci_prob * 100)}% {kind}"


def trouble_note(fit) -> str:
    """What a legend adds to a fit whose computation its diagnosis does not pass: ``"53 divergences"``,
    ``"k-hat 0.91, shift 0.60 sd"``, ``"R-hat 1.081, ESS 95"``, or ``""`` for a fit without a diagnosis (ML, MAP) or
    with an ok one."""
    diagnosis = getattr(fit, "diagnosis", None)
    if diagnosis is None or diagnosis.ok:
        return ""
    rows = diagnosis.rows
    if "khat" in rows:
        return f"k-hat {rows['khat']:.2f}, shift {rows['shift_max']:.2f} sd"
    count = diagnosis.divergences
    parts = [f"{count} divergence{'s' if count > 1 else ''}"] if count else []
    if rows.get("r_hat_max", 1.0) > RHAT_THRESHOLD:
        parts.append(f"R-hat {rows['r_hat_max']:.3f}")
    ess = min(rows.get("ess_bulk_min", np.inf), rows.get("ess_tail_min", np.inf))
    if ess < ESS_THRESHOLD:
        parts.append(f"ESS {ess:.0f}")
    return ", ".join(parts) or diagnosis.verdict
