"""How much the prior matters: ArviZ's power-scaling sensitivity of a posterior fit's coefficients.

Power-scaling (Kallioinen et al. 2024, ``arviz_stats.psense``) raises the prior, or the likelihood, to a power
near 1 and measures by importance sampling how far each coefficient's posterior moves. It needs the log prior
and the log-likelihood of every draw: the log-likelihood is the fit's ``log_likelihood`` group, the log prior
the ``log_prior`` group built here, the prior's normalised log density at each draw's coefficients (a flat prior
contributes 0; see :meth:`bayeslogit.numerics.priors.GaussianTerm.log_density`). The objective's ``penalty`` is
minus that density up to a constant.

Conventions
-----------
Draws of coefficients have shape (n_chains, n_draws, P, M) (see :mod:`bayeslogit.fits.layout`); ``vec(B)`` is
class-major, labelled by ``layout.flat_labels``.
"""

from numbers import Real

import numpy as np
import pandas as pd

VERDICTS = {"potential prior-data conflict": "prior-data conflict",
            "potential strong prior / weak likelihood": "prior-dominated (strong prior, weak likelihood)"}
"""ArviZ's ``diagnosis`` of a coefficient -> how :func:`prior_sensitivity` names it; ``"✓"`` is neither."""


def flat_draws(draws: np.ndarray) -> np.ndarray:
    """Draws (n_chains, n_draws, P, M) of ``vec(B)``, shape (n_chains, n_draws, P*M)."""
    return draws.transpose(0, 1, 3, 2).reshape(*draws.shape[:2], -1)


def log_prior_group(fit):
    """The ``log_prior`` group of a posterior fit's DataTree: variable ``coef`` with the dims of ``fit.draws``,
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
    sensitivities, unrounded) and ArviZ's ``diagnosis``. ``attrs["prior_data_conflict"]`` and
    ``attrs["prior_dominated"]`` list the coefficients ArviZ flags so, and ``attrs["note"]`` says it in words.

    Raises
    ------
    ValueError
        When ``threshold`` is not a positive number.
    DataError
        When the training rows are not in memory (see :meth:`PosteriorFit.log_likelihood`).
    """
    import xarray as xr
    from arviz_stats import psense_summary

    if isinstance(threshold, bool) or not isinstance(threshold, Real) or not 0 < threshold < np.inf:
        raise ValueError(f"`threshold` must be a positive number, such as ArviZ's default 0.05; got {threshold!r}")
    tree = fit.to_datatree()
    labels = fit.layout.flat_labels
    dims = ("chain", "draw", "coefficient")
    flat = xr.DataTree.from_dict({
        "posterior": xr.Dataset({"coef": (dims, flat_draws(fit.coef_draws))}, coords={"coefficient": labels}),
        "log_prior": tree["log_prior"].to_dataset(),
        "log_likelihood": tree["log_likelihood"].to_dataset(),
    })
    table = psense_summary(flat, var_names=["coef"], threshold=threshold, round_to={})  # {}: no column rounded
    table.index = pd.Index(labels, name="coef")
    table.columns.name = None
    flagged = {verdict: [label for label, found in table["diagnosis"].items() if VERDICTS.get(found) == verdict]
               for verdict in VERDICTS.values()}
    table.attrs["prior_data_conflict"], table.attrs["prior_dominated"] = flagged.values()
    table.attrs["note"] = _note(fit.method, flagged, threshold)
    return table


def _note(method: str, flagged: dict, threshold: float) -> str:
    """One sentence per verdict that some coefficient received, or one saying that none did."""
    found = [f"{verdict}: {', '.join(labels)}" for verdict, labels in flagged.items() if labels]
    if not found:
        return (f"Power-scaling sensitivity of the {method} fit (threshold {threshold:g}) flags no coefficient as "
                "prior-dominated or in prior-data conflict.")
    return (f"Power-scaling sensitivity of the {method} fit (threshold {threshold:g}) flags " + "; ".join(found)
            + ". The prior moves these coefficients' posteriors: check that it says what is meant, or widen it.")
