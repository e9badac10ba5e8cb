"""PSIS-LOO of a posterior fit in bounded memory: ArviZ's pointwise estimates, taken row block by row block.

PSIS-LOO treats each row on its own given the draws, so ArviZ's pointwise computation
(``arviz_stats.base.array_stats.loo``) on blocks of rows, aggregated by ArviZ's ``loo_summary``, equals
``arviz_stats.loo`` on the whole DataTree, without the (n_rows, n_draws) log-likelihood array. ArviZ fits a
Pareto tail row by row, a cost that grows with the rows (``benchmarks/posterior_large.py`` times ``compare``, which
computes it, on 200,000 rows), so past :data:`EXACT_ROWS` rows the estimate subsamples
:data:`SUBSAMPLE_ROWS` of them (seeded) and ArviZ's difference estimator (Magnusson et al. 2019, as
``arviz_stats.loo_subsample`` with ``method="lpd"``) corrects the in-sample log predictive density of every
row by the subsample; its standard error includes the subsampling's.

Only the rows PSIS runs on are held with their log-likelihood at every draw, so rows out of core (dask arrays)
are served too: the subsample is gathered in one pass over the chunks, and every row's in-sample log predictive
density is computed chunk by chunk.

Each row's Pareto k is an estimate, of standard error about ``(1 + k) / sqrt(M r_eff)`` for the ``M`` draws of
its fitted tail. The warning comes, as ArviZ's does, when some k exceed ArviZ's threshold, and says whether they
exceed it beyond that noise (:data:`~bayeslogit.fits.diagnostics.convergence.Z` standard errors: the estimate is
unreliable) or within it (it may be). A band below the threshold would not make the warning steadier: it would move the
line down to where the largest of many rows' k lies for ordinary fits.
"""

import numpy as np

from bayeslogit.exceptions import warn_convergence
from bayeslogit.fits.diagnostics.convergence import Z
from bayeslogit.numerics import predictive
from bayeslogit.numerics.blocks import block_slices
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.links import logsumexp

EXACT_ROWS = 10_000  # rows up to which every row's PSIS-LOO is computed
SUBSAMPLE_ROWS = 2_000  # rows whose PSIS-LOO is computed beyond that
_SEED = 20261202  # of the subsample, so that a table is reproducible


def loo_rows(fit) -> dict:
    """ELPD-LOO, its SE, p_loo, the rows whose Pareto k exceeds ArviZ's threshold, and the rows it ran on: the
    fit's :attr:`~bayeslogit.PosteriorFit.loo_estimate` (computed once per fit), with its warning.

    Parameters
    ----------
    fit : PosteriorFit

    Returns
    -------
    dict
        ``elpd_loo, elpd_loo_se, p_loo``, ``high_pareto_k`` (rows of the ones computed, all or the subsample,
        above ArviZ's ``good_k`` or whose k cannot be estimated), ``loo_rows`` (how many rows PSIS ran on).

    Warns
    -----
    UserWarning
        When some rows' Pareto k exceed ``good_k``, so that their LOO estimate is unreliable (beyond the noise of k)
        or may be (within it).
    """
    rows, problem = fit.loo_estimate
    if problem:
        warn_convergence(problem, UserWarning)
    return rows


def loo_estimate(fit) -> tuple[dict, str | None]:
    """What :func:`loo_rows` returns, and what it warns of (None when every Pareto k is good): computed here."""
    from arviz_stats.base import array_stats

    n, S = fit.model.data.observations.count(fit.model.data.X.shape[0]), fit.n_chains * fit.n_draws
    r_eff = 1.0  # as ArviZ: the mean ESS of the coefficients over the number of draws, 1 for one chain
    if fit.n_chains > 1:
        ess = array_stats.ess(fit.coef_draws.transpose(2, 3, 0, 1), method="mean", chain_axis=-2, draw_axis=-1)
        r_eff = float(np.mean(ess)) / S
    rows = (
        np.arange(n)
        if n <= EXACT_ROWS
        else np.sort(np.random.default_rng(_SEED).choice(n, SUBSAMPLE_ROWS, replace=False))
    )
    elpd_i, pareto_k, p_loo_i = _pointwise(fit, rows, r_eff)
    if n <= EXACT_ROWS:
        elpd, se, p_loo, _ = array_stats.loo_summary(elpd_i, p_loo_i)
    else:
        lpd = _in_sample_lpd(fit)
        elpd, _, se = array_stats.diff_srs_estimator(elpd_i, lpd[rows], lpd, n)
        p_loo, _, _ = array_stats.srs_estimator(lpd[rows] - elpd_i, n)
    good_k = min(1 - 1 / np.log10(S), 0.7) if S > 1 else 0.7
    problem = _problem(fit.method, pareto_k, good_k, _khat_se(pareto_k, S, r_eff))
    high = int(_high(pareto_k, good_k).sum())
    return {
        "elpd_loo": float(elpd),
        "elpd_loo_se": float(se),
        "p_loo": float(p_loo),
        "high_pareto_k": high,
        "loo_rows": len(rows),
    }, problem


