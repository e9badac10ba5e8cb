"""What the benchmarks share: fresh processes timed from outside, the machine's settings, tables, headlines.

Every benchmark module has ``measure(args) -> (table, headlines)``: its own table of results (a
:class:`Table`) and :class:`Headline` rows, one per goal, which ``run.py`` gathers into one table.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def machine() -> str:
    """The cores, the BLAS thread variables as the environment sets them, and the load average now."""
    threads = ", ".join(f"{name}={os.environ.get(name, 'unset')}" for name in THREAD_VARIABLES)
    return f"{os.cpu_count()} cores; {threads}; load average {os.getloadavg()[0]:.2f}"


def run_process(code: str, *args, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh Python process; the JSON object it prints last, with ``wall_s``, its wall time
    from outside (interpreter start and imports included)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"a benchmark process failed:\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall_s": wall}


@dataclass
class Table:
    """A table of results: a header line, column names and rows of cells (strings)."""

    header: str
    columns: list[str]
    rows: list[list[str]]

    def text(self) -> str:
        """Aligned plain text: the first column left, the others right."""
        widths = [max(len(column), *(len(row[i]) for row in self.rows)) for i, column in enumerate(self.columns)]
        lines = [
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
            for line in [self.columns, *self.rows]
        ]
        return "\n".join([self.header, *lines])

    def markdown(self) -> str:
        """A Markdown table, the bars inside cells (``(1 | g)``) escaped."""

        def row_of(cells: list[str]) -> str:
            return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

        lines = [row_of(self.columns), "|" + "---|" * len(self.columns), *(row_of(row) for row in self.rows)]
        return "\n".join([self.header, "", *lines])


@dataclass
class Headline:
    """One goal's result: what was measured, ours and the peer's figure, their ratio, the goal and the accuracy.

    ``met`` is whether the goal is reached (None when the goal is not a number the run can check).
    """

    case: str
    ours: str
    peer: str
    ratio: str
    goal: str
    met: bool | None
    accuracy: str

    def cells(self) -> list[str]:
        verdict = {True: "met", False: "missed", None: "-"}[self.met]
        return [self.case, self.ours, self.peer, self.ratio, self.goal, verdict, self.accuracy]


HEADLINE_COLUMNS = ["case", "bayeslogit", "peer", "ratio", "goal", "", "accuracy"]


def write_markdown(path: str | None, table: Table) -> None:
    """Write ``table`` as Markdown to ``path`` (nothing when None)."""
    if path:
        with open(path, "w") as handle:
            handle.write(table.markdown() + "\n")


def script_main(doc: str, add_arguments, measure) -> None:
    """Run a benchmark module as a script: its arguments and ``--markdown FILE``, then its table printed."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--markdown", default=None, help="also write the table as Markdown to this file")
    parser.add_argument("--json", default=None, help="also write the table and the headlines as JSON to this file")
    args = parser.parse_args()
    table, headlines = measure(args)
    print(table.text())
    write_markdown(args.markdown, table)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"table": asdict(table), "headlines": [asdict(line) for line in headlines]}, handle)


def read_json(path: str) -> tuple[Table, list[Headline]]:
    """The table and headlines that ``script_main`` wrote with ``--json``."""
    with open(path) as handle:
        saved = json.load(handle)
    return Table(**saved["table"]), [Headline(**line) for line in saved["headlines"]]
