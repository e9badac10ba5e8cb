"""Maximum likelihood on large simulated problems: bayeslogit next to scikit-learn, timed as a user times them.

Each repeat times, in turn, ``LogisticModel(X, y).fit_ml()`` (model construction and its checks included)
and scikit-learn's ``LogisticRegression(C=np.inf, tol=1e-8, max_iter=10_000)`` with the lbfgs and
newton-cholesky solvers, on the same data in this process, with the machine's BLAS thread settings as found
(printed), each after :data:`SETTLE_S` seconds idle. The table reports median wall times, their ratio to the
faster scikit-learn solver, and the largest coefficient difference from Newton's method with the exact Hessian
on all rows (the algorithm ``fit_ml`` used before its subsampled path; the reference of the accuracy column).
Both kinds of predictors of :data:`DATA` are measured by default.
Run: ``python benchmarks/ml_speed.py --case all --data both --repeats 7``.
"""

import argparse
import time
import warnings

import numpy as np
from common import Headline, Table, machine, script_main

import bayeslogit as bl
from bayeslogit.algorithms.newton import newton

CASES = {"binary": {"n": 500_000, "p": 50, "k": 2}, "multinomial": {"n": 100_000, "p": 30, "k": 5}}
SOLVERS = ("lbfgs", "newton-cholesky")
SETTLE_S = 0.3
"""Idle seconds before each timed fit, so that each starts on a machine at rest, as a user's does: OpenBLAS keeps
its worker threads spinning about 0.1 s after a multithreaded call, and a fit started then (the one after
scikit-learn's, in turn) shares a core with them (25-30 % slower here)."""


DATA = {"correlated": 0.3, "independent": 0.0}
"""Kind of predictors -> the loading of every column on the first: Gaussian columns, correlated or independent
(where lbfgs needs few iterations, so the ratio shows the cost of one pass over the rows)."""


def simulate(n: int, p: int, k: int, seed: int, loading: float = DATA["correlated"]) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian predictors (n, p), each column loading ``loading`` on the first, and labels (n,) of ``k`` classes
    from a softmax model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1:] += loading * X[:, :1]
    theta = rng.normal(scale=1.0 / np.sqrt(p), size=(p, k))
    logits = X @ theta + rng.normal(scale=0.5, size=k)
    logits -= logits.max(axis=1, keepdims=True)
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    y = (proba.cumsum(axis=1) > rng.random(n)[:, None]).argmax(axis=1)
    return X, y


def sklearn_coef(estimator) -> np.ndarray:
    """scikit-learn's estimate as bayeslogit's (P, M) matrix: intercept first, class 0 as the reference."""
    theta = np.column_stack([estimator.intercept_, estimator.coef_]).T  # (P, K) or (P, 1) for binary
    return theta if theta.shape[1] == 1 else theta[:, 1:] - theta[:, :1]


def reference_coef(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Newton's method with the exact Hessian on all rows, to the same criteria as ``fit_ml``."""
    objective = bl.LogisticModel(X, y).objective()
    return objective.coef(newton(objective, np.zeros(objective.n_free), value=objective.value).x)


def run_case(name: str, repeats: int, seed: int, scale: float = 1.0, data: str = "correlated") -> list[tuple]:
    """Rows ``(label, median seconds, max |coef - reference|)`` of one case on predictors of kind ``data`` (a key
    of :data:`DATA`), its rows scaled by ``scale``."""
    from sklearn.linear_model import LogisticRegression

    case = CASES[name]
    X, y = simulate(int(case["n"] * scale), case["p"], case["k"], seed=seed, loading=DATA[data])
    fitters = {"bayeslogit LogisticModel(X, y).fit_ml()": lambda: bl.LogisticModel(X, y).fit_ml().params}
    for solver in SOLVERS:
        estimator = LogisticRegression(C=np.inf, solver=solver, tol=1e-8, max_iter=10_000)
        fitters[f"sklearn {solver}"] = lambda estimator=estimator: sklearn_coef(estimator.fit(X, y))
    times = {label: [] for label in fitters}
    coefs = {}
    for _ in range(repeats):  # interleaved, so that a burst of load on the machine hits every solver alike
        for label, fit in fitters.items():
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # newton-cholesky's advice to scale the data
                coefs[label] = fit()
            times[label].append(time.perf_counter() - start)
    reference = reference_coef(X, y)
    return [(label, float(np.median(times[label])), float(np.abs(coefs[label] - reference).max())) for label in fitters]


GOALS = {"binary": 0.2, "multinomial": 0.15}
"""The goal of each case: bayeslogit's time over the faster scikit-learn solver's, at most this."""


def measure(args) -> tuple[Table, list[Headline]]:
    """The table of every case's solvers, and a headline per case."""
    rows, headlines = [], []
    for data in DATA if args.data == "both" else [args.data]:
        for name in CASES if args.case == "all" else [args.case]:
            results = run_case(name, args.repeats, args.seed, args.scale, data)
            (ours, seconds, diff), *peers = results
            peer, fastest, _ = min(peers, key=lambda result: result[1])
            rows += [
                [f"{name}, {data}: {label}", f"{time_s:.3f}", f"{time_s / fastest:.2f}", f"{error:.1e}"]
                for label, time_s, error in results
            ]
            ratio = seconds / fastest
            size = "n={:,} d={p} K={k}".format(int(CASES[name]["n"] * args.scale), **CASES[name])
            headlines.append(
                Headline(
                    f"ML {name}, {data} predictors, {size}: LogisticModel(X, y).fit_ml()",
                    f"{seconds:.3f} s",
                    f"{peer} {fastest:.3f} s",
                    f"{ratio:.2f}x",
                    f"<= {GOALS[name]}x",
                    ratio <= GOALS[name] and diff <= 1e-8,
                    f"max abs(coef - Newton) {diff:.0e}",
                )
            )
    header = (
        f"ML in one process, medians of {args.repeats} runs; ratio = time / the faster scikit-learn solver; {machine()}"
    )
    return Table(header, ["case: solver", "seconds", "ratio", "max abs(coef - Newton)"], rows), headlines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--data", choices=[*DATA, "both"], default="both", help="kind of predictors")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0, help="rows of each case, times this")


if __name__ == "__main__":
    script_main(__doc__, add_arguments, measure)
