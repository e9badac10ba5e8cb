"""A summary's header as text and HTML: a title, two columns of ``label: value``, then the long lines.

What the header holds is a :class:`HeaderContent` (made by :mod:`bayeslogit.fits.results.summary_header`); this
module only lays it out: the facts (method, response, ...) in the left column, the statistics (labelled and
formatted by :data:`STATISTICS`, NaN ones left out) on the right, those that do not fit there under the facts,
and the formula, classes, prior, uncertainty and notes across the width (with a fact too long for its column).
The text is :data:`WIDTH` columns wide, or as wide as the table under it; the HTML shows the same strings, escaped
(:mod:`bayeslogit.fits.display.markup`).
"""

import textwrap
from dataclasses import dataclass
from itertools import zip_longest

import numpy as np
import pandas as pd

from bayeslogit.fits.display import markup

WIDTH = 78
STATISTICS = {
    "nobs": ("No. Observations", "{:.10g}"),
    "df_model": ("Df Model", "{:.10g}"),
    "df_resid": ("Df Residuals", "{:.10g}"),
    "llf": ("Log-Likelihood", "{:.4f}"),
    "llnull": ("LL-Null", "{:.4f}"),
    "llr_pvalue": ("LLR p-value", "{:.4e}"),
    "prsquared": ("Pseudo R-squ. (McFadden)", "{:.5f}"),
    "llr": ("LLR", "{:.4f}"),
    "aic": ("AIC", "{:.3f}"),
    "bic": ("BIC", "{:.3f}"),
    "elpd_loo": ("ELPD-LOO", "{:.3f}"),
    "elpd_loo_se": ("ELPD-LOO SE", "{:.3f}"),
    "p_loo": ("p_loo", "{:.3f}"),
    "high_pareto_k": ("Pareto k > threshold", "{:.0f}"),
    "loo_rows": ("LOO rows", "{:.0f}"),
    "chains": ("Chains", "{:.0f}"),
    "draws": ("Draws per chain", "{:.0f}"),
    "khat": ("Pareto k-hat (Laplace)", "{:.3f}"),
    "khat_se": ("k-hat SE (Laplace)", "{:.3f}"),
    "shift_max": ("Max shift, sd (Laplace)", "{:.3f}"),
    "r_hat_max": ("Max R-hat", "{:.4f}"),
    "ess_bulk_min": ("Min bulk ESS", "{:.0f}"),
    "ess_tail_min": ("Min tail ESS", "{:.0f}"),
    "divergences": ("Divergences", "{:.0f}"),
}
"""Statistic -> (its label in the header, the format of its value), in the order shown; others follow as ``{:.6g}``."""


@dataclass(frozen=True)
class HeaderContent:
    """What a summary's header shows.

    Attributes
    ----------
    facts : tuple of (str, str)
        Short ``(label, text)`` pairs, shown in the left column (method, response, ...).
    statistics : Series of float
        The numbers, shown after the facts (labelled by :data:`STATISTICS`); NaN entries are left out.
    lines : tuple of (str, str)
        Long ``(label, text)`` pairs, each shown across the width (formula, classes, prior).
    notes : tuple of str
        Why statistics are absent, shown last.
    """

    facts: tuple
    statistics: pd.Series
    lines: tuple
    notes: tuple


def shown_statistics(content: HeaderContent) -> list[tuple[str, str]]:
    """``(label, text)`` of each statistic the header shows: the non-NaN ones, formatted and ordered by
    :data:`STATISTICS`."""
    order = list(STATISTICS)
    names = sorted(
        (name for name, value in content.statistics.items() if not np.isnan(value)),
        key=lambda name: order.index(name) if name in STATISTICS else len(order),
    )
    return [
        (STATISTICS.get(name, (name,))[0], STATISTICS.get(name, (name, "{:.6g}"))[1].format(content.statistics[name]))
        for name in names
    ]


def _columns(content: HeaderContent, facts: list) -> tuple[list, list]:
    """The two columns of equal length (the left one a row longer): ``facts`` on the left, the statistics on the
    right, the statistics that do not fit there under the facts."""
    statistics = shown_statistics(content)
    right = (len(facts) + len(statistics)) // 2
    return [*facts, *statistics[right:]], statistics[:right]


def _wide(content: HeaderContent, uncertainty: str | None) -> list[tuple[str, str]]:
    return [
        *content.lines,
        *([("Uncertainty", uncertainty)] if uncertainty else []),
        *(("Note", note) for note in content.notes),
    ]


def render_text(content: HeaderContent, uncertainty: str | None, width: int = WIDTH) -> str:
    """The header block, ``width`` columns wide: a title, two columns of ``label: value``, then the long lines
    wrapped to ``width`` (with the facts too long for their column, such as a long response's name)."""
    half = width // 2

    def cell(pair, size: int) -> str:
        label, text = pair
        return f"{label + ':':<{max(size - len(text), len(label) + 2)}}{text}"

    fits = [len(label) + 2 + len(text) <= half - 2 for label, text in content.facts]
    long = [fact for fact, fitting in zip(content.facts, fits) if not fitting]
    left, right = _columns(content, [fact for fact, fitting in zip(content.facts, fits) if fitting])
    rows = [
        f"{cell(a, half - 2) if a else '':<{half}}{cell(b, half) if b else ''}".rstrip()
        for a, b in zip_longest(left, right)
    ]
    wide = [
        textwrap.fill(f"{label}: {text}", width, subsequent_indent="    ")
        for label, text in [*long, *_wide(content, uncertainty)]
    ]
    return "\n".join(
        ["Logistic Regression Results".center(width).rstrip(), "=" * width, *rows, "-" * width, *wide, "=" * width]
    )


def render_html(content: HeaderContent, uncertainty: str | None) -> str:
    """The header block as HTML: a caption, a table of two columns of label and value, then a paragraph per long
    line; every text escaped."""

    def cells(pair) -> str:
        if pair is None:
            return "<th></th><td></td>"
        return f"<th>{markup.escape(pair[0])}:</th><td>{markup.escape(pair[1])}</td>"

    left, right = _columns(content, list(content.facts))
    rows = "".join(f"<tr>{cells(a)}{cells(b)}</tr>" for a, b in zip_longest(left, right))
    wide = "".join(
        f"<p><b>{markup.escape(label)}:</b> {markup.escape(text)}</p>" for label, text in _wide(content, uncertainty)
    )
    return f'<table class="header"><caption>Logistic Regression Results</caption>{rows}</table>{wide}'
