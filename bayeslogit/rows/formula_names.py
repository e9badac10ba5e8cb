"""Names in formulas: which columns a right-hand side reads, how a name is quoted, and what to write instead of a
formula that formulaic cannot use.

Names that are not Python identifiers are written in backticks (`` `mean radius` ``). formulaic's own account of the
names a formula reads splits some of them (`` `a.b` `` as ``a``) and misses the arguments of stateful transforms
(``center(a)``); :func:`read_names` takes quoted names whole, and the fitted spec tells the rest
(:func:`bayeslogit.rows.formulas.data_names`). formulaic is imported on first use.
"""

import builtins
import difflib
import re
from collections import Counter

from bayeslogit.exceptions import DataError, FormulaError

_QUOTED = re.compile(r"(`[^`]*`)")  # a name in backticks, kept as a separate piece by re.split
_DOT = re.compile(r"(?<![\w.])\.(?![\w.])")  # "." standing alone: every other column
_SUGGESTIONS = 3  # close matches named for a name that is not a column


def check_names(formula: str, names: set[str], data) -> None:
    """Raise a DataError when a column that ``formula`` reads (``names``) is not named by a string, or by a name
    that another column has too."""
    columns = [column for column in data.columns if str(column) in names]
    repeated = sorted(name for name, count in Counter(map(str, columns)).items() if count > 1)
    if repeated:
        raise DataError(
            f"the data have several columns named {repeated}, which the formula {formula!r} reads; "
            "rename them so that each name is one column"
        )
    unnamed = [column for column in columns if not isinstance(column, str)]
    if unnamed:
        raise DataError(
            f"the formula {formula!r} reads the column(s) {unnamed}, whose names are not strings; name "
            "the data's columns by strings, e.g. data.columns = data.columns.astype(str)"
        )


def split_outside_quotes(text: str, separator: str) -> list[str]:
    """``text`` split at each ``separator`` outside backticks."""
    pieces = _QUOTED.split(text)
    parts = [""]
    for i, piece in enumerate(pieces):
        split = [piece] if i % 2 else piece.split(separator)
        parts[-1] += split[0]
        parts.extend(split[1:])
    return parts


def unquote(name: str) -> str:
    """``name`` without the backticks around it, if any."""
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == "`" else name


def _needs_quoting(name: str) -> bool:
    """Whether a formula must write the column ``name`` in backticks (it is not a Python identifier)."""
    return not name.isidentifier()


def quote(name: str) -> str:
    """``name`` as a formula writes it: in backticks where it needs them."""
    return f"`{name}`" if _needs_quoting(name) else name


def checked_names(formula: str, rhs: str, columns: list[str], response: str) -> set[str]:
    """The names that the right-hand side ``rhs`` reads, every one a column, else raise a FormulaError saying what
    to write instead (``formula`` is the whole formula, for messages)."""
    from formulaic import Formula, SimpleFormula

    _refuse_what_formulaic_misreads(formula, rhs, columns, response)
    if re.search(r"\([^()]*\|[^()]*\)", rhs):  # "(1 | g)": lme4's group terms
        raise FormulaError(
            f"{formula!r} has group terms such as (1 | g): a multilevel model; build it with "
            "bl.MultilevelModel.from_formula(formula, data)"
        )
    try:
        parsed = Formula(rhs)
    except Exception as error:  # formulaic's errors, Python's SyntaxError, and on some text ("[)") its internal ones
        raise FormulaError(
            f"cannot parse the formula {formula!r}: {first_line(error)}. {_fix_of_syntax(formula, rhs, columns)}"
        ) from None
    if not isinstance(parsed, SimpleFormula):  # "a | b": a structured formula of several parts
        raise FormulaError(
            f"the formula {formula!r} has parts separated by '|', which a logistic model does not "
            "take; join the predictors with '+'"
        )
    unread = [
        name
        for name in _quoted_names(rhs)
        if _is_number(name) and not any(_reads_whole(str(variable), name) for variable in parsed.required_variables)
    ]
    if unread:
        raise FormulaError(
            f"the formula {formula!r} quotes {unread[0]!r}, which formulaic reads as a number, not a "
            f"column; rename that column, e.g. data.rename(columns={{{unread[0]!r}: 'x'}})"
        )
    variables = read_names(rhs, parsed)
    unknown = sorted(name for name in variables - set(columns) if not hasattr(builtins, name))
    if unknown:
        raise FormulaError(_unknown_names_message(formula, rhs, unknown, columns))
    return variables


