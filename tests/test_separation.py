"""Tests of bayeslogit.algorithms.separation (LP detection of separated data)."""

from pathlib import Path

import numpy as np
import pytest

import bayeslogit as bl
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


# --- what the named columns do on their own, and the sentence that says it -------------------------

X_QUASI_PAIR = np.column_stack([X_QUASI[:, 0], [5.0, -5.0, -1.0, 1.0, -5.0, 5.0]])  # w breaks x's tie at 0


def joint_data():
    """y = 1 iff a + b > 0: neither feature alone separates, the pair does completely."""
    X = np.random.default_rng(7).normal(size=(200, 2))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def test_column_complete_on_its_own():
    sep = find_separation(np.column_stack([NOISE6, X_COMPLETE[:, 0]]), Y6, 2, names=["noise", "x"])
    assert sep.alone_kinds == ("complete",)
    assert sep.describe() == "'x' separates the classes completely"


def test_column_quasi_on_its_own_while_the_pair_is_complete():
    # alone, x leaves the rows at x = 0 tied; w (which overlaps on its own) breaks the tie
    assert find_separation(X_QUASI_PAIR[:, [1]], Y6, 2) is None
    assert find_separation(X_QUASI_PAIR[:, [0]], Y6, 2).kind == "quasi-complete"
    sep = find_separation(X_QUASI_PAIR, Y6, 2, names=["x", "w"])
    assert sep.kind == "complete"
    assert sep.columns == ("x",) and sep.alone_kinds == ("quasi-complete",)
    assert_binary_recession(X_QUASI_PAIR, Y6, sep.direction)
    assert sep.describe() == (
        "'x' separates the classes quasi-completely on its own, and the predictors together separate them completely"
    )


def test_columns_complete_and_quasi_on_their_own():
    X = np.column_stack([X_QUASI[:, 0], X_COMPLETE[:, 0]])
    sep = find_separation(X, Y6, 2, names=["q", "c"])
    assert sep.kind == "complete"
    assert sep.columns == ("q", "c") and sep.alone_kinds == ("quasi-complete", "complete")
    assert sep.describe() == (
        "'c' separates the classes completely on its own, and 'q' separates them quasi-completely on its own"
    )
    assert sep.describe(max_names=1) == (
        "'c' separates the classes completely on its own, and 1 other predictor "
        "separates them quasi-completely on its own (all are in "
        "SeparationError.columns)"
    )


def test_quasi_alone_and_together():
    sep = find_separation(X_QUASI, Y6, 2, names=["x"])
    assert sep.alone_kinds == ("quasi-complete",)
    assert sep.describe() == "'x' separates the classes quasi-completely"


def test_jointly_separating_columns_are_described_together():
    X, y = joint_data()
    sep = find_separation(X, y, 2, names=["a", "b"])
    assert sep.columns == ("a", "b") and sep.alone_kinds is None
    assert sep.describe() == "'a' and 'b' together separate the classes completely"


def test_names_are_plain_strings():
    sep = find_separation(X_COMPLETE, Y6, 2, names=np.array(["x"]))
    assert sep.columns == ("x",) and type(sep.columns[0]) is str
    assert "np.str_" not in sep.describe() and "'x'" in sep.describe()


def test_describe_needs_a_positive_max_names():
    with pytest.raises(bl.OptionError, match=r"`max_names` must be an integer >= 1; got 0"):
        find_separation(X_COMPLETE, Y6, 2).describe(max_names=0)


def test_describe_counts_the_names_it_leaves_out(iris):
    X, y = iris
    sep = find_separation(X, y, 3, names=IRIS_NAMES)
    assert sep.kind == "quasi-complete"  # setosa apart; versicolor and virginica overlap
    assert sep.columns == ("petal_length", "petal_width")
    assert sep.alone_kinds == ("quasi-complete", "quasi-complete")
    assert sep.describe() == ("'petal_length' and 'petal_width' separate the classes quasi-completely, each on its own")
    assert sep.describe(max_names=1) == (
        "2 predictors separate the classes quasi-completely, each on its own "
        "('petal_length' and 1 more; all are in SeparationError.columns)"
    )


