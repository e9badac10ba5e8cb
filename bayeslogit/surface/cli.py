"""The ``bayeslogit`` command: fit a data set every way from the shell and compare the fits.

``bayeslogit compare DATA --formula "y ~ a + b"`` reads a CSV file (or a bundled data set), fits the model by
ML, MAP, Laplace and MCMC on a training split, prints :func:`bayeslogit.surface.compare` of the held-out rows and, with
``--out DIR``, writes the self-contained HTML report of :mod:`bayeslogit.surface.report` to ``DIR/report.html``.
Its options are :mod:`bayeslogit.surface.cli_options`'s.

What goes where: the comparison table on stdout; progress (a line as each step that can take a second starts and
ends: each fit, the comparison, each figure of the report), warnings and the report's path on stderr, each line
starting ``bayeslogit:``. A mistake in the input (a file that is no CSV, a formula that does not parse, missing
values, a bad option) is one line ``bayeslogit: error: ...`` saying what and how, exit status 1 (2 for a malformed
command line), and no report. Any other exception is a bug: its traceback, a line saying so, and exit status
:data:`~bayeslogit.surface.cli_options.BUG_STATUS`. Run it as ``bayeslogit`` or ``python -m bayeslogit``.

Only what a run needs is imported, when it needs it: the sampler (nutpie) for MCMC, matplotlib for ``--out``.
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

import pandas as pd

from bayeslogit.exceptions import BayeslogitError, DataError
from bayeslogit.held_warnings import held_warnings
from bayeslogit.rows import counts
from bayeslogit.rows.formulas import data_names
from bayeslogit.rows.group_terms import split_group_formula
from bayeslogit.surface import report
from bayeslogit.surface.advice import in_words
from bayeslogit.surface.cli_input import (
    PROG,
    CommandError,
    check_outcome,
    class_label,
    complete_rows,
    one_line,
    read_data,
    say,
    source_name,
    split_rows,
)
from bayeslogit.surface.cli_options import BUG_STATUS, GROUP_PRIOR_OPTIONS, NEWTON_MAX_ITER, build_parser
from bayeslogit.surface.compare import Comparison, compare
from bayeslogit.surface.methods import METHODS, draw_settings
from bayeslogit.surface.model import LogisticModel
from bayeslogit.surface.priors import make_prior


@dataclasses.dataclass(frozen=True)
class Rows:
    """The rows of one run: ``read`` (every row of DATA), ``kept`` (those with the values the formula reads), split
    into ``train`` and ``test`` (None: nothing held out)."""

    read: pd.DataFrame
    kept: pd.DataFrame
    train: pd.DataFrame
    test: pd.DataFrame | None

    def describe(self, source: str) -> str:
        """``"32 rows of spector.csv: 5 left out (missing values), 21 for training, 6 held out"``."""
        dropped = len(self.read) - len(self.kept)
        return (
            f"{len(self.read)} rows of {source_name(source)}: "
            + (f"{dropped} left out (missing values), " if dropped else "")
            + f"{len(self.train)} for training, {'none' if self.test is None else len(self.test)} held out"
        )


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


def fit_options(args: argparse.Namespace) -> dict:
    """``model.fit_all``'s options: ``--draws``, ``--chains``, ``--tune``, ``--seed``, ``--max-iter`` and
    ``--target-accept``."""
    sampler = {} if args.target_accept is None else {"target_accept": args.target_accept}
    return dict(
        random_seed=args.seed,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        max_iter=args.max_iter,
        progressbar=sys.stderr.isatty(),
        **sampler,
    )


def fit_every_way(model: LogisticModel, prior, args: argparse.Namespace, found: list) -> dict:
    """The fits of ``--methods``, one at a time in the order of ``METHODS``, as ``model.fit_all`` makes them, saying
    on stderr when each starts and ends; the warnings each raises go to ``found``. The posterior fits start from the
    MAP fit when it was made. A failed fit says its reason in the command's words, in the table and the report as on
    stderr."""
    options, fits = fit_options(args), {}
    for method in (method for method in METHODS if method in args.methods):
        say(f"{method}: fitting ...")
        started, base = time.perf_counter(), fits.get(METHODS[method].built_on)  # the MAP fit, once made
        with recorded_warnings(method, found), quiet_sampler_logs():
            fit = model.fit_all(prior, methods=(method,), map_fit=base, **options)[method]
        elapsed = time.perf_counter() - started
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


def describe_prior(args: argparse.Namespace, model: LogisticModel) -> str:
    """The prior of :func:`prior_of` in the command's words; autoscaled, with the scale it gives each slope of the
    model (``inf`` where a predictor is constant, which the fits refuse, saying why)."""
    family = args.prior + (f" with {args.prior_nu:g} degrees of freedom" if args.prior == "student-t" else "")
    slopes = f"{family} on the slopes, scale {args.prior_scale:g}"
    if args.autoscale:
        scales = args.prior_scale / model.data.predictor_sd()  # a Series: 0 gives inf without a warning
        slopes += " divided by each predictor's sd (autoscaled): " + ", ".join(
            f"{name} {scale:.3g}" for name, scale in scales.items()
        )
    else:
        slopes += " (not autoscaled)"
    intercept = "flat" if args.intercept_scale is None else f"scale {args.intercept_scale:g}"
    return f"{slopes}; on the intercept {intercept}"


def checked_features(features: list | None, model: LogisticModel, columns) -> tuple | None:
    """``--features A B`` as a tuple, once they are two columns that the formula reads or features of its design
    (else a CommandError naming those columns); None when not given."""
    if features is None:
        return None
    read = data_names(model.data.formula_spec) - counts.response_names(model.formula, model.response)
    choices = [str(column) for column in columns if str(column) in read]
    unknown = [name for name in features if name not in {*choices, *model.feature_names}]
    if unknown or features[0] == features[1]:
        wrong = f"{unknown[0]!r} is not a column the formula reads" if unknown else f"{features[0]!r} is named twice"
        raise CommandError(
            f"--features {' '.join(features)}: {wrong}; give two of the formula's predictors: "
            f"{', '.join(map(repr, choices))}"
        )
    return tuple(features)


def read_rows(args: argparse.Namespace, found: list) -> tuple[Rows, str]:
    """The rows of DATA, checked, with the values the formula reads (``--missing``), split (``--test-size``), and
    the formula's response."""
    with recorded_warnings("data", found):
        frame = read_data(args.data, args.sep, args.encoding)
        kept, response = complete_rows(frame, args.formula, args.missing, args.data)
    check_outcome(kept, response)
    return Rows(frame, kept, *split_rows(kept, response, args.test_size, args.seed)), response


