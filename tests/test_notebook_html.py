"""What a notebook displays: every table's ``_repr_html_`` holds the cells its text form prints, escaped.

Each HTML display is parsed (``html.parser``) and compared cell by cell with the text form's cells, parsed from the
printed text; numbers read back from a cell equal the figure within half a unit of its last printed digit. A page
holding every display is rendered by headless Chromium, and the DOM it builds holds the same tables and cells.
"""

import html
import re
import warnings
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from test_summary_header import half_unit

import bayeslogit as bl
from bayeslogit.fits.display import cells
from bayeslogit.fits.display.frame import WIDTH, FormattedFrame, formatted
from bayeslogit.surface.compare import render_comparison

PRIOR = bl.Normal(2.5)
SHORT_MCMC = {"draws": 200, "tune": 200, "chains": 2, "progressbar": False, "random_seed": 1}
WHOLE = re.compile(r"^-?\d+$")
SIX_ZEROS = re.compile(r"\d+\.0{6}")


class Tables(HTMLParser):
    """The tables of an HTML page: each a dict of ``caption`` and ``rows`` (the texts of each row's th and td
    cells, unescaped), in order."""

    def __init__(self, page: str):
        super().__init__()
        self.tables, self._row, self._text = [], None, None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": None, "rows": []})
        elif tag == "tr":
            self._row = []
            self.tables[-1]["rows"].append(self._row)
        elif tag in ("th", "td", "caption"):
            self._text = []

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self._row.append("".join(self._text))
        elif tag == "caption":
            self.tables[-1]["caption"] = "".join(self._text)
        if tag in ("th", "td", "caption"):
            self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def tables_of(page: str) -> list[dict]:
    return Tables(page).tables


def html_columns(table: dict) -> dict[str, list[str]]:
    """Column header -> its cells, of a table whose first row is the header and whose rows start with a label."""
    header, *rows = table["rows"]
    return {name: [row[position] for row in rows] for position, name in enumerate(header)}


def text_columns(text: str, labels: list[str]) -> dict[str, list[str]]:
    """Column -> its cells, of a table printed by pandas' ``to_string`` (wrapped into blocks separated by blank lines
    when wide) whose rows are ``labels`` in order; the label column is keyed by the index's name (its own line)."""
    columns = {}
    for block in text.split("\n\n"):
        lines = block.splitlines()
        names = lines[0].rstrip(" \\").split()
        rows = lines[len(lines) - len(labels) :]
        index_name = lines[1].strip() if len(lines) - len(labels) == 2 else ""
        columns[index_name] = labels
        for row, label in zip(rows, labels):
            assert row.startswith(label)
            for name, cell in zip(names, row[len(label) :].split(), strict=True):
                columns.setdefault(name, []).append(cell)
    return columns


def table_text(summary_text: str) -> str:
    """The table of a summary's text: what follows the header's closing rule."""
    return re.split(r"^=+\n", summary_text, flags=re.MULTILINE)[-1]


def assert_cells_show(frame: pd.DataFrame, shown: dict[str, list[str]]) -> None:
    """Each numeric cell of ``shown`` reads back as ``frame``'s figure, within half a unit of its last digit; a
    missing figure is ``-``; ESS whole, R-hat to 3 decimals; no ``nan`` and no ``.000000``."""
    for name in frame.columns:
        for value, cell in zip(frame[name], shown[name], strict=True):
            assert "nan" not in cell.lower() and not SIX_ZEROS.search(cell), (name, cell)
            if pd.isna(value):
                assert cell == "-", (name, cell)
            elif isinstance(value, float):
                assert abs(float(cell) - value) <= half_unit(cell) * (1 + 1e-9), (name, cell, value)
            if name.startswith("ess_"):
                assert WHOLE.match(cell), (name, cell)
            if name == "r_hat" and cell != "-":
                assert re.fullmatch(r"\d\.\d{3}", cell), cell


