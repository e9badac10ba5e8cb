"""Summary tables that print a header of the fit's statistics above the estimates, as statsmodels' summaries do.

A fit's ``summary()`` is a :class:`SummaryTable`: a pandas DataFrame (its columns, index, ``attrs["uncertainty"]``
and ``.loc`` are those of the table alone) whose ``repr``, ``to_string`` and ``_repr_html_`` put a header block
above the table: the method, response, formula, classes and prior, the fit's statistics (a point fit's
:meth:`~bayeslogit.fits.results.point.PointFit.statistics`; a posterior fit's draws, ELPD-LOO and diagnostics), the
``attrs["uncertainty"]`` line and any note saying why a statistic is absent. :attr:`SummaryTable.statistics`
holds the header's numbers as a Series.

The header is computed on first use (printing, or ``statistics``) and then kept: a posterior fit's ELPD-LOO
(:attr:`~bayeslogit.PosteriorFit.loo_estimate`, PSIS over every row, or a subsample past 10,000; computed once per
fit) costs a pass over the rows per draw, which a summary that is only indexed never pays. A fit loaded without
its training rows prints the header without the statistics that need them, and a note saying so.

Derived frames
--------------
Selections keep the header: ``.loc``, ``.iloc``, ``table[[...]]``, ``.round()``, ``.head()``, sorting and
copies are SummaryTables of the same fit, since their cells are the summary's. Computed frames (arithmetic,
comparisons, unary operators, NumPy ufuncs) are plain DataFrames, since their numbers are no longer the fit's
summary; they keep ``attrs`` as pandas keeps them. ``pd.concat`` of summaries is a SummaryTable without a header,
printed as a DataFrame. The statistics are not kept in ``attrs``, which pandas deep-copies on every operation
and which ``pd.concat`` compares with ``==``, an error when they hold a Series.
"""

import html
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from itertools import zip_longest
from pathlib import Path

import numpy as np
import pandas as pd

from bayeslogit.exceptions import DataError, OptionError
from bayeslogit.fits.diagnostics import sensitivity

WIDTH = 78
METHODS = {"ml": "ML (Newton)", "map": "MAP (Newton)", "laplace": "Laplace approximation", "mcmc": "MCMC (NUTS)"}
"""Fit method -> its name in the header."""
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


class Header:
    """A summary's header, computed by ``make`` on first use and then kept (shared by the tables derived from it)."""

    def __init__(self, make: Callable[[], HeaderContent]):
        self._make = make

    @cached_property
    def content(self) -> HeaderContent:
        return self._make()

    def __getstate__(self) -> dict:
        """Pickled (with its table) as the computed header: ``make`` is a closure over the fit."""
        return {"content": self.content}


class SummaryTable(pd.DataFrame):
    """A fit's summary: a DataFrame that prints a header of the fit's statistics above its rows.

    See the module's docstring for what the header holds, when it is computed and what derived frames keep.
    """

    _metadata = ["_header"]

    @property
    def _constructor(self):
        return SummaryTable

    @classmethod
    def of(cls, table: pd.DataFrame, make: Callable[[], HeaderContent]) -> "SummaryTable":
        """``table`` (its values, index, columns and attrs) with the header that ``make`` computes when first shown."""
        result = cls(table)
        result.attrs = dict(table.attrs)
        result._header = Header(make)
        return result

    @property
    def statistics(self) -> pd.Series:
        """The numbers the header shows (see the fit's ``summary``), computed on first use.

        Raises
        ------
        ValueError
            When the table has no header: ``pd.concat`` of summaries, or a DataFrame made a SummaryTable.
        """
        header = getattr(self, "_header", None)
        if header is None:
            raise OptionError(
                "this table has no header of statistics (it was joined from several summaries, or built "
                "by hand); take them from each fit's summary().statistics, or fit.statistics()"
            )
        return header.content.statistics

    def header_text(self) -> str:
        """The header block as text, ``""`` for a table without one: what ``repr`` and ``to_string`` put above
        the rows."""
        header = getattr(self, "_header", None)
        return "" if header is None else render_text(header.content, self.attrs.get("uncertainty"))

    def to_string(self, buf=None, **kwargs) -> str | None:
        """:meth:`pandas.DataFrame.to_string` with the header above the table; ``repr`` and ``print`` show this."""
        encoding = kwargs.pop("encoding", None) or "utf-8"
        text = "\n".join(part for part in (self.header_text(), super().to_string(**kwargs)) if part)
        if buf is None:
            return text
        if hasattr(buf, "write"):
            buf.write(text)
        else:
            Path(buf).write_text(text, encoding=encoding)
        return None

    def _repr_html_(self) -> str | None:
        table = super()._repr_html_()
        header = getattr(self, "_header", None)
        if table is None or header is None:
            return table
        return render_html(header.content, self.attrs.get("uncertainty")) + table

    # ---- computed frames are plain DataFrames ---------------------------------------------------------------
    def _plain(self) -> pd.DataFrame:
        frame = pd.DataFrame(self)
        frame.attrs = dict(self.attrs)
        return frame

    def _arith_method(self, other, op):
        return self._plain()._arith_method(other, op)

    def _cmp_method(self, other, op):
        return self._plain()._cmp_method(other, op)

    def _logical_method(self, other, op):
        return self._plain()._logical_method(other, op)

    def __neg__(self):
        return -self._plain()

    def __pos__(self):
        return +self._plain()

    def __abs__(self):
        return abs(self._plain())

    def __invert__(self):
        return ~self._plain()

    def __array_ufunc__(self, ufunc, method: str, *inputs, **kwargs):
        inputs = tuple(value._plain() if isinstance(value, SummaryTable) else value for value in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)


