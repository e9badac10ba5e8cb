"""Every example script runs end to end with tiny settings, so that none can rot."""

import runpy
import sys
from pathlib import Path

import pytest

import bayeslogit as bl

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_wells_example_prints_the_comparison_and_saves_the_figure(tmp_path, monkeypatch, capsys):
    figure = tmp_path / "wells.png"
    monkeypatch.setattr(sys, "argv", ["wells.py", "--draws", "100", "--tune", "100", "--chains", "2",
                                      "--plot", str(figure)])
    with pytest.warns(bl.ConvergenceWarning, match="^MCMC may not have converged: R-hat > 1.01 or ESS < 400") as caught:
        runpy.run_path(str(EXAMPLES / "wells.py"), run_name="__main__")  # 2 x 100 draws are too few, and it says so
    assert [w.filename for w in caught] == [str(EXAMPLES / "wells.py")]
    printed = capsys.readouterr().out
    for section in ("held-out (", "log_loss", "elpd_loo", "ess_bulk_min", "slope", "intercept"):
        assert section in printed
    assert any(line.split() == ["ml", "map", "laplace", "mcmc"] for line in printed.splitlines())
    assert figure.stat().st_size > 10_000


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_has_a_test(script):
    assert script in {"wells.py"}, f"examples/{script} has no test running it; add one here"
