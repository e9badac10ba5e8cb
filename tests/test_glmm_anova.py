"""Likelihood-ratio tests of multilevel ML fits against lme4's ``anova``, run by Rscript on the spot, and the
p-value of a group sd tested on its boundary against its definition."""

import json
import shutil
import subprocess

import numpy as np
import pytest
from scipy import stats

import bayeslogit as bl

CBPP = "cbind(incidence, size - incidence) ~ {fixed}{groups}"

R_SCRIPT = r"""
suppressMessages({library(lme4); library(jsonlite)})
tests <- function(a, b) { t <- anova(a, b); list(statistic = t$Chisq[2], df = t$Df[2], p = t[["Pr(>Chisq)"]][2]) }
m <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), family = binomial, data = cbpp)
m0 <- glmer(cbind(incidence, size - incidence) ~ 1 + (1 | herd), family = binomial, data = cbpp)
g <- glm(cbind(incidence, size - incidence) ~ period, family = binomial, data = cbpp)
cat(toJSON(list(herd = tests(m, g), period = tests(m, m0)), digits = NA, auto_unbox = TRUE))
"""


@pytest.fixture(scope="module")
def anova(tmp_path_factory):
    """``anova`` of cbpp's glmer fit against the glm without the herd term and the glmer fit without period."""
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not on PATH: the reference tests need R with lme4")
    script = tmp_path_factory.mktemp("anova") / "anova.R"
    script.write_text(R_SCRIPT)
    done = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "there is no package" in done.stderr:
        pytest.skip("R lacks lme4 or jsonlite, which the reference tests need")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def cbpp_fits():
    cbpp = bl.datasets.load_cbpp()
    return {
        "full": bl.MultilevelModel.from_formula(CBPP.format(fixed="period", groups=" + (1 | herd)"), cbpp).fit_ml(),
        "no_period": bl.MultilevelModel.from_formula(CBPP.format(fixed="1", groups=" + (1 | herd)"), cbpp).fit_ml(),
        "flat": bl.LogisticModel.from_formula(CBPP.format(fixed="period", groups=""), cbpp).fit_ml(),
    }


def test_the_tests_are_lme4s_anova(anova, cbpp_fits):
    """Our log marginal likelihood is glmer's to ~1e-5 relative at its own optimum (tests/test_glmm_reference.py),
    so the statistics (differences of ~100) agree to 1e-3 absolute; either order of the fits gives the same test."""
    full = cbpp_fits["full"]
    for other, name in (("flat", "herd"), ("no_period", "period")):
        ours = full.lr_test(cbpp_fits[other])
        assert ours.statistic == pytest.approx(anova[name]["statistic"], abs=1e-3)
        assert ours.df == anova[name]["df"]
        assert ours.p_value == pytest.approx(anova[name]["p"], rel=1e-3)
        assert cbpp_fits[other].lr_test(full) == ours


def test_a_group_sd_on_its_boundary_halves_the_p_value(cbpp_fits):
    """One added scalar term (the herd sd, tested at zero): 1/2 chi2(0) + 1/2 chi2(1), so half the chi2(1) p-value
    for a positive statistic; other differences (fixed effects only) have no such mixture."""
    herd = cbpp_fits["full"].lr_test(cbpp_fits["flat"])
    assert herd.p_value_boundary == pytest.approx(0.5 * stats.chi2.sf(herd.statistic, 1), rel=1e-12)
    assert np.isnan(cbpp_fits["full"].lr_test(cbpp_fits["no_period"]).p_value_boundary)


def test_fits_that_cannot_be_tested_say_why(cbpp_fits):
    cbpp = bl.datasets.load_cbpp()
    full, flat = cbpp_fits["full"], cbpp_fits["flat"]
    with pytest.raises(bl.OptionError, match=r"not nested: \(1 \| herd\) of the smaller model not in the larger"):
        cbpp_fits["no_period"].lr_test(flat)
    with pytest.raises(bl.OptionError, match="not nested: as many parameters"):
        full.lr_test(full)
    with pytest.raises(bl.OptionError, match="two maximum-likelihood fits .* got MultilevelMAPFit"):
        full.lr_test(
            bl.MultilevelModel.from_formula(CBPP.format(fixed="period", groups=" + (1 | herd)"), cbpp).fit_map()
        )
    fewer = bl.MultilevelModel.from_formula(CBPP.format(fixed="period", groups=" + (1 | herd)"), cbpp.iloc[:50])
    with pytest.raises(bl.OptionError, match=r"different rows or responses \(56 and 50 rows\)"):
        full.lr_test(fewer.fit_ml())
    with pytest.raises(bl.OptionError, match="the same two-class or binomial response, without weights"):
        wells = bl.datasets.load_wells()
        model = bl.MultilevelModel.from_formula("switched ~ dist100 + (1 | educ)", wells)
        model.fit_ml().lr_test(
            bl.LogisticModel.from_formula("switched ~ dist100", wells, weights=np.full(len(wells), 2.0)).fit_ml()
        )
