"""The ``bayeslogit`` command: fit a data set every way from the shell and compare the fits.

``bayeslogit compare DATA --formula "y ~ a + b"`` reads a CSV file (or a bundled data set), fits the model by
ML, MAP, Laplace and MCMC on a training split, prints :func:`bayeslogit.surface.compare` of the held-out rows and, with
``--out DIR``, writes the self-contained HTML report of :mod:`bayeslogit.surface.report` to ``DIR/report.html``.

What goes where: the comparison table on stdout; progress (one line per fit as it starts and ends), warnings
and the report's path on stderr, each line starting ``bayeslogit:``. A mistake in the input (a file that is no CSV,
a formula that does not parse, missing values, a bad option) is one line ``bayeslogit: error: ...`` saying what
and how, exit status 1 (2 for a malformed command line), and no report. Any other exception is a bug: its
traceback, a line saying so, and exit status :data:`BUG_STATUS`. Run it as ``bayeslogit`` or ``python -m bayeslogit``.
"""

import argparse
import contextlib
import dataclasses
import logging
import os
import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from bayeslogit.exceptions import BayeslogitError, DataError
from bayeslogit.held_warnings import held_warnings
from bayeslogit.surface import report
from bayeslogit.surface.advice import in_words
from bayeslogit.surface.cli_input import (
    BUNDLED,
    MAX_CLASSES,
    PROG,
    CommandError,
    add_former_names,
    check_outcome,
    class_label,
    complete_rows,
    csv_separator,
    held_out_fraction,
    method_names,
    one_line,
    positive_number,
    positive_whole_number,
    read_data,
    say,
    split_rows,
    text_encoding,
    whole_number,
)
from bayeslogit.surface.compare import Comparison, compare
from bayeslogit.surface.methods import METHODS, draw_settings
from bayeslogit.surface.model import LogisticModel
from bayeslogit.surface.priors import PRIOR_FAMILIES, make_prior

BUG_STATUS = 70
"""Exit status after an unexpected exception: ``EX_SOFTWARE`` (internal software error) of BSD's sysexits.h."""

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
    bayeslogit compare data.csv --formula "y ~ x1 + np.log(x2)" --prior-scale 1 \\
        --methods ml,map,laplace --test-size 0

  A quick look with a short MCMC run:
    bayeslogit compare challenger --formula "damaged ~ temp" --draws 200 --chains 2

  Three classes, the coefficients as log-odds against virginica:
    bayeslogit compare iris --formula "species ~ sepal_length" --reference virginica

DATA is a CSV file with a header row (separated by commas, semicolons or tabs: see --sep), or a bundled data
set: {", ".join(BUNDLED)}. The outcome (left of ~) must be binary or categorical (at most {MAX_CLASSES} classes);
the right-hand side is a formulaic formula (C(col) for categories, np.log(col), a:b interactions), with a name
that holds spaces or symbols in backticks: "diagnosis ~ `mean radius` + `mean texture`".

