"""Maximum likelihood out of core: a 1e7 x 10 dask array, read a chunk at a time.

Each repeat runs in a fresh process (so that its peak memory is its own): it builds ``X`` lazily, chunk by chunk,
from dask's seeded random generator (``da.random.default_rng(seed)``), and the labels from the logistic model
with known coefficients ``TRUTH``, so that no step ever holds every row; then it times
``bl.LogisticModel(X, y).fit_ml()`` (construction, whose pass validates the chunks, included) on dask's local
threaded scheduler. Every pass over the data generates its chunks afresh, as reading them from disk would. The
table reports median wall time, the process's peak resident memory (``ru_maxrss``) and the largest
``|coef - truth| / se``, which a correct fit keeps within a few units.
Run: ``python benchmarks/dask_large.py --repeats 3`` (``--rows 1000000`` for a quick run; ``--markdown FILE`` also
writes the table as Markdown).
"""

import argparse
import json
import statistics

import numpy as np
from common import Headline, Table, machine, run_process, script_main

TRUTH = np.array([-0.5, *np.linspace(-1.0, 1.0, 10)])
"""The intercept, then the coefficients of the 10 standard-normal predictors."""
PEAK_GOAL_MB = 1500
SE_GOAL = 5.0

PROCESS = r"""
import json, resource, sys, time
import dask.array as da
import numpy as np
import bayeslogit as bl

rows, chunk, seed, truth = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), np.array(json.loads(sys.argv[4]))
start = time.perf_counter()
rng = da.random.default_rng(seed)
X = rng.standard_normal((rows, len(truth) - 1), chunks=(chunk, -1))
eta = X @ truth[1:] + truth[0]
y = (rng.random(rows, chunks=chunk) < 1 / (1 + np.exp(-eta))).astype(np.int8)
fit = bl.LogisticModel(X, y).fit_ml()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "n_iter": fit.n_iter,
                  "worst_se": float(np.max(np.abs(fit.params[:, 0] - truth) / fit.uncertainty))}))
"""


def measure(args) -> tuple[Table, list[Headline]]:
    """The table of the repeats' medians, and the headline of the goal."""
    results = [
        run_process(PROCESS, args.rows, args.chunk, args.seed + repeat, json.dumps(TRUTH.tolist()))
        for repeat in range(args.repeats)
    ]
    seconds, peak, worst = (
        statistics.median(result[key] for result in results) for key in ("seconds", "peak_mb", "worst_se")
    )
    case = f"ML, {args.rows:,} x {len(TRUTH) - 1} dask array in chunks of {args.chunk:,} rows"
    rows = [[case, f"{seconds:.1f}", f"{peak:.0f}", f"{worst:.2f}", str(results[0]["n_iter"])]]
    header = f"Out-of-core ML, medians of {args.repeats} fresh processes; {machine()}"
    table = Table(header, ["case", "seconds", "peak MB", "max abs(coef - truth) / se", "Newton steps"], rows)
    headline = Headline(
        case,
        f"{seconds:.1f} s, {peak:.0f} MB peak",
        "-",
        "-",
        f"peak < {PEAK_GOAL_MB} MB, within {SE_GOAL:.0f} SE",
        peak < PEAK_GOAL_MB and worst < SE_GOAL,
        f"max abs(coef - truth) / se {worst:.2f}",
    )
    return table, [headline]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=500_000, help="rows per chunk")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="of the first repeat's data; each repeat adds one")


if __name__ == "__main__":
    script_main(__doc__, add_arguments, measure)
