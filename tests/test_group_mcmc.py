"""NUTS on multilevel logistic models (bayeslogit.algorithms.pymc_multilevel): the density against NumPy's, the
posterior against quadrature and against simulated truths, convergence on lme4's cbpp, and the refusal of an
improper prior."""

import numpy as np
import pytest
from arviz_stats import ess, mcse, rhat
from numpy.polynomial.hermite_e import hermegauss
from scipy import stats
from scipy.special import log_expit, logsumexp

import bayeslogit as bl
from bayeslogit.algorithms.pymc_multilevel import (
    cholesky_correlation,
    multilevel_model,
    sample_multilevel,
    term_labels,
)
from bayeslogit.exceptions import OptionError
from bayeslogit.numerics.group_design import GroupPrior, GroupTerm


def factor_term(factor: str, groups: np.ndarray, values: np.ndarray, columns: tuple, correlated: bool = True):
    """The GroupTerm of ``groups`` (n,) with ``values`` (n, k)."""
    levels, codes = np.unique(groups, return_inverse=True)
    return GroupTerm(factor, columns, tuple(levels.tolist()), codes, values, correlated)


@pytest.fixture(scope="module")
def cbpp():
    """``cbind(incidence, size - incidence) ~ period + (1 | herd)`` as arrays: ``(X, names, y, m, [herd])``."""
    frame = bl.datasets.load_cbpp()
    n = len(frame)
    X = np.column_stack([np.ones(n)] + [(frame["period"] == str(k)).to_numpy(float) for k in (2, 3, 4)])
    herd = factor_term("herd", frame["herd"].to_numpy(), np.ones((n, 1)), ("Intercept",))
    names = ["Intercept", "period2", "period3", "period4"]
    return X, names, frame["incidence"].to_numpy(), frame["size"].to_numpy(), [herd]


def max_rhat(posterior) -> float:
    return max(float(value.max()) for value in rhat(posterior).data_vars.values())


def test_cbpp_converges_near_lme4(cbpp):
    X, names, y, m, terms = cbpp
    tree = sample_multilevel(X, names, y, m, terms, np.array([np.inf, 2.5, 2.5, 2.5]), random_seed=20261207)
    posterior = tree["posterior"].to_dataset()
    assert dict(posterior.sizes) == {"chain": 4, "draw": 1000, "predictor": 4, "group_column": 1} | {
        "herd__level": 15,
        "herd__column": 1,
    }
    assert list(posterior["group_sd"]["group_column"].values) == ["herd: Intercept"]
    assert max_rhat(posterior) <= 1.01
    assert int(tree["sample_stats"]["diverging"].sum()) == 0
    assert float(ess(posterior["group_sd"], method="bulk").min()) >= 400
    # lme4's glmer (Laplace, flat priors): -1.398, -0.992, -1.128, -1.580 and herd sd 0.642, each within a
    # posterior sd; the posterior's sd of the herd sd is wide and its Gamma(2, 1) prior pulls it up from 0.64
    lme4 = np.array([-1.3983, -0.9919, -1.1282, -1.5797])
    coef = posterior["coef"]
    assert np.all(np.abs(coef.mean(["chain", "draw"]).values - lme4) < coef.std(["chain", "draw"]).values)
    sd = posterior["group_sd"]
    assert 0.642 < float(sd.mean()) < 0.642 + 1.5 * float(sd.std())


def test_term_labels_number_a_factors_later_terms():
    terms = [
        factor_term(factor, np.zeros(3), np.ones((3, 1)), ("Intercept",)) for factor in ("g", "h", "g", "a:b", "g")
    ]
    assert term_labels(terms) == ["g", "h", "g.1", "a:b", "g.2"]


