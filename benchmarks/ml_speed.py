"""Maximum likelihood on a large simulated problem: bayeslogit's Newton next to scikit-learn's solvers.

Each solver fits the same data ``--repeats`` times in this process; the table reports the median wall
time, its ratio to the fastest scikit-learn solver, and the largest coefficient difference from
bayeslogit's estimate. Run: ``python benchmarks/ml_speed.py --n 500000 --p 50``.
"""

import argparse
import time
import warnings

import numpy as np

import bayeslogit as bl


def simulate(n: int, p: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Correlated Gaussian predictors and labels from a logistic model with moderate effects."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1:] += 0.3 * X[:, :1]
    beta = rng.normal(scale=1.0 / np.sqrt(p), size=p)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.5 + X @ beta)))).astype(int)
    return X, y


def median_time(fit, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fit()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--p", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression

    X, y = simulate(args.n, args.p, args.seed)
    model = bl.LogisticModel(X, y)
    ours_time, ours = median_time(model.fit_ml, args.repeats)
    reference = ours.params[:, 0]
    rows = [("bayeslogit newton (incl. rank + checks)", ours_time, 0.0)]
    for solver in ("lbfgs", "newton-cholesky", "newton-cg"):  # sag/saga: 15-20x slower here
        estimator = LogisticRegression(C=np.inf, solver=solver, tol=1e-10, max_iter=1000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seconds, fitted = median_time(lambda: estimator.fit(X, y), args.repeats)
        coef = np.r_[fitted.intercept_, fitted.coef_[0]]
        rows.append((f"sklearn {solver}", seconds, float(np.abs(coef - reference).max())))
    fastest = min(seconds for name, seconds, _ in rows if name.startswith("sklearn"))
    print(f"n={args.n} p={args.p}, median of {args.repeats} runs; ratio = time / fastest scikit-learn solver")
    print(f"{'solver':42s} {'seconds':>8s} {'ratio':>6s} {'max|coef diff|':>15s}")
    for name, seconds, diff in rows:
        print(f"{name:42s} {seconds:8.3f} {seconds / fastest:6.2f} {diff:15.2e}")


if __name__ == "__main__":
    main()
