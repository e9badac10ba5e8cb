"""Group terms of lme4-style formulas: the split into fixed part and bar terms, the terms built on data, bad input."""

import numpy as np
import pandas as pd
import pytest

from bayeslogit.exceptions import FormulaError
from bayeslogit.rows.group_terms import BarTerm, group_terms, split_group_formula


@pytest.fixture
def data(rng):
    n = 60
    return pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
            "f": rng.choice(["lo", "hi", "mid"], n),
            "a": np.repeat(["b", "a", "c"], n // 3),
            "b": np.tile([2, 10, 1], n // 3),
            "g": pd.Categorical(rng.choice(["q", "p", "r"], n), categories=["r", "q", "p", "unused"]),
        }
    )


@pytest.mark.parametrize(
    "formula, fixed, bars",
    [
        ("y ~ x + (1 | g)", "y ~ x", [BarTerm("1", "g")]),
        ("y ~ (1 + x | g) + x", "y ~ x", [BarTerm("1 + x", "g")]),
        ("y ~ x + (0 + x | g)", "y ~ x", [BarTerm("0 + x", "g")]),
        ("y ~ (x || g)", "y ~ 1", [BarTerm("x", "g", False)]),
        ("y ~ x + (1 | a) + (1 | b)", "y ~ x", [BarTerm("1", "a"), BarTerm("1", "b")]),
        ("y ~ x + (1 | a/b)", "y ~ x", [BarTerm("1", "a"), BarTerm("1", "a:b")]),
        ("y ~ x + (1 | a:b)", "y ~ x", [BarTerm("1", "a:b")]),
        ("y ~ x * z + I(x**2) + (1 | g)", "y ~ x * z + I(x**2)", [BarTerm("1", "g")]),
    ],
)
def test_split(formula, fixed, bars):
    assert split_group_formula(formula) == (fixed, tuple(bars))


def test_names_in_backticks(data):
    data = data.rename(columns={"g": "my (g)", "x": "x + 1"})
    fixed, (term,) = group_terms("y ~ `x + 1` + (1 + `x + 1` | `my (g)`)", data)
    assert fixed == "y ~ `x + 1`"
    assert term.factor == "`my (g)`" and term.columns == ("Intercept", "x + 1") and term.levels == ("r", "q", "p")


def test_intercept_and_slope(data):
    fixed, (term,) = group_terms("y ~ x + (1 + x | g)", data)
    assert fixed == "y ~ x"
    assert term.factor == "g" and term.columns == ("Intercept", "x") and term.correlated
    assert term.levels == ("r", "q", "p")  # a categorical's categories that occur, in order
    assert term.codes.dtype == np.int64
    np.testing.assert_array_equal(np.array(term.levels)[term.codes], data["g"].astype(str))
    np.testing.assert_array_equal(term.values, np.column_stack([np.ones(len(data)), data["x"]]))


@pytest.mark.parametrize("lhs", ["0 + x", "-1 + x"])
def test_no_intercept(data, lhs):
    _, (term,) = group_terms(f"y ~ x + ({lhs} | g)", data)
    assert term.columns == ("x",)


def test_independent_terms_expand_as_lme4(data):
    """``(1 + x + f || g)`` is ``(1 | g) + (0 + x | g) + (0 + f | g)``, the factor's columns one correlated term."""
    _, terms = group_terms("y ~ (1 + x + f || g)", data)
    assert [t.columns for t in terms] == [("Intercept",), ("x",), ("f[hi]", "f[lo]", "f[mid]")]
    assert [t.correlated for t in terms] == [False, False, True]


def test_levels_sorted_as_pandas_and_interactions(data):
    _, (outer, inner) = group_terms("y ~ (1 | a/b)", data)
    assert outer.levels == ("a", "b", "c")
    assert inner.factor == "a:b"
    assert inner.levels == ("a:1", "a:2", "a:10", "b:1", "b:2", "b:10", "c:1", "c:2", "c:10")
    labels = data["a"] + ":" + data["b"].astype(str)
    np.testing.assert_array_equal(np.array(inner.levels)[inner.codes], labels)


@pytest.mark.parametrize(
    "formula, message",
    [
        ("y ~ x + ( | g)", "nothing left of '|'"),
        ("y ~ x + (1 | nope)", "'nope' .* is not a column"),
        ("y ~ x + (1 + nope | g)", "cannot be evaluated"),
        ("y ~ x + (1 | one)", "single level"),
        ("y ~ x", "no group term"),
    ],
)
def test_bad_input(data, formula, message):
    data = data.assign(one="same")
    with pytest.raises(FormulaError, match=message):
        group_terms(formula, data)
