"""The multilevel Laplace deviance, its gradient, AGQ and MAP, against a dense computation written out here."""

import numpy as np
import pytest
from scipy.special import gammaln

from bayeslogit.algorithms.group_fit import fit_group_map, fit_group_ml
from bayeslogit.algorithms.group_hessian import fd_gradient
from bayeslogit.algorithms.group_objective import MarginalDeviance
from bayeslogit.exceptions import CollinearityError, OptionError, SeparationError
from bayeslogit.numerics.group_design import GroupPrior, GroupTerm
from bayeslogit.numerics.group_laplace import GroupData, agq_deviance, laplace_beta_gradient
from bayeslogit.numerics.group_systems import group_system


def simulate(rng, n=400, levels=(12, 7), slopes=(True, False), trials=1):
    """Binomial rows with an intercept and ``x``; one term per entry of ``levels``, ``(1 + x | g)`` where ``slopes``."""
    x = rng.normal(size=n)
    X = np.column_stack([np.ones(n), x])
    terms, eta = [], 0.3 - 0.5 * x
    for t, (n_levels, slope) in enumerate(zip(levels, slopes)):
        codes = rng.integers(0, n_levels, n)
        values = X if slope else X[:, :1]
        b = rng.normal(0, 0.7, (n_levels, values.shape[1]))
        eta = eta + np.sum(values * b[codes], axis=1)
        columns = ("Intercept", "x")[: values.shape[1]]
        terms.append(GroupTerm(f"g{t}", columns, tuple(range(n_levels)), codes.astype(np.int64), values))
    m = np.full(n, float(trials))
    y = rng.binomial(trials, 1 / (1 + np.exp(-eta))).astype(float)
    return X, y, m, tuple(terms)


