"""The PyMC backend: the one module of bayeslogit that imports PyMC and PyTensor (inside its functions).

The model is written on the coefficients ``coef`` (the prior and the likelihood), but sampled in
whitened coordinates: a flat free variable ``z`` of shape (n_free,) with
``vec(coef) = vec(mean) + W z``, where ``W = T R`` maps the Laplace approximation's standard-normal
coordinates to ``vec(coef)`` (``R R^T = H^-1`` in the objective's free coordinates, ``T`` the
objective's transform). Under the Laplace Gaussian ``z`` is standard normal, so NUTS's diagonal
mass matrix starts well adapted and the posterior's correlations are gone.

Coordinates: ``predictor`` (``model.coef_names``), ``class`` (``model.coef_classes``, multiclass
only), ``obs`` (the rows) and ``free`` (the entries of ``z``).
"""

from importlib.util import find_spec

import numpy as np

from ..data import check_choice

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


def _bernoulli_loglik(eta, y, n_classes: int):
    """Per-row log-likelihood (n,) of ``eta`` (n, 1) under PyMC's Bernoulli with a logit link."""
    import pymc as pm

    return pm.logp(pm.Bernoulli.dist(logit_p=eta[:, 0]), y)


def _categorical_loglik(eta, y, n_classes: int):
    """Per-row log-likelihood (n,) of ``eta`` (n, M) of static shape: the log-softmax of the class logits at
    ``y``, with the reference class's zero logit prepended when ``M = K - 1``."""
    import pytensor.tensor as pt

    if eta.type.shape[1] < n_classes:
        eta = pt.concatenate([pt.zeros((eta.shape[0], 1)), eta], axis=1)
    return pt.special.log_softmax(eta, axis=1)[pt.arange(eta.shape[0]), y]


LOGLIK = {"bernoulli": _bernoulli_loglik, "categorical": _categorical_loglik}
"""Likelihood name -> per-row log-likelihood in PyTensor."""


def build_model(model, prior, mean: np.ndarray, whitening: np.ndarray):
    """The ``pm.Model`` of the posterior of ``model`` under ``prior``, in whitened coordinates.

    Parameters
    ----------
    model : LogisticModel
    prior : Normal
    mean : ndarray of shape (P, M)
        The centre of the whitening (the MAP).
    whitening : ndarray of shape (P * M, n_free)
        ``W`` with ``vec(coef) = vec(mean) + W z``.

    Returns
    -------
    pymc.Model
        Free variable ``z`` (dim ``free``), deterministic ``coef`` with dims ``(predictor,)`` (binary) or
        ``(predictor, class)``, potentials ``prior`` and ``loglik`` (per row, dim ``obs``); its log
        density equals minus the package's objective up to a constant.
    """
    import pymc as pm
    import pytensor.tensor as pt

    P, M = mean.shape
    data, binary = model.data, model.likelihood == "bernoulli"
    coords = {"predictor": model.coef_names, "obs": np.arange(len(data.y)),
              "free": np.arange(whitening.shape[1])}
    if not binary:
        coords["class"] = model.coef_classes
    precision = prior.precision(P - model.intercept, model.intercept)
    proper = precision > 0
    with pm.Model(coords=coords) as pm_model:
        z = pm.Flat("z", dims="free")
        B = (mean.ravel(order="F") + pt.dot(whitening, z)).reshape((M, P)).T
        dims = ("predictor",) if binary else ("predictor", "class")
        pm.Deterministic("coef", B[:, 0] if binary else B, dims=dims)
        sigma = 1.0 / np.sqrt(precision[proper])[:, None]
        pm.Potential("prior", pm.logp(pm.Normal.dist(0.0, sigma), B[np.flatnonzero(proper)]).sum())
        X = pt.as_tensor(data.X)
        eta = pt.dot(X, B[1:]) + B[0] if model.intercept else pt.dot(X, B)
        eta = pt.specify_shape(eta, (len(data.y), M))
        loglik = LOGLIK[model.likelihood](eta, data.y, model.n_classes)
        pm.Potential("loglik", data.weights * loglik, dims="obs")
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