def fitted(make):
    """``make()``, silencing the ConvergenceWarnings a short run may raise (its diagnosis says so) and ELPD-LOO's
    warning on a few high Pareto k: these tests read what is displayed, not whether the fit converged."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bl.ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        return make()


@pytest.fixture(scope="module")
def wells_fits():
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic + I(educ / 4)", bl.datasets.load_wells())
    return fitted(lambda: model.fit_all(PRIOR, **SHORT_MCMC))


@pytest.fixture(scope="module")
def hostile_fits():
    """Columns named ``<b>`` and ``a & b``; ``<b>`` separates the classes, so ML fails."""
    frame = pd.DataFrame(
        {
            "<b>": [1.0, 2, 3, 4, 5, 6, 7, 8],
            "a & b": [0.3, 0.1, 0.5, 0.2, 0.9, 0.4, 0.7, 0.6],
            "y": [0, 0, 0, 0, 1, 1, 1, 1],
        }
    )
    model = bl.LogisticModel.from_formula("y ~ `<b>` + `a & b`", frame)
    return model.fit_all(PRIOR, methods=("ml", "map"), random_seed=0)


@pytest.fixture(scope="module")
def wide_summaries(wells_fits):
    """Summaries with many columns: MCMC of wells, of breast cancer with a long interaction name, of iris (three
    classes, labels ``name[class]``)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.assign(diagnosis=np.where(data.target == 0, "malignant", "benign"))
    models = {
        "cancer": ("diagnosis ~ `mean radius` * `worst concave points` + `mean texture`", frame),
        "iris": ("species ~ sepal_length + sepal_width", bl.datasets.load_iris()),
    }
    return {"wells": wells_fits["mcmc"].summary()} | {
        name: fitted(lambda: bl.LogisticModel.from_formula(formula, data).fit_mcmc(PRIOR, **SHORT_MCMC).summary())
        for name, (formula, data) in models.items()
    }


# ---- the cells -------------------------------------------------------------------------------------------------
def test_cells_have_their_column_s_digits():
    assert cells.column("estimate", [-0.213932, -0.895644, 0.468364]) == ["-0.2139", "-0.8956", "0.4684"]
    assert cells.column("se", [0.093113, 0.10461]) == ["0.0931", "0.1046"]  # 4 digits of the largest
    assert cells.column("estimate", [1.945948, -0.005965]) == ["1.946", "-0.006"]  # and at least 1 of the smallest
    assert cells.column("estimate", [1.945948, -0.0000123]) == ["1.94595", "-0.00001"]
    assert cells.column("mean", [0.21, 1.5]) == ["0.21", "1.50"]  # a column rounded to 2 decimals shows 2
    assert cells.column("p_value", [0.0215875, 1.111344e-17]) == ["2.159e-02", "1.111e-17"]
    assert cells.column("mcse_mean", [0.000899, 0.0023]) == ["0.0009", "0.0023"]  # Monte Carlo errors: 2 digits
    assert cells.column("wald89_ub", [1.5, np.inf, np.nan]) == ["1.5", "inf", "-"]
    assert cells.column("offset", [0.0, 0.0]) == ["0", "0"]
    assert cells.column("ess_bulk", [6291.883804, 4000.0, np.nan]) == ["6292", "4000", "-"]
    assert cells.column("r_hat", [1.00437, np.nan]) == ["1.004", "-"]
    assert cells.column("draws", pd.Series([4000, 3])) == ["4000", "3"]
    assert cells.column("diagnosis", ["✓", None, "prior-data conflict"]) == ["✓", "-", "prior-data conflict"]


def test_a_formatted_frame_prints_every_column_whatever_pandas_display_width():
    frame = FormattedFrame(
        np.arange(1, 25, dtype=float).reshape(2, 12) * 1000.123456, columns=[f"column_{i}" for i in range(12)]
    )
    with pd.option_context("display.width", 60, "display.max_columns", 4):
        text = repr(frame)
    assert "..." not in text and all(f"column_{i}" in text for i in range(12))
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    assert text.count("\n\n") == 1  # two blocks of columns
    assert "1000.123" in frame.to_string(float_format="{:.3f}".format)  # pandas' options format as pandas does
    assert type(frame * 2) is pd.DataFrame and type(frame.iloc[:1]) is FormattedFrame
    by_class = pd.DataFrame(
        [[6291.883804, 1.00437]], columns=pd.MultiIndex.from_product([["virginica"], ["ess_bulk", "r_hat"]])
    )
    assert formatted(by_class).to_numpy().tolist() == [["6292", "1.004"]]  # a column is known by its last label


# ---- summaries ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["ml", "map", "laplace", "mcmc"])
def test_a_summary_s_html_holds_the_cells_of_its_text(wells_fits, method):
    summary = wells_fits[method].summary()
    header, table = tables_of(summary._repr_html_())
    labels = [str(label) for label in summary.index]
    shown = text_columns(table_text(repr(summary)), labels)
    assert html_columns(table) == shown
    assert_cells_show(summary, shown)
    # the header: the same label: value pairs as the text's two columns, in the same order
    pairs = [(row[i].rstrip(":"), row[i + 1]) for row in header["rows"] for i in (0, 2) if row[i]]
    text = repr(summary)
    for label, value in pairs:
        assert re.search(rf"{re.escape(label)}:\s+{re.escape(value)}(\s|$)", text), (label, value)
    assert header["caption"] == "Logistic Regression Results"


