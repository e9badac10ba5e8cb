"""What the ``bayeslogit`` command reads: its options' values, and a CSV file or a bundled data set, checked before
anything is fitted.

Every problem found here is a :class:`CommandError`, one line that says what is wrong with the input and how to
put it right (an option's value that does not fit its type is argparse's one-line error); progress lines go to
stderr through :func:`say`.
"""

import argparse
import codecs
import csv
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from bayeslogit import datasets
from bayeslogit.rows.counts import cbind_arguments, response_names
from bayeslogit.rows.formula_names import read_names
from bayeslogit.rows.formulas import split_formula
from bayeslogit.surface.methods import METHODS

PROG = "bayeslogit"
BUNDLED = {name.removeprefix("load_"): getattr(datasets, name) for name in datasets.__all__}
"""Bundled data set name -> its loader."""
MAX_CLASSES = 10
"""Distinct outcome values beyond which the outcome is taken for a measurement, not a class label."""
SEPARATORS = (",", ";", "\t")
"""What ``--sep`` is when not given: the one that splits a CSV file's header into most fields (a comma on a tie)."""


class CommandError(Exception):
    """A problem with the command's input that the user can fix; its message says what and how."""


def say(message: str) -> None:
    """One progress line on stderr."""
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def one_line(error) -> str:
    """``str(error)`` on one line, control characters (from a file's bytes, say) escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in " ".join(str(error).split()))


def option_type(parse, valid, wanted: str):
    """An argparse ``type``: ``parse(text)`` if that succeeds and passes ``valid``; else "must be ``wanted``"."""

    def convert(text: str):
        try:
            value = parse(text)
        except (ValueError, LookupError):  # float("x"), int("x"), codecs.lookup("x")
            value = None
        if value is None or not valid(value):
            raise argparse.ArgumentTypeError(f"must be {wanted}; got {text!r}")
        return value

    return convert


def _text_encoding(name: str) -> str:
    """The codec's name, if ``name`` is a text encoding (``"".encode`` raises LookupError for hex, rot13, zlib)."""
    "".encode(name)
    return codecs.lookup(name).name


whole_number = option_type(int, lambda value: value >= 0, "an integer >= 0")
positive_whole_number = option_type(int, lambda value: value >= 1, "an integer >= 1")
positive_number = option_type(float, lambda value: 0 < value < math.inf, "a positive number")
probability = option_type(float, lambda value: 0 < value < 1, "a probability between 0 and 1, e.g. 0.95")
held_out_fraction = option_type(
    float, lambda value: 0 <= value < 1, "a fraction in [0, 1), e.g. 0.25 (0: no held-out rows)"
)
text_encoding = option_type(_text_encoding, bool, "a text encoding such as utf-8, latin-1 or cp1252")
csv_separator = option_type(
    lambda text: {"\\t": "\t", "tab": "\t"}.get(text, text),
    lambda sep: len(sep) == 1,
    "one character, e.g. ';' or '\\t' (a tab)",
)
method_names = option_type(
    lambda text: tuple(part.strip() for part in text.split(",")),
    lambda names: set(names) <= set(METHODS) and len(set(names)) == len(names),
    f"distinct names from {', '.join(METHODS)}, comma-separated (e.g. ml,map)",
)


class _FormerName(argparse.Action):
    """An option's former name, hidden from ``--help``: it sets the option named ``current`` (to its own argument, or
    to ``const`` for a former flag that stands for one value of it), and says on stderr that it is deprecated."""

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.current = current

    def __call__(self, parser, namespace, values, option_string=None):
        say(f"warning: {option_string} is deprecated and will be removed in a future release; use {self.current}")
        setattr(namespace, self.dest, values if self.const is None else self.const)


def add_former_names(parser: argparse.ArgumentParser, former_names: dict) -> None:
    """Accept each former option name of ``former_names`` (former -> current) as its current option, with a
    deprecation note on stderr when it is used. A current option written with a value (``"--missing drop"``) makes
    the former name a flag that sets that value."""
    for former, current in former_names.items():
        name, _, value = current.partition(" ")
        option = next(action for action in parser._actions if name in action.option_strings)
        parser.add_argument(
            former,
            action=_FormerName,
            nargs=0 if value else None,
            const=value or None,
            type=option.type,
            dest=option.dest,
            default=argparse.SUPPRESS,
            help=argparse.SUPPRESS,
            current=current,
        )


def source_name(source: str) -> str:
    """How messages name the rows of ``source``: a file by its name (``spector.csv``), a bundled data set as given."""
    return Path(source).name if Path(source).exists() else source


