"""The HTML report of ``bayeslogit compare``: one self-contained file.

The page holds the data summary (with the fits' settings, the prior among them), the comparison table, the
boundary, coefficient and calibration plots (PNG, inline as base64, captioned with their notes), the posterior
fits' diagnostics, the warnings raised while fitting and the reasons of the fits that failed; a fit whose draws did
not pass their checks is named above the plots, whose legends say its trouble. It links to nothing and runs no
script: the styles are inline and every string that comes from the data or the command line (file name, formula,
column names, class labels, warnings, table cells) is escaped with :func:`html.escape` where it is put into the
page. Advice (what to do about a failed fit, a poor diagnosis or a plot that could not be drawn) is in the
command's words (:data:`DOOR`), as on its stderr.
"""

import base64
import contextlib
import html
import io
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bayeslogit.atomic import staged_write
from bayeslogit.fits.diagnostics.mcmc_convergence import ESS_THRESHOLD, RHAT_THRESHOLD
from bayeslogit.fits.display import cells
from bayeslogit.rows import counts
from bayeslogit.rows.formulas import data_names
from bayeslogit.surface.advice import in_words
from bayeslogit.surface.methods import METHODS

REPORT_NAME = "report.html"

DOOR = "cli"
"""The door whose words the report's advice is in: the command line's (see :mod:`bayeslogit.surface.advice`)."""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<h1>{title}</h1>
{sections}
</body>
</html>
"""

STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 1.5em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 0.8em; white-space: pre-wrap; }
figure { margin: 1em 0; } figcaption { font-size: 0.9em; color: #555; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
.note { background: #fff4e0; border-left: 4px solid #e69f00; padding: 0.4em 0.8em; }
.ok { color: #006d4f; }
"""

SECTION = '<section id="{id}">\n<h2>{heading}</h2>\n{body}\n</section>'
FIGURE = '<figure>\n<img alt="{alt}" src="data:image/png;base64,{png}">\n<figcaption>{caption}</figcaption>\n</figure>'
NOTE = '<p class="note">{text}</p>'


@dataclass(frozen=True)
class FitWarning:
    """A warning raised while the command ran.

    Attributes
    ----------
    where : str
        The fit (``"mcmc"``, ...) or stage (``"comparison"``) that raised it.
    category : str
        The warning's class name, e.g. ``"ConvergenceWarning"``.
    message : str
    """

    where: str
    category: str
    message: str


@dataclass(frozen=True)
class ReportInputs:
    """What the report shows.

    Attributes
    ----------
    source : str
        The DATA argument: a file name or a bundled data set.
    formula : str
    settings : dict of str to str
        The fits' settings as the report lists them (prior, methods, draws, ...).
    data : DataFrame
        Every row read.
    train, test : DataFrame
        The training rows and the held-out rows (None when nothing is held out).
    fits : dict
        method -> fit or FailedFit, all of one model (fitted on ``train``).
    table : Comparison
        :func:`bayeslogit.surface.compare` of ``fits`` on ``test`` (in-sample when ``test`` is None).
    warnings : tuple of FitWarning
    features : tuple of str, optional
        The two predictors of the boundary plot; None lets the plot choose (see
        :func:`bayeslogit.plots.plot_boundary`).
    """

    source: str
    formula: str
    settings: dict
    data: pd.DataFrame
    train: pd.DataFrame
    test: pd.DataFrame | None
    fits: dict
    table: pd.DataFrame
    warnings: tuple
    features: tuple | None = None

    @property
    def fitted(self) -> dict:
        return {method: fit for method, fit in self.fits.items() if not fit.failed}

    @property
    def model(self):
        return next(iter(self.fitted.values())).model


