"""Summary tables that print a header of the fit's statistics above the estimates, as statsmodels' summaries do.

A fit's ``summary()`` is a :class:`SummaryTable`: a pandas DataFrame (its columns, index, ``attrs["uncertainty"]``
and ``.loc`` are those of the table alone) whose ``repr``, ``to_string`` and ``_repr_html_`` put a header block
above the table: the method, response, formula, classes and prior, the fit's statistics (a point fit's
:meth:`~bayeslogit.fits.results.point.PointFit.statistics`; a posterior fit's draws, ELPD-LOO and diagnostics), the
``attrs["uncertainty"]`` line and any note saying why a statistic is absent (what it holds:
:mod:`~bayeslogit.fits.results.summary_header`; how it is laid out: :mod:`~bayeslogit.fits.results.summary_render`).
:attr:`SummaryTable.statistics` holds the header's numbers as a Series. The table prints as a
:class:`~bayeslogit.fits.display.frame.FormattedFrame` does: every column, its digits chosen per column (ESS whole,
R-hat to 3 decimals, ``-`` for a missing value), wrapped past 100 columns; the header is as wide as the table's
lines, from 78 to 100 columns. Text and HTML show the same cells.

Derived frames
--------------
The subclass uses the hooks pandas documents for subclassing: ``_metadata`` names the header, which pandas carries
to the frames it derives, and ``_constructor`` makes them SummaryTables. So selections keep the header: ``.loc``,
``.iloc``, ``table[[...]]``, ``.round()``, ``.head()``, sorting and copies are SummaryTables of the same fit, since
their cells are the summary's. Computed frames (the arithmetic, comparison and logical operators, unary operators,
NumPy ufuncs) are plain DataFrames, since their numbers are no longer the fit's summary (see
:mod:`bayeslogit.fits.display.frame`). ``pd.concat`` of summaries is a SummaryTable without a header, printed as
its table alone. The statistics are not kept in ``attrs``, which pandas deep-copies on every operation and which
``pd.concat`` compares with ``==``, an error when they hold a Series.
"""

from collections.abc import Callable
from functools import cached_property

import pandas as pd

from bayeslogit.exceptions import OptionError
from bayeslogit.fits.display import markup
from bayeslogit.fits.display.frame import WIDTH as FRAME_WIDTH
from bayeslogit.fits.display.frame import FormattedFrame
from bayeslogit.fits.display.frame import html as frame_html
from bayeslogit.fits.results.summary_render import WIDTH, HeaderContent, render_html, render_text


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


class SummaryTable(FormattedFrame):
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
        the rows, as wide as they are (from :data:`~.summary_render.WIDTH` to
        :data:`~bayeslogit.fits.display.frame.WIDTH` columns)."""
        return self._header_text(table_width(self._table_text()))

    def _header_text(self, width: int) -> str:
        header = getattr(self, "_header", None)
        return "" if header is None else render_text(header.content, self.attrs.get("uncertainty"), width)

    def _table_text(self, **kwargs) -> str:
        return super()._text(**kwargs)

    def _text(self, **kwargs) -> str:
        """The header above the table, as wide as the table's lines."""
        table = self._table_text(**kwargs)
        return "\n".join(part for part in (self._header_text(table_width(table)), table) if part)

    def _repr_html_(self) -> str:
        """IPython's rich display: the header above the table, their cells those ``repr`` shows."""
        header = getattr(self, "_header", None)
        top = "" if header is None else render_html(header.content, self.attrs.get("uncertainty"))
        return markup.block(top, frame_html(self))


def table_width(table: str) -> int:
    """The width of a summary's header above the lines of ``table``: theirs, within ``[WIDTH, frame.WIDTH]``."""
    widest = max((len(line) for line in table.splitlines()), default=0)
    return min(max(widest, WIDTH), FRAME_WIDTH)
