"""Summary tables that print a header of the fit's statistics above the estimates, as statsmodels' summaries do.

A fit's ``summary()`` is a :class:`SummaryTable`: a pandas DataFrame (its columns, index, ``attrs["uncertainty"]``
and ``.loc`` are those of the table alone) whose ``repr``, ``to_string`` and ``_repr_html_`` put a header block
above the table: the method, response, formula, classes and prior, the fit's statistics (a point fit's
:meth:`~bayeslogit.fits.results.point.PointFit.statistics`; a posterior fit's draws, ELPD-LOO and diagnostics), the
``attrs["uncertainty"]`` line and any note saying why a statistic is absent (what it holds:
:mod:`~bayeslogit.fits.results.summary_header`; how it is laid out: :mod:`~bayeslogit.fits.results.summary_render`).
:attr:`SummaryTable.statistics` holds the header's numbers as a Series.

Derived frames
--------------
The subclass uses the hooks pandas documents for subclassing: ``_metadata`` names the header, which pandas carries
to the frames it derives, and ``_constructor`` makes them SummaryTables. So selections keep the header: ``.loc``,
``.iloc``, ``table[[...]]``, ``.round()``, ``.head()``, sorting and copies are SummaryTables of the same fit, since
their cells are the summary's. Computed frames (the arithmetic, comparison and logical operators, unary operators,
NumPy ufuncs) are plain DataFrames, since their numbers are no longer the fit's summary: each operator is pandas'
own, applied to :meth:`SummaryTable.plain`, so they keep ``attrs`` as pandas keeps them. ``pd.concat`` of summaries
is a SummaryTable without a header, printed as a DataFrame. The statistics are not kept in ``attrs``, which pandas
deep-copies on every operation and which ``pd.concat`` compares with ``==``, an error when they hold a Series.
"""

from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import pandas as pd

from bayeslogit.exceptions import OptionError
from bayeslogit.fits.results.summary_render import HeaderContent, render_html, render_text


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

    def plain(self) -> pd.DataFrame:
        """The table as a plain DataFrame (the same cells and ``attrs``), without the header."""
        frame = pd.DataFrame(self)
        frame.attrs = dict(self.attrs)
        return frame

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
        """IPython's rich display: the header above pandas' HTML table."""
        table = super()._repr_html_()
        header = getattr(self, "_header", None)
        if table is None or header is None:
            return table
        return render_html(header.content, self.attrs.get("uncertainty")) + table

    def __array_ufunc__(self, ufunc, method: str, *inputs, **kwargs):
        """NumPy ufuncs compute on the plain table: ``np.exp(table)`` is a DataFrame without the header."""
        inputs = tuple(value.plain() if isinstance(value, SummaryTable) else value for value in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)


COMPUTED = (
    *("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__"),
    *("__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__divmod__", "__rdivmod__", "__pow__", "__rpow__"),
    *("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"),
    *("__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__"),
    *("__neg__", "__pos__", "__abs__", "__invert__"),
)
"""The operators whose results are computed frames: pandas' own, applied to the plain table."""


def _on_plain(name: str):
    """DataFrame's operator ``name``, applied to the table's :meth:`~SummaryTable.plain` frame."""

    def operator(self, *operands):
        return getattr(pd.DataFrame, name)(self.plain(), *operands)

    operator.__name__ = operator.__qualname__ = name
    operator.__doc__ = f"``DataFrame.{name}`` of the plain table: a computed frame, without the header."
    return operator


for _name in COMPUTED:
    setattr(SummaryTable, _name, _on_plain(_name))
