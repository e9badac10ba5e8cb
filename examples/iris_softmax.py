"""Three species of iris: softmax regression, its decision regions and how sure the posterior is of them.

Fits ``species ~ petal_length + petal_width`` (Fisher's iris, three classes) by ML, MAP, Laplace and MCMC.
Setosa is separated from the other species by its petals, so the ML estimate does not exist and the script
says why; the prior keeps the other fits finite. It prints the comparison table, the class vectors (one
coefficient column per species, log-odds against the reference species, whose coefficients are fixed at
zero), the posterior of every pairwise boundary, and writes ``iris_regions.png``: the regions of each fit, with
contours where the winning species' probability reaches 0.75 and 0.95, the band where the posterior draws disagree
on which species wins, and the class vectors in a small panel beside each.

Run: ``python examples/iris_softmax.py [--draws 1000 --chains 4 --seed 0 --out DIR]``; without ``--out`` the
figure goes to a new temporary folder, named at the end.
"""

import pandas as pd

import bayeslogit as bl

from _common import example_parser, write_figures


def class_vectors(fit, reference) -> pd.DataFrame:
    """The fit's coefficients [coef x species] with the reference species' column of zeros first."""
    table = fit.coef.copy()
    table.insert(0, reference, 0.0)
    return table


def main(argv=None):
    parser = example_parser(__doc__)
    parser.add_argument(
        "--features",
        nargs=2,
        default=["petal_length", "petal_width"],
        help="two of sepal_length, sepal_width, petal_length, petal_width",
    )
    parser.add_argument("--sigma", type=float, default=2.5, help="prior sd of the slopes (flat intercepts)")
    args = parser.parse_args(argv)

    iris = bl.datasets.load_iris()
    model = bl.LogisticModel.from_formula(f"species ~ {' + '.join(args.features)}", iris)
    prior = bl.Normal(args.sigma)
    fits = model.fit_all(prior, random_seed=args.seed, draws=args.draws, chains=args.chains, progressbar=False)
    fitted = {method: fit for method, fit in fits.items() if not isinstance(fit, bl.FailedFit)}
    reference = model.classes_[0]
    print(f"{model}\nprior: {prior}\n")
    print(bl.compare(fits))

    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(
            f"\nClass vectors theta_k, one column per species: the log-odds of each species against the "
            f"reference class {reference!r}, whose coefficients are fixed at 0"
        )
        print(pd.concat({method: class_vectors(fit, reference) for method, fit in fitted.items()}, axis=1).round(3))
        shown = next((method for method in ("mcmc", "laplace") if method in fitted), None)  # exact first
        if shown:
            print(f"\n{shown} posterior of the coefficients:\n{fitted[shown].summary().round(3)}")
            print(
                f"\n{shown} posterior of the pairwise boundaries "
                f"({args.features[1]} = intercept + slope * {args.features[0]}):"
            )
            print(fitted[shown].boundary().summary().round(2))

    regions = bl.plot_boundary(fits, features=args.features, random_seed=args.seed)
    write_figures({"iris_regions.png": regions}, args.out, "iris", args.dpi)


if __name__ == "__main__":
    main()
