"""The fast paths of maximum likelihood on many rows: subsampled Newton with quasi-Newton steps, the rank screen
on a sample of rows, the separation check after Newton, and a lean import."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import bayeslogit as bl
from bayeslogit.algorithms import collinearity
from bayeslogit.algorithms.newton import SUBSAMPLE_RUN, fit_newton, newton, stratified_rows
from bayeslogit.numerics import fused
from bayeslogit.numerics.design import Design


def simulate(n: int, p: int, k: int, seed: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Correlated Gaussian predictors (n, p) and labels (n,) of ``k`` classes from a softmax model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1:] += 0.3 * X[:, :1]
    logits = X @ rng.normal(scale=scale / np.sqrt(p), size=(p, k)) + rng.normal(scale=0.5, size=k)
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    return X, (proba.cumsum(axis=1) > rng.random(n)[:, None]).argmax(axis=1)


# ---- subsampled Newton and quasi-Newton steps ------------------------------------------------------
LARGE = {  # (n, p, k, parameterization, prior): rows x free coefficients above SUBSAMPLE_MIN_CELLS
    "binary": (30_000, 20, 2, "reference", None),
    "binary MAP": (30_000, 20, 2, "reference", bl.Normal(0.1)),
    "multinomial": (30_000, 5, 4, "reference", None),
    "multinomial symmetric MAP": (40_000, 10, 3, "symmetric", bl.Normal(1.0)),
}


@pytest.mark.parametrize("case", LARGE)
@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_quasi_newton_path_equals_newton(case, scale):
    """Strong effects (scale 3) make the Hessian's smallest eigenvalue small, the hardest case for agreement."""
    n, p, k, parameterization, prior = LARGE[case]
    X, y = simulate(n, p, k, seed=1, scale=scale)
    objective = bl.LogisticModel(X, y, parameterization=parameterization).objective(prior)
    fast = fit_newton(objective)
    exact = newton(objective, np.zeros(objective.n_free), value=objective.value)
    assert fast.hess is None and fast.converged  # it took the quasi-Newton path, and converged there
    np.testing.assert_allclose(fast.x, exact.x, rtol=0, atol=1e-8)
    # Points 1e-8 apart differ in value by ~ |H| 1e-16, far below the rounding of the value f, a sum of n positive
    # terms: off by about sqrt(n) u f / 3 (sd, u = eps / 2; at most 2e-10 for a strictly sequential sum of these
    # rows). The difference of two values has an sd of about sqrt(n) u f / 2: 4 sqrt(n) u f is 8 of those, 6e-10
    # to 3e-9 here.
    assert fast.value == pytest.approx(exact.value, rel=2 * np.sqrt(n) * np.finfo(float).eps, abs=0)


def test_quasi_newton_fit_has_newtons_standard_errors_and_a_history_of_full_data_steps():
    X, y = simulate(30_000, 20, 2, seed=2)
    model = bl.LogisticModel(X, y)
    fit = model.fit_ml()
    objective = model.objective()
    exact = newton(objective, np.zeros(objective.n_free), value=objective.value)
    np.testing.assert_allclose(fit.hessian, objective(fit.iterations[-1].x)[2], rtol=1e-12)
    np.testing.assert_allclose(fit.se.to_numpy(), np.sqrt(np.diag(np.linalg.inv(exact.hess))), rtol=1e-7)
    history = fit.history
    assert len(history) == fit.n_iter + 1 and fit.n_iter <= 10
    assert np.all(np.diff(history["objective"]) <= 1e-9)
    assert history["decrement"].iloc[-2] <= 1e-12  # declared at a hundredth of tol, then one more step
    np.testing.assert_allclose(history.iloc[-1][model.coef_names].to_numpy(float), fit.coef.to_numpy())
    assert fit.llf == pytest.approx(-exact.value, rel=1e-13)


def test_a_failing_subsample_hands_over_to_newton_on_all_rows():
    """A column that is zero on every row of the subsamples makes their Hessian singular; Newton on all rows
    (where 50 rows give the column its coefficient) takes over, from zero, and gives its answer."""
    X, y = simulate(30_000, 20, 2, seed=3)
    inside = stratified_rows(30_000, 0.1, np.random.default_rng(0), SUBSAMPLE_RUN)  # fit_newton's largest subsample
    outside = np.setdiff1d(np.arange(30_000), inside)
    X[:, 5] = 0.0
    X[outside[:50], 5] = np.random.default_rng(1).normal(size=50)
    objective = bl.LogisticModel(X, y).objective()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fast = fit_newton(objective)
    exact = newton(objective, np.zeros(objective.n_free), value=objective.value)
    assert fast.hess is not None  # Newton's own result
    np.testing.assert_allclose(fast.x, exact.x, rtol=0, atol=1e-10)


