"""Multilevel ML and MAP fits against lme4's glmer and blme's bglmer, run by Rscript on the spot.

Two things keep glmer's Laplace deviance a little above the exact one, and move its estimates:

* glmer stops penalised IRLS when the penalised deviance changes by less than ``tolPwrss = 1e-7`` relative: cbpp's
  deviance is then 184.05313 against 184.05256 converged, and its estimates move by ~1e-4 relative. So the estimates
  are compared with glmer's at ``tolPwrss = 1e-10``, and our optimum's deviance with default glmer's, which it must
  not exceed by more than 1e-6 relative.
* With crossed terms, glmer's log determinant is not quite that of ``H`` at its modes' weights (VerbAgg: 721.49355
  against 721.49280 computed by R from glmer's own modes, at ``tolPwrss = 1e-10`` too). Its optimum is that of a
  deviance ~8e-4 off, and its intercept 1.1e-3 relative (5e-4 of its standard error) from the exact Laplace optimum.
  So estimates are compared to 1e-3 relative or 1e-3 of their standard error, whichever is larger, and our optimum's
  deviance with the exact Laplace deviance at glmer's estimates and modes (``exact``, computed in R), which it must not
  exceed.

Standard errors come from finite-difference Hessians on both sides (lme4's ``deriv12``, steps 1e-4), so they agree to
~1e-4 relative.
"""

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from formulaic import model_matrix
from scipy.stats import binom

import bayeslogit.datasets
from bayeslogit.algorithms.group_fit import fit_group_map, fit_group_ml
from bayeslogit.numerics.group_design import GroupPrior
from bayeslogit.numerics.group_systems import group_system
from bayeslogit.rows.group_terms import group_terms

R_SCRIPT = r"""
suppressMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
folder <- args[1]
has_blme <- requireNamespace("blme", quietly = TRUE)
read <- function(name) {
  d <- read.csv(file.path(folder, paste0(name, ".csv")), stringsAsFactors = TRUE)
  if ("g" %in% names(d)) d$g <- factor(d$g)
  d
}
exact_laplace <- function(m) {  # the Laplace deviance at glmer's estimates and modes, log det at the modes' weights
  u <- getME(m, "u"); ZL <- as.matrix(t(getME(m, "Lambdat") %*% getME(m, "Zt")))
  trials <- weights(m); successes <- getME(m, "y") * trials
  p <- plogis(drop(getME(m, "X") %*% fixef(m) + ZL %*% u))
  H <- crossprod(ZL * sqrt(trials * p * (1 - p))) + diag(ncol(ZL))
  -2 * sum(dbinom(successes, trials, p, log = TRUE)) + sum(u^2) + as.numeric(determinant(H)$modulus)
}
summarise <- function(m, seconds = NA, exact = TRUE) {
  vc <- VarCorr(m)
  re <- as.data.frame(ranef(m, condVar = TRUE))
  list(
    fixef = unname(fixef(m)), se = unname(sqrt(diag(as.matrix(vcov(m))))), theta = unname(getME(m, "theta")),
    sd = lapply(vc, function(v) unname(attr(v, "stddev"))),
    corr = lapply(vc, function(v) unname(as.vector(attr(v, "correlation")))),
    loglik = as.numeric(logLik(m)), singular = isSingular(m), seconds = seconds,
    ranef = re$condval, ranef_sd = re$condsd, ranef_factor = as.character(re$grpvar),
    exact = if (exact && m@devcomp$dims[["nAGQ"]] == 1) exact_laplace(m) else NA
  )
}
fit <- function(formula, data, tight = FALSE, exact = TRUE, ...) {  # exact_laplace's dense ZL: small data only
  control <- if (tight) glmerControl(tolPwrss = 1e-10) else glmerControl()
  seconds <- system.time(m <- glmer(formula, data, family = binomial, control = control, ...))[["elapsed"]]
  summarise(m, seconds, exact)
}
cbpp <- lme4::cbpp; verbagg <- lme4::VerbAgg; correlated <- read("correlated"); singular <- read("singular")
crossed <- read("crossed"); nested <- read("nested")
f_cbpp <- cbind(incidence, size - incidence) ~ period + (1 | herd)
f_verbagg <- r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)
out <- list(
  cbpp = fit(f_cbpp, cbpp), cbpp_tight = fit(f_cbpp, cbpp, tight = TRUE),
  cbpp_agq = fit(f_cbpp, cbpp, tight = TRUE, nAGQ = 25),
  verbagg = fit(f_verbagg, verbagg), verbagg_tight = fit(f_verbagg, verbagg, tight = TRUE),
  correlated = fit(y ~ x + (1 + x | g), correlated), correlated_tight = fit(y ~ x + (1 + x | g), correlated, TRUE),
  singular = fit(y ~ x + (1 | g), singular),
  crossed = fit(y ~ x + (1 | a) + (1 | b), crossed, tight = TRUE, exact = FALSE),
  nested = fit(y ~ x + (1 | school) + (1 | school:class), nested, tight = TRUE, exact = FALSE)
)
if (has_blme) {
  m <- blme::bglmer(f_cbpp, cbpp, family = binomial, control = glmerControl(tolPwrss = 1e-10),
    cov.prior = gamma(shape = 2, rate = 1, posterior.scale = "sd"), fixef.prior = normal(sd = c(10, 10, 10, 10)))
  out$cbpp_map <- summarise(m)
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
"""


