"""The options of ``bayeslogit compare`` that its messages advise and the defaults that do not depend on units:
``--missing``, ``--max-iter``, ``--target-accept``, ``--features``, the autoscaled prior, counts of the rows of the
file given, progress lines, and what a run imports."""

import inspect
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from test_cli import run_command

import bayeslogit as bl
from bayeslogit.surface import cli, report
from bayeslogit.surface.cli_options import NEWTON_MAX_ITER, build_parser

CHEAP = ["--methods", "ml,map"]
MISSING_ROWS = [1, 5, 9, 20, 30]
"""Rows of :func:`gappy_csv` without ``x1``: three of the 11 of class 1, two of the 21 of class 0."""


def gappy_csv(path) -> str:
    """32 rows, as many as Spector and Mazzeo's data: 11 of class 1 first, then 21 of class 0; ``x1`` is missing
    in :data:`MISSING_ROWS` (the first in data row 2), ``x2`` and ``x3`` are complete."""
    rng = np.random.default_rng(3)
    y = np.repeat([1, 0], [11, 21])
    frame = pd.DataFrame({"x1": rng.normal(y, 1.0), "x2": rng.normal(-y, 2.0), "x3": rng.normal(size=32), "y": y})
    frame.loc[MISSING_ROWS, "x1"] = np.nan
    frame.to_csv(path, index=False)
    return str(path)


def untimed(text: str) -> str:
    """``text`` with its times (``0.01 s``) as ``T s``."""
    return re.sub(r"\b\d+\.\d+ s\b", "T s", text)


def recorded(monkeypatch) -> dict:
    """The fits that the command compares, recorded into the dict returned, as it runs."""
    fits = {}

    def recording_compare(made, *args, **kwargs):
        fits.update(made)
        return bl.compare(made, *args, **kwargs)

    monkeypatch.setattr(cli, "compare", recording_compare)
    return fits


def test_missing_values_are_counted_among_the_rows_of_the_file(tmp_path):
    """Every count names the file's rows: 5 of its 32 are missing; the 27 left are split by class (8 and 19 rows:
    round(8/4) + round(19/4) = 7 held out, 20 for training)."""
    argv = ["compare", gappy_csv(tmp_path / "data.csv"), "--formula", "y ~ x1 + x2", *CHEAP]
    status, stdout, stderr = run_command(argv)
    assert (status, stdout) == (1, "")
    assert stderr == (
        "bayeslogit: error: 5 of 32 rows of data.csv have missing values in the columns the formula reads ('x1': 5; "
        "the first in data row 2); fill them in, or pass --missing drop to leave those rows out\n"
    )
    status, stdout, stderr = run_command([*argv, "--missing", "drop"])
    lines = stderr.splitlines()
    assert status == 0 and "held-out (7 rows)" in stdout
    assert lines[0] == (
        "bayeslogit: warning (data): 5 of 32 rows of data.csv have missing values in the columns the formula reads "
        "('x1': 5; the first in data row 2); they are left out (--missing drop)"
    )
    assert lines[1].endswith("; 32 rows of data.csv: 5 left out (missing values), 20 for training, 7 held out")


def test_drop_missing_is_the_former_spelling_of_missing_drop(tmp_path, capsys):
    argv = ["compare", gappy_csv(tmp_path / "data.csv"), "--formula", "y ~ x1 + x2", *CHEAP, "--test-size", "0"]
    now, former = run_command([*argv, "--missing", "drop"]), run_command([*argv, "--drop-missing"])
    assert now[0] == former[0] == 0
    assert former[1].split("cost")[0] == now[1].split("cost")[0]  # the same fits; their times differ
    assert former[2].splitlines()[0] == (
        "bayeslogit: warning: --drop-missing is deprecated and will be removed in a future release; use --missing drop"
    )
    assert untimed(former[2]).splitlines()[1:] == untimed(now[2]).splitlines()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["compare", "--help"])
    assert "--drop-missing" not in capsys.readouterr().out  # hidden from --help


