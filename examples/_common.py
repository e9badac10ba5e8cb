"""What the example scripts share: their command-line options, and where their figures go.

Not an example itself: the scripts import it from their own folder (``python examples/<script>.py`` puts that
folder first on ``sys.path``).
"""

import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt


def example_parser(doc: str, *, sampling: bool = True, dpi: int = 120) -> argparse.ArgumentParser:
    """A parser described by the first line of the script's docstring, with ``--out`` and ``--dpi``, and for a
    script that samples (``sampling``) ``--draws``, ``--chains`` and ``--seed``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if sampling:
        parser.add_argument("--draws", type=int, default=1000, help="MCMC draws per chain")
        parser.add_argument("--chains", type=int, default=4, help="MCMC chains")
        parser.add_argument("--seed", type=int, default=0, help="seeds the Laplace draws and the sampler")
    parser.add_argument("--out", type=Path, default=None, help="folder of the figures (default: a new temporary one)")
    parser.add_argument("--dpi", type=int, default=dpi, help="resolution of the figures, dots per inch")
    return parser


def output_folder(out: Path | None, name: str) -> Path:
    """``out``, created if missing, or a new temporary folder ``bayeslogit-<name>-...``."""
    folder = out or Path(tempfile.mkdtemp(prefix=f"bayeslogit-{name}-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_figures(figures: dict, out: Path | None, name: str, dpi: int) -> Path:
    """Save each figure (file name -> matplotlib Figure) in :func:`output_folder`, close it, and say where."""
    folder = output_folder(out, name)
    for file_name, figure in figures.items():
        figure.savefig(folder / file_name, dpi=dpi, bbox_inches="tight")
        plt.close(figure)
    print(f"\nfigure{'s' * (len(figures) > 1)} in {folder}: {', '.join(figures)}")
    return folder