def run_compare(args: argparse.Namespace) -> int:
    """``bayeslogit compare``: check the input, fit, print the comparison, write the report."""
    files = [path for path in (args.out, *args.out.parents) if path.is_file()] if args.out is not None else []
    if files:  # where the report's directory would be
        raise CommandError(
            f"--out '{args.out}': '{files[0]}' is not a directory; give a directory for report.html "
            "(a missing one is created)"
        )
    prior, found = prior_of(args), []
    if split_group_formula(args.formula)[1]:  # group terms such as (1 | g): a multilevel model
        from bayeslogit.surface.cli_multilevel import run_multilevel  # imported when a run needs it

        return run_multilevel(args, prior)
    given = [option for option, *_ in GROUP_PRIOR_OPTIONS if getattr(args, option[2:].replace("-", "_")) is not None]
    if given:
        raise CommandError(
            f"{', '.join(given)} set the prior of group terms such as (1 | g), and {args.formula!r} has none: "
            "drop them, or add the groups to the formula"
        )
    rows, response = read_rows(args, found)
    labels = counts.class_totals(args.formula, response, rows.train).index
    reference = None if args.reference is None else class_label(args.reference, labels)
    with recorded_warnings("data", found):
        model = LogisticModel.from_formula(args.formula, rows.train, reference=reference)
    features = checked_features(args.features, model, rows.kept.columns)
    try:  # before the fits: a category level that no training row has cannot be scored
        if rows.test is not None:
            model.design_matrix(rows.test)
    except DataError as error:
        raise CommandError(
            f"the model of the training rows cannot score the held-out rows: "
            f"{one_line(error).rstrip('.')}; or hold out other rows (--seed) or none (--test-size 0)"
        ) from None
    say(
        f"{model.likelihood} model of {response} with coefficients {', '.join(model.coef_names)}; "
        f"{rows.describe(args.data)}"
    )
    if any(METHODS[method].fit_class.penalised for method in args.methods):
        say(f"prior: {describe_prior(args, model)}")
    fits = fit_every_way(model, prior, args, found)
    if all(fit.failed for fit in fits.values()):
        raise CommandError(
            "every fit failed, for the reasons above, and left nothing to compare; choose other methods "
            "(--methods: a prior keeps MAP, Laplace and MCMC finite where ML diverges) or predictors"
        )
    table = compare_fits(fits, rows.test, model, found)
    print(table)
    if args.out is not None:
        make_report(args, rows, fits, table, found, describe_prior(args, model), features)
    return 0


