"""What the plots of multilevel fits share: the fits checked and collected, the group term and column chosen, each
fit's group effects with their intervals, and each group's own no-pooling estimate.

A fit's group effects are its ``ranef()``: ML's and MAP's conditional modes with their conditional sds given the
estimates (lme4's ``ranef(condVar = TRUE)``), the posterior's means and equal-tailed intervals.
"""

from collections.abc import Mapping
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from bayeslogit.exceptions import OptionError
from bayeslogit.fits.results.multilevel import MultilevelFitBase
from bayeslogit.fits.results.multilevel_mcmc import MultilevelMCMCFit
from bayeslogit.fits.results.multilevel_point import MultilevelPointFit
from bayeslogit.fits.statistics import intervals
from bayeslogit.numerics.no_pooling import no_pooling_effects


class Effects(NamedTuple):
    """One term column's group effects of a fit, in the order of the term's levels.

    Attributes
    ----------
    estimate : ndarray of shape (n_levels,)
    interval : ndarray of shape (n_levels, 2)
        Point fits: the conditional mode -+ ``z`` conditional sds; MCMC: the equal-tailed interval.
    estimate_name, interval_name : str
        What they are, as a legend says it: ``"posterior mean"``, ``"and 89% ETI"``.
    posterior : bool
        Whether the interval is a posterior's (the shrinkage plot draws only those).
    """

    estimate: np.ndarray
    interval: np.ndarray
    estimate_name: str
    interval_name: str
    posterior: bool


def _rows(table, label: str, column: str):
    return table[(table["term"] == label) & (table["column"] == column)]


def point_effects(fit: MultilevelPointFit, label: str, column: str, ci_prob: float) -> Effects:
    """A point fit's conditional modes and ``mode -+ z sd``, with ``sd`` the conditional sd given the estimates."""
    rows = _rows(fit.ranef(), label, column)
    z = NormalDist().inv_cdf(0.5 + ci_prob / 2)
    estimate, sd = rows["estimate"].to_numpy(), rows["sd"].to_numpy()
    interval = np.column_stack([estimate - z * sd, estimate + z * sd])
    return Effects(
        estimate, interval, "conditional mode", f"\u00b1 {z:.2f} conditional sd ({int(ci_prob * 100)}%)", False
    )


def posterior_effects(fit: MultilevelMCMCFit, label: str, column: str, ci_prob: float) -> Effects:
    """The posterior means and equal-tailed intervals."""
    rows = _rows(fit.ranef(ci_prob), label, column)
    lb, ub = intervals.column_names("eti", ci_prob)
    return Effects(
        rows["estimate"].to_numpy(), rows[[lb, ub]].to_numpy(), "posterior mean", f"and {int(ci_prob * 100)}% ETI", True
    )


EFFECTS = {MultilevelPointFit: point_effects, MultilevelMCMCFit: posterior_effects}
"""Fit class -> how its group effects and their intervals are read from its ``ranef()``."""


def group_effects(fit, label: str, column: str, ci_prob: float) -> Effects:
    """Term ``label``'s group effects on ``column`` of ``fit``, with ``ci_prob`` intervals."""
    kind = next(kind for kind in type(fit).__mro__ if kind in EFFECTS)  # ML and MAP fits are point fits
    return EFFECTS[kind](fit, label, column, ci_prob)