def spy_on_stages(monkeypatch, stage_tol=None) -> dict:
    """Records the Hessians that each subsample's Newton steps start from and the quasi-Newton steps' estimate, with
    the last stage's tolerance ``stage_tol`` where given."""
    from bayeslogit.algorithms import newton as newton_module

    seen = {"start": [], "stages": []}
    newton_step, quasi_newton = newton_module._newton, newton_module.quasi_newton

    def stage(fun, value, x, tol, *args, at_x=None, **kwargs):
        if at_x is None:  # Newton's method on all rows
            return newton_step(fun, value, x, tol, *args, **kwargs)
        seen["start"].append(at_x[2])
        last = stage_tol is not None and len(seen["start"]) == 2
        fitted, problem = newton_step(fun, value, x, stage_tol if last else tol, *args, at_x=at_x, **kwargs)
        seen["stages"].append((fun, fitted))
        return fitted, problem

    def steps(fun, x, B, **kwargs):
        seen["B"], seen["x"] = B, x
        return quasi_newton(fun, x, B, **kwargs)

    monkeypatch.setattr(newton_module, "_newton", stage)
    monkeypatch.setattr(newton_module, "quasi_newton", steps)
    return seen


@pytest.mark.parametrize("case", ["binary", "multinomial"])
def test_the_larger_subsample_starts_from_the_smaller_ones_hessian_and_hands_on_its_own(monkeypatch, case):
    """The 10 % subsample's first Newton step takes the 1 % subsample's last Hessian (its first pass computes the value
    and gradient only); the quasi-Newton steps start from the 10 % subsample's own Hessian, at the last point where
    its Newton steps evaluated it."""
    n, p, k, parameterization, prior = LARGE[case]
    X, y = simulate(n, p, k, seed=5)
    objective = bl.LogisticModel(X, y, parameterization=parameterization).objective(prior)
    seen = spy_on_stages(monkeypatch)
    fast = fit_newton(objective)
    (_, smaller), (larger_subset, larger) = seen["stages"]
    assert seen["start"][1] is smaller.hess
    assert larger.n_iter >= 2  # at least one step evaluated on the larger subsample
    np.testing.assert_array_equal(seen["B"], larger_subset(larger.iterations[-2].x)[2])
    np.testing.assert_allclose(fast.x, newton(objective, np.zeros(objective.n_free)).x, rtol=0, atol=1e-8)


def test_a_subsample_that_converges_at_once_hands_on_its_own_hessian_not_the_smaller_ones(monkeypatch):
    """Where the larger subsample's Newton steps stop at once (here: a tolerance no decrement reaches), its Hessian
    is computed where it stopped, so the quasi-Newton steps never start from the smaller subsample's."""
    X, y = simulate(30_000, 20, 2, seed=6)
    objective = bl.LogisticModel(X, y).objective()
    seen = spy_on_stages(monkeypatch, stage_tol=np.inf)
    fast = fit_newton(objective)
    (_, smaller), (larger_subset, larger) = seen["stages"]
    assert larger.n_iter == 1 and larger.hess is smaller.hess  # its Newton steps stopped at once, on the borrowed one
    np.testing.assert_array_equal(seen["B"], larger_subset(seen["x"])[2])
    assert not np.allclose(seen["B"], smaller.hess, rtol=1e-3)
    np.testing.assert_allclose(fast.x, newton(objective, np.zeros(objective.n_free)).x, rtol=0, atol=1e-8)


def test_max_iter_counts_the_steps_on_all_rows_and_warns_like_newton():
    X, y = simulate(30_000, 20, 2, seed=4)
    objective = bl.LogisticModel(X, y).objective()
    with pytest.warns(bl.ConvergenceWarning, match="did not converge in 2 iterations: max \\|gradient\\|"):
        result = fit_newton(objective, max_iter=2)
    assert not result.converged and result.n_iter == 2 and result.hess is None