@pytest.mark.parametrize("name", ["wells", "cancer", "iris"])
def test_summaries_print_every_column_within_100_columns(wide_summaries, name):
    summary = wide_summaries[name]
    with pd.option_context("display.width", 80):
        text = repr(summary)
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    assert "..." not in table_text(text)
    columns = text_columns(table_text(text), [str(label) for label in summary.index])
    assert set(columns) == {"coef", *summary.columns}
    assert_cells_show(summary, columns)
    # the header's rules span the table, from 78 columns to 100
    rule = re.search(r"^(=+)$", text, flags=re.MULTILINE).group(1)
    widest = max(len(line) for line in table_text(text).splitlines())
    assert len(rule) == min(max(widest, 78), WIDTH)


def test_wells_summary_fits_one_block_and_a_long_name_wraps(wide_summaries):
    assert "\n\n" not in table_text(repr(wide_summaries["wells"]))  # 9 columns under 'I(educ / 4)' fit 100
    assert "mean radius:worst concave points" in repr(wide_summaries["cancer"])


def test_every_cell_is_escaped(hostile_fits):
    summary = hostile_fits["map"].summary()
    page = summary._repr_html_()
    assert "<th>&lt;b&gt;</th>" in page and "<th>a &amp; b</th>" in page
    assert "y ~ `&lt;b&gt;` + `a &amp; b`" in page  # the formula, in the header's lines
    _, table = tables_of(page)
    assert [row[0] for row in table["rows"]] == ["coef", "Intercept", "<b>", "a & b"]


# ---- fits, compare, boundaries, diagnoses ------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["ml", "laplace"])
def test_a_fit_displays_its_summary(wells_fits, method):
    fit = wells_fits[method]
    assert fit._repr_html_() == fit.summary()._repr_html_()


def test_a_failed_fit_displays_its_method_and_reason(hostile_fits):
    failed = hostile_fits["ml"]
    (table,) = tables_of(failed._repr_html_())
    assert table["caption"] == "FailedFit"
    assert table["rows"] == [["method", "ml"], ["reason", failed.reason]]
    assert repr(failed) == f"FailedFit(method='ml', {table['rows'][1][1]})"
    assert "&#x27;&lt;b&gt;&#x27; separates the classes" in failed._repr_html_()


def comparison_text_rows(text: str, n_methods: int) -> list[list[str]]:
    """The rows of a comparison's text: ``[section title]`` or ``[quantity, cells...]``; failures left out."""
    rows = []
    for line in text.splitlines()[1:]:
        if line.startswith("  "):
            rows.append(line.strip().rsplit(None, n_methods))
        elif ": not fitted (" not in line:
            rows.append([line])
    return rows


@pytest.mark.parametrize("fixture", ["wells_fits", "hostile_fits"])
def test_compare_html_holds_the_cells_of_its_text(request, fixture):
    table = bl.compare(request.getfixturevalue(fixture))
    page = table._repr_html_()
    (shown,) = tables_of(page)
    assert shown["rows"][0] == ["", *table.columns]
    assert shown["rows"][1:] == comparison_text_rows(render_comparison(table), len(table.columns))
    for row in shown["rows"][1:]:
        assert all(cell != "nan" and "NaN" not in cell and not SIX_ZEROS.search(cell) for cell in row)
    rows = iter(shown["rows"][1:])
    for (_, quantity), numbers in zip(table.index, table.to_numpy()):
        row = next(rows)
        while len(row) == 1:  # a section's title
            row = next(rows)
        assert row[0] == quantity
        for value, cell in zip(numbers, row[1:]):
            assert cell == "-" if np.isnan(value) else abs(float(cell) - value) <= half_unit(cell) * (1 + 1e-9)
            if quantity in cells.COUNTS and cell != "-":
                assert WHOLE.match(cell) and float(cell) == round(value)
    failures = re.findall(r"<p>(.*?)</p>", page)
    assert len(failures) == len(table.failures)


def test_compare_html_shows_draws_and_ess_whole(wells_fits):
    (shown,) = tables_of(bl.compare(wells_fits)._repr_html_())
    rows = {row[0]: row[1:] for row in shown["rows"] if len(row) > 1}
    draws = [str(wells_fits[method].n_draws) for method in ("laplace", "mcmc")]
    assert rows["draws"] == ["-", "-", *draws] and draws[1] == "200"  # 4000.000000 once
    assert WHOLE.match(rows["ess_bulk_min"][3]) and rows["ess_bulk_min"][:3] == ["-", "-", "-"]
    assert rows["elpd_loo"][:2] == ["-", "-"]  # NaN once


