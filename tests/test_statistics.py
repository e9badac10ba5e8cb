"""Model-level statistics of point fits and likelihood-ratio tests, against statsmodels and hand computations.

Newton stops where its decrement (the objective's distance to the minimum) is below 1e-10, so log-likelihoods
and everything derived from them agree with statsmodels' Newton fits to far better than the rtol of 1e-8 used
here (wells' llf is about -2e3).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayeslogit as bl

sm = pytest.importorskip("statsmodels.api")

NAMES = ["llf", "llnull", "llr", "llr_pvalue", "prsquared", "aic", "bic", "nobs", "df_model", "df_resid"]


@pytest.fixture(scope="module")
def wells():
    return bl.datasets.load_wells()


@pytest.fixture(scope="module")
def iris():
    """Iris with a noise column: sepal_length + sepal_width separate setosa, so the multiclass ML fits use one
    sepal feature, and the noise gives a nested model that is not separated."""
    frame = bl.datasets.load_iris()
    return frame.assign(noise=np.random.default_rng(3).normal(size=len(frame)))


def statsmodels_null_llf(endog, model_class, weights=None):
    """Log-likelihood of the intercept-only model, by statsmodels' Newton (its ``llnull`` uses Nelder-Mead and
    BFGS, which stop about 2e-7 short of the maximum on wells)."""
    ones = np.ones((len(endog), 1))
    if weights is not None:
        return sm.GLM(endog, ones, family=sm.families.Binomial(), freq_weights=weights).fit(tol=1e-12).llf
    return model_class(endog, ones).fit(method="newton", disp=0, maxiter=100).llf


def statsmodels_expected(theirs, null_llf: float) -> dict:
    """statsmodels' statistics by name, with ``llnull`` (and what uses it) from a Newton null fit."""
    expected = {name: getattr(theirs, name) for name in NAMES}
    expected["llnull"] = null_llf
    expected["llr"] = 2 * (theirs.llf - null_llf)
    expected["llr_pvalue"] = stats.chi2.sf(expected["llr"], theirs.df_model)
    expected["prsquared"] = 1 - theirs.llf / null_llf
    return expected


def assert_matches(ours: pd.Series, theirs, null_llf: float):
    """Every statistic equal to statsmodels' (:func:`statsmodels_expected`)."""
    expected = statsmodels_expected(theirs, null_llf)
    assert list(ours.index) == NAMES
    np.testing.assert_allclose(ours.to_numpy(), [expected[name] for name in NAMES], rtol=1e-8)


def test_binary_statistics_equal_statsmodels_logit(wells):
    fit = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells).fit_ml()
    theirs = sm.Logit(wells["switched"], sm.add_constant(wells[["dist100", "arsenic"]])).fit(disp=0)
    assert_matches(fit.statistics(), theirs, statsmodels_null_llf(wells["switched"], sm.Logit))
    assert theirs.llnull == pytest.approx(fit.statistics()["llnull"], abs=1e-6)  # its own optimiser's llnull


def test_the_null_llf_is_the_weighted_class_frequencies(wells):
    """The intercept-only ML fit is the class frequencies: ``llnull = sum_k W_k log(W_k / W)``."""
    weights = np.random.default_rng(1).uniform(0.2, 3.0, len(wells))
    fit = bl.LogisticModel.from_formula("switched ~ dist100", wells, weights=weights).fit_ml()
    totals = np.array([weights[wells["switched"] == k].sum() for k in (0, 1)])
    assert fit.statistics()["llnull"] == pytest.approx(totals @ np.log(totals / totals.sum()), rel=1e-12)


def test_multiclass_statistics_equal_statsmodels_mnlogit(iris):
    model = bl.LogisticModel.from_formula("species ~ sepal_length", iris)
    codes = np.searchsorted(model.classes_, iris["species"])
    theirs = sm.MNLogit(codes, sm.add_constant(iris[["sepal_length"]])).fit(method="newton", disp=0, maxiter=100)
    ours = model.fit_ml().statistics()
    assert_matches(ours, theirs, statsmodels_null_llf(codes, sm.MNLogit))
    assert ours["df_model"] == 2 and ours["df_resid"] == 146  # one slope per non-reference class


