"""The multilevel model as users meet it: formulas with group terms, the three fits, their tables and predictions,
and the refusals that say what to do instead."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayeslogit as bl
from bayeslogit.algorithms.group_fit import fit_group_map, fit_group_ml

CBPP = "cbind(incidence, size - incidence) ~ period + (1 | herd)"


@pytest.fixture(scope="module")
def cbpp():
    return bl.datasets.load_cbpp()


@pytest.fixture(scope="module")
def model(cbpp):
    return bl.MultilevelModel.from_formula(CBPP, cbpp)


@pytest.fixture(scope="module")
def ml(model):
    return model.fit_ml()


def test_the_model_reads_cbind_and_group_terms_as_lme4(model, cbpp):
    assert model.coef_names == ["Intercept", "period[T.2]", "period[T.3]", "period[T.4]"]
    np.testing.assert_array_equal(model.successes, cbpp["incidence"])
    np.testing.assert_array_equal(model.trials, cbpp["size"])
    (term,) = model.terms
    assert term.factor == "herd" and term.columns == ("Intercept",) and term.n_levels == 15
    assert model.layout.sd_labels == ["herd: Intercept"]


def test_ml_tables_hold_the_engines_estimates(model, ml):
    """The fit's tables are the engine's arrays under the model's names (the engine is checked against glmer in
    the reference tests)."""
    direct = fit_group_ml(model.X, model.successes, model.trials, model.terms)
    np.testing.assert_allclose(ml.coef.to_numpy(), direct.beta, rtol=1e-10)
    table = ml.summary()
    np.testing.assert_allclose(table.loc[model.coef_names, "se"], np.sqrt(np.diag(direct.beta_cov)), rtol=1e-10)
    np.testing.assert_allclose(table.loc[model.coef_names, "z"], direct.beta / np.sqrt(np.diag(direct.beta_cov)))
    assert table.loc["sd[herd: Intercept]", "estimate"] == pytest.approx(direct.sd[0][0], rel=1e-10)
    assert np.isnan(table.loc["sd[herd: Intercept]", "se"])
    block = ml.random_effects()
    assert block.loc[0, "variance"] == pytest.approx(block.loc[0, "sd"] ** 2, rel=1e-14)
    assert block.loc[0, "n_levels"] == 15
    effects = ml.ranef()
    np.testing.assert_allclose(effects["estimate"], direct.ranef[0][:, 0], rtol=1e-10)
    np.testing.assert_allclose(effects["sd"], direct.ranef_sd[0][:, 0], rtol=1e-10)
    assert ml.loglik == pytest.approx(direct.loglik, rel=1e-12) and ml.singular == []


def test_map_is_the_engines_mode_under_the_default_priors(model):
    fit = model.fit_map()
    scale = 2.5 * np.ones(3)  # Normal(2.5) on the slopes, flat intercept
    direct = fit_group_map(
        model.X, model.successes, model.trials, model.terms, bl.GroupPrior(), np.r_[0.0, 1 / scale**2]
    )
    np.testing.assert_allclose(fit.coef.to_numpy(), direct.beta, rtol=1e-10)
    assert fit.group_sd.iloc[0] == pytest.approx(direct.sd[0][0], rel=1e-10)


def test_the_prior_carries_the_group_prior(model):
    """``bl.Normal(scale, group=GroupPrior(...))`` is the engine's mode under that group prior; a tighter Gamma
    (rate 20: mean sd 0.1) pulls the herd sd below the default's."""
    group = bl.GroupPrior(sd_shape=2.0, sd_rate=20.0)
    fit = model.fit_map(bl.Normal(1.0, group=group))
    direct = fit_group_map(model.X, model.successes, model.trials, model.terms, group, np.r_[0.0, np.ones(3)])
    np.testing.assert_allclose(fit.coef.to_numpy(), direct.beta, rtol=1e-10)
    assert fit.group_sd.iloc[0] == pytest.approx(direct.sd[0][0], rel=1e-10)
    assert fit.group_sd.iloc[0] < 0.8 * model.fit_map(bl.Normal(1.0)).group_sd.iloc[0]
    assert fit.group_prior == group and "group=GroupPrior(sd_shape=2.0, sd_rate=20.0" in repr(fit.prior)


