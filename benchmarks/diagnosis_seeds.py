"""Does the Laplace fit's verdict change with the seed? Its diagnosis over seeds, on three kinds of posterior.

* ``iris``: setosa against versicolor on petal length, completely separated, under ``Normal(10)``: the posterior
  along the slope is far from the Gaussian at the MAP (MCMC's slope median is about twice the MAP's);
* ``wells``: ``switched ~ dist100 + arsenic`` under ``Normal(2.5)`` (flat intercept): nearly Gaussian;
* ``cancer``: scikit-learn's breast cancer, 30 standardised predictors, under ``Normal(1)``: near the line.

For each seed the table gives the verdict (ok, borderline, poor), k-hat with its standard error, the largest shift
of a mean or sd by the importance weights (posterior sds), the draws the check used, whether a
``ConvergenceWarning`` was raised and the time of ``fit_laplace`` given the MAP. A last line per case counts the
verdicts: a stable check gives one verdict for every seed.

Run: ``python benchmarks/diagnosis_seeds.py [--seeds 10] [--markdown table.md]`` (scikit-learn for ``cancer``).
"""

import argparse
import time
import warnings
from collections import Counter

from common import Headline, Table, machine, script_main

import bayeslogit as bl


def cases():
    """(name, model, prior) of each case."""
    iris = bl.datasets.load_iris().query("species in ['setosa', 'versicolor']")
    yield "iris", bl.LogisticModel.from_formula("species ~ petal_length", iris), bl.Normal(10)
    wells = bl.datasets.load_wells()
    yield (
        "wells",
        bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells),
        bl.Normal(scale=2.5, intercept_scale=None),
    )
    from sklearn.datasets import load_breast_cancer

    cancer = load_breast_cancer()
    X = (cancer.data - cancer.data.mean(axis=0)) / cancer.data.std(axis=0)
    yield "cancer", bl.LogisticModel(X, cancer.target), bl.Normal(1)


def measure(args: argparse.Namespace) -> tuple[Table, list[Headline]]:
    table = Table(
        f"Laplace verdicts over seeds 0-{args.seeds - 1} ({machine()})",
        ["case", "seed", "verdict", "k-hat", "shift_max (sd)", "check draws", "warned", "fit_laplace s"],
        [],
    )
    headlines = []
    for name, model, prior in cases():
        map_fit = model.fit_map(prior)
        verdicts = Counter()
        for seed in range(args.seeds):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                start = time.perf_counter()
                fit = model.fit_laplace(prior, random_seed=seed, map_fit=map_fit)
                elapsed = time.perf_counter() - start
            found = fit.diagnosis
            warned = any(issubclass(warning.category, bl.ConvergenceWarning) for warning in caught)
            verdicts[found.verdict] += 1
            table.rows.append(
                [
                    name,
                    str(seed),
                    found.verdict,
                    f"{found.khat:.2f} ± {found.khat_se:.2f}",
                    f"{found.shift_max:.2f}",
                    str(found.n_draws),
                    "yes" if warned else "no",
                    f"{elapsed:.3f}",
                ]
            )
        counts = ", ".join(f"{verdict} {count}" for verdict, count in sorted(verdicts.items()))
        headlines.append(
            Headline(
                f"Laplace verdict on {name}, seeds 0-{args.seeds - 1}",
                counts,
                "",
                "",
                "one verdict",
                len(verdicts) == 1,
                "",
            )
        )
        print(f"{name}: {counts}", flush=True)
    return table, headlines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 to SEEDS - 1 (default 10)")


if __name__ == "__main__":
    script_main(__doc__, add_arguments, measure)