def dense_deviance(X, y, m, terms, theta, beta):
    """The Laplace deviance by dense matrices: ``Z`` (n, q), ``Lambda`` (q, q), Newton's method on ``u``."""
    Z_blocks, Lambda_blocks, start = [], [], 0
    for term in terms:
        k = term.n_columns
        T = _factor(theta[start : start + k * (k + 1) // 2], k)
        start += k * (k + 1) // 2
        Z = np.zeros((len(y), term.n_levels * k))
        for j in range(k):
            Z[np.arange(len(y)), term.codes * k + j] = term.values[:, j]
        Z_blocks.append(Z)
        Lambda_blocks.append(np.kron(np.eye(term.n_levels), T))
    ZL = np.hstack(Z_blocks) @ _block_diag(Lambda_blocks)
    u = np.zeros(ZL.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-(X @ beta + ZL @ u)))
        H = ZL.T @ ((m * p * (1 - p))[:, None] * ZL) + np.eye(len(u))
        step = np.linalg.solve(H, u - ZL.T @ (y - m * p))
        u = u - step
        if np.max(np.abs(step)) < 1e-13:
            break
    p = 1 / (1 + np.exp(-(X @ beta + ZL @ u)))
    H = ZL.T @ ((m * p * (1 - p))[:, None] * ZL) + np.eye(len(u))
    log_lik = np.sum(gammaln(m + 1) - gammaln(y + 1) - gammaln(m - y + 1) + y * np.log(p) + (m - y) * np.log1p(-p))
    return -2 * log_lik + u @ u + np.linalg.slogdet(H)[1], u, H, ZL


def _lower(k):
    """lme4's order of a k x k lower triangle: by columns."""
    cols, rows = np.triu_indices(k)
    return rows, cols


def _block_diag(blocks):
    size = sum(b.shape[0] for b in blocks)
    out, start = np.zeros((size, size)), 0
    for b in blocks:
        out[start : start + b.shape[0], start : start + b.shape[0]] = b
        start += b.shape[0]
    return out


CASES = {
    "scalar": dict(levels=(15,), slopes=(False,), trials=5),
    "correlated": dict(levels=(15,), slopes=(True,)),
    "crossed": dict(levels=(12, 7), slopes=(False, False)),
    "crossed, correlated": dict(levels=(12, 7), slopes=(True, False)),
    "crossed, correlated second": dict(levels=(5, 20), slopes=(True, False)),
}


def _params(terms, p):
    sizes = [t.n_columns * (t.n_columns + 1) // 2 for t in terms]
    theta = np.concatenate([np.linspace(0.9, 0.4, s) - np.r_[0, 0.7 * (s > 1), 0][:s] for s in sizes])
    return theta, np.linspace(0.2, -0.4, p)


@pytest.mark.parametrize("case", CASES)
def test_laplace_deviance_and_modes_equal_dense(rng, case):
    X, y, m, terms = simulate(rng, **CASES[case])
    theta, beta = _params(terms, X.shape[1])
    data = GroupData(X, y, m, group_system(terms))
    deviance = MarginalDeviance(data)
    ours = deviance(np.r_[theta, beta])
    expected, u, H, ZL = dense_deviance(X, y, m, terms, theta, beta)
    assert ours == pytest.approx(expected, rel=1e-11)
    np.testing.assert_allclose(deviance.last.u, u, atol=1e-9)
    # the conditional covariance blocks and leverages of Lambda H^-1 Lambda^T
    inverse = np.linalg.inv(H)
    np.testing.assert_allclose(deviance.last.factor.leverage(), np.einsum("ij,jk,ik->i", ZL, inverse, ZL), atol=1e-12)
    first = deviance.last.factor.cond_cov()[0]
    k = terms[0].n_columns
    Lambda0 = _block_diag([np.kron(np.eye(terms[0].n_levels), _factor(theta[: k * (k + 1) // 2], k))])
    q0 = terms[0].n_levels * k
    dense_blocks = (Lambda0 @ inverse[:q0, :q0] @ Lambda0.T).reshape(terms[0].n_levels, k, terms[0].n_levels, k)
    np.testing.assert_allclose(first, np.einsum("gjgl->gjl", dense_blocks), atol=1e-12)


def _factor(theta, k):
    T = np.zeros((k, k))
    T[_lower(k)] = theta
    return T


@pytest.mark.parametrize("case", CASES)
def test_beta_gradient_equals_finite_differences(rng, case):
    X, y, m, terms = simulate(rng, **CASES[case])
    theta, beta = _params(terms, X.shape[1])
    data = GroupData(X, y, m, group_system(terms))
    deviance = MarginalDeviance(data)
    params = np.r_[theta, beta]
    value, gradient = deviance.value_and_gradient(params)
    expected = fd_gradient(deviance, params, 1e-5)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-6)
    deviance(params)
    np.testing.assert_allclose(
        laplace_beta_gradient(data, deviance.last_at, deviance.last), expected[len(theta) :], 1e-6
    )


def test_one_quadrature_node_is_laplace(rng):
    X, y, m, terms = simulate(rng, **CASES["scalar"])
    data = GroupData(X, y, m, group_system(terms))
    deviance = MarginalDeviance(data)
    laplace = deviance(np.array([0.8, 0.2, -0.4]))
    assert agq_deviance(data, deviance.last, 0.8, 1) == pytest.approx(laplace, rel=1e-13)


def test_quadrature_converges_in_nodes(rng):
    """Adaptive Gauss-Hermite with 15, 25 and 40 nodes agree, and differ from the Laplace approximation."""
    X, y, m, terms = simulate(rng, **CASES["scalar"])
    data = GroupData(X, y, m, group_system(terms))
    values = [MarginalDeviance(data, n)(np.array([1.5, 0.2, -0.4])) for n in (1, 15, 25, 40)]
    assert values[2] == pytest.approx(values[3], abs=1e-9) and values[1] == pytest.approx(values[3], abs=1e-6)
    assert abs(values[0] - values[3]) > 1e-3


def _map_objective(X, y, m, terms, prior, precision):
    """``-2`` log posterior of (sd_0, sd_1, corr, beta) for one correlated term, by :func:`dense_deviance`."""

    def objective(z):
        sd, corr, beta = z[:2], z[2], z[3:]
        T = np.linalg.cholesky(np.diag(sd) @ np.array([[1, corr], [corr, 1]]) @ np.diag(sd))
        theta = T[_lower(2)]
        deviance = dense_deviance(X, y, m, terms, theta, beta)[0]
        R = np.array([[1, corr], [corr, 1]])
        return deviance - 2 * prior.log_density(sd, R) + np.sum(precision * beta**2)

    return objective


def test_map_of_correlated_term_is_stationary_and_off_the_boundary(rng):
    """Few groups with slopes of sd 0: ML puts the slopes' sd (or their correlation) on the boundary, MAP under
    GroupPrior() keeps it off, at a stationary point of the log posterior computed densely, in sds and correlation."""
    n, n_levels = 120, 4
    x = rng.normal(size=n)
    codes = np.repeat(np.arange(n_levels), n // n_levels).astype(np.int64)
    X = np.column_stack([np.ones(n), x])
    eta = 0.2 + 0.8 * x + rng.normal(0, 0.3, n_levels)[codes]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    terms = (GroupTerm("g", ("Intercept", "x"), tuple(range(n_levels)), codes, X),)
    ml = fit_group_ml(X, y, None, terms)
    assert ml.singular == (True,)
    prior, precision = GroupPrior(), np.full(2, 1 / 25)
    posterior = fit_group_map(X, y, None, terms, prior, precision)
    assert posterior.singular == (False,) and np.all(posterior.sd[0] > 0.05)
    z = np.r_[posterior.sd[0], posterior.corr[0][0, 1], posterior.beta]
    objective = _map_objective(X, y, np.ones(n), terms, prior, precision)
    assert objective(z) == pytest.approx(posterior.objective, rel=1e-10)
    gradient = fd_gradient(objective, z, 1e-5)
    assert np.max(np.abs(gradient)) < 1e-3


def test_map_with_vague_priors_is_near_ml(rng):
    X, y, m, terms = simulate(rng, **CASES["scalar"])
    ml = fit_group_ml(X, y, m, terms)
    vague = fit_group_map(X, y, m, terms, GroupPrior(sd_shape=1.0, sd_rate=0.0), 0.0)
    np.testing.assert_allclose(vague.beta, ml.beta, rtol=1e-5)
    np.testing.assert_allclose(vague.sd[0], ml.sd[0], rtol=1e-5)


def test_separation_in_the_fixed_effects_is_an_error(rng):
    n = 200
    x = rng.normal(size=n)
    codes = rng.integers(0, 8, n).astype(np.int64)
    X = np.column_stack([np.ones(n), x])
    y = (x > 0).astype(float)
    terms = (GroupTerm("g", ("Intercept",), tuple(range(8)), codes, np.ones((n, 1))),)
    with pytest.raises(SeparationError, match="separate") as error:
        fit_group_ml(X, y, None, terms, names=("Intercept", "x"))
    assert "x" in error.value.columns


def test_collinear_fixed_effects_and_options_are_errors(rng):
    X, y, m, terms = simulate(rng, **CASES["scalar"])
    with pytest.raises(CollinearityError, match="'x' and 'x2' are linearly dependent") as error:
        fit_group_ml(np.column_stack([X, 2 * X[:, 1]]), y, m, terms, names=("Intercept", "x", "x2"))
    assert set(error.value.columns) == {"x", "x2"}
    with pytest.raises(OptionError, match="single scalar group term"):
        fit_group_ml(X, y, m, simulate(rng, **CASES["crossed"])[3], n_agq=5)
    with pytest.raises(OptionError, match="positive integer"):
        fit_group_ml(X, y, m, terms, n_agq=0)
    with pytest.raises(OptionError, match="one per term"):
        fit_group_map(X, y, m, terms, [GroupPrior(), GroupPrior()])
    with pytest.raises(OptionError, match="non-negative"):
        fit_group_map(X, y, m, terms, GroupPrior(), -1.0)
