"""Every example script runs end to end with tiny settings, so that none can rot.

MCMC runs 2 chains of 100 draws, too few for ESS > 400, so the scripts that sample warn that MCMC may not
have converged; each test expects that warning, attributed to the script.
"""

import math
import re
import runpy
import sys
import warnings
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
import statsmodels.api as sm
from PIL import Image

import bayeslogit as bl

EXAMPLES = Path(__file__).parents[1] / "examples"
TINY = ["--draws", "100", "--chains", "2", "--seed", "0"]
MCMC_TOO_SHORT = (bl.ConvergenceWarning, "^MCMC may not have converged: ")
LAPLACE_POOR = (
    bl.ConvergenceWarning,
    r"^Pareto k-hat = \d\.\d\d ± \d\.\d\d, .*: the Laplace approximation (is|may be) poor here",
)
ARVIZ_LOO_K = (UserWarning, r"^Estimated shape parameter of Pareto distribution is greater than 0\.\d\d for one")
LOO_UNRELIABLE = (UserWarning, r"^ELPD-LOO of the (laplace|mcmc) fit (is|may be) unreliable for \d+ of the \d+ rows")


def run_example(
    script: str, args: list, monkeypatch, capsys, warned: tuple = (), may_warn: tuple = (), from_arviz: tuple = ()
) -> str:
    """Run ``examples/<script>`` as ``python examples/<script> args`` and return what it printed.

    ``warned``: the (category, message pattern) of each warning it must raise, at least once; ``may_warn``:
    those it may raise or not as the draws fall (whether one row of thousands passes the Pareto-k threshold of
    200 draws); no others. All are attributed to the script, where its reader sees them, except those of
    ``from_arviz``, which ArviZ may raise from its own code, as the draws fall too.
    """
    monkeypatch.setattr(sys, "argv", [script, *args])
    monkeypatch.syspath_prepend(str(EXAMPLES))  # as `python examples/<script>` does, for examples/_common.py
    path = str(EXAMPLES / script)
    if not warned:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning at all, of any kind
            runpy.run_path(path, run_name="__main__")
        return capsys.readouterr().out
    with pytest.warns(UserWarning) as caught:  # ConvergenceWarning is a UserWarning
        runpy.run_path(path, run_name="__main__")

    def matches(warning, expected) -> bool:
        return issubclass(warning.category, expected[0]) and re.match(expected[1], str(warning.message))

    for expected in warned:
        assert any(matches(w, expected) for w in caught), (expected, [str(w.message) for w in caught])
    ours = [w for w in caught if not any(matches(w, expected) for expected in from_arviz)]
    assert all(any(matches(w, expected) for expected in (*warned, *may_warn)) for w in ours), [
        str(w.message) for w in ours
    ]
    assert {w.filename for w in ours} == {path}
    return capsys.readouterr().out


def assert_figures(folder: Path, names: list[str], printed: str):
    """The figures exist, are more than blank canvases (> 10 kB), and the script said where they are."""
    for name in names:
        assert (folder / name).stat().st_size > 10_000, name
    assert printed.rstrip().splitlines()[-1].startswith(f"figure{'s' * (len(names) > 1)} in {folder}: ")


