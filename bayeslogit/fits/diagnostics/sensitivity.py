"""How much the prior matters: ArviZ's power-scaling sensitivity of a posterior fit's coefficients.

Power-scaling (Kallioinen et al. 2024, ``arviz_stats.psense``) raises the prior, or the likelihood, to a power
near 1 and measures by importance sampling how far each coefficient's posterior moves. It needs the log prior
and the log-likelihood of every draw: the log-likelihood is the fit's ``log_likelihood`` group, the log prior
the ``log_prior`` group built here, the prior's normalised log density at each draw's coefficients (a flat prior
contributes 0; see :meth:`bayeslogit.numerics.prior_specs.GaussianTerm.log_density`). The objective's ``penalty`` is
minus that density up to a constant.

Each sensitivity is a Monte Carlo estimate. Its standard error is estimated by batch means (the same sensitivity
on :data:`BATCHES` contiguous batches of the pooled draws, whose sd over the square root of their number stands for
the whole's), and a coefficient whose sensitivity is within :data:`~bayeslogit.fits.diagnostics.convergence.Z` standard
errors of the threshold, so that ArviZ's verdict on it could go either way with another seed, is listed as uncertain.

Conventions
-----------
Draws of coefficients have shape (n_chains, n_draws, P, M) (see :mod:`bayeslogit.fits.coef_labels`); ``vec(B)``
is class-major, labelled by ``layout.flat_labels``.
"""

import numpy as np
import pandas as pd

from bayeslogit.checks import check_positive
from bayeslogit.fits.diagnostics.convergence import Z
from bayeslogit.fits.display.frame import FormattedFrame

ALPHAS = (0.99, 1.01)  # ArviZ's power-scaling of the prior or likelihood, either side of 1
BATCHES = 10  # contiguous batches of the draws behind the standard error of each sensitivity
MIN_BATCH_DRAWS = 20  # draws per batch below which no standard error is estimated

VERDICTS = {
    "potential prior-data conflict": "prior-data conflict",
    "potential strong prior / weak likelihood": "prior-dominated (strong prior, weak likelihood)",
}
"""ArviZ's ``diagnosis`` of a coefficient -> how :func:`prior_sensitivity` names it; ``"✓"`` is neither."""


def flat_draws(draws: np.ndarray) -> np.ndarray:
    """Draws (n_chains, n_draws, P, M) of ``vec(B)``, shape (n_chains, n_draws, P*M)."""
    return draws.transpose(0, 1, 3, 2).reshape(*draws.shape[:2], -1)


def log_prior_group(fit):
    """The ``log_prior`` group of a posterior fit's DataTree: variable ``coef`` with the dims of ``fit.posterior``,
    the log prior density of each coefficient at each draw (summed over coefficients by ArviZ)."""
    import xarray as xr

    values = fit.map_fit.objective.prior.log_density(fit.coef_draws)
    return xr.Dataset({"coef": fit.layout.dataarray(values)})


def prior_sensitivity(fit, threshold: float = 0.05) -> pd.DataFrame:
    """ArviZ's power-scaling sensitivity (``arviz_stats.psense_summary``) of each coefficient of a posterior fit.

    Parameters
    ----------
    fit : LaplaceFit or MCMCFit
    threshold : float
        Sensitivity above which a component (prior or likelihood) counts as influential; ArviZ's default 0.05.

    Returns
    -------
    DataFrame indexed by coefficient (``layout.flat_labels``) with columns ``prior`` and ``likelihood`` (the
    sensitivities, unrounded), ArviZ's ``diagnosis``, and ``prior_se`` and ``likelihood_se``, the sensitivities'
    batch-means standard errors (NaN with fewer than ``BATCHES * MIN_BATCH_DRAWS`` draws).
    ``attrs["prior_data_conflict"]`` and ``attrs["prior_dominated"]`` list the coefficients ArviZ flags so whose
    verdict is beyond the noise of the sensitivities, ``attrs["uncertain"]`` those whose verdict could go either
    way (a sensitivity that decides it is within Z standard errors of ``threshold``), and ``attrs["note"]`` says it
    in words.

    Raises
    ------
    ValueError
        When ``threshold`` is not a positive number.
    DataError
        When the training rows are not in memory (see
        :meth:`~bayeslogit.fits.results.posterior.PosteriorFit.log_likelihood`).
    """
    import xarray as xr
    from arviz_stats import psense_summary

    threshold = check_positive("threshold", threshold)
    tree = fit.to_datatree()
    labels = fit.layout.flat_labels
    dims = ("chain", "draw", "coefficient")
    flat = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset({"coef": (dims, flat_draws(fit.coef_draws))}, coords={"coefficient": labels}),
            "log_prior": tree["log_prior"].to_dataset(),
            "log_likelihood": tree["log_likelihood"].to_dataset(),
        }
    )
    table = psense_summary(flat, var_names=["coef"], threshold=threshold, round_to={})  # {}: no column rounded
    table.index = pd.Index(labels, name="coef")
    table.columns.name = None
    log_prior = (
        tree["log_prior"]["coef"]
        .sum([dim for dim in tree["log_prior"]["coef"].dims if dim not in ("chain", "draw")])
        .to_numpy()
        .ravel()
    )
    log_likelihood = tree["log_likelihood"]["y"].sum("obs").to_numpy().ravel()
    pooled = flat_draws(fit.coef_draws).reshape(-1, len(labels))
    for component, log_density in (("prior", log_prior), ("likelihood", log_likelihood)):
        table[f"{component}_se"] = _batch_standard_errors(pooled, log_density)
    uncertain = [label for label, row in table.iterrows() if _uncertain(row, threshold)]
    flagged = {
        verdict: [
            label
            for label, found in table["diagnosis"].items()
            if VERDICTS.get(found) == verdict and label not in uncertain
        ]
        for verdict in VERDICTS.values()
    }
    table.attrs["prior_data_conflict"], table.attrs["prior_dominated"] = flagged.values()
    table.attrs["uncertain"] = uncertain
    table.attrs["note"] = _note(fit.method, flagged, threshold) + _uncertain_note(table.loc[uncertain], threshold)
    shown = FormattedFrame(table)
    shown.attrs = table.attrs
    return shown