# ---- the headers of the two kinds of fits ---------------------------------------------------------------------
def point_summary(fit, table: pd.DataFrame) -> SummaryTable:
    """``table`` with the header of a point fit: :meth:`PointFit.statistics` (statsmodels' names; for MAP the
    entries that assume a maximised likelihood are NaN, left out, and its note says why)."""

    def make() -> HeaderContent:
        status = f"{'yes' if fit.converged else 'NO'} ({fit.n_iter} iterations)"
        statistics, notes = _or_missing(fit.statistics)
        return HeaderContent(
            (*_model_facts(fit), ("Converged", status), ("Fit time", f"{fit.fit_time:.3f} s")),
            statistics,
            _model_lines(fit),
            notes,
        )

    return SummaryTable.of(table, make)


def posterior_summary(fit, table: pd.DataFrame) -> SummaryTable:
    """``table`` with the header of a posterior fit: ``nobs``, ``chains`` and ``draws`` (per chain), the fit's
    PSIS-LOO as :func:`bayeslogit.surface.compare` shows it (:attr:`~bayeslogit.PosteriorFit.loo_estimate`:
    ``elpd_loo``, ``elpd_loo_se``, ``p_loo``, ``high_pareto_k`` of ``loo_rows``) and its diagnosis's rows (Laplace
    ``khat``, its standard error ``khat_se`` and ``shift_max``, the largest shift of a mean or sd by the importance
    weights, in posterior sds; MCMC ``r_hat_max``, ``ess_bulk_min``, ``ess_tail_min``, ``divergences``). ELPD-LOO is
    computed when the header is first shown; what ``compare`` would warn of (some Pareto k are high), the header says
    in a note beside the figure (a warning raised while a table prints would point at pandas, not at the user's
    line)."""

    def make() -> HeaderContent:
        draws = {"chains": fit.n_chains, "draws": fit.n_draws}
        loo, notes = _or_missing(lambda: _loo_statistics(fit))
        statistics = pd.Series(
            {**loo.iloc[:1], **draws, **loo.iloc[1:], **fit.diagnosis.rows}, dtype=float, name=fit.method
        )
        return HeaderContent(
            (*_model_facts(fit), ("Fit time", f"{fit.fit_time:.3f} s")), statistics, _model_lines(fit), notes
        )

    return SummaryTable.of(table, make)


def _loo_statistics(fit) -> pd.Series:
    """``nobs`` and the fit's :attr:`~bayeslogit.PosteriorFit.loo_estimate`, with what it would warn of as a note."""
    rows, problem = fit.loo_estimate
    statistics = pd.Series({"nobs": _nobs(fit), **rows})
    if problem:
        statistics.attrs["note"] = problem
    return statistics


def _nobs(fit) -> float:
    """The sum of the weights, as :func:`bayeslogit.fits.statistics.likelihood.statistics` counts ``nobs``."""
    return float(fit.model.data.class_weights().sum())


