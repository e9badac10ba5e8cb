"""The ``bayeslogit`` command tells a user's mistake from a bug in the package.

A mistake in the input (a formula, a file, an option) is one line ``bayeslogit: error: ...`` on stderr that names the
problem and the fix, exit status 1 (2 for a malformed command line), no traceback and no report. Any other exception
is shown with its traceback and a line saying that it is a bug, exit status 70.
"""

import re
import subprocess
import sys
from importlib.metadata import version

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from test_cli import run_command

from bayeslogit.surface import cli

CHEAP = ["--methods", "ml,map"]
BUG_LINE = (
    "bayeslogit: this is a bug in bayeslogit, not in your input; please report it with the command line and "
    "the traceback above"
)


def two_classes(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """``n`` rows: ``y`` alternating 0 and 1, ``x`` standard normal noise."""
    return pd.DataFrame({"y": np.arange(n) % 2, "x": np.random.default_rng(seed).normal(size=n)})


def refused(argv: list[str], out, status: int = 1) -> str:
    """Run ``argv`` with ``--out out``, check that it failed as a user's mistake, and return its error line."""
    code, stdout, stderr = run_command([*argv, "--out", str(out)])
    lines = stderr.splitlines()
    assert (code, stdout) == (status, "")
    assert "Traceback" not in stderr and all(line.startswith("bayeslogit: ") for line in lines)
    assert [line for line in lines if line.startswith("bayeslogit: error: ")] == lines[-1:]
    assert not out.exists()  # neither a report nor its directory
    return lines[-1]


# ---- the ten mistakes ------------------------------------------------------------------------------------------
def test_column_names_with_spaces_get_the_formula_with_backticks(tmp_path):
    frame = two_classes()
    frame = pd.DataFrame({"mean radius": frame["x"], "mean texture": frame["x"] ** 2, "diagnosis": frame["y"]})
    frame.to_csv(tmp_path / "cancer.csv", index=False)
    line = refused(
        ["compare", str(tmp_path / "cancer.csv"), "--formula", "diagnosis ~ mean radius + mean texture"],
        tmp_path / "out",
    )
    assert "'diagnosis ~ mean radius + mean texture'" in line and "backticks" in line
    assert "diagnosis ~ `mean radius` + `mean texture`" in line  # the corrected formula, to copy


@pytest.mark.parametrize(
    "formula, words",
    [
        ("y ~ x +", ["'y ~ x +'", "`+`"]),  # the formula and its misplaced operator
        ("y ~ .", ["'y ~ .'", "'.'", "'y ~ x'"]),  # the formula, its dot, and the columns it stands for
        ("y ~ x + z", ["'z' is not a column", "'x'"]),
    ],
    ids=["dangling-plus", "dot", "unknown-column"],
)
def test_a_formula_that_does_not_parse_or_fit_is_one_line(tmp_path, formula, words):
    two_classes().to_csv(tmp_path / "data.csv", index=False)
    line = refused(["compare", str(tmp_path / "data.csv"), "--formula", formula], tmp_path / "out")
    assert all(word in line for word in words), line


def test_a_semicolon_file_is_read_as_the_comma_file(tmp_path):
    frame = two_classes()
    frame.to_csv(tmp_path / "comma.csv", index=False)
    frame.to_csv(tmp_path / "semicolon.csv", index=False, sep=";")
    frame.to_csv(tmp_path / "tab.tsv", index=False, sep="\t")
    runs = [
        run_command(["compare", str(tmp_path / name), "--formula", "y ~ x", *CHEAP, "--test-size", "0"])
        for name in ("comma.csv", "semicolon.csv", "tab.tsv")
    ]
    assert [status for status, _, _ in runs] == [0, 0, 0]
    # the same rows give the same fits: the tables differ in the fit times only
    assert len({stdout.split("cost")[0] for _, stdout, _ in runs}) == 1 and "in-sample (40 rows)" in runs[0][1]


def test_a_semicolon_file_read_with_commas_names_the_separator_to_pass(tmp_path):
    path = tmp_path / "semicolon.csv"
    two_classes().assign(z=1.0).to_csv(path, index=False, sep=";")
    line = refused(["compare", str(path), "--formula", "y ~ x", "--sep", ","], tmp_path / "out")
    assert line == (
        f"bayeslogit: error: '{path}' read with --sep ',' has one column, 'y;x;z', whose name holds 2 of "
        "';': if that separates its columns, pass --sep ';'"
    )


def test_missing_values_are_counted_by_column_and_can_be_left_out(tmp_path):
    frame = two_classes()
    frame.loc[[3, 8], "x"] = np.nan
    frame["unused"] = np.nan  # not read by the formula: not counted
    frame.to_csv(tmp_path / "data.csv", index=False)
    argv = ["compare", str(tmp_path / "data.csv"), "--formula", "y ~ x", *CHEAP, "--test-size", "0"]
    line = refused(argv, tmp_path / "out")
    assert line == (
        "bayeslogit: error: 2 of 40 rows of data.csv have missing values in the columns the formula reads ('x': 2; "
        "the first in data row 4); fill them in, or pass --missing drop to leave those rows out"
    )
    status, stdout, stderr = run_command([*argv, "--missing", "drop"])
    assert status == 0 and "in-sample (38 rows)" in stdout
    assert "bayeslogit: warning (data): 2 of 40 rows of data.csv have missing values" in stderr


def test_a_level_seen_only_in_held_out_rows_names_the_column_and_the_fix(tmp_path):
    frame = two_classes().assign(g=lambda rows: np.where(rows["x"] > 0, "a", "b"))
    _, test = cli.split_rows(frame, "y", 0.25, seed=0)  # the command's own split of these rows
    frame.loc[test.index[0], "g"] = "rare"
    frame.to_csv(tmp_path / "data.csv", index=False)
    line = refused(["compare", str(tmp_path / "data.csv"), "--formula", "y ~ x + g", *CHEAP], tmp_path / "out")
    assert line.startswith("bayeslogit: error: the model of the training rows cannot score the held-out rows: ")
    assert "column 'g' of the new rows holds level(s) ['rare']" in line
    assert line.endswith("or drop them; or hold out other rows (--seed) or none (--test-size 0)")


@pytest.mark.parametrize(
    "contents, error",
    [
        (
            b"",
            "cannot read '{path}' as a CSV file (No columns to parse from file); give a text file with a header row "
            "and as many values on each line as the header has columns",
        ),
        (b"y,x\n", "'{path}' has a header but no rows of data"),
    ],
    ids=["empty", "header-only"],
)
def test_a_file_without_rows_is_one_line_naming_it(tmp_path, contents, error):
    (tmp_path / "data.csv").write_bytes(contents)
    line = refused(["compare", str(tmp_path / "data.csv"), "--formula", "y ~ x"], tmp_path / "out")
    assert line == f"bayeslogit: error: {error.format(path=tmp_path / 'data.csv')}"


def test_an_image_is_binary_data_not_a_csv_file(tmp_path):
    Image.new("L", (8, 8)).save(tmp_path / "data.csv", format="PNG")  # its header holds NUL bytes
    line = refused(["compare", str(tmp_path / "data.csv"), "--formula", "y ~ x"], tmp_path / "out")
    assert line == (
        f"bayeslogit: error: '{tmp_path / 'data.csv'}' is not utf-8 text (NUL at position 8); if it is a "
        "CSV file, give its encoding, e.g. --encoding utf-16, else give a CSV file"
    )


def test_bytes_that_are_no_utf8_name_the_encoding_option(tmp_path):
    (tmp_path / "noise.csv").write_bytes(bytes(range(0x80, 0xC0)) * 4)  # continuation bytes: none starts UTF-8
    line = refused(["compare", str(tmp_path / "noise.csv"), "--formula", "y ~ x"], tmp_path / "out")
    assert line == (
        f"bayeslogit: error: '{tmp_path / 'noise.csv'}' is not utf-8 text (byte 0x80); if it is a CSV "
        "file, give its encoding, e.g. --encoding latin-1, else give a CSV file"
    )


def test_a_one_class_outcome_names_the_column_and_its_value(tmp_path):
    two_classes().assign(y=1).to_csv(tmp_path / "data.csv", index=False)
    line = refused(["compare", str(tmp_path / "data.csv"), "--formula", "y ~ x"], tmp_path / "out")
    assert line == (
        "bayeslogit: error: the outcome 'y' has the one value '1' in all its 40 rows; logistic "
        "classification needs two classes or more"
    )


@pytest.mark.parametrize(
    "outcome, words",
    [
        ([0.0, 0.5, 1.0, 1.0] * 10, "it holds values that are not whole numbers, such as 0.5."),
        (np.arange(40) % 12, "it has 12 distinct values, such as 0, more than the 10 classes taken."),
    ],
    ids=["fractions", "many values"],
)
def test_an_outcome_that_is_no_class_label_says_why(tmp_path, outcome, words):
    two_classes().assign(y=outcome).to_csv(tmp_path / "data.csv", index=False)
    line = refused(["compare", str(tmp_path / "data.csv"), "--formula", "y ~ x"], tmp_path / "out")
    assert line.startswith("bayeslogit: error: the outcome 'y' must be binary or categorical; ") and words in line


def test_zero_draws_is_a_usage_error(tmp_path):
    line = refused(["compare", "wells", "--formula", "switched ~ dist100", "--draws", "0"], tmp_path / "out", status=2)
    assert line == (
        "bayeslogit: error: argument --draws: must be an integer >= 1; got '0' (see 'bayeslogit compare --help')"
    )


# ---- reading options -------------------------------------------------------------------------------------------
def test_an_encoding_and_decimal_commas_are_read_as_given(tmp_path):
    frame = two_classes().round(3).rename(columns={"x": "größe"})
    frame.to_csv(tmp_path / "plain.csv", index=False)
    (tmp_path / "data.csv").write_bytes(frame.to_csv(index=False, sep=";", decimal=",").encode("latin-1"))
    argv = ["--formula", "y ~ größe", *CHEAP, "--test-size", "0"]
    assert "--encoding latin-1" in refused(["compare", str(tmp_path / "data.csv"), *argv], tmp_path / "out")
    status, stdout, stderr = run_command(["compare", str(tmp_path / "data.csv"), *argv, "--encoding", "latin-1"])
    assert (
        status == 0
        and f"bayeslogit: read the column 'größe' of '{tmp_path / 'data.csv'}' as numbers with a decimal comma"
        in stderr.splitlines()
    )
    _, expected, _ = run_command(["compare", str(tmp_path / "plain.csv"), *argv])
    assert stdout.split("cost")[0] == expected.split("cost")[0]  # the same fits of the same numbers


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--encoding", "klingon", "must be a text encoding such as utf-8, latin-1 or cp1252; got 'klingon'"),
        ("--encoding", "hex", "must be a text encoding such as utf-8, latin-1 or cp1252; got 'hex'"),  # a bytes codec
        ("--sep", ";;", "must be one character, e.g. ';' or '\\t' (a tab); got ';;'"),
        ("--methods", "ml,newton", "must be distinct names from ml, map, laplace, mcmc, comma-separated"),
        ("--test-size", "1.5", "must be a fraction in [0, 1)"),
    ],
)
def test_a_bad_reading_option_is_a_usage_error(tmp_path, option, value, words):
    line = refused(["compare", "wells", "--formula", "switched ~ dist100", option, value], tmp_path / "out", status=2)
    assert line.startswith(f"bayeslogit: error: argument {option}: {words}")