def test_the_prior_is_autoscaled_unless_no_autoscale_is_given(monkeypatch):
    """The MAP is the model's under the autoscaled Normal(2.5) (the same Newton fit: 1e-12), said on stderr with the
    scales it gives each slope, 2.5 over the predictor's sd; --no-autoscale gives the unscaled prior's."""
    wells = bl.datasets.load_wells()
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    argv = ["compare", "wells", "--formula", "switched ~ dist100 + arsenic", "--methods", "map", "--test-size", "0"]
    for extra, prior in (([], bl.Normal(2.5, autoscale=True)), (["--no-autoscale"], bl.Normal(2.5))):
        fits = recorded(monkeypatch)
        status, _, stderr = run_command([*argv, *extra])
        assert status == 0 and fits["map"].prior == prior
        np.testing.assert_allclose(fits["map"].params, model.fit_map(prior).params, rtol=0, atol=1e-12)
    sd = wells[["dist100", "arsenic"]].std()  # the sd with divisor n - 1, as autoscale takes it
    said = {
        tuple(extra): [line for line in run_command([*argv, *extra])[2].splitlines() if " prior: " in line]
        for extra in ([], ["--no-autoscale", "--prior", "student-t", "--intercept-scale", "5"])
    }
    assert said[()] == [
        "bayeslogit: prior: normal on the slopes, scale 2.5 divided by each predictor's sd (autoscaled): "
        f"dist100 {2.5 / sd['dist100']:.3g}, arsenic {2.5 / sd['arsenic']:.3g}; on the intercept flat"
    ]
    assert list(said.values())[1] == [
        "bayeslogit: prior: student-t with 7 degrees of freedom on the slopes, scale 2.5 (not autoscaled); on the "
        "intercept scale 5"
    ]


def test_the_default_prior_does_not_shrink_a_predictor_in_small_units_away(tmp_path):
    """Breast cancer (569 rows): 'worst concave points' is a fraction (sd 0.066) whose ML slope is about 62. An
    unscaled Normal(2.5) pulls it to a few units and costs the MAP a held-out log loss of about 0.28 against ML's
    0.15; the autoscaled default keeps every fit within 0.01 of ML's (0.151 and 0.150 against 0.154)."""
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_breast_cancer(as_frame=True)
    diagnosis = data.target_names[data.target]  # "malignant" or "benign"
    data.frame.drop(columns="target").assign(diagnosis=diagnosis).to_csv(tmp_path / "cancer.csv", index=False)
    formula = "diagnosis ~ `mean radius` + `mean texture` + `worst concave points`"
    argv = ["compare", str(tmp_path / "cancer.csv"), "--formula", formula, "--methods", "ml,map,laplace"]
    losses = {}
    for extra in ([], ["--no-autoscale"]):
        status, stdout, _ = run_command([*argv, *extra])
        row = next(line.split()[1:] for line in stdout.splitlines() if line.startswith("  log_loss"))
        losses[tuple(extra)] = dict(zip(stdout.splitlines()[0].split(), map(float, row), strict=True))
        assert status == 0
    default, unscaled = losses[()], losses[("--no-autoscale",)]
    assert all(abs(default[method] - default["ml"]) < 0.01 for method in ("map", "laplace"))
    assert unscaled["map"] - unscaled["ml"] > 0.1


