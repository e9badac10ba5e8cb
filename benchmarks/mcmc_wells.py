"""MCMC on wells in whole fresh processes: ``fit_mcmc`` against a hand-written PyMC model under PyMC's NUTS and nutpie.

Every run is a new Python process, timed from outside from its start to its exit: the imports, the data, the
model, compilation where there is any, sampling and the bulk ESS. The three kinds of run alternate (ours, PyMC,
nutpie, ours, ...) ``--repeats`` times, so that a slow spell of a shared machine falls on all of them. The table
gives, per kind, the median wall time, the median of the smallest bulk ESS over the coefficients, the median
of ESS_bulk / wall seconds, the largest R-hat seen and the ratio of the ESS/s to the better peer's.

* ours: ``LogisticModel.from_formula("switched ~ dist100 + arsenic", load_wells()).fit_mcmc(Normal(2.5), draws,
  chains=chains)`` with the package's defaults otherwise;
* peers: the same posterior written in PyMC (flat intercept, ``Normal(0, 2.5)`` slopes, ``Bernoulli(logit_p)``),
  ``pm.sample(draws, chains=chains, cores=2, nuts_sampler="pymc" | "nutpie")``, PyMC's defaults otherwise
  (1,000 tuning steps). The ESS of every kind is ArviZ's, over the same three coefficients.

Run: ``python benchmarks/mcmc_wells.py --repeats 5 [--markdown table.md]``.
"""

import argparse
import sys

import numpy as np
from common import Headline, Table, machine, run_process, script_main

OURS = r"""
import json, sys
import bayeslogit as bl

draws, chains = int(sys.argv[1]), int(sys.argv[2])
model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())
fit = model.fit_mcmc(bl.Normal(2.5), draws=draws, chains=chains, random_seed=int(sys.argv[3]), progressbar=False)
print(json.dumps({"ess_bulk_min": fit.diagnosis.rows["ess_bulk_min"], "r_hat_max": fit.diagnosis.rows["r_hat_max"]}))
"""

PEER = r"""
import json, sys
import numpy as np
import pandas as pd
import pymc as pm
import arviz_stats
from bayeslogit import datasets  # for the path of the CSV file only

draws, chains, seed, sampler = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
frame = pd.read_csv(datasets.__path__[0] + "/wells.csv")
X = np.column_stack([frame["dist"] / 100, frame["arsenic"]])
with pm.Model(coords={"slope": ["dist100", "arsenic"]}):
    intercept = pm.Flat("intercept")
    slopes = pm.Normal("slopes", 0.0, 2.5, dims="slope")
    pm.Bernoulli("switched", logit_p=intercept + pm.math.dot(X, slopes), observed=frame["switched"].to_numpy())
    tree = pm.sample(draws=draws, chains=chains, cores=2, random_seed=seed, nuts_sampler=sampler, progressbar=False)
posterior = tree["posterior"].to_dataset()
ess, rhat = arviz_stats.ess(posterior, method="bulk"), arviz_stats.rhat(posterior)
print(json.dumps({"ess_bulk_min": min(float(ess[name].min()) for name in ess.data_vars),
                  "r_hat_max": max(float(rhat[name].max()) for name in rhat.data_vars)}))
"""

KINDS = {
    "bayeslogit fit_mcmc": (OURS, ()),
    "PyMC model, PyMC NUTS": (PEER, ("pymc",)),
    "PyMC model, nutpie": (PEER, ("nutpie",)),
}
"""Label of a kind of run -> (the code its process runs, extra arguments after draws, chains and seed)."""


def summarise(runs: dict) -> list[dict]:
    """Per kind, medians over its runs, and the ratio of the first kind's ESS/s to the best of the others'."""
    rows = []
    for label, results in runs.items():
        rates = [r["ess_bulk_min"] / r["wall_s"] for r in results]
        rows.append(
            {
                "kind": label,
                "runs": len(results),
                "wall_s": float(np.median([r["wall_s"] for r in results])),
                "ess_bulk_min": float(np.median([r["ess_bulk_min"] for r in results])),
                "ess_per_s": float(np.median(rates)),
                "ess_per_s_range": (min(rates), max(rates)),
                "r_hat_max": max(r["r_hat_max"] for r in results),
            }
        )
    best_peer = max(row["ess_per_s"] for row in rows[1:]) if len(rows) > 1 else np.nan
    for row in rows:
        row["ratio"] = row["ess_per_s"] / best_peer
    return rows


GOAL = 8.0
"""bayeslogit's ESS per second over the better peer's, at least this, with ESS_bulk >= 1000."""


def measure(args) -> tuple[Table, list[Headline]]:
    """The kinds' medians, and the headline of ours against the better peer."""
    runs = {label: [] for label in KINDS}
    for repeat in range(args.repeats):
        for label, (code, extra) in KINDS.items():
            runs[label].append(run_process(code, args.draws, args.chains, args.seed + repeat, *extra))
            print(f"  {label}: {runs[label][-1]}", file=sys.stderr, flush=True)
    rows = summarise(runs)
    header = (
        f"MCMC on wells, switched ~ dist100 + arsenic, Normal(2.5); {args.chains} chains x {args.draws} draws; "
        f"whole fresh processes, medians of {args.repeats}; {machine()}"
    )
    table = Table(
        header,
        ["run", "wall s", "ESS_bulk min", "ESS/s", "ESS/s range", "R-hat max", "/ best peer"],
        [
            [
                row["kind"],
                f"{row['wall_s']:.2f}",
                f"{row['ess_bulk_min']:.0f}",
                f"{row['ess_per_s']:.0f}",
                "{:.0f}-{:.0f}".format(*row["ess_per_s_range"]),
                f"{row['r_hat_max']:.4f}",
                f"{row['ratio']:.2f}x",
            ]
            for row in rows
        ],
    )
    ours, *peers = rows
    best = max(peers, key=lambda row: row["ess_per_s"])
    headline = Headline(
        f"MCMC on wells, {args.chains} x {args.draws} draws, whole process: ESS_bulk/s",
        f"{ours['wall_s']:.1f} s, {ours['ess_per_s']:.0f} ESS/s",
        f"{best['kind']} {best['wall_s']:.1f} s, {best['ess_per_s']:.0f} ESS/s",
        f"{ours['ratio']:.1f}x",
        f">= {GOAL:.0f}x, ESS >= 1000",
        ours["ratio"] >= GOAL and ours["ess_bulk_min"] >= 1000 and ours["r_hat_max"] < 1.01,
        f"ESS_bulk {ours['ess_bulk_min']:.0f}, R-hat {ours['r_hat_max']:.3f}",
    )
    return table, [headline]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="random_seed of run i is seed + i")


if __name__ == "__main__":
    script_main(__doc__, add_arguments, measure)
