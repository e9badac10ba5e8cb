"""The ``bayeslogit`` command: fit a data set every way from the shell and compare the fits.

``bayeslogit compare DATA --formula "y ~ a + b"`` reads a CSV file (or a bundled data set), fits the model by
ML, MAP, Laplace and MCMC on a training split, prints :func:`bayeslogit.compare` of the held-out rows and, with
``--out DIR``, writes the self-contained HTML report of :mod:`bayeslogit.report` to ``DIR/report.html``.

What goes where: the comparison table on stdout; progress (one line per fit as it starts and ends), the
fits' warnings and the report's path on stderr, each line starting ``bayeslogit:``. A problem the user can fix
(a missing file, an unknown column, a bad option) is one line ``bayeslogit: error: ...`` on stderr and exit
status 1 (2 for a malformed command line), never a traceback.

Run it as ``bayeslogit`` (the installed console script) or ``python -m bayeslogit.cli``.
"""

import argparse
import contextlib
import logging
import math
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import datasets
from .compare import Comparison, compare
from .data import split_formula
from .exceptions import BayeslogitError
from .fits.point import FailedFit
from .model import METHODS, LogisticModel
from .numerics.priors import PRIOR_FAMILIES, make_prior

PROG = "bayeslogit"
BUNDLED = {name.removeprefix("load_"): getattr(datasets, name) for name in datasets.__all__}
"""Bundled data set name -> its loader."""
MAX_CLASSES = 10
"""Distinct outcome values beyond which the outcome is taken for a measurement, not a class label."""
DRAW_SETTINGS = {
    "laplace": ("Laplace", lambda args: f"{args.chains * args.draws} draws"),
    "mcmc": ("MCMC", lambda args: f"{args.chains} chains x {args.draws} draws after {args.tune} tuning steps"),
}
"""The posterior fits' settings, as the report lists them: method -> (label, text of the parsed arguments)."""

DESCRIPTION = "Logistic classification by maximum likelihood, MAP, Laplace and MCMC, side by side."
EXAMPLES = """\
examples:
  bayeslogit compare wells --formula "switched ~ dist100 + arsenic"
  bayeslogit compare my_data.csv --formula "outcome ~ age + C(group)" --out report/
  bayeslogit compare --help        (every option of the command)
"""
COMPARE_EXAMPLES = f"""\
examples:
  Wells, every way, 25% of the rows held out, report in ./wells-report/report.html:
    bayeslogit compare wells --formula "switched ~ dist100 + arsenic" --out wells-report

  A CSV file, a tighter prior, point fits and Laplace only, no held-out rows:
    bayeslogit compare data.csv --formula "y ~ x1 + np.log(x2)" --prior-sigma 1 \\
        --methods ml,map,laplace --test-size 0

  A quick look with a short MCMC run:
    bayeslogit compare challenger --formula "damaged ~ temp" --draws 200 --chains 2

  Three classes, the coefficients as log-odds against virginica:
    bayeslogit compare iris --formula "species ~ sepal_length" --reference virginica

DATA is a CSV file with a header row, or a bundled data set: {", ".join(BUNDLED)}.
The outcome (left of ~) must be binary or categorical (at most {MAX_CLASSES} classes); the right-hand side is a
formulaic formula (C(col) for categories, np.log(col), a:b interactions, `odd name` in backticks).
"""


class CommandError(Exception):
    """A problem with the command's input that the user can fix; its message says what and how."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr: ``bayeslogit: error: ...``."""

    def error(self, message: str):
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