def test_a_reference_that_is_no_class_lists_the_classes(tmp_path):
    two_classes().to_csv(tmp_path / "data.csv", index=False)
    line = refused(["compare", str(tmp_path / "data.csv"), "--formula", "y ~ x", "--reference", "7"], tmp_path / "out")
    assert "'7'" in line and "[0, 1]" in line


def test_fits_that_all_fail_leave_nothing_to_compare(tmp_path):
    x = np.arange(20.0)
    pd.DataFrame({"y": (x >= 10).astype(int), "x": x}).to_csv(tmp_path / "separated.csv", index=False)
    line = refused(
        ["compare", str(tmp_path / "separated.csv"), "--formula", "y ~ x", "--methods", "ml", "--test-size", "0"],
        tmp_path / "out",
    )
    assert line == (
        "bayeslogit: error: every fit failed, for the reasons above, and left nothing to compare; choose "
        "other methods (--methods: a prior keeps MAP, Laplace and MCMC finite where ML diverges) or "
        "predictors"
    )


# ---- bugs ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("error", [ZeroDivisionError("division by zero"), KeyError("coef"), ValueError("bad shape")])
def test_an_unexpected_exception_is_shown_as_a_bug(tmp_path, monkeypatch, error):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(cli, "compare", broken)  # inside the run, after the fits
    status, _, stderr = run_command(
        ["compare", "wells", "--formula", "switched ~ dist100", *CHEAP, "--out", str(tmp_path / "out")]
    )
    lines = stderr.splitlines()
    assert status == cli.BUG_STATUS == 70
    assert "Traceback (most recent call last):" in lines and f"{type(error).__name__}: {error}" in lines
    assert lines[-1] == BUG_LINE and not any(line.startswith("bayeslogit: error") for line in lines)
    assert not (tmp_path / "out").exists()