def read_data(source: str, sep: str | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """The rows of ``source``: a CSV file (``sep=None``: the one of :data:`SEPARATORS` that splits its header into
    most fields), else the bundled data set of that name."""
    path = Path(source)
    if not path.exists() and source in BUNDLED:
        return BUNDLED[source]()
    try:
        with open(path, "rb") as stream:
            head = stream.read(1 << 16)
        if "\0" in (text := head.decode(encoding, errors="replace")):  # NUL: no text, or text in another encoding
            raise CommandError(
                f"'{source}' is not {encoding} text (NUL at position {text.index(chr(0))}); if it is a "
                "CSV file, give its encoding, e.g. --encoding utf-16, else give a CSV file"
            )
        header = text.lstrip("\ufeff").partition("\n")[0]
        splits = {each: len(next(csv.reader([header], delimiter=each), [])) for each in SEPARATORS}
        sep = sep or max(SEPARATORS, key=splits.get)
        frame = pd.read_csv(path, sep=sep, encoding=encoding)
    except OSError as error:  # no such file, a directory, no permission to read
        raise CommandError(
            f"cannot read '{source}': {error.strerror or error}; DATA must be a CSV file or a "
            f"bundled data set ({', '.join(BUNDLED)})"
        ) from None
    except UnicodeDecodeError as error:
        raise CommandError(
            f"'{source}' is not {encoding} text (byte {error.object[error.start]:#04x}); if it is a CSV "
            "file, give its encoding, e.g. --encoding latin-1, else give a CSV file"
        ) from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as error:  # no header, a line of too many fields
        raise CommandError(
            f"cannot read '{source}' as a CSV file ({one_line(error)}); give a text file with a "
            "header row and as many values on each line as the header has columns"
        ) from None
    if frame.empty:
        raise CommandError(f"'{source}' has a header but no rows of data")
    other = max((each for each in SEPARATORS if each != sep), key=splits.get)
    if frame.shape[1] == 1 and splits[other] > 1:  # a separator given that the file does not use
        raise CommandError(
            f"'{source}' read with --sep {sep!r} has one column, {frame.columns[0]!r}, whose name "
            f"holds {splits[other] - 1} of {other!r}: if that separates its columns, pass --sep "
            f"{other!r}"
        )
    for column in frame.columns[[sep != "," and not pd.api.types.is_numeric_dtype(kind) for kind in frame.dtypes]]:
        text = frame[column].dropna().astype(str)  # numbers written with a decimal comma, as ';' files hold them?
        if text.str.fullmatch(r"[-+]?\d+(,\d+)?").all() and text.str.contains(",").any():
            frame[column] = pd.to_numeric(frame[column].str.replace(",", ".", regex=False))
            say(f"read the column '{column}' of '{source}' as numbers with a decimal comma")
    return frame


def check_outcome(frame: pd.DataFrame, response: str) -> None:
    """Raise :class:`CommandError` unless the column ``response`` looks binary or categorical; a binomial response,
    ``cbind(successes, failures)``, is checked by the model."""
    if cbind_arguments(response, response) is not None:
        return
    values = frame[response].dropna()
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    fractions = values[values != values.round()] if numeric else values[:0]
    if len(fractions):
        raise CommandError(
            f"the outcome '{response}' must be binary or categorical; it holds values that are not "
            f"whole numbers, such as {fractions.iloc[0]}. Add a column of class labels (e.g. 0/1) and "
            "model that"
        )
    if values.nunique() > MAX_CLASSES:
        raise CommandError(
            f"the outcome '{response}' must be binary or categorical; it has {values.nunique()} "
            f"distinct values, such as {values.iloc[0]}, more than the {MAX_CLASSES} classes taken. Add "
            "a column of class labels and model that"
        )
    if values.nunique() < 2:
        held = f"the one value '{values.iloc[0]}' in all its {len(values)} rows" if len(values) else "no values"
        raise CommandError(f"the outcome '{response}' has {held}; logistic classification needs two classes or more")


def complete_rows(frame: pd.DataFrame, formula: str, missing: str, source: str) -> tuple[pd.DataFrame, str]:
    """The rows of ``frame`` (all the rows of ``source``) with a value in each column that ``formula`` reads, and the
    formula's response. ``missing`` says what to do with the others (``--missing``): ``"raise"`` refuses them with a
    :class:`CommandError`, ``"drop"`` leaves them out with a UserWarning; both count them among the rows of
    ``source``."""
    response, rhs = split_formula(formula, frame)  # which raises a FormulaError saying how to correct the formula
    names = read_names(rhs) | response_names(formula, response)
    missed = frame.loc[:, [str(column) in names for column in frame.columns]].isna()
    if not (rows := missed.any(axis=1).to_numpy()).any():
        return frame, response
    counts = ", ".join(f"'{column}': {count}" for column, count in missed.sum().items() if count)
    what = (
        f"{rows.sum()} of {len(frame)} rows of {source_name(source)} have missing values in the columns the "
        f"formula reads ({counts}; the first in data row {rows.argmax() + 1})"
    )
    if missing == "raise":
        raise CommandError(f"{what}; fill them in, or pass --missing drop to leave those rows out")
    if rows.all():
        raise CommandError(f"{what}; no row would be left: fill them in, or model other columns")
    warnings.warn(f"{what}; they are left out (--missing drop)", UserWarning, stacklevel=2)
    return frame[~rows], response


def class_label(text: str, labels) -> object:
    """The class label among ``labels`` (the outcome's values) that ``text`` names: the one written as ``text``,
    else a number equal to it (``1`` names ``1.0``); ``text`` itself when none does, which the model refuses with
    the list of its classes."""
    number = pd.to_numeric(text, errors="coerce")  # NaN when text is no number
    named = [label for label in labels if str(label) == text] or [
        label for label in labels if pd.api.types.is_number(label) and label == number
    ]
    return named[0] if named else text


def split_rows(frame: pd.DataFrame, response: str, test_size: float, seed: int):
    """Training and held-out rows: ``round(test_size * n_k)`` random rows of each class ``k`` held out (at least
    one row of each class stays for training); of a binomial response, ``cbind(successes, failures)``, whose rows
    hold both classes, of all the rows. ``test_size=0`` gives ``(frame, None)``."""
    if test_size == 0:
        return frame, None
    rng = np.random.default_rng(seed)
    held_out = np.zeros(len(frame), dtype=bool)
    binomial = cbind_arguments(response, response) is not None
    groups = [np.arange(len(frame))] if binomial else frame.groupby(response, observed=True, sort=True).indices.values()
    for rows in groups:
        held_out[rng.choice(rows, min(round(test_size * len(rows)), len(rows) - 1), replace=False)] = True
    if not held_out.any():
        raise CommandError(
            f"--test-size {test_size} holds out no rows of these {len(frame)}; give a larger "
            "fraction, or 0 to compare in-sample"
        )
    return frame[~held_out], frame[held_out]
