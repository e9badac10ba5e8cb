"""Weakly informative priors: what Normal, Student-t and Cauchy priors claim before the data, and what they do
under separation.

Before the data: on ten standardised predictors, a prior of sd 10 on every coefficient puts almost all of the
implied probabilities within 0.01 of 0 or 1, a claim of near certainty about every row (the prior predictive
check warns); sd 0.5 does not. Even the autoscaled Cauchy(0, 2.5) (rstanarm's scaling; Gelman et al. 2008 use
2.5 on inputs of sd 0.5) piles much of its mass there when there are many predictors, because its heavy tails make
some slope large in most draws, and a wide prior on the intercept (their Cauchy(0, 10)) adds to it.

Under separation (setosa against versicolor on petal length), maximum likelihood does not exist, and each prior
gives a finite MAP. The posteriors differ in their tails: the Cauchy posterior's tail along the separating
direction is the prior's own, with no mean, and NUTS says so (R-hat, ESS); Student-t with 7 degrees of freedom
has lighter tails and samples cleanly. The script prints both tables and writes ``prior_predictive.png`` and
``separation_tails.png`` (where a sampler that fails its checks is dashed, its divergences named).

Run: ``python examples/weakly_informative.py [--draws 1000 --chains 4 --seed 0 --out DIR]``.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import bayeslogit as bl
from bayeslogit.plots.style import trouble_note

from _common import example_parser, write_figures

BEFORE = {  # label -> prior, on the ten standardised predictors: a wide intercept prior, then a narrow one
    "Normal(10), intercept 10": bl.Normal(10, intercept_scale=10),
    "StudentT(7, 2.5), intercept 10": bl.StudentT(7, 2.5, intercept_scale=10),
    "Cauchy(2.5), intercept 10": bl.Cauchy(2.5, intercept_scale=10),
    "Normal(0.5), intercept 1": bl.Normal(0.5, intercept_scale=1),
    "StudentT(7, 2.5), intercept 1": bl.StudentT(7, 2.5, intercept_scale=1),
    "Cauchy(2.5), intercept 1": bl.Cauchy(2.5, intercept_scale=1),
}
SEPARATED = {  # label -> prior, all autoscaled
    "Normal(2.5)": bl.Normal(2.5, intercept_scale=10, autoscale=True),
    "StudentT(7, 2.5)": bl.StudentT(7, 2.5, intercept_scale=10),
    "Cauchy(2.5)": bl.Cauchy(2.5, intercept_scale=10),
}
COLOURS = {"Normal(2.5)": "#0072B2", "StudentT(7, 2.5)": "#009E73", "Cauchy(2.5)": "#D55E00"}


def standardised_model(seed: int, n: int = 1000, p: int = 10) -> bl.LogisticModel:
    """Ten standard-normal predictors, standardised, and outcomes of modest effects (slopes 0.3)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    return bl.LogisticModel(X, (rng.random(n) < 1 / (1 + np.exp(-0.3 * X.sum(axis=1)))).astype(int))


def before_the_data(model: bl.LogisticModel, seed: int) -> tuple[pd.DataFrame, dict]:
    """Each prior's prior predictive check: the share of probabilities near 0 or 1, and its warning."""
    rows, results = [], {}
    for label, prior in BEFORE.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", bl.PriorWarning)
            results[label] = model.prior_predictive(prior, draws=1000, random_seed=seed)
        quantiles = results[label].quantiles((0.05, 0.5, 0.95))[results[label].classes[0]]
        rows.append(
            {
                "prior": label,
                "share within 0.01 of 0 or 1": results[label].share_near_certain,
                "p 5%": quantiles.iloc[0],
                "p 50%": quantiles.iloc[1],
                "p 95%": quantiles.iloc[2],
                "PriorWarning": "warns" if caught else "-",
            }
        )
    return pd.DataFrame(rows).set_index("prior"), results


