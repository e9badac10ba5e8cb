"""The HTML report drawn from ReportInputs built as the command builds them: progress, captions with the figures'
notes, units, marks of trouble; and the command on Korean names, with and without a font that has them."""

import contextlib
import io
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayeslogit as bl
from bayeslogit.plots import fonts
from bayeslogit.plots.style import trouble_note  # what the legends add
from bayeslogit.surface import report
from bayeslogit.surface.cli import main
from bayeslogit.surface.compare import compare

PRIOR = bl.Normal(2.5, autoscale=True)  # the command's default
CAPTION = re.compile(r"<figcaption>(.*?)</figcaption>", re.S)
IMAGE = re.compile(r'src="data:image/png;base64,[A-Za-z0-9+/=]+"')


def inputs_of(source: str, formula: str, data, train, test, methods, features=None, **fit_options):
    """ReportInputs as ``bayeslogit compare`` builds them: the settings it lists, the fits, the table."""
    model = bl.LogisticModel.from_formula(formula, train)
    fits = model.fit_all(PRIOR, methods=methods, random_seed=0, **fit_options)
    table = compare(fits) if test is None else compare(fits, test, test[model.response])
    settings = {"prior": f"{PRIOR!r} (autoscaled)", "methods": ", ".join(methods), "seed": "0"}
    return report.ReportInputs(source, formula, settings, data, train, test, fits, table, (), features)


@pytest.fixture(scope="module")
def wells_inputs():
    """The first 600 rows of wells (their units in attrs), 150 held out; ML, MAP and Laplace."""
    data = bl.datasets.load_wells().iloc[:600]
    train, test = data.iloc[:450], data.iloc[450:]
    formula = "switched ~ dist100 + arsenic + educ"
    return inputs_of("wells", formula, data, train, test, ("ml", "map", "laplace"), draws=1000)


def captions(page: str) -> dict:
    """Figure name -> its caption, unescaped."""
    found = [report.html.unescape(text) for text in CAPTION.findall(page)]
    return {text.split(". ", 1)[0]: text for text in found}


def test_each_figure_is_reported_with_its_time(wells_inputs):
    said = []
    page = report.render_report(wells_inputs, progress=said.append)
    assert [re.sub(r"\d+\.\d s$", "T s", line) for line in said] == [
        "decision boundary plot drawn in T s",
        "coefficients plot drawn in T s",
        "calibration plot drawn in T s",
    ]
    assert len(IMAGE.findall(page)) == 3
    assert report.render_report(wells_inputs) == page  # no progress: the same page


def test_captions_carry_the_figures_notes_and_the_data_its_units(wells_inputs):
    page = report.render_report(wells_inputs)
    train, test = wells_inputs.train, wells_inputs.test
    boundary, calibration = captions(page)["Decision boundary"], captions(page)["Calibration"]
    assert boundary.startswith(
        "Decision boundary. Where each fit puts the decision boundary, over the training rows (choose the two "
        "predictors drawn with --features A B). Drawn in dist100 and arsenic, the continuous predictors of largest "
        "standardised effect (|coef| × sd) in the ML fit: "
    )
    assert boundary.endswith(f"Other predictors held fixed: educ at its mean {train.educ.mean():.3g} yr.")
    assert f"{len(test)} rows fill 7 bins of 20 rows on average" in calibration  # 150 rows, not 10 bins' worth
    assert "<th>columns used</th><td>switched, arsenic (100 µg/L), dist100 (100 m), educ (yr)</td>" in page
    assert f"<th>prior</th><td>{report.esc(wells_inputs.settings['prior'])}</td>" in page


def test_the_features_asked_for_are_drawn(wells_inputs):
    from dataclasses import replace

    page = report.render_report(replace(wells_inputs, features=("arsenic", "educ")))
    boundary = captions(page)["Decision boundary"]
    mean = wells_inputs.train.dist100.mean()
    assert boundary == (
        "Decision boundary. Where each fit puts the decision boundary, over the training rows. Other predictors "
        f"held fixed: dist100 at its mean {mean:.3g} × 100 m. Points jittered along educ (yr) by up to 0.3 of the "
        "spacing of the values, which lie on a lattice; the surfaces and boundaries are not."
    )  # years of schooling: whole numbers, each on many rows


def test_fits_that_fail_their_checks_are_marked_and_too_few_rows_are_explained():
    data = bl.datasets.load_challenger()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bl.ConvergenceWarning)  # the trouble itself is under test
        warnings.simplefilter("ignore", UserWarning)  # PSIS-LOO of 23 rows is unreliable, and says so
        inputs = inputs_of("challenger", "damaged ~ temp + flight", data, data, None, ("map", "laplace"), draws=1000)
    note = trouble_note(inputs.fits["laplace"])
    assert note.startswith("k-hat ")
    page = report.render_report(inputs)
    assert (
        report.NOTE.format(
            text=report.esc(
                "Marked in the figures: Laplace. Their bands and curves come from draws that did not pass their "
                "checks; see the posterior diagnostics."
            )
        )
        in page
    )
    assert captions(page)["Calibration"].endswith(
        "23 rows are too few for a reliability diagram, which needs 40 (20 in each of two bins) to show a curve. "
        "Evaluate on more rows, or compare the methods' log loss and Brier score."
    )


def run_command(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def korean_csv(path) -> str:
    rng = np.random.default_rng(4)
    age, income = rng.normal(45, 12, 200), rng.normal(300, 80, 200)
    bought = (rng.random(200) < expit(0.06 * (age - 45))).astype(int)
    pd.DataFrame({"나이": age, "소득": income, "구매여부": bought}).to_csv(path, sep=";", index=False)
    return str(path)


def compare_korean(tmp_path) -> tuple[str, str]:
    out = tmp_path / "report"
    formula = "구매여부 ~ 나이 + 소득"
    status, _, stderr = run_command(
        ["compare", korean_csv(tmp_path / "k.csv"), "--formula", formula, "--methods", "ml,map", "--out", str(out)]
    )
    assert status == 0
    return stderr, (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.skipif(not fonts._fallbacks(), reason="no font of FALLBACK_FAMILIES installed (apt fonts-noto-cjk)")
def test_the_command_draws_korean_names_without_a_warning(tmp_path):
    stderr, page = compare_korean(tmp_path)
    assert "warning" not in stderr and "missing from font" not in stderr
    assert len(IMAGE.findall(page)) == 3


def test_without_a_font_for_the_names_the_command_says_so_once(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "FALLBACK_FAMILIES", ("No Such Font Family",))
    monkeypatch.setattr(fonts, "_WARNED", set())
    stderr, page = compare_korean(tmp_path)
    said = [line for line in stderr.splitlines() if "warning" in line]
    assert said == [
        "bayeslogit: warning: MissingGlyphWarning: the names 구매여부, 나이, 소득 cannot be drawn: the figure's "
        "font lacks their characters, and No Such Font Family is not installed, so they show as □. Install a "
        "font that has them, such as Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk), and draw the figure "
        "again"
    ]
    assert "missing from font" not in stderr and len(IMAGE.findall(page)) == 3  # matplotlib's "Glyph ... missing"


def test_the_korean_report_renders_in_a_headless_browser(tmp_path, headless_chromium):
    from PIL import Image

    _, page = compare_korean(tmp_path)
    screenshot = tmp_path / "report.png"
    headless_chromium((tmp_path / "report" / "report.html"), f"--screenshot={screenshot}", "--window-size=1200,3000")
    grey = np.asarray(Image.open(screenshot).convert("L"))
    assert grey.shape == (3000, 1200) and (grey < 200).mean() > 0.02  # text, tables and plots; a blank page: 0
