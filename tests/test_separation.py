"""Tests of bayeslogit.algorithms.separation (LP detection of separated data)."""

from pathlib import Path

import numpy as np
import pytest

from bayeslogit.algorithms.separation import Separation, find_separation

IRIS_NAMES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
WELLS_CSV = Path(__file__).parents[1] / "bayeslogit" / "datasets" / "wells.csv"

X_COMPLETE = np.array([[-3.0], [-2.0], [-1.0], [1.0], [2.0], [3.0]])
X_QUASI = np.array([[-2.0], [-1.0], [0.0], [0.0], [1.0], [2.0]])
Y6 = np.array([0, 0, 0, 1, 1, 1])
NOISE6 = np.array([0.3, -1.2, 0.8, 0.5, -0.4, 1.1])  # overlaps: on its own it does not separate


@pytest.fixture(scope="module")
def iris():
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_iris()
    return data.data, data.target


def assert_binary_recession(X, y, direction, intercept=True):
    """s_i z_i^T d >= 0 for every row and > 0 for some."""
    z = np.column_stack([np.ones(len(X)), X]) if intercept else X
    margins = np.where(y == 1, 1.0, -1.0) * (z @ direction)
    assert margins.min() >= -1e-9
    assert margins.max() > 1e-6


def assert_multinomial_recession(X, y, direction):
    """z_i^T (d_{y_i} - d_k) >= 0 for every row and class, > 0 for some (d_0 = 0)."""
    d = np.column_stack([np.zeros(direction.shape[0]), direction])
    scores = np.column_stack([np.ones(len(X)), X]) @ d
    margins = scores[np.arange(len(y)), y][:, None] - scores
    assert margins.min() >= -1e-9
    assert margins.max() > 1e-6


# --- separated data -------------------------------------------------------------------------------

def test_complete_separation():
    sep = find_separation(X_COMPLETE, Y6, 2, names=["x"])
    assert isinstance(sep, Separation)
    assert sep.kind == "complete"
    assert sep.columns == ("x",)
    assert sep.direction.shape == (2,)
    assert_binary_recession(X_COMPLETE, Y6, sep.direction)


def test_complete_separation_names_only_the_separating_column():
    X = np.column_stack([NOISE6, X_COMPLETE[:, 0]])
    sep = find_separation(X, Y6, 2, names=["noise", "x"])
    assert sep.kind == "complete"
    assert sep.columns == ("x",)
    assert sep.direction.shape == (3,)
    assert_binary_recession(X, Y6, sep.direction)


def test_default_names():
    sep = find_separation(np.column_stack([NOISE6, X_COMPLETE[:, 0]]), Y6, 2)
    assert sep.columns == ("x1",)


def test_quasi_complete_separation():
    sep = find_separation(X_QUASI, Y6, 2, names=["x"])
    assert sep.kind == "quasi-complete"
    assert sep.columns == ("x",)
    assert_binary_recession(X_QUASI, Y6, sep.direction)
    # the two tied rows at x = 0 lie on the boundary of every recession direction
    assert sep.direction[0] == pytest.approx(0.0, abs=1e-9)


def test_no_intercept():
    X = X_COMPLETE + 10.0  # separated only with an intercept: all x > 0
    assert find_separation(X, Y6, 2, intercept=False) is None
    sep = find_separation(X, Y6, 2, names=["x"])
    assert sep.columns == ("x",)
    sep0 = find_separation(X_COMPLETE, Y6, 2, intercept=False, names=["x"])
    assert sep0.kind == "complete" and sep0.direction.shape == (1,)
    assert_binary_recession(X_COMPLETE, Y6, sep0.direction, intercept=False)


def test_iris_setosa_on_petal_length(iris):
    X, target = iris
    y = (target == 0).astype(int)
    x = X[:, [2]]
    sep = find_separation(x, y, 2, names=["petal_length"])
    assert sep is not None
    assert sep.kind == "complete"
    assert sep.columns == ("petal_length",)
    assert_binary_recession(x, y, sep.direction)


def test_iris_three_classes_all_features(iris):
    X, y = iris
    sep = find_separation(X, y, 3, names=IRIS_NAMES)
    assert sep is not None
    assert sep.kind in ("complete", "quasi-complete")
    assert sep.columns and set(sep.columns) <= set(IRIS_NAMES)
    assert sep.direction.shape == (5, 2)
    assert_multinomial_recession(X, y, sep.direction)


def test_iris_three_classes_sepals_are_quasi_separated(iris):
    # Setosa vs the rest on sepal length and width is separated in exact arithmetic:
    # 35 * sl - 45 * sw - 54 is <= 0 for every setosa and >= 0 for every other flower,
    # with one of each exactly on the line (4.5, 2.3) and (5.4, 3.0). So the multinomial
    # ML estimate does not exist here, contrary to the folklore that these overlap.
    X, y = iris
    sepals = np.rint(X[:, :2] * 10).astype(int)
    score = 35 * sepals[:, 0] - 45 * sepals[:, 1] - 540
    assert score[y == 0].max() == 0 and score[y > 0].min() == 0
    sep = find_separation(X[:, :2], y, 3, names=IRIS_NAMES[:2])
    assert sep.kind == "quasi-complete"
    assert sep.columns == IRIS_NAMES[:2]
    assert_multinomial_recession(X[:, :2], y, sep.direction)


def test_multiclass_class_separated_by_one_feature_among_noise():
    rng = np.random.default_rng(20240611)
    n = 300
    y = rng.integers(0, 3, n)
    signal = np.where(y == 2, rng.uniform(1.0, 3.0, n), rng.uniform(-3.0, 0.5, n))
    X = np.column_stack([rng.normal(size=n), signal, rng.normal(size=n), rng.normal(size=n)])
    names = ["noise_a", "signal", "noise_b", "noise_c"]
    sep = find_separation(X, y, 3, names=names)
    assert sep.kind == "quasi-complete"  # classes 0 and 1 still overlap
    assert sep.columns == ("signal",)
    assert_multinomial_recession(X, y, sep.direction)