def simulated_correlated(seed: int = 11) -> pd.DataFrame:
    """3,000 Bernoulli rows in 60 groups, ``(1 + x | g)`` with sds 0.8 and 0.5, correlation 0.4."""
    rng = np.random.default_rng(seed)
    n, n_groups = 3000, 60
    g, x = rng.integers(0, n_groups, n), rng.normal(size=n)
    cov = np.array([[0.64, 0.4 * 0.8 * 0.5], [0.4 * 0.8 * 0.5, 0.25]])
    b = rng.normal(size=(n_groups, 2)) @ np.linalg.cholesky(cov).T
    eta = -0.3 + 0.7 * x + b[g, 0] + b[g, 1] * x
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{i:02d}" for i in g]})


def simulated_singular(seed: int = 3) -> pd.DataFrame:
    """150 Bernoulli rows in 5 groups whose true sd is 0.01: glmer's estimate is 0 (a singular fit)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(5), 30)
    x = rng.normal(size=150)
    eta = 0.2 + 0.8 * x + rng.normal(0, 0.01, 5)[g]
    y = (rng.random(150) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{i}" for i in g]})


def simulated_crossed(seed: int = 5) -> pd.DataFrame:
    """2,000 Bernoulli rows, ``(1 | a) + (1 | b)`` with sds 0.9 and 0.6, each row pairing one of 400 levels of ``a``
    and one of 260 of ``b`` at random: crossed factors of many levels, factored by sparse products (glmer's time
    grows as the cube of the levels, and is kept short here)."""
    rng = np.random.default_rng(seed)
    n = 2000
    a, b, x = rng.integers(0, 400, n), rng.integers(0, 260, n), rng.normal(size=n)
    eta = -0.4 + 0.8 * x + rng.normal(0, 0.9, 400)[a] + rng.normal(0, 0.6, 260)[b]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"y": y, "x": x, "a": [f"a{i}" for i in a], "b": [f"b{i}" for i in b]})


def simulated_nested(seed: int = 6) -> pd.DataFrame:
    """12,000 Bernoulli rows in 1,200 schools of 2 classes each, ``(1 | school) + (1 | school:class)`` with sds 0.7
    and 0.8: a Schur complement of 1,200 effects, diagonal, factored sparse."""
    rng = np.random.default_rng(seed)
    n = 12_000
    school, klass, x = rng.integers(0, 1200, n), rng.integers(0, 2, n), rng.normal(size=n)
    eta = 0.3 - 0.6 * x + rng.normal(0, 0.7, 1200)[school] + rng.normal(0, 0.8, (1200, 2))[school, klass]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"y": y, "x": x, "school": [f"s{i}" for i in school], "class": [f"c{i}" for i in klass]})


def frames() -> dict[str, pd.DataFrame]:
    """The data of the reference fits; R fits lme4's own cbpp and VerbAgg, which the bundled copies are."""
    return {
        "cbpp": bayeslogit.datasets.load_cbpp(),
        "verbagg": bayeslogit.datasets.load_verbagg(),
        "correlated": simulated_correlated(),
        "singular": simulated_singular(),
        "crossed": simulated_crossed(),
        "nested": simulated_nested(),
    }