def test_predictions_use_known_groups_and_say_how_they_treat_new_ones(model, ml, cbpp):
    """Known herds: sigmoid(X beta + b_herd). A new herd: at b = 0 ("population"), or averaged over
    b ~ Normal(0, sd^2) ("integrate"), which Gauss-Hermite quadrature gives to 1e-12; 2,000 Monte Carlo draws of b
    have a standard error below 0.15 / sqrt(2000) = 0.0034 on a probability."""
    rows = cbpp.iloc[[0, 5, 20]]
    codes = [int(np.flatnonzero(np.array(model.terms[0].levels) == str(h))[0]) for h in rows["herd"]]
    X = model.X[[0, 5, 20]]
    b = ml.result.ranef[0][codes, 0]
    np.testing.assert_allclose(ml.predict_proba(rows), expit(X @ ml.result.beta + b), rtol=1e-12)
    new = rows.assign(herd="a new herd")
    np.testing.assert_allclose(ml.predict_proba(new), expit(X @ ml.result.beta), rtol=1e-12)
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    sd = ml.group_sd.iloc[0]
    expected = expit(X @ ml.result.beta + sd * nodes[:, None]).T @ weights / weights.sum()
    np.testing.assert_allclose(ml.predict_proba(new, new_groups="integrate"), expected, atol=0.012)
    with pytest.raises(bl.OptionError, match="new_groups must be one of"):
        ml.predict_proba(new, new_groups="mean")


@pytest.fixture(scope="module")
def few_groups():
    """Four groups with the same success rate: the data cannot tell their spread from none."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=240)
    y = (rng.random(240) < expit(0.2 + 0.7 * x)).astype(int)
    data = pd.DataFrame({"y": y, "x": x, "g": np.tile(list("abcd"), 60)})
    return bl.MultilevelModel.from_formula("y ~ x + (1 | g)", data)


def test_a_singular_ml_fit_warns_and_map_keeps_the_sd_off_zero(few_groups):
    """ML puts the group sd on its boundary (lme4's "boundary (singular) fit"), reports it and warns naming the
    term; the default Gamma(2, 1) prior on the sd keeps the mode off zero."""
    model = few_groups
    with pytest.warns(bl.ConvergenceWarning, match=r"boundary \(singular\) fit.*'g'"):
        fit = model.fit_ml()
    assert fit.singular == ["g"] and fit.group_sd.iloc[0] < 1e-3
    assert model.fit_map().group_sd.iloc[0] > 0.05


def test_refusals_name_the_problem_and_the_fix(model, cbpp):
    with pytest.raises(bl.OptionError, match="formula must be a string"):
        bl.MultilevelModel.from_formula(None, cbpp)
    with pytest.raises(bl.OptionError, match="without y_test"):
        bl.compare({"ml": model.fit_ml()}, cbpp, cbpp["incidence"])
    with pytest.raises(bl.FormulaError, match="bl.MultilevelModel.from_formula"):
        bl.LogisticModel.from_formula(CBPP, cbpp)
    with pytest.raises(
        bl.OptionError,
        match="degenerates as a group sd approaches zero.*fit_mcmc for the posterior, or fit_map for its mode",
    ):
        model.fit_laplace(bl.Normal(2.5))
    with pytest.raises(bl.OptionError, match="n_agq must be a whole number"):
        model.fit_ml(n_agq=0)
    crossed = cbpp.assign(pen=np.arange(len(cbpp)) % 4)
    two_terms = bl.MultilevelModel.from_formula(CBPP.replace("(1 | herd)", "(1 | herd) + (1 | pen)"), crossed)
    with pytest.raises(bl.OptionError, match="single scalar group term"):
        two_terms.fit_ml(n_agq=5)
    with pytest.raises(bl.FormulaError, match=r"gives cbind 1 argument\(s\); a binomial response is cbind"):
        bl.MultilevelModel.from_formula("cbind(incidence) ~ period + (1 | herd)", cbpp)
    with pytest.raises(bl.DataError, match="negative"):
        bl.MultilevelModel.from_formula("cbind(incidence - 9, size) ~ period + (1 | herd)", cbpp)
    with pytest.raises(bl.DataError, match="has a single class"):
        bl.MultilevelModel.from_formula("one ~ size + (1 | herd)", cbpp.assign(one="a"))
    with pytest.raises(bl.OptionError, match="`group` .* must be a bl.GroupPrior, e.g. bl.Normal"):
        bl.Normal(1.0, group=bl.Normal(1.0))
    with pytest.raises(bl.OptionError, match="must be a bl.Normal; got Cauchy"):
        model.fit_map(bl.Cauchy(2.5))
    with pytest.raises(bl.OptionError, match="`sd_rate` must be positive"):
        model.fit_mcmc(bl.Normal(2.5, group=bl.GroupPrior(sd_rate=0.0)))
    with pytest.raises(bl.OptionError, match="draws"):
        model.fit_mcmc(draws=0)
    with pytest.raises(bl.OptionError, match=r"`target_accept` must be a probability in \(0, 1\)"):
        model.fit_mcmc(target_accept=1.5)


def test_mcmc_converges_on_cbpp_and_its_tables_come_from_the_draws(model, cbpp):
    """A short run (2 x 300): its own tables and predictions from its draws; the posterior sd of the herds is near
    ML's (0.64; the Gamma(2, 1) prior and the posterior's right skew put its mean near 0.8)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bl.ConvergenceWarning)  # 600 draws can leave the ESS short of 400
        fit = model.fit_mcmc(draws=300, tune=300, chains=2, random_seed=3)
    table = fit.summary()
    assert list(table.index) == [*model.coef_names, "sd[herd: Intercept]"]
    assert table["r_hat"].max() < 1.05 and fit.diagnosis.divergences == 0
    sd_draws = fit.draws("group_sd")[:, 0]
    assert table.loc["sd[herd: Intercept]", "estimate"] == pytest.approx(sd_draws.mean(), rel=1e-12)
    assert 0.5 < sd_draws.mean() < 1.1
    effects = fit.ranef()
    assert effects["eti89_lb"].lt(effects["estimate"]).all() and effects["estimate"].lt(effects["eti89_ub"]).all()
    coef, b = fit.draws("coef"), fit.draws("b__herd")[:, :, 0]
    row = cbpp.iloc[[0]]
    code = list(model.terms[0].levels).index(str(row["herd"].iloc[0]))
    expected = expit(coef @ model.X[0] + b[:, code]).mean()
    assert fit.predict_proba(row)[0] == pytest.approx(expected, rel=1e-12)