def test_digits_seventeen_pixels_each_quasi_and_all_together_complete():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    varies = np.flatnonzero(X.std(axis=0) > 0)
    names = np.array([f"px{j}" for j in varies])  # np.str_ names, as pandas and NumPy hand them over
    sep = find_separation(X[:, varies], y, 10, names=names)
    assert sep.kind == "complete"
    assert len(sep.columns) == 17 and all(type(c) is str for c in sep.columns)
    assert sep.alone_kinds == ("quasi-complete",) * 17
    assert_multinomial_recession(X[:, varies], y, sep.direction)
    text = sep.describe()
    assert text.startswith("17 predictors separate the classes quasi-completely, each on its own (")
    assert ", ".join(repr(c) for c in sep.columns[:5]) + " and 12 more;" in text
    assert not any(repr(c) in text for c in sep.columns[5:])
    assert text.endswith("and the predictors together separate them completely")
    assert "np.str_" not in text


# --- agreement with the LPs solved in one piece ---------------------------------------------------


def reference_kind(X, y):
    """Konis' LP and the max-min LP on all margins at once, as HiGHS solves them without help."""
    from scipy.optimize import linprog

    from bayeslogit.algorithms.separation import _standardise
    from bayeslogit.algorithms.separation_lp import margin_matrix

    present, y = np.unique(y, return_inverse=True)
    if present.size < 2:
        return None
    z, _, _, fixed = _standardise(X, True)
    M = margin_matrix(z, y, present.size)[0][:, np.tile(~fixed, present.size - 1)].toarray()
    n, k = M.shape
    q, box = z.shape[1], np.tile([-1.0, 1.0], (k, 1))
    first = linprog(-M.sum(axis=0), A_ub=-M, b_ub=np.zeros(n), bounds=box, method="highs")
    margins = M @ first.x
    if margins.max() <= 1e-6 * q or margins.min() < -1e-9 * q:
        return None
    A_ub = np.column_stack([-M, np.ones(n)])
    maxmin = linprog(
        np.r_[np.zeros(k), -1.0], A_ub=A_ub, b_ub=np.zeros(n), bounds=np.vstack([box, [0, 1]]), method="highs"
    )
    return "complete" if (M @ maxmin.x[:k]).min() > 1e-6 * q else "quasi-complete"


def random_problem(seed):
    """Small-integer data cut into classes along a random score: ties at the cuts (quasi-complete),
    strict gaps (complete), or a flipped label (overlap), with duplicate rows."""
    rng = np.random.default_rng(seed)
    n_classes, p = 2 + seed % 3, 1 + seed % 3
    n = int(rng.integers(6, 30))
    X = rng.integers(-2, 3, size=(n, p)).astype(float)
    score = X @ rng.integers(-2, 3, size=p) + rng.choice([0.0, 0.5])  # 0.5: no row on a cut
    levels = np.unique(score)
    cuts = np.sort(rng.choice(levels, size=min(n_classes - 1, levels.size - 1), replace=False))
    tied = np.isin(score, cuts) & (rng.random(n) < 0.5)  # rows on a cut go to either side
    y = np.searchsorted(cuts, score, side="left") + tied
    if seed % 4 == 3:
        y[0] = (y[0] + 1) % n_classes
    return X, np.minimum(y, n_classes - 1), n_classes


@pytest.mark.parametrize("seed", range(24))
def test_kind_agrees_with_the_lps_in_one_piece(seed):
    X, y, n_classes = random_problem(seed)
    sep = find_separation(X, y, n_classes)
    assert (None if sep is None else sep.kind) == reference_kind(X, y)


def test_quasi_separation_is_found_where_the_objective_is_large():
    """150,000 rows (the objective about 1e5, its rounding near the decrements where Newton stops): a dummy present
    on one row of class 1 only is still reported, not returned as a coefficient of 21."""
    rng = np.random.default_rng(0)
    n = 150_000
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    dummy = np.zeros(n)
    dummy[0], y[0] = 1.0, 1
    with pytest.raises(bl.SeparationError):
        bl.LogisticModel(np.column_stack([x, dummy]), y).fit_ml()
