"""Decision boundaries: exact values for point fits, delta-method sds, posterior summaries."""

import numpy as np
import pytest
from scipy.special import expit, logit

import bayeslogit as bl

PRIOR = bl.Normal(2.5)


def probabilities(fit, X: np.ndarray) -> np.ndarray:
    """Class probabilities (n, K) of the fit's coefficients at the rows of ``X`` (n, n_features)."""
    return np.exp(fit.model.log_probabilities(fit.params, X))


@pytest.fixture(scope="module")
def wells():
    return bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())


@pytest.fixture(scope="module")
def wells_ml(wells):
    return wells.fit_ml()


@pytest.fixture(scope="module")
def challenger():
    return bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())


@pytest.fixture(scope="module")
def iris_map():
    model = bl.LogisticModel.from_formula("species ~ petal_length + petal_width", bl.datasets.load_iris())
    return model.fit_map(PRIOR)


def test_ml_line_is_the_ratio_of_coefficients(wells_ml):
    c0, c1, c2 = wells_ml.params[:, 0]
    line = wells_ml.boundary()
    assert line.feature_names == ["dist100", "arsenic"]
    assert line.slope == pytest.approx(-c1 / c2, abs=1e-9)
    assert line.intercept == pytest.approx(-c0 / c2, abs=1e-9)
    assert list(line.summary().index) == ["slope", "intercept"]


def test_level_moves_the_line_to_that_logit(wells_ml):
    c0, c1, c2 = wells_ml.params[:, 0]
    line = wells_ml.boundary(level=0.8)
    assert line.slope == pytest.approx(-c1 / c2, abs=1e-9)
    assert line.intercept == pytest.approx((logit(0.8) - c0) / c2, abs=1e-9)
    x1 = np.array([0.3, 1.7])
    on_line = np.column_stack([x1, line.intercept + line.slope * x1])
    assert probabilities(wells_ml, on_line)[:, 1] == pytest.approx([0.8, 0.8], abs=1e-12)


def test_jacobian_is_the_analytic_derivative(wells_ml):
    c0, c1, c2 = wells_ml.params[:, 0]
    expected = np.array(
        [
            [0.0, -1 / c2, c1 / c2**2],  # d(-c1/c2) / d(c0, c1, c2)
            [-1 / c2, 0.0, c0 / c2**2],
        ]
    )  # d(-c0/c2) / d(c0, c1, c2)
    np.testing.assert_allclose(wells_ml.boundary().jacobian, expected, rtol=1e-13, atol=1e-15)


def test_delta_method_sd_agrees_with_a_gaussian_sample_of_the_coefficients(wells_ml):
    rng = np.random.default_rng(7)
    n = 400_000
    cov = wells_ml.cov.to_numpy()
    draws = rng.multivariate_normal(wells_ml.params[:, 0], cov, size=n)
    sampled = {"slope": -draws[:, 1] / draws[:, 2], "intercept": -draws[:, 0] / draws[:, 2]}
    table = wells_ml.boundary().summary()
    # The delta method drops terms of relative order cv^2 of the denominator (cv = sd / |mean| of the arsenic
    # coefficient, 0.09 here: E[1/b^2] = (1 + 3 cv^2 + ...) / mean^2), and the sample sd has a Monte Carlo
    # relative error of about 1 / sqrt(2 n).
    cv = np.sqrt(cov[2, 2]) / abs(wells_ml.params[2, 0])
    tolerance = 4 * cv**2 + 4 / np.sqrt(2 * n)
    for name, values in sampled.items():
        assert table.loc[name, "se"] == pytest.approx(values.std(), rel=tolerance)
        assert table.loc[name, "estimate"] == pytest.approx(np.median(values), abs=0.02 * table.loc[name, "se"])


def test_hyperplane_of_three_features_is_a_unit_normal_and_an_offset():
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic + educ", bl.datasets.load_wells())
    fit = model.fit_ml()
    plane = fit.boundary(level=0.3)
    assert np.linalg.norm(plane.normal) == pytest.approx(1.0, abs=1e-14)
    assert list(plane.summary().index) == ["normal[dist100]", "normal[arsenic]", "normal[educ]", "offset"]
    # The point of the hyperplane closest to the origin is offset * normal, where Pr = level.
    closest = (plane.offset * plane.normal.to_numpy())[None]
    assert probabilities(fit, closest)[:, 1] == pytest.approx([0.3], abs=1e-12)


def test_multiclass_lines_are_where_each_pair_of_classes_ties(iris_map):
    lines = iris_map.boundary()
    assert list(lines.summary().index) == [
        "slope[setosa|versicolor]",
        "slope[setosa|virginica]",
        "slope[versicolor|virginica]",
        "intercept[setosa|versicolor]",
        "intercept[setosa|virginica]",
        "intercept[versicolor|virginica]",
    ]
    x1 = np.array([1.0, 4.0, 6.5])
    for j, k in [(0, 1), (0, 2), (1, 2)]:
        pair = f"{iris_map.model.classes_[j]}|{iris_map.model.classes_[k]}"
        on_line = np.column_stack([x1, lines.intercept[pair] + lines.slope[pair] * x1])
        proba = probabilities(iris_map, on_line)
        np.testing.assert_allclose(proba[:, j], proba[:, k], rtol=1e-10)


