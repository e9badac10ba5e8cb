"""Multilevel (mixed-effects) logistic models as ``pymc.Model`` s in the non-centred parameterisation, sampled by NUTS.

The model, for rows ``i`` with ``y_i`` successes in ``m_i`` trials (``m_i = 1``: Bernoulli)::

    y_i ~ Binomial(m_i, sigmoid(eta_i)),   eta_i = X_i beta + sum_terms sum_c values[i, c] b[codes[i], c]
    beta_j ~ Normal(0, coef_sd_j)          (flat where coef_sd_j is inf)
    b = z (diag(sd) L)^T,                  z[g, c] ~ Normal(0, 1)
    sd_c ~ Gamma(sd_shape, sd_rate),       L L^T = R ~ LKJ(corr_eta)  (R = I for an uncorrelated term or k = 1)

so that each group's effects ``b[g]`` are Normal(0, diag(sd) R diag(sd)) as in
:mod:`bayeslogit.numerics.group_design`, but NUTS moves on ``z``, which the posterior leaves nearly standard normal
when the data say little about each group: the centred ``b`` would make it a funnel in ``(b, sd)``.

Names in the model and in the DataTree that :func:`sample_multilevel` returns. A term is labelled by its factor
(``"herd"``); a factor with several terms labels its second one ``"herd.1"``, its third ``"herd.2"`` (lme4's
``VarCorr`` does the same), see :func:`term_labels`.

* ``coef``, dim ``predictor``: the fixed effects, by the user's names.
* ``group_sd``, dim ``group_column``: every term's sds, one per term column, labelled ``"herd: Intercept"``.
* ``group_corr``, dim ``group_pair``: the correlations of the correlated terms with two columns or more, one per
  pair of columns ``c < d``, labelled ``"g: Intercept, x"``; absent when no term has any.
* ``b__<label>``, dims ``(<label>__level, <label>__column)``: the term's group effects, by its levels and columns.

The free variables besides ``coef`` and ``group_sd`` (``z__<label>``, and ``corr_free__<label>``, the reals that
:func:`cholesky_correlation` maps to ``L``) are left out of the DataTree. ``L`` is not a ``pm.LKJCorr`` variable but
a function of ``corr_free__<label>`` (``pm.Flat``), with the potential ``corr_prior__<label>``: PyMC's LKJ density
of ``L`` plus the map's log Jacobian. It is the same density, but a ``pm.LKJCorr`` variable (its random graph and
PyMC's transform) makes nutpie's Numba compilation take several times as long as the rest of the model.
``pm.sample_prior_predictive`` cannot draw it, as it cannot draw the flat coefficients.

A categorical multilevel model (:func:`categorical_multilevel_model`), for rows ``i`` of class ``y_i`` in
``0 .. K-1`` (class 0 the reference) and ``M = K - 1``::

    y_i ~ Categorical(softmax(0, eta_i1, ..., eta_iM))
    eta_ic = X_i beta_c + sum_(class c's terms) values[i] b[codes[i]]
    beta_jc ~ Normal(0, coef_sd_j)        (flat where coef_sd_j is inf)

with each per-class term's effects ``b`` (``"g (class B)"``, :func:`~bayeslogit.numerics.group_categorical.class_terms`)
drawn as a binary model's term is: non-centred, Gamma on its sds, LKJ on its correlations; independent across
classes. Names as above, but ``coef`` has dims ``("predictor", "class")``, the non-reference
classes, as the flat categorical models; the terms' labels name their class (``b__g (class B)``).
"""

import numpy as np

from bayeslogit.algorithms.pymc_backend import resolve_sampler
from bayeslogit.exceptions import OptionError
from bayeslogit.numerics.group_design import GroupPrior, GroupTerm

DEFAULT_PRIOR = GroupPrior()
"""The group-level prior when none is given: Gamma(2, 1) on each sd, LKJ(2) on correlations."""


