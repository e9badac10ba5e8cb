"""Maximum likelihood on many rows across seeds: no seed may stall the solver.

Twelve data sets of 2,000,000 rows and 10 standard-normal predictors, ``beta = linspace(-1, 1, 10)``, intercept
-0.3, ``numpy.random.default_rng(seed)`` drawing ``X`` then the uniforms of ``y``, seeds 0-11. Each repeat times
``LogisticModel(X, y).fit_ml()`` (construction included) on each seed in this process, with the machine's BLAS
thread settings as found (printed). On such data the objective (about 1e6) rounds at about 1e-10, above the
Newton decrement where the solver stops, so a stopping rule blind to rounding backtracks through full passes
over the rows: once, seed 7 took 30-36 s and 31 iterations against 0.4-1.0 s for the others. The table gives
each seed's median time, iterations, and the largest difference of its coefficients from Newton's method with
the exact Hessian on all rows; the headline, the slowest seed's time over the median seed's.
Run: ``python benchmarks/ml_seeds.py --repeats 3``.
"""

import argparse
import statistics
import time

import numpy as np
from common import Headline, Table, machine, script_main

import bayeslogit as bl
from bayeslogit.algorithms.newton import newton

N_ROWS, N_FEATURES = 2_000_000, 10
GOAL_SPREAD = 3.0
"""The slowest seed within this factor of the median seed's time ..."""
GOAL_ITERATIONS = 12
"""... and no seed taking more iterations than this."""


def simulate(seed: int, n: int = N_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal predictors (n, 10) and labels (n,) of the logistic model above."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES))
    uniforms = rng.random(n)
    y = (uniforms < 1.0 / (1.0 + np.exp(-(X @ np.linspace(-1.0, 1.0, N_FEATURES) - 0.3)))).astype(int)
    return X, y


def measure(args) -> tuple[Table, list[Headline]]:
    """Per seed: median seconds, iterations and accuracy; the headline on the spread of times."""
    rows, medians, most_iterations, worst = [], [], 0, 0.0
    n = int(N_ROWS * args.scale)
    for seed in range(args.seeds):
        X, y = simulate(seed, n)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fit = bl.LogisticModel(X, y).fit_ml()
            times.append(time.perf_counter() - start)
        objective = bl.LogisticModel(X, y).objective()
        reference = newton(objective, np.zeros(objective.n_free), value=objective.value).x
        error = float(np.abs(np.ravel(fit.params) - reference).max())
        medians.append(statistics.median(times))
        most_iterations, worst = max(most_iterations, fit.n_iter), max(worst, error)
        rows.append([str(seed), f"{medians[-1]:.2f}", str(fit.n_iter), f"{error:.1e}"])
    spread = max(medians) / statistics.median(medians)
    header = (
        f"fit_ml on {n:,} x {N_FEATURES} standard-normal predictors, seeds 0-{args.seeds - 1}, medians of "
        f"{args.repeats} runs; {machine()}"
    )
    table = Table(header, ["seed", "seconds", "iterations", "max abs(coef - Newton)"], rows)
    headline = Headline(
        f"ML on {n:,} x {N_FEATURES}, {args.seeds} seeds: slowest over median seed",
        f"{max(medians):.2f} s",
        f"median {statistics.median(medians):.2f} s",
        f"{spread:.2f}x",
        f"<= {GOAL_SPREAD:g}x, <= {GOAL_ITERATIONS} iterations",
        spread <= GOAL_SPREAD and most_iterations <= GOAL_ITERATIONS and worst <= 1e-8,
        f"max abs(coef - Newton) {worst:.0e}; at most {most_iterations} iterations",
    )
    return table, [headline]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--scale", type=float, default=1.0, help="rows, times this")


if __name__ == "__main__":
    script_main(__doc__, add_arguments, measure)