def _high(pareto_k: np.ndarray, good_k: float) -> np.ndarray:
    """Rows whose Pareto k exceeds ``good_k`` or cannot be estimated (NaN: a tail far from any Pareto), shape (n,)."""
    return np.isnan(pareto_k) | (pareto_k > good_k)


def _khat_se(pareto_k: np.ndarray, S: int, r_eff: float) -> np.ndarray:
    """Standard errors of rows' Pareto ``k`` (n,) fitted to ArviZ's tail of ``M = 3 sqrt(S / r_eff)`` of ``S``
    draws (``S / 5`` when ``S r_eff <= 225``): the ``M r_eff`` effective draws give the shape an sd of
    ``(1 + k) / sqrt(M r_eff)``."""
    tail = np.floor(3 * np.sqrt(S / r_eff)) if S * r_eff > 225 else np.floor(S / 5)
    return (1 + pareto_k) / np.sqrt(max(tail * r_eff, 1.0))


def _problem(method: str, pareto_k: np.ndarray, good_k: float, se: np.ndarray) -> str | None:
    """The warning of rows whose Pareto k exceeds ``good_k``: unreliable when some exceed it by more than Z of their
    standard errors ``se`` (or cannot be estimated: NaN), else possibly unreliable; None when none exceeds it."""
    high = _high(pareto_k, good_k)
    if not high.any():
        return None
    sure = int((np.isnan(pareto_k) | (pareto_k - Z * se > good_k)).sum())
    rows = f"{int(high.sum())} of the {len(pareto_k)} rows it was computed on, whose Pareto k exceeds {good_k:.2f}"
    known = se[high & np.isfinite(se)]
    noise = "twice its standard error" + (f" (about {float(np.median(known)):.2f})" if known.size else "")
    consequence = (
        "leaving one of them out moves the posterior too far for importance sampling. Treat elpd_loo as "
        "approximate, or cross-validate (k-fold)"
    )
    if sure:
        return (
            f"ELPD-LOO of the {method} fit is unreliable for {rows}: {sure} of them by more than {noise}; {consequence}"
        )
    return (
        f"ELPD-LOO of the {method} fit may be unreliable for {rows}, each by less than {noise}, so within its "
        f"noise; {consequence.replace('moves', 'may move')}"
    )


def _pointwise(fit, rows: np.ndarray, r_eff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ArviZ's pointwise ``elpd_i, pareto_k, p_loo_i`` of the sorted training observations ``rows``, each of shape
    (len(rows),)."""
    from arviz_stats.base import array_stats

    out = np.empty((3, len(rows)))
    for block, loglik in _observation_loglik(fit, rows):
        values = loglik.T.reshape(loglik.shape[1], fit.n_chains, fit.n_draws)
        out[:, block] = array_stats.loo(values, r_eff=r_eff)
    return out[0], out[1], out[2]


def _observation_loglik(fit, rows: np.ndarray):
    """Blocks of the sorted training observations ``rows``, and their log-likelihood at every draw, shape (S, block):
    of a binomial observation, the sum over its rows of the likelihood with its binomial coefficient
    (:mod:`bayeslogit.numerics.observations`)."""
    observations = fit.model.data.observations
    expanded, starts = observations.rows_of(rows)
    X, y, weights = fit.model.data.take(expanded)
    ends = np.append(starts[1:], len(expanded))
    draws = fit.pooled_draws()
    for block in block_slices(len(rows), len(draws)):
        first, last = starts[block][0], ends[block][-1]
        loglik = predictive.log_likelihood_per_draw(
            fit.layout.family, Design(X[first:last], fit.model.intercept), y[first:last], weights[first:last], draws
        )
        yield block, observations.pointwise(loglik, rows[block], starts[block] - first)


def _in_sample_lpd(fit) -> np.ndarray:
    """Each training observation's weighted log predictive density, shape (n,): ``w_i log mean_s Pr(y_i | B_s)`` of a
    row of class ``y_i``, ``log mean_s Pr(s_i, f_i | B_s)`` of a binomial one (its weight inside the probability, as
    in its PSIS-LOO)."""
    data = fit.model.data
    if data.observations.grouped:
        every, S = np.arange(data.observations.count(len(data.y))), fit.n_chains * fit.n_draws
        lpd = np.empty(len(every))
        for block, loglik in _observation_loglik(fit, every):
            lpd[block] = logsumexp(loglik, axis=0) - np.log(S)
        return lpd
    log_proba = fit.log_proba_of_design(data.X)
    _, y, weights = data.training_rows("PSIS-LOO of the training rows", labels_in_memory=True)
    return weights * log_proba[np.arange(len(y)), y]