def _refuse_what_formulaic_misreads(formula: str, rhs: str, columns: list[str], response: str) -> None:
    """Raise a FormulaError for what formulaic would read other than as written: an empty name in backticks (dropped),
    and ``.``, in backticks or not (every column, the response included)."""
    if "``" in rhs:
        raise FormulaError(
            f"the formula {formula!r} quotes an empty name (``), which formulaic drops; give the "
            "column a name, e.g. data.rename(columns={'': 'x'}), and write that name"
        )
    if "`.`" in rhs:
        raise FormulaError(
            f"the formula {formula!r} quotes the name '.', which formulaic reads as every other "
            "column even in backticks; rename that column, e.g. data.rename(columns={'.': 'x'})"
        )
    if _DOT.search("".join(_QUOTED.split(rhs)[::2])):
        others = " + ".join(quote(column) for column in columns if column != response)
        raise FormulaError(
            f"the formula {formula!r} uses '.', which formulaic would expand to every column, the "
            f"response '{response}' included; name the predictors instead, e.g. "
            f"'{quote(response)} ~ {others or '1'}'"
        )


def _is_number(name: str) -> bool:
    """Whether ``name`` reads as a number (``"1"``, which formulaic takes for the intercept even in backticks)."""
    try:
        float(name)
    except ValueError:
        return False
    return True


def _quoted_names(rhs: str) -> set[str]:
    """The names written in backticks in ``rhs``."""
    return {piece[1:-1] for piece in _QUOTED.split(rhs)[1::2]}


def _reads_whole(variable: str, name: str) -> bool:
    """Whether formulaic's required ``variable`` stands for the quoted ``name``: formulaic reads the variables of
    `` `a.b` `` as ``a`` (the attribute ``b`` of ``a``), though it evaluates the column ``a.b``."""
    return name == variable or name.startswith(f"{variable}.")


def read_names(rhs: str, parsed=None) -> set[str]:
    """The data names that a right-hand side reads, as far as parsing tells: formulaic's required variables, each name
    in backticks whole. The arguments of stateful transforms (``center(a)``) are known only once the formula is
    evaluated (:func:`bayeslogit.rows.formulas.data_names`).

    Parameters
    ----------
    rhs : str
        A right-hand side that formulaic parses.
    parsed : formulaic Formula, optional
        ``Formula(rhs)``, when at hand.
    """
    from formulaic import Formula

    parsed = Formula(rhs) if parsed is None else parsed
    quoted = _quoted_names(rhs)
    bare = " ".join(_QUOTED.split(rhs)[::2])
    names = set(quoted)
    for variable in map(str, parsed.required_variables):
        from_quoted = any(_reads_whole(variable, name) for name in quoted)
        if not from_quoted or (variable.isidentifier() and re.search(rf"(?<![\w.]){variable}(?!\w)", bare)):
            names.add(variable)
    return names


def first_line(error: Exception) -> str:
    """The first line of formulaic's message (the lines after it point at the formula with terminal colours)."""
    return str(error).strip().splitlines()[0].rstrip(".")


def _fix_of_syntax(formula: str, rhs: str, columns: list[str]) -> str:
    """What to write instead of a right-hand side that does not parse: the formula with the columns that need
    backticks quoted, where that parses; else how formulas are written."""
    quoted = _quote_columns(rhs, columns)
    if quoted != rhs and _parses_to_columns(quoted, columns):
        return f"Names with spaces or other characters must be written in backticks: {_with_rhs(formula, quoted)!r}"
    return (
        "Join predictors with '+', e.g. 'y ~ a + b + C(group)'; write names with spaces or other characters that "
        "are not letters, digits or '_' in backticks, e.g. `mean radius`"
    )