def test_compare_puts_fixed_effects_sds_fit_and_diagnostics_side_by_side(model, ml, cbpp):
    """The binomial log-likelihood of held-out rows is scipy's, with known herds at their effects and a new herd
    at the group mean; log loss is per trial, without the binomial coefficients."""
    from scipy.stats import binom

    fits = {"ml": ml, "map": model.fit_map()}
    held_out = pd.concat([cbpp.iloc[:6], cbpp.iloc[6:9].assign(herd="new")])
    table = bl.compare(fits, held_out)
    for method, fit in fits.items():
        p = fit.predict_proba(held_out)
        k, n = held_out["incidence"].to_numpy(), held_out["size"].to_numpy()
        assert table.loc[("held-out", "loglik"), method] == pytest.approx(binom.logpmf(k, n, p).sum(), rel=1e-12)
        per_trial = -(k * np.log(p) + (n - k) * np.log1p(-p)).sum() / n.sum()
        assert table.loc[("held-out", "log_loss"), method] == pytest.approx(per_trial, rel=1e-12)
        assert table.loc[("group_sd", "herd: Intercept"), method] == fit.group_sd.iloc[0]
        assert table.loc[("coef", "period[T.2]"), method] == fit.coef["period[T.2]"]
    assert table.loc[("diagnostics", "marginal_loglik"), "ml"] == ml.loglik
    assert table.loc[("diagnostics", "singular_terms"), "ml"] == 0
    shown = str(table)
    assert "held-out (9 rows)" in shown and re.search(r"singular_terms +0 +0\n", shown)


def test_the_summary_prints_the_random_effects_block_and_the_likelihoods_as_lme4(model, ml):
    """AIC and BIC from the marginal log-likelihood with lme4's parameter count (fixed effects + covariance
    parameters: 4 + 1 on cbpp) and its 56 observations."""
    table = ml.summary()
    statistics = table.statistics
    assert statistics["llf"] == ml.loglik
    assert statistics["aic"] == pytest.approx(2 * 5 - 2 * ml.loglik, rel=1e-14)
    assert statistics["bic"] == pytest.approx(np.log(56) * 5 - 2 * ml.loglik, rel=1e-14)
    shown = str(table)
    sd = ml.group_sd.iloc[0]
    assert f"Random effects, herd: Intercept: variance {sd**2:.4g}, sd {sd:.4g} (15 levels)" in shown
    assert "Method: ML, marginal likelihood by Laplace" in shown