def esc(value) -> str:
    """``value`` as text, escaped for HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def render_report(inputs: ReportInputs, progress: Callable[[str], None] | None = None) -> str:
    """The report's HTML page, as one string.

    Parameters
    ----------
    inputs : ReportInputs
    progress : callable, optional
        Called with one short line per figure drawn, with its time (``"boundary plot drawn in 1.3 s"``).
    """
    sections = [
        ("data", "Data", _data_section(inputs)),
        ("comparison", "Comparison", inputs.table._repr_html_()),  # the notebook's table: its cells escaped
        ("plots", "Plots", _plots_section(inputs, progress or (lambda line: None))),
        ("diagnostics", "Posterior diagnostics", _diagnostics_section(inputs.fitted)),
        ("warnings", "Warnings", _warnings_section(inputs.warnings)),
        ("failures", "Failed fits", _failures_section(inputs.fits)),
    ]
    body = "\n".join(SECTION.format(id=key, heading=esc(heading), body=content) for key, heading, content in sections)
    return PAGE.format(title=esc(f"bayeslogit: {inputs.formula} on {inputs.source}"), style=STYLE, sections=body)


def write_report(directory: Path | str, page: str) -> Path:
    """Write ``page`` to ``directory/report.html`` atomically (:func:`~bayeslogit.atomic.staged_write`): the new
    report replaces the old one only once it is complete, so a reader never sees half a report. ``directory`` is
    created if missing.

    Returns
    -------
    Path
        The report's path.

    Raises
    ------
    OSError
        When the directory cannot be made or written to (its message names the directory).
    """
    directory = Path(directory)
    created = [folder for folder in (directory, *directory.parents) if not folder.exists()]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staged = staged_write(directory / REPORT_NAME)
    except OSError as error:
        _remove_folders(created)
        raise OSError(
            f"cannot write a report into '{directory}': {error.strerror or error}; give --out a "
            "directory you can write to"
        ) from None
    try:
        with staged as temporary:
            temporary.write_text(page, encoding="utf-8")
            os.chmod(temporary, 0o644)  # readable by all, as a web page is
    except BaseException:
        _remove_folders(created)
        raise
    return directory / REPORT_NAME


def _remove_folders(folders: list[Path]) -> None:
    """Remove the (empty) ``folders``, deepest first, that a failed write created; leave any that is not empty."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


# ---- sections -----------------------------------------------------------------------------------------------
def _data_section(inputs: ReportInputs) -> str:
    model = inputs.model
    used = data_names(model.data.formula_spec) | counts.response_names(model.formula, model.response)
    units = inputs.data.attrs.get("units", {})  # the bundled data sets' units: "dist100 (100 m)"
    rows = [
        ("data", inputs.source),
        ("formula", inputs.formula),
        (
            "rows",
            f"{len(inputs.data)} read: {len(inputs.train)} for training, "
            f"{0 if inputs.test is None else len(inputs.test)} held out",
        ),
        (
            "columns used",
            ", ".join(f"{c} ({units[c]})" if c in units else str(c) for c in inputs.data.columns if c in used),
        ),
        ("columns in the data", ", ".join(str(c) for c in inputs.data.columns)),
        ("model", f"{model.likelihood}, coefficients {', '.join(model.coef_names)}"),
        *inputs.settings.items(),
    ]
    what = "trials" if model.data.observations.grouped else "rows"
    totals = {f"training {what}": counts.class_totals(model.formula, model.response, inputs.train)}
    if inputs.test is not None:
        totals[f"held-out {what}"] = counts.class_totals(model.formula, model.response, inputs.test)
    classes = pd.DataFrame(totals).reindex(model.classes_).fillna(0).astype(int)
    class_rows = [(label, *row) for label, row in zip(model.classes_, classes.to_numpy())]
    event = f"; the event of the binary model is {model.classes_[1]}" if model.n_classes == 2 else ""
    return (
        key_values_html(rows)
        + f"<h3>Classes of {esc(model.response)}{esc(event)}</h3>"
        + _table(["class", *classes.columns], class_rows)
    )


def _plots_section(inputs: ReportInputs, progress: Callable[[str], None]) -> str:
    import bayeslogit as bl  # the plots load on first use, inside figure_html, so that their failure is a note

    fits, model, features = inputs.fits, inputs.model, inputs.features
    chosen_by_plot = features is None and len(model.feature_names) > 2  # see plot_boundary's ``features``
    X, y = (None, None)
    if inputs.test is not None:
        X, y = inputs.test, counts.response_values(model.formula, model.response, inputs.test)
    where = "the training rows" if inputs.test is None else "the held-out rows"
    drawings = [
        (
            "Decision boundary",
            "Where each fit puts the decision boundary, over the training rows"
            + (" (choose the two predictors drawn with --features A B)." if chosen_by_plot else "."),
            lambda: bl.plot_boundary(fits, features=None if features is None else list(features)),
        ),
        ("Coefficients", "Every coefficient by method: estimate and interval.", lambda: bl.plot_coef(fits)),
        (
            "Calibration",
            f"Reliability diagram of the predicted probabilities on {where}.",
            lambda: bl.plot_calibration(fits, X, y),
        ),
    ]
    figures = []
    for name, caption, draw in drawings:
        start = time.perf_counter()
        figure, drawn = figure_html(name, caption, draw)
        progress(f"{name.lower()} plot {'drawn' if drawn else 'not drawn'} in {time.perf_counter() - start:.1f} s")
        figures.append(figure)
    return _trouble_note(inputs.fitted) + "\n".join(figures)