def test_anes96_statistics_equal_statsmodels_mnlogit():
    """Seven party identifications on five predictors (statsmodels' ANES96 example): 36 slopes, 944 rows."""
    data = sm.datasets.anes96.load_pandas()
    ours = bl.LogisticModel(data.exog, data.endog).fit_ml().statistics()
    theirs = sm.MNLogit(data.endog, sm.add_constant(data.exog)).fit(method="newton", disp=0, maxiter=100)
    assert_matches(ours, theirs, statsmodels_null_llf(data.endog, sm.MNLogit))
    assert (ours["nobs"], ours["df_model"], ours["df_resid"]) == (944, 30, 908)  # 6 x 6 coefficients


def test_symmetric_parameterization_counts_free_coefficients(iris):
    """A symmetric fit has the same likelihood and the same free coefficients (constrained to sum to 0)."""
    formula = "species ~ sepal_width"
    reference = bl.LogisticModel.from_formula(formula, iris).fit_ml().statistics()
    symmetric = bl.LogisticModel.from_formula(formula, iris, parameterization="symmetric").fit_ml().statistics()
    pd.testing.assert_series_equal(symmetric, reference, check_names=False, rtol=1e-9)


def test_weighted_statistics_equal_statsmodels_glm_and_duplicated_rows(wells):
    """Frequency weights: statsmodels' GLM llf, aic, llnull, and df_resid and bic_llf (which count
    ``sum(w)`` observations); a row of weight 2 is two identical rows."""
    weights = np.random.default_rng(0).integers(1, 4, len(wells)).astype(float)
    formula = "switched ~ dist100 + arsenic"
    ours = bl.LogisticModel.from_formula(formula, wells, weights=weights).fit_ml().statistics()
    theirs = sm.GLM(
        wells["switched"],
        sm.add_constant(wells[["dist100", "arsenic"]]),
        family=sm.families.Binomial(),
        freq_weights=weights,
    ).fit(tol=1e-12)
    np.testing.assert_allclose(
        ours[["llf", "aic", "bic", "df_resid", "nobs"]],
        [theirs.llf, theirs.aic, theirs.bic_llf, theirs.df_resid, weights.sum()],
        rtol=1e-8,
    )
    assert ours["llnull"] == pytest.approx(statsmodels_null_llf(wells["switched"], None, weights), rel=1e-8)
    repeated = wells.loc[wells.index.repeat(weights.astype(int))]
    duplicated = bl.LogisticModel.from_formula(formula, repeated).fit_ml().statistics()
    pd.testing.assert_series_equal(duplicated, ours, rtol=1e-8)


def test_without_intercept_the_null_model_has_every_logit_zero(wells):
    """No intercept: the null is nested in the model (R's glm convention), ``llnull = -sum(w) log K`` and
    ``df_model = k``. statsmodels' aic, bic and df_resid count the same coefficients."""
    X = wells[["dist100", "arsenic"]]
    ours = bl.LogisticModel(X, wells["switched"], intercept=False).fit_ml().statistics()
    theirs = sm.Logit(wells["switched"], X).fit(disp=0)
    null = -len(wells) * np.log(2)
    np.testing.assert_allclose(
        ours[["llf", "llnull", "aic", "bic", "df_model", "df_resid"]],
        [theirs.llf, null, theirs.aic, theirs.bic, 2, theirs.df_resid],
        rtol=1e-8,
    )
    assert ours["llr_pvalue"] == pytest.approx(stats.chi2.sf(2 * (theirs.llf - null), 2), rel=1e-8)


def test_map_reports_its_llf_and_refuses_the_ml_statistics(wells):
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    fit = model.fit_map(bl.Normal(0.1))
    ours = fit.statistics()
    ml = model.fit_ml().statistics()
    assert ours["llf"] == pytest.approx(model.loglik(fit.params), rel=1e-12)
    assert ours["llf"] < ml["llf"]  # a strong prior pulls the estimate off the maximum likelihood
    assert ours[["llnull", "nobs"]].tolist() == ml[["llnull", "nobs"]].tolist()
    assert ours["prsquared"] == pytest.approx(1 - ours["llf"] / ml["llnull"], rel=1e-12)
    assert ours[["llr", "llr_pvalue", "aic", "bic", "df_model", "df_resid"]].isna().all()
    assert "penalised fit" in ours.attrs["note"] and "model.fit_ml().statistics()" in ours.attrs["note"]