Exit status: 0 done, 1 input that cannot be used, 2 a malformed command line, {BUG_STATUS} a bug in bayeslogit.
"""


FORMER_OPTIONS = {"--prior-sigma": "--prior-scale", "--intercept-sigma": "--intercept-scale"}
"""Former option name -> its name now: still accepted, with a deprecation note on stderr, and hidden from --help."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr: ``bayeslogit: error: ...``."""

    def error(self, message: str):
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``bayeslogit`` parser, with its ``compare`` subcommand."""
    parser = _Parser(
        prog=PROG, description=DESCRIPTION, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version(PROG)}")
    commands = parser.add_subparsers(
        title="commands", dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    command = commands.add_parser(
        "compare",
        help="fit ML, MAP, Laplace and MCMC on a training split, print the comparison, write a report",
        description="Fit the formula's logistic model every way on a training split of DATA, print the comparison\n"
        "table (held-out metrics; in-sample ones with --test-size 0) and, with --out, write an HTML "
        "report.",
        epilog=COMPARE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("data", metavar="DATA", help=f"a CSV file, or a bundled data set ({', '.join(BUNDLED)})")
    command.add_argument(
        "--formula", required=True, help='the model, outcome ~ predictors, e.g. "switched ~ dist100 + arsenic"'
    )
    command.add_argument(
        "--sep",
        type=csv_separator,
        default=None,
        metavar="CHAR",
        help="the CSV file's separator (default: whichever of , ; and tab splits its header most)",
    )
    command.add_argument(
        "--encoding",
        type=text_encoding,
        default="utf-8",
        help="the CSV file's text encoding, e.g. latin-1 or cp1252 (default utf-8)",
    )
    command.add_argument(
        "--drop-missing",
        action="store_true",
        help="leave out rows with missing values in the columns the formula reads (default: refuse)",
    )
    command.add_argument(
        "--prior",
        choices=tuple(PRIOR_FAMILIES),
        default="normal",
        help="the prior of MAP, Laplace and MCMC on each coefficient: normal, student-t (heavier "
        "tails) or cauchy (default normal)",
    )
    command.add_argument(
        "--prior-scale",
        type=positive_number,
        default=2.5,
        metavar="SCALE",
        help="prior scale of the slopes (normal: the sd) (default 2.5)",
    )
    command.add_argument(
        "--intercept-scale",
        type=positive_number,
        default=None,
        metavar="SCALE",
        help="prior scale of the intercept (default: a flat prior on it)",
    )
    command.add_argument(
        "--prior-nu",
        type=positive_number,
        default=7.0,
        metavar="NU",
        help="student-t only: the degrees of freedom (default 7)",
    )
    command.add_argument(
        "--autoscale",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="divide each slope's prior scale by its predictor's sd (default: on for student-t and "
        "cauchy, off for normal)",
    )
    command.add_argument(
        "--reference",
        default=None,
        metavar="LABEL",
        help="the class whose coefficients are fixed at zero: the base of the others' log-odds "
        "(binary: the non-event class). Default: the first class in sorted order",
    )
    command.add_argument(
        "--methods",
        type=method_names,
        default=tuple(METHODS),
        metavar="LIST",
        help=f"comma-separated fits to make, from {','.join(METHODS)} (default: all)",
    )
    command.add_argument(
        "--draws",
        type=positive_whole_number,
        default=1000,
        metavar="N",
        help="MCMC draws kept per chain; Laplace takes N x CHAINS draws (default 1000)",
    )
    command.add_argument("--chains", type=positive_whole_number, default=4, metavar="C", help="MCMC chains (default 4)")
    command.add_argument(
        "--tune", type=whole_number, default=200, metavar="N", help="MCMC tuning steps per chain (default 200)"
    )
    command.add_argument(
        "--seed",
        type=whole_number,
        default=0,
        metavar="S",
        help="seeds the split, the Laplace draws and the sampler (default 0)",
    )
    command.add_argument(
        "--test-size",
        type=held_out_fraction,
        default=0.25,
        metavar="FRACTION",
        help="share of each class's rows held out for the comparison; 0 compares in-sample (default 0.25)",
    )
    command.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="write DIR/report.html (DIR is created if missing; a report there is replaced)",
    )
    add_former_names(command, FORMER_OPTIONS)
    command.set_defaults(run=run_compare)
    return parser


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
    with held_warnings() as caught:
        yield
    for warning in caught:
        found.append(
            report.FitWarning(where, type(warning.message).__name__, one_line(in_words(warning.message, "cli")))
        )
        say(f"warning ({where}): {found[-1].message}")


def fit_every_way(model: LogisticModel, prior, args: argparse.Namespace, found: list) -> dict:
    """``model.fit_all`` one method at a time, in the order of ``METHODS``, saying on stderr when each starts and
    ends; the warnings each raises go to ``found``. The posterior fits start from the MAP fit when it was made. A
    failed fit says its reason in the command's words, in the table and the report as on stderr."""
    settings = dict(random_seed=args.seed, draws=args.draws, chains=args.chains, tune=args.tune)
    fits = {}
    for method in (method for method in METHODS if method in args.methods):
        say(f"{method}: fitting ...")
        started, base = time.perf_counter(), fits.get(METHODS[method].built_on)  # the MAP fit, once made
        with recorded_warnings(method, found), quiet_sampler_logs():
            made = model.fit_all(prior, methods=(method,), map_fit=base, progressbar=sys.stderr.isatty(), **settings)
        elapsed, fit = time.perf_counter() - started, made[method]
        fits[method] = dataclasses.replace(fit, door="cli") if fit.failed else fit
        say(
            f"{method}: failed after {elapsed:.2f} s: {one_line(fits[method].reason)}"
            if fit.failed
            else f"{method}: done in {elapsed:.2f} s"
        )
    return {method: fits[method] for method in args.methods}