def figure_html(name: str, caption: str, draw) -> tuple[str, bool]:
    """The figure ``draw()`` makes as an inline PNG captioned with ``caption`` and the figure's notes, or a note
    saying why it could not be drawn; and whether it was drawn."""
    try:
        fig = draw()
        notes = " ".join(fig.get_supxlabel().split())  # the footnote under the panels, on one line
        png = figure_png(fig)
    except Exception as error:  # a plot that fails costs the report that plot only
        return NOTE.format(text=esc(f"{name}: not drawn ({type(error).__name__}: {in_words(error, DOOR)})")), False
    return FIGURE.format(
        alt=esc(name), png=png, caption=esc(" ".join(filter(None, (f"{name}.", caption, notes))))
    ), True


def _trouble_note(fitted: dict) -> str:
    """A note naming the posterior fits whose draws did not pass their checks (their figures' legends say how),
    or ""."""
    marked = ", ".join(
        METHODS[method].style["label"] if method in METHODS else method
        for method, fit in fitted.items()
        if fit.draws_are_posterior and not fit.diagnosis.ok
    )
    why = "Their bands and curves come from draws that did not pass their checks; see the posterior diagnostics."
    return NOTE.format(text=esc(f"Marked in the figures: {marked}. {why}")) if marked else ""


def figure_png(fig) -> str:
    """A matplotlib figure as base64 PNG text (and the figure closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _diagnostics_section(fitted: dict) -> str:
    parts = []
    for method, fit in fitted.items():
        if not fit.draws_are_posterior:  # a point fit has no diagnosis of its draws
            continue
        diagnosis = fit.diagnosis
        verdict = (
            f'<p class="ok">{esc(method)}: the checks pass.</p>'
            if diagnosis.ok
            else NOTE.format(text=esc(f"{method}: {in_words(diagnosis.message, DOOR)}"))
        )
        figures = ", ".join(
            f"{name} = {cells.figure(value, cells.spec_of(name, '{:.4g}'))}" for name, value in diagnosis.rows.items()
        )
        parts.append(
            f"<h3>{esc(method)}</h3>\n<p>{esc(f'{fit.n_chains} chain(s) x {fit.n_draws} draws; {figures}')}"
            f"</p>\n{verdict}"
        )
        if fit.markov_chains:  # its sampler, and the chains' checks per coefficient
            criteria = f"R-hat up to {RHAT_THRESHOLD} and ESS from {ESS_THRESHOLD} pass"
            parts.append(f"<p>{esc(f'Sampler: {fit.sampler}. Per coefficient ({criteria}):')}</p>")
            parts.append(
                _table(
                    ["coefficient", "r_hat", "ess_bulk", "ess_tail"],
                    (
                        (
                            name,
                            _number(row["r_hat"], "{:.3f}"),
                            _number(row["ess_bulk"], "{:.0f}"),
                            _number(row["ess_tail"], "{:.0f}"),
                        )
                        for name, row in diagnosis.table.iterrows()
                    ),
                )
            )
    return "\n".join(parts) or "<p>No posterior fit was made.</p>"


def _warnings_section(found: Sequence[FitWarning]) -> str:
    if not found:
        return "<p>No warnings were raised.</p>"
    return list_html(f"{warning.where} ({warning.category}): {warning.message}" for warning in found)


def _failures_section(fits: dict) -> str:
    failed = [f"{method}: {fit.reason_in(DOOR)}" for method, fit in fits.items() if fit.failed]
    return list_html(failed) if failed else "<p>Every fit was made.</p>"


# ---- HTML pieces --------------------------------------------------------------------------------------------
def _number(value, spec: str = "{:.4g}") -> str:
    """A figure as the report prints it: ``spec`` below 1000, else a whole number; ``-`` for NaN."""
    if not np.isfinite(value):
        return "-"
    return spec.format(value) if abs(value) < 1000 else f"{value:.0f}"


def _cell(value) -> str:
    numeric = isinstance(value, (int, float, np.number)) or (isinstance(value, str) and _is_number(value))
    return f'<td class="number">{esc(value)}</td>' if numeric else f"<td>{esc(value)}</td>"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text == "-"
    return True


def _table(header: Sequence, rows: Iterable[Sequence]) -> str:
    """An HTML table of escaped cells; the first cell of each row is its header."""
    head = "".join(f"<th>{esc(name)}</th>" for name in header)
    body = "\n".join(
        f"<tr><th>{esc(first)}</th>{''.join(_cell(value) for value in rest)}</tr>" for first, *rest in rows
    )
    return f"<table>\n<tr>{head}</tr>\n{body}\n</table>"


def key_values_html(rows: Iterable[tuple]) -> str:
    body = "\n".join(f"<tr><th>{esc(key)}</th><td>{esc(value)}</td></tr>" for key, value in rows)
    return f"<table>\n{body}\n</table>"


def list_html(items: Iterable[str]) -> str:
    return "<ul>\n" + "\n".join(f"<li>{esc(item)}</li>" for item in items) + "\n</ul>"
