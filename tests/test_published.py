"""Maximum likelihood against published tables (absolute tolerance 5e-5).

Sources
-------
* Spector & Mazzeo (1980) grade data, Stata ``logit grade gpa tuce psi`` as stored in statsmodels'
  test results (``statsmodels/discrete/tests/results/results_discrete.py``, class ``Spector``).
* ANES 1996 multinomial logit of party identification, base category 0, Stata 11 (checked there against
  R's nnet), as used in statsmodels' tests (``Anes.mnlogit_basezero``).
* Wells: Gelman & Hill (2007), *Data Analysis Using Regression and Multilevel/Hierarchical Models*,
  section 5.4, ``glm(switch ~ dist100 + arsenic, family=binomial(link="logit"))``; published to 2-3 decimals.
* Challenger O-rings: Dalal, Fowlkes & Hoadley (1989), JASA 84; ML fit 15.0429 - 0.2322 temp.
"""

import numpy as np
import pytest

import bayeslogit as bl

sm_datasets = pytest.importorskip("statsmodels.datasets")

SPECTOR_COEF = {"Intercept": -13.0213483201, "GPA": 2.82611297201, "TUCE": 0.0951576702557, "PSI": 2.37868772835}
SPECTOR_SE = {"Intercept": 4.93132462871, "GPA": 1.26294114526, "TUCE": 0.141554207662, "PSI": 1.06456430165}

# Stata 11, mlogit with base outcome 0: rows (logpopul, selfLR, age, educ, income, const), one column per
# outcome 1..6 (statsmodels lists them column by column, order="F").
ANES_COEF = np.reshape(
    [
        -0.01153598,
        0.29771435,
        -0.024945,
        0.08249144,
        0.00519655,
        -0.37340167,
        -0.08875065,
        0.39166864,
        -0.02289784,
        0.18104276,
        0.04787398,
        -2.2509132,
        -0.1059667,
        0.57345051,
        -0.01485121,
        -0.00715242,
        0.05757516,
        -3.6655835,
        -0.0915567,
        1.2787718,
        -0.00868135,
        0.19982796,
        0.08449838,
        -7.6138431,
        -0.0932846,
        1.3469616,
        -0.01790407,
        0.21693885,
        0.08095841,
        -7.0604782,
        -0.14088069,
        2.0700801,
        -0.00943265,
        0.3219257,
        0.10889408,
        -12.105751,
    ],
    (6, -1),
    order="F",
)
ANES_SE = np.reshape(
    [
        0.0342823657,
        0.093626795,
        0.0065248584,
        0.0735865799,
        0.0176336937,
        0.6298376313,
        0.0391615553,
        0.1082386919,
        0.0079144618,
        0.0852893563,
        0.0222809297,
        0.7631899491,
        0.0570382292,
        0.1585481337,
        0.0113313133,
        0.1262913234,
        0.0336142088,
        1.156541492,
        0.0437902764,
        0.1288965854,
        0.0084187486,
        0.0941250559,
        0.0261963632,
        0.9575809602,
        0.0393516553,
        0.1171860107,
        0.0076110152,
        0.0850070091,
        0.0229760791,
        0.8443638283,
        0.042138047,
        0.1434089089,
        0.0081338625,
        0.0910979921,
        0.025300888,
        1.059954821,
    ],
    (6, -1),
    order="F",
)
ANES_LLF = -1461.922747312


def test_spector_matches_stata():
    data = sm_datasets.spector.load_pandas()
    fit = bl.LogisticModel(data.exog, data.endog).fit_ml()
    assert fit.converged
    for name, value in SPECTOR_COEF.items():
        assert fit.coef[name] == pytest.approx(value, abs=5e-5)
        assert fit.se[name] == pytest.approx(SPECTOR_SE[name], abs=5e-5)


def test_anes96_multinomial_matches_stata():
    data = sm_datasets.anes96.load_pandas()
    model = bl.LogisticModel(data.exog, data.endog)
    fit = model.fit_ml()
    assert model.likelihood == "categorical" and list(model.classes_) == [0, 1, 2, 3, 4, 5, 6]
    # our rows: Intercept first, then the five predictors; Stata's constant is last
    order = [5, 0, 1, 2, 3, 4]
    np.testing.assert_allclose(fit.coef.to_numpy(), ANES_COEF[order], atol=5e-5)
    np.testing.assert_allclose(fit.se.to_numpy(), ANES_SE[order], atol=5e-5)
    assert fit.llf == pytest.approx(ANES_LLF, abs=5e-5)


def test_wells_matches_gelman_hill():
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())
    fit = model.fit_ml()
    # published to 4 decimals (coefficients) and 3 (standard errors): half a unit in the last place
    np.testing.assert_allclose(fit.coef.to_numpy(), [0.0027, -0.8966, 0.4608], atol=5e-5)
    np.testing.assert_allclose(fit.se.to_numpy(), [0.079, 0.104, 0.041], atol=5e-4)


def test_challenger_matches_dalal_et_al():
    fit = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger()).fit_ml()
    np.testing.assert_allclose(fit.coef.to_numpy(), [15.0429, -0.2322], atol=5e-5)
    np.testing.assert_allclose(fit.se.to_numpy(), [7.379, 0.108], atol=5e-4)


def test_ml_agrees_with_statsmodels_on_wells_with_interaction():
    """Beyond published tables: a formula with an interaction and a log, against statsmodels' Logit."""
    import statsmodels.formula.api as smf

    data = bl.datasets.load_wells()
    formula = "switched ~ dist100 * np.log(arsenic) + educ"
    ours = bl.LogisticModel.from_formula(formula, data).fit_ml()
    theirs = smf.logit(formula, data).fit(disp=0, method="newton", tol=1e-12)
    names = ours.coef.index  # formulaic and patsy order the terms differently but name them alike
    assert set(names) == set(theirs.params.index)
    np.testing.assert_allclose(ours.coef.to_numpy(), theirs.params[names].to_numpy(), atol=1e-8)
    np.testing.assert_allclose(ours.se.to_numpy(), theirs.bse[names].to_numpy(), rtol=1e-6)
    assert ours.llf == pytest.approx(theirs.llf, abs=1e-8)
    np.testing.assert_allclose(ours.summary()["p_value"].to_numpy(), theirs.pvalues[names].to_numpy(), rtol=1e-5)
