"""The logistic model as a ``pymc.Model`` in the user's coordinates, to sample, predict with and extend in PyMC.

Where :func:`bayeslogit.algorithms.pymc_backend.build_model` writes the posterior in the sampler's whitened
coordinates, this model is written as a PyMC user would write it:

* data, as ``pm.Data``: ``X`` (dims ``obs, feature``), the design without a column of ones; ``y_codes`` (``obs``),
  the class codes ``0 .. K-1``; and ``weights`` (``obs``) when the rows have weights other than one;
* the free variable ``coef``, dims ``predictor`` (and ``class``: the classes with a coefficient column), the name
  and dims of a fit's posterior (:meth:`~bayeslogit.fits.results.posterior.PosteriorFit.to_datatree`), so that a
  fit's draws attach to the model: its prior is ``pm.Normal``, ``pm.StudentT`` or ``pm.Cauchy`` of each row's
  scale, and ``pm.Flat`` on the rows whose prior is flat (an intercept without ``intercept_scale``);
* the observed variable ``y`` (dim ``obs``, the fit's ``observed_data``): ``pm.Bernoulli`` with logit
  ``coef[0] + X @ coef[1:]``, or ``pm.Categorical`` of the softmax of the class logits, the reference class's
  fixed at zero; weights ``w_i`` add the potential ``weighting``, ``sum_i (w_i - 1) log p(y_i)``, so that each row
  counts ``w_i`` times, as in the objective (PyMC's warning that posterior predictive sampling ignores potentials
  does not apply to it: the coefficients come from the draws, and ``y`` is drawn row by row).

Its log density is ``-objective + sum(prior.log_density(0))``: the package's objective drops the prior's
normalising constant (``-log(s_j)`` and the Normal's or Student-t's own), which PyMC keeps; the likelihood drops
nothing. A symmetric multiclass model whose flat coefficient rows sum to zero over the classes samples ``coef`` in
the objective's free coordinates (an isometry, so it adds no Jacobian term). PyMC cannot draw from ``pm.Flat``, so
``pm.sample_prior_predictive`` needs a proper prior on every row (an ``intercept_scale``).
"""

import numpy as np

from bayeslogit.numerics.prior_densities import GaussianTerm, StudentTTerm

PRIOR_DISTRIBUTIONS = {
    GaussianTerm: lambda pm, term, scale: (pm.Normal, {"mu": 0.0, "sigma": scale}),
    StudentTTerm: lambda pm, term, scale: (
        (pm.Cauchy, {"alpha": 0.0, "beta": scale})
        if term.nu == 1
        else (pm.StudentT, {"nu": np.float64(term.nu), "mu": 0.0, "sigma": scale})
    ),
}
"""Prior term class -> ``(pymc, term, scale) -> (distribution, parameters)`` of coefficients of scales ``scale``
(float64 arrays). ``nu`` is given as a float64: PyTensor makes a Python float a float32 constant, whose
``gammaln`` in PyMC's Student-t density would be off by about 1e-8."""


def _bernoulli(pm, pt, family, eta, codes):
    """``y ~ Bernoulli(sigmoid(eta))`` of logits ``eta`` (n,)."""
    return pm.Bernoulli("y", logit_p=eta, observed=codes, dims="obs")


def _categorical(pm, pt, family, eta, codes):
    """``y ~ Categorical(softmax(logits))`` of ``eta`` (n, M), the class logits ``[0, eta]`` (a reference class) or
    ``eta`` (symmetric)."""
    logits = pt.concatenate([pt.zeros_like(eta[:, :1]), eta], axis=1) if family.reference else eta
    return pm.Categorical("y", logit_p=logits, observed=codes, dims="obs")


LIKELIHOODS = {"bernoulli": _bernoulli, "categorical": _categorical}
"""Family name -> ``(pymc, pytensor.tensor, family, eta, codes) -> y``, the observed variable it adds to the model."""


def logistic_model(objective, coef_coords: dict, feature_names: list, observed: bool = True):
    """The ``pymc.Model`` of ``exp(-objective)`` in the coefficients' own coordinates (see the module's docstring).

    Parameters
    ----------
    objective : Objective
        The negative log posterior: its family, design (rows in memory), class codes, weights, prior term and
        free coordinates.
    coef_coords : dict
        Labels of the coefficient dims, ``{"predictor": names}`` plus ``{"class": labels}`` when the family's
        ``coef_dims`` have a class axis.
    feature_names : list of str of length p
        Labels of the design's columns (dim ``feature``).
    observed : bool
        Add the likelihood (``y``, and the potential ``weighting``); False leaves the data and ``coef`` with its
        prior, for a likelihood of one's own.

    Returns
    -------
    pymc.Model
    """
    import pymc as pm
    import pytensor.tensor as pt

    family, design = objective.family, objective.design
    weighted = not np.all(objective.weights == 1.0)
    with pm.Model(coords={**coef_coords, "feature": list(feature_names)}) as model:
        X = pm.Data("X", design.X, dims=("obs", "feature"))
        codes = pm.Data("y_codes", objective.y, dims="obs")
        weights = pm.Data("weights", objective.weights, dims="obs") if weighted else None
        coef = _coefficients(pm, pt, objective, family.coef_dims)
        eta = coef[0] + pt.dot(X, coef[1:]) if design.intercept else pt.dot(X, coef)
        if observed:
            y = LIKELIHOODS[family.name](pm, pt, family, eta, codes)
            if weighted:
                pm.Potential("weighting", pt.sum((weights - 1.0) * pm.logp(y, codes)))
    return model


def _coefficients(pm, pt, objective, dims: tuple):
    """The free variable ``coef`` (P,) or (P, M), dims ``dims``: its prior, flat on the rows the prior term marks
    (the intercept first, so they lead), in the objective's free coordinates where those are not ``vec(coef)``."""
    term = objective.prior
    P, M = objective.shape
    shape = (P, M)[: len(dims)]
    n_flat = int(term.flat.sum())
    scale = term.scale[n_flat:].reshape(-1, *[1] * (len(dims) - 1))
    options = {"dims": dims}
    if objective.transform is not None:
        options["default_transform"] = _free_coordinates(objective.transform, (P, M))
    if n_flat == P:
        return pm.Flat("coef", **options)
    distribution, parameters = PRIOR_DISTRIBUTIONS[type(term)](pm, term, scale)
    if n_flat == 0:
        return distribution("coef", **parameters, **options)

    def flat_then_proper(size):
        flat = pm.Flat.dist(shape=(n_flat, *shape[1:]))
        return pt.concatenate([flat, distribution.dist(**parameters, shape=(P - n_flat, *shape[1:]))], axis=0)

    return pm.CustomDist("coef", dist=flat_then_proper, **options)


def _free_coordinates(transform: np.ndarray, shape: tuple):
    """The value transform of ``coef`` (P, M) to the objective's free coordinates ``u`` (n_free,), ``vec(coef) =
    T u`` (``vec`` class-major), ``T`` being ``transform`` (P * M, n_free). Its columns are orthonormal, so the map is
    an isometry onto its image and adds no Jacobian term."""
    import pytensor.tensor as pt
    from pymc.logprob.transforms import Transform

    P, M = shape

    class FreeCoordinates(Transform):
        name = "free_coordinates"

        def forward(self, value, *inputs):
            return pt.dot(transform.T, value.T.flatten())

        def backward(self, value, *inputs):
            return pt.dot(transform, value).reshape((M, P)).T

        def log_jac_det(self, value, *inputs):
            return pt.zeros(())

    return FreeCoordinates()