@pytest.mark.parametrize("method", ["ml", "laplace", "mcmc"])
def test_a_boundary_displays_its_summary(wells_fits, method):
    boundary = wells_fits[method].boundary()
    summary = boundary.summary()
    (table,) = tables_of(boundary._repr_html_())
    assert table["caption"] == f"{type(boundary).__name__}({method}, level=0.5)"
    labels = list(boundary.names)
    shown = text_columns(FormattedFrame(summary).to_string(), labels)
    assert html_columns(table) == shown
    assert_cells_show(summary, shown)
    if method == "laplace":  # one chain of independent draws: no R-hat
        assert set(html_columns(table)["r_hat"]) == {"-"}


def test_the_laplace_diagnosis_shows_the_figures_of_its_repr(wells_fits):
    diagnosis = wells_fits["laplace"].diagnosis
    (table,) = tables_of(diagnosis._repr_html_())
    figures = dict(table["rows"])
    assert table["caption"] == "LaplaceDiagnosis"
    assert repr(diagnosis) == (
        f"LaplaceDiagnosis({figures['verdict']}, khat={figures['khat']} ± {figures['khat_se']}, "
        f"shift_max={figures['shift_max']} sd, {figures['draws']} draws)"
    )


def test_the_mcmc_diagnosis_shows_the_figures_of_compare_and_each_coefficient(wells_fits):
    fit = wells_fits["mcmc"]
    diagnosis = fit.diagnosis
    figures_table, coefficients = tables_of(diagnosis._repr_html_())
    figures = dict(figures_table["rows"])
    assert figures["verdict"] == diagnosis.verdict and figures["draws"] == "2 x 200"
    compared = {row[0]: row[-1] for row in comparison_text_rows(render_comparison(bl.compare(fit)), 1)}
    assert {name: figures[name] for name in diagnosis.rows} == {name: compared[name] for name in diagnosis.rows}
    assert_cells_show(diagnosis.table, html_columns(coefficients))


# ---- in a browser ----------------------------------------------------------------------------------------------
def test_a_page_of_every_display_renders_its_tables_in_headless_chromium(
    wells_fits, hostile_fits, tmp_path, headless_chromium
):
    displays = {
        **wells_fits,
        "failed": hostile_fits["ml"],
        "escaped": hostile_fits["map"],
        "summary": wells_fits["mcmc"].summary(),
        "compare": bl.compare(wells_fits),
        "compare, a failure": bl.compare(hostile_fits),
        "boundary": wells_fits["laplace"].boundary(),
        "laplace diagnosis": wells_fits["laplace"].diagnosis,
        "mcmc diagnosis": wells_fits["mcmc"].diagnosis,
    }
    parts = "".join(f"<h3>{name}</h3>{shown._repr_html_()}" for name, shown in displays.items())
    page = tmp_path / "displays.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{parts}</body></html>", "utf-8")
    dom = headless_chromium(page, "--dump-dom")
    rendered, written = tables_of(dom), tables_of(parts)
    # 6 summaries (4 fits, the escaped fit, a summary) of a header and a table each, a failed fit, 2 comparisons, a
    # boundary, 2 diagnoses (the MCMC one with its table of coefficients)
    assert len(rendered) == 6 * 2 + 1 + 2 + 1 + 3
    assert rendered == written  # the browser read every cell as written: no markup hidden in a label
    texts = [cell for table in rendered for row in table["rows"] for cell in row]
    assert "<b>" in texts and "a & b" in texts
    assert not any(cell.lower() == "nan" or SIX_ZEROS.search(cell) for cell in texts)
    assert "MCMCDiagnosis" in [table["caption"] for table in rendered]


def test_a_diagnosis_that_is_not_ok_shows_its_message():
    model = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())
    with pytest.warns(bl.ConvergenceWarning, match="the Laplace approximation may be poor here"):
        diagnosis = model.fit_laplace(bl.Normal(10, intercept_scale=10), draws=500, random_seed=0).diagnosis
    page = diagnosis._repr_html_()
    (table,) = tables_of(page)
    assert dict(table["rows"])["verdict"] == "borderline"
    assert re.findall(r"<p>(.*?)</p>", page) == [html.escape(diagnosis.message)]
