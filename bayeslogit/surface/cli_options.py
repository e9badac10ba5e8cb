"""The options of the ``bayeslogit`` command: its parser, help text and examples.

Every remedy the command's messages suggest (:data:`bayeslogit.surface.advice.CLI`) is one of these options; an
option's value that does not fit its type is argparse's one-line error, exit status 2.
"""

import argparse
from importlib.metadata import version
from pathlib import Path

from bayeslogit.rows.formulas import MISSING
from bayeslogit.surface.cli_input import (
    BUNDLED,
    MAX_CLASSES,
    PROG,
    add_former_names,
    csv_separator,
    held_out_fraction,
    method_names,
    positive_number,
    positive_whole_number,
    probability,
    text_encoding,
    whole_number,
)
from bayeslogit.surface.methods import METHODS
from bayeslogit.surface.priors import PRIOR_FAMILIES

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

The prior is autoscaled, as rstanarm's default priors are: each slope's prior scale (--prior-scale) is divided
by its predictor's standard deviation, so that the prior says the same whatever the predictors' units.
--no-autoscale takes the scales as given.

Exit status: 0 done, 1 input that cannot be used, 2 a malformed command line, {BUG_STATUS} a bug in bayeslogit.
"""

NEWTON_MAX_ITER = 100
"""``--max-iter``'s default: that of :meth:`~bayeslogit.LogisticModel.fit_ml` and ``fit_map``."""

FORMER_OPTIONS = {
    "--prior-sigma": "--prior-scale",
    "--intercept-sigma": "--intercept-scale",
    "--drop-missing": "--missing drop",
}
"""Former option name -> its spelling now: still accepted, with a deprecation note on stderr, and hidden from
--help."""


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
    _add_data_options(command)
    _add_prior_options(command)
    _add_fit_options(command)
    _add_output_options(command)
    add_former_names(command, FORMER_OPTIONS)
    return parser


def _add_data_options(command: argparse.ArgumentParser) -> None:
    """DATA, the formula and how the file is read."""
    command.add_argument("data", metavar="DATA", help=f"a CSV file, or a bundled data set ({', '.join(BUNDLED)})")
    command.add_argument(
        "--formula",
        required=True,
        help='the model, outcome ~ predictors, e.g. "switched ~ dist100 + arsenic"; counts of successes and failures '
        'as "cbind(successes, failures) ~ predictors"',
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
        "--missing",
        choices=tuple(MISSING),
        default="raise",
        help="rows with a missing value in a column the formula reads: raise (stop, counting them) or drop "
        "(leave them out, with a warning) (default raise)",
    )


GROUP_PRIOR_OPTIONS = (
    ("--group-sd-shape", 2.0, "the shape of the Gamma prior of MAP and MCMC on each group sd"),
    ("--group-sd-rate", 1.0, "the rate of the Gamma prior on each group sd"),
    ("--group-corr-eta", 2.0, "the eta of the LKJ prior on a term's correlations"),
)
"""The options of a multilevel model's group prior: option, default (GroupPrior's), what it sets."""


def _add_prior_options(command: argparse.ArgumentParser) -> None:
    """The prior of MAP, Laplace and MCMC."""
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
        help="prior scale of the slopes (normal: the sd), before autoscaling (default 2.5)",
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
        default=True,
        help="divide each slope's prior scale by its predictor's sd, as rstanarm does, so that the prior does not "
        "depend on the predictors' units (default: on; --no-autoscale takes the scales as given)",
    )
    for option, default, what in GROUP_PRIOR_OPTIONS:
        command.add_argument(
            option,
            type=positive_number,
            default=None,
            metavar=option.rpartition("-")[2].upper(),
            help=f"formulas with group terms: {what} (default {default:g})",
        )
    command.add_argument(
        "--reference",
        default=None,
        metavar="LABEL",
        help="the class whose coefficients are fixed at zero: the base of the others' log-odds "
        "(binary: the non-event class). Default: the first class in sorted order",
    )


def _add_fit_options(command: argparse.ArgumentParser) -> None:
    """Which fits, and how they run."""
    command.add_argument(
        "--methods",
        type=method_names,
        default=tuple(METHODS),
        metavar="LIST",
        help=f"comma-separated fits to make, from {','.join(METHODS)} (default: all)",
    )
    command.add_argument(
        "--max-iter",
        type=positive_whole_number,
        default=NEWTON_MAX_ITER,
        metavar="N",
        help="most Newton iterations of the ML and MAP fits, and of the MAP that Laplace and MCMC start from "
        f"(default {NEWTON_MAX_ITER})",
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
        "--target-accept",
        type=probability,
        default=None,
        metavar="P",
        help="the acceptance rate that MCMC tunes its step size to; a higher one (0.95, 0.99) takes smaller steps, "
        "which can remove divergent transitions (default: the sampler's, 0.8)",
    )
    command.add_argument(
        "--seed",
        type=whole_number,
        default=0,
        metavar="S",
        help="seeds the split, the Laplace draws and the sampler (default 0)",
    )


def _add_output_options(command: argparse.ArgumentParser) -> None:
    """The held-out rows and the report."""
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
    command.add_argument(
        "--features",
        nargs=2,
        default=None,
        metavar=("A", "B"),
        help="the two predictors (columns the formula reads) on the axes of the report's decision-boundary plot "
        "(default: the report's choice)",
    )
