"""The ``bayeslogit`` command and its HTML report, run in-process on small data written under tmp_path."""

import base64
import contextlib
import html
import io
import logging
import os
import re
import subprocess
import sys
from importlib import import_module

import numpy as np
import pandas as pd
import pytest

from bayeslogit.surface import report
from bayeslogit.surface.cli import main, quiet_sampler_logs

HOSTILE = "<script>alert(1)</script>"
YES, NO = "<b>yes</b>", "no & then"  # class labels that are HTML too
METHODS = ["ml", "map", "laplace", "mcmc"]
BASE64_IMAGE = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def run_command(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)``: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit_:
            status = exit_.code
    return status, out.getvalue(), err.getvalue()


def write_hostile_csv(path) -> str:
    """60 rows of each class; the classes overlap in ``x1`` and in the column named like a script."""
    rng = np.random.default_rng(7)
    label = np.repeat([YES, NO], 60)
    shift = np.where(label == YES, 1.0, 0.0)
    pd.DataFrame({"outcome": label, "x1": rng.normal(shift, 1.0), HOSTILE: rng.normal(-shift, 1.5)}).to_csv(
        path, index=False
    )
    return str(path)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """Every method on the hostile CSV (2 chains x 100 draws), the report into a directory that does not exist:
    ``(status, stdout, stderr, report directory)``."""
    root = tmp_path_factory.mktemp("hostile")
    data = write_hostile_csv(root / "data <&>.csv")
    out = root / "not" / "yet"
    status, stdout, stderr = run_command(
        [
            "compare",
            data,
            "--formula",
            f"outcome ~ x1 + `{HOSTILE}`",
            "--draws",
            "100",
            "--chains",
            "2",
            "--out",
            str(out),
        ]
    )
    return status, stdout, stderr, out


@pytest.fixture(scope="module")
def page(hostile_run) -> str:
    return (hostile_run[3] / "report.html").read_text(encoding="utf-8")


def test_compare_prints_one_column_per_method_on_the_held_out_rows(hostile_run):
    status, stdout, _, _ = hostile_run
    lines = stdout.splitlines()
    assert status == 0
    assert lines[0].split() == METHODS
    assert "held-out (30 rows)" in lines  # a quarter of each class of 60 rows is held out


def test_sampler_start_up_lines_are_silenced_while_fitting(caplog):
    caplog.set_level(logging.INFO)
    sampler_log = logging.getLogger("pymc.sampling.mcmc")
    with quiet_sampler_logs():
        sampler_log.info("NUTS: [z]")  # as PyMC announces its step methods, naming the sampled variables
    sampler_log.info("after the fits")
    assert [record.getMessage() for record in caplog.records] == ["after the fits"]


def test_published_ml_coefficients_of_the_bundled_wells_data():
    status, stdout, _ = run_command(
        ["compare", "wells", "--formula", "switched ~ dist100 + arsenic", "--methods", "ml", "--test-size", "0"]
    )
    coef_section = stdout.split("\ncoef_se_sd")[0]
    rows = {line.split()[0]: line.split()[1:] for line in coef_section.splitlines() if line.startswith("  ")}
    assert status == 0
    assert "in-sample (3020 rows)" in stdout
    # Gelman & Hill (2007), section 5.4: -0.8966 and 0.4608, shown to the table's 4 significant digits
    assert rows["dist100"][0] == "-0.8966" and rows["arsenic"][0] == "0.4608"


def test_progress_goes_to_stderr_one_line_per_step_start_and_end(hostile_run):
    _, _, stderr, out = hostile_run
    lines = stderr.splitlines()
    assert all(line.startswith("bayeslogit: ") for line in lines)  # nothing from the sampler, e.g. its variables
    started = [line.split()[1].rstrip(":") for line in lines if line.endswith("fitting ...")]
    ended = [line.split()[1].rstrip(":") for line in lines if re.match(r"bayeslogit: \w+: done in [\d.]+ s$", line)]
    assert started == METHODS and ended == [*METHODS, "comparison", "report"]
    assert lines.index("bayeslogit: comparing the fits (held-out metrics, LOO) ...") > lines.index(
        "bayeslogit: mcmc: fitting ..."
    )
    assert lines[-1] == f"bayeslogit: report written to {out / 'report.html'}"


def test_no_message_of_the_python_api_reaches_the_command(hostile_run, page):
    """Every fit, the comparison and the report, with warnings (ESS of 2 x 100 draws): what they say names the
    command's options, never a call of the Python API (the messages that only the Python API raises included)."""
    from test_advice import PYTHON_API_ONLY, PYTHON_WORDS

    _, stdout, stderr, _ = hostile_run
    said = [stdout, stderr, BASE64_IMAGE.sub("", page)]
    assert "--" in stderr and not any(PYTHON_WORDS.search(text) for text in said)
    assert not any(known in text for text in said for knowns in PYTHON_API_ONLY.values() for known in knowns)


