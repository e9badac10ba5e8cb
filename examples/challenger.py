"""How cold is too cold? The Challenger O-ring data fitted four ways and extrapolated to 31 F.

Challenger was launched at 31 F, colder than any of the 23 flights before it (53 to 81 F). This script fits
``damaged ~ temp`` by ML, MAP, Laplace and MCMC, prints the launch-temperature threshold (where
Pr(damage) = 0.5) with its posterior, and Pr(damage at 31 F) by method: so far below the data, their
log-odds of damage disagree several times more than anywhere in the flights' range. It writes
``challenger_curves.png``: the probability curves of every method from 30 to 82 F, and below them each
method's threshold with its interval (ML and MAP: the delta method's Wald interval; posteriors: the ETI).

Run: ``python examples/challenger.py [--draws 1000 --chains 4 --seed 0 --out DIR]``; without ``--out`` the
figure goes to a new temporary folder, named at the end.
"""

import numpy as np
import pandas as pd

import bayeslogit as bl

from _common import example_parser, write_figures

LAUNCH_TEMP = 31.0  # degrees Fahrenheit, 28 January 1986


def probability_at(fit, model, frame: pd.DataFrame, ci_prob: float) -> tuple[float, float, float]:
    """Pr(damage) at the one row of ``frame``: the fit's estimate (posterior mean) and, for a posterior fit,
    the equal-tailed ``ci_prob`` interval of its draws (NaN for a point fit)."""
    estimate = float(fit.predict_proba(frame)[0, 1])
    if not isinstance(fit, bl.PosteriorFit):
        return estimate, np.nan, np.nan
    per_draw = fit.predictive_draws(model.design_matrix(frame))[:, 0, 1]
    low, high = np.quantile(per_draw, [(1 - ci_prob) / 2, (1 + ci_prob) / 2])
    return estimate, float(low), float(high)


def main(argv=None):
    parser = example_parser(__doc__)
    parser.add_argument("--sigma", type=float, default=2.5, help="prior sd of the slope (flat intercept)")
    parser.add_argument("--ci-prob", type=float, default=0.89, help="probability of the intervals")
    args = parser.parse_args(argv)

    flights = bl.datasets.load_challenger()
    model = bl.LogisticModel.from_formula("damaged ~ temp", flights)
    prior = bl.Normal(args.sigma)
    fits = model.fit_all(prior, random_seed=args.seed, draws=args.draws, chains=args.chains, progressbar=False)
    fitted = {method: fit for method, fit in fits.items() if not isinstance(fit, bl.FailedFit)}
    print(f"{model}\nprior: {prior}; flights from {flights.temp.min()} to {flights.temp.max()} F\n")
    for method, fit in fits.items():
        if method not in fitted:
            print(f"{method}: not fitted ({fit.reason})")

    print("Launch-temperature threshold, where Pr(damage) = 0.5 (F):")
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        for method, fit in fitted.items():
            print(f"\n{method}:\n{fit.boundary().summary(ci_prob=args.ci_prob).round(2)}")

    cold = pd.DataFrame({"temp": [LAUNCH_TEMP]})
    percent = int(args.ci_prob * 100)
    print(
        f"\nPr(damage at {LAUNCH_TEMP:g} F) by method (posterior fits: mean and {percent}% ETI of the draws), "
        "and the odds against damage it implies:"
    )
    for method, fit in fitted.items():
        estimate, low, high = probability_at(fit, model, cold, args.ci_prob)
        interval = f"  [{low:.4f}, {high:.4f}]" if np.isfinite(low) else " " * 18
        print(f"  {method:<8}{estimate:.4f}{interval}  no damage 1 in {1 / (1 - estimate):,.0f}")

    temps = pd.DataFrame({"temp": np.arange(30.0, 83.0)})
    curves = pd.DataFrame({method: fit.predict_proba(temps)[:, 1] for method, fit in fitted.items()}, index=temps.temp)
    log_odds = np.log(curves / (1 - curves))
    spread = log_odds.max(axis=1) - log_odds.min(axis=1)
    inside = spread.loc[flights.temp.min() :]
    print(
        f"\nThe methods' log-odds of damage differ most at {spread.idxmax():g} F (by {spread.max():.2f}); "
        f"from {flights.temp.min()} F up, where the flights were, by at most {inside.max():.2f} "
        f"(at {inside.idxmax():g} F)."
    )

    curves_figure = bl.plot_boundary(fits, features=["temp"], ranges={"temp": (30, 82)}, ci_prob=args.ci_prob)
    write_figures({"challenger_curves.png": curves_figure}, args.out, "challenger", args.dpi)


if __name__ == "__main__":
    main()
