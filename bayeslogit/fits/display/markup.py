"""The one HTML renderer of the tables that notebooks display (IPython's ``_repr_html_``).

It takes cells already formatted as strings, by the code that formats the text form (:mod:`.cells`), so that the
text and the HTML of a table never disagree, and escapes every one of them: a label such as ``<b>`` or ``a & b``
shows as written. Each display is one self-contained block: its style inline, scoped to the block's class, and no
external stylesheet or script.
"""

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

STYLE = (
    "<style>"
    ".bayeslogit table{border-collapse:collapse;margin:0.5em 0;font-variant-numeric:tabular-nums}"
    ".bayeslogit caption{text-align:left;font-weight:bold;padding:0.2em 0}"
    ".bayeslogit th,.bayeslogit td{padding:0.15em 0.6em;border-bottom:1px solid #ddd;vertical-align:top}"
    ".bayeslogit thead th{border-bottom:1px solid #555}"
    ".bayeslogit th{text-align:left}.bayeslogit thead th.value,.bayeslogit td{text-align:right}"
    ".bayeslogit td.text{text-align:left}.bayeslogit tr.section th{background:#f2f2f2}"
    ".bayeslogit p{margin:0.3em 0}"
    "</style>"
)
"""The block's style: right-aligned numbers in columns of equal-width digits, left-aligned labels."""


@dataclass(frozen=True)
class Section:
    """A row across a table that titles the rows under it (``in-sample (3020 rows)``)."""

    title: str


def escape(text) -> str:
    """``str(text)`` with ``&``, ``<``, ``>`` and quotes escaped."""
    return html.escape(str(text), quote=True)


def table(
    columns: Sequence[str],
    rows: Iterable,
    index_names: Sequence[str] = ("",),
    caption: str | None = None,
) -> str:
    """An HTML table of formatted cells.

    Parameters
    ----------
    columns : sequence of str
        The headers of the value columns.
    rows : iterable of (labels, cells) or Section
        ``labels`` a sequence of str, one per entry of ``index_names``; ``cells`` a sequence of str, one per column.
    index_names : sequence of str
        The headers above the label columns.
    caption : str, optional

    Returns
    -------
    str
        ``<table>`` with a header row and a body, every cell escaped; numbers right-aligned.
    """
    width = len(index_names) + len(columns)
    head = "".join(f"<th>{escape(name)}</th>" for name in index_names)
    head += "".join(f'<th class="value">{escape(name)}</th>' for name in columns)
    body = "".join(
        f'<tr class="section"><th colspan="{width}">{escape(row.title)}</th></tr>'
        if isinstance(row, Section)
        else "<tr>" + _labels(row[0]) + "".join(f"<td>{escape(cell)}</td>" for cell in row[1]) + "</tr>"
        for row in rows
    )
    return f"<table>{_caption(caption)}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def key_values(pairs: Iterable[tuple[str, str]], caption: str | None = None) -> str:
    """An HTML table of ``(label, text)`` rows, the text left-aligned."""
    body = "".join(f'<tr><th>{escape(key)}</th><td class="text">{escape(value)}</td></tr>' for key, value in pairs)
    return f"<table>{_caption(caption)}<tbody>{body}</tbody></table>"


def paragraphs(lines: Iterable[str]) -> str:
    """One ``<p>`` per line, escaped."""
    return "".join(f"<p>{escape(line)}</p>" for line in lines)


def block(*parts: str) -> str:
    """The parts (HTML) in one ``<div class="bayeslogit">`` with the :data:`STYLE` that lays them out."""
    return f'<div class="bayeslogit">{STYLE}{"".join(parts)}</div>'


def _labels(labels: Sequence[str]) -> str:
    return "".join(f"<th>{escape(label)}</th>" for label in labels)


def _caption(caption: str | None) -> str:
    return "" if caption is None else f"<caption>{escape(caption)}</caption>"
