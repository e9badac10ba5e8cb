"""Multilevel ML fits timed against lme4's glmer on the same data, in the same run.

Three models: VerbAgg's ``r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)`` (7,584 Bernoulli rows, crossed
factors of 316 and 24 levels); ``y ~ x + (1 + x | g)`` on ``--rows`` simulated Bernoulli rows in ``--groups``
groups (default 100,000 and 2,000; seed ``--seed``); and ``y ~ x + (1 | a) + (1 | b)`` on ``--crossed-rows``
simulated rows, each pairing a level of ``a`` and one of ``b`` at random, ``--crossed-levels`` of each (default
10,000 rows, 1,500 and 1,100 levels: two factors of over a thousand levels, whose Schur complement is large and, paired
at random, fills in: factored dense; glmer takes minutes per fit there, its time growing as the cube of the levels). The
simulated data are written to CSV for R to read. glmer's time is
``system.time(glmer(...))``'s elapsed seconds inside R, the data already read (the medians of ``--repeats`` fits);
ours is the wall time of what a user times, ``bl.MultilevelModel.from_formula(formula, data).fit_ml()``, the data
frame in memory and the package imported (median of ``--repeats``). Both fit by their defaults: glmer's two stages
(bobyqa, then Nelder-Mead) with its finite-difference Hessian below 10,000 rows, ours the same two stages by
L-BFGS-B. The table gives both times, their ratio, the largest difference between the fixed effects and between the
sds, and the deviances (glmer's log determinant with crossed terms is not quite the exact one: see
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
from common import Headline, Table, machine, script_main

import bayeslogit as bl

R_SCRIPT = r"""
suppressMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
large <- read.csv(args[1]); large$g <- factor(large$g)
crossed <- read.csv(args[2]); crossed$a <- factor(crossed$a); crossed$b <- factor(crossed$b)
repeats <- as.integer(args[3])
fit <- function(formula, data) {
  seconds <- median(replicate(repeats, system.time(m <<- glmer(formula, data, family = binomial))[["elapsed"]]))
  list(seconds = seconds, fixef = unname(fixef(m)),
       sd = unname(unlist(lapply(VarCorr(m), function(v) attr(v, "stddev")))), deviance = -2 * as.numeric(logLik(m)))
}
out <- list(
  verbagg = fit(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), VerbAgg),
  large = fit(y ~ x + (1 + x | g), large),
  crossed = fit(y ~ x + (1 | a) + (1 | b), crossed)
)
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
"""

MODELS = {
    "verbagg": "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
    "large": "y ~ x + (1 + x | g)",
    "crossed": "y ~ x + (1 | a) + (1 | b)",
}


def simulate(rows: int, groups: int, seed: int) -> pd.DataFrame:
    """Bernoulli rows, ``(1 + x | g)`` with sds 0.8 and 0.5 and correlation 0.3, fixed effects -0.5 and 1."""
    rng = np.random.default_rng(seed)
    g, x = rng.integers(0, groups, rows), rng.normal(size=rows)
    cov = np.array([[0.64, 0.3 * 0.8 * 0.5], [0.3 * 0.8 * 0.5, 0.25]])
    b = rng.normal(size=(groups, 2)) @ np.linalg.cholesky(cov).T
    eta = -0.5 + x + b[g, 0] + b[g, 1] * x
    return pd.DataFrame({"y": (rng.random(rows) < 1 / (1 + np.exp(-eta))).astype(int), "x": x, "g": g})


def simulate_crossed(rows: int, levels: tuple[int, int], seed: int) -> pd.DataFrame:
    """Bernoulli rows, ``(1 | a) + (1 | b)`` with sds 0.8 and 0.5, each row's ``a`` and ``b`` drawn independently;
    fixed effects -0.5 and 1."""
    rng = np.random.default_rng(seed)
    a, b, x = rng.integers(0, levels[0], rows), rng.integers(0, levels[1], rows), rng.normal(size=rows)
    eta = -0.5 + x + rng.normal(0, 0.8, levels[0])[a] + rng.normal(0, 0.5, levels[1])[b]
    return pd.DataFrame({"y": (rng.random(rows) < 1 / (1 + np.exp(-eta))).astype(int), "x": x, "a": a, "b": b})


def ours(formula: str, data: pd.DataFrame, repeats: int) -> dict:
    """Our fit's median time over ``repeats`` and its figures."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fit = bl.MultilevelModel.from_formula(formula, data).fit_ml()
        seconds.append(time.perf_counter() - start)
    sd = fit.group_sd.to_numpy()
    return {"seconds": float(np.median(seconds)), "fixef": fit.coef.to_numpy(), "sd": sd, "deviance": -2 * fit.loglik}


def measure(args) -> tuple[Table, list[Headline]]:
    frames = {
        "verbagg": bl.datasets.load_verbagg(),
        "large": simulate(args.rows, args.groups, args.seed),
        "crossed": simulate_crossed(args.crossed_rows, tuple(args.crossed_levels), args.seed),
    }
    labels = {
        "verbagg": "VerbAgg, crossed (1 | id) + (1 | item)",
        "large": f"{args.rows:,} rows, {args.groups:,} groups, (1 + x | g)",
        "crossed": f"{args.crossed_rows:,} rows, (1 | a) + (1 | b), {args.crossed_levels[0]:,} x "
        f"{args.crossed_levels[1]:,} levels",
    }
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"{name}.csv" for name in ("large", "crossed")]
        for path in paths:
            frames[path.stem].to_csv(path, index=False)
        script = Path(folder) / "fit.R"
        script.write_text(R_SCRIPT)
        command = ["Rscript", str(script), *map(str, paths), str(args.repeats)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    glmer = json.loads(done.stdout)
    rows, headlines = [], []
    for name, formula in MODELS.items():
        mine, theirs = ours(formula, frames[name], args.repeats), glmer[name]
        ratio = mine["seconds"] / theirs["seconds"]
        d_fixef = float(np.max(np.abs(mine["fixef"] - np.asarray(theirs["fixef"]))))
        d_sd = float(np.max(np.abs(mine["sd"] - np.asarray(theirs["sd"]))))
        rows.append(
            [
                name,
                f"{theirs['seconds']:.2f}",
                f"{mine['seconds']:.2f}",
                f"{ratio:.2f}",
                f"{d_fixef:.1e}",
                f"{d_sd:.1e}",
            ]
            + [f"{theirs['deviance']:.4f}", f"{mine['deviance']:.4f}"]
        )
        headlines.append(
            Headline(
                f"multilevel ML, {labels[name]}",
                f"{mine['seconds']:.2f} s",
                f"glmer {theirs['seconds']:.2f} s",
                f"{ratio:.2f}x",
                "<= 1x glmer",
                ratio <= 1.0,
                f"max |d fixef| {d_fixef:.1e}, max |d sd| {d_sd:.1e}",
            )
        )
    header = f"Multilevel ML against lme4's glmer (R's elapsed time inside R), medians of {args.repeats}; {machine()}"
    columns = ["model", "glmer s", "ours s", "ours/glmer", "max|d fixef|", "max|d sd|", "glmer deviance"]
    return Table(header, [*columns, "our deviance"], rows), headlines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=2_000)
    parser.add_argument("--crossed-rows", type=int, default=10_000)
    parser.add_argument("--crossed-levels", type=int, nargs=2, default=[1_500, 1_100])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeats", type=int, default=3)


if __name__ == "__main__":
    script_main(__doc__, add_arguments, measure)