def test_density_is_binomial_gamma_and_normal(rng):
    """The model's log density at a point, from NumPy and SciPy: the binomial likelihood of ``X beta + sum_terms
    sum_c values[:, c] sd_c z[codes, c]``, the Normal prior on the proper coefficients, Gamma on the sds and
    standard normals on ``z`` (jacobian=False: densities of the variables themselves)."""
    n = 40
    X = np.column_stack([np.ones(n), rng.standard_normal(n)])
    x2 = rng.standard_normal(n)
    terms = [
        factor_term("g", rng.integers(0, 5, n), np.column_stack([np.ones(n), x2]), ("Intercept", "x2"), False),
        factor_term("h", rng.integers(0, 3, n), np.ones((n, 1)), ("Intercept",)),
    ]
    m = rng.integers(1, 6, n)
    y = rng.binomial(m, 0.4)
    prior = GroupPrior(sd_shape=2.5, sd_rate=0.7)
    model = multilevel_model(X, ["Intercept", "x"], y, m, terms, np.array([np.inf, 1.5]), prior)
    beta, sd = np.array([-0.3, 0.6]), np.array([0.8, 0.5, 1.3])
    z_g, z_h = rng.standard_normal((5, 2)), rng.standard_normal((3, 1))
    point = {"coef": beta, "group_sd_log__": np.log(sd), "z__g": z_g, "z__h": z_h}
    eta = X @ beta + np.sum(terms[0].values * (z_g * sd[:2])[terms[0].codes], axis=1) + (z_h * sd[2])[terms[1].codes, 0]
    expected = (
        stats.binom.logpmf(y, m, 1 / (1 + np.exp(-eta))).sum()
        + stats.norm.logpdf(beta[1], scale=1.5)
        + stats.gamma.logpdf(sd, 2.5, scale=1 / 0.7).sum()
        + stats.norm.logpdf(z_g).sum()
        + stats.norm.logpdf(z_h).sum()
    )
    assert model.compile_logp(jacobian=False)(point) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_cholesky_correlation_and_its_jacobian(k, rng):
    """Rows of unit norm under a positive diagonal, and the log Jacobian equal to the log determinant of the
    derivatives of L's strictly lower entries by the free reals (PyTensor's autodiff)."""
    import pytensor
    import pytensor.tensor as pt

    free = pt.vector("free")
    chol, log_jacobian = cholesky_correlation(pt, free, k)
    lower = chol[np.tril_indices(k, -1)]
    derivatives = pt.stack([pytensor.grad(lower[row], free) for row in range(k * (k - 1) // 2)])
    outputs = [chol, log_jacobian, derivatives]
    run = pytensor.function([free], outputs, mode="FAST_COMPILE")
    found, value, derivatives = run(rng.normal(0.0, 1.5, k * (k - 1) // 2))
    assert np.allclose(found, np.tril(found)) and np.all(np.diag(found) > 0)
    assert np.allclose(np.sum(found**2, axis=1), 1.0, atol=1e-14)
    assert value == pytest.approx(np.linalg.slogdet(derivatives)[1], abs=1e-12)


@pytest.mark.slow
def test_lkj_correlation_has_its_marginal_variance():
    """Under LKJ(eta) alone each correlation is 2 Beta(a, a) - 1 with a = eta - 1 + k / 2, of variance 1 / (2a + 1):
    a model with no data and a 3-column term samples its prior."""
    n, eta = 3, 1.5
    term = GroupTerm("g", ("a", "b", "c"), (0,), np.zeros(n, dtype=np.int64), np.zeros((n, 3)))
    tree = sample_multilevel(
        np.zeros((n, 1)),
        ["x"],
        np.zeros(n),
        np.ones(n),
        [term],
        np.array([1.0]),
        GroupPrior(corr_eta=eta),
        draws=2000,
        random_seed=1,
    )
    corr = tree["posterior"]["group_corr"]
    a = eta - 1 + 3 / 2
    assert list(corr["group_pair"].values) == ["g: a, b", "g: a, c", "g: b, c"]
    assert np.all(np.abs(corr.var(["chain", "draw"]).values - 1 / (2 * a + 1)) < 0.02)


def quadrature_posterior(y, m, codes, prior: GroupPrior, n_groups: int):
    """Posterior means of the intercept ``mu``, the sd and each group's effect ``b_g`` of ``y ~ Binomial(m,
    sigmoid(mu + b[codes]))``, ``b_g ~ Normal(0, sd)``, flat ``mu``, Gamma sd: each group's effect integrated out by
    Gauss-Hermite quadrature on a grid of ``(mu, log sd)``, whose density the grid's sum normalises."""
    nodes, weights = hermegauss(80)  # for the weight exp(-u^2 / 2)
    mu = np.linspace(-5.0, 3.5, 341)[:, None, None]
    log_sd = np.linspace(-6.0, 3.5, 381)[None, :, None]
    sd = np.exp(log_sd)
    log_post = stats.gamma.logpdf(sd[..., 0], prior.sd_shape, scale=1 / prior.sd_rate) + log_sd[..., 0]
    b_given = []  # E[b_g | mu, sd, y] on the grid
    for g in range(n_groups):
        rows = codes == g
        eta = mu[..., None] + sd[..., None] * nodes[None, None, :, None]  # (mu, sd, node, row)
        loglik = np.sum(y[rows] * log_expit(eta) + (m[rows] - y[rows]) * log_expit(-eta), axis=-1)
        joint = loglik + np.log(weights)
        marginal = logsumexp(joint, axis=-1)
        log_post = log_post + marginal
        b_given.append(sd[..., 0] * np.sum(np.exp(joint - marginal[..., None]) * nodes, axis=-1))
    density = np.exp(log_post - log_post.max())
    density /= density.sum()
    # the grid holds the posterior: what lies beyond it would move the means by less than 1e-5
    assert density[[0, -1]].sum() + density[:, [0, -1]].sum() < 1e-6
    means = {"mu": np.sum(density * mu[..., 0]), "sd": np.sum(density * sd[..., 0])}
    means["b"] = np.array([np.sum(density * b) for b in b_given])
    return means


def test_posterior_means_match_quadrature():
    """A flat intercept and one scalar group term on 6 groups: the MCMC posterior means of the intercept, the sd
    and the group effects against those of quadrature (:func:`quadrature_posterior`), within 4 MCSE."""
    rng = np.random.default_rng(7)
    codes = np.repeat(np.arange(6), 3)
    m = rng.integers(3, 12, len(codes))
    y = rng.binomial(m, 1 / (1 + np.exp(-(-0.5 + rng.normal(0, 0.8, 6)[codes]))))
    prior = GroupPrior()
    term = GroupTerm("g", ("Intercept",), tuple(range(6)), codes, np.ones((len(codes), 1)))
    tree = sample_multilevel(
        np.ones((len(codes), 1)), ["Intercept"], y, m, [term], np.array([np.inf]), prior, draws=2000, random_seed=3
    )
    posterior = tree["posterior"].to_dataset()
    assert max_rhat(posterior) <= 1.01
    exact = quadrature_posterior(y, m, codes, prior, 6)
    for name, found, expected in [
        ("mu", posterior["coef"].sel(predictor="Intercept"), exact["mu"]),
        ("sd", posterior["group_sd"].sel(group_column="g: Intercept"), exact["sd"]),
        ("b", posterior["b__g"].sel(g__column="Intercept"), exact["b"]),
    ]:
        error = np.abs(found.mean(["chain", "draw"]).values - expected)
        assert np.all(error < 4 * mcse(found, method="mean").values), name


def test_correlated_term_recovers_simulated_truth():
    """``(1 + x | g)`` on 40 groups of 8 binomial rows drawn from known parameters: R-hat, no divergences, and
    every truth inside its 99% interval and within 3 posterior sds of the mean."""
    rng = np.random.default_rng(11)
    G, rows, trials = 40, 8, 10
    beta, sd, corr = np.array([-0.4, 0.8]), np.array([0.9, 0.6]), 0.5
    cov = np.diag(sd) @ np.array([[1.0, corr], [corr, 1.0]]) @ np.diag(sd)
    b = rng.multivariate_normal(np.zeros(2), cov, G)
    codes = np.repeat(np.arange(G), rows)
    x = rng.standard_normal(len(codes))
    Z = np.column_stack([np.ones_like(x), x])
    y = rng.binomial(trials, 1 / (1 + np.exp(-(Z @ beta + np.sum(Z * b[codes], axis=1)))))
    term = GroupTerm("g", ("Intercept", "x"), tuple(range(G)), codes, Z)
    tree = sample_multilevel(
        Z, ["Intercept", "x"], y, np.full(len(y), trials), [term], np.array([np.inf, 2.5]), random_seed=5
    )
    posterior = tree["posterior"].to_dataset()
    assert list(posterior["group_corr"]["group_pair"].values) == ["g: Intercept, x"]
    assert max_rhat(posterior) <= 1.01
    assert int(tree["sample_stats"]["diverging"].sum()) == 0
    for name, truth in [("coef", beta), ("group_sd", sd), ("group_corr", [corr])]:
        draws = posterior[name]
        low, high = draws.quantile([0.005, 0.995], dim=["chain", "draw"]).values
        assert np.all((low < truth) & (truth < high)), name
        assert np.all(np.abs(draws.mean(["chain", "draw"]).values - truth) < 3 * draws.std(["chain", "draw"]).values)


def test_an_improper_prior_is_refused_for_sampling(cbpp):
    """A rate of 0 (blme's limit) serves a mode, not a sample."""
    X, names, y, m, terms = cbpp
    with pytest.raises(OptionError, match="sd_rate` must be positive to sample"):
        sample_multilevel(X, names, y, m, terms, np.full(4, np.inf), GroupPrior(sd_rate=0.0))


@pytest.mark.parametrize(
    "fields, match",
    [
        ({"sd_shape": -1.0}, "`sd_shape` must be a finite number, positive; got -1.0"),
        ({"sd_rate": -1.0}, "`sd_rate` must be a finite number, 0 or more; got -1.0"),
        ({"corr_eta": 0.0}, "`corr_eta` must be a finite number, positive; got 0.0"),
        ({"sd_shape": float("nan")}, "`sd_shape` must be a finite number"),
        ({"corr_eta": "a"}, "`corr_eta` must be a finite number, positive; got 'a'"),
        ({"sd_rate": True}, "`sd_rate` must be a finite number"),
    ],
)
def test_a_group_prior_of_no_density_is_refused_when_made(fields, match):
    """Before any fit: a negative or NaN shape once gave MAP an sd at 1e-6 or 1.0 without a word."""
    with pytest.raises(OptionError, match=match):
        GroupPrior(**fields)
