"""Group terms of lme4-style formulas: ``"y ~ x + (1 + x | g)"`` split into its fixed part and its bar terms, and
each bar term built on a data frame as a :class:`~bayeslogit.numerics.group_design.GroupTerm`.

The bar terms are lme4's: ``(1 | g)``, ``(1 + x | g)`` (correlated effects), ``(0 + x | g)`` or ``(-1 + x | g)``
(no intercept), ``(1 + x || g)`` (independent effects: one term per formula term, as lme4's ``expandDoubleVerts``
writes it, ``(1 | g) + (0 + x | g)``), ``(1 | a:b)`` (the groups of the combinations of ``a`` and ``b`` that occur)
and ``(1 | a/b)`` (nested: ``(1 | a) + (1 | a:b)``). Crossed factors are separate terms, ``(1 | a) + (1 | b)``. The
left side of a bar is a formulaic formula; its columns become the term's values. A factor's levels are ordered as
pandas orders them: a categorical's categories (the ones that occur), otherwise the sorted values; an interaction's
by its first factor, then its second. formulaic is imported on first use.
"""

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayeslogit.exceptions import DataError, FormulaError
from bayeslogit.numerics.group_design import GroupTerm
from bayeslogit.rows.formula_names import unquote
from bayeslogit.rows.validation import describe_mask


@dataclass(frozen=True)
class BarTerm:
    """One bar term as written: ``(lhs | factor)``, or ``(lhs || factor)`` when not ``correlated``."""

    lhs: str
    factor: str
    correlated: bool = True


def _top_level_pieces(rhs: str) -> list[str]:
    """``rhs`` split at the ``+`` signs outside parentheses and backticks."""
    pieces, depth, current = [], 0, ""
    for i, part in enumerate(re.split(r"(`[^`]*`)", rhs)):
        if i % 2:  # a name in backticks
            current += part
            continue
        for char in part:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if char == "+" and depth == 0:
                pieces.append(current)
                current = ""
            else:
                current += char
    pieces.append(current)
    return [piece.strip() for piece in pieces]


def _bar_term(piece: str, formula: str) -> list[BarTerm]:
    """The bar terms of ``(lhs | factor)`` (several for a nested factor ``a/b``)."""
    inner = piece[1:-1]
    correlated = "||" not in inner
    lhs, _, factor = inner.partition("|" if correlated else "||")
    lhs, factor = lhs.strip(), factor.strip()
    if not lhs:
        raise FormulaError(
            f"the group term {piece} in {formula!r} has nothing left of '|': write (1 | {factor or 'g'}) for a "
            "group intercept, or (1 + x | g) for an intercept and a slope"
        )
    if not factor:
        raise FormulaError(
            f"the group term {piece} in {formula!r} names no grouping factor right of '|': write (1 | g)"
        )
    nested = [name.strip() for name in factor.split("/")]
    factors = [":".join(nested[: i + 1]) for i in range(len(nested))]
    return [BarTerm(lhs, name, correlated) for name in factors]


def split_group_formula(formula: str) -> tuple[str, tuple[BarTerm, ...]]:
    """The fixed part of an lme4-style formula and its bar terms.

    Parameters
    ----------
    formula : str
        ``"y ~ x + (1 + x | g)"`` or a right-hand side alone.

    Returns
    -------
    fixed : str
        The formula without its bar terms (``"y ~ x"``; ``"y ~ 1"`` when nothing else is left), for formulaic.
    bars : tuple of BarTerm
        The bar terms in order, nested factors expanded.

    Raises
    ------
    FormulaError
        When a bar term has nothing left or right of its bar.
    """
    response, tilde, rhs = formula.rpartition("~") if "~" in formula else ("", "", formula)
    fixed, bars = [], []
    for piece in _top_level_pieces(rhs):
        if piece.startswith("(") and piece.endswith(")") and "|" in piece:
            bars.extend(_bar_term(piece, formula))
        elif piece:
            fixed.append(piece)
    left = f"{response.strip()} ~ " if tilde else ""
    return left + (" + ".join(fixed) or "1"), tuple(bars)


def _factor_codes(name: str, data: pd.DataFrame, formula: str) -> tuple[np.ndarray, tuple]:
    """Codes (n,) int64 and levels of the grouping factor ``name`` (``"a:b"`` an interaction) in ``data``."""
    codes, levels = None, None
    for part in (unquote(p.strip()) for p in name.split(":")):
        if part not in data.columns:
            raise FormulaError(
                f"the grouping factor {part!r} in {formula!r} is not a column of the data; the columns are "
                f"{', '.join(map(str, data.columns))}"
            )
        column = data[part]
        if column.isna().any():
            raise FormulaError(f"the grouping factor {part!r} has missing values: drop those rows before fitting")
        if isinstance(column.dtype, pd.CategoricalDtype):
            used = column.cat.remove_unused_categories()
            part_codes, part_levels = used.cat.codes.to_numpy(), list(used.cat.categories)
        else:
            part_codes, part_levels = pd.factorize(column, sort=True)
        if codes is None:
            codes, levels = np.asarray(part_codes, np.int64), [str(level) for level in part_levels]
            continue
        combined = codes * len(part_levels) + part_codes
        used, codes = np.unique(combined, return_inverse=True)
        levels = [f"{levels[c // len(part_levels)]}:{part_levels[c % len(part_levels)]}" for c in used]
    return codes.astype(np.int64), tuple(levels)