def test_a_warning_outside_the_fits_is_one_prefixed_line(tmp_path, monkeypatch):
    checked = cli.check_outcome

    def warning_check(frame, response):
        import warnings

        warnings.warn("odd\noutcome", RuntimeWarning, stacklevel=2)
        return checked(frame, response)

    monkeypatch.setattr(cli, "check_outcome", warning_check)
    status, _, stderr = run_command(["compare", "challenger", "--formula", "damaged ~ temp", "--methods", "ml"])
    assert status == 0 and "bayeslogit: warning: RuntimeWarning: odd outcome" in stderr.splitlines()


# ---- as a program ----------------------------------------------------------------------------------------------
def test_python_dash_m_bayeslogit_runs_the_command(tmp_path):
    pd.DataFrame({"mean radius": [1.0, 2.0], "diagnosis": [0, 1]}).to_csv(tmp_path / "data.csv", index=False)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bayeslogit",
            "compare",
            str(tmp_path / "data.csv"),
            "--formula",
            "diagnosis ~ mean radius",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout, done.stderr.count("\n")) == (1, "", 1)
    assert "'diagnosis ~ `mean radius`'" in done.stderr and not (tmp_path / "out").exists()
    done = subprocess.run([sys.executable, "-m", "bayeslogit", "--version"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, f"bayeslogit {version('bayeslogit')}\n")


def test_a_reader_that_stops_early_is_no_error_and_no_traceback():
    command = subprocess.Popen(
        [sys.executable, "-m", "bayeslogit", "compare", "challenger", "--formula", "damaged ~ temp", "--methods", "ml"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    command.stdout.close()  # as `| head` does: the table is written to a pipe that no one reads
    stderr = command.communicate(timeout=120)[1].decode()
    assert command.returncode == 1 and "Traceback" not in stderr and "bug" not in stderr
    assert all(line.startswith("bayeslogit: ") for line in stderr.splitlines())


def test_importing_the_package_does_not_load_the_command():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bayeslogit; print(sorted(m for m in sys.modules if "
            "m.startswith('bayeslogit.') and m.rsplit('.', 1)[1] in ('cli', '__main__')))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout == "[]\n"


# ---- any CSV file ----------------------------------------------------------------------------------------------
NAMES = ["x", "größe", "mean radius", "", "a.b", "x", "2nd"]
"""Predictor names: plain, non-ASCII, with a space, empty, with a dot, repeated, starting with a digit."""
NUMBERS = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from([0.0, 1e300, -1e300, 1e-300])
CELLS = {
    "normal": st.floats(-3, 3, allow_nan=False),
    "any float": NUMBERS,
    "huge": st.floats(1e290, 1e300),
    "tiny": st.floats(1e-300, 1e-290),
    "text": st.sampled_from(["a", "b", "c d", "", "é"]),
    "mixed": st.one_of(st.integers(-5, 5), st.sampled_from(["?", "n/a", "", "1,5"])),
    "boolean": st.booleans(),
}
OUTCOMES = {
    "0/1": st.sampled_from([0, 1]),
    "text": st.sampled_from(["yes", "no"]),
    "boolean": st.booleans(),
    "gappy": st.sampled_from([0, 1, None]),
    "one class": st.just(1),
}
ESTIMATE = re.compile(r"[-+]?(nan|inf)", re.IGNORECASE)


def non_finite_values(table: str) -> list[str]:
    """The cells of the comparison's two value columns (ml, map: each line's last two words) that are NaN or
    infinite; the labels before them may hold any text, "inf" included (a level ``x[T.inf]``)."""
    return [word for line in table.splitlines() for word in line.split()[-2:] if ESTIMATE.fullmatch(word)]


@st.composite
def csv_frames(draw) -> tuple[pd.DataFrame, list[str]]:
    """A frame of 0 to 12 rows (an outcome ``y`` and one to three predictors of the kinds of :data:`CELLS`, one
    of them maybe constant or a copy of another) and the predictor names a formula would name."""
    n_rows = draw(st.sampled_from([0, 1, 2, 12]))
    columns = {"y": draw(st.lists(draw(st.sampled_from(list(OUTCOMES.values()))), min_size=n_rows, max_size=n_rows))}
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3))
    cells = [
        draw(st.lists(draw(st.sampled_from(list(CELLS.values()))), min_size=n_rows, max_size=n_rows)) for _ in names
    ]
    if len(cells) > 1 and draw(st.booleans()):
        cells[-1] = draw(st.sampled_from([cells[0], [cells[0][0]] * n_rows if n_rows else []]))  # copy, constant
    frame = pd.DataFrame([columns["y"], *cells]).T
    frame.columns = ["y", *names]
    return frame, names


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    example=csv_frames(),
    sep=st.sampled_from([",", ";", "\t"]),
    test_size=st.sampled_from(["0", "0.25"]),
    drop=st.booleans(),
)
def test_any_csv_file_gives_finite_estimates_or_one_line(tmp_path, example, sep, test_size, drop):
    frame, names = example
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False, sep=sep, decimal="." if sep == "," else ",")
    formula = "y ~ " + " + ".join(f"`{name}`" for name in dict.fromkeys(names))
    status, stdout, stderr = run_command(
        [
            "compare",
            str(path),
            "--formula",
            formula,
            "--methods",
            "ml,map",
            "--test-size",
            test_size,
            *(["--missing", "drop"] * drop),
        ]
    )
    lines = stderr.splitlines()
    assert "Traceback" not in stderr and all(line.startswith("bayeslogit: ") for line in lines), stderr
    if status == 0:
        assert ("in-sample (" in stdout or "held-out (" in stdout) and not non_finite_values(stdout), stdout
        return
    assert status == 1 and stdout == "" and lines[-1].startswith("bayeslogit: error: ")
    assert [line for line in lines if "error" in line.split(":")[1]] == lines[-1:]
    if len(frame) == 0:
        assert lines[-1] == f"bayeslogit: error: '{path}' has a header but no rows of data"
    else:  # what is at fault is named: a column or the formula, in quotes (in the error, or the failed fits above
        # it), or the option that holds out too few of these rows
        assert any(f"'{name}'" in stderr for name in ["y", *names, formula]) or "--test-size" in lines[-1], stderr
