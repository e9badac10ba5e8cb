"""The categorical multilevel engine: two classes against the binary engine, the inner Laplace pieces against
finite differences and numerical integration, and the estimates against the truth of simulated data."""

import numpy as np
import pytest
from scipy.special import log_softmax

from bayeslogit.algorithms.group_fit import fit_group_map, fit_group_ml
from bayeslogit.algorithms.group_fit_categorical import fit_categorical_map, fit_categorical_ml
from bayeslogit.algorithms.group_hessian import fd_gradient, fd_hessian
from bayeslogit.exceptions import OptionError, SeparationError
from bayeslogit.numerics.group_categorical import categorical_group_data, class_terms
from bayeslogit.numerics.group_design import GroupTerm
from bayeslogit.numerics.group_laplace import laplace_beta_gradient, laplace_deviance, pirls


def simulate(rng, levels=40, per_level=100, sd=(0.5, 1.0), slope=False):
    """Rows of ``K = len(sd) + 1`` classes, an intercept and ``x``, and one term ``(1 | g)`` (``(1 + x | g)`` with
    ``slope``, its slope effects of sd 0.3); each class's intercept effects of sd ``sd[c]``."""
    n = levels * per_level
    codes = np.repeat(np.arange(levels), per_level)
    x = rng.normal(size=n)
    X = np.column_stack([np.ones(n), x])
    B = np.array([[0.2, -0.3, 0.1], [0.8, -0.5, 0.4]])[:, : len(sd)]
    b = rng.normal(size=(levels, len(sd))) * np.asarray(sd)
    eta = X @ B + b[codes]
    values = X if slope else X[:, :1]
    if slope:
        eta += x[:, None] * rng.normal(0, 0.3, (levels, len(sd)))[codes]
    logits = np.column_stack([np.zeros(n), eta])
    P = np.exp(log_softmax(logits, axis=1))
    y = (rng.random(n)[:, None] > np.cumsum(P, axis=1)[:, :-1]).sum(axis=1)
    columns = ("Intercept", "x") if slope else ("Intercept",)
    term = GroupTerm("g", columns, tuple(range(levels)), codes, values)
    return X, y, term


def penalised_deviance(X, y, terms, theta, beta, u):
    """``sum_i -2 log softmax(0, eta_i)[y_i] + |u|^2`` written out densely, for scalar per-class terms."""
    M, L = len(terms), terms[0].n_levels
    B = beta.reshape(M, -1).T
    b = u.reshape(L, M) * theta  # each class's effects: its sd times u
    eta = X @ B + terms[0].values[:, :1] * b[terms[0].codes]
    log_p = log_softmax(np.column_stack([np.zeros(len(y)), eta]), axis=1)
    return -2.0 * np.sum(log_p[np.arange(len(y)), y]) + u @ u


@pytest.fixture
def tiny():
    rng = np.random.default_rng(5)
    X, y, term = simulate(rng, levels=4, per_level=15)
    terms = class_terms(term, ["A", "B", "C"])
    return X, y, terms, np.array([0.7, 1.3]), np.array([0.1, 0.5, -0.2, -0.4])


def test_the_mode_and_log_det_equal_a_dense_finite_difference_computation(tiny):
    """At the conditional mode the penalised deviance's gradient vanishes, and ``H`` is half its Hessian: both by
    central differences of the dense expression (errors of order 1e-6 in the gradient's steps, 1e-5 in log det)."""
    X, y, terms, theta, beta = tiny
    data = categorical_group_data(X, y, terms)
    at = data.system.at(theta)
    mode = pirls(data, at, np.zeros(data.system.n_effects), beta)

    def dense(u):
        return penalised_deviance(X, y, terms, theta, beta, u)

    assert mode.penalised == pytest.approx(dense(mode.u), rel=1e-12)
    np.testing.assert_allclose(fd_gradient(dense, mode.u), 0.0, atol=1e-6)
    hessian = fd_hessian(dense, mode.u)
    assert mode.factor.log_det == pytest.approx(np.linalg.slogdet(hessian / 2)[1], abs=1e-5)
    np.testing.assert_allclose(mode.factor.solve(np.eye(len(mode.u))), np.linalg.inv(hessian / 2), atol=1e-5)


def test_the_beta_gradient_equals_finite_differences_of_the_laplace_deviance(tiny):
    X, y, terms, theta, beta = tiny
    data = categorical_group_data(X, y, terms)
    at = data.system.at(theta)

    def deviance(b):
        return laplace_deviance(data, pirls(data, at, np.zeros(data.system.n_effects), b))

    mode = pirls(data, at, np.zeros(data.system.n_effects), beta)
    np.testing.assert_allclose(laplace_beta_gradient(data, at, mode), fd_gradient(deviance, beta), atol=1e-6)