def test_posterior_multiclass_summary_has_the_point_fit_rows(iris_map):
    with pytest.warns(bl.ConvergenceWarning, match="the Laplace approximation may be poor here"):  # borderline
        laplace = iris_map.model.fit_laplace(PRIOR, draws=1000, random_seed=2, map_fit=iris_map)
    table = laplace.boundary().summary(ci_prob=0.94, ci_kind="hdi")
    assert list(table.index) == list(iris_map.boundary().summary().index)
    assert table[["mean", "median", "hdi94_lb", "hdi94_ub", "ess_bulk"]].notna().all().all()
    # Versicolor and virginica are well separated from each other by petal width: a well-determined line.
    row = table.loc["slope[versicolor|virginica]"]
    assert row["hdi94_lb"] < iris_map.boundary().slope["versicolor|virginica"] < row["hdi94_ub"]


def test_challenger_threshold_posterior_has_an_hdi_around_the_map(challenger):
    map_fit = challenger.fit_map(PRIOR)
    c0, c1 = map_fit.params[:, 0]
    assert map_fit.boundary().threshold == pytest.approx(-c0 / c1, abs=1e-9)
    # The Gaussian misses the skew of this posterior (k-hat near 0.7, the slope's mean moved by half a posterior sd),
    # and says so.
    with pytest.warns(bl.ConvergenceWarning, match=r"Pareto k-hat = 0\.\d\d ± 0\.\d\d, within its noise of 0\.7"):
        laplace = challenger.fit_laplace(PRIOR, draws=4000, random_seed=0, map_fit=map_fit)
    table = laplace.boundary().summary(ci_prob=0.94, ci_kind="hdi")
    assert list(table.index) == ["threshold"]
    row = table.loc["threshold"]
    assert row["hdi94_lb"] < -c0 / c1 < row["hdi94_ub"]
    assert 45 < row["hdi94_lb"] and row["hdi94_ub"] < 80  # launch temperatures (F), not a degenerate interval
    # The Gaussian puts density on a zero temperature coefficient, so the ratio has Cauchy-like tails and no
    # mean: the median is the estimate to check. Its Monte Carlo sd is about 1.25 * 5 / sqrt(4000) = 0.1
    # (the HDI's core sd is about 5 F), and the median of the ratio differs from the ratio of the means by
    # O(cv^2) of the core.
    assert row["median"] == pytest.approx(-c0 / c1, abs=0.5)
    assert laplace.boundary().threshold == row["median"]


def test_posterior_values_keep_the_chain_structure(challenger):
    with pytest.warns(bl.ConvergenceWarning, match="the Laplace approximation may be poor here"):  # as above
        laplace = challenger.fit_laplace(PRIOR, draws=500, random_seed=1)
    line = laplace.boundary()
    assert line.variables["threshold"].shape == laplace.coef_draws.shape[:2] == (1, 500)
    posterior = line.to_datatree()["posterior"]
    assert posterior["threshold"].dims == ("chain", "draw")
    c0, c1 = laplace.coef_draws[0, :, :, 0].T
    np.testing.assert_allclose(posterior["threshold"].values[0], -c0 / c1, rtol=1e-13)


def test_without_an_intercept_the_boundary_passes_through_the_origin(rng):
    x = rng.normal(size=60)
    model = bl.LogisticModel(x[:, None], rng.random(60) < expit(1.5 * x), feature_names=["x"], intercept=False)
    ml = model.fit_ml()
    (c,) = ml.params[:, 0]
    assert ml.boundary().threshold == 0
    assert ml.boundary().summary().loc["threshold", "se"] == 0  # 0 / c does not move with c
    assert ml.boundary(level=0.8).threshold == pytest.approx(logit(0.8) / c, rel=1e-12)
    laplace = model.fit_laplace(PRIOR, draws=200, random_seed=0)
    assert np.all(laplace.boundary().variables["threshold"] == 0)
    np.testing.assert_allclose(
        laplace.boundary(level=0.8).variables["threshold"][0], logit(0.8) / laplace.coef_draws[0, :, 0, 0], rtol=1e-12
    )
    # Two features: the line x2 = intercept + slope x1 goes through the origin.
    wells = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic - 1", bl.datasets.load_wells())
    assert wells.coef_names == ["dist100", "arsenic"]
    fit = wells.fit_map(PRIOR)
    c1, c2 = fit.params[:, 0]
    line = fit.boundary()
    assert line.intercept == 0 and line.slope == pytest.approx(-c1 / c2, rel=1e-12)


def test_misuse_says_what_to_do(wells_ml, challenger):
    with pytest.raises(ValueError, match=r"`level` must be a probability in \(0, 1\); got 1.5"):
        wells_ml.boundary(level=1.5)
    with pytest.raises(AttributeError, match="has slope and intercept, not threshold"):
        wells_ml.boundary().threshold
    with pytest.raises(TypeError, match="point estimate without draws; use summary"):
        wells_ml.boundary().to_datatree()


@pytest.mark.slow
def test_wells_mcmc_boundary_converges(wells_mcmc):
    mcmc = wells_mcmc
    table = mcmc.boundary().summary()
    assert {"slope", "intercept"} <= set(table.index)
    assert (table.loc[["slope", "intercept"], "r_hat"] < 1.01).all()
    assert (table.loc[["slope", "intercept"], "ess_bulk"] > 400).all()
    assert mcmc.boundary().variables["slope"].shape == (4, 1000)
    # With 3,020 rows the posterior is close to Gaussian: the posterior median line is within a tenth of a
    # posterior sd of the ML line.
    ml = mcmc.model.fit_ml().boundary()
    for name in ("slope", "intercept"):
        assert table.loc[name, "median"] == pytest.approx(getattr(ml, name), abs=0.1 * table.loc[name, "sd"])
