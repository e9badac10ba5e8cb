"""Should a household switch wells? ML, MAP, Laplace and MCMC fits of Gelman & Hill's wells data.

Fits ``switched ~ dist100 + arsenic`` every way, prints one comparison table (estimates, intervals,
held-out log loss, ELPD-LOO, time) and the posterior of the decision boundary, and saves a figure of
the boundaries when ``--plot`` names a file.

Run: ``python examples/wells.py [--draws 1000 --chains 4 --tune 200 --plot wells.png]``.
"""

import argparse

import numpy as np
import pandas as pd

import bayeslogit as bl


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formula", default="switched ~ dist100 + arsenic")
    parser.add_argument("--sigma", type=float, default=2.5, help="prior sd of the slopes")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=200)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", default="ml,map,laplace,mcmc")
    parser.add_argument("--plot", default=None, help="save the boundary figure to this file")
    args = parser.parse_args(argv)

    wells = bl.datasets.load_wells()
    rng = np.random.default_rng(args.seed)
    test = rng.random(len(wells)) < 0.25
    train, held_out = wells[~test], wells[test]
    model = bl.LogisticModel.from_formula(args.formula, train)
    fits = model.fit_all(bl.Normal(args.sigma), random_seed=args.seed, draws=args.draws, tune=args.tune,
                         chains=args.chains, methods=tuple(args.methods.split(",")), progressbar=False)
    print(f"{model}\nprior: {bl.Normal(args.sigma)}; {len(train)} training rows, {len(held_out)} held out\n")
    print(bl.compare(fits, held_out, held_out[model.response]))
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        for method, fit in fits.items():
            if isinstance(fit, (bl.PointFit, bl.PosteriorFit)):
                print(f"\ndecision boundary arsenic = intercept + slope * dist100, {method}:")
                print(fit.boundary().summary().round(3))
    if args.plot:
        figure = bl.plot_boundary(fits).figure
        figure.savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"\nsaved {args.plot}")


if __name__ == "__main__":
    main()
