"""Should a household switch wells? ML, MAP, Laplace and MCMC fits of Gelman & Hill's wells data.

Fits ``switched ~ dist100 + arsenic`` every way on three quarters of the households, prints one comparison
table (estimates, uncertainty, held-out log loss, ELPD-LOO, diagnostics, time) and the decision boundary of
each fit, and writes three figures: the boundaries (``wells_boundary.png``), the coefficients
(``wells_coef.png``) and the held-out calibration (``wells_calibration.png``).

Run: ``python examples/wells.py [--draws 1000 --chains 4 --tune 200 --seed 0 --out DIR]``; without ``--out``
the figures go to a new temporary folder, named at the end.
"""

import numpy as np
import pandas as pd

import bayeslogit as bl

from _common import example_parser, write_figures


def main(argv=None):
    parser = example_parser(__doc__)
    parser.add_argument("--formula", default="switched ~ dist100 + arsenic")
    parser.add_argument("--sigma", type=float, default=2.5, help="prior sd of the slopes")
    parser.add_argument("--tune", type=int, default=200, help="MCMC tuning steps per chain")
    parser.add_argument("--methods", default="ml,map,laplace,mcmc")
    args = parser.parse_args(argv)

    wells = bl.datasets.load_wells()
    test = np.random.default_rng(args.seed).random(len(wells)) < 0.25
    train, held_out = wells[~test], wells[test]
    model = bl.LogisticModel.from_formula(args.formula, train)
    prior = bl.Normal(args.sigma)
    fits = model.fit_all(
        prior,
        random_seed=args.seed,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        methods=tuple(args.methods.split(",")),
        progressbar=False,
    )
    print(f"{model}\nprior: {prior}; {len(train)} training rows, {len(held_out)} held out\n")
    print(bl.compare(fits, held_out, held_out[model.response]))
    if len(model.feature_names) == 2:
        print("\ndecision boundary: {1} = intercept + slope * {0}".format(*model.feature_names))
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        for method, fit in fits.items():
            if not isinstance(fit, bl.FailedFit):
                print(f"\n{method}:\n{fit.boundary().summary().round(3)}")

    figures = {
        "wells_boundary.png": bl.plot_boundary(fits),
        "wells_coef.png": bl.plot_coef(fits),
        "wells_calibration.png": bl.plot_calibration(fits, held_out, held_out[model.response]),
    }
    write_figures(figures, args.out, "wells", args.dpi)


if __name__ == "__main__":
    main()