# ---- option values ------------------------------------------------------------------------------------------
def _as_float(text: str) -> float:
    """``text`` as a float; NaN (which every range check refuses) when it is not a number."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def _positive(text: str) -> float:
    value = _as_float(text)
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text!r}")
    return value


def _fraction(text: str) -> float:
    value = _as_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1), e.g. 0.25 (0: no held-out rows); got {text!r}")
    return value


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}; got {text!r}")
        return value

    return parse


def _methods(text: str) -> tuple[str, ...]:
    methods = tuple(part.strip() for part in text.split(","))
    unknown = [method for method in methods if method not in METHODS]
    if unknown or len(set(methods)) < len(methods):
        raise argparse.ArgumentTypeError(f"must be distinct names from {', '.join(METHODS)}, comma-separated "
                                         f"(e.g. ml,map); got {text!r}")
    return methods


def build_parser() -> argparse.ArgumentParser:
    """The ``bayeslogit`` parser, with its ``compare`` subcommand."""
    parser = _Parser(prog=PROG, description=DESCRIPTION, epilog=EXAMPLES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND",
                                     parser_class=_Parser)
    command = commands.add_parser(
        "compare", help="fit ML, MAP, Laplace and MCMC on a training split, print the comparison, write a report",
        description="Fit the formula's logistic model every way on a training split of DATA, print the comparison\n"
                    "table (held-out metrics; in-sample ones with --test-size 0) and, with --out, write an HTML report.",
        epilog=COMPARE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    command.add_argument("data", metavar="DATA", help=f"a CSV file, or a bundled data set ({', '.join(BUNDLED)})")
    command.add_argument("--formula", required=True,
                         help='the model, outcome ~ predictors, e.g. "switched ~ dist100 + arsenic"')
    command.add_argument("--prior", choices=tuple(PRIOR_FAMILIES), default="normal",
                         help="the prior of MAP, Laplace and MCMC on each coefficient: normal, student-t (heavier "
                              "tails) or cauchy (default normal)")
    command.add_argument("--prior-sigma", type=_positive, default=2.5, metavar="SIGMA",
                         help="prior scale of the slopes (normal: the sd) (default 2.5)")
    command.add_argument("--intercept-sigma", type=_positive, default=None, metavar="SIGMA",
                         help="prior scale of the intercept (default: a flat prior on it)")
    command.add_argument("--prior-nu", type=_positive, default=7.0, metavar="NU",
                         help="student-t only: the degrees of freedom (default 7)")
    command.add_argument("--autoscale", action=argparse.BooleanOptionalAction, default=None,
                         help="divide each slope's prior scale by its predictor's sd (default: on for student-t and "
                              "cauchy, off for normal)")
    command.add_argument("--reference", default=None, metavar="LABEL",
                         help="the class whose coefficients are fixed at zero: the base of the others' log-odds "
                              "(binary: the non-event class). Default: the first class in sorted order")
    command.add_argument("--methods", type=_methods, default=tuple(METHODS), metavar="LIST",
                         help=f"comma-separated fits to make, from {','.join(METHODS)} (default: all)")
    command.add_argument("--draws", type=_count(1), default=1000, metavar="N",
                         help="MCMC draws kept per chain; Laplace takes N x CHAINS draws (default 1000)")
    command.add_argument("--chains", type=_count(1), default=4, metavar="C", help="MCMC chains (default 4)")
    command.add_argument("--tune", type=_count(0), default=200, metavar="N",
                         help="MCMC tuning steps per chain (default 200)")
    command.add_argument("--seed", type=_count(0), default=0, metavar="S",
                         help="seeds the split, the Laplace draws and the sampler (default 0)")
    command.add_argument("--test-size", type=_fraction, default=0.25, metavar="FRACTION",
                         help="share of each class's rows held out for the comparison; 0 compares in-sample "
                              "(default 0.25)")
    command.add_argument("--out", type=Path, default=None, metavar="DIR",
                         help="write DIR/report.html (DIR is created if missing; a report there is replaced)")
    command.set_defaults(run=run_compare)
    return parser


# ---- data ---------------------------------------------------------------------------------------------------
def read_data(source: str) -> pd.DataFrame:
    """The rows of ``source``: a CSV file, else the bundled data set of that name."""
    path = Path(source)
    if path.is_dir():
        raise CommandError(f"'{source}' is a directory; DATA must be a CSV file or a bundled data set "
                           f"({', '.join(BUNDLED)})")
    if not path.exists():
        if source in BUNDLED:
            return BUNDLED[source]()
        raise CommandError(f"no such file: '{source}' (and no bundled data set has that name: "
                           f"{', '.join(BUNDLED)})")
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as error:  # pandas' ParserError, EmptyDataError and UnicodeDecodeError are ValueErrors
        raise CommandError(f"cannot read '{source}' as a CSV file ({_one_line(error)}); give a text file with a "
                           "header row and comma-separated values") from None
    if frame.empty:
        raise CommandError(f"'{source}' has a header but no rows of data")
    return frame


def check_outcome(frame: pd.DataFrame, response: str) -> None:
    """Raise :class:`CommandError` unless the column ``response`` looks binary or categorical."""
    values = frame[response].dropna()
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and (values != values.round()).any():
        example = values[values != values.round()].iloc[0]
        raise CommandError(f"the outcome '{response}' must be binary or categorical; it holds measurements such as "
                           f"{example}. Add a column of class labels (e.g. 0/1) to the data and model that")
    n_values = values.nunique()
    if n_values > MAX_CLASSES:
        raise CommandError(f"the outcome '{response}' must be binary or categorical; it has {n_values} distinct "
                           f"values (at most {MAX_CLASSES} classes are taken). Add a column of class labels "
                           "(e.g. 0/1) to the data and model that")


def class_label(text: str, labels) -> object:
    """The class label among ``labels`` (the outcome's values) that ``text`` names: the one written as ``text``,
    else a number equal to it (``1`` names ``1.0``); ``text`` itself when none does, which the model refuses with
    the list of its classes."""
    for label in labels:
        if str(label) == text:
            return label
    number = _as_float(text)
    for label in labels:
        if pd.api.types.is_number(label) and label == number:
            return label
    return text


def split_rows(frame: pd.DataFrame, response: str, test_size: float, seed: int):
    """Training and held-out rows: ``round(test_size * n_k)`` random rows of each class ``k`` held out (at least
    one row of each class stays for training). ``test_size=0`` gives ``(frame, None)``."""
    if test_size == 0:
        return frame, None
    rng = np.random.default_rng(seed)
    held_out = np.zeros(len(frame), dtype=bool)
    for rows in frame.groupby(response, observed=True, sort=True).indices.values():
        held_out[rng.choice(rows, min(round(test_size * len(rows)), len(rows) - 1), replace=False)] = True
    if not held_out.any():
        raise CommandError(f"--test-size {test_size} holds out no rows of these {len(frame)}; give a larger "
                           "fraction, or 0 to compare in-sample")
    return frame[~held_out], frame[held_out]


# ---- fitting ------------------------------------------------------------------------------------------------
def say(message: str) -> None:
    """One progress line on stderr."""
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def quiet_sampler_logs():
    """Silence informational log lines, such as PyMC's start-up lines, which name the sampler's internal
    variables. (Setting PyMC's logger level would not do: importing PyMC, on its first fit, sets it.)"""
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(previous)


@contextlib.contextmanager
def recorded_warnings(where: str, found: list):
    """Record the warnings raised inside as ``report.FitWarning`` in ``found`` (and say them on stderr)."""
    from .report import FitWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        found.append(FitWarning(where, type(warning.message).__name__, _one_line(warning.message)))
        say(f"warning ({where}): {found[-1].message}")


def fit_every_way(model: LogisticModel, prior, args: argparse.Namespace, found: list) -> dict:
    """``model.fit_all`` one method at a time, in the order of ``METHODS``, saying on stderr when each starts and
    ends; the warnings each raises go to ``found``. The posterior fits start from the MAP fit when it was made."""
    settings = {"random_seed": args.seed, "draws": args.draws, "chains": args.chains, "tune": args.tune,
                "progressbar": sys.stderr.isatty()}
    fits = {}
    for method in (method for method in METHODS if method in args.methods):
        say(f"{method}: fitting ...")
        started = time.perf_counter()
        with recorded_warnings(method, found), quiet_sampler_logs():
            fits[method] = model.fit_all(prior, methods=(method,), map_fit=fits.get("map"), **settings)[method]
        elapsed = time.perf_counter() - started
        if isinstance(fits[method], FailedFit):
            say(f"{method}: failed after {elapsed:.2f} s: {_one_line(fits[method].reason)}")
        else:
            say(f"{method}: done in {elapsed:.2f} s")
    return {method: fits[method] for method in args.methods}


def prior_of(args: argparse.Namespace):
    """The prior of ``--prior``, ``--prior-sigma``, ``--intercept-sigma``, ``--prior-nu`` and ``--autoscale``."""
    return make_prior(args.prior, args.prior_sigma, args.intercept_sigma, args.prior_nu, args.autoscale)


def run_compare(args: argparse.Namespace) -> int:
    """``bayeslogit compare``: fit, print the comparison, write the report."""
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise CommandError(f"--out '{args.out}' is not a directory; give a directory for report.html (a missing one "
                           "is created)")
    frame = read_data(args.data)
    response, _ = split_formula(args.formula, frame)
    check_outcome(frame, response)
    prior = prior_of(args)
    train, test = split_rows(frame, response, args.test_size, args.seed)
    reference = None if args.reference is None else class_label(args.reference, train[response].dropna().unique())
    model = LogisticModel.from_formula(args.formula, train, reference=reference)
    held_out = "none" if test is None else len(test)
    say(f"{model.likelihood} model of {response} with coefficients {', '.join(model.coef_names)}; "
        f"{len(train)} training rows, held out: {held_out}")
    found = []
    fits = fit_every_way(model, prior, args, found)
    with recorded_warnings("comparison", found):
        table = compare(fits) if test is None else compare(fits, test, test[response])
    print(table)
    if args.out is not None:
        make_report(args, frame, train, test, fits, table, found)
    return 0


def make_report(args: argparse.Namespace, frame, train, test, fits: dict, table: Comparison, found: list) -> None:
    """Draw and write ``args.out / report.html``."""
    import matplotlib

    from . import report

    matplotlib.use("Agg")  # the command draws files only, also where no display exists
    say("drawing the report ...")
    settings = {"prior": repr(prior_of(args)), "methods": ", ".join(args.methods),
                "held out": f"{args.test_size:.0%} of each class" if test is not None else "nothing (in-sample)",
                "seed": str(args.seed)}
    if args.reference is not None:
        settings["reference class"] = args.reference
    for method in args.methods:
        if method in DRAW_SETTINGS:
            label, describe = DRAW_SETTINGS[method]
            settings[label] = describe(args)
    inputs = report.ReportInputs(args.data, args.formula, settings, frame, train, test, fits, table, tuple(found))
    path = report.write_report(args.out, report.render_report(inputs))
    say(f"report written to {path}")


# ---- entry point --------------------------------------------------------------------------------------------
def _one_line(error) -> str:
    return " ".join(str(error).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return 0, or raise SystemExit on an error.

    Parameters
    ----------
    argv : sequence of str, optional
        E.g. ``["compare", "wells", "--formula", "switched ~ dist100 + arsenic"]``.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    SystemExit
        With status 2 for a malformed command line, 1 for input that cannot be used (both after one line
        ``bayeslogit: error: ...`` on stderr), 130 when interrupted, 0 after ``--help``.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        say("interrupted")
        raise SystemExit(130) from None
    except (CommandError, BayeslogitError, ValueError, TypeError, OSError, ImportError) as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    sys.exit(main())
