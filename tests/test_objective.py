"""The objective's gradient and Hessian against finite differences, exact values and identities."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from bayeslogit.numerics.design import Design
from bayeslogit.numerics.families import FAMILIES
from bayeslogit.numerics.objective import Objective
from bayeslogit.numerics.prior_densities import GaussianTerm

CASES = [  # (family, n_classes, parameterization)
    ("bernoulli", 2, "reference"),
    ("categorical", 2, "reference"),
    ("categorical", 3, "reference"),
    ("categorical", 4, "symmetric"),
]


def make_objective(rng, family, n_classes, parameterization, intercept=True, n=60, p=3, block_rows=None, precision=0.3):
    X = rng.normal(size=(n, p))
    y = rng.integers(0, n_classes, n)
    weights = rng.uniform(0.5, 2.0, n)
    scale = np.inf if precision == 0 else 1 / np.sqrt(precision)
    return Objective(
        FAMILIES[family](parameterization),
        Design(X, intercept),
        y,
        weights,
        n_classes,
        GaussianTerm(np.full(p + intercept, scale)),
        block_rows=block_rows,
    )


def finite_difference(f, u, eps=1e-6):
    """Central differences of f (scalar or vector valued) along each coordinate: (n, ...)."""
    return np.array([(f(u + eps * e) - f(u - eps * e)) / (2 * eps) for e in np.eye(len(u))])


def relative_error(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("family, n_classes, parameterization", CASES)
@pytest.mark.parametrize("intercept", [True, False])
def test_gradient_and_hessian_match_finite_differences(rng, family, n_classes, parameterization, intercept):
    objective = make_objective(rng, family, n_classes, parameterization, intercept, block_rows=7)
    u = rng.normal(scale=2.0, size=objective.n_free)
    value, grad, hess = objective(u)
    assert value == pytest.approx(objective.value(u), rel=1e-13)
    # central differences have error O(eps^2 f''') ~ 1e-10 relative; 1e-6 leaves room for rounding
    assert relative_error(grad, finite_difference(objective.value, u)) < 1e-6
    assert relative_error(hess, finite_difference(lambda v: objective(v)[1], u)) < 1e-6
    np.testing.assert_array_equal(hess, hess.T)


@pytest.mark.parametrize("family, n_classes, parameterization", CASES)
@pytest.mark.parametrize("scale", [2.0, 300.0])
def test_gradient_pass_equals_the_full_pass(rng, family, n_classes, parameterization, scale):
    """value_and_gradient (class probabilities less the observed class) and __call__ (the family's
    derivatives) are two routes to the same value and gradient, also at logits of |800|."""
    objective = make_objective(rng, family, n_classes, parameterization, block_rows=7)
    u = rng.normal(scale=scale, size=objective.n_free)
    value, grad = objective.value_and_gradient(u)
    full_value, full_grad, _ = objective(u)
    assert value == pytest.approx(full_value, rel=1e-13)
    np.testing.assert_allclose(grad, full_grad, rtol=1e-12, atol=1e-12 * np.abs(full_grad).max())


@pytest.mark.parametrize("family, n_classes, parameterization", CASES)
def test_least_likely_other_class_is_the_smallest_weighted_probability(rng, family, n_classes, parameterization):
    objective = make_objective(rng, family, n_classes, parameterization, block_rows=7)
    weights = objective.weights.copy()
    weights[::5] = 0.0  # rows of weight 0 do not count
    objective = Objective(
        objective.family,
        objective.design,
        objective.y,
        weights,
        n_classes,
        objective.prior,
        objective.transform,
        block_rows=7,
    )
    u = rng.normal(scale=3.0, size=objective.n_free)
    proba = np.exp(objective.family.log_probabilities(objective.design.linear_predictor(objective.coef(u))))
    proba[np.arange(len(proba)), objective.y] = np.inf
    counted = weights > 0
    expected = (weights[counted, None] * proba[counted]).min()
    assert objective.least_likely_other_class(u) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("family, n_classes, parameterization", CASES)
def test_extreme_logits_stay_finite_and_exact(rng, family, n_classes, parameterization):
    """Logits of |800| overflow exp() in float64; log-space formulas must not."""
    objective = make_objective(rng, family, n_classes, parameterization, n=40, precision=0.0)
    u = rng.choice([-1.0, 1.0], size=objective.n_free) * 300.0
    value, grad, hess = objective(u)
    assert np.isfinite(value) and np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))
    assert np.abs(objective.design.linear_predictor(objective.coef(u))).max() > 800
    assert relative_error(grad, finite_difference(objective.value, u, eps=1e-4)) < 1e-6


def test_bernoulli_exact_value_at_extreme_logits():
    """nll(eta, y) = log(1 + e^eta) - y eta: 800 for (800, 0), ~e^-800 for (800, 1), log 2 at 0."""
    bernoulli = FAMILIES["bernoulli"]("reference")
    eta = np.array([[800.0], [800.0], [-800.0], [0.0]])
    y = np.array([0, 1, 1, 1])
    value, d1, d2 = bernoulli.derivatives(eta, y, np.ones(4))
    assert value == pytest.approx(800.0 + 800.0 + np.log(2.0), rel=1e-15)
    np.testing.assert_allclose(d1[:, 0], [1.0, 0.0, -1.0, -0.5], atol=1e-300)
    np.testing.assert_allclose(d2[:, 0, 0], [np.exp(-800.0), np.exp(-800.0), np.exp(-800.0), 0.25], rtol=1e-12)


def test_bernoulli_equals_two_class_categorical(rng):
    """The sigmoid is the two-class softmax with the first class as reference."""
    binary = make_objective(rng, "bernoulli", 2, "reference")
    categorical = Objective(
        FAMILIES["categorical"]("reference"), binary.design, binary.y, binary.weights, 2, binary.prior
    )
    u = rng.normal(size=binary.n_free)
    for a, b in zip(binary(u), categorical(u)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_value_equals_hand_computed_sum(rng):
    objective = make_objective(rng, "bernoulli", 2, "reference", precision=0.5)
    u = rng.normal(size=objective.n_free)
    eta = objective.design.X @ u[1:] + u[0]
    p = expit(eta)
    expected = -np.sum(objective.weights * (objective.y * np.log(p) + (1 - objective.y) * np.log1p(-p)))
    expected += 0.5 * 0.5 * np.sum(u**2)
    assert objective.value(u) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("family, n_classes, parameterization", CASES)
def test_weight_two_equals_duplicated_rows(rng, family, n_classes, parameterization):
    objective = make_objective(rng, family, n_classes, parameterization, n=30)
    weights = rng.integers(1, 3, size=30).astype(float)
    rows = np.repeat(np.arange(30), weights.astype(int))
    weighted = Objective(objective.family, objective.design, objective.y, weights, n_classes, objective.prior)
    duplicated = Objective(
        objective.family, objective.design.take(rows), objective.y[rows], np.ones(len(rows)), n_classes, objective.prior
    )
    u = rng.normal(size=objective.n_free)
    for a, b in zip(weighted(u), duplicated(u)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-10)


def test_block_evaluation_equals_single_pass(rng):
    whole = make_objective(rng, "categorical", 3, "reference", n=500)
    blocked = Objective(whole.family, whole.design, whole.y, whole.weights, 3, whole.prior, block_rows=37)
    u = rng.normal(size=whole.n_free)
    for a, b in zip(whole(u), blocked(u)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-10)


def test_subset_rescales_to_full_sample(rng):
    objective = make_objective(rng, "bernoulli", 2, "reference", n=400)
    half = objective.subset(np.arange(200))
    assert half.weights.sum() == pytest.approx(objective.weights.sum())
    assert half.design.n_samples == 200


def summation_bound(n: int, absolute_sum: np.ndarray) -> np.ndarray:
    """How far two float sums of the same ``n`` products, in any order, can be apart. Each product is rounded at
    most 5 times (``sqrt(w) x`` twice, then their product) and the sum's ``n - 1`` additions once each, so each
    side is within ``gamma_{n+4} sum|t_i| ~ (n + 4) u sum|t_i|`` of the exact sum (u = eps / 2), and the two within
    ``(n + 5) eps sum|t_i|``. An entry that cancels (0.1 from terms of absolute sum 50, off the diagonal of the
    Gram matrix of centred columns) can differ by far more than a relative 1e-12 from one summation order to
    another, so a relative tolerance does not hold for every BLAS kernel."""
    return (n + 5) * np.finfo(float).eps * absolute_sum


def test_design_gram_equals_dense_product(rng):
    X = rng.normal(size=(300, 4))
    weights = rng.uniform(size=300)
    Z = np.column_stack([np.ones(300), X])
    bound = summation_bound(300, np.abs(Z).T @ (weights[:, None] * np.abs(Z)))
    np.testing.assert_array_less(np.abs(Design(X, True).gram(weights) - Z.T @ (weights[:, None] * Z)), bound)


@pytest.mark.parametrize("intercept", [True, False])
def test_design_products_and_moments_equal_dense_ones(rng, intercept):
    X = rng.normal(loc=5.0, size=(3000, 4))
    weights, d, center = rng.uniform(size=3000), rng.normal(size=(3000, 2)), rng.normal(size=4)
    design = Design(X, intercept)
    Z = np.column_stack([np.ones(3000), X]) if intercept else X
    np.testing.assert_array_less(
        np.abs(design.transpose_product(d) - Z.T @ d), summation_bound(3000, np.abs(Z).T @ np.abs(d))
    )
    first, second = design.moments(weights, center)
    np.testing.assert_allclose(first, weights @ (X - center), rtol=1e-10)
    np.testing.assert_allclose(second, weights @ (X - center) ** 2, rtol=1e-12)
    B = rng.normal(size=(design.n_coef, 2))
    assert design.largest_linear_predictor(B) == pytest.approx(np.abs(Z @ B).max(), rel=1e-14)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_classes=st.integers(2, 4),
    scale=st.floats(1e-3, 1e3),
)
def test_gradient_is_invariant_to_row_order_and_equivariant_to_column_scale(seed, n_classes, scale):
    """Permuting rows leaves value, gradient and Hessian unchanged; scaling a column by c scales its
    coefficient's gradient by c at the correspondingly scaled point (up to rounding)."""
    rng = np.random.default_rng(seed)
    objective = make_objective(rng, "categorical", n_classes, "reference", n=25, precision=0.0)
    u = rng.normal(size=objective.n_free)
    permutation = rng.permutation(25)
    permuted = Objective(
        objective.family,
        objective.design.take(permutation),
        objective.y[permutation],
        objective.weights[permutation],
        n_classes,
        objective.prior,
    )
    for a, b in zip(objective(u), permuted(u)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
    X = objective.design.X.copy()
    X[:, 0] *= scale
    scaled = Objective(objective.family, Design(X, True), objective.y, objective.weights, n_classes, objective.prior)
    B = objective.coef(u).copy()
    B[1] /= scale
    value, grad = scaled.value_and_gradient(B.ravel(order="F"))
    reference_value, reference_grad = objective.value_and_gradient(u)
    assert value == pytest.approx(reference_value, rel=1e-10)
    expected = reference_grad.reshape(B.shape, order="F").copy()
    expected[1] *= scale
    np.testing.assert_allclose(grad, expected.ravel(order="F"), rtol=1e-8, atol=1e-8 * max(1.0, scale))


@pytest.mark.parametrize("family, n_classes, parameterization", [CASES[0], CASES[2]])
def test_values_of_draws_on_many_rows_match_the_exact_sum(rng, family, n_classes, parameterization):
    """Past EXACT_DRAW_ROWS rows the values at the draws are the exact expansion plus a subsample's remainder.

    Draws spread about the posterior's scale (sd 2/sqrt(n) per coefficient) around a point off the mode. The
    importance weights see only differences between draws, and an error of 0.02 changes any weight by 2 % at
    most; measured errors are 0.002-0.005, and the expansion without the remainder misses by 0.05-0.12.
    """
    from bayeslogit.numerics.draw_values import EXACT_DRAW_ROWS
    from bayeslogit.numerics.predictive import total_log_likelihood

    n = 3 * EXACT_DRAW_ROWS
    objective = make_objective(rng, family, n_classes, parameterization, n=n, p=4)
    P, M = objective.shape
    centre = rng.normal(scale=0.3, size=(P, M))
    draws = centre + rng.normal(scale=2 / np.sqrt(n), size=(400, P, M))
    exact = 0.5 * (draws**2).sum(axis=2) @ (1 / objective.prior.scale**2) - total_log_likelihood(
        objective.family, objective.design, objective.y, objective.weights, draws
    )
    error = objective.values_of_draws(draws) - exact
    assert np.ptp(exact) > 10
    assert np.abs(error).max() < 0.02


def test_one_log_sigmoid_serves_every_bernoulli_quantity(rng):
    """``log sig`` is written once (links.log_sigmoid): it equals scipy's to a few ulp across the whole range, and
    the Bernoulli value, derivative pass and per-row log-likelihood are built on it exactly."""
    from scipy.special import log_expit

    from bayeslogit.numerics.links import log_sigmoid, log_sigmoid_pair, sigmoid_pair, softplus

    eta = np.concatenate([rng.normal(scale=scale, size=500) for scale in (0.01, 1.0, 30.0, 700.0)])
    exact = log_expit(eta)
    np.testing.assert_allclose(log_sigmoid(eta), exact, rtol=4 * np.finfo(float).eps, atol=0)
    np.testing.assert_array_equal(softplus(eta), -log_sigmoid(-eta))
    np.testing.assert_array_equal(log_sigmoid_pair(eta), (log_sigmoid(eta), log_sigmoid(-eta)))
    y = rng.integers(0, 2, eta.size)
    weights = rng.uniform(0.5, 2.0, eta.size)
    family = FAMILIES["bernoulli"]("reference")
    nll = softplus(eta) - y * eta
    value, d1, d2 = family.derivatives(eta[:, None], y, weights)
    assert value == family.value(eta[:, None], y, weights) == family.first_derivatives(eta[:, None], y, weights)[0]
    assert value == float(weights @ nll)
    np.testing.assert_array_equal(family.log_likelihood(eta[:, None], y), log_sigmoid(np.where(y == 1, eta, -eta)))
    p1, p0 = sigmoid_pair(eta)
    np.testing.assert_array_equal(d1[:, 0], weights * (p1 - y))
    np.testing.assert_array_equal(d2[:, 0, 0], weights * (p1 * p0))


@pytest.mark.parametrize("parameterization", ["reference", "symmetric"])
def test_categorical_passes_share_one_softmax(rng, parameterization):
    """The value alone, the first derivatives and the full pass give the same value and gradient, bit for bit."""
    family = FAMILIES["categorical"](parameterization)
    M = family.n_linear_predictors(4)
    eta, y, weights = rng.normal(scale=3.0, size=(300, M)), rng.integers(0, 4, 300), rng.uniform(0.5, 2.0, 300)
    value, d1 = family.first_derivatives(eta, y, weights)
    full_value, full_d1, d2 = family.derivatives(eta, y, weights)
    assert value == full_value == family.value(eta, y, weights)
    np.testing.assert_array_equal(d1, full_d1)
    p = np.exp(family.log_probabilities(eta))[:, 4 - M :]
    np.testing.assert_allclose(
        d2, weights[:, None, None] * (np.einsum("ij,jk->ijk", p, np.eye(M)) - p[:, :, None] * p[:, None, :]), atol=1e-15
    )


@pytest.mark.parametrize("n_items, values_per_item", [(0, 3), (1, 10**9), (10, 3), (1_000, 700), (10**6, 20)])
def test_blocks_cover_every_item_in_order_and_hold_at_most_the_block_values(n_items, values_per_item):
    from bayeslogit.numerics.blocks import BLOCK_VALUES, block_slices

    slices = list(block_slices(n_items, values_per_item))
    assert [index for s in slices for index in range(s.start, s.stop)] == list(range(n_items))
    assert all(0 < (s.stop - s.start) * values_per_item <= max(BLOCK_VALUES, values_per_item) for s in slices)
    assert [s.stop - s.start for s in block_slices(10, values_per_item, length=4)] == [4, 4, 2]


@pytest.mark.parametrize("family, n_classes, parameterization", [CASES[0], CASES[2], CASES[3]])
def test_predictions_over_draws_do_not_depend_on_the_block_size(rng, monkeypatch, family, n_classes, parameterization):
    """Blocks of one row and a few draws, spread over threads, give what one block gives, to rounding."""
    from bayeslogit.numerics import blocks, predictive

    objective = make_objective(rng, family, n_classes, parameterization, n=40)
    P, M = objective.shape
    draws = rng.normal(scale=0.5, size=(37, P, M))
    rows = (objective.family, objective.design)
    labelled = (*rows, objective.y, objective.weights)

    def answers():
        return [
            predictive.average_log_proba(*rows, draws),
            predictive.proba_moments(*rows, draws)[1],
            predictive.proba_per_draw(*rows, draws),
            predictive.log_likelihood_per_draw(*labelled, draws),
            predictive.total_log_likelihood(*labelled, draws),
            predictive.expansion_remainder(*labelled, draws.mean(axis=0), draws),
        ]

    whole = answers()
    monkeypatch.setattr(blocks, "BLOCK_VALUES", 50)
    for got, expected in zip(answers(), whole, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_weighted_sd_counts_a_weight_as_that_many_rows(rng):
    """The sd of rows of integer weights is that of the rows repeated (divisor sum(w) - 1), also for a column whose
    mean is a million times its sd; NaN when the weights sum to 1."""
    from bayeslogit.numerics.column_moments import weighted_sd

    X = rng.normal(size=(50, 3)) + [0.0, 1e6, -3.0]
    weights = rng.integers(1, 4, size=50)
    repeated = np.repeat(X, weights, axis=0).std(axis=0, ddof=1)
    np.testing.assert_allclose(weighted_sd(X, weights.astype(float)), repeated, rtol=1e-9)
    assert np.isnan(weighted_sd(X[:1], np.ones(1))).all()