def _quote_columns(rhs: str, columns: list[str]) -> str:
    """``rhs`` with the columns whose names need backticks quoted where they appear outside backticks, the longest
    names first."""
    for name in sorted((c for c in columns if c and "`" not in c and _needs_quoting(c)), key=len, reverse=True):
        pattern = re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)")
        pieces = _QUOTED.split(rhs)
        rhs = "".join(
            piece if i % 2 else pattern.sub(lambda _, name=name: f"`{name}`", piece) for i, piece in enumerate(pieces)
        )
    return rhs


def _parses_to_columns(rhs: str, columns: list[str]) -> bool:
    """Whether ``rhs`` parses as a simple formula that reads columns only."""
    from formulaic import Formula, SimpleFormula

    try:
        parsed = Formula(rhs)
    except Exception:  # whatever formulaic's parser raises, as in checked_names
        return False
    return isinstance(parsed, SimpleFormula) and read_names(rhs, parsed) <= set(columns)


def _with_rhs(formula: str, rhs: str) -> str:
    """``formula`` with its right-hand side replaced by ``rhs``."""
    return f"{split_outside_quotes(formula, '~')[0].strip()} ~ {rhs}"


def _close_matches(name: str, columns: list[str]) -> list[str]:
    """The columns whose names are close to ``name`` (difflib), case and spacing aside."""
    simple = {re.sub(r"[\W_]+", "", column.lower()): column for column in columns}
    matches = difflib.get_close_matches(re.sub(r"[\W_]+", "", name.lower()), list(simple), n=_SUGGESTIONS)
    return [simple[match] for match in matches]


def not_a_column_message(formula: str, response: str, columns: list[str]) -> str:
    """Why the response of ``formula`` is not a column, and what to write instead."""
    if not response:
        return (
            f"the formula {formula!r} has no response before '~'; write the column of class labels first, e.g. "
            f"'y ~ a + b'; columns are {columns}"
        )
    matches = _close_matches(response, columns)
    hint = f"did you mean {' or '.join(repr(quote(m)) for m in matches)}? " if matches else ""
    return (
        f"the response '{response}' of the formula {formula!r} is not a column of the data; {hint}"
        f"the left-hand side must be one column of class labels; columns are {columns}"
    )


def _unknown_names_message(formula: str, rhs: str, unknown: list[str], columns: list[str]) -> str:
    """What to write instead of the names ``unknown`` that the right-hand side reads but the data lack."""
    clauses, fixed = [], rhs
    for name in unknown:
        if re.search(rf"(?<![\w.]){re.escape(name)}\s*[(.]", rhs):
            clauses.append(
                f"'{name}' is neither a column nor a function that formulas know (numpy's as np.log(a); "
                "C(), I(), center(), scale(), poly(), bs())"
            )
            continue
        matches = _close_matches(name, columns)
        clauses.append(
            f"'{name}' is not a column of the data"
            + (f" (did you mean {' or '.join(repr(quote(m)) for m in matches)}?)" if matches else "")
        )
        if matches:
            pattern = re.compile(rf"(?<![\w.`]){re.escape(name)}(?![\w`])")
            fixed = pattern.sub(lambda _, match=matches[0]: quote(match), fixed)
    fixed = _quote_columns(fixed, columns)
    if fixed != rhs and _parses_to_columns(fixed, columns):
        advice = f"; e.g. {_with_rhs(formula, fixed)!r}"
    elif any(_needs_quoting(column) for column in columns):
        advice = "; names with spaces or other characters are written in backticks, e.g. `mean radius`"
    else:
        advice = ""
    return f"the formula {formula!r} reads names the data lack: {'; '.join(clauses)}. Columns are {columns}{advice}"