def term_labels(terms: list[GroupTerm]) -> list[str]:
    """Each term's label: its factor, with ``.1``, ``.2``, ... on a factor's second, third, ... term."""
    seen: dict[str, int] = {}
    labels = []
    for term in terms:
        count = seen.get(term.factor, 0)
        seen[term.factor] = count + 1
        labels.append(term.factor if count == 0 else f"{term.factor}.{count}")
    return labels


def check_sampling_prior(prior: GroupPrior) -> None:
    """Raise :class:`~bayeslogit.exceptions.OptionError` unless ``prior`` is proper, as a posterior sample needs."""
    if not prior.sd_rate > 0:
        raise OptionError(
            f"`sd_rate` must be positive to sample the posterior; got {prior.sd_rate!r}. A rate of 0 makes the "
            "Gamma prior on the group sds improper (its density grows without bound in sd), so the posterior may be "
            f"improper too; pass e.g. GroupPrior(sd_shape={prior.sd_shape!r}, sd_rate=0.1) for a weak proper prior"
        )


def multilevel_model(
    X: np.ndarray,
    coef_names: list[str],
    successes: np.ndarray,
    trials: np.ndarray,
    terms: list[GroupTerm],
    coef_sd: np.ndarray,
    group_prior: GroupPrior = DEFAULT_PRIOR,
):
    """The ``pymc.Model`` of a multilevel logistic model, non-centred (see the module's docstring).

    Parameters
    ----------
    X : ndarray of shape (n_samples, p)
        The fixed-effects design, a column of ones for an intercept included.
    coef_names : list of str of length p
        Labels of the fixed effects (dim ``predictor``).
    successes : ndarray of shape (n_samples,)
        Successes ``y_i``, integers ``0 <= y_i <= m_i``.
    trials : ndarray of shape (n_samples,)
        Trials ``m_i`` (ones for Bernoulli rows).
    terms : list of GroupTerm
        The group-level terms, their ``codes`` and ``values`` over the same rows as ``X``.
    coef_sd : ndarray of shape (p,)
        The sd of each fixed effect's Normal prior; ``inf`` for a flat prior (an intercept's, say).
    group_prior : GroupPrior
        Gamma(``sd_shape``, ``sd_rate``) on each sd, LKJ(``corr_eta``) on each correlated term's correlations.

    Returns
    -------
    pymc.Model
        Free variables ``coef``, ``group_sd``, ``z__<label>`` and ``corr_free__<label>``; deterministics
        ``group_corr`` and ``b__<label>``; potentials ``coef_prior`` (where a ``coef_sd`` is finite) and
        ``corr_prior__<label>``; observed ``y`` (dim ``obs``), ``pm.Binomial`` with ``logit_p=eta``.

    Raises
    ------
    OptionError
        When ``group_prior`` is improper (``sd_rate == 0``) or has a non-positive shape or eta.
    """
    check_sampling_prior(group_prior)
    import pymc as pm
    import pytensor.tensor as pt

    labels = term_labels(terms)
    coords = group_coords(labels, terms) | {"predictor": list(coef_names), "obs": np.arange(len(successes))}
    with pm.Model(coords=coords) as model:
        coef = pm.Flat("coef", dims="predictor")
        coef_prior(pm, coef, coef_sd)
        eta = pt.dot(X, coef)
        for term, b in zip(terms, group_effects(pm, pt, labels, terms, group_prior)):
            eta = eta + pt.sum(term.values * b[term.codes], axis=1)
        pm.Binomial("y", n=np.asarray(trials), logit_p=eta, observed=np.asarray(successes), dims="obs")
    return model


def group_coords(labels: list[str], terms: list[GroupTerm]) -> dict:
    """The coords of the terms' sds (``group_column``), correlations (``group_pair``) and effects."""
    coords = {"group_column": [f"{label}: {column}" for label, term in zip(labels, terms) for column in term.columns]}
    for label, term in zip(labels, terms):
        coords[f"{label}__level"] = list(term.levels)
        coords[f"{label}__column"] = list(term.columns)
    pairs = [
        f"{label}: {term.columns[c]}, {term.columns[d]}"
        for label, term in _correlated(labels, terms)
        for c, d in zip(*np.triu_indices(term.n_columns, 1))
    ]
    if pairs:
        coords["group_pair"] = pairs
    return coords