def _integrated_deviance(X, y, term, theta, beta, nodes=40):
    """``-2 log`` of the marginal likelihood by tensor-product Gauss-Hermite quadrature, ``nodes^2`` per level,
    centred and scaled at each level's conditional mode as adaptive quadrature is (exact to many digits there)."""
    terms = class_terms(term, ["A", "B", "C"])
    data = categorical_group_data(X, y, terms)
    mode = pirls(data, data.system.at(theta), np.zeros(data.system.n_effects), beta)
    z, w = np.polynomial.hermite.hermgauss(nodes)
    grid = np.stack(np.meshgrid(z, z, indexing="ij"), axis=-1).reshape(-1, 2)
    log_w = np.log(np.outer(w, w)).ravel()
    total = 0.0
    for g in range(term.n_levels):
        rows = term.codes == g
        chol = np.linalg.cholesky(mode.factor.inverse[g])  # the conditional covariance of u_g
        u = mode.u.reshape(term.n_levels, 2)[g] + np.sqrt(2.0) * grid @ chol.T  # (nodes^2, 2)
        eta = X[rows] @ beta.reshape(2, -1).T  # (n_g, 2)
        logits = eta[None] + (u * theta)[:, None, :]
        log_p = log_softmax(np.concatenate([np.zeros(logits.shape[:2] + (1,)), logits], axis=2), axis=2)
        log_lik = log_p[:, np.arange(rows.sum()), y[rows]].sum(axis=1)
        # u = mode + sqrt(2) C z: du = 2 det(C) dz, and N(u; 0, I) = exp(-|u|^2 / 2) / (2 pi)
        log_terms = log_w + log_lik - 0.5 * np.sum(u**2, axis=1) + np.sum(grid**2, axis=1)
        log_integral = np.logaddexp.reduce(log_terms) + np.log(np.linalg.det(chol)) - np.log(np.pi)
        total += -2.0 * log_integral
    return total, laplace_deviance(data, mode)


def test_the_laplace_deviance_approaches_the_integral_as_groups_grow():
    """The Laplace error on a level's log-likelihood is of order 1 / n_g (about 0.65 / n_g here, measured from 10 to
    1,600 rows a level): 0.01 a level with 10 rows, 4e-4 with 1,600, where it must be below 1e-3; it falls by more
    than half each time the rows double, well before that."""
    errors = []
    for per_level in (10, 100, 1600):
        X, y, term = simulate(np.random.default_rng(8), levels=4, per_level=per_level)
        exact, laplace = _integrated_deviance(X, y, term, np.array([0.6, 1.1]), np.array([0.2, 0.8, -0.3, -0.5]))
        errors.append((laplace - exact) / 2 / 4)  # on the log-likelihood, per level
    assert 0 < errors[0] < 0.02
    assert 0 < errors[2] < 1e-3
    assert errors[2] < errors[1] / 8


def test_two_classes_equal_the_binary_engine():
    """The categorical engine on a two-class response is the binary one (which matches glmer): the same
    deviance at every step, so the same optimum to the optimiser's rounding."""
    X, y, term = simulate(np.random.default_rng(3), levels=30, per_level=40, sd=(0.8,))
    binary = fit_group_ml(X, y.astype(float), None, [term])
    categorical = fit_categorical_ml(X, y, ["a", "b"], [term])
    np.testing.assert_allclose(categorical.beta, binary.beta, rtol=1e-6)
    np.testing.assert_allclose(categorical.sd[0], binary.sd[0], rtol=1e-6)
    np.testing.assert_allclose(categorical.beta_cov, binary.beta_cov, rtol=1e-5)
    assert categorical.loglik == pytest.approx(binary.loglik, rel=1e-9)
    binary = fit_group_map(X, y.astype(float), None, [term], None, 0.16)
    categorical = fit_categorical_map(X, y, ["a", "b"], [term], None, 0.16)
    np.testing.assert_allclose(categorical.beta, binary.beta, rtol=1e-6)
    np.testing.assert_allclose(categorical.sd[0], binary.sd[0], rtol=1e-6)
    assert categorical.objective == pytest.approx(binary.objective, rel=1e-9)


@pytest.fixture(scope="module")
def simulated():
    return simulate(np.random.default_rng(2))


def test_ml_and_map_recover_the_simulated_sds_and_coefficients(simulated):
    """40 levels: an sd's standard error is about ``sd / sqrt(2 * 40)`` (0.06 and 0.11), so three of them bound the
    error; the coefficients within three of their standard errors."""
    X, y, term = simulated
    truth = np.array([0.2, 0.8, -0.3, -0.5])
    for fit in (
        fit_categorical_ml(X, y, ["A", "B", "C"], [term]),
        fit_categorical_map(X, y, ["A", "B", "C"], [term], None, 1 / 2.5**2),
    ):
        assert fit.converged
        assert fit.factors == ("g (class B)", "g (class C)")
        sd = np.concatenate(fit.sd)
        assert np.all(np.abs(sd - [0.5, 1.0]) < 3 * np.array([0.5, 1.0]) / np.sqrt(80))
        assert np.all(np.abs(fit.beta - truth) < 3 * fit.beta_se)


def test_refusals_name_the_limitation_and_the_fix(simulated):
    X, y, term = simulated
    with pytest.raises(OptionError, match="one group term"):
        fit_categorical_ml(X, y, ["A", "B", "C"], [term, term])
    separated = y.copy()
    separated[X[:, 1] > 0.5] = 2
    separated[separated == 2] = np.where(X[separated == 2, 1] > 0.5, 2, 1)
    with pytest.raises(SeparationError, match="separate"):
        fit_categorical_ml(X, separated, ["A", "B", "C"], [term])