@pytest.fixture(scope="module")
def slopes():
    """30 groups of 40 rows with group intercepts and slopes of x, and a second predictor z."""
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(30), 40)
    x, z = rng.normal(size=(2, len(g)))
    b0, b1 = rng.normal(scale=0.8, size=30), rng.normal(scale=0.5, size=30)
    eta = -0.3 + b0[g] + (1.0 + b1[g]) * x + 0.5 * z
    data = pd.DataFrame({"y": (rng.random(len(g)) < expit(eta)).astype(int), "x": x, "z": z, "g": g})
    return bl.MultilevelModel.from_formula("y ~ x + z + (1 + x | g)", data), data


def test_group_boundaries_of_a_point_fit_by_hand(slopes):
    """x* = (0 - c_g) / s_g with z at its mean; the delta method's variance from the fixed effects' covariance and
    the group effects' conditional variances; the correlation printed once, with the column before it."""
    model, data = slopes
    fit = model.fit_ml()
    table = fit.group_boundaries("x")
    beta, b, sd = fit.result.beta, fit.result.ranef[0], fit.result.ranef_sd[0]
    a = np.array([1.0, 0.0, data["z"].mean()])
    c, s = a @ beta + b[:, 0], beta[1] + b[:, 1]
    np.testing.assert_allclose(table["boundary"], -c / s, rtol=1e-12)
    cov = fit.result.beta_cov
    x = -c / s
    variance = a @ cov @ a + sd[:, 0] ** 2 + x**2 * (cov[1, 1] + sd[:, 1] ** 2) + 2 * x * (cov @ a)[1]
    np.testing.assert_allclose(table["se"], np.sqrt(variance) / np.abs(s), rtol=1e-12)
    shown = str(fit.summary())
    assert len(re.findall(r"corr with\s+Intercept", shown)) == 1 and "nan" not in shown
    with pytest.raises(bl.OptionError, match=r"feature must be a fixed-effect column .*\['x', 'z'\]"):
        fit.group_boundaries("w")
    with pytest.raises(bl.OptionError, match=r"term must be one of the group terms \['g'\]"):
        fit.group_boundaries("x", term="h")


def test_group_boundaries_of_mcmc_come_with_their_diagnostics(slopes):
    """Per level: the median and interval of the draws' boundaries, ArviZ's R-hat and ESS of them, and the share of
    draws whose slope has the minority sign (the boundary on the far side of infinity)."""
    from arviz_stats.base import array_stats

    model, data = slopes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bl.ConvergenceWarning)
        fit = model.fit_mcmc(draws=200, tune=300, chains=2, random_seed=2)
    table = fit.group_boundaries("x", level=0.8)
    coef, b = fit.posterior.posterior["coef"].values, fit.posterior.posterior["b__g"].values
    c = coef[..., 0, None] + coef[..., 2, None] * data["z"].mean() + b[..., 0]
    s = coef[..., 1, None] + b[..., 1]
    draws = (np.log(4.0) - c) / s  # (chains, draws, levels)
    np.testing.assert_allclose(table["boundary"], np.median(draws.reshape(-1, 30), axis=0), rtol=1e-12)
    # the same draws to 1e-13; the folded half of rank R-hat ranks |x - median|, where the two middle draws tie
    # exactly and rounding orders them: R-hat moves by up to ~1 / (number of draws)
    np.testing.assert_allclose(table["r_hat"], array_stats.rhat(np.moveaxis(draws, -1, 0), method="rank"), atol=3e-3)
    share = (s > 0).reshape(-1, 30).mean(axis=0)
    np.testing.assert_allclose(table["sign_flips"], np.minimum(share, 1 - share))
    assert table["eti89_lb"].le(table["boundary"]).all() and table["boundary"].le(table["eti89_ub"]).all()