def _columns(lhs: str, data: pd.DataFrame, formula: str) -> pd.DataFrame:
    from formulaic import model_matrix
    from formulaic.errors import FormulaicError

    try:
        return model_matrix(lhs, data, na_action="raise")
    except (FormulaicError, NameError, KeyError, ValueError, SyntaxError) as error:
        raise FormulaError(
            f"the left side {lhs!r} of a group term in {formula!r} cannot be evaluated on the data "
            f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); write columns of the "
            "data, as in (1 + x | g)"
        ) from None


def _term_formulas(bar: BarTerm, data: pd.DataFrame, formula: str) -> list[str]:
    """The left sides of the terms a bar term makes: itself, or for ``||`` one per formula term."""
    if bar.correlated:
        return [bar.lhs]
    spec = _columns(bar.lhs, data, formula).model_spec
    return [str(term) if str(term) == "1" else f"0 + {term}" for term in spec.term_indices]


def group_terms(formula: str, data: pd.DataFrame) -> tuple[str, tuple[GroupTerm, ...]]:
    """The fixed part of ``formula`` and its group terms built on ``data``.

    Parameters
    ----------
    formula : str
        An lme4-style formula, ``"y ~ x + (1 + x | g)"``.
    data : pandas DataFrame
        Without missing values in the columns the group terms read.

    Returns
    -------
    fixed : str
        The formula without its bar terms (:func:`split_group_formula`).
    terms : tuple of GroupTerm
        One per term, ``||`` terms and nested factors expanded.

    Raises
    ------
    FormulaError
        When a bar term has nothing left of its bar, its left side cannot be evaluated, its factor is not a column
        or has missing values, or its factor has a single level.
    """
    fixed, bars = split_group_formula(formula)
    if not bars:
        raise FormulaError(f"{formula!r} has no group term: add one such as (1 | g), or fit a model without groups")
    terms = []
    for bar in bars:
        codes, levels = _factor_codes(bar.factor, data, formula)
        if len(levels) < 2:
            raise FormulaError(
                f"the grouping factor {bar.factor!r} in {formula!r} has a single level ({levels[0]!r}): its groups' "
                "spread cannot be estimated; drop the term"
            )
        for lhs in _term_formulas(bar, data, formula):
            matrix = _columns(lhs, data, formula)
            columns = tuple(str(c) for c in matrix.columns)
            values = np.asarray(matrix, dtype=float).reshape(len(data), -1)
            terms.append(GroupTerm(bar.factor, columns, levels, codes, values, bar.correlated or len(columns) > 1))
    return fixed, tuple(terms)


def term_specs(formula: str, data: pd.DataFrame) -> tuple:
    """The formulaic model spec of each group term's columns, in :func:`group_terms`' order: what builds the same
    columns on new rows."""
    _, bars = split_group_formula(formula)
    return tuple(_columns(lhs, data, formula).model_spec for bar in bars for lhs in _term_formulas(bar, data, formula))


def new_level_codes(term: GroupTerm, data: pd.DataFrame) -> np.ndarray:
    """Each new row's code (n,) in ``term.levels``: -1 where its level is not one of them (a group not seen).

    Raises
    ------
    DataError
        When the rows lack a column of the grouping factor, or have missing values in one.
    """
    names = [unquote(part.strip()) for part in term.factor.split(":")]
    for name in names:
        if name not in data.columns:
            raise DataError(
                f"the new rows lack the column {name!r} of the grouping factor {term.factor!r}; give each row its "
                "group (a group the model has not seen is predicted as a new one)"
            )
        if data[name].isna().any():
            raise DataError(
                f"the new rows have missing values in {name!r}, the grouping factor {term.factor!r}, in "
                f"{describe_mask(data[name].isna().to_numpy())}; give each row its group, or a new label for a group "
                "the model has not seen"
            )
    parts = [data[name].astype(str).to_numpy() for name in names]
    labels = parts[0] if len(parts) == 1 else np.array([":".join(values) for values in zip(*parts)])
    lookup = {level: code for code, level in enumerate(term.levels)}
    return np.array([lookup.get(label, -1) for label in labels], dtype=np.int64)
