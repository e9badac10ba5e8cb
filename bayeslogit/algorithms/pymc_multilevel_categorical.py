"""Categorical multilevel models as ``pymc.Model`` s, non-centred as the binary ones (:mod:`.pymc_multilevel`).

The model, for rows ``i`` of class ``y_i`` in ``0 .. K-1`` (class 0 the reference) and ``M = K - 1``::

    y_i ~ Categorical(softmax(0, eta_i1, ..., eta_iM))
    eta_ic = X_i beta_c + sum_(class c's terms) values[i] b[codes[i]]
    beta_jc ~ Normal(0, coef_sd_j)        (flat where coef_sd_j is inf)

with each per-class term's effects ``b`` (``"g (class B)"``, :func:`~bayeslogit.numerics.group_categorical.class_terms`)
drawn as a binary model's term is: non-centred, Gamma on its sds, LKJ on its correlations; independent across
classes. Names as in :mod:`.pymc_multilevel`, but ``coef`` has dims ``("predictor", "class")``, the non-reference
classes, as the flat categorical models; the terms' labels name their class (``b__g (class B)``).
"""

import numpy as np

from bayeslogit.algorithms.pymc_multilevel import (
    DEFAULT_PRIOR,
    check_sampling_prior,
    coef_prior,
    group_coords,
    group_effects,
    posterior_names,
    sample_model,
    term_labels,
)
from bayeslogit.numerics.group_design import GroupPrior, GroupTerm


def categorical_multilevel_model(
    X: np.ndarray,
    coef_names: list[str],
    codes: np.ndarray,
    classes,
    terms: list[GroupTerm],
    coef_sd: np.ndarray,
    group_prior: GroupPrior = DEFAULT_PRIOR,
):
    """The ``pymc.Model`` of a categorical multilevel model (see the module's docstring).

    Parameters
    ----------
    X, coef_names
        As :func:`~bayeslogit.algorithms.pymc_multilevel.multilevel_model` takes them: (n_samples, p) and p names.
    codes : ndarray of shape (n_samples,), int
        Each row's class, ``0 <= code < K``.
    classes : sequence of length K
        The class labels, the reference first (dim ``class``: the other K - 1).
    terms : list of GroupTerm
        The per-class terms, term by term and class by class (K - 1 per model term).
    coef_sd, group_prior
        As :func:`~bayeslogit.algorithms.pymc_multilevel.multilevel_model` takes them; each class's coefficients
        have the same prior.

    Returns
    -------
    pymc.Model
        As :func:`~bayeslogit.algorithms.pymc_multilevel.multilevel_model`, with ``coef`` (p, K - 1) and observed
        ``y`` a ``pm.Categorical`` with ``logit_p`` the class logits (n, K), the reference's 0.

    Raises
    ------
    OptionError
        When ``group_prior`` is improper.
    """
    check_sampling_prior(group_prior)
    import pymc as pm
    import pytensor.tensor as pt

    labels, M, n = term_labels(terms), len(classes) - 1, len(codes)
    coords = group_coords(labels, terms) | {
        "predictor": list(coef_names),
        "class": list(classes)[1:],
        "obs": np.arange(n),
    }
    with pm.Model(coords=coords) as model:
        coef = pm.Flat("coef", dims=("predictor", "class"))
        coef_prior(pm, coef, np.repeat(np.asarray(coef_sd, dtype=np.float64)[:, None], M, axis=1))
        shifts = [pt.zeros(n) for _ in range(M)]
        for t, (term, b) in enumerate(zip(terms, group_effects(pm, pt, labels, terms, group_prior))):
            shifts[t % M] = shifts[t % M] + pt.sum(term.values * b[term.codes], axis=1)
        eta = pt.dot(X, coef) + pt.stack(shifts, axis=1)
        logits = pt.concatenate([pt.zeros((n, 1)), eta], axis=1)
        pm.Categorical("y", logit_p=logits, observed=np.asarray(codes), dims="obs")
    return model


def sample_categorical_multilevel(
    X: np.ndarray,
    coef_names: list[str],
    codes: np.ndarray,
    classes,
    terms: list[GroupTerm],
    coef_sd: np.ndarray,
    group_prior: GroupPrior = DEFAULT_PRIOR,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    random_seed=None,
    sampler: str = "auto",
    progressbar: bool = False,
    **kwargs,
):
    """NUTS on the posterior of a categorical multilevel model (:func:`categorical_multilevel_model`); options and
    the returned DataTree as :func:`~bayeslogit.algorithms.pymc_multilevel.sample_multilevel`'s, ``coef`` with dims
    ``(chain, draw, predictor, class)``."""
    model = categorical_multilevel_model(X, coef_names, codes, classes, terms, coef_sd, group_prior)
    return sample_model(model, posterior_names(terms), draws, tune, chains, random_seed, sampler, progressbar, **kwargs)
