"""``bayeslogit compare`` of a formula with group terms: the multilevel fits, their comparison and random-effects
blocks on stdout, progress and refusals in the command's words on stderr."""

import subprocess
import sys

import pytest

import bayeslogit as bl

FORMULA = "cbind(incidence, size - incidence) ~ C(period) + (1 | herd)"


def run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "bayeslogit", "compare", *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


@pytest.fixture(scope="module")
def cbpp_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "cbpp.csv"
    bl.datasets.load_cbpp().to_csv(path, index=False)
    return path


def test_a_grouped_formula_prints_the_multilevel_comparison(cbpp_csv):
    """In-sample ML and MAP: the printed estimates are the Python API's, Laplace's refusal is said on stderr in the
    command's words."""
    done = run(
        str(cbpp_csv), "--formula", FORMULA, "--methods", "ml,map,laplace", "--test-size", "0", cwd=cbpp_csv.parent
    )
    assert done.returncode == 0, done.stderr
    model = bl.MultilevelModel.from_formula(FORMULA, bl.datasets.load_cbpp().astype({"herd": str}))
    ml = model.fit_ml()
    lines = {}  # each quantity's first row: the estimates, before the section of their uncertainty
    for line in done.stdout.splitlines():
        if line.strip():
            lines.setdefault(line.split()[0], line.split()[1:])
    assert float(lines["herd:"][-2]) == pytest.approx(ml.group_sd.iloc[0], abs=5e-5)  # ml, map columns
    assert float(lines["C(period)[T.4]"][0]) == pytest.approx(ml.coef["C(period)[T.4]"], abs=5e-4)
    assert "in-sample (56 rows)" in done.stdout and "random effects (ml):" in done.stdout
    assert "laplace: not fitted" in done.stderr and "--methods mcmc" in done.stderr and "fit_mcmc" not in done.stderr


def test_a_multilevel_run_writes_its_report(cbpp_csv, tmp_path):
    """The page: settings, the comparison, each fit's summary with its random-effects block, the two group plots
    inline, no boundaries (cbpp's predictors are indicators of the period), Laplace's refusal in the command's
    words."""
    out = tmp_path / "report"
    done = run(
        str(cbpp_csv), "--formula", FORMULA, "--methods", "ml,map,laplace", "--test-size", "0", "--out", str(out),
        cwd=cbpp_csv.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 2 and "not drawn" not in page
    assert page.count("<b>Random effects, herd:</b> Intercept: variance") == 2  # the ML and MAP summaries
    assert page.count("<h3>ml</h3>") == 1 and page.count("<h3>map</h3>") == 1  # summaries; no boundary along dummies
    assert "no predictor of more than two values" in page
    assert "--methods mcmc" in page and "fit_mcmc" not in page
    assert "shrinkage plot drawn in" in done.stderr and f"report written to {out / 'report.html'}" in done.stderr


def test_a_grouped_formula_of_more_classes_prints_each_class_term(tmp_path):
    """A categorical response: the printed coefficients and sds by class are the Python API's."""
    import numpy as np
    from test_multilevel_categorical import simulated_frame

    frame = simulated_frame(np.random.default_rng(4), levels=20, per_level=30)
    frame.to_csv(tmp_path / "classes.csv", index=False)
    done = run("classes.csv", "--formula", "y ~ x + (1 | g)", "--methods", "ml", "--test-size", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ml = bl.MultilevelModel.from_formula("y ~ x + (1 | g)", frame).fit_ml()
    rows = {}  # each quantity's first row: the estimates, before the section of their uncertainty
    for line in done.stdout.splitlines():
        if line.strip():
            rows.setdefault(" ".join(line.split()[:-1]), line.split()[-1])
    assert float(rows["x[C]"]) == pytest.approx(ml.coef.loc["x", "C"], abs=5e-4)
    assert float(rows["g (class C): Intercept"]) == pytest.approx(ml.group_sd.iloc[1], abs=5e-4)


def test_the_group_prior_options_set_maps_group_prior(cbpp_csv):
    """``--group-sd-rate 20`` (mean sd 0.1 under Gamma(2, 20)): the printed MAP sd is the Python API's under
    ``Normal(2.5, autoscale=True, group=GroupPrior(sd_rate=20))``, the command's default autoscaled prior."""
    done = run(
        str(cbpp_csv), "--formula", FORMULA, "--methods", "map", "--test-size", "0", "--group-sd-rate", "20",
        cwd=cbpp_csv.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    model = bl.MultilevelModel.from_formula(FORMULA, bl.datasets.load_cbpp().astype({"herd": str}))
    fit = model.fit_map(bl.Normal(2.5, autoscale=True, group=bl.GroupPrior(sd_rate=20.0)))
    row = next(line.split() for line in done.stdout.splitlines() if line.strip().startswith("herd:"))
    assert float(row[-1]) == pytest.approx(fit.group_sd.iloc[0], abs=5e-5)
    assert fit.group_sd.iloc[0] < 0.5  # the default prior's MAP sd is 0.68


@pytest.mark.parametrize(
    ("options", "code", "message"),
    [
        (["--formula", "incidence ~ size", "--group-sd-rate", "2"], 1, "--group-sd-rate set the prior of group terms"),
        (["--formula", FORMULA, "--prior", "cauchy"], 1, "takes a normal prior on its fixed effects; --prior cauchy"),
        (["--formula", FORMULA, "--group-corr-eta", "0"], 2, "--group-corr-eta: must be a positive number"),
    ],
)
def test_group_prior_options_are_refused_where_they_mean_nothing(cbpp_csv, options, code, message):
    """A flat formula or a prior family the multilevel model has not: the run's error (exit 1); a value that is no
    scale: the parser's (exit 2)."""
    done = run(str(cbpp_csv), *options, "--methods", "map", cwd=cbpp_csv.parent)
    assert done.returncode == code and message in done.stderr and "Traceback" not in done.stderr
