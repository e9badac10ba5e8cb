"""Separated classes: maximum likelihood refuses, a prior answers, and its sigma decides how.

Setosa and versicolor irises split cleanly on ``petal_length``: every setosa petal is shorter than every
versicolor one. The likelihood then keeps growing as the slope goes to infinity, so the ML estimate does
not exist, and ``fit_ml`` says so (naming the column) instead of returning a huge number. A Gaussian prior
makes the MAP and the posterior finite; how large they are is the prior's choice, not the data's. The
script prints the ML refusal, the comparison of the fits under ``Normal(--sigma)``, and a table of the MAP
slope and its posterior intervals (Laplace and MCMC) for each prior sd in ``--sigmas``. It writes
``separation_prior.png`` (that table as a figure; a posterior fit that fails its checks, MCMC divergences or a
poor Laplace k-hat, hollow and annotated) and ``separation_curves.png`` (the fitted probability curves over the
data).

Run: ``python examples/separation.py [--draws 1000 --chains 4 --seed 0 --out DIR]``; without ``--out`` the
figures go to a new temporary folder, named at the end.
"""

import matplotlib.pyplot as plt
import pandas as pd

import bayeslogit as bl
from bayeslogit.plots.style import trouble_note

from _common import example_parser, write_figures

FEATURE = "petal_length"
LOOKS = {
    "map": ("MAP", "#D55E00", "s", 1.0),
    "laplace": ("Laplace", "#0072B2", "^", 0.9),
    "mcmc": ("MCMC", "#009E73", "D", 1.1),
}  # label, colour, marker, horizontal offset (factor of sigma)


def slope_row(fits: dict, ci_prob: float) -> dict:
    """The slope of ``FEATURE`` under one prior: the MAP, and each posterior's mean, interval and check."""
    row = {("map", "estimate"): fits["map"].coef[FEATURE]}
    checks = {
        "laplace": ("khat", fits["laplace"].diagnosis.khat),
        "mcmc": ("r_hat", fits["mcmc"].diagnosis.rows["r_hat_max"]),
    }
    for method, (check, value) in checks.items():
        summary = fits[method].summary(ci_prob=ci_prob).loc[FEATURE]
        bounds = [column for column in summary.index if column.endswith(("_lb", "_ub"))]
        row |= {
            (method, "mean"): summary["mean"],
            **{(method, name): summary[name] for name in bounds},
            (method, check): value,
        }
    return row


def plot_sweep(table: pd.DataFrame, posterior: dict, ci_prob: float):
    """The MAP slope and the posterior intervals against the prior sd, on a log scale; a posterior fit that fails
    its checks (MCMC divergences, a poor Laplace k-hat) is drawn hollow, with what failed beside its bar."""
    from matplotlib.lines import Line2D

    figure, axis = plt.subplots(figsize=(8, 5), layout="constrained")
    for method, (label, colour, marker, offset) in LOOKS.items():
        x = table.index.to_numpy() * offset
        if method == "map":
            axis.plot(
                x, table[(method, "estimate")], color=colour, marker=marker, markersize=8, label=f"{label} estimate"
            )
            continue
        for i, sigma in enumerate(table.index):
            legend = f"{label}: posterior mean and {int(ci_prob * 100)}% ETI" if i == 0 else None
            posterior_bar(axis, table.loc[sigma, method], x[i], posterior[sigma][method], method, legend)
    hollow = Line2D([], [], marker="o", color="0.3", markerfacecolor="white", linestyle="none")
    axis.set(
        xscale="log",
        xlabel="prior sd sigma of the slope (log scale)",
        ylabel=f"slope of {FEATURE} (log-odds per cm)",
        title="Under separation the prior, not the data, sets the size of the slope",
    )
    axis.set_xticks(table.index, [f"{sigma:g}" for sigma in table.index])
    axis.margins(x=0.08, y=0.14)  # room for the notes above and below the bars
    handles = [*axis.get_legend_handles_labels()[0], hollow]
    labels = [*axis.get_legend_handles_labels()[1], "hollow: the fit fails its checks (what failed beside it)"]
    axis.legend(handles, labels, loc="upper left", fontsize=9)
    return figure


def posterior_bar(axis, row: pd.Series, x: float, fit, method: str, label: str | None):
    """One posterior fit's mean and interval (``row``: its columns of the table) at ``x``; hollow, with its
    :func:`trouble_note` (MCMC's above the bar, Laplace's below), where the fit fails its checks."""
    _, colour, marker, _ = LOOKS[method]
    low, high = (row[name] for name in row.index if name.endswith(("_lb", "_ub")))
    note = trouble_note(fit)
    axis.errorbar(
        x,
        row["mean"],
        yerr=[[row["mean"] - low], [high - row["mean"]]],
        fmt=marker,
        color=colour,
        markerfacecolor="white" if note else colour,
        markersize=7,
        capsize=5,
        label=label,
    )
    if note:
        above = method == "mcmc"
        axis.annotate(
            note.replace(", ", "\n"),
            (x, high if above else low),
            xytext=(0, 4 if above else -4),
            textcoords="offset points",
            ha="center",
            va="bottom" if above else "top",
            fontsize=7.5,
            color=colour,
        )


def main(argv=None):
    parser = example_parser(__doc__)
    parser.add_argument("--sigma", type=float, default=2.5, help="prior sd of the comparison and the curves")
    parser.add_argument("--sigmas", default="0.5,1,2.5,10", help="prior sds of the sweep, comma-separated")
    parser.add_argument("--ci-prob", type=float, default=0.89, help="probability of the intervals")
    args = parser.parse_args(argv)

    iris = bl.datasets.load_iris().query("species != 'virginica'")
    model = bl.LogisticModel.from_formula(f"species ~ {FEATURE}", iris)
    print(f"{model}\n")
    try:
        ml = model.fit_ml()
    except bl.SeparationError as error:
        ml = bl.FailedFit("ml", error)
        print(f"ML refuses ({error.kind} separation by {', '.join(error.columns)}):\n  {error}\n")

    sigmas = sorted({float(s) for s in args.sigmas.split(",")} | {args.sigma})
    posterior = {
        sigma: model.fit_all(
            bl.Normal(sigma),
            random_seed=args.seed,
            draws=args.draws,
            chains=args.chains,
            methods=("map", "laplace", "mcmc"),
            progressbar=False,
        )
        for sigma in sigmas
    }
    fits = {"ml": ml, **posterior[args.sigma]}
    print(f"The fits under {bl.Normal(args.sigma)}:\n{bl.compare(fits)}\n")

    rows = [slope_row(posterior[sigma], args.ci_prob) for sigma in sigmas]
    table = pd.DataFrame(rows, index=pd.Index(sigmas, name="sigma"))
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    with pd.option_context("display.width", 140, "display.max_columns", 20):
        print(
            f"The slope of {FEATURE} as the prior sd grows (khat: the Laplace fit's Pareto k-hat, poor above "
            f"0.7; r_hat: the MCMC fit's worst R-hat, poor above 1.01):\n{table.round(3)}"
        )

    figures = {
        "separation_prior.png": plot_sweep(table, posterior, args.ci_prob),
        "separation_curves.png": bl.plot_boundary(fits, ci_prob=args.ci_prob, random_seed=args.seed),
    }
    write_figures(figures, args.out, "separation", args.dpi)


if __name__ == "__main__":
    main()