# ---- rank screen --------------------------------------------------------------------------------------
def designs(rng: np.random.Generator) -> dict:
    """Designs of 20,000 rows, some of them built to fool a screen of a sample of rows."""
    n = 20_000
    a, b, c = rng.normal(size=(3, n))
    screened = np.arange(n) % 100 == 0  # the rows the screen takes for n = 20,000 and 2 or 3 columns
    twice_on_screen = np.where(screened, 2 * a, b)  # b = 2a on the screened rows only: full rank
    outliers = a.copy()
    outliers[rng.choice(np.flatnonzero(~screened), 20, replace=False)] = 1e3  # a's variance outside the screen
    near_copy = outliers + 1e-4 * rng.normal(size=n)  # dependent relative to the full variance, not the screen's
    varies_off_screen = np.where(screened, 1.0, 1.0 + 1e-8 * c)  # constant by the full check's criterion
    return {
        "full rank": ([a, b, c], None),
        "full rank far from zero": ([1e6 + a, b, c], None),  # sums about zero lose 12 digits of a's variance
        "exact dependence": ([a, b, a - 2 * b], ("x0", "x1", "x2")),
        "dependent on the screen only": ([a, twice_on_screen], None),
        "near copy beside outliers": ([outliers, near_copy, c], ("x0", "x1")),
        "constant": ([a, np.full(n, 3.0), b], ("x1",)),
        "constant on the screen only": ([a, varies_off_screen, b], ("x1",)),
    }


@pytest.mark.parametrize("given_sums", [None, "sums", "sums and Gram"], ids=["own pass", "sums given", "Gram given"])
@pytest.mark.parametrize("name", list(designs(np.random.default_rng(0))))
def test_rank_screen_cannot_miss_a_dependence_nor_report_a_false_one(monkeypatch, name, given_sums):
    """Alike whether the screen takes the columns' variances from a pass of its own or from their sums about zero
    (as a model's construction hands them over), which it must not trust where they cancel, and whether its Gram
    matrix comes from that pass (on data passed fused) or from its own."""
    columns, expected = designs(np.random.default_rng(5))[name]
    design = Design(np.ascontiguousarray(np.column_stack(columns)))
    weights = np.ones(design.n_samples)
    names = tuple(f"x{j}" for j in range(len(columns)))
    if given_sums == "sums and Gram":
        monkeypatch.setattr(fused, "FUSED_MIN_ELEMENTS", 0)
    sums = collinearity.column_sums(design.X, weights) if given_sums else None
    assert (sums is not None and sums.screen_gram is not None) == (given_sums == "sums and Gram")
    screened = collinearity.find_collinearity(design, weights, names, sums)
    monkeypatch.setattr(collinearity, "SCREEN_MIN_ROWS", np.inf)
    full = collinearity.find_collinearity(design, weights, names)
    assert screened == full
    assert (None if full is None else full.columns) == expected


@pytest.mark.parametrize("n", [20_000, 50_003, 123_457])
def test_the_screens_gram_from_the_values_pass_is_the_gram_of_the_screens_rows(monkeypatch, n):
    """The pass that checks the values (its rows in chunks, shared by threads) adds up the screen's rows, every k-th
    of them, as the screen's own product does: each chunk's first screened row is the first multiple of k in it."""
    monkeypatch.setattr(fused, "FUSED_MIN_ELEMENTS", 0)  # data of any size passed fused, as large data are
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 9)) + np.arange(9) * 10.0
    weights = rng.uniform(0.0, 2.0, n)
    sums = collinearity.column_sums(X, weights)
    every = slice(None, None, collinearity.screen_step(n, 9))
    expected = Design(X).take(every).gram(weights[every])
    np.testing.assert_allclose(sums.screen_gram, expected, rtol=0, atol=1e-13 * np.abs(expected).max())
    np.testing.assert_array_equal(sums.screen_gram, sums.screen_gram.T)
    np.testing.assert_allclose(sums.first, weights @ X, rtol=1e-12)
    np.testing.assert_allclose(sums.second, weights @ X**2, rtol=1e-12)


def test_rank_screen_proves_full_rank_of_an_ordinary_design_and_defers_when_it_cannot():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(50_000, 30)) @ rng.normal(size=(30, 30))  # correlated, condition number ~1e3
    assert collinearity._screen_proves_full_rank(Design(X), rng.uniform(0.5, 2.0, 50_000))
    X[:, 7] = X[:, 3] - X[:, 5]
    assert not collinearity._screen_proves_full_rank(Design(X), np.ones(50_000))
    X[:, 7] = X[:, 6] * 1e200  # overflowing squares: the full check rescales the columns
    assert not collinearity._screen_proves_full_rank(Design(X), np.ones(50_000))


