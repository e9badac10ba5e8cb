"""The command line timed as its user times it: ``bayeslogit compare`` from the shell to its last line.

Two CSV files made from statsmodels' data sets: spector (32 rows, ``GRADE ~ GPA + TUCE + PSI``) and fair (6,366
rows, eight predictors, two of them categorical). Each case runs ``python -m bayeslogit compare FILE --formula ...``
in a fresh process, point fits only (``--methods ml,map``) and all four methods, each without and with ``--out``
(the HTML report), and gives the median wall time (interpreter start, imports, fits, comparison, report and exit)
of ``--repeats`` runs, interleaved so that a change in the machine's load touches every case alike. The machine's
BLAS thread settings are as found (printed). The goals: spector under 2 s with ``--methods ml,map`` and under 5 s
with all four methods.
Run: ``python benchmarks/command_line.py --repeats 5``.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Headline, Table, machine, script_main

DATA = {
    "spector": "GRADE ~ GPA + TUCE + PSI",
    "fair": "affair ~ rate_marriage + age + yrs_married + children + religious + educ + C(occupation) "
    "+ C(occupation_husb)",
}
"""Data set -> the formula its runs fit."""

METHODS = {"ml,map": ["--methods", "ml,map"], "all four": []}
GOALS_S = {("spector", "ml,map", False): 2.0, ("spector", "all four", False): 5.0}
"""(data set, methods, with the report) -> the goal, in seconds of wall time."""


def write_csv_files(folder: Path) -> dict:
    """spector.csv and fair.csv (``affair`` is 1 where ``affairs`` > 0) in ``folder``; data set -> its path."""
    import statsmodels.api as sm

    fair = sm.datasets.fair.load_pandas().data
    fair["affair"] = (fair["affairs"] > 0).astype(int)
    frames = {"spector": sm.datasets.spector.load_pandas().data, "fair": fair}
    paths = {name: folder / f"{name}.csv" for name in frames}
    for name, frame in frames.items():
        frame.to_csv(paths[name], index=False)
    return paths


def wall_time(command: list) -> float:
    """Seconds from the start of ``command`` to its exit (which must be 0)."""
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def measure(args) -> tuple[Table, list[Headline]]:
    """Median wall time of every case; a headline per goal of :data:`GOALS_S`."""
    with tempfile.TemporaryDirectory() as folder:
        paths = write_csv_files(Path(folder))
        cases = {
            (name, methods, report): [
                sys.executable,
                "-m",
                "bayeslogit",
                "compare",
                str(paths[name]),
                "--formula",
                DATA[name],
                *METHODS[methods],
                *(["--out", f"{folder}/report-{name}"] if report else []),
            ]
            for name in DATA
            for methods in METHODS
            for report in (False, True)
        }
        times = {case: [] for case in cases}
        for _ in range(args.repeats):
            for case, command in cases.items():
                times[case].append(wall_time(command))
    medians = {case: statistics.median(seconds) for case, seconds in times.items()}
    rows = [
        [name, methods, "yes" if report else "no", f"{medians[name, methods, report]:.2f}",
         f"{min(times[name, methods, report]):.2f}", f"{max(times[name, methods, report]):.2f}"]
        for name, methods, report in cases
    ]  # fmt: skip
    table = Table(
        f"bayeslogit compare, whole process; {args.repeats} runs of each case, interleaved; {machine()}",
        ["data", "methods", "report", "median s", "min s", "max s"],
        rows,
    )
    headlines = [
        Headline(
            f"bayeslogit compare {name}.csv, {methods}",
            f"{medians[name, methods, report]:.2f} s",
            "-",
            "-",
            f"< {goal:g} s",
            medians[name, methods, report] < goal,
            "whole process",
        )
        for (name, methods, report), goal in GOALS_S.items()
    ]
    return table, headlines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=5)


if __name__ == "__main__":
    script_main(__doc__, add_arguments, measure)