@pytest.mark.slow
def test_mcmc_converges_where_ml_is_singular(few_groups):
    """The posterior of the sd of four groups is wide, from near 0 to over 1, and NUTS on the non-centred effects
    samples it without divergences (4 x 2000 draws: an ESS well above 400) at the target acceptance the diagnosis
    advises, 0.99: at 0.95 the tail of the sd near zero leaves a few divergences and a short tail ESS for some seeds
    (two of four tried), which the diagnosis reports."""
    fit = few_groups.fit_mcmc(draws=2000, random_seed=1, target_accept=0.99)
    table = fit.diagnosis.table
    assert table["r_hat"].max() <= 1.01 and fit.diagnosis.divergences == 0
    assert table.loc["sd[g: Intercept]", "ess_bulk"] >= 400
    low, high = np.quantile(fit.draws("group_sd")[:, 0], [0.05, 0.95])
    assert low < 0.2 and high > 1.0


def test_new_rows_without_their_group_are_refused_naming_the_column(ml, cbpp):
    with pytest.raises(bl.DataError, match="lack the column 'herd' of the grouping factor 'herd'"):
        ml.predict_proba(cbpp.drop(columns="herd"))
    rows = cbpp.head(3).astype({"herd": object})
    rows.loc[1, "herd"] = None
    with pytest.raises(bl.DataError, match=r"missing values in 'herd', the grouping factor 'herd', in 1 row"):
        ml.predict_proba(rows)


def test_a_new_group_is_integrated_over_a_singular_covariance():
    """Correlation 1 (a boundary fit, as glmer gives on five groups): the group effects are ``v z``, ``v`` the sds,
    ``z ~ N(0, 1)``, so a new group's probability is a one-dimensional integral, which 60-node Gauss-Hermite gives
    to 1e-12; 2,000 Monte Carlo draws have a standard error below 0.15 / sqrt(2000) = 0.0034."""
    rng = np.random.default_rng(0)
    g, x = np.repeat(np.arange(5), 40), rng.normal(size=200)
    eta = 0.2 + 0.8 * x + rng.normal(0, 0.3, 5)[g] * (1 + x)
    data = pd.DataFrame({"y": (rng.random(200) < expit(eta)).astype(int), "x": x, "g": [f"g{i}" for i in g]})
    with pytest.warns(bl.ConvergenceWarning, match="singular"):
        ml = bl.MultilevelModel.from_formula("y ~ x + (1 + x | g)", data).fit_ml()
    assert ml.group_corr.iloc[0] == pytest.approx(1.0, abs=1e-6)
    new = pd.DataFrame({"x": [-1.5, 0.0, 2.0], "g": "a new group"})
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    rows = np.column_stack([np.ones(3), new["x"]])
    shift = np.outer(rows @ ml.group_sd.to_numpy(), nodes)  # (3, nodes)
    expected = expit((rows @ ml.coef.to_numpy())[:, None] + shift) @ weights / weights.sum()
    np.testing.assert_allclose(ml.predict_proba(new, new_groups="integrate"), expected, atol=0.012)


def test_compare_puts_models_of_other_terms_side_by_side_each_on_its_own_design(ml, cbpp):
    """A model without period beside the model with it: each column is what that fit alone gives, in-sample and on
    held-out rows; the binomial log-likelihood of the rows is the sum of scipy's log pmfs at the fit's
    probabilities."""
    from scipy.stats import binom

    smaller = bl.MultilevelModel.from_formula(CBPP.replace("period", "1"), cbpp).fit_ml()
    for rows in (None, cbpp.iloc[:20]):
        both = bl.compare({"period": ml, "none": smaller}, rows)
        alone = bl.compare({"none": smaller}, rows)
        np.testing.assert_array_equal(both["none"].dropna().to_numpy(), alone["none"].dropna().to_numpy())
    p = smaller.predict_proba(cbpp)
    loglik = binom.logpmf(cbpp["incidence"], cbpp["size"], p).sum()
    assert bl.compare({"none": smaller}).loc[("in-sample", "loglik"), "none"] == pytest.approx(loglik, rel=1e-12)


def test_compare_refuses_fits_of_other_rows_or_without_groups(ml, cbpp):
    flat = bl.LogisticModel.from_formula(CBPP.replace(" + (1 | herd)", ""), cbpp).fit_ml()
    with pytest.raises(bl.OptionError, match="flat is not one .*lr_test"):
        bl.compare({"ml": ml, "flat": flat})
    fewer = bl.MultilevelModel.from_formula(CBPP, cbpp.iloc[:40]).fit_ml()
    with pytest.raises(bl.OptionError, match="different rows or responses"):
        bl.compare({"ml": ml, "fewer": fewer})