def _sensitivities(draws: np.ndarray, log_density: np.ndarray) -> np.ndarray:
    """ArviZ's power-scaling sensitivity (``power_scale_sense``) of each column of ``draws`` (S, J) to the component
    whose log density at each draw is ``log_density`` (S,); shape (J,)."""
    from arviz_stats.base import array_stats

    weights = []
    for alpha in ALPHAS:
        w = np.exp(array_stats.power_scale_lw(log_density, alpha=alpha))
        weights.append(np.broadcast_to(w / w.sum(), (draws.shape[1], 1, len(w))))
    return array_stats.power_scale_sense(draws.T[:, None, :], *weights, *ALPHAS).ravel()


def _batch_standard_errors(draws: np.ndarray, log_density: np.ndarray) -> np.ndarray:
    """Batch-means standard errors of :func:`_sensitivities` of ``draws`` (S, J), shape (J,): the sd of the
    sensitivities of :data:`BATCHES` contiguous batches over ``sqrt(BATCHES)``; NaN when a batch would hold fewer
    than :data:`MIN_BATCH_DRAWS` draws. Contiguous batches keep the draws' autocorrelation within them."""
    if len(draws) < BATCHES * MIN_BATCH_DRAWS:
        return np.full(draws.shape[1], np.nan)
    bounds = np.linspace(0, len(draws), BATCHES + 1).astype(int)
    values = np.array(
        [_sensitivities(draws[start:stop], log_density[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:])]
    )
    return values.std(axis=0, ddof=1) / np.sqrt(BATCHES)


def _near(value: float, se: float, threshold: float) -> bool:
    """Whether ``value`` is within Z standard errors ``se`` of ``threshold`` (False when ``se`` is NaN)."""
    return abs(value - threshold) <= Z * se


def _uncertain(row: pd.Series, threshold: float) -> bool:
    """Whether ArviZ's verdict on a coefficient could go either way: its prior sensitivity is within Z standard errors
    of ``threshold``, or the prior's is above it and the likelihood's (which tells conflict from dominance) within."""
    if _near(row["prior"], row["prior_se"], threshold):
        return True
    return row["prior"] > threshold and _near(row["likelihood"], row["likelihood_se"], threshold)


def _uncertain_note(rows: pd.DataFrame, threshold: float) -> str:
    """A sentence naming the coefficients whose verdict is uncertain, with their sensitivities; empty when none is."""
    if rows.empty:
        return ""
    shown = ", ".join(
        f"{label} (prior {row['prior']:.3f} ± {row['prior_se']:.3f}, likelihood {row['likelihood']:.3f} "
        f"± {row['likelihood_se']:.3f})"
        for label, row in rows.iterrows()
    )
    return (
        f" Within their Monte Carlo noise of {threshold:g}, so that the verdict could go either way: {shown}; draw "
        "more to settle it."
    )


def _note(method: str, flagged: dict, threshold: float) -> str:
    """One sentence per verdict that some coefficient received, or one saying that none did."""
    found = [f"{verdict}: {', '.join(labels)}" for verdict, labels in flagged.items() if labels]
    if not found:
        return (
            f"Power-scaling sensitivity of the {method} fit (threshold {threshold:g}) flags no coefficient as "
            "prior-dominated or in prior-data conflict."
        )
    return (
        f"Power-scaling sensitivity of the {method} fit (threshold {threshold:g}) flags "
        + "; ".join(found)
        + ". The prior moves these coefficients' posteriors: check that it says what is meant, or widen it."
    )