def test_max_iter_caps_newton_and_the_warning_names_it(monkeypatch):
    """One Newton step from zero does not reach wells' ML or MAP (five do): each stops after one iteration and says
    to raise --max-iter; so does the MAP that Laplace starts from."""
    argv = ["compare", "wells", "--formula", "switched ~ dist100 + arsenic", "--test-size", "0", "--max-iter", "1"]
    fits = recorded(monkeypatch)
    status, _, stderr = run_command([*argv, *CHEAP])
    assert status == 0 and fits["ml"].n_iter == fits["map"].n_iter == 1
    for method in ("ml", "map"):
        assert any(
            line.startswith(f"bayeslogit: warning ({method}): Newton's method ({method.upper()})")
            and "Increase --max-iter, " in line
            for line in stderr.splitlines()
        )
    status, _, stderr = run_command([*argv, "--methods", "laplace", "--draws", "100", "--chains", "1"])
    assert status == 0 and fits["laplace"].map_fit.n_iter == 1
    assert "bayeslogit: warning (laplace): Newton's method (MAP)" in stderr and "Increase --max-iter" in stderr
    assert build_parser().parse_args(["compare", "d", "--formula", "y ~ x"]).max_iter == NEWTON_MAX_ITER == 100
    for fit in (bl.LogisticModel.fit_ml, bl.LogisticModel.fit_map):
        assert inspect.signature(fit).parameters["max_iter"].default == NEWTON_MAX_ITER


def test_target_accept_reaches_the_sampler(monkeypatch):
    """NUTS adapts its step size to the target: 0.99 gives a mean acceptance above 0.95 and smaller steps than the
    sampler's default target (0.8: a mean acceptance of about 0.85 on Challenger)."""
    argv = ["compare", "challenger", "--formula", "damaged ~ temp", "--methods", "mcmc", "--test-size", "0"]
    stats = {}
    for extra in ([], ["--target-accept", "0.99"]):
        fits = recorded(monkeypatch)
        assert run_command([*argv, "--draws", "200", "--chains", "2", *extra])[0] == 0
        stats[tuple(extra)] = fits["mcmc"].sample_stats
        assert (fits["mcmc"].n_chains, fits["mcmc"].n_draws) == (2, 200)  # --chains and --draws
    high, default = stats[("--target-accept", "0.99")], stats[()]
    assert float(high["mean_tree_accept"].mean()) > 0.95 > float(default["mean_tree_accept"].mean())
    assert float(high["step_size"].mean()) < 0.75 * float(default["step_size"].mean())


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--target-accept", "1", "must be a probability between 0 and 1, e.g. 0.95; got '1'"),
        ("--target-accept", "0", "must be a probability between 0 and 1, e.g. 0.95; got '0'"),
        ("--max-iter", "0", "must be an integer >= 1; got '0'"),
        ("--missing", "impute", "invalid choice: 'impute' (choose from 'raise', 'drop')"),
        ("--features", "x1", "expected 2 arguments"),
    ],
)
def test_a_malformed_option_is_one_line_and_status_2(option, value, words):
    status, stdout, stderr = run_command(["compare", "wells", "--formula", "switched ~ dist100", option, value])
    assert (status, stdout) == (2, "")
    assert stderr == f"bayeslogit: error: argument {option}: {words} (see 'bayeslogit compare --help')\n"


def test_features_choose_the_boundary_plot_and_the_report_counts_the_files_rows(tmp_path, monkeypatch):
    drawn = []
    render = report.render_report
    monkeypatch.setattr(report, "render_report", lambda inputs, **kw: drawn.append(inputs) or render(inputs, **kw))
    argv = ["compare", gappy_csv(tmp_path / "data.csv"), "--formula", "y ~ x1 + x2 + x3", *CHEAP]
    status, _, stderr = run_command([*argv, "--missing", "drop", "--features", "x3", "x1", "--out", str(tmp_path)])
    (inputs,) = drawn
    assert status == 0 and inputs.features == ("x3", "x1")
    assert (len(inputs.data), len(inputs.train), len(inputs.test)) == (32, 20, 7)  # the file's rows, then the split
    assert inputs.settings["missing values"] == "5 of 32 rows left out (--missing drop)"
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Decision boundary: not drawn" not in page and "choose the two predictors drawn" not in page
    for features, wrong in (
        (["x1", "nosuch"], "'nosuch' is not a column the formula reads"),
        (["x2", "x2"], "'x2' is named twice"),
    ):
        status, stdout, stderr = run_command([*argv, "--missing", "drop", "--features", *features])
        assert (status, stdout) == (1, "")
        assert stderr.splitlines()[-1] == (
            f"bayeslogit: error: --features {' '.join(features)}: {wrong}; give two of the formula's predictors: "
            "'x1', 'x2', 'x3'"
        )


