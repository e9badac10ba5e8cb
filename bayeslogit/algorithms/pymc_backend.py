"""The PyMC backend: the one module of bayeslogit that imports PyMC and PyTensor (inside its functions).

The model is written on the coefficients ``coef`` (the prior and the likelihood), but sampled in
whitened coordinates: a flat free variable ``z`` of shape (n_free,) with
``vec(coef) = vec(mean) + W z``, where ``W = T R`` maps the Laplace approximation's standard-normal
coordinates to ``vec(coef)`` (``R R^T = H^-1`` in the objective's free coordinates, ``T`` the
objective's transform). Under the Laplace Gaussian ``z`` is standard normal, so NUTS's diagonal
mass matrix starts well adapted and the posterior's correlations are gone.

It takes the objective (arrays: design, class codes, weights, prior precisions) and the names of the
coefficient dims, never the model. Coordinates: ``predictor`` (the coefficient names), ``class`` (the
coefficient columns' class labels, where the family has that dim), ``obs`` (the rows) and ``free`` (the
entries of ``z``).
"""

from importlib.util import find_spec

import numpy as np

from ..checks import check_choice

SAMPLERS = {
    "auto": ("nutpie", "pymc"),
    "nutpie": ("nutpie",),
    "pymc": ("pymc",),
    "numpyro": ("numpyro",),
}
"""Sampler name -> the ``pymc.sample(nuts_sampler=...)`` implementations it may run, in order of preference."""

_REQUIRES = {"nutpie": ("nutpie",), "pymc": (), "numpyro": ("numpyro", "jax")}
"""NUTS implementation -> modules it needs besides PyMC."""


def resolve_sampler(name: str) -> str:
    """The NUTS implementation that ``sampler=name`` runs, checked without importing PyMC.

    Raises
    ------
    ValueError
        For a name not in :data:`SAMPLERS`.
    ImportError
        When the implementation's packages are not installed.
    """
    check_choice("sampler", name, tuple(SAMPLERS))
    for candidate in SAMPLERS[name]:
        if all(find_spec(module) is not None for module in _REQUIRES[candidate]):
            return candidate
    raise ImportError(f"sampler={name!r} needs the packages {list(_REQUIRES[SAMPLERS[name][0]])}; install them "
                      "(pip install 'bayeslogit[numpyro]') or use sampler='pymc'")


def build_model(objective, mean: np.ndarray, whitening: np.ndarray, coef_coords: dict):
    """The ``pm.Model`` of the posterior ``exp(-objective)``, in whitened coordinates.

    Parameters
    ----------
    objective : Objective
        The negative log posterior: its family, design, class codes, weights and prior precisions.
    mean : ndarray of shape (P, M)
        The centre of the whitening (the MAP).
    whitening : ndarray of shape (P * M, n_free)
        ``W`` with ``vec(coef) = vec(mean) + W z``.
    coef_coords : dict
        Labels of the coefficient dims, ``{"predictor": names}`` plus ``{"class": labels}`` when the family's
        ``coef_dims`` have a class axis.

    Returns
    -------
    pymc.Model
        Free variable ``z`` (dim ``free``), deterministic ``coef`` with the family's ``coef_dims``,
        potentials ``prior`` and ``loglik`` (per row, dim ``obs``); its log density equals minus the
        objective up to a constant.
    """
    import pymc as pm
    import pytensor.tensor as pt

    P, M = mean.shape
    family, design = objective.family, objective.design
    n = design.n_samples
    coords = {**coef_coords, "obs": np.arange(n), "free": np.arange(whitening.shape[1])}
    proper = objective.precision > 0
    with pm.Model(coords=coords) as pm_model:
        z = pm.Flat("z", dims="free")
        B = (mean.ravel(order="F") + pt.dot(whitening, z)).reshape((M, P)).T
        pm.Deterministic("coef", family.collapse(B), dims=family.coef_dims)
        sigma = 1.0 / np.sqrt(objective.precision[proper])[:, None]
        pm.Potential("prior", pm.logp(pm.Normal.dist(0.0, sigma), B[np.flatnonzero(proper)]).sum())
        X = pt.as_tensor(design.X)
        eta = pt.dot(X, B[1:]) + B[0] if design.intercept else pt.dot(X, B)
        eta = pt.specify_shape(eta, (n, M))
        pm.Potential("loglik", objective.weights * family.log_likelihood_tensor(eta, objective.y, pt), dims="obs")
    return pm_model


def sample(pm_model, nuts_sampler: str, *, draws: int, tune: int, chains: int, random_seed, progressbar: bool,
           **kwargs):
    """Run NUTS on ``pm_model`` from ``z = 0`` (the MAP, jittered per chain); the one call of ``pymc.sample``.

    Parameters
    ----------
    pm_model : pymc.Model
        From :func:`build_model`.
    nuts_sampler : {"nutpie", "pymc", "numpyro"}
    draws, tune, chains : int
    random_seed : int or None
    progressbar : bool
        Also silences PyMC's logging when False.
    **kwargs
        Passed to ``pymc.sample`` (``cores``, ``target_accept``, ``nuts={...}``, ...).

    Returns
    -------
    xarray.DataTree
        With the groups ``posterior`` (``coef`` only) and ``sample_stats``.
    """
    import pymc as pm

    start = {"z": np.zeros(len(pm_model.coords["free"]))}
    return pm.sample(draws=draws, tune=tune, chains=chains, random_seed=random_seed, nuts_sampler=nuts_sampler,
                     initvals=start, progressbar=progressbar, quiet=not progressbar, var_names=["coef"],
                     compute_convergence_checks=False, model=pm_model, **kwargs)