def test_report_is_one_self_contained_file(hostile_run, page):
    images = BASE64_IMAGE.findall(page)
    text = BASE64_IMAGE.sub("", page)  # base64 text may spell "http" by chance
    assert os.listdir(hostile_run[3]) == ["report.html"]  # the directory was made, and no temporary file is left
    assert len(images) == 3  # boundary, coefficients, calibration
    assert all(base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n") for image in images)
    assert "<script" not in page and "<link" not in page and 'src="http' not in page and "http" not in text


def test_report_escapes_every_string_from_the_data(page):
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the column name, shown as text
    assert "data &lt;&amp;&gt;.csv" in page  # the file name
    assert "<b>" not in page and "&lt;b&gt;yes&lt;/b&gt;" in page
    row = '<tr><th>&lt;b&gt;yes&lt;/b&gt;</th><td class="number">45</td><td class="number">15</td></tr>'
    assert row in page  # class counts: training and held-out rows


def test_report_holds_the_comparison_the_diagnostics_and_the_warnings(hostile_run, page):
    stdout, stderr = hostile_run[1], hostile_run[2]
    comparison = page.split('<section id="comparison">')[1].split("</section>")[0]
    rows = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in re.findall(r"<tr.*?</tr>", comparison)]
    shown = [" ".join(html.unescape(cell) for cell in row if cell) for row in rows]
    assert shown == [" ".join(line.split()) for line in stdout.rstrip().splitlines()]  # the same table as printed
    diagnostics = page.split('<section id="diagnostics">')[1].split("</section>")[0]
    assert "Sampler: nutpie" in diagnostics
    coefficients = re.findall(r"<tr><th>([^<]*)</th><td", diagnostics)  # one row per coefficient of the MCMC fit
    assert coefficients == ["Intercept", "x1", report.esc(HOSTILE)]
    said = [line.split("): ", 1)[1] for line in stderr.splitlines() if line.startswith("bayeslogit: warning (")]
    assert said, "2 chains x 100 draws give an ESS below 400, which warns"
    assert all(report.esc(message) in page for message in said)


def test_failed_fits_and_failed_plots_are_explained_in_the_report(tmp_path, monkeypatch):
    x = np.arange(20.0)
    pd.DataFrame({"y": (x >= 10).astype(int), "x": x}).to_csv(tmp_path / "separated.csv", index=False)

    def broken_plot(fits):
        raise RuntimeError("no <room>")

    monkeypatch.setattr(import_module("bayeslogit.plots"), "plot_coef", broken_plot)
    status, stdout, stderr = run_command(
        [
            "compare",
            str(tmp_path / "separated.csv"),
            "--formula",
            "y ~ x",
            "--methods",
            "ml,map",
            "--test-size",
            "0",
            "--out",
            str(tmp_path),
        ]
    )
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert status == 0
    assert "ml: not fitted (SeparationError: maximum likelihood does not exist" in stdout
    assert re.search(r"bayeslogit: ml: failed after [\d.]+ s: SeparationError: maximum likelihood", stderr)
    assert "<li>ml: SeparationError: maximum likelihood does not exist: " in page
    assert '<p class="note">Coefficients: not drawn (RuntimeError: no &lt;room&gt;)</p>' in page
    assert len(BASE64_IMAGE.findall(page)) == 2


