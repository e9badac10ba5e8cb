"""Binomial responses, ``cbind(successes, failures) ~ x`` or counts of two columns: maximum likelihood against
statsmodels' ``GLM(Binomial)`` (coefficients, standard errors and the log-likelihood with its binomial coefficients),
every fit against the same model on the 0/1 rows the counts stand for, PSIS-LOO per binomial observation, held-out
counts scored per trial, the command line, and the errors of bad counts."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from scipy.special import logsumexp

import bayeslogit as bl
from bayeslogit.fits.diagnostics import loo
from bayeslogit.surface.cli import main

PRIOR = bl.Normal(1.0, intercept_scale=2.5)
WELLS = ["arsenic", "educ", "assoc"]


def simulated(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """``n`` rows of ``incidence`` successes of ``size`` trials (1 to 29), logit ``0.3 + 0.8 x - 0.5 z``."""
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.normal(size=n)
    size = rng.integers(1, 30, n)
    incidence = rng.binomial(size, 1 / (1 + np.exp(-(0.3 + 0.8 * x - 0.5 * z))))
    return pd.DataFrame({"x": x, "z": z, "size": size, "incidence": incidence})


def expanded(frame: pd.DataFrame) -> pd.DataFrame:
    """The 0/1 rows that the counts of ``frame`` stand for: a row per trial, ``y`` 1 for a success."""
    failures = frame["size"] - frame["incidence"]
    rows = np.concatenate([np.repeat(frame.index, frame["incidence"]), np.repeat(frame.index, failures)])
    y = np.concatenate([np.ones(frame["incidence"].sum(), int), np.zeros(failures.sum(), int)])
    return frame.loc[rows].assign(y=y).reset_index(drop=True)


def aggregated_wells() -> pd.DataFrame:
    """The wells data as counts: households that switched of those with the same arsenic level (rounded to 0.5),
    years of education and community association."""
    wells = bl.datasets.load_wells().assign(arsenic=lambda f: (f["arsenic"] * 2).round() / 2)
    groups = wells.groupby(["arsenic", "educ", "assoc"])["switched"].agg(["sum", "count"]).reset_index()
    return groups.rename(columns={"sum": "incidence", "count": "size"})


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulated()


@pytest.fixture(scope="module")
def models(data):
    """The binomial model of ``data`` and the Bernoulli model of its 0/1 rows."""
    binomial = bl.LogisticModel.from_formula("cbind(incidence, size - incidence) ~ x + z", data)
    return binomial, bl.LogisticModel.from_formula("y ~ x + z", expanded(data))


def statsmodels_glm(frame: pd.DataFrame, columns: list[str]):
    endog = np.column_stack([frame["incidence"], frame["size"] - frame["incidence"]])
    exog = sm.add_constant(frame[columns].to_numpy(dtype=float))
    return sm.GLM(endog, exog, family=sm.families.Binomial()).fit(tol=1e-14, maxiter=200)


# ---- maximum likelihood against statsmodels ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "frame, formula, columns",
    [
        (simulated(), "cbind(incidence, size - incidence) ~ x + z", ["x", "z"]),
        (aggregated_wells(), f"cbind(incidence, size - incidence) ~ {' + '.join(WELLS)}", WELLS),
    ],
    ids=["simulated", "wells aggregated"],
)
def test_ml_equals_statsmodels_binomial_glm(frame, formula, columns):
    fit = bl.LogisticModel.from_formula(formula, frame).fit_ml()
    glm = statsmodels_glm(frame, columns)
    np.testing.assert_allclose(fit.coef.to_numpy(), glm.params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.se.to_numpy(), glm.bse, rtol=0, atol=1e-8)
    assert fit.llf == pytest.approx(glm.llf, abs=1e-8)
    statistics = fit.statistics()
    assert statistics["llf"] == pytest.approx(glm.llf, abs=1e-8)
    assert statistics["llnull"] == pytest.approx(glm.llnull, abs=1e-8)
    assert statistics["aic"] == pytest.approx(glm.aic, abs=1e-7)
    assert statistics["bic"] == pytest.approx(glm.bic_llf, abs=1e-7)
    assert statistics["nobs"] == glm.nobs == len(frame)
    assert statistics["df_resid"] == glm.df_resid
    assert statistics["prsquared"] == pytest.approx(glm.pseudo_rsquared("mcf"), abs=1e-10)


def test_aggregated_wells_has_the_coefficients_of_its_households():
    """Counts of households and the households' own 0/1 rows are one likelihood, but for the binomial coefficients."""
    counts = aggregated_wells()
    formula = "cbind(incidence, size - incidence) ~ arsenic + educ + assoc"
    binomial = bl.LogisticModel.from_formula(formula, counts)
    wells = bl.datasets.load_wells().assign(arsenic=lambda f: (f["arsenic"] * 2).round() / 2)
    rows = bl.LogisticModel.from_formula("switched ~ arsenic + educ + assoc", wells)
    fit, each = binomial.fit_ml(), rows.fit_ml()
    np.testing.assert_allclose(fit.coef.to_numpy(), each.coef.to_numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.se.to_numpy(), each.se.to_numpy(), rtol=0, atol=1e-8)
    constant = np.sum(stats.binom.logpmf(counts["incidence"], counts["size"], 0.5) + counts["size"] * np.log(2))
    assert fit.llf - each.llf == pytest.approx(constant, abs=1e-8)


