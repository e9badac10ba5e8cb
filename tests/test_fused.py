"""The fused passes (one read of each row, on every core) against NumPy's block passes, and their determinism."""

import multiprocessing

import numpy as np
import pytest

from bayeslogit.numerics import fused, fused_hessian, fused_kernels
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.families import FAMILIES
from bayeslogit.numerics.objective import Objective
from bayeslogit.numerics.prior_densities import GaussianTerm

CASES = [  # (family, n_classes, parameterization)
    ("bernoulli", 2, "reference"),
    ("categorical", 3, "reference"),
    ("categorical", 4, "symmetric"),
]
N_ROWS = 3 * fused.CHUNK_ROWS + 77  # several chunks, the last one short, and a last batch shorter than the others


def objectives(rng, family, n_classes, parameterization, intercept=True, unit_weights=False, every=1):
    """The same objective twice: passes fused (at any size), and NumPy's blocks (``block_rows`` given)."""
    X = rng.normal(size=(N_ROWS * every, 6))[::every]  # every > 1: rows that are not contiguous in memory
    y = rng.integers(0, n_classes, len(X))
    weights = np.ones(len(X)) if unit_weights else rng.uniform(0.5, 2.0, len(X))
    common = (FAMILIES[family](parameterization), Design(X, intercept), y, weights, n_classes)
    prior = GaussianTerm(np.full(6 + intercept, 2.0))
    return Objective(*common, prior), Objective(*common, prior, block_rows=1000)


@pytest.fixture
def fused_at_any_size(monkeypatch):
    monkeypatch.setattr(fused, "FUSED_MIN_ELEMENTS", 0)


@pytest.mark.usefixtures("fused_at_any_size")
@pytest.mark.parametrize("family, n_classes, parameterization", CASES)
@pytest.mark.parametrize("intercept, unit_weights, every", [(True, False, 1), (False, True, 1), (True, True, 3)])
def test_fused_value_and_gradient_equal_the_block_passes(rng, family, n_classes, parameterization, intercept,
                                                         unit_weights, every):  # fmt: skip
    """Two summation orders of about 12,000 terms of size ~1 (and the kernels' vector width depends on the
    processor): they agree within n eps of the total, 1.4e-12, in value, and likewise in the gradient."""
    fast, blocks = objectives(rng, family, n_classes, parameterization, intercept, unit_weights, every)
    assert fast._fused and not blocks._fused
    for u in rng.normal(scale=0.7, size=(3, fast.n_free)):
        value, grad = fast.value_and_gradient(u)
        reference_value, reference_grad = blocks.value_and_gradient(u)
        assert value == pytest.approx(reference_value, rel=2e-12)
        assert fast.value(u) == pytest.approx(reference_value, rel=2e-12)
        np.testing.assert_allclose(grad, reference_grad, rtol=0, atol=2e-12 * np.abs(reference_grad).sum())


@pytest.mark.usefixtures("fused_at_any_size")
@pytest.mark.parametrize("family, n_classes, parameterization", CASES)
@pytest.mark.parametrize("intercept, unit_weights, every", [(True, False, 1), (False, True, 1), (True, True, 3)])
def test_fused_hessian_equals_the_block_passes(rng, family, n_classes, parameterization, intercept, unit_weights,
                                               every):  # fmt: skip
    """Value, gradient and Hessian of the fused pass (one read of each row, a matrix product per class pair and
    batch) against NumPy's blocks: sums of about 12,000 terms in other orders, within n eps of the totals (1.4e-12);
    the Hessian exactly symmetric, as Newton's Cholesky factorisation expects."""
    fast, blocks = objectives(rng, family, n_classes, parameterization, intercept, unit_weights, every)
    for u in rng.normal(scale=0.7, size=(2, fast.n_free)):
        value, grad, hess = fast(u)
        reference_value, reference_grad, reference_hess = blocks(u)
        assert value == pytest.approx(reference_value, rel=2e-12)
        np.testing.assert_allclose(grad, reference_grad, rtol=0, atol=2e-12 * np.abs(reference_grad).sum())
        np.testing.assert_allclose(hess, reference_hess, rtol=0, atol=2e-12 * np.abs(reference_hess).max())
        np.testing.assert_array_equal(hess, hess.T)


@pytest.mark.usefixtures("fused_at_any_size")
def test_fused_hessian_keeps_the_curvature_of_nearly_certain_rows(rng):
    """Rows of probability 1 - 1e-12: the fused curvature ``p (1 - p)`` is the block passes' to 1e-9 relative (a
    curvature taken as ``p - p^2`` would keep none of its digits)."""
    fast, blocks = objectives(rng, "bernoulli", 2, "reference")
    u = np.zeros(fast.n_free)
    u[0] = 27.6  # the intercept: e^-27.6 = 1e-12
    prior = np.diag(fast.prior.hessian_diagonal(fast.coef(u)).ravel())  # 1 / 2^2 on the diagonal
    hess, reference = fast(u)[2] - prior, blocks(u)[2] - prior
    assert reference[0, 0] == pytest.approx(fast.weights.sum() * 1.03e-12, rel=0.02)
    np.testing.assert_allclose(hess, reference, rtol=1e-9)