def test_every_step_says_when_it_starts_and_ends(tmp_path):
    """A fit, the comparison and the report each say a line as they start and one as they end (with a line per
    figure between), in order."""
    two_classes = pd.DataFrame({"y": np.arange(40) % 2, "x": np.random.default_rng(0).normal(size=40)})
    two_classes.to_csv(tmp_path / "data.csv", index=False)
    status, _, stderr = run_command(
        ["compare", str(tmp_path / "data.csv"), "--formula", "y ~ x", "--methods", "map,laplace", "--draws", "50"]
        + ["--chains", "2", "--out", str(tmp_path / "out")]
    )
    steps = [line.split(": ", 1)[1] for line in stderr.splitlines() if "warning" not in line]
    shown = [step.split(" in ")[0].split(" ...")[0] for step in steps[2:]]
    assert status == 0 and shown == [
        "map: fitting",
        "map: done",
        "laplace: fitting",
        "laplace: done",
        "comparing the fits (held-out metrics, LOO)",
        "comparison: done",
        "drawing the report",
        "decision boundary plot drawn",
        "coefficients plot drawn",
        "calibration plot drawn",
        "report: done",
        f"report written to {tmp_path / 'out' / 'report.html'}",
    ]


HEAVY = ["pymc", "pytensor", "nutpie", "numba", "arviz", "arviz_base", "arviz_stats", "xarray", "matplotlib", "dask"]


@pytest.mark.parametrize(
    "argv, loaded",
    [
        (None, []),  # import bayeslogit only
        (["--methods", "ml,map"], []),
        (["--methods", "ml,map,laplace"], ["arviz_base", "arviz_stats", "xarray"]),  # Pareto smoothing
        (["--methods", "ml,map", "--out", "{out}"], ["arviz_base", "matplotlib", "xarray"]),  # the plots
    ],
    ids=["import", "ml,map", "laplace", "report"],
)
def test_a_run_imports_only_what_it_needs(tmp_path, argv, loaded):
    """No sampler without MCMC, no plotting library without a report, and nothing of either for ML and MAP."""
    script = ["import sys, bayeslogit"]
    if argv is not None:
        command = ["compare", "challenger", "--formula", "damaged ~ temp", *(arg.format(out=tmp_path) for arg in argv)]
        script += ["from bayeslogit.surface.cli import main", f"main({command!r})"]
    script.append(f"print(sorted(set({HEAVY!r}) & set(sys.modules)))")
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(script)], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.splitlines()[-1] == str(loaded)


def test_the_program_keeps_dask_out_of_its_process():
    """``python -m bayeslogit`` reads its rows into memory: with MCMC it loads the sampler, and the xarray that ArviZ
    builds its data sets with, but not dask, which xarray would otherwise import as it builds them, nor matplotlib,
    which nutpie's import of the ``arviz`` namespace would (that namespace stays in ``sys.modules``, not run)."""
    argv = ["bayeslogit", "compare", "challenger", "--formula", "damaged ~ temp", "--methods", "mcmc"]
    script = [
        "import runpy, sys",
        f"sys.argv = {[*argv, '--draws', '50', '--chains', '1', '--test-size', '0']!r}",
        "try:",
        "    runpy.run_module('bayeslogit', run_name='__main__')",
        "except SystemExit as done:",
        f"    print(done.code, [name for name in {sorted(HEAVY)!r} if sys.modules.get(name) is not None])",
    ]
    done = subprocess.run([sys.executable, "-c", "\n".join(script)], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[-1] == "0 ['arviz', 'arviz_base', 'arviz_stats', 'numba', 'nutpie', 'xarray']"