def section(printed: str, heading: str) -> list[str]:
    """The lines after the line starting with ``heading``, up to the next blank line."""
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading)) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def test_wells_prints_the_comparison_and_writes_three_figures(tmp_path, monkeypatch, capsys):
    # ELPD-LOO of 200 MCMC draws: whether one of the 2,259 rows passes the Pareto-k threshold depends on the
    # draws (4 seeds in 10 measured), which another BLAS kernel changes: NUTS trajectories carry the last bits of
    # the density's gradient along
    printed = run_example(
        "wells.py",
        [*TINY, "--tune", "100", "--out", str(tmp_path)],
        monkeypatch,
        capsys,
        warned=(MCMC_TOO_SHORT,),
        may_warn=(LOO_UNRELIABLE,),
    )
    for heading in ("held-out (", "  log_loss", "  elpd_loo", "  ess_bulk_min", "slope", "intercept"):
        assert heading in printed
    assert "decision boundary: arsenic = intercept + slope * dist100" in printed
    assert any(line.split() == ["ml", "map", "laplace", "mcmc"] for line in printed.splitlines())
    coef = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in section(printed, "coef")[:3]}
    assert list(coef) == ["Intercept", "dist100", "arsenic"]
    for ml, map_, laplace, mcmc in coef.values():  # 2,259 rows outweigh a Normal(0, 2.5^2) prior
        assert map_ == pytest.approx(ml, abs=0.01) and laplace == map_  # Laplace's mean is the MAP
        assert mcmc == pytest.approx(ml, abs=0.05)  # posterior sds 0.05 to 0.12; Monte Carlo error about 0.01
    assert_figures(tmp_path, ["wells_boundary.png", "wells_coef.png", "wells_calibration.png"], printed)


def test_challenger_prints_the_threshold_and_the_probability_at_31_f(tmp_path, monkeypatch, capsys):
    printed = run_example(
        "challenger.py", [*TINY, "--out", str(tmp_path)], monkeypatch, capsys, warned=(MCMC_TOO_SHORT, LAPLACE_POOR)
    )  # the posterior is skewed (see the README)
    rows = [line.split() for line in section(printed, "Pr(damage at 31 F) by method")]
    probability = {row[0]: float(row[1]) for row in rows}
    assert list(probability) == ["ml", "map", "laplace", "mcmc"]
    assert all(0 < p < 1 for p in probability.values())
    # Dalal et al. (1989): logit = 15.0429 - 0.2322 temp, so ML gives sigmoid(7.845) = 0.9996 at 31 F.
    assert probability["ml"] == pytest.approx(1 / (1 + math.exp(-(15.0429 - 0.2322 * 31))), abs=2e-4)
    assert probability["mcmc"] < probability["ml"]  # averaging over the slope's uncertainty pulls it from 1
    ml_threshold = section(printed, "ml:")[2].split()
    assert ml_threshold[0] == "threshold" and float(ml_threshold[1]) == pytest.approx(15.0429 / 0.2322, abs=0.02)
    # its delta-method SE and 89% Wald interval (the figure's error bar), from statsmodels' estimate and covariance
    flights = bl.datasets.load_challenger()
    reference = sm.Logit(flights["damaged"], sm.add_constant(flights["temp"])).fit(disp=0, tol=1e-12)
    (b0, b1), cov = reference.params.to_numpy(), reference.cov_params().to_numpy()
    gradient = np.array([-1 / b1, b0 / b1**2])  # of the threshold -b0 / b1
    se = math.sqrt(gradient @ cov @ gradient)
    half = NormalDist().inv_cdf(0.945) * se
    expected = [-b0 / b1, se, -b0 / b1 - half, -b0 / b1 + half]
    assert [float(v) for v in ml_threshold[1:]] == pytest.approx(expected, abs=0.0051)  # printed to 2 decimals
    assert "log-odds of damage differ most at 30 F" in printed  # the furthest below the flights' 53 to 81 F
    assert_figures(tmp_path, ["challenger_curves.png"], printed)


def test_iris_softmax_names_the_reference_class_and_draws_the_regions(tmp_path, monkeypatch, capsys):
    printed = run_example(
        "iris_softmax.py",
        [*TINY, "--out", str(tmp_path)],
        monkeypatch,
        capsys,
        warned=(MCMC_TOO_SHORT, LAPLACE_POOR, LOO_UNRELIABLE),
    )
    assert "reference class 'setosa', whose coefficients are fixed at 0" in printed
    assert "ml: not fitted (SeparationError: maximum likelihood does not exist" in printed
    header = section(printed, "Class vectors theta_k")[1].split()
    assert header == ["class", *["setosa", "versicolor", "virginica"] * 3]  # map, laplace, mcmc
    rows = {line.split()[0]: line.split()[1:] for line in section(printed, "Class vectors theta_k")[3:]}
    assert list(rows) == ["Intercept", "petal_length", "petal_width"]
    assert all(float(value) == 0 for row in rows.values() for value in row[::3])  # the reference's column
    assert_figures(tmp_path, ["iris_regions.png"], printed)


