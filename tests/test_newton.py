"""The generic optimisers on problems with known answers."""

import numpy as np
import pytest

import bayeslogit as bl
from bayeslogit.algorithms.descent import lost_in_rounding
from bayeslogit.algorithms.gradient_descent import gradient_descent
from bayeslogit.algorithms.newton import newton
from bayeslogit.algorithms.quasi_newton import MARGIN, MAX_TRIALS, quasi_newton


def quadratic(A, b):
    """f(x) = 1/2 x^T A x - b^T x, minimised at A^-1 b."""
    return lambda x: (0.5 * x @ A @ x - b @ x, A @ x - b, A)


def first_order(fun):
    return lambda x: fun(x)[:2]


def test_newton_solves_a_quadratic_in_one_step():
    A = np.array([[4.0, 1.0], [1.0, 3.0]])
    b = np.array([1.0, 2.0])
    result = newton(quadratic(A, b), np.zeros(2))
    np.testing.assert_allclose(result.x, np.linalg.solve(A, b), rtol=1e-14)
    assert result.converged and result.n_iter <= 2
    assert result.iterations[0].step_size == 1.0


def test_newton_decrement_is_the_predicted_decrease():
    A = np.diag([1.0, 100.0])
    b = np.array([1.0, 1.0])
    result = newton(quadratic(A, b), np.zeros(2), tol=1e-20)
    first = result.iterations[0]
    # on a quadratic, lambda^2 / 2 is exactly f(x0) - f*
    assert first.decrement == pytest.approx(first.objective - result.value, rel=1e-12)


def test_newton_line_search_handles_a_far_start():
    """log(cosh(x)) has a Newton step that overshoots from |x| > 1.09; the line search must damp it."""
    fun = lambda x: (np.log(np.cosh(x[0])), np.tanh(x), np.array([[1 / np.cosh(x[0]) ** 2]]))
    result = newton(fun, np.array([3.0]))
    assert result.converged and abs(result.x[0]) < 1e-8
    assert any(it.step_size < 1 for it in result.iterations[:-1])


def test_singular_hessian_is_reported():
    fun = lambda x: (0.5 * x[0] ** 2, np.array([x[0], 0.0]), np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(bl.SingularHessianError, match="not positive definite at iteration 0"):
        newton(fun, np.ones(2))


def test_gradient_descent_is_slow_on_an_ill_conditioned_problem():
    A = np.diag([1.0, 30.0, 1000.0])
    b = np.array([1.0, 1.0, 1.0])
    with pytest.warns(bl.ConvergenceWarning, match="Gradient descent did not converge in 20 iterations"):
        short = gradient_descent(first_order(quadratic(A, b)), np.zeros(3), max_iter=20)
    assert not short.converged
    full = gradient_descent(first_order(quadratic(A, b)), np.zeros(3), gtol=1e-6, max_iter=50_000)
    np.testing.assert_allclose(full.x, np.linalg.solve(A, b), atol=1e-6)
    assert full.n_iter > 20 * newton(quadratic(A, b), np.zeros(3)).n_iter
    objectives = [it.objective for it in full.iterations]
    assert np.all(np.diff(objectives) <= 1e-15)


def test_gradient_descent_and_newton_agree_on_wells():
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())
    objective = model.objective(bl.Normal(2.5))
    ours = newton(objective, np.zeros(objective.n_free))
    slow = gradient_descent(
        objective.value_and_gradient, np.zeros(objective.n_free), value=objective.value, gtol=1e-3, max_iter=50_000
    )
    # |x - x*| <= |H^-1| |g|: the smallest Hessian eigenvalue here is ~100, so 1e-3 gradient -> ~1e-5
    np.testing.assert_allclose(slow.x, ours.x, atol=1e-4)
    assert slow.n_iter > 10 * ours.n_iter


def test_quasi_newton_from_a_rough_hessian_reaches_the_minimum():
    """On a quadratic, steps with a Hessian estimate 30 % off converge linearly, helped by BFGS; the result
    records every step with the estimate's decrement, and at the final point, reached by a step below the
    rounding of f, the value the quadratic model predicts and no gradient."""
    rng = np.random.default_rng(0)
    root = rng.normal(size=(6, 6))
    A = root @ root.T + 6 * np.eye(6)
    b = rng.normal(size=6)
    rough = A + 0.3 * np.diag(np.diag(A))
    result = quasi_newton(first_order(quadratic(A, b)), np.zeros(6), rough, tol=1e-12, gtol=1e-10, max_iter=50)
    assert result.converged and result.hess is None and result.n_iter < 20
    # stopped where the decrement (~|x - x*|^2 A / 2) reached the rounding of f (~1e-14), then one more step
    np.testing.assert_allclose(result.x, np.linalg.solve(A, b), rtol=0, atol=1e-8)
    objectives = [it.objective for it in result.iterations]
    assert np.all(np.diff(objectives) <= 1e-15)
    assert np.all(np.isnan(result.grad))
    assert result.value == pytest.approx(quadratic(A, b)(result.x)[0], rel=0, abs=result.iterations[-2].decrement)


