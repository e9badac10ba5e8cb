"""A curved boundary in the data's own variables: a spline in distance on the wells data.

Fits ``switched ~ bs(dist100, df=4) + np.log(arsenic)`` (a cubic B-spline of the distance to the nearest
safe well, the logarithm of the arsenic level) by ML, MAP, Laplace and MCMC, and the linear model
``switched ~ dist100 + np.log(arsenic)`` beside it. It prints whether the curve earns its three extra coefficients
(ELPD-LOO of the two MCMC fits, their difference and its standard error) and each fit's probability of
switching along distance at a fixed arsenic level, and writes ``spline_boundary.png``: each method's 0.5
boundary over distance and arsenic, drawn through the formula, with the posterior band of the boundary.

Run: ``python examples/spline_boundary.py [--draws 1000 --chains 4 --seed 0 --out DIR]``; without ``--out``
the figure goes to a new temporary folder, named at the end.
"""

import numpy as np
import pandas as pd

import bayeslogit as bl

from _common import example_parser, write_figures

SPLINE = "switched ~ bs(dist100, df=4) + np.log(arsenic)"
LINEAR = "switched ~ dist100 + np.log(arsenic)"


def main(argv=None):
    parser = example_parser(__doc__)
    parser.add_argument("--sigma", type=float, default=2.5, help="prior sd of the slopes (flat intercept)")
    args = parser.parse_args(argv)

    wells = bl.datasets.load_wells()
    prior = bl.Normal(args.sigma, intercept_scale=None)
    settings = {"random_seed": args.seed, "draws": args.draws, "chains": args.chains, "progressbar": False}
    spline = bl.LogisticModel.from_formula(SPLINE, wells)
    fits = spline.fit_all(prior, **settings)
    linear = bl.LogisticModel.from_formula(LINEAR, wells).fit_mcmc(
        prior, draws=args.draws, chains=args.chains, random_seed=args.seed, progressbar=False
    )
    print(f"{spline}\nprior: {prior}\n")

    curved, straight = fits["mcmc"].loo(), linear.loo()
    difference = curved.elpd - straight.elpd
    se = np.std(curved.elpd_i.values - straight.elpd_i.values) * np.sqrt(len(wells))
    print(
        f"ELPD-LOO, MCMC fits: spline {curved.elpd:.1f} (SE {curved.se:.1f}), linear {straight.elpd:.1f} "
        f"(SE {straight.se:.1f}); spline - linear = {difference:.1f} (SE of the difference {se:.1f})"
    )
    if difference > 2 * se:
        print("The spline predicts better than the straight line, by more than two SE of the difference.\n")
    else:
        print("The spline predicts no better than the straight line: the data cannot tell its bend from noise.\n")

    low, high = wells.dist100.min(), wells.dist100.max()  # a B-spline is not defined beyond its data
    along = pd.DataFrame({"dist100": np.linspace(low, high, 7), "arsenic": np.full(7, wells.arsenic.median())})
    table = pd.DataFrame(
        {method: fit.predict_proba(along)[:, 1] for method, fit in fits.items() if not isinstance(fit, bl.FailedFit)},
        index=along.dist100.round(2).rename("dist100 (100 m)"),
    )
    print(f"Pr(switch) along distance at the median arsenic level ({wells.arsenic.median():g}):")
    print(table.round(3).to_string())

    figure = bl.plot_boundary(fits, features=["dist100", "arsenic"])
    write_figures({"spline_boundary.png": figure}, args.out, "spline", args.dpi)


if __name__ == "__main__":
    main()
