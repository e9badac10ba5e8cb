"""Multilevel ML fits timed against lme4's glmer on the same data, in the same run.

Two models: VerbAgg's ``r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)`` (7,584 Bernoulli rows, crossed
factors of 316 and 24 levels), and ``y ~ x + (1 + x | g)`` on ``--rows`` simulated Bernoulli rows in ``--groups``
groups (default 100,000 and 2,000; seed ``--seed``), written to CSV for R to read. glmer's time is
``system.time(glmer(...))``'s elapsed seconds inside R, the data already read; ours is the wall time of
``group_terms`` (the formula's group terms), the fixed effects' model matrix and ``fit_group_ml``, the data frame
already in memory and the package imported. Both fit by their defaults: glmer's two stages (bobyqa, then
Nelder-Mead) with its finite-difference Hessian below 10,000 rows, ours the same two stages by L-BFGS-B.
The table gives both times, their ratio, the largest difference between the fixed effects and between the sds, and
the deviances (glmer's log determinant with crossed terms is not quite the exact one: see
``tests/test_glmm_reference.py``). Run: ``python benchmarks/glmm_speed.py`` (needs Rscript with lme4 and jsonlite).
"""

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from formulaic import model_matrix

import bayeslogit.datasets
from bayeslogit.algorithms.group_fit import fit_group_ml
from bayeslogit.rows.group_terms import group_terms

R_SCRIPT = r"""
suppressMessages({library(lme4); library(jsonlite)})
large <- read.csv(commandArgs(trailingOnly = TRUE)[1]); large$g <- factor(large$g)
fit <- function(formula, data) {
  seconds <- system.time(m <- glmer(formula, data, family = binomial))[["elapsed"]]
  list(seconds = seconds, fixef = unname(fixef(m)),
       sd = unname(unlist(lapply(VarCorr(m), function(v) attr(v, "stddev")))), deviance = -2 * as.numeric(logLik(m)))
}
out <- list(
  verbagg = fit(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), VerbAgg),
  large = fit(y ~ x + (1 + x | g), large)
)
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
"""

MODELS = {
    "verbagg": ("r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)", "Y"),
    "large": ("y ~ x + (1 + x | g)", None),
}


def simulate(rows: int, groups: int, seed: int) -> pd.DataFrame:
    """Bernoulli rows, ``(1 + x | g)`` with sds 0.8 and 0.5 and correlation 0.3, fixed effects -0.5 and 1."""
    rng = np.random.default_rng(seed)
    g, x = rng.integers(0, groups, rows), rng.normal(size=rows)
    cov = np.array([[0.64, 0.3 * 0.8 * 0.5], [0.3 * 0.8 * 0.5, 0.25]])
    b = rng.normal(size=(groups, 2)) @ np.linalg.cholesky(cov).T
    eta = -0.5 + x + b[g, 0] + b[g, 1] * x
    return pd.DataFrame({"y": (rng.random(rows) < 1 / (1 + np.exp(-eta))).astype(int), "x": x, "g": g})


def ours(formula: str, data: pd.DataFrame, event) -> dict:
    """Our fit's time and figures."""
    start = time.perf_counter()
    fixed, terms = group_terms(formula, data)
    response, rhs = (side.strip() for side in fixed.split("~"))
    X = np.asarray(model_matrix(rhs, data), dtype=float)
    y = (data[response] == event).to_numpy(float) if event is not None else data[response].to_numpy(float)
    fit = fit_group_ml(X, y, None, terms)
    seconds = time.perf_counter() - start
    sd = np.concatenate(fit.sd)
    return {"seconds": seconds, "fixef": fit.beta, "sd": sd, "deviance": fit.deviance}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    frames = {"verbagg": bayeslogit.datasets.load_verbagg(), "large": simulate(args.rows, args.groups, args.seed)}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.csv"
        frames["large"].to_csv(path, index=False)
        script = Path(folder) / "fit.R"
        script.write_text(R_SCRIPT)
        done = subprocess.run(["Rscript", str(script), str(path)], capture_output=True, text=True, check=True)
    glmer = json.loads(done.stdout)
    print(
        f"{'model':<9} {'glmer s':>8} {'ours s':>8} {'ours/glmer':>10} {'max|d fixef|':>12} {'max|d sd|':>10} "
        f"{'glmer deviance':>15} {'our deviance':>15}"
    )
    for name, (formula, event) in MODELS.items():
        mine, theirs = ours(formula, frames[name], event), glmer[name]
        d_fixef = np.max(np.abs(mine["fixef"] - np.asarray(theirs["fixef"])))
        d_sd = np.max(np.abs(mine["sd"] - np.asarray(theirs["sd"])))
        print(
            f"{name:<9} {theirs['seconds']:>8.2f} {mine['seconds']:>8.2f} {mine['seconds'] / theirs['seconds']:>10.2f} "
            f"{d_fixef:>12.2e} {d_sd:>10.2e} {theirs['deviance']:>15.4f} {mine['deviance']:>15.4f}"
        )


if __name__ == "__main__":
    main()
