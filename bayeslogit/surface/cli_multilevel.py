"""``bayeslogit compare`` of a formula with group terms (``"y ~ x + (1 | g)"``, ``"cbind(s, f) ~ x + (1 | g)"``):
the multilevel model fitted by the methods of ``--methods`` that it has (ML, MAP and MCMC; Laplace is refused, its
reason said on stderr), :func:`~bayeslogit.surface.compare.compare_multilevel` of the held-out rows printed, then
each fit's random-effects block, as lme4 prints it; with ``--out DIR`` the report of
:mod:`bayeslogit.surface.report_multilevel` written to ``DIR/report.html``."""

import argparse
import dataclasses
import re
import time
import warnings

import numpy as np
import pandas as pd

from bayeslogit.exceptions import OptionError
from bayeslogit.numerics.group_design import GroupPrior
from bayeslogit.numerics.prior_specs import Normal
from bayeslogit.surface.advice import in_words
from bayeslogit.surface.cli_input import CommandError, one_line, read_data, say, source_name
from bayeslogit.surface.cli_options import GROUP_PRIOR_OPTIONS
from bayeslogit.surface.compare import compare
from bayeslogit.surface.multilevel import MultilevelModel


def _read_columns(formula: str, frame: pd.DataFrame) -> list:
    """The columns of ``frame`` that ``formula`` names."""
    names = set(re.findall(r"`([^`]+)`|([A-Za-z_][A-Za-z0-9_.]*)", formula))
    named = {quoted or bare for quoted, bare in names}
    return [column for column in frame.columns if str(column) in named]


def _complete_rows(frame: pd.DataFrame, formula: str, missing: str, source: str) -> pd.DataFrame:
    """The rows with a value in every column the formula names; ``--missing`` says what to do with the others."""
    missed = frame[_read_columns(formula, frame)].isna()
    rows = missed.any(axis=1).to_numpy()
    if not rows.any():
        return frame
    counts = ", ".join(f"'{column}': {count}" for column, count in missed.sum().items() if count)
    what = f"{rows.sum()} of {len(frame)} rows of {source_name(source)} have missing values ({counts})"
    if missing == "raise" or rows.all():
        raise CommandError(f"{what}; fill them in, or pass --missing drop to leave those rows out")
    warnings.warn(f"{what}; they are left out (--missing drop)", UserWarning, stacklevel=2)
    return frame[~rows]


def _split(frame: pd.DataFrame, test_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``round(test_size * n)`` random rows held out (rows of any group: a group seen in training keeps its
    effect, a new one is predicted at the group mean); ``test_size=0`` holds out none."""
    if test_size == 0:
        return frame, None
    held_out = np.zeros(len(frame), dtype=bool)
    held_out[np.random.default_rng(seed).choice(len(frame), round(test_size * len(frame)), replace=False)] = True
    if not held_out.any() or held_out.all():
        raise CommandError(f"--test-size {test_size} leaves no rows to hold out or to fit; give another fraction")
    return frame[~held_out], frame[held_out]


def _with_group_prior(args: argparse.Namespace, prior) -> Normal:
    """The fixed effects' ``prior`` (``--prior normal`` only) carrying the group prior of ``--group-sd-shape``,
    ``--group-sd-rate`` and ``--group-corr-eta``, each GroupPrior's default where not given."""
    if args.prior != "normal":
        raise CommandError(
            f"a formula with group terms takes a normal prior on its fixed effects; --prior {args.prior} is not "
            "available there: drop it (or give --prior normal)"
        )
    given = {
        field: getattr(args, option[2:].replace("-", "_"))
        for (option, *_), field in zip(GROUP_PRIOR_OPTIONS, ("sd_shape", "sd_rate", "corr_eta"))
    }
    return dataclasses.replace(prior, group=GroupPrior(**{k: v for k, v in given.items() if v is not None}))


def run_multilevel(args: argparse.Namespace, prior) -> int:
    """Fit the multilevel model of ``args.formula`` by each method of ``--methods`` it has, print the comparison and
    the random-effects blocks."""
    prior = _with_group_prior(args, prior)
    frame = _complete_rows(read_data(args.data, args.sep, args.encoding), args.formula, args.missing, args.data)
    train, test = _split(frame, args.test_size, args.seed)
    model = MultilevelModel.from_formula(args.formula, train)
    held = "in-sample" if test is None else f"{len(test)} rows held out"
    say(f"{model!r}; {held}")
    fitters = {
        "ml": model.fit_ml,
        "map": lambda: model.fit_map(prior),
        "laplace": model.fit_laplace,
        "mcmc": lambda: model.fit_mcmc(
            prior, draws=args.draws, tune=args.tune, chains=args.chains, random_seed=args.seed,
            **({} if args.target_accept is None else {"target_accept": args.target_accept}),
        ),
    }  # fmt: skip
    fits, refused, found = {}, {}, []
    for method in args.methods:
        started = time.perf_counter()
        say(f"{method}: fitting ...")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fits[method] = fitters[method]()
        except OptionError as error:
            refused[method] = one_line(in_words(error, "cli"))
            say(f"{method}: not fitted: {refused[method]}")
            continue
        for warning in caught:
            found.append(f"{method} ({warning.category.__name__}): {one_line(in_words(warning.message, 'cli'))}")
            say(f"warning: {found[-1]}")
        say(f"{method}: done in {time.perf_counter() - started:.2f} s")
    if not fits:
        raise CommandError("no method of --methods fits a multilevel model; choose among ml, map and mcmc")
    table = compare(fits, test)
    print(table)
    for method, fit in fits.items():
        print(f"\nrandom effects ({method}):\n{fit.random_effects().to_string(index=False, na_rep='')}")
    if args.out is not None:
        _write_report(args, fits, table, found, refused, held)
    return 0


def _write_report(args: argparse.Namespace, fits: dict, table, found: list, refused: dict, held: str) -> None:
    """Draw and write ``args.out / report.html``, a line on stderr per figure."""
    from bayeslogit.surface.report import write_report
    from bayeslogit.surface.report_multilevel import render_multilevel_report

    say("drawing the report ...")
    started = time.perf_counter()
    import matplotlib

    matplotlib.use("Agg")  # the command draws files only, also where no display exists
    settings = {"rows": held, "methods": ", ".join(fits), "seed": str(args.seed)}
    page = render_multilevel_report(args.formula, source_name(args.data), settings, fits, table, found, refused, say)
    try:
        path = write_report(args.out, page)
    except OSError as error:  # its message names the directory and the fix
        raise CommandError(one_line(error)) from None
    say(f"report: done in {time.perf_counter() - started:.2f} s")
    say(f"report written to {path}")