def test_trials_may_be_a_predictor(data):
    """The predictors may read the trials (a column of the failures only); the frame the plots draw is per row of the
    likelihood, as the design is."""
    model = bl.LogisticModel.from_formula("cbind(incidence, size - incidence) ~ x + np.log(size)", data)
    glm = statsmodels_glm(data.assign(log_size=np.log(data["size"])), ["x", "log_size"])
    np.testing.assert_allclose(model.fit_ml().coef.to_numpy(), glm.params, rtol=0, atol=1e-8)
    assert (
        len(model.data.frame)
        == len(model.data.X)
        == (data["incidence"] > 0).sum() + (data["incidence"] < data["size"]).sum()
    )


def test_array_door_and_weights(data, models):
    """``LogisticModel(X, counts)`` is the formula's model; a weight multiplies the counts, and the log-likelihood."""
    fit = models[0].fit_ml()
    counts = np.column_stack([data["incidence"], data["size"] - data["incidence"]])
    from_arrays = bl.LogisticModel(data[["x", "z"]], counts).fit_ml()
    np.testing.assert_allclose(from_arrays.coef.to_numpy(), fit.coef.to_numpy(), rtol=0, atol=1e-12)
    assert from_arrays.llf == pytest.approx(fit.llf, abs=1e-9)
    frame = pd.DataFrame({"s": counts[:, 0], "f": counts[:, 1]})
    doubled = bl.LogisticModel(data[["x", "z"]], frame, weights=np.full(len(data), 2.0)).fit_ml()
    np.testing.assert_allclose(doubled.coef.to_numpy(), fit.coef.to_numpy(), rtol=0, atol=1e-10)
    assert doubled.llf == pytest.approx(2 * fit.llf, abs=1e-8)
    assert models[0].classes_.tolist() == ["failure", "success"]
    assert models[0].loglik(fit.params) == pytest.approx(fit.llf, abs=1e-9)