def collect_group_fits(fits) -> dict:
    """``fits`` (a dict of name to multilevel fit, as ``fit_all()`` returns, a sequence of fits, or one fit) as a
    dict, checked: multilevel fits of one model, distinct names.

    Raises
    ------
    OptionError
        When there is no fit, one is not a multilevel fit, two of a sequence share a method, or their models differ.
    """
    if isinstance(fits, MultilevelFitBase):
        fits = [fits]
    if not isinstance(fits, Mapping):
        fits = list(fits)
        methods = [getattr(fit, "method", None) for fit in fits]
        if len(set(methods)) < len(methods):
            raise OptionError(f"two fits share a method ({methods}); pass a dict to name them")
        fits = dict(zip(methods, fits))
    if not fits:
        raise OptionError("no fit given; pass the fits of a MultilevelModel, e.g. model.fit_all()")
    for name, fit in fits.items():
        if not isinstance(fit, MultilevelFitBase):
            raise OptionError(
                f"fit {name!r} is a {type(fit).__name__}, not a fit of a MultilevelModel; plot a LogisticModel's "
                "fits with plot_coef"
            )
    if len({fit.layout for fit in fits.values()}) > 1:
        raise OptionError("these fits come from different models; put fits of one model together")
    return dict(fits)


def term_position(layout, term: str | None, column: str) -> tuple[int, int]:
    """The index of group term ``term`` (None: the first) and of its column ``column``.

    Raises
    ------
    OptionError
        When the model has no such term, or the term no such column; the message names those it has.
    """
    labels = list(layout.labels)
    if term is None:
        t = 0
    elif term in labels:
        t = labels.index(term)
    else:
        raise OptionError(f"term {term!r} is not a group term of the model; choose from {labels}")
    columns = list(layout.columns[t])
    if column not in columns:
        raise OptionError(f"column {column!r} is not a column of the group term {labels[t]!r}; choose from {columns}")
    return t, columns.index(column)


class Plotted(NamedTuple):
    """What both group plots draw: the fits by name, their layout, the term's and column's positions ``t`` and
    ``c``, label and name, and each fit's :class:`Effects` of them with ``ci_prob`` intervals."""

    fitted: dict
    layout: object
    t: int
    c: int
    label: str
    column: str
    effects: dict


def plotted_effects(fits, term: str | None, column: str, ci_prob: float | None) -> Plotted:
    """:class:`Plotted` of ``fits`` (checked by :func:`collect_group_fits`) for ``term``'s ``column``, with intervals
    of ``ci_prob`` (default ArviZ's)."""
    fitted = collect_group_fits(fits)
    layout = next(iter(fitted.values())).layout
    ci_prob, _ = intervals.resolve(ci_prob, "eti", ("eti",))
    t, c = term_position(layout, term, column)
    label, column = layout.labels[t], layout.columns[t][c]
    effects = {name: group_effects(fit, label, column, ci_prob) for name, fit in fitted.items()}
    return Plotted(fitted, layout, t, c, label, column, effects)


def effect_unit(column: str) -> str:
    """What a group effect on ``column`` is measured in."""
    return "log-odds" if column == "Intercept" else f"log-odds per unit of {column}"


def no_pooling(fit, t: int, c: int) -> np.ndarray:
    """Each group's own maximum-likelihood effect on column ``c`` of term ``t``, from its rows alone, with the fixed
    effects and every other group effect held at ``fit``'s estimates (:mod:`bayeslogit.numerics.no_pooling`).

    Returns
    -------
    ndarray of shape (n_levels,)
        Infinite for a group whose rows are all successes or all failures (on an intercept), NaN for one whose rows
        say nothing of the effect.
    """
    rows = fit.source
    offset = rows.X @ fit.coef.to_numpy()
    for s, (term, label) in enumerate(zip(rows.terms, fit.layout.labels)):
        for d, name in enumerate(term.columns):
            if (s, d) != (t, c):
                offset += term.values[:, d] * group_effects(fit, label, name, 0.5).estimate[term.codes]
    term = rows.terms[t]
    return no_pooling_effects(offset, term.values[:, c], rows.successes, rows.trials, term.codes, term.n_levels)


def sd_note(fit, label: str, column: str) -> str:
    """``"sd 0.64"``, ``"sd 0.00, singular"``: a fit's group-level sd of the column, as a legend gives it."""
    sd = float(fit.group_sd[f"{label}: {column}"])
    singular = label in getattr(fit, "singular", ())
    return f"sd {sd:.2f}{', singular' if singular else ''}"
