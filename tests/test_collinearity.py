"""Tests of bayeslogit.algorithms.collinearity (rank check of the design, and what to drop)."""

import numpy as np
import pytest

import bayeslogit as bl
from bayeslogit.algorithms.collinearity import Collinearity, find_collinearity
from bayeslogit.numerics.objective import Design

RNG = np.random.default_rng(20240611)
A, B, C, D, E = RNG.normal(size=(5, 200))
ONES = np.ones(200)


def check(columns: dict, intercept: bool = True, weights: np.ndarray = ONES) -> Collinearity | None:
    X = np.ascontiguousarray(np.column_stack(list(columns.values())))
    return find_collinearity(Design(X, intercept), weights, tuple(np.array(list(columns))))  # np.str_ names


def test_full_rank_returns_none():
    assert check({"a": A, "b": B, "c": C}) is None
    assert check({"one": ONES, "a": A}, intercept=False) is None  # a constant column is the intercept here
    assert find_collinearity(Design(np.empty((200, 0))), ONES, ()) is None


def test_three_constant_columns_beside_an_intercept_must_all_go():
    found = check({"px0": 0 * A, "a": A, "px32": ONES, "b": B, "px39": 3 * ONES})
    assert found.kind == "constant"
    assert found.columns == ("px0", "px32", "px39") and all(type(c) is str for c in found.columns)
    assert found.n_redundant == 3
    assert found.describe() == (
        "'px0', 'px32' and 'px39' are constant, so they duplicate the intercept: drop all of them"
    )
    assert "np.str_" not in found.describe()


def test_one_constant_column():
    found = check({"a": A, "const": 2 * ONES})
    assert found.describe() == "'const' is constant, so it duplicates the intercept: drop it"


def test_constant_among_positively_weighted_rows():
    x = np.r_[np.full(199, 4.0), 5.0]  # varies only on a row of weight 0
    found = check({"a": A, "x": x}, weights=np.r_[np.ones(199), 0.0])
    assert found.kind == "constant" and found.columns == ("x",)
    assert check({"a": A, "x": x}) is None


def test_zero_columns_without_intercept():
    found = check({"a": A, "z1": 0 * A, "z2": 0 * B}, intercept=False)
    assert found.kind == "zero" and found.columns == ("z1", "z2")
    assert found.describe() == "'z1' and 'z2' are all zero: drop both"


def test_two_collinear_columns_drop_one_of_them():
    found = check({"dist100": A, "arsenic": B, "dist_km": A / 10})
    assert found.kind == "dependent"
    assert found.columns == ("dist100", "dist_km") and found.n_drop == (1,)
    assert found.describe() == "'dist100' and 'dist_km' are linearly dependent: drop one of them"


def test_two_separate_dependencies_need_two_columns_to_go():
    found = check({"a": 2 * B, "b": B, "c": D + E, "d": D, "e": E, "f": C})
    assert found.columns == ("a", "b", "c", "d", "e")  # f is independent of them
    assert found.groups == (("a", "b"), ("c", "d", "e"))
    assert found.n_drop == (1, 1) and found.n_redundant == 2
    assert found.describe() == (
        "'a' and 'b' are linearly dependent, and so are 'c', 'd' and 'e', "
        "so 2 columns must go: one of 'a' and 'b', and one of 'c', 'd' and 'e'"
    )
    assert found.describe(max_names=3) == (
        "5 columns ('a', 'b', 'c' and 2 more; all are in CollinearityError.columns) are linearly dependent "
        "in 2 independent ways: drop 2 of them, chosen so that the rest are independent"
    )


def test_three_copies_need_two_to_go():
    found = check({"x1": A, "x2": 2 * A, "x3": A - 1, "y": B})
    assert found.groups == (("x1", "x2", "x3"),) and found.n_drop == (2,)
    assert "drop 2 of them" in found.describe()


def test_dependence_through_the_intercept():
    found = check({"a": A, "b": B, "ab": A - B + 3})  # ab is a - b plus a multiple of the intercept
    assert found.kind == "dependent" and found.columns == ("a", "b", "ab")
    assert found.describe() == "'a', 'b' and 'ab' are linearly dependent: drop one of them"


@pytest.mark.parametrize("seed", range(6))
def test_columns_to_drop_is_the_rank_deficiency(seed):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(300, 6))
    X = np.column_stack([base, base[:, : 1 + seed % 3] @ rng.normal(size=(1 + seed % 3, 1 + seed % 4))])
    found = find_collinearity(Design(X), np.ones(300), tuple(f"x{j}" for j in range(X.shape[1])))
    centred = X - X.mean(axis=0)
    assert found.n_redundant == X.shape[1] - np.linalg.matrix_rank(centred)


def test_max_names_must_be_positive():
    with pytest.raises(bl.OptionError, match=r"`max_names` must be an integer >= 1; got 0"):
        check({"a": A, "b": A}).describe(max_names=0)


def test_digits_constant_pixels():
    datasets = pytest.importorskip("sklearn.datasets")
    X, _ = datasets.load_digits(return_X_y=True)
    names = tuple(np.array([f"px{j}" for j in range(64)]))
    found = find_collinearity(Design(np.ascontiguousarray(X)), np.ones(len(X)), names)
    assert found.kind == "constant" and found.columns == ("px0", "px32", "px39")
    assert found.describe() == (
        "'px0', 'px32' and 'px39' are constant, so they duplicate the intercept: drop all of them"
    )