# ---- every fit against the same model on the 0/1 rows -----------------------------------------------------------
def test_map_and_laplace_equal_those_of_the_trials(models):
    binomial, trials = models
    constant = binomial.data.observations.log_constant
    fit, each = binomial.fit_map(PRIOR), trials.fit_map(PRIOR)
    np.testing.assert_allclose(fit.coef.to_numpy(), each.coef.to_numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.se.to_numpy(), each.se.to_numpy(), rtol=0, atol=1e-8)
    assert fit.llf - each.llf == pytest.approx(constant, abs=1e-8)
    laplace, laplace_each = binomial.fit_laplace(PRIOR, random_seed=3), trials.fit_laplace(PRIOR, random_seed=3)
    np.testing.assert_array_equal(laplace.params, fit.params)  # the Gaussian's mean is the MAP, exactly
    np.testing.assert_allclose(laplace.params, laplace_each.params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(laplace.cov, laplace_each.cov, rtol=0, atol=1e-10)
    np.testing.assert_allclose(laplace.coef_draws, laplace_each.coef_draws, rtol=0, atol=1e-8)
    assert laplace.diagnosis.rows["khat"] == pytest.approx(laplace_each.diagnosis.rows["khat"], abs=1e-6)


def test_mcmc_agrees_with_that_of_the_trials_within_monte_carlo_error(models):
    binomial, trials = models
    fit = binomial.fit_mcmc(PRIOR, random_seed=5, progressbar=False)
    each = trials.fit_mcmc(PRIOR, random_seed=6, progressbar=False)
    a, b = fit.summary(), each.summary()
    error = np.hypot(a["mcse_mean"], b["mcse_mean"])
    assert (np.abs(a["mean"] - b["mean"]) < 4 * error).all()
    assert (np.abs(a["sd"] / b["sd"] - 1) < 0.1).all()


def test_separated_counts_raise_for_ml_only():
    x = np.linspace(-2, 2, 8)
    counts = np.column_stack([np.where(x > 0, 5, 0), np.where(x > 0, 0, 5)])
    model = bl.LogisticModel(x[:, None], counts)
    with pytest.raises(bl.SeparationError):
        model.fit_ml()
    assert np.isfinite(model.fit_map(PRIOR).coef).all()


def test_profile_intervals_equal_those_of_the_trials(models):
    binomial, trials = models
    table = binomial.fit_ml().summary(ci_kind="profile")
    each = trials.fit_ml().summary(ci_kind="profile")
    bounds = [column for column in table.columns if column.startswith("profile")]
    np.testing.assert_allclose(table[bounds].to_numpy(), each[bounds].to_numpy(), rtol=0, atol=1e-6)


# ---- the log-likelihood per binomial observation: LOO -----------------------------------------------------------
@pytest.fixture(scope="module")
def laplace(models):
    return models[0].fit_laplace(PRIOR, draws=1000, random_seed=1)


def test_log_likelihood_is_the_binomial_one_per_observation(data, laplace):
    values = laplace.log_likelihood()
    assert values.shape == (1, 1000, len(data))
    draws = laplace.pooled_draws()[:3, :, 0]  # (3, P)
    eta = draws[:, :1] + draws[:, 1:] @ data[["x", "z"]].to_numpy().T
    expected = stats.binom.logpmf(data["incidence"], data["size"], 1 / (1 + np.exp(-eta)))
    np.testing.assert_allclose(values[0, :3], expected, rtol=1e-10)
    observed = laplace.to_datatree()["observed_data"]
    np.testing.assert_array_equal(observed["y"], data["incidence"])
    np.testing.assert_array_equal(observed["trials"], data["size"])


def test_loo_is_arviz_loo_of_the_binomial_observations(data, laplace):
    from arviz_stats import loo as arviz_loo

    rows, _ = laplace.loo_estimate
    reference = arviz_loo(laplace.to_datatree())
    assert rows["loo_rows"] == len(data)
    assert rows["elpd_loo"] == pytest.approx(float(reference.elpd), abs=1e-8)
    assert rows["p_loo"] == pytest.approx(float(reference.p), abs=1e-8)
    assert laplace.summary().statistics["nobs"] == len(data)


def test_subsampled_loo_reads_each_observation_whole(data, laplace, monkeypatch):
    """Past EXACT_ROWS the in-sample density of an observation is ``log mean_s Pr(s, f | B_s)``, its rows together."""
    expected = logsumexp(laplace.log_likelihood().reshape(-1, len(data)), axis=0) - np.log(1000)
    np.testing.assert_allclose(loo._in_sample_lpd(laplace), expected, rtol=1e-12)
    monkeypatch.setattr(loo, "EXACT_ROWS", 20)
    monkeypatch.setattr(loo, "SUBSAMPLE_ROWS", 30)
    rows, _ = loo.loo_estimate(laplace)
    exact, _ = laplace.loo_estimate
    assert rows["loo_rows"] == 30
    assert rows["elpd_loo"] == pytest.approx(exact["elpd_loo"], abs=2 * rows["elpd_loo_se"])


def test_prior_predictive_is_per_observation(data, models):
    assert models[0].prior_predictive(PRIOR, draws=10).probabilities.shape[1] == len(data)


# ---- predictions and held-out counts ----------------------------------------------------------------------------
def test_compare_scores_held_out_counts_per_trial(data, models):
    fit = models[0].fit_ml()
    test = simulated(15, seed=9)
    y_test = pd.DataFrame({"s": test["incidence"], "f": test["size"] - test["incidence"]})
    p = fit.predict_proba(test)[:, 1]
    assert p.shape == (15,)
    table = bl.compare({"ml": fit}, test, y_test)
    log_loss = -(y_test["s"] @ np.log(p) + y_test["f"] @ np.log1p(-p)) / test["size"].sum()
    assert table.loc[("held-out", "log_loss"), "ml"] == pytest.approx(log_loss, rel=1e-12)
    accuracy = (y_test["s"] @ (p > 0.5) + y_test["f"] @ (p < 0.5)) / test["size"].sum()
    assert table.loc[("held-out", "accuracy"), "ml"] == pytest.approx(accuracy, rel=1e-12)
    assert table.attrs["n_rows"] == 15
    in_sample = bl.compare({"ml": fit})
    assert in_sample.attrs["n_rows"] == len(data)


def test_saved_fit_keeps_the_binomial_log_likelihood(models, tmp_path):
    fit = models[0].fit_ml()
    fit.save(tmp_path / "fit.nc")
    loaded = bl.load(tmp_path / "fit.nc")
    assert loaded.llf == fit.llf
    np.testing.assert_allclose(loaded.predict_proba(simulated(5, 2)), fit.predict_proba(simulated(5, 2)))


# ---- bad input ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change, match",
    [
        (lambda f: f.assign(incidence=f["incidence"] - 30), "negative counts"),
        (lambda f: f.assign(incidence=f["incidence"] + 0.5), "fractional counts"),
        (
            lambda f: f.assign(incidence=np.where(f.index == 3, 0, f["incidence"])).assign(
                size=lambda g: g["size"].where(g.index != 3, 0)
            ),
            "no trials.*drop those rows",
        ),
        (lambda f: f.assign(incidence=0), "no trial is counted among the successes"),
    ],
    ids=["negative", "fractional", "zero trials", "no successes"],
)
def test_bad_counts_are_refused(data, change, match):
    with pytest.raises(bl.DataError, match=match):
        bl.LogisticModel.from_formula("cbind(incidence, size - incidence) ~ x", change(data.copy()))