def under_separation(model: bl.LogisticModel, args) -> tuple[pd.DataFrame, dict]:
    """MAP, Laplace and MCMC under each prior: the slope, the boundary and the sampler's diagnostics."""
    rows, fits = [], {}
    for label, prior in SEPARATED.items():
        with warnings.catch_warnings(record=True):  # the table's k-hat and MCMC columns say what they would say
            warnings.simplefilter("always", bl.ConvergenceWarning)
            made = model.fit_all(
                prior,
                random_seed=args.seed,
                draws=args.draws,
                chains=args.chains,
                methods=("map", "laplace", "mcmc"),
                progressbar=False,
            )
        map_fit, laplace, mcmc = made.values()
        fits[label] = mcmc
        slope = mcmc.coef_draws[..., 1, 0].ravel()
        rows.append(
            {
                "prior": label,
                "slope scale": map_fit.prior_scales["petal_length"],
                "MAP slope": map_fit.coef["petal_length"],
                "Laplace sd": laplace.summary().loc["petal_length", "sd"],
                "Laplace k-hat": laplace.diagnosis.khat,
                "MCMC median": np.median(slope),
                "MCMC 5%": np.quantile(slope, 0.05),
                "MCMC 95%": np.quantile(slope, 0.95),
                "MCMC 99%": np.quantile(slope, 0.99),
                "boundary (cm)": mcmc.boundary().threshold,
                "r_hat": mcmc.diagnosis.rows["r_hat_max"],
                "ess_bulk": mcmc.diagnosis.rows["ess_bulk_min"],
                "divergences": mcmc.diagnosis.divergences,
            }
        )
    return pd.DataFrame(rows).set_index("prior"), fits


def plot_before(results: dict):
    figure, axes = plt.subplots(2, 3, figsize=(15, 7.5), layout="constrained", sharex=True)
    for axis, (label, result) in zip(axes.ravel(), results.items()):
        bl.plot_prior_predictive(result, ax=[axis])
        axis.set_title(label, fontsize=11)
    figure.suptitle("Prior predictive Pr(y = 1) on 10 standardised predictors, 1,000 rows", fontsize=12)
    return figure


def plot_tails(fits: dict, table: pd.DataFrame):
    """The MCMC draws of the slope under each prior, on a log axis: the Cauchy's reach far beyond the others'. A fit
    whose sampler fails its checks (divergences, R-hat, ESS) is dashed and says what failed."""
    figure, axis = plt.subplots(figsize=(8, 5.8), layout="constrained")
    largest = max(fit.coef_draws[..., 1, 0].max() for fit in fits.values())
    edges = np.geomspace(1, max(200.0, 1.05 * largest), 61)
    for label, fit in fits.items():
        slope = fit.coef_draws[..., 1, 0].ravel()
        trouble = trouble_note(fit)  # a sampler that fails its checks: dashed, and what failed in the legend
        axis.hist(
            slope,
            bins=edges,
            density=True,
            histtype="step",
            linewidth=1.8,
            linestyle="--" if trouble else "-",
            color=COLOURS[label],
            label=f"{label}: median {np.median(slope):.1f}, 99% quantile {np.quantile(slope, 0.99):.0f}"
            + (f"\n    (MCMC fails its checks: {trouble})" if trouble else ""),
        )
        axis.axvline(table.loc[label, "MAP slope"], color=COLOURS[label], linestyle=":", linewidth=1.5)
    axis.set(
        xscale="log",
        yscale="log",
        xlabel="slope of petal_length (log-odds per cm, log scale)",
        ylabel="posterior density (log scale)",
        title="Separated classes: the posterior tail is the prior's (dotted: MAP)",
    )
    axis.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.13))  # under the axes, clear of the tails
    return figure


def main(argv=None):
    args = example_parser(__doc__).parse_args(argv)
    model = standardised_model(args.seed)
    before, results = before_the_data(model, args.seed)
    with pd.option_context("display.width", 140, "display.max_columns", 20):
        print(f"Before the data: {model}\n{before.round(3)}\n")

    iris = bl.datasets.load_iris().query("species != 'virginica'")
    separated = bl.LogisticModel.from_formula("species ~ petal_length", iris)
    try:
        separated.fit_ml()
    except bl.SeparationError as error:
        print(f"ML refuses: {error}\n")
    table, fits = under_separation(separated, args)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(
            f"Under separation (setosa petals <= 1.9 cm < 3.0 cm <= versicolor), autoscaled priors, MCMC "
            f"{args.chains} x {args.draws} draws:\n{table.round(3)}"
        )
    figures = {"prior_predictive.png": plot_before(results), "separation_tails.png": plot_tails(fits, table)}
    write_figures(figures, args.out, "weakly-informative", args.dpi)


if __name__ == "__main__":
    main()
