"""Posterior predictions, the Laplace diagnostic and the comparison table on a large problem.

Each case runs in a fresh process (so its peak memory is its own), ``--repeats`` times; the table gives the
median wall time of the timed step and the process's peak resident memory. The cases, on a simulated
binary problem of ``--n`` rows and ``--p`` predictors under ``Normal(2.5)``:

* ``laplace predict_proba``: ``fit.predict_proba(X)`` of a Laplace fit with the default 4,000 draws;
* ``laplace fit (k-hat)``: ``model.fit_laplace(prior)`` given the MAP, which computes Pareto k-hat;
* ``compare MAP + 1000-draw Laplace``: the 1,000-draw Laplace fit and ``bl.compare([map, laplace])``.

Run: ``python benchmarks/posterior_large.py --n 200000 --p 20 --repeats 3 [--markdown table.md]``.
"""

import argparse

import numpy as np
from common import Headline, Table, machine, run_process, script_main

CASE = r"""
import json, resource, sys, time
import numpy as np
import bayeslogit as bl

n, p, case = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
X = rng.normal(size=(n, p))
y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + X @ rng.normal(scale=0.3, size=p))))).astype(int)
model, prior = bl.LogisticModel(X, y), bl.Normal(2.5)
map_fit = model.fit_map(prior)
model.fit_laplace(prior, draws=30, random_seed=1, map_fit=map_fit)  # imports ArviZ outside the timing
start = time.perf_counter()
if case == "predict":
    fit = model.fit_laplace(prior, random_seed=0, map_fit=map_fit)
    start = time.perf_counter()
    fit.predict_proba(X)
elif case == "khat":
    model.fit_laplace(prior, random_seed=0, map_fit=map_fit)
else:
    bl.compare([map_fit, model.fit_laplace(prior, draws=1000, random_seed=0, map_fit=map_fit)])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
CASES = {
    "predict": "Laplace predict_proba (4,000 draws)",
    "khat": "Laplace fit and its k-hat (4,000 draws)",
    "compare": "compare of MAP and a 1,000-draw Laplace fit",
}
GOALS_S = {"predict": 2.0, "khat": 2.0, "compare": 10.0}
PEAK_MB = 1500.0  # the compare process's peak memory, at most this


def measure(args) -> tuple[Table, list[Headline]]:
    """Each case's median seconds and peak memory, and a headline per case."""
    rows, headlines = [], []
    for case, label in CASES.items():
        results = [run_process(CASE, args.n, args.p, case) for _ in range(args.repeats)]
        seconds = float(np.median([r["seconds"] for r in results]))
        peak = max(r["peak_mb"] for r in results)
        rows.append([label, f"{seconds:.2f}", f"{peak:.0f}"])
        memory_goal = case != "compare" or peak < PEAK_MB
        headlines.append(
            Headline(
                f"{label}, n={args.n:,} d={args.p}",
                f"{seconds:.2f} s, peak {peak:,.0f} MB",
                "",
                "",
                f"<= {GOALS_S[case]:.0f} s" + (f", < {PEAK_MB:,.0f} MB" if case == "compare" else ""),
                seconds <= GOALS_S[case] and memory_goal,
                "",
            )
        )
    header = f"Posterior on n={args.n:,} p={args.p}, medians of {args.repeats} fresh processes; {machine()}"
    return Table(header, ["case", "seconds", "peak MB"], rows), headlines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)


if __name__ == "__main__":
    script_main(__doc__, add_arguments, measure)