@pytest.mark.parametrize(
    "formula, match",
    [
        ("cbind(incidence) ~ x", "gives cbind 1 argument"),
        ("cbind(incidence, size, x) ~ z", "gives cbind 3 argument"),
        ("cbind(incidence, trials - incidence) ~ x", r"reads \['trials'\], which are not columns"),
        ("cbind(incidence, size - incidence) ~ x + incidence", r"reads its successes' column\(s\) \['incidence'\]"),
    ],
)
def test_bad_cbind_formulas_are_refused(data, formula, match):
    with pytest.raises(bl.FormulaError, match=match):
        bl.LogisticModel.from_formula(formula, data)


def test_missing_counts(data):
    frame = data.astype({"incidence": float})
    frame.loc[[2, 5], "incidence"] = np.nan
    formula = "cbind(incidence, size - incidence) ~ x"
    with pytest.raises(bl.DataError, match="missing values in 2 of 40 rows.*incidence: 2.*missing='drop'"):
        bl.LogisticModel.from_formula(formula, frame)
    with pytest.warns(UserWarning, match="dropped 2 of 40 rows"):
        model = bl.LogisticModel.from_formula(formula, frame, missing="drop")
    assert model.dropped_rows.tolist() == [2, 5]
    counts = np.column_stack([frame["incidence"], frame["size"] - frame["incidence"]])
    with pytest.raises(bl.DataError, match="the counts 'successes' hold missing values"):
        bl.LogisticModel(frame[["x"]], counts)


def test_counts_out_of_core_and_in_scikit_learn_are_refused(data):
    import dask.array as da

    from bayeslogit.sklearn import BayesLogitClassifier

    counts = np.column_stack([data["incidence"], data["size"] - data["incidence"]])
    with pytest.raises(bl.DataError, match="needs its rows in memory"):
        bl.LogisticModel(da.from_array(data[["x"]].to_numpy(), chunks=10), counts)
    with pytest.raises(bl.DataError, match="one class label per row.*sample_weight"):
        BayesLogitClassifier(method="ml").fit(data[["x"]], counts)


# ---- the command line ---------------------------------------------------------------------------------------------
def test_command_line_fits_counts(data, models, tmp_path, capsys):
    path = tmp_path / "counts.csv"
    data.to_csv(path, index=False)
    status = main(
        [
            "compare",
            str(path),
            "--formula",
            "cbind(incidence, size - incidence) ~ x + z",
            "--methods",
            "ml,map",
            "--test-size",
            "0",
            "--out",
            str(tmp_path / "report"),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    coef = models[0].fit_ml().coef
    assert f"{coef['x']:.4g}" in out and "in-sample (40 rows)" in out
    report = (tmp_path / "report" / "report.html").read_text()
    assert "training trials" in report
    held_out = main(["compare", str(path), "--formula", "cbind(incidence, size - incidence) ~ x", "--methods", "ml"])
    assert held_out == 0
    assert "held-out" in capsys.readouterr().out
