"""NUTS on multilevel logistic models in whole fresh processes: lme4's cbpp and a simulated correlated term.

Each run is a new Python process, timed from outside from its start to its exit (imports, data, building the PyMC
model, nutpie's Numba compilation, sampling, diagnostics); inside, ``sample_s`` times what a user times,
``bl.MultilevelModel.from_formula(formula, data).fit_mcmc(...)``, at its defaults otherwise. Cases:

* cbpp: ``cbind(incidence, size - incidence) ~ period + (1 | herd)`` (56 rows, 15 herds), a flat intercept,
  ``Normal(0, 2.5)`` slopes, the default ``GroupPrior()``;
* correlated: ``(1 + x | g)`` on 40 groups of 8 rows of 10 trials drawn from ``beta = (-0.4, 0.8)``,
  ``sd = (0.9, 0.6)``, correlation 0.5 (the data of ``tests/test_group_mcmc.py``).

The table gives, per case, the median wall and fit times, the largest R-hat of the fixed effects, sds and
correlations, the smallest bulk ESS of the group sds and the divergences. There is no peer: lme4's ``glmer``
fits by Laplace, not MCMC, and rstanarm is not installed here.

Run: ``python benchmarks/mcmc_multilevel.py --repeats 3``.
"""

import argparse

import numpy as np
from common import Headline, Table, machine, run_process, script_main

CODE = r"""
import json, sys, time
import numpy as np
import pandas as pd
import bayeslogit as bl

case, draws, chains, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if case == "cbpp":
    formula, data = "cbind(incidence, size - incidence) ~ period + (1 | herd)", bl.datasets.load_cbpp()
else:
    rng = np.random.default_rng(11)
    G, rows, trials = 40, 8, 10
    sd, corr = np.array([0.9, 0.6]), 0.5
    b = rng.multivariate_normal(np.zeros(2), np.diag(sd) @ np.array([[1, corr], [corr, 1]]) @ np.diag(sd), G)
    codes = np.repeat(np.arange(G), rows)
    x = rng.standard_normal(len(codes))
    X = np.column_stack([np.ones_like(x), x])
    y = rng.binomial(trials, 1 / (1 + np.exp(-(X @ np.array([-0.4, 0.8]) + np.sum(X * b[codes], axis=1)))))
    formula = "cbind(y, trials - y) ~ x + (1 + x | g)"
    data = pd.DataFrame({"y": y, "trials": trials, "x": x, "g": codes})
start = time.perf_counter()
fit = bl.MultilevelModel.from_formula(formula, data).fit_mcmc(draws=draws, chains=chains, random_seed=seed)
seconds = time.perf_counter() - start
table = fit.diagnosis.table
print(json.dumps({
    "sample_s": seconds,
    "r_hat_max": float(table["r_hat"].max()),
    "ess_sd_min": float(table.loc[[name for name in table.index if name.startswith("sd[")], "ess_bulk"].min()),
    "divergences": fit.diagnosis.divergences,
}))
"""

CASES = {"cbpp (1 | herd)": "cbpp", "simulated (1 + x | g)": "correlated"}
"""Label of a case -> the name its process takes."""

GOAL = 20.0
"""Whole-process seconds for cbpp, 4 x 1000 draws, at most this, with R-hat <= 1.01, ESS_bulk of the sd >= 400 and
no divergences."""


def measure(args) -> tuple[Table, list[Headline]]:
    """Per case, medians over the runs; the headline of cbpp against :data:`GOAL`."""
    runs = {label: [] for label in CASES}
    for repeat in range(args.repeats):
        for label, case in CASES.items():
            runs[label].append(run_process(CODE, case, args.draws, args.chains, args.seed + repeat))
    rows = {
        label: {
            "wall_s": float(np.median([r["wall_s"] for r in results])),
            "sample_s": float(np.median([r["sample_s"] for r in results])),
            "r_hat_max": max(r["r_hat_max"] for r in results),
            "ess_sd_min": min(r["ess_sd_min"] for r in results),
            "divergences": max(r["divergences"] for r in results),
        }
        for label, results in runs.items()
    }
    header = (
        f"NUTS on multilevel models, {args.chains} chains x {args.draws} draws (1,000 tuning steps); whole fresh "
        f"processes, medians of {args.repeats}; worst R-hat, ESS and divergences over them; {machine()}"
    )
    table = Table(
        header,
        ["case", "wall s", "fit_mcmc s", "R-hat max", "ESS_bulk sd min", "divergences max"],
        [
            [label, f"{r['wall_s']:.1f}", f"{r['sample_s']:.1f}", f"{r['r_hat_max']:.4f}", f"{r['ess_sd_min']:.0f}"]
            + [str(r["divergences"])]
            for label, r in rows.items()
        ],
    )
    cbpp = rows["cbpp (1 | herd)"]
    converged = cbpp["r_hat_max"] <= 1.01 and cbpp["ess_sd_min"] >= 400 and cbpp["divergences"] == 0
    headline = Headline(
        f"MCMC on cbpp (1 | herd), {args.chains} x {args.draws} draws, whole process",
        f"{cbpp['wall_s']:.1f} s",
        "-",
        "-",
        f"<= {GOAL:.0f} s, converged",
        cbpp["wall_s"] <= GOAL and converged,
        f"R-hat {cbpp['r_hat_max']:.3f}, ESS_bulk sd {cbpp['ess_sd_min']:.0f}, {cbpp['divergences']} divergences",
    )
    return table, [headline]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="random_seed of run i is seed + i")


if __name__ == "__main__":
    script_main(__doc__, add_arguments, measure)