def test_an_existing_report_is_replaced_atomically(tmp_path, monkeypatch):
    (tmp_path / "report.html").write_text("old")
    assert report.write_report(tmp_path, "new") == tmp_path / "report.html"
    assert (tmp_path / "report.html").read_text() == "new" and os.listdir(tmp_path) == ["report.html"]

    def interrupted(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(report.os, "replace", interrupted)
    with pytest.raises(OSError, match="disk full"):
        report.write_report(tmp_path, "newer")
    assert (tmp_path / "report.html").read_text() == "new" and os.listdir(tmp_path) == ["report.html"]


def test_a_failed_report_removes_the_folders_it_made_and_no_others(tmp_path, monkeypatch):
    (tmp_path / "kept").mkdir()

    def interrupted(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(report.os, "replace", interrupted)
    with pytest.raises(OSError, match="disk full"):
        report.write_report(tmp_path / "kept" / "new" / "deeper", "page")
    assert os.listdir(tmp_path) == ["kept"] and os.listdir(tmp_path / "kept") == []


@pytest.mark.parametrize(
    "contents, start, words",
    [
        (b"", "cannot read '{path}' as a CSV file", "No columns to parse"),
        (b"a,b\n1,2\n3,4,5,6\n", "cannot read '{path}' as a CSV file", "Expected 2 fields in line 3, saw 4"),
        (b"y,x\n\xff\xfe,1\n", "'{path}' is not utf-8 text (byte 0xff)", "--encoding latin-1"),
        (b"y,x\n0\x00,1\n", "'{path}' is not utf-8 text (NUL at position 5)", "--encoding utf-16"),
    ],
    ids=["empty", "ragged", "not-utf8", "binary"],
)
def test_an_unreadable_csv_is_one_line_naming_the_file(tmp_path, contents, start, words):
    (tmp_path / "bad.csv").write_bytes(contents)
    status, _, stderr = run_command(["compare", str(tmp_path / "bad.csv"), "--formula", "y ~ x"])
    assert status == 1
    start = f"bayeslogit: error: {start.format(path=tmp_path / 'bad.csv')}"
    assert stderr.count("\n") == 1 and stderr.startswith(start)
    assert words in stderr


@pytest.mark.parametrize(
    "argv, words",
    [
        (["compare", "{tmp}/missing.csv", "--formula", "y ~ x"], "cannot read '{tmp}/missing.csv': No such file"),
        (["compare", "{tmp}", "--formula", "y ~ x"], "cannot read '{tmp}': Is a directory; DATA must be a CSV file"),
        (["compare", "wells", "--formula", "switched ~ dist100 + nosuch"], "nosuch"),
        (["compare", "wells", "--formula", "nosuch ~ dist100"], "the response 'nosuch' of the formula"),
        (["compare", "wells", "--formula", "arsenic ~ dist100"], "the outcome 'arsenic' must be binary or categorical"),
        (
            ["compare", "wells", "--formula", "educ ~ dist100"],
            "'educ' must be binary or categorical; it has 18 distinct",
        ),
        (["compare", "wells", "--formula", "y ~ x", "--out", "{tmp}/a.csv"], "'{tmp}/a.csv' is not a directory"),
        (["compare", "wells", "--formula", "y ~ x", "--out", "{tmp}/a.csv/new"], "'{tmp}/a.csv' is not a directory"),
    ],
    ids=[
        "missing-file",
        "directory",
        "unknown-column",
        "unknown-outcome",
        "continuous-outcome",
        "many-classes",
        "out-is-a-file",
        "out-below-a-file",
    ],
)
def test_unusable_input_is_one_line_and_status_1(tmp_path, argv, words):
    (tmp_path / "a.csv").write_text("y,x\n0,1\n1,2\n")
    status, stdout, stderr = run_command([arg.format(tmp=tmp_path) for arg in argv])
    words = words.format(tmp=tmp_path)
    assert status == 1 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("bayeslogit: error: ") and words in stderr


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--test-size", "1.5", "must be a fraction in [0, 1)"),
        ("--draws", "0", "must be an integer >= 1; got '0'"),
        ("--chains", "two", "must be an integer >= 1; got 'two'"),
        ("--methods", "ml,bayes", "must be distinct names from ml, map, laplace, mcmc"),
        ("--prior-scale", "-1", "must be a positive number; got '-1'"),
    ],
)
def test_a_bad_option_value_is_one_line_naming_the_option_and_status_2(option, value, words):
    status, _, stderr = run_command(["compare", "wells", "--formula", "switched ~ dist100", option, value])
    assert status == 2
    assert stderr.count("\n") == 1 and stderr.startswith(f"bayeslogit: error: argument {option}: {words}")


def test_help_explains_every_option_with_examples():
    status, stdout, _ = run_command(["compare", "--help"])
    options = [
        "--formula",
        "--sep",
        "--encoding",
        "--missing",
        "--prior",
        "--prior-scale",
        "--prior-nu",
        "--no-autoscale",
        "--reference",
        "--max-iter",
        "--target-accept",
        "--features",
        "--intercept-scale",
        "--methods",
        "--draws",
        "--chains",
        "--tune",
        "--seed",
        "--test-size",
        "--out",
    ]
    assert status == 0
    assert all(option in stdout for option in options) and "--drop-missing" not in stdout  # a former name
    assert 'bayeslogit compare wells --formula "switched ~ dist100 + arsenic" --out wells-report' in stdout
    assert "Exit status: 0 done, 1 input that cannot be used, 2 a malformed command line, 70 a bug" in stdout
    status, stdout, _ = run_command(["--help"])
    assert status == 0 and "compare" in stdout and "examples:" in stdout


def test_the_package_runs_with_python_dash_m():
    done = subprocess.run(
        [sys.executable, "-m", "bayeslogit", "compare", "wells", "--formula", "y ~ x", "--draws", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        done.stderr == "bayeslogit: error: argument --draws: must be an integer >= 1; got '0' "
        "(see 'bayeslogit compare --help')\n"
    )


def test_the_report_renders_in_a_headless_browser(hostile_run, tmp_path, headless_chromium):
    from PIL import Image

    screenshot = tmp_path / "report.png"
    headless_chromium((hostile_run[3] / "report.html"), f"--screenshot={screenshot}", "--window-size=1200,3000")
    grey = np.asarray(Image.open(screenshot).convert("L"))
    assert grey.shape == (3000, 1200)
    # text, tables and three plots darken far more than 5% of the page; a blank page darkens none of it
    assert (grey < 200).mean() > 0.05