def compare_fits(fits: dict, test, model: LogisticModel, found: list) -> Comparison:
    """:func:`compare` of ``fits`` on the held-out rows ``test`` (in-sample when None), said on stderr as it starts
    and ends."""
    posterior = any(METHODS[method].fit_class.draws_are_posterior for method, fit in fits.items() if not fit.failed)
    say(f"comparing the fits ({'in-sample' if test is None else 'held-out'} metrics{', LOO' * posterior}) ...")
    started = time.perf_counter()
    with recorded_warnings("comparison", found):
        y_test = None if test is None else counts.response_values(model.formula, model.response, test)
        table = compare(fits) if test is None else compare(fits, test, y_test)
    say(f"comparison: done in {time.perf_counter() - started:.2f} s")
    return table


def make_report(args: argparse.Namespace, rows: Rows, fits: dict, table, found: list, prior: str, features) -> None:
    """Draw and write ``args.out / report.html``, a line on stderr per figure."""
    say("drawing the report ...")
    started = time.perf_counter()
    import matplotlib

    matplotlib.use("Agg")  # the command draws files only, also where no display exists
    dropped = len(rows.read) - len(rows.kept)
    binomial = any(fit.model.data.observations.grouped for fit in fits.values() if not fit.failed)
    settings = {
        "prior": prior,
        "methods": ", ".join(args.methods),
        "held out": f"{args.test_size:.0%} of {'the rows' if binomial else 'each class'}"
        if rows.test is not None
        else "nothing (in-sample)",
        **({"missing values": f"{dropped} of {len(rows.read)} rows left out (--missing drop)"} if dropped else {}),
        "seed": str(args.seed),
        **({} if args.reference is None else {"reference class": args.reference}),
        **({} if args.max_iter == NEWTON_MAX_ITER else {"Newton iterations": f"at most {args.max_iter}"}),
        **draw_settings(fits, args.draws, args.chains, args.tune),
        **({} if args.target_accept is None else {"MCMC target acceptance": f"{args.target_accept:g}"}),
    }
    inputs = report.ReportInputs(
        args.data, args.formula, settings, rows.read, rows.train, rows.test, fits, table, tuple(found), features
    )
    page = report.render_report(inputs, progress=say)
    try:
        path = report.write_report(args.out, page)
    except OSError as error:  # its message names the directory and the fix
        raise CommandError(one_line(error)) from None
    say(f"report: done in {time.perf_counter() - started:.2f} s")
    say(f"report written to {path}")


COMMANDS = {"compare": run_compare}
"""Subcommand -> what runs it, given the parsed arguments."""


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
            return COMMANDS[args.command](args)
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


def run() -> None:
    """The ``bayeslogit`` program (``python -m bayeslogit``): :func:`main` in a process of its own, which exits with
    its status.

    The command reads its rows into memory, so dask (for rows larger than memory) is kept out of the process:
    xarray would import it wherever it is installed, as soon as ArviZ or the sampler builds a data set. A module
    of ``None`` in ``sys.modules`` is one that cannot be imported, so xarray finds no dask.
    """
    sys.modules.setdefault("dask", None)
    sys.exit(main())
