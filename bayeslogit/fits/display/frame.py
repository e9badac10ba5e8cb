"""A DataFrame that prints as a report does: every column, its digits chosen per column, ``-`` for missing values.

pandas prints a frame to ``display.width`` (80 columns), hiding the columns that do not fit behind ``...``, and
every float to 6 decimals (an effective sample size as ``6291.883804``). A :class:`FormattedFrame` prints its cells
as :mod:`.cells` formats them, wrapping columns that do not fit :data:`WIDTH` onto further blocks as pandas'
``to_string`` does, and its ``_repr_html_`` shows the same strings (:func:`html`).

Derived frames
--------------
The subclass uses the hooks pandas documents for subclassing: ``_constructor`` makes the frames pandas derives
FormattedFrames. So selections print the same way: ``.loc``, ``.iloc``, ``table[[...]]``, ``.round()``, ``.head()``,
sorting and copies. Computed frames (the arithmetic, comparison and logical operators, unary operators, NumPy
ufuncs) are plain DataFrames, since their numbers are no longer the table's: each operator is pandas' own, applied
to :meth:`FormattedFrame.plain`, so they keep ``attrs`` as pandas keeps them.
"""

from pathlib import Path

import pandas as pd

from bayeslogit.fits.display import cells, markup

WIDTH = 100
"""Columns of text a table fills before its further columns wrap onto another block."""
PANDAS_NUMBER_OPTIONS = frozenset({"float_format", "formatters", "na_rep", "decimal"})
"""``to_string`` options that ask for pandas' formatting of the numbers instead of the table's own."""


def formatted(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s cells as :mod:`.cells` formats them: a frame of str with the same index and columns (a column
    under several levels of labels is formatted by its last, e.g. ``("virginica", "ess_bulk")`` as ESS)."""
    columns = {
        position: cells.column(name[-1] if isinstance(name, tuple) else name, frame.iloc[:, position])
        for position, name in enumerate(frame.columns)
    }
    result = pd.DataFrame(columns, index=frame.index, dtype=object)
    result.columns = frame.columns
    return result


def text(frame: pd.DataFrame, **kwargs) -> str:
    """``frame`` as text: pandas' ``to_string`` of its :func:`formatted` cells, ``line_width`` :data:`WIDTH` unless
    given; with one of :data:`PANDAS_NUMBER_OPTIONS`, pandas formats the numbers as asked."""
    if PANDAS_NUMBER_OPTIONS & kwargs.keys():
        shown, options = pd.DataFrame(frame), {"line_width": WIDTH} | kwargs
    else:
        shown = formatted(frame)
        options = {"line_width": WIDTH, "col_space": _widths(shown)} | kwargs
    return "\n".join(line.rstrip() for line in pd.DataFrame.to_string(shown, **options).splitlines())


def _widths(shown: pd.DataFrame) -> list[int]:
    """Each column's width as pandas gives a column of floats: room for a sign before every number, and a space
    before its label, so that columns stand two spaces apart."""
    widths = []
    for position, name in enumerate(cells.labels(shown.columns)):
        values = shown.iloc[:, position]
        widths.append(max([len(name), *(len(cell.removeprefix("-")) for cell in values)]) + 1)
    return widths


def html(frame: pd.DataFrame, caption: str | None = None) -> str:
    """``frame`` as an HTML table (:func:`.markup.table`) of the cells :func:`text` shows."""
    shown = formatted(frame)
    rows = [(cells.labels(_as_tuple(label)), list(row)) for label, row in zip(shown.index, shown.to_numpy())]
    index_names = ["" if name is None else str(name) for name in frame.index.names]
    return markup.table(cells.labels(frame.columns), rows, index_names, caption)


def figures_html(
    caption: str,
    facts: list[tuple[str, str]],
    figures: dict,
    notes: list[str] = (),
    table: pd.DataFrame | None = None,
) -> str:
    """A display block of a check: ``facts`` (label, text) and ``figures`` (name -> value, formatted as
    :func:`~.cells.spec_of` says, ``{:.4g}`` otherwise) as a table captioned ``caption``, then ``notes`` as
    paragraphs and ``table`` (as :func:`html` shows it)."""
    shown = [*facts, *((name, cells.figure(value, cells.spec_of(name, "{:.4g}"))) for name, value in figures.items())]
    parts = [markup.key_values(shown, caption), markup.paragraphs(notes)]
    return markup.block(*parts, "" if table is None else html(table))


def _as_tuple(label) -> tuple:
    return label if isinstance(label, tuple) else (label,)


def write(text: str, buf, encoding: str | None) -> str | None:
    """``text``, or None after writing it to ``buf`` (a writable object or a path), as ``to_string`` does."""
    if buf is None:
        return text
    if hasattr(buf, "write"):
        buf.write(text)
    else:
        Path(buf).write_text(text, encoding=encoding or "utf-8")
    return None


class FormattedFrame(pd.DataFrame):
    """A DataFrame whose ``repr``, ``to_string`` and ``_repr_html_`` show its cells as :mod:`.cells` formats them.

    See the module's docstring for how it prints and what derived frames keep.
    """

    @property
    def _constructor(self):
        return FormattedFrame

    def plain(self) -> pd.DataFrame:
        """The table as a plain DataFrame (the same cells and ``attrs``)."""
        frame = pd.DataFrame(self)
        frame.attrs = dict(self.attrs)
        return frame

    def to_string(self, buf=None, **kwargs) -> str | None:
        """:meth:`pandas.DataFrame.to_string` of the formatted cells (every column; see :func:`text`); ``repr``
        and ``print`` show this."""
        encoding = kwargs.pop("encoding", None)
        return write(self._text(**kwargs), buf, encoding)

    def _text(self, **kwargs) -> str:
        return text(self, **kwargs)

    def __repr__(self) -> str:
        return self.to_string()

    def _repr_html_(self) -> str:
        """IPython's rich display: the cells ``repr`` shows, as an HTML table."""
        return markup.block(html(self))

    def __array_ufunc__(self, ufunc, method: str, *inputs, **kwargs):
        """NumPy ufuncs compute on the plain table: ``np.exp(table)`` is a plain DataFrame."""
        inputs = tuple(value.plain() if isinstance(value, FormattedFrame) else value for value in inputs)
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
    """DataFrame's operator ``name``, applied to the table's :meth:`~FormattedFrame.plain` frame."""

    def operator(self, *operands):
        return getattr(pd.DataFrame, name)(self.plain(), *operands)

    operator.__name__ = operator.__qualname__ = name
    operator.__doc__ = f"``DataFrame.{name}`` of the plain table: a computed frame."
    return operator


for _name in COMPUTED:
    setattr(FormattedFrame, _name, _on_plain(_name))