def _or_missing(compute: Callable[[], pd.Series]) -> tuple[pd.Series, tuple]:
    """``compute()`` and its ``attrs["note"]``, or, for a fit loaded without its training rows, no statistics and
    the reason."""
    try:
        statistics = compute()
    except DataError as error:
        return pd.Series(dtype=float), (f"Statistics of the training rows are absent: {error}",)
    note = statistics.attrs.get("note")
    return statistics, () if note is None else (note,)


def _model_facts(fit) -> tuple:
    model = fit.model
    response = () if model.response is None else (("Response", str(model.response)),)
    return (*response, ("Method", METHODS.get(fit.method, fit.method)), ("Likelihood", model.likelihood))


def _model_lines(fit) -> tuple:
    """Formula, classes (those without a coefficient column marked as the reference) and prior."""
    model = fit.model
    columns = [str(label) for label in model.coef_classes]
    classes = ", ".join(str(label) if str(label) in columns else f"{label} (reference)" for label in model.classes_)
    formula = () if model.formula is None else (("Formula", model.formula),)
    prior = "none (maximum likelihood)" if fit.prior is None else repr(fit.prior)
    return (*formula, ("Classes", classes), ("Prior", prior))


# ---- rendering ------------------------------------------------------------------------------------------------
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


def _columns(content: HeaderContent) -> tuple[list, list]:
    """The two columns of equal length (the left one a row longer): the facts on the left, the statistics on the
    right, the statistics that do not fit there under the facts."""
    statistics = shown_statistics(content)
    right = (len(content.facts) + len(statistics)) // 2
    return [*content.facts, *statistics[right:]], statistics[:right]


def _wide(content: HeaderContent, uncertainty: str | None) -> list[tuple[str, str]]:
    return [
        *content.lines,
        *([("Uncertainty", uncertainty)] if uncertainty else []),
        *(("Note", note) for note in content.notes),
    ]


def render_text(content: HeaderContent, uncertainty: str | None) -> str:
    """The header block: a title, two columns of ``label: value``, then the long lines wrapped to :data:`WIDTH`."""
    half = WIDTH // 2

    def cell(pair, width: int) -> str:
        label, text = pair
        return f"{label + ':':<{max(width - len(text), len(label) + 2)}}{text}"

    left, right = _columns(content)
    rows = [
        f"{cell(a, half - 2) if a else '':<{half}}{cell(b, half) if b else ''}".rstrip()
        for a, b in zip_longest(left, right)
    ]
    wide = [
        textwrap.fill(f"{label}: {text}", WIDTH, subsequent_indent="    ")
        for label, text in _wide(content, uncertainty)
    ]
    return "\n".join(
        ["Logistic Regression Results".center(WIDTH).rstrip(), "=" * WIDTH, *rows, "-" * WIDTH, *wide, "=" * WIDTH]
    )


def render_html(content: HeaderContent, uncertainty: str | None) -> str:
    """The header block as an HTML table (two columns of label and value) and paragraphs, escaped."""

    def cells(pair) -> str:
        return (
            "<th></th><td></td>" if pair is None else f"<th>{html.escape(pair[0])}:</th><td>{html.escape(pair[1])}</td>"
        )

    left, right = _columns(content)
    rows = "".join(f"<tr>{cells(a)}{cells(b)}</tr>" for a, b in zip_longest(left, right))
    wide = "".join(
        f"<p><b>{html.escape(label)}:</b> {html.escape(text)}</p>" for label, text in _wide(content, uncertainty)
    )
    return (
        f'<div class="bayeslogit-summary"><table><caption>Logistic Regression Results</caption>{rows}</table>'
        f"{wide}</div>"
    )


def arviz_summary(layout, draws: np.ndarray, kind: str, ci_prob: float = 0.89, ci_kind: str = "eti") -> pd.DataFrame:
    """ArviZ's summary of ``kind`` of coefficient draws (n_chains, n_draws, P, M), one row per entry of ``vec(B)``."""
    import xarray as xr
    from arviz_stats import summary

    labels = layout.flat_labels
    flat = xr.Dataset(
        {"coef": (("chain", "draw", "coefficient"), sensitivity.flat_draws(draws))}, coords={"coefficient": labels}
    )
    frame = summary(flat, var_names=["coef"], kind=kind, ci_prob=ci_prob, ci_kind=ci_kind, round_to="none")
    frame.index = pd.Index(labels, name="coef")
    return frame
