"""The learning animation on wells, timed as a user times it: the model built and the GIF written.

Every run is a new Python process that imports bayeslogit, then times
``bl.animate_optimization(bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells), path=...gif)``
with its defaults (steepest descent and Newton's method, up to 1,000 steps, 40 frames, 1280 pixels wide): the
model's construction, both optimisers, the figure, every frame and the GIF file, matplotlib's and Pillow's
imports included (the first animation of a session pays them). The table gives the median, smallest and largest
of ``--repeats`` runs, and the frames and size of the file; the process's wall time, interpreter start and
imports included, beside them. The machine's BLAS thread settings are as found (printed).
Run: ``python benchmarks/animation.py --repeats 5``.
"""

import argparse
import statistics
import tempfile

from common import Headline, Table, machine, run_process, script_main

RUN = r"""
import json, sys, time
from PIL import Image
import bayeslogit as bl

wells = bl.datasets.load_wells()
start = time.perf_counter()
model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
animation = bl.animate_optimization(model, path=sys.argv[1], max_frames=int(sys.argv[2]))
seconds = time.perf_counter() - start
with Image.open(animation.path) as gif:
    print(json.dumps({"seconds": seconds, "frames": gif.n_frames, "width": gif.width, "height": gif.height}))
"""

GOAL_S = 3.0
"""Model, optimisers and the GIF of 40 frames in less than this (median of the runs)."""


def measure(args) -> tuple[Table, list[Headline]]:
    """Median, smallest and largest time of the runs; the headline against :data:`GOAL_S`."""
    with tempfile.TemporaryDirectory() as folder:
        runs = [run_process(RUN, f"{folder}/wells-{i}.gif", args.frames) for i in range(args.repeats)]
    seconds, walls = [run["seconds"] for run in runs], [run["wall_s"] for run in runs]
    median = statistics.median(seconds)
    first = runs[0]
    header = (
        f"animate_optimization on wells, model and GIF ({first['frames']} frames, {first['width']} x "
        f"{first['height']} pixels); {args.repeats} fresh processes; {machine()}"
    )
    table = Table(
        header,
        ["measure", "median s", "min s", "max s"],
        [
            ["model + animation (the user's timer)", *_spread(seconds)],
            ["whole process (start, imports, exit)", *_spread(walls)],
        ],
    )
    headline = Headline(
        f"animate_optimization, wells, {first['frames']} frames GIF",
        f"{median:.2f} s",
        "-",
        "-",
        f"< {GOAL_S:g} s",
        median < GOAL_S,
        f"{first['width']} pixels wide",
    )
    return table, [headline]


def _spread(values: list) -> list[str]:
    """Median, smallest and largest, in seconds."""
    return [f"{f(values):.2f}" for f in (statistics.median, min, max)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=40, help="max_frames of the animation")


if __name__ == "__main__":
    script_main(__doc__, add_arguments, measure)
