"""ArviZ's summary of coefficient draws, one row per coefficient: what a posterior fit's summary shows and what
an MCMC fit's diagnosis checks. ArviZ and xarray are imported when it is called."""

import numpy as np
import pandas as pd

from bayeslogit.fits.diagnostics import sensitivity


def arviz_summary(layout, draws: np.ndarray, kind: str, ci_prob: float = 0.89, ci_kind: str = "eti") -> pd.DataFrame:
    """ArviZ's summary of ``kind`` of coefficient draws (n_chains, n_draws, P, M), one row per entry of ``vec(B)``.

    Parameters
    ----------
    layout : CoefLayout
        Labels the rows (``layout.flat_labels``).
    draws : ndarray of shape (n_chains, n_draws, P, M)
    kind : {"all", "stats", "diagnostics"}
        As ``arviz_stats.summary`` takes it.
    ci_prob : float
    ci_kind : {"eti", "hdi"}

    Returns
    -------
    DataFrame indexed by coefficient (``name[class]`` for multiclass), with ArviZ's columns, unrounded.
    """
    import xarray as xr
    from arviz_stats import summary

    labels = layout.flat_labels
    flat = xr.Dataset(
        {"coef": (("chain", "draw", "coefficient"), sensitivity.flat_draws(draws))}, coords={"coefficient": labels}
    )
    frame = summary(flat, var_names=["coef"], kind=kind, ci_prob=ci_prob, ci_kind=ci_kind, round_to="none")
    frame.index = pd.Index(labels, name="coef")
    return frame
