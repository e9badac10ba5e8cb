"""Wall time and ESS of ``fit_mcmc`` on wells against a hand-written PyMC model sampled with defaults.

Run in a fresh process: the first ``fit_mcmc`` call includes importing PyMC and compiling the model.
The hand-written model is the plain (un-whitened) posterior, ``pm.sample()`` with PyMC's defaults
(nutpie when installed, PyMC's own cores default), sampled after ``fit_mcmc`` so its time excludes
the import of PyMC::

    python benchmarks/mcmc_wells.py --draws 1000 --chains 4
"""

import argparse
import time

import numpy as np

import bayeslogit as bl

FORMULA = "switched ~ dist100 + arsenic"
PRIOR = bl.Normal(2.5)


def plain_pymc(model, draws: int, chains: int, seed: int) -> float:
    """Sample the textbook PyMC model (flat intercept, N(0, 2.5^2) slopes); return the smallest bulk ESS."""
    import arviz_stats
    import pymc as pm

    with pm.Model(coords={"slope": model.feature_names, "obs": np.arange(len(model.data.y))}):
        intercept = pm.Flat("intercept")
        slopes = pm.Normal("slopes", 0.0, PRIOR.sigma, dims="slope")
        logit_p = intercept + pm.math.dot(model.data.X, slopes)
        pm.Bernoulli("y", logit_p=logit_p, observed=model.data.y, dims="obs")
        tree = pm.sample(draws=draws, chains=chains, random_seed=seed, progressbar=False)
    ess = arviz_stats.ess(tree["posterior"].to_dataset(), method="bulk")
    return float(min(ess[name].min() for name in ess.data_vars))


def timed(run) -> tuple[float, float]:
    start = time.perf_counter()
    ess = run()
    return time.perf_counter() - start, ess


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--tune", type=int, default=1000, help="tuning steps of fit_mcmc")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    model = bl.LogisticModel.from_formula(FORMULA, bl.datasets.load_wells())

    def ours():
        fit = model.fit_mcmc(PRIOR, draws=args.draws, tune=args.tune, chains=args.chains,
                             random_seed=args.seed, progressbar=False)
        return fit.diagnosis.rows["ess_bulk_min"]

    rows = [
        ("fit_mcmc, first call", *timed(ours)),
        ("fit_mcmc, second call", *timed(ours)),
        ("plain pm.sample(), first call", *timed(lambda: plain_pymc(model, args.draws, args.chains, args.seed))),
        ("plain pm.sample(), second call", *timed(lambda: plain_pymc(model, args.draws, args.chains, args.seed))),
    ]
    print(f"wells, {FORMULA}, {PRIOR!r}; {args.chains} chains x {args.draws} draws "
          f"(fit_mcmc tune={args.tune}, plain tune=1000)")
    print(f"{'run':<32}{'wall s':>8}{'ESS_bulk min':>14}{'ESS/s':>8}")
    for name, seconds, ess in rows:
        print(f"{name:<32}{seconds:>8.1f}{ess:>14.0f}{ess / seconds:>8.0f}")


if __name__ == "__main__":
    main()
