"""Partial pooling three ways: a multilevel logistic model by maximum likelihood, MAP and MCMC, and where they part.

Part 1 fits lme4's cbpp data (contagious bovine pleuropneumonia: new cases among the cattle of 15 herds over four
periods), ``cbind(incidence, size - incidence) ~ period + (1 | herd)``, by ML (glmer's Laplace approximation), MAP
(blme's mode under a Gamma(2, 1) prior on the herd sd) and NUTS, prints the fixed effects and the random-effects
blocks side by side, and writes ``multilevel_shrinkage.png`` (each herd's own estimate against each fit's: the pull
towards zero) and ``multilevel_caterpillar.png`` (every herd's effect with its interval, sorted).

Part 2 simulates five groups with a small true sd (0.3), too few for the data to tell that spread from none: ML puts
the sd at 0 (a singular fit, which it warns of) and pools every group completely; MAP's prior keeps the sd off zero,
and the posterior spreads over everything from nearly 0 to well above the truth. It prints the three sds and writes
``multilevel_singular_shrinkage.png``.

Run: ``python examples/multilevel.py [--draws 1000 --tune 1000 --chains 4 --seed 0 --out DIR]``; without ``--out``
the figures go to a new temporary folder, named at the end.
"""

import numpy as np
import pandas as pd

import bayeslogit as bl

from _common import example_parser, write_figures

CBPP = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
FEW_GROUPS = "cbind(successes, trials - successes) ~ x + (1 | group)"
TRUE_SD = 0.3  # the simulated groups' sd


def simulate_few_groups(seed: int = 7, groups: int = 5, rows: int = 8, trials: int = 10) -> pd.DataFrame:
    """``groups`` groups of ``rows`` rows, each row ``trials`` trials with log-odds ``-0.5 + 0.5 x + b[group]``,
    ``b ~ Normal(0, TRUE_SD)``: columns ``group``, ``x``, ``successes``, ``trials``. Seed 7 gives an ML sd of 0."""
    rng = np.random.default_rng(seed)
    effect = rng.normal(0.0, TRUE_SD, groups)
    group = np.repeat(np.arange(groups), rows)
    x = rng.normal(size=groups * rows)
    probability = 1 / (1 + np.exp(-(-0.5 + 0.5 * x + effect[group])))
    successes = rng.binomial(trials, probability)
    return pd.DataFrame({"group": [f"g{g + 1}" for g in group], "x": x, "successes": successes, "trials": trials})


def fit_three(model, args) -> dict:
    """ML, MAP and MCMC fits of ``model``, called here so that their warnings point at this script."""
    return {
        "ml": model.fit_ml(),
        "map": model.fit_map(),
        "mcmc": model.fit_mcmc(draws=args.draws, tune=args.tune, chains=args.chains, random_seed=args.seed),
    }


def fixed_effects(fits: dict) -> pd.DataFrame:
    """Each fit's fixed effects, estimate and standard error (posterior sd for MCMC), side by side."""
    return pd.concat(
        {method: fit.summary().loc[list(fit.layout.coef_names)].iloc[:, :2] for method, fit in fits.items()}, axis=1
    )


def random_effects(fits: dict) -> pd.DataFrame:
    """Each fit's random-effects block (lme4's ``VarCorr``): variance and sd by term and column, side by side."""
    blocks = {method: fit.random_effects().set_index(["groups", "name"]) for method, fit in fits.items()}
    return pd.concat({method: block[["variance", "sd"]] for method, block in blocks.items()}, axis=1)


def main(argv=None):
    parser = example_parser(__doc__)
    parser.add_argument("--tune", type=int, default=1000, help="MCMC tuning steps per chain")
    args = parser.parse_args(argv)

    cbpp = bl.datasets.load_cbpp()
    model = bl.MultilevelModel.from_formula(CBPP, cbpp)
    fits = fit_three(model, args)
    print(f"{model}\n")
    with pd.option_context("display.width", 120, "display.max_columns", 20, "display.precision", 3):
        print(f"Fixed effects (log-odds; se for ML and MAP, posterior sd for MCMC):\n{fixed_effects(fits).round(3)}\n")
        print(f"Random effects:\n{random_effects(fits).round(3)}\n")

    few = simulate_few_groups()  # its own fixed seed: --seed seeds the sampler only
    small = bl.MultilevelModel.from_formula(FEW_GROUPS, few)
    small_fits = fit_three(small, args)
    sd_draws = small_fits["mcmc"].draws("group_sd")[:, 0]
    low, high = np.quantile(sd_draws, [0.055, 0.945])
    print(f"{small}; true group sd {TRUE_SD}")
    print("The group sd by method:")
    print(f"  ml    {float(small_fits['ml'].group_sd.iloc[0]):.3f}  singular: {bool(small_fits['ml'].singular)}")
    print(f"  map   {float(small_fits['map'].group_sd.iloc[0]):.3f}")
    print(f"  mcmc  {sd_draws.mean():.3f}  89% ETI [{low:.3f}, {high:.3f}]")

    figures = {
        "multilevel_shrinkage.png": bl.plot_shrinkage(fits),
        "multilevel_caterpillar.png": bl.plot_caterpillar(fits),
        "multilevel_singular_shrinkage.png": bl.plot_shrinkage(small_fits),
    }
    write_figures(figures, args.out, "multilevel", args.dpi)


if __name__ == "__main__":
    main()