@pytest.mark.usefixtures("fused_at_any_size")
@pytest.mark.parametrize("family, n_classes, parameterization", CASES)
def test_fused_hessian_does_not_depend_on_the_threads(rng, monkeypatch, family, n_classes, parameterization):
    fast, _ = objectives(rng, family, n_classes, parameterization)
    u = rng.normal(scale=0.5, size=fast.n_free)
    shared = fast(u)
    monkeypatch.setattr(fused, "_n_workers", lambda: 1)
    alone = fast(u)
    assert shared[0] == alone[0]
    np.testing.assert_array_equal(shared[1], alone[1])
    np.testing.assert_array_equal(shared[2], alone[2])


def test_fused_hessian_chunks_bound_their_memory():
    """Chunks of 4,096 rows unless their Hessians would pass 2^22 values: then fewer, longer ones (whole batches)."""
    assert fused_hessian._chunk_rows(500_000, 51 * 51) == fused.CHUNK_ROWS
    rows = fused_hessian._chunk_rows(500_000, 10 * 300 * 300)
    assert rows % fused_hessian.BATCH_ROWS == 0
    shorter = rows - fused_hessian.BATCH_ROWS
    assert -(-500_000 // rows) * 10 * 300 * 300 <= fused_hessian.SLOT_VALUES < -(-500_000 // shorter) * 900_000


def test_subsets_of_a_fused_objective_run_fused(rng):
    """Newton's row subsamples of a large problem take the compiled passes too, however few their rows."""
    X = rng.normal(size=(fused.FUSED_MIN_ELEMENTS // 4 + 1, 3))
    objective = Objective(FAMILIES["bernoulli"]("reference"), Design(X, True), rng.integers(0, 2, len(X)),
                          np.ones(len(X)), 2, GaussianTerm(np.full(4, 2.0)))  # fmt: skip
    assert objective._fused
    small = objective.subset(np.arange(100))
    assert small._fused and small.design.n_samples * small.n_free < fused.FUSED_MIN_ELEMENTS
    reference = Objective(small.family, small.design, small.y, small.weights, 2, small.prior)
    assert not reference._fused
    u = rng.normal(size=4)
    np.testing.assert_allclose(small(u)[2], reference(u)[2], rtol=1e-12)


@pytest.mark.parametrize("family, n_classes, parameterization", CASES)
@pytest.mark.parametrize("fused_rows", [True, False], ids=["fused", "blocks"])
@pytest.mark.parametrize("borrowed", [False, True], ids=["own Hessian", "Hessian given"])
def test_a_subsample_copied_by_its_first_pass_is_the_subsample(rng, monkeypatch, family, n_classes, parameterization,
                                                                fused_rows, borrowed):  # fmt: skip
    """subset_at(rows, u) gives the subset whose rows are X[rows] (copied by the fused pass at u, in rows that are
    not contiguous too) and, bit for bit, the derivatives that subset(rows)(u) gives; given a Hessian, the same value
    and gradient, and that Hessian in place of the subset's (the pass computes none)."""
    if fused_rows:
        monkeypatch.setattr(fused, "FUSED_MIN_ELEMENTS", 0)
    objective, _ = objectives(rng, family, n_classes, parameterization, every=2)
    rows = np.sort(rng.choice(objective.design.n_samples, 3000, replace=False))
    u = rng.normal(size=objective.n_free) * 0.3
    given = np.eye(objective.n_free) if borrowed else None
    subset, at_u = objective.subset_at(rows, u, given)
    copied = objective.subset(rows)
    np.testing.assert_array_equal(subset.design.X, objective.design.X[rows])
    np.testing.assert_array_equal(subset.weights, copied.weights)
    expected = copied(u)
    for part, own in zip(at_u[:2], expected[:2], strict=True):
        np.testing.assert_array_equal(part, own)
    assert at_u[2] is given if borrowed else np.array_equal(at_u[2], expected[2])
    for part, own in zip(subset(u), expected, strict=True):  # the pass after reads the copy
        np.testing.assert_array_equal(part, own)


@pytest.mark.usefixtures("fused_at_any_size")
@pytest.mark.parametrize("family, n_classes, parameterization", CASES)
def test_a_fused_pass_hands_over_the_largest_linear_predictor(rng, monkeypatch, family, n_classes, parameterization):
    """The pass's max |eta| is NumPy's at the coefficients of that pass (the same products, summed in another order:
    1e-13), and the objective answers from it without a pass of its own; at other coefficients it passes anew."""
    fast, _ = objectives(rng, family, n_classes, parameterization)
    u, elsewhere = rng.normal(scale=0.5, size=(2, fast.n_free))
    fast.value_and_gradient(u)
    B = fast.coef(u)
    expected = float(np.abs(fast.design.linear_predictor(B)).max())
    passes = []
    own_pass = Design.largest_linear_predictor
    monkeypatch.setattr(Design, "largest_linear_predictor", lambda self, B: passes.append(B) or own_pass(self, B))
    assert fast.largest_linear_predictor(B) == pytest.approx(expected, rel=1e-13) and not passes
    other = fast.coef(elsewhere)
    assert fast.largest_linear_predictor(other) == pytest.approx(
        np.abs(fast.design.linear_predictor(other)).max(), rel=1e-13
    )
    assert len(passes) == 1
    X = fast.design.X.copy()
    X[5, 2] = np.nan
    poisoned = Objective(fast.family, Design(X, True), fast.y, fast.weights, n_classes, fast.prior)
    poisoned.value(u)
    assert np.isnan(poisoned.largest_linear_predictor(B))


@pytest.mark.usefixtures("fused_at_any_size")
def test_fused_passes_stay_exact_at_extreme_logits(rng):
    """Logits of |800| and beyond: the value is the sum of |eta| over the wrongly classified rows, the gradient
    finite, as in the block passes, in the pass for the value and gradient and in the one with the Hessian."""
    fast, blocks = objectives(rng, "bernoulli", 2, "reference")
    u = rng.choice([-1.0, 1.0], size=fast.n_free) * 300.0
    value, grad = fast.value_and_gradient(u)
    reference_value, reference_grad = blocks.value_and_gradient(u)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert value == pytest.approx(reference_value, rel=2e-12)
    np.testing.assert_allclose(grad, reference_grad, rtol=0, atol=2e-12 * np.abs(reference_grad).sum())
    value, grad, hess = fast(u)  # the pass with the Hessian, its exponentials taken as the value's are
    reference_value, reference_grad, reference_hess = blocks(u)
    assert value == pytest.approx(reference_value, rel=2e-12)
    np.testing.assert_allclose(grad, reference_grad, rtol=0, atol=2e-12 * np.abs(reference_grad).sum())
    np.testing.assert_allclose(hess, reference_hess, rtol=0, atol=1e-12 * np.abs(reference_hess).max())


@pytest.mark.usefixtures("fused_at_any_size")
@pytest.mark.parametrize("family, n_classes, parameterization", CASES)
def test_fused_results_do_not_depend_on_the_threads(rng, monkeypatch, family, n_classes, parameterization):
    """Each chunk's sums kept apart and added in order: one thread or two give the same bits."""
    fast, _ = objectives(rng, family, n_classes, parameterization)
    u = rng.normal(scale=0.5, size=fast.n_free)
    shared = fast.value_and_gradient(u)
    monkeypatch.setattr(fused, "_n_workers", lambda: 1)
    alone = fast.value_and_gradient(u)
    assert shared[0] == alone[0]
    np.testing.assert_array_equal(shared[1], alone[1])


def test_passes_switch_to_fused_only_on_large_data(rng):
    """Below the threshold no compiled kernel is used (so small fits never import the compiler)."""
    small, _ = objectives(rng, "bernoulli", 2, "reference")
    assert small.design.n_samples * small.n_free < fused.FUSED_MIN_ELEMENTS and not small._fused
    assert fused.fused_applies(fused.FUSED_MIN_ELEMENTS, small.family)
    assert not fused.fused_applies(fused.FUSED_MIN_ELEMENTS - 1, small.family)


@pytest.mark.usefixtures("fused_at_any_size")
def test_fused_moments_and_largest_predictor_equal_numpy(rng):
    X = rng.normal(loc=3.0, size=(N_ROWS, 5))
    weights = rng.uniform(0.0, 2.0, N_ROWS)
    center = X.mean(axis=0)
    first, second = Design(X, False).moments(weights, center)
    np.testing.assert_allclose(first, weights @ (X - center), rtol=1e-10, atol=1e-10 * N_ROWS)
    np.testing.assert_allclose(second, weights @ (X - center) ** 2, rtol=2e-12)  # sums of 12,000 positive terms: n eps
    B = rng.normal(size=(6, 2))
    largest = Design(X, True).largest_linear_predictor(B)
    assert largest == pytest.approx(np.abs(X @ B[1:] + B[0]).max(), rel=1e-13)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_sum_is_finite_finds_one_bad_value_in_any_chunk(rng, bad):
    X = rng.normal(size=(N_ROWS, 4))
    assert fused.sum_is_finite(X)
    X[N_ROWS - 3, 2] = bad
    assert not fused.sum_is_finite(X)


def _value_in_child(objective, u) -> float:
    return objective.value(u)


@pytest.mark.usefixtures("fused_at_any_size")
def test_a_process_forked_after_a_fused_pass_runs_its_own(rng):
    """The parent's pool threads do not exist in a forked child: the child makes its own pool instead of waiting
    on threads that will never run."""
    fast, _ = objectives(rng, "bernoulli", 2, "reference")
    u = rng.normal(scale=0.5, size=fast.n_free)
    expected = fast.value(u)  # the parent's pool now has threads
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_value_in_child, (fast, u)).get(timeout=120) == expected


def test_shared_work_keeps_few_results_ahead_of_the_caller(monkeypatch):
    """The Hessian's blocks each make P x P matrices per class pair: however many blocks, at most two per thread
    are computed ahead of the one the caller adds next."""
    monkeypatch.setattr(fused, "_n_workers", lambda: 2)
    started = []
    for taken, result in enumerate(fused.map_in_order(lambda item: started.append(item) or item, list(range(40)))):
        assert result == taken
        assert len(started) <= taken + 1 + 2 * 2


def test_kernels_compile_without_a_writable_cache(monkeypatch):
    """Where Numba finds no writable place for its cache (a read-only installation), the kernels are compiled in
    the process instead of failing."""
    import numba

    njit = numba.njit

    def no_cache(*args, cache=False, **options):
        if cache:
            raise RuntimeError("cannot cache function '_moment_chunks': no locator available for file fused.py")
        return njit(*args, **options)

    monkeypatch.setattr(numba, "njit", no_cache)
    fused._compile.cache_clear()
    try:
        X = np.arange(12.0).reshape(6, 2)
        first, second, _ = fused.column_moments(X, np.ones(6), np.zeros(2))
        np.testing.assert_array_equal(first, X.sum(axis=0))
        np.testing.assert_array_equal(second, (X**2).sum(axis=0))
    finally:
        fused._compile.cache_clear()


def test_the_kernels_exponential_is_numpys_within_an_ulp():
    """The vectorised ``e^x`` of the kernels (x <= 0) against ``np.exp``: within 1.5 ulp from 0 down to -708 (2e6
    points, and 1e6 of the logits' usual size); exact at 0; e^-708 below, as documented; NaN for NaN."""
    import numba

    exp = numba.njit(error_model="numpy")(fused_kernels._exp_nonpositive)
    x = np.concatenate(
        [-np.linspace(0.0, 708.0, 2_000_000), -np.abs(np.random.default_rng(1).normal(scale=3, size=10**6))]
    )
    out, powers = np.empty_like(x), np.empty(len(x), dtype=np.int64)
    exp(x, out, powers, len(x))
    assert np.abs(out / np.exp(x) - 1.0).max() <= 1.5 * np.finfo(float).eps
    assert out[0] == 1.0
    low = np.array([-708.5, -745.0, -1e300, -np.inf, np.nan])
    exp(low, low, powers, 5)
    np.testing.assert_allclose(low[:4], np.exp(-708.0), rtol=2 * np.finfo(float).eps)
    assert np.isnan(low[4])


@pytest.mark.parametrize("reference", [True, False])
@pytest.mark.parametrize("M", [1, 2, 4])
def test_the_softmax_shift_finds_each_rows_largest_logit_and_the_largest_absolute_one(rng, reference, M):
    """The helper against NumPy: logits plus the base, each row's largest (class 0's 0 among them when
    ``reference``), the shifted logits, and the largest |logit| over the rows; NaN where a logit or the running
    largest is NaN, infinite where a logit is."""
    import numba

    shift = numba.njit(error_model="numpy")(fused_kernels._shift_by_largest)
    logits, base = rng.normal(scale=5, size=(50, M)), rng.normal(size=M)
    classes = np.column_stack([np.zeros(50), logits + base]) if reference else logits + base
    top, shifted = np.empty(50), np.empty(50 * classes.shape[1])
    assert shift(logits.copy(), base, reference, top, shifted, 50, 0.0) == np.abs(classes).max()
    np.testing.assert_array_equal(top, classes.max(axis=1))
    np.testing.assert_array_equal(shifted.reshape(classes.shape), classes - classes.max(axis=1, keepdims=True))
    assert shift(logits.copy(), base, reference, top, shifted, 50, 1e300) == 1e300
    assert np.isnan(shift(logits.copy(), base, reference, top, shifted, 50, np.nan))
    for row, value in ((0, np.nan), (49, np.nan), (7, np.inf), (7, -np.inf)):
        bad = logits.copy()
        bad[row, M - 1] = value
        largest = shift(bad, base, reference, top, shifted, 50, 0.0)
        assert np.isnan(largest) if np.isnan(value) else largest == np.inf
