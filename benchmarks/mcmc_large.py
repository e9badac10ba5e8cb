"""MCMC on a large simulated problem, whole fresh processes: where the minutes of ``fit_mcmc`` go.

A binary problem of ``--n`` rows and ``--p`` Gaussian predictors (the data of ``posterior_large.py``) under
``Normal(2.5)``, sampled by ``fit_mcmc`` with ``--chains`` x ``--draws`` and the package's defaults otherwise,
in a fresh process per run, timed from outside. The table gives per run the wall time, the fit's own time,
the smallest bulk ESS, the largest R-hat and a profile: the MAP's seconds, the gradient evaluations the sampler
asked for (tuning included), the milliseconds one evaluation of the objective takes alone on one thread,
and their product halved: the sampling time if two chain threads ran the objective side by side at that speed.
``--peer`` adds the same posterior as a plain PyMC model sampled by nutpie
(``pm.sample(cores=2, nuts_sampler="nutpie")``, PyMC's defaults otherwise), which takes about ten minutes at
the default size.

Run: ``python benchmarks/mcmc_large.py --n 200000 --p 20 --repeats 1 [--peer] [--markdown table.md]``.
"""

import argparse
import sys

import numpy as np
from common import Headline, Table, machine, run_process, script_main

DATA = r"""
import numpy as np
n, p = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
X = rng.normal(size=(n, p))
y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + X @ rng.normal(scale=0.3, size=p))))).astype(int)
"""

OURS = (
    r"""
import json, sys, time
"""
    + DATA
    + r"""
import bayeslogit as bl
from bayeslogit.numerics.fused import in_this_thread
from bayeslogit.numerics.objective import Objective
from threadpoolctl import threadpool_limits

evaluations = [0]
value_and_gradient = Objective.value_and_gradient

def counted(self, u):  # counts the sampler's calls; the answer is the objective's
    evaluations[0] += 1
    return value_and_gradient(self, u)

draws, chains = int(sys.argv[3]), int(sys.argv[4])
model, prior = bl.LogisticModel(X, y), bl.Normal(2.5)
start = time.perf_counter()
map_fit = model.fit_map(prior)
map_s = time.perf_counter() - start
Objective.value_and_gradient = counted
start = time.perf_counter()
fit = model.fit_mcmc(prior, draws=draws, chains=chains, random_seed=0, progressbar=False, map_fit=map_fit)
fit_s = time.perf_counter() - start
Objective.value_and_gradient = value_and_gradient
u = map_fit.gaussian.mean
with threadpool_limits(1, user_api="blas"), in_this_thread():
    times = []
    for _ in range(20):
        tick = time.perf_counter()
        map_fit.objective.value_and_gradient(u)
        times.append(time.perf_counter() - tick)
print(json.dumps({"fit_s": fit_s, "map_s": map_s, "evaluations": evaluations[0], "eval_s": float(np.median(times)),
                  "ess_bulk_min": fit.diagnosis.rows["ess_bulk_min"], "r_hat_max": fit.diagnosis.rows["r_hat_max"]}))
"""
)

PEER = (
    r"""
import json, sys, time
"""
    + DATA
    + r"""
import pymc as pm
import arviz_stats

draws, chains = int(sys.argv[3]), int(sys.argv[4])
start = time.perf_counter()
with pm.Model():
    intercept = pm.Flat("intercept")
    slopes = pm.Normal("slopes", 0.0, 2.5, shape=p)
    pm.Bernoulli("y", logit_p=intercept + pm.math.dot(X, slopes), observed=y)
    tree = pm.sample(draws=draws, chains=chains, cores=2, random_seed=0, nuts_sampler="nutpie", progressbar=False)
fit_s = time.perf_counter() - start
posterior = tree["posterior"].to_dataset()
ess, rhat = arviz_stats.ess(posterior, method="bulk"), arviz_stats.rhat(posterior)
print(json.dumps({"fit_s": fit_s, "ess_bulk_min": min(float(ess[name].min()) for name in ess.data_vars),
                  "r_hat_max": max(float(rhat[name].max()) for name in rhat.data_vars)}))
"""
)


GOAL_S = 75.0
"""The whole process's wall time, at most this many seconds."""


def measure(args) -> tuple[Table, list[Headline]]:
    """Every run's figures and profile, and the headline of the median run."""
    runs = []
    for _ in range(args.repeats):
        runs.append(("bayeslogit fit_mcmc", run_process(OURS, args.n, args.p, args.draws, args.chains)))
        print(f"  {runs[-1]}", file=sys.stderr, flush=True)
        if args.peer:
            runs.append(("PyMC model, nutpie", run_process(PEER, args.n, args.p, args.draws, args.chains)))
            print(f"  {runs[-1]}", file=sys.stderr, flush=True)
    rows = []
    for label, r in runs:
        profile = ["", "", "", ""]
        if "evaluations" in r:
            profile = [
                f"{r['map_s']:.1f}",
                f"{r['evaluations']}",
                f"{1e3 * r['eval_s']:.2f}",
                f"{r['evaluations'] * r['eval_s'] / 2:.0f}",
            ]
        rows.append(
            [
                label,
                f"{r['wall_s']:.1f}",
                f"{r['fit_s']:.1f}",
                f"{r['ess_bulk_min']:.0f}",
                f"{r['r_hat_max']:.4f}",
                *profile,
            ]
        )
    ours = [r for label, r in runs if label == "bayeslogit fit_mcmc"]
    wall = float(np.median([r["wall_s"] for r in ours]))
    header = (
        f"MCMC, n={args.n:,} p={args.p}, Normal(2.5); {args.chains} chains x {args.draws} draws; whole fresh "
        f"processes; {machine()}"
    )
    table = Table(
        header,
        [
            "run",
            "wall s",
            "fit s",
            "ESS_bulk min",
            "R-hat max",
            "MAP s",
            "gradients",
            "ms/gradient",
            "ideal s (gradients x ms / 2)",
        ],
        rows,
    )
    peers = [r["wall_s"] for label, r in runs if label != "bayeslogit fit_mcmc"]
    headline = Headline(
        f"MCMC, n={args.n:,} d={args.p}, {args.chains} x {args.draws} draws, whole process",
        f"{wall:.0f} s",
        f"PyMC + nutpie {np.median(peers):.0f} s" if peers else "",
        f"{wall / np.median(peers):.2f}x" if peers else "",
        f"<= {GOAL_S:.0f} s",
        wall <= GOAL_S and min(r["ess_bulk_min"] for r in ours) >= 1000 and max(r["r_hat_max"] for r in ours) <= 1.01,
        "ESS_bulk {:.0f}, R-hat {:.3f}".format(min(r["ess_bulk_min"] for r in ours), max(r["r_hat_max"] for r in ours)),
    )
    return table, [headline]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--peer", action="store_true", help="also run the plain PyMC model with nutpie (slow)")


if __name__ == "__main__":
    script_main(__doc__, add_arguments, measure)