def test_lr_test_equals_statsmodels_likelihoods_in_either_order(wells):
    """statsmodels' discrete results have no ``compare_lr_test`` (its regression results do): the test is
    made from their llf and df_model."""
    larger = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells).fit_ml()
    smaller = bl.LogisticModel.from_formula("switched ~ dist100", wells).fit_ml()
    full = sm.Logit(wells["switched"], sm.add_constant(wells[["dist100", "arsenic"]])).fit(disp=0)
    restricted = sm.Logit(wells["switched"], sm.add_constant(wells[["dist100"]])).fit(disp=0)
    statistic, df = 2 * (full.llf - restricted.llf), full.df_model - restricted.df_model
    p_value = stats.chi2.sf(statistic, df)
    for test in (larger.lr_test(smaller), smaller.lr_test(larger)):
        assert test.df == df == 1
        np.testing.assert_allclose([test.statistic, test.p_value], [statistic, p_value], rtol=1e-8)


def test_lr_test_of_multiclass_fits_counts_a_slope_per_class(iris):
    larger = bl.LogisticModel.from_formula("species ~ sepal_length + noise", iris).fit_ml()
    smaller = bl.LogisticModel.from_formula("species ~ sepal_length", iris).fit_ml()
    statistic, df, p_value = larger.lr_test(smaller)
    assert df == 2
    assert statistic == pytest.approx(2 * (larger.llf - smaller.llf), rel=1e-12)
    assert p_value == pytest.approx(stats.chi2.sf(statistic, 2), rel=1e-12)


def test_lr_test_against_the_intercept_only_model_is_llr(wells):
    fit = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells).fit_ml()
    null = bl.LogisticModel(np.empty((len(wells), 0)), wells["switched"]).fit_ml()
    test = fit.lr_test(null)
    assert (test.statistic, test.df) == pytest.approx((fit.statistics()["llr"], 2), rel=1e-9)


@pytest.mark.parametrize(
    "make_other, words",
    [
        (lambda w: bl.LogisticModel.from_formula("switched ~ dist100", w.iloc[:2000]), "different rows (2000 and 3020"),
        (
            lambda w: bl.LogisticModel.from_formula("switched ~ dist100", w.iloc[::-1]),
            "not the same labels and weights in the same order",
        ),
        (
            lambda w: bl.LogisticModel.from_formula("switched ~ dist100", w, weights=np.full(len(w), 2.0)),
            "not the same labels and weights in the same order",
        ),
        (
            lambda w: bl.LogisticModel.from_formula("switched ~ dist100", w.assign(dist100=w["dist100"] * 2)),
            "the feature 'dist100' holds different values",
        ),
        (lambda w: bl.LogisticModel.from_formula("switched ~ educ + arsenic", w), "same number of coefficients (3)"),
        (lambda w: bl.LogisticModel.from_formula("switched ~ educ", w), "the smaller has the coefficient(s) ['educ']"),
        (
            lambda w: bl.LogisticModel.from_formula(
                "switched ~ dist100", w.assign(switched=w["switched"].map({0: "no", 1: "yes"}))
            ),
            "different outcomes",
        ),
    ],
)
def test_lr_test_refuses_fits_of_other_data_or_not_nested(wells, make_other, words):
    fit = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells).fit_ml()
    with pytest.raises(ValueError) as raised:
        fit.lr_test(make_other(wells).fit_ml())
    assert words in str(raised.value)


def test_lr_test_refuses_map_fits_and_other_objects(wells):
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    smaller = bl.LogisticModel.from_formula("switched ~ dist100", wells).fit_ml()
    with pytest.raises(ValueError, match="needs maximum-likelihood fits, but one is a MAP fit"):
        model.fit_map(bl.Normal(1.0)).lr_test(smaller)
    with pytest.raises(TypeError, match="compares two point fits"):
        smaller.lr_test(model.fit_laplace(bl.Normal(1.0), draws=200, random_seed=0))


def test_dask_rows_give_the_statistics_and_tests_of_rows_in_memory(wells):
    da = pytest.importorskip("dask.array")
    X, y = wells[["dist100", "arsenic"]].to_numpy(), wells["switched"].to_numpy()
    weights = np.random.default_rng(2).uniform(0.5, 2.0, len(wells))

    def fits(chunked):
        wrap = (lambda a: da.from_array(a, chunks=1000)) if chunked else (lambda a: a)
        return [bl.LogisticModel(wrap(X[:, :p]), wrap(y), weights=wrap(weights)).fit_ml() for p in (2, 1)]

    (memory, memory_small), (chunked, chunked_small) = fits(False), fits(True)
    pd.testing.assert_series_equal(chunked.statistics(), memory.statistics(), rtol=1e-10)
    np.testing.assert_allclose(chunked.lr_test(chunked_small), memory.lr_test(memory_small), rtol=1e-9)
