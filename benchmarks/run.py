"""Every benchmark, side by side with its peer, in one run: the table of goals and each benchmark's own table.

Runs, in turn, the benchmarks below with their default settings (medians of several runs each; about 20
minutes on a two-core machine, a third of it glmer on two crossed factors of over a thousand levels and a fifth the
large MCMC run), each in a process of its own, prints each
one's table as it finishes, then the
headline table: per goal, bayeslogit's figure, the peer's, their ratio, the goal and whether it is met.
``--markdown FILE`` writes the same as Markdown (the README's performance section is such a file).
``--quick`` runs every case on small data once, to check that the benchmarks work (its figures mean nothing).

Run: ``python benchmarks/run.py --markdown performance.md`` (``--only mcmc_wells ml_speed`` for some).
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import HEADLINE_COLUMNS, Table, machine, read_json, write_markdown

HERE = Path(__file__).parent

BENCHMARKS = [
    "ml_speed",
    "ml_seeds",
    "whole_process",
    "mcmc_wells",
    "mcmc_large",
    "mcmc_multilevel",
    "glmm_speed",
    "posterior_large",
    "dask_large",
    "animation",
    "command_line",
]
QUICK = {
    "ml_speed": ["--repeats", "1", "--scale", "0.02"],
    "ml_seeds": ["--repeats", "1", "--seeds", "2", "--scale", "0.01"],
    "whole_process": ["--repeats", "1"],
    "mcmc_wells": ["--repeats", "1", "--draws", "200", "--chains", "2"],
    "mcmc_large": ["--n", "2000", "--p", "3", "--draws", "200", "--chains", "2"],
    "mcmc_multilevel": ["--repeats", "1", "--draws", "200", "--chains", "2"],
    "glmm_speed": ["--repeats", "1", "--rows", "5000", "--groups", "100", "--crossed-rows", "5000"]
    + ["--crossed-levels", "500", "300"],
    "posterior_large": ["--n", "20000", "--p", "5", "--repeats", "1"],
    "dask_large": ["--rows", "200000", "--repeats", "1"],
    "animation": ["--repeats", "1"],
    "command_line": ["--repeats", "1"],
}
"""Arguments of each benchmark under ``--quick``."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=BENCHMARKS)
    parser.add_argument("--quick", action="store_true", help="small data, one run each: a check, not a measure")
    parser.add_argument("--markdown", default=None, help="also write the tables as Markdown to this file")
    args = parser.parse_args()
    start, tables, headlines = time.perf_counter(), [], []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only:  # each in a process of its own, so that none inherits another's threads or memory
            result = Path(folder) / f"{name}.json"
            subprocess.run(
                [sys.executable, str(HERE / f"{name}.py"), *(QUICK[name] if args.quick else []), "--json", str(result)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            table, lines = read_json(result)
            print(table.text() + "\n", flush=True)
            tables.append(table)
            headlines += lines
    summary = Table(
        f"bayeslogit next to its peers{' (--quick: small data, figures meaningless)' * args.quick}; "
        f"{machine()}; {time.perf_counter() - start:.0f} s in all",
        HEADLINE_COLUMNS,
        [headline.cells() for headline in headlines],
    )
    print(summary.text())
    if args.markdown:
        write_markdown(args.markdown, summary)
        with open(args.markdown, "a") as handle:
            handle.write("".join(f"\n{table.markdown()}\n" for table in tables))


if __name__ == "__main__":
    main()
