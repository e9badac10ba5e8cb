"""A whole process that fits maximum likelihood on the wells data: bayeslogit next to scikit-learn.

Each process starts Python, imports its library, reads the bundled ``wells.csv``, fits
``switched ~ dist100 + arsenic`` by maximum likelihood and prints the coefficients as a pandas Series:

* ``bayeslogit arrays``: ``bl.LogisticModel(wells[["dist100", "arsenic"]], wells["switched"]).fit_ml().coef``;
* ``bayeslogit formula``: the same through ``LogisticModel.from_formula`` (which imports formulaic);
* ``sklearn``: ``pandas.read_csv``, ``dist100 = dist / 100``, ``LogisticRegression(C=np.inf, tol=1e-8)``
  on the same two columns, the intercept and coefficients printed as a Series;
* ``floor``: imports numpy, pandas and scipy.linalg and prints a Series, nothing else.

The processes run in turn, ``--repeats`` times each, with the environment's thread settings; the table
reports median wall times and their ratio to the scikit-learn process. ``--bytecode cached`` (the default)
runs them with Python's bytecode cache in a temporary directory (``PYTHONPYCACHEPREFIX``), filled by a first
run, as after ``pip install`` compiles a package; ``--bytecode environment`` keeps the environment's setting,
where ``PYTHONDONTWRITEBYTECODE=1`` makes a package installed in editable mode compile its sources at every
start (about 30 ms for bayeslogit) while the libraries in ``site-packages`` have theirs.
Run: ``python benchmarks/whole_process.py --repeats 15``.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Headline, Table, machine, script_main

WELLS = Path(__file__).parents[1] / "bayeslogit" / "datasets" / "wells.csv"
PROCESSES = {
    "bayeslogit arrays": (
        "import bayeslogit as bl\n"
        "wells = bl.datasets.load_wells()\n"
        "print(bl.LogisticModel(wells[['dist100', 'arsenic']], wells['switched']).fit_ml().coef)\n"
    ),
    "bayeslogit formula": (
        "import bayeslogit as bl\n"
        "model = bl.LogisticModel.from_formula('switched ~ dist100 + arsenic', bl.datasets.load_wells())\n"
        "print(model.fit_ml().coef)\n"
    ),
    "sklearn": (
        "import numpy as np\n"
        "import pandas as pd\n"
        "from sklearn.linear_model import LogisticRegression\n"
        f"wells = pd.read_csv({str(WELLS)!r})\n"
        "wells['dist100'] = wells['dist'] / 100\n"
        "X = wells[['dist100', 'arsenic']]\n"
        "fit = LogisticRegression(C=np.inf, tol=1e-8).fit(X, wells['switched'])\n"
        "print(pd.Series(np.r_[fit.intercept_, fit.coef_[0]], index=['Intercept', *X.columns]))\n"
    ),
    "floor": "import numpy, pandas, scipy.linalg\nprint(pandas.Series([1.0]))\n",
}


GOAL = 0.4
"""bayeslogit's process time over scikit-learn's, at most this."""


def measure(args) -> tuple[Table, list[Headline]]:
    """Median wall times of each process and their ratio to scikit-learn's; the headline of the arrays process."""
    with tempfile.TemporaryDirectory() as cache:
        environment = dict(os.environ)
        if args.bytecode == "cached":
            environment.pop("PYTHONDONTWRITEBYTECODE", None)
            environment["PYTHONPYCACHEPREFIX"] = cache
            for code in PROCESSES.values():  # fills the cache
                subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=environment)
        times = {name: [] for name in PROCESSES}
        for _ in range(args.repeats):  # in turn, so that a burst of load on the machine hits every process alike
            for name, code in PROCESSES.items():
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=environment)
                times[name].append(time.perf_counter() - start)
    seconds = {name: statistics.median(values) for name, values in times.items()}
    reference = seconds["sklearn"]
    header = (
        f"Whole processes (start, import, read wells, ML fit, print the coefficients); bytecode "
        f"{args.bytecode}; medians of {args.repeats} runs; ratio = time / the scikit-learn process; {machine()}"
    )
    table = Table(
        header,
        ["process", "seconds", "ratio"],
        [[name, f"{value:.3f}", f"{value / reference:.2f}"] for name, value in seconds.items()],
    )
    ratio = seconds["bayeslogit arrays"] / reference
    headline = Headline(
        "whole process: import, ML on wells, print coef",
        f"{seconds['bayeslogit arrays']:.3f} s",
        f"sklearn {reference:.3f} s",
        f"{ratio:.2f}x",
        f"<= {GOAL}x",
        ratio <= GOAL,
        f"floor (numpy, pandas, scipy.linalg only) {seconds['floor'] / reference:.2f}x",
    )
    return table, [headline]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--bytecode", choices=["cached", "environment"], default="cached")


if __name__ == "__main__":
    script_main(__doc__, add_arguments, measure)