def test_every_single_separating_feature_is_named():
    x = X_COMPLETE[:, 0]
    X = np.column_stack([x**3, NOISE6, x])  # x**3 and x each separate on their own
    sep = find_separation(X, Y6, 2, names=["cube", "noise", "x"])
    assert sep.columns == ("cube", "x")


def test_jointly_separating_columns_are_pruned_to_a_minimal_set():
    # y = 1 iff x1 + x2 > 0: neither feature alone separates, the pair does; x0 is noise.
    rng = np.random.default_rng(7)
    X = rng.normal(size=(200, 3))
    y = (X[:, 1] + X[:, 2] > 0).astype(int)
    assert find_separation(X[:, [1]], y, 2) is None and find_separation(X[:, [2]], y, 2) is None
    sep = find_separation(X, y, 2, names=["noise", "a", "b"])
    assert sep.kind == "complete"
    assert sep.columns == ("a", "b")
    assert_binary_recession(X, y, sep.direction)


# --- overlapping data -----------------------------------------------------------------------------

def test_wells_overlaps():
    pd = pytest.importorskip("pandas")
    wells = pd.read_csv(WELLS_CSV)
    X = wells[["arsenic", "dist", "assoc", "educ"]].to_numpy(float)
    assert find_separation(X, wells["switched"].to_numpy(), 2) is None


def test_spector_overlaps():
    spector = pytest.importorskip("statsmodels.datasets.spector")
    data = spector.load_pandas()
    X = data.exog[["GPA", "TUCE", "PSI"]].to_numpy(float)
    assert find_separation(X, data.endog.to_numpy().astype(int), 2) is None


@pytest.mark.parametrize("column", [0, 1])
def test_iris_three_classes_one_sepal_feature_overlaps(iris, column):
    X, y = iris
    assert find_separation(X[:, [column]], y, 3) is None


def test_overlapping_random_data_with_collinear_columns():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 3))
    X = np.column_stack([X, X[:, 0] - 2 * X[:, 1]])  # exactly collinear: not a separation
    y = (rng.random(500) < 1 / (1 + np.exp(-X[:, 0]))).astype(int)
    assert find_separation(X, y, 2) is None


# --- scale, weights, odd inputs -------------------------------------------------------------------

@pytest.mark.parametrize(("x_scale", "noise_scale"), [(1e4, 1e-3), (1e-3, 1e4), (1e4, 1.0)])
def test_columns_of_very_different_scales(x_scale, noise_scale):
    X = np.column_stack([NOISE6 * noise_scale, X_COMPLETE[:, 0] * x_scale])
    sep = find_separation(X, Y6, 2, names=["noise", "x"])
    assert sep.kind == "complete"
    assert sep.columns == ("x",)
    assert_binary_recession(X, Y6, sep.direction)


def test_large_offset_column():
    X = X_QUASI + 1e6  # small spread around a large value
    sep = find_separation(X, Y6, 2, names=["x"])
    assert sep.kind == "quasi-complete" and sep.columns == ("x",)


def test_zero_weight_removes_the_only_overlapping_row():
    X = np.vstack([X_COMPLETE, [[1.5]]])
    y = np.r_[Y6, 0]  # a y = 0 row among the y = 1 rows
    sep = find_separation(X, y, 2, names=["x"], weights=np.r_[np.ones(6), 0.0])
    assert sep.kind == "complete" and sep.columns == ("x",)
    assert_binary_recession(X[:6], y[:6], sep.direction)
    assert find_separation(X, y, 2, names=["x"], weights=np.ones(7)) is None
    assert find_separation(X, y, 2, names=["x"]) is None


def test_constant_feature_is_never_named():
    X = np.column_stack([np.full(6, 5.0), X_COMPLETE[:, 0]])
    sep = find_separation(X, Y6, 2, names=["const", "x"])
    assert sep.columns == ("x",)
    assert_binary_recession(X, Y6, sep.direction)
    assert find_separation(np.full((6, 1), 5.0), Y6, 2) is None


def test_no_free_coefficient_returns_none():
    assert find_separation(np.zeros((6, 2)), Y6, 2, intercept=False) is None
    assert find_separation(np.empty((6, 0)), Y6, 2, intercept=False) is None
    assert find_separation(np.empty((6, 0)), Y6, 2) is None


def test_absent_class_does_not_count_as_separation():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(100, 2))
    y = np.where(rng.random(100) < 1 / (1 + np.exp(-X[:, 0])), 2, 0)  # class 1 absent
    assert find_separation(X, y, 3) is None


def test_absent_reference_class():
    X = np.column_stack([NOISE6, X_COMPLETE[:, 0]])
    y = Y6 + 1  # classes 1 and 2 only
    sep = find_separation(X, y, 3, names=["noise", "x"])
    assert sep.kind == "complete" and sep.columns == ("x",)
    assert sep.direction.shape == (3, 2)
    assert np.all(sep.direction[:, 0] == 0)  # class 1 is the LP's reference
    assert_multinomial_recession(X, y, sep.direction)


def test_single_present_class_returns_none():
    assert find_separation(X_COMPLETE, np.ones(6, int), 2) is None


def test_invalid_codes_raise():
    with pytest.raises(ValueError):
        find_separation(X_COMPLETE, Y6 * 2, 2)
    with pytest.raises(ValueError):
        find_separation(X_COMPLETE, Y6, 2, names=["a", "b"])