def test_separation_names_the_column_and_sweeps_the_prior(tmp_path, monkeypatch, capsys):
    printed = run_example(
        "separation.py",
        [*TINY, "--out", str(tmp_path)],
        monkeypatch,
        capsys,
        warned=(MCMC_TOO_SHORT, LAPLACE_POOR, LOO_UNRELIABLE),
    )
    assert "ML refuses (complete separation by petal_length):" in printed
    assert "'petal_length' separates the classes completely" in printed
    rows = {
        float(line.split()[0]): [float(v) for v in line.split()[1:]]
        for line in section(printed, "The slope of petal_length as the prior sd grows")[3:]
    }
    assert list(rows) == [0.5, 1.0, 2.5, 10.0]
    map_slopes = [row[0] for row in rows.values()]
    assert map_slopes == sorted(map_slopes) and map_slopes[-1] > 2 * map_slopes[0]  # the prior sets the size
    assert_figures(tmp_path, ["separation_prior.png", "separation_curves.png"], printed)


def test_optimization_counts_the_steps_of_each_optimiser(tmp_path, monkeypatch, capsys):
    printed = run_example(
        "optimization.py", ["--max-iter", "200", "--frames", "6", "--out", str(tmp_path)], monkeypatch, capsys
    )
    rows = {
        line.split()[0]: line.split()[1:]
        for line in printed.splitlines()
        if line.split()[:1] in (["gradient_descent"], ["newton"])
    }
    steps, converged = {m: int(r[0]) for m, r in rows.items()}, {m: r[1] == "True" for m, r in rows.items()}
    assert converged == {"gradient_descent": False, "newton": True}
    assert steps["newton"] <= 10 and steps["gradient_descent"] == 200
    assert "gradient_descent: Steepest descent" in printed  # its ConvergenceWarning, shown as text
    assert printed.rstrip().splitlines()[-1] == f"animation in {tmp_path}: optimization.gif (6 frames)"
    with Image.open(tmp_path / "optimization.gif") as gif:
        assert (gif.n_frames, gif.size) == (6, (1280, 680))  # wide enough for a lecture hall's projector


def test_spline_boundary_compares_the_curve_with_the_line_and_draws_it(tmp_path, monkeypatch, capsys):
    # The Laplace check (4,000 draws of its own, whatever --draws) puts k-hat at 0.42-0.65 +- 0.08: ok, or
    # borderline where k-hat comes within its noise of 0.7, so not required. ArviZ's LOO of the 200 MCMC draws may
    # find rows above its Pareto-k threshold for 200 draws, 0.57 (0.7 from 2,000 draws on): 9 seeds in 10
    # measured, so not required either.
    printed = run_example(
        "spline_boundary.py",
        [*TINY, "--out", str(tmp_path)],
        monkeypatch,
        capsys,
        warned=(MCMC_TOO_SHORT,),
        may_warn=(LAPLACE_POOR,),
        from_arviz=(ARVIZ_LOO_K,),
    )
    found = re.search(
        r"spline (-\d+\.\d) \(SE \d+\.\d\), linear (-\d+\.\d) \(SE \d+\.\d\); spline - linear = "
        r"(-?\d+\.\d) \(SE of the difference (\d+\.\d)\)",
        printed,
    )
    spline, linear, difference, se = map(float, found.groups())
    assert difference == pytest.approx(spline - linear, abs=0.11)  # the printed figures are rounded to 0.1
    assert -2000 < linear < -1900 and 0 < se < 10  # 3,020 rows at about -0.65 each; a difference of a few units
    table = section(printed, "Pr(switch) along distance at the median arsenic level")
    rows = [[float(value) for value in line.split()] for line in table[2:]]
    assert [row[0] for row in rows] == pytest.approx([0.0, 0.57, 1.13, 1.70, 2.26, 2.83, 3.40], abs=0.006)
    for column in range(1, 5):  # every method: switching falls with distance over the first 2 km
        assert rows[0][column] > rows[2][column] > rows[4][column]
    assert_figures(tmp_path, ["spline_boundary.png"], printed)


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("[!_]*.py")))
def test_every_example_has_a_test(script):
    tested = {
        "wells.py",
        "challenger.py",
        "iris_softmax.py",
        "separation.py",
        "optimization.py",
        "spline_boundary.py",
        "weakly_informative.py",
        "multilevel.py",
    }
    assert script in tested, f"examples/{script} has no test running it; add one here"