# ---- separation after Newton, and what a small fit imports ----------------------------------------------
def test_separation_with_equal_margins_is_found_after_newton_converges():
    """Newton converges on these data with |eta| = 25 (below the saturation rule's 30) and a decrement below
    1e-10; the bound on the least likely other class still flags them, as it must every separated problem."""
    X, y = np.array([[-1.0], [-1.0], [-1.0], [1.0], [1.0], [1.0]]), np.array([0, 0, 0, 1, 1, 1])
    model = bl.LogisticModel(X, y)
    objective = model.objective()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bl.ConvergenceWarning)
        result = newton(objective, np.zeros(objective.n_free), value=objective.value)
    declared = result.iterations[-2]
    assert result.converged and declared.decrement <= 1e-10
    assert objective.least_likely_other_class(declared.x) <= 2 * declared.decrement
    with pytest.raises(bl.SeparationError, match="'x0' separates the classes completely"):
        model.fit_ml()


def test_ml_on_wells_imports_neither_the_linear_programs_nor_formulaic():
    code = (
        "import sys, bayeslogit as bl\n"
        "wells = bl.datasets.load_wells()\n"
        "fit = bl.LogisticModel(wells[['dist100', 'arsenic']], wells['switched']).fit_ml()\n"
        "print(fit.coef.round(4).tolist())\n"
        "print(sorted(m for m in ('scipy.optimize', 'scipy.sparse', 'formulaic', 'threadpoolctl', "
        "'bayeslogit.plots') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.splitlines() == ["[0.0027, -0.8966, 0.4608]", "[]"]


def test_blas_threads_are_limited_inside_the_context_and_restored_after_it():
    """Passes that run threads of their own hold every BLAS library loaded (NumPy's and SciPy's) to one thread."""
    from threadpoolctl import threadpool_info

    from bayeslogit.numerics.blas_threads import blas_threads

    def blas_pools() -> dict:
        return {pool["filepath"]: pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    before = blas_pools()
    with blas_threads(1):
        assert set(blas_pools().values()) == {1} and blas_pools().keys() == before.keys()
    with blas_threads(None):
        assert blas_pools() == before
    assert blas_pools() == before


@pytest.mark.parametrize(
    "n, share, run",
    [(30_000, 0.1, 1), (500_000, 0.01, 1), (1_001, 0.3, 1), (7, 0.5, 1), (500_000, 0.1, 16), (1_001, 0.3, 4)],
)
def test_stratified_rows_take_one_run_of_each_stratum(n, share, run):
    """m = round(share n / run) runs of ``run`` consecutive rows, sorted and distinct, the i-th in
    [floor(i n / m), floor((i + 1) n / m)): a subsample spread over rows in any order, e.g. panels in periods of
    10, where every 10th row would take one period's rows alone."""
    rows = stratified_rows(n, share, np.random.default_rng(2), run)
    m = round(share * n / run)
    assert len(rows) == m * run and np.all(np.diff(rows) > 0) and rows[0] >= 0 and rows[-1] < n
    runs = rows.reshape(m, run)
    assert np.all(np.diff(runs, axis=1) == 1)
    edges = np.arange(m + 1) * n // m
    assert np.all(runs[:, 0] >= edges[:-1]) and np.all(runs[:, -1] < edges[1:])
    for length in (1, SUBSAMPLE_RUN):
        periods = stratified_rows(100_000, 0.1, np.random.default_rng(3), length) % 10
        assert np.bincount(periods, minlength=10).min() > 800  # each of 10 phases about 1,000 times


def test_subsamples_of_rows_sorted_by_class_fit_like_shuffled_ones():
    """Rows sorted by their label: the subsamples are stratified along the rows, so they hold both classes in
    their share, and the fit equals Newton's on all rows."""
    X, y = simulate(40_000, 15, 2, seed=8)
    order = np.argsort(y, kind="stable")
    objective = bl.LogisticModel(X[order], y[order]).objective()
    fast = fit_newton(objective)
    exact = newton(objective, np.zeros(objective.n_free), value=objective.value)
    assert fast.hess is None  # the subsampled path, not the hand-over to Newton
    np.testing.assert_allclose(fast.x, exact.x, rtol=0, atol=1e-9)