def test_quasi_newton_stops_short_on_a_non_descent_estimate():
    """An estimate whose steps cannot decrease the objective (it points the wrong way along a direction) makes
    the line search fail: stopped, not converged, before max_iter, for Newton's method to take over."""
    A = np.diag([1.0, 2.0])
    bad = np.array([[1.0, 0.0], [0.0, -1e-3]])  # not positive definite: the Cholesky factorisation fails
    result = quasi_newton(first_order(quadratic(A, np.ones(2))), np.zeros(2), bad, tol=1e-12, gtol=1e-10, max_iter=10)
    assert not result.converged and result.n_iter < 10


def test_quasi_newton_steps_below_the_objectives_rounding_without_backtracking():
    """An objective of size 1e6 rounds at about 1e-10, above the decrements where quasi-Newton stops (1e-12). Its
    values cannot judge such steps: they are taken whole and judged by the next decrement, so the steps go on to
    the minimum at one evaluation each, never halving through evaluations that compare rounding errors. The last
    step is not evaluated at all: its record has the quadratic model's value and no gradient."""
    rng = np.random.default_rng(1)
    root = rng.normal(size=(5, 5))
    A = root @ root.T + 5 * np.eye(5)
    b = rng.normal(size=5)
    calls = []

    def fun(x):
        calls.append(x)
        value, grad, _ = quadratic(A, b)(x)
        return 1e6 + value, grad

    rough = A + 0.05 * np.diag(np.diag(A))
    result = quasi_newton(fun, np.zeros(5), rough, tol=1e-10, gtol=1e-12, max_iter=30)
    assert result.converged
    assert len(calls) == result.n_iter  # every step its unit step: one evaluation each (none after the last)
    assert any(lost_in_rounding(it.objective, it.decrement) for it in result.iterations[:-1])
    declared = result.iterations[-2]
    assert declared.decrement <= MARGIN * 1e-10 and lost_in_rounding(declared.objective, declared.decrement)
    assert np.isnan(result.iterations[-1].grad_norm) and np.all(np.isnan(result.grad))
    # the model's prediction is off by the estimate's error times the last decrement, below f's rounding (2e-8)
    assert result.value == pytest.approx(fun(result.x)[0], rel=0, abs=declared.decrement)
    # before the last step the decrement (<= 1e-12) bounds the error by sqrt(2e-12 / lambda_min) < 1e-6; the
    # last step, with an estimate 5 % off, cuts that about tenfold or more
    np.testing.assert_allclose(result.x, np.linalg.solve(A, b), rtol=0, atol=1e-7)


def test_quasi_newton_gives_up_after_a_few_halvings():
    """A Hessian estimate 1,000 times too small asks for steps 1,000 times too long: after MAX_TRIALS halvings
    the steps stop unconverged (for Newton's method to take over) rather than halve on through the rows."""
    A = np.diag([1.0, 2.0])
    calls = []

    def fun(x):
        calls.append(x)
        return quadratic(A, np.ones(2))(x)[:2]

    result = quasi_newton(fun, np.zeros(2), A / 1000, tol=1e-12, gtol=1e-10, max_iter=10)
    assert not result.converged and result.n_iter == 1
    assert len(calls) == 1 + MAX_TRIALS


@pytest.mark.slow
def test_many_rows_where_the_decrement_is_below_rounding_do_not_stall():
    """2,000,000 rows, the objective about 1e6: once, this seed took 31 iterations of backtracking line searches
    (30 s). Now as many iterations as the other seeds, and the answer is Newton's with the exact Hessian."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((2_000_000, 10))
    uniforms = rng.random(len(X))
    y = (uniforms < 1.0 / (1.0 + np.exp(-(X @ np.linspace(-1.0, 1.0, 10) - 0.3)))).astype(int)
    fit = bl.LogisticModel(X, y).fit_ml()
    objective = bl.LogisticModel(X, y).objective()
    exact = newton(objective, np.zeros(objective.n_free), value=objective.value)
    assert fit.n_iter <= 8
    np.testing.assert_allclose(np.ravel(fit.params), exact.x, rtol=0, atol=1e-8)


def test_quasi_newton_stops_where_an_untested_step_is_not_finite():
    """A step taken untested (its decrease below the rounding of f ~ 1e6) that lands where the objective is not
    finite stops the steps unconverged, for Newton's method to take over, instead of failing in the next solve."""

    def fun(x):
        if np.abs(x).max() > 10:
            return np.nan, np.full(2, np.nan)
        return 1e6 + 0.5 * x @ x, x

    result = quasi_newton(fun, np.array([0.0, 1e-10]), np.diag([1.0, 1e-12]), tol=1e-10, gtol=1e-7, max_iter=10)
    assert not result.converged and np.all(np.isfinite(result.x))