@pytest.fixture(scope="module")
def glmer(tmp_path_factory):
    """glmer's (and bglmer's, as ``cbpp_map``) results on the data of :func:`frames`, by name."""
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not on PATH: the reference fits need R with lme4")
    check = subprocess.run(["Rscript", "-e", "library(lme4); library(jsonlite)"], capture_output=True)
    if check.returncode != 0:
        pytest.skip("R lacks lme4 or jsonlite, which the reference fits need")
    folder = tmp_path_factory.mktemp("glmer")
    for name in ("correlated", "singular", "crossed", "nested"):
        frames()[name].to_csv(folder / f"{name}.csv", index=False)
    script = folder / "fit.R"
    script.write_text(R_SCRIPT)
    done = subprocess.run(["Rscript", str(script), str(folder)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def fit(formula: str, data: pd.DataFrame, event=None, trials=None, **options):
    """Our ML fit of an lme4-style formula (``event``: the response's level that counts as a success)."""
    fixed, terms = group_terms(formula, data)
    response, rhs = (side.strip() for side in fixed.split("~"))
    X = np.asarray(model_matrix(rhs, data), dtype=float)
    y = (data[response] == event).to_numpy(float) if event is not None else data[response].to_numpy(float)
    t = None if trials is None else data[trials].to_numpy(float)
    return fit_group_ml(X, y, t, terms, **options), X, y, t, terms


def assert_close(ours, theirs, rtol, atol=0.0):
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    assert np.all(np.abs(ours - theirs) <= atol + rtol * np.abs(theirs)), (ours, theirs)


def assert_no_worse(ours_deviance: float, theirs: dict):
    """Our optimum's deviance is at most glmer's plus 1e-6 relative, and at most the exact Laplace deviance at
    glmer's estimates (plus rounding)."""
    assert ours_deviance <= -2.0 * theirs["loglik"] * (1 + 1e-6)
    assert ours_deviance <= theirs["exact"] * (1 + 1e-12)


def assert_estimates(ours, theirs: dict, rtol: float):
    """Fixed effects to ``rtol`` relative, or ``rtol`` of their standard error where that is larger."""
    se = np.asarray(theirs["se"])
    assert_close(ours.beta, theirs["fixef"], 0.0, np.maximum(rtol * np.abs(theirs["fixef"]), rtol * se))


def test_cbpp_laplace(glmer):
    data = frames()["cbpp"]
    ours, *_ = fit("incidence ~ period + (1 | herd)", data, trials="size")
    tight, default = glmer["cbpp_tight"], glmer["cbpp"]
    assert_close(ours.beta, tight["fixef"], 1e-4)
    assert_close(ours.sd[0], tight["sd"]["herd"], 1e-4)
    assert abs(ours.loglik - tight["loglik"]) < 1e-3
    assert_close(ours.beta_se, tight["se"], 1e-3)
    assert_close(ours.ranef[0][:, 0], tight["ranef"], 1e-3, 1e-5)
    assert_close(ours.ranef_sd[0][:, 0], tight["ranef_sd"], 1e-3)
    assert_no_worse(ours.deviance, default)
    assert_close(ours.beta, default["fixef"], 1e-3)  # default glmer stops its penalised IRLS early
    assert ours.converged and ours.singular == (False,)


def test_cbpp_adaptive_quadrature(glmer):
    """nAGQ = 25. glmer's AGQ log-likelihood leaves out the saturated model's (binomial coefficients included)."""
    data = frames()["cbpp"]
    ours, _, y, m, _ = fit("incidence ~ period + (1 | herd)", data, trials="size", n_agq=25)
    theirs = glmer["cbpp_agq"]
    assert_close(ours.beta, theirs["fixef"], 1e-3)
    assert_close(ours.sd[0], theirs["sd"]["herd"], 1e-3)
    assert_close(ours.beta_se, theirs["se"], 1e-3)
    saturated = float(np.sum(binom.logpmf(y, m, y / m)))
    assert abs(ours.loglik - saturated - theirs["loglik"]) < 1e-3


def test_verbagg_crossed(glmer):
    data = frames()["verbagg"]
    ours, *_ = fit("r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)", data, event="Y")
    tight = glmer["verbagg_tight"]
    assert ours.factors == ("id", "item")
    assert_estimates(ours, tight, 1e-3)
    assert_close([ours.sd[0][0], ours.sd[1][0]], [tight["sd"]["id"], tight["sd"]["item"]], 1e-3)
    # glmer's Hessian is that of its deviance with the approximate log determinant: its standard errors are up to 2e-3
    # below ours, which steps of 1e-4 and 1e-3 in the second differences of our deviance reproduce to 1e-5
    assert_close(ours.beta_se, tight["se"], 5e-3)
    assert abs(ours.loglik - tight["loglik"]) < 1e-3
    assert_no_worse(ours.deviance, glmer["verbagg"])
    assert_no_worse(ours.deviance, tight)
    ranef = np.concatenate([ours.ranef[0][:, 0], ours.ranef[1][:, 0]])
    assert_close(ranef, tight["ranef"], 0.0, 1e-3)  # the modes follow the estimates, 2e-4 apart (the intercept)


def test_correlated_term(glmer):
    ours, *_ = fit("y ~ x + (1 + x | g)", frames()["correlated"])
    theirs = glmer["correlated_tight"]
    assert_close(ours.beta, theirs["fixef"], 1e-3)
    assert_close(ours.sd[0], theirs["sd"]["g"], 1e-3)
    assert_close(ours.corr[0][0, 1], theirs["corr"]["g"][1], 1e-3)
    assert_close(ours.theta, theirs["theta"], 1e-3, 1e-4)
    assert_close(ours.beta_se, theirs["se"], 1e-3)
    assert_no_worse(ours.deviance, glmer["correlated"])
    assert ours.singular == (False,)


def test_singular_fit(glmer):
    """glmer puts the sd at 0 and says the fit is singular; ours says so too, and MAP keeps the sd off 0."""
    data = frames()["singular"]
    theirs = glmer["singular"]
    assert theirs["singular"]
    ours, X, y, _, terms = fit("y ~ x + (1 | g)", data)
    assert ours.singular == (True,) and ours.sd[0][0] < 1e-3
    assert_close(ours.beta, theirs["fixef"], 1e-3)
    assert_no_worse(ours.deviance, theirs)
    posterior = fit_group_map(X, y, None, terms, GroupPrior())
    assert posterior.singular == (False,) and posterior.sd[0][0] > 0.05


def test_map_against_bglmer(glmer):
    """blme's ``gamma(shape = 2, rate = 1, posterior.scale = "sd")`` is GroupPrior(2, 1) on the sd;
    ``normal(sd = 10)`` a precision of 1/100 on each fixed effect."""
    if "cbpp_map" not in glmer:
        pytest.skip("R lacks blme, whose bglmer is the MAP reference")
    data = frames()["cbpp"]
    fixed, terms = group_terms("incidence ~ period + (1 | herd)", data)
    X = np.asarray(model_matrix(fixed.split("~")[1], data), dtype=float)
    ours = fit_group_map(X, data["incidence"], data["size"], terms, GroupPrior(2.0, 1.0), 1 / 10**2)
    theirs = glmer["cbpp_map"]
    assert_close(ours.beta, theirs["fixef"], 1e-4)
    assert_close(ours.sd[0], theirs["sd"]["herd"], 1e-4)


@pytest.mark.parametrize(
    ("name", "formula", "factors", "sparse_schur"),
    [
        ("crossed", "y ~ x + (1 | a) + (1 | b)", ("a", "b"), False),
        ("nested", "y ~ x + (1 | school) + (1 | school:class)", ("school", "school:class"), True),
    ],
)
def test_many_levels_in_two_factors(glmer, name, formula, factors, sparse_schur):
    """Factors of hundreds or thousands of levels in both terms, which take the sparse products: crossed at random
    (the Schur complement filled in, factored dense) and nested (a diagonal Schur complement, factored sparse)."""
    ours, X, y, _, terms = fit(formula, frames()[name])
    theirs = glmer[name]
    system = group_system(tuple(terms))
    assert system.sparse_schur == sparse_schur and min(t.n_levels for t in terms) > 250
    assert ours.factors == factors
    assert_estimates(ours, theirs, 1e-3)
    assert_close([ours.sd[0][0], ours.sd[1][0]], [theirs["sd"][f] for f in factors], 1e-3)
    assert ours.deviance <= -2.0 * theirs["loglik"] * (1 + 1e-6)