def test_weakly_informative_checks_priors_before_the_data_and_under_separation(tmp_path, monkeypatch, capsys):
    printed = run_example("weakly_informative.py", [*TINY, "--out", str(tmp_path)], monkeypatch, capsys)
    before = {line[:31].strip(): line[31:].split() for line in section(printed, "Before the data")[2:]}
    assert [row[-1] for row in before.values()] == ["warns", "warns", "warns", "-", "warns", "warns"]
    assert float(before["Normal(0.5), intercept 1"][0]) < 0.05 < 0.5 < float(before["Cauchy(2.5), intercept 1"][0])
    assert "ML refuses: maximum likelihood does not exist: 'petal_length' separates the classes" in printed
    rows = {line.split()[0]: line.split()[1:] for line in section(printed, "Under separation")[2:]}
    assert list(rows) == ["Normal(2.5)", "StudentT(7,", "Cauchy(2.5)"]
    map_slopes = [float(row[1 + (name == "StudentT(7,")]) for name, row in rows.items()]
    assert map_slopes == sorted(map_slopes)  # heavier tails shrink the separating slope less
    assert_figures(tmp_path, ["prior_predictive.png", "separation_tails.png"], printed)


SINGULAR = (
    bl.ConvergenceWarning,
    r"^boundary \(singular\) fit: the ML estimate of the group-level covariance of 'group'",
)


def test_multilevel_prints_three_fits_side_by_side_and_a_singular_ml_sd(tmp_path, monkeypatch, capsys):
    printed = run_example(
        "multilevel.py",
        [*TINY, "--tune", "100", "--out", str(tmp_path)],
        monkeypatch,
        capsys,
        warned=(MCMC_TOO_SHORT, SINGULAR),
    )
    header = section(printed, "Fixed effects (log-odds")
    assert header[0].split() == ["ml", "map", "mcmc"] and header[1].split() == ["estimate", "se"] * 2 + [
        "estimate",
        "sd",
    ]
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in header[2:]}
    assert list(rows) == ["Intercept", "period[T.2]", "period[T.3]", "period[T.4]"]
    # glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), family = binomial, data = cbpp) as lme4 prints it
    glmer = {"Intercept": -1.3983, "period[T.2]": -0.9919, "period[T.3]": -1.1282, "period[T.4]": -1.5797}
    assert [row[0] for row in rows.values()] == pytest.approx(list(glmer.values()), abs=2e-3)
    (herd,) = section(printed, "Random effects:")[3:]
    ml_sd = float(herd.split()[3])
    assert herd.split()[:2] == ["herd", "Intercept"] and ml_sd == pytest.approx(0.6421, abs=1e-3)  # glmer's 0.642
    sds = {line.split()[0]: float(line.split()[1]) for line in section(printed, "The group sd by method:")}
    assert sds["ml"] == 0 and "singular: True" in printed
    assert 0.05 < sds["map"] < sds["mcmc"]  # the prior's mode off zero; the posterior's mean further out still
    assert_figures(
        tmp_path,
        ["multilevel_shrinkage.png", "multilevel_caterpillar.png", "multilevel_singular_shrinkage.png"],
        printed,
    )