def coef_prior(pm, coef, coef_sd: np.ndarray) -> None:
    """The potential ``coef_prior``: Normal(0, ``coef_sd``) on the coefficients whose sd is finite (same shape)."""
    coef_sd = np.asarray(coef_sd, dtype=np.float64)
    proper = np.isfinite(coef_sd)
    if proper.any():
        pm.Potential("coef_prior", pm.logp(pm.Normal.dist(0.0, coef_sd[proper]), coef[np.nonzero(proper)]).sum())


def group_effects(pm, pt, labels: list[str], terms: list[GroupTerm], group_prior: GroupPrior) -> list:
    """In the model being built: ``group_sd``, each term's ``z__<label>`` (and correlations), and its effects
    ``b__<label>`` (n_levels, k), returned in the terms' order; ``group_corr`` where a term has correlations."""
    sd = pm.Gamma(
        "group_sd", alpha=np.float64(group_prior.sd_shape), beta=np.float64(group_prior.sd_rate), dims="group_column"
    )
    correlations, effects, start = [], [], 0
    for label, term in zip(labels, terms):
        k = term.n_columns
        z = pm.Normal(f"z__{label}", 0.0, 1.0, dims=(f"{label}__level", f"{label}__column"))
        if term.correlated and k > 1:  # z (diag(sd) L)^T = (z L^T) diag(sd)
            free = pm.Flat(f"corr_free__{label}", shape=k * (k - 1) // 2)
            chol, log_jacobian = cholesky_correlation(pt, free, k)
            lkj = pm.LKJCorr.dist(n=k, eta=np.float64(group_prior.corr_eta))
            pm.Potential(f"corr_prior__{label}", pm.logp(lkj, chol) + log_jacobian)
            z = pt.dot(z, chol.T)
            correlations.append(pt.dot(chol, chol.T)[np.triu_indices(k, 1)])
        dims = (f"{label}__level", f"{label}__column")
        effects.append(pm.Deterministic(f"b__{label}", z * sd[start : start + k], dims=dims))
        start += k
    if correlations:
        pm.Deterministic("group_corr", pt.concatenate(correlations), dims="group_pair")
    return effects


def cholesky_correlation(pt, free, k: int):
    """The Cholesky factor ``L`` of a k x k correlation matrix from ``free``, k (k - 1) / 2 unconstrained reals, and
    the log of the map's Jacobian determinant (Stan's ``cholesky_corr_constrain``, row by row).

    Row ``i`` of ``L`` takes the next ``i`` reals ``y``, as the partial correlations ``z = tanh(y)``:
    ``L[i, j] = z_j sqrt(1 - sum_{l<j} L[i, l]^2)`` for ``j < i`` and ``L[i, i] = sqrt(1 - sum_{l<i} L[i, l]^2)``,
    so that each row has unit norm. ``1 - sum_{l<j} L[i, l]^2 = prod_{l<j} (1 - z_l^2)`` is carried as its log, and
    the log Jacobian is ``sum log(1 - z^2) + sum_{j>0} log(1 - sum_{l<j} L[i, l]^2) / 2``.

    Parameters
    ----------
    pt : module
        ``pytensor.tensor``.
    free : TensorVariable of shape (k (k - 1) / 2,)
        Row by row: ``L[1, 0]``'s real, then ``L[2, 0]``'s and ``L[2, 1]``'s, ...
    k : int
        The matrix's size, >= 2; the graph is unrolled over its entries.

    Returns
    -------
    chol : TensorVariable of shape (k, k)
        Lower triangular, positive diagonal, rows of unit norm.
    log_jacobian : TensorVariable, scalar
    """
    magnitude = pt.abs(free)
    log1m_z2 = 2.0 * (np.log(2.0) - magnitude - pt.log1p(pt.exp(-2.0 * magnitude)))  # log(1 - tanh(y)^2)
    z = pt.tanh(free)
    rows, log_jacobian, index = [pt.eye(1, k)[0]], pt.sum(log1m_z2), 0
    for i in range(1, k):
        entries, log_rest = [], pt.zeros(())
        for j in range(i):
            if j > 0:
                log_jacobian = log_jacobian + 0.5 * log_rest
            entries.append(z[index] * pt.exp(0.5 * log_rest))
            log_rest, index = log_rest + log1m_z2[index], index + 1
        entries.append(pt.exp(0.5 * log_rest))
        rows.append(pt.concatenate([pt.stack(entries), pt.zeros(k - 1 - i)]))
    return pt.stack(rows), log_jacobian


def _correlated(labels: list[str], terms: list[GroupTerm]) -> list[tuple[str, GroupTerm]]:
    """The labelled terms with correlations to sample: correlated, of two columns or more."""
    return [(label, term) for label, term in zip(labels, terms) if term.correlated and term.n_columns > 1]


def posterior_names(terms: list[GroupTerm]) -> list[str]:
    """The variables a sample keeps: ``coef``, ``group_sd``, ``group_corr`` where a term has correlations, and
    ``b__<label>`` per term."""
    labels = term_labels(terms)
    corr = ["group_corr"] if _correlated(labels, terms) else []
    return ["coef", "group_sd", *corr, *(f"b__{label}" for label in labels)]


def sample_multilevel(
    X: np.ndarray,
    coef_names: list[str],
    successes: np.ndarray,
    trials: np.ndarray,
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
    """NUTS on the posterior of a multilevel logistic model (:func:`multilevel_model`).

    Parameters
    ----------
    X, coef_names, successes, trials, terms, coef_sd, group_prior
        As :func:`multilevel_model` takes them.
    draws, tune, chains : int
        Draws kept per chain, tuning steps per chain, chains.
    random_seed : int, numpy.random.Generator or None
    sampler : {"auto", "nutpie", "pymc", "numpyro"}
        NUTS implementation (:data:`~bayeslogit.algorithms.pymc_backend.SAMPLERS`); "auto" is nutpie when installed,
        which compiles the model with Numba, else PyMC's.
    progressbar : bool
        Show the sampler's progress; False also silences PyMC's logging.
    **kwargs
        Passed to ``pymc.sample`` (``target_accept``, ``cores``, ...).

    Returns
    -------
    xarray.DataTree
        ``posterior`` with ``coef``, ``group_sd``, ``group_corr`` (where a term has correlations) and ``b__<label>``
        per term, dims ``(chain, draw, ...)`` named as in the module's docstring; ``sample_stats`` (``diverging``,
        ...); ``observed_data`` (``y``, dim ``obs``).

    Raises
    ------
    OptionError
        When ``group_prior`` is improper (``sd_rate == 0``).
    ImportError
        When the ``sampler``'s packages are not installed.
    """
    model = multilevel_model(X, coef_names, successes, trials, terms, coef_sd, group_prior)
    return sample_model(model, posterior_names(terms), draws, tune, chains, random_seed, sampler, progressbar, **kwargs)


def sample_model(model, names, draws, tune, chains, random_seed, sampler, progressbar, **kwargs):
    """NUTS on ``model``, keeping the posterior variables ``names``, the sampler's statistics and the observed data
    (:func:`sample_multilevel`'s options)."""
    import pymc as pm
    import xarray as xr

    nuts_sampler = resolve_sampler(sampler)
    tree = pm.sample(
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=random_seed,
        nuts_sampler=nuts_sampler,
        var_names=names,
        progressbar=progressbar,
        quiet=not progressbar,
        compute_convergence_checks=False,
        model=model,
        **kwargs,
    )
    # nutpie keeps the free variables without a transform (``z__<label>``) whatever ``var_names`` says
    groups = {"posterior": tree["posterior"].to_dataset()[names]}
    groups |= {name: tree[name].to_dataset() for name in ("sample_stats", "observed_data")}
    return xr.DataTree.from_dict(groups)


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