def prior_of(args: argparse.Namespace):
    """The prior of ``--prior``, ``--prior-scale``, ``--intercept-scale``, ``--prior-nu`` and ``--autoscale``."""
    return make_prior(args.prior, args.prior_scale, args.intercept_scale, args.prior_nu, args.autoscale)


def run_compare(args: argparse.Namespace) -> int:
    """``bayeslogit compare``: check the input, fit, print the comparison, write the report."""
    files = [path for path in (args.out, *args.out.parents) if path.is_file()] if args.out is not None else []
    if files:  # where the report's directory would be
        raise CommandError(
            f"--out '{args.out}': '{files[0]}' is not a directory; give a directory for report.html "
            "(a missing one is created)"
        )
    prior, found = prior_of(args), []
    with recorded_warnings("data", found):
        frame = read_data(args.data, args.sep, args.encoding)
        frame, response = complete_rows(frame, args.formula, args.drop_missing)
    check_outcome(frame, response)
    train, test = split_rows(frame, response, args.test_size, args.seed)
    reference = None if args.reference is None else class_label(args.reference, train[response].unique())
    with recorded_warnings("data", found):
        model = LogisticModel.from_formula(args.formula, train, reference=reference)
    try:  # before the fits: a category level that no training row has cannot be scored
        if test is not None:
            model.design_matrix(test)
    except DataError as error:
        raise CommandError(
            f"the model of the training rows cannot score the held-out rows: "
            f"{one_line(error).rstrip('.')}; or hold out other rows (--seed) or none (--test-size 0)"
        ) from None
    say(
        f"{model.likelihood} model of {response} with coefficients {', '.join(model.coef_names)}; "
        f"{len(train)} training rows, held out: {'none' if test is None else len(test)}"
    )
    fits = fit_every_way(model, prior, args, found)
    if all(fit.failed for fit in fits.values()):
        raise CommandError(
            "every fit failed, for the reasons above, and left nothing to compare; choose other methods "
            "(--methods: a prior keeps MAP, Laplace and MCMC finite where ML diverges) or predictors"
        )
    with recorded_warnings("comparison", found):
        table = compare(fits) if test is None else compare(fits, test, test[response])
    print(table)
    if args.out is not None:
        make_report(args, frame, train, test, fits, table, found)
    return 0


def make_report(args: argparse.Namespace, frame, train, test, fits: dict, table: Comparison, found: list) -> None:
    """Draw and write ``args.out / report.html``."""
    import matplotlib

    matplotlib.use("Agg")  # the command draws files only, also where no display exists
    say("drawing the report ...")
    settings = {
        "prior": repr(prior_of(args)),
        "methods": ", ".join(args.methods),
        "held out": f"{args.test_size:.0%} of each class" if test is not None else "nothing (in-sample)",
        "seed": str(args.seed),
        **({} if args.reference is None else {"reference class": args.reference}),
        **draw_settings(fits, args.draws, args.chains, args.tune),
    }
    inputs = report.ReportInputs(args.data, args.formula, settings, frame, train, test, fits, table, tuple(found))
    page = report.render_report(inputs)
    try:
        path = report.write_report(args.out, page)
    except OSError as error:  # its message names the directory and the fix
        raise CommandError(one_line(error)) from None
    say(f"report written to {path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``, e.g. ``["compare", "wells", "--formula", "y ~ x"]``);
    return 0, or raise SystemExit: 2 for a malformed command line, 1 for input that cannot be used (both after one
    line ``bayeslogit: error: ...``), :data:`BUG_STATUS` after the traceback of any other exception and a line that
    says it is a bug, 130 when interrupted, 0 after ``--help`` and ``--version``. Warnings are lines on stderr."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = lambda text, kind, *_: say(
                f"warning: {kind.__name__}: {one_line(in_words(text, 'cli'))}"
            )
            return args.run(args)
    except KeyboardInterrupt:
        say("interrupted")
        raise SystemExit(130) from None
    except BrokenPipeError:  # the reader of stdout stopped early (``bayeslogit compare ... | head``): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that Python's final flush stays quiet
        raise SystemExit(1) from None
    except (CommandError, BayeslogitError) as error:
        print(f"{PROG}: error: {one_line(in_words(error, 'cli'))}", file=sys.stderr)
        raise SystemExit(1) from None
    except Exception:
        traceback.print_exc()
        print(
            f"{PROG}: this is a bug in bayeslogit, not in your input; please report it with the command line and "
            "the traceback above",
            file=sys.stderr,
        )
        raise SystemExit(BUG_STATUS) from None
