"""Multilevel fits (ML, MAP, MCMC) saved to NetCDF or zarr and read back, in the envelope of :mod:`.tree_files`
(atomic writes, JSON metadata read strictly, a checksum; nothing evaluated on loading).

What the file holds
-------------------
A loaded fit does everything the fitted one does, so the file holds what the fit read of the training rows, as the
model computed it, not the data frame: the fixed effects' design, the responses and each group term's level codes
and values. That is ``n * (p + 2 + sum_t (k_t + 1))`` numbers for ``n`` rows, ``p`` fixed effects and terms of ``k_t``
columns (cbpp's 56 rows and 4 fixed effects: 7 KB); an MCMC fit's draws are most of its file.

* ``design``: ``X`` (``obs``, ``predictor``; the fixed effects' names as coordinates) and the responses (``obs``):
  a binomial model's ``successes`` and ``trials``, a categorical model's ``class_codes`` (each row's class, an
  index of the metadata's classes).
* ``group_term_<t>``, a node per group term of the model: ``codes`` (``obs``) and ``values`` (``obs``, ``column``),
  the term's levels and columns as the coordinates ``level`` and ``column``; and, for a point fit, by ``class``
  (:mod:`.saved_estimates`: one for a binomial model, each non-reference class of a categorical one) ``sd``
  (``column``), ``corr`` (``column``, ``column2``), ``ranef`` and ``ranef_sd`` (``level``, ``column``).
* A point fit's ``estimate``: ``beta`` (``class``, ``predictor``), ``beta_cov`` (``class``, ``predictor``,
  ``class2``, ``predictor2``) and ``theta``.
* An MCMC fit's posterior tree as ArviZ wrote it (``posterior``, ``sample_stats``, ``observed_data``), so that
  ArviZ reads the file as it is; its diagnosis is computed again from the draws on loading, which gives the same
  figures.

The metadata holds the method, the fit's seconds, its priors, the formula, the formulaic specs of the fixed effects
and of each term's columns (:mod:`.formula_state`), each term's label, factor and whether it is correlated, the
response (its kind, ``"binomial"`` or ``"categorical"``, its classes and the reference class: :mod:`.saved_rows`),
and a point fit's figures (log-likelihood, deviance, objective, iterations, convergence, singular terms,
``n_agq``). A categorical model's per-class terms (``"g (class B)"``) are made again from the model's terms and the
classes, as the model makes them.

:func:`save` writes; :func:`saved_fit` reads the parts of a fit, checked, which
:mod:`bayeslogit.fits.results.loading` builds the fit of; :func:`matching` checks a model given to load against the
file.
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from bayeslogit.algorithms.pymc_multilevel import term_labels
from bayeslogit.exceptions import DataError, OptionError
from bayeslogit.fits.storage.formula_state import check_term, spec_from_plain, spec_to_plain
from bayeslogit.fits.storage.plain import Names
from bayeslogit.fits.storage.saved_estimates import ESTIMATE_SCHEMA, check_posterior, point_groups, read_point
from bayeslogit.fits.storage.saved_model import saved_prior
from bayeslogit.fits.storage.saved_rows import (
    RESPONSE_SCHEMA,
    design_arrays,
    design_datasets,
    response_meta,
    training_differences,
)
from bayeslogit.fits.storage.tree_files import parsed, texts_read, texts_written, write
from bayeslogit.numerics.group_design import GroupPrior
from bayeslogit.numerics.prior_specs import prior_fields
from bayeslogit.rows.counts import cbind_arguments
from bayeslogit.rows.group_rows import GroupRowReader

_GROUP_PRIOR = ({"sd_shape": (float, int), "sd_rate": (float, int), "corr_eta": (float, int)}, None)
_TERM = {"label": str, "factor": str, "correlated": bool, "spec": dict}
_MODEL = {"formula": str, "fixed_spec": dict, "terms": [_TERM]}


@dataclass(frozen=True)
class SavedFit:
    """The parts of a saved multilevel fit, checked.

    Attributes
    ----------
    kind : str
        The fit's class name.
    layout : tuple
        ``GroupLayout``'s fields: coefficient names, term labels, columns, levels, whether correlated and a
        categorical model's classes.
    source : tuple
        ``FitSource``'s fields: the formula, the :class:`~bayeslogit.rows.group_rows.GroupRowReader`, ``X`` (n, p),
        the ``GroupTerm`` s and the response (:mod:`bayeslogit.rows.group_response`).
    prior, group_prior : Normal, GroupPrior or None
    seconds : float
    estimate : GroupFit or xarray.DataTree
        A point fit's arrays, or an MCMC fit's posterior tree.
    n_agq : int or None
        A point fit's quadrature nodes.
    """

    kind: str
    layout: tuple
    source: tuple
    prior: object
    group_prior: object
    seconds: float
    estimate: object
    n_agq: int | None


# ---- writing --------------------------------------------------------------------------------------
def save(fit, path) -> Path:
    """Write the multilevel fit ``fit`` to ``path`` (``.nc`` or ``.zarr``), atomically; see the module.

    Raises
    ------
    DataError
        When a formula term or a transform's state is not plain data (:func:`.formula_state.spec_to_plain`).
    """
    path = Path(path)
    kind = type(fit).__name__
    if kind not in _KINDS:
        raise OptionError(f"multilevel fits of class {kind} cannot be saved; saved are {list(_KINDS)}")
    reader = fit.source.new_rows
    groups = design_datasets(fit.source, fit.layout)
    groups, meta = _KINDS[kind][0](fit, groups)
    model = {
        "formula": fit.source.formula,
        "fixed_spec": spec_to_plain(reader.fixed_spec),
        "terms": [
            {"label": label, "factor": term.factor, "correlated": term.correlated, "spec": spec_to_plain(spec)}
            for label, term, spec in zip(term_labels(list(reader.terms)), reader.terms, reader.term_specs)
        ],
    }
    meta |= {
        "fit": kind,
        "method": fit.method,
        "seconds": fit.seconds,
        "prior": prior_fields(fit.prior),
        "prior_group": _group_fields(getattr(fit.prior, "group", None)),
        "group_prior": _group_fields(fit.group_prior),
        "model": model,
        "response": response_meta(fit.source.response),
    }
    return write(groups, meta, path)


def _group_fields(group_prior) -> dict | None:
    return None if group_prior is None else dataclasses.asdict(group_prior)


def _mcmc_groups(fit, groups: dict) -> tuple[dict, dict]:
    """An MCMC fit's posterior tree, each of its groups a node at the root, its text statistics' None as ""."""
    texts = {}
    for name, node in fit.posterior.children.items():
        groups[name], texts[name] = texts_written(node.to_dataset(inherit=False))
    return groups, {"posterior_groups": list(fit.posterior.children), "texts": texts}


# ---- reading --------------------------------------------------------------------------------------
def schemas() -> dict:
    """Class name -> the shape of its metadata besides the envelope's (see :mod:`.plain`), for
    :func:`.tree_files.read`."""
    return {kind: (lambda kind=kind: _schema(kind)) for kind in _KINDS}


def _schema(kind: str) -> dict:
    common = {
        "method": frozenset({_KINDS[kind][2]}),
        "seconds": float,
        "prior": (None, Names(object)),
        "prior_group": _GROUP_PRIOR,
        "group_prior": _GROUP_PRIOR,
        "model": _MODEL,
        "response": RESPONSE_SCHEMA,
    }
    return common | _KINDS[kind][3]


def saved_fit(tree, meta: dict, path: Path) -> SavedFit:
    """The parts of the multilevel fit of ``tree`` and its metadata ``meta`` (of the shape :func:`schemas` gives).

    Raises
    ------
    DataError
        Naming the file and the place, where the arrays or the metadata do not make a fit: a formula whose response
        calls other code, specs that do not make the saved columns, arrays of other dims or sizes, level or class
        codes out of range, classes that are not the response kind's, a posterior labelled otherwise than the
        design.
    """
    return parsed(lambda: _saved_fit(tree, meta), path)


def _saved_fit(tree, meta: dict) -> SavedFit:
    model = meta["model"]
    _check_formula(model["formula"])
    fixed_spec = spec_from_plain(model["fixed_spec"])
    specs = [spec_from_plain(term["spec"]) for term in model["terms"]]
    X, response, terms = design_arrays(tree, model["terms"], meta["response"])
    coef_names = tuple(tree["design"]["predictor"].values.tolist())
    for where, spec, columns in [("the fixed effects", fixed_spec, coef_names)] + [
        (f"the term {term['label']!r}", spec, found.columns) for term, spec, found in zip(model["terms"], specs, terms)
    ]:
        if tuple(spec.column_names) != tuple(columns):
            raise DataError(
                f"the spec of {where} makes the columns {list(spec.column_names)}, but the arrays have {list(columns)}"
            )
    labels = [term["label"] for term in model["terms"]]
    if len(set(labels)) < len(labels):
        raise DataError(f"model.terms labels two terms alike: {labels}")
    if labels != term_labels(list(terms)):
        raise DataError(f"model.terms are labelled {labels}, but their factors make {term_labels(list(terms))}")
    if response.classes and len(terms) > 1:
        raise DataError(f"a categorical model has one group term; model.terms has {len(terms)}")
    labelled = response.layout_terms(terms)  # a categorical model's per-class terms, as the model makes them
    layout = (
        coef_names,
        tuple(term_labels(list(labelled))),
        tuple(term.columns for term in labelled),
        tuple(term.levels for term in labelled),
        tuple(term.correlated for term in labelled),
        response.classes,
    )
    reader = GroupRowReader(model["formula"], fixed_spec, terms, tuple(specs))
    prior = saved_prior(meta["prior"])
    if meta["prior_group"] is not None:
        if prior is None:
            raise DataError("prior_group is given without a prior")
        prior = dataclasses.replace(prior, group=GroupPrior(**meta["prior_group"]))
    group_prior = None if meta["group_prior"] is None else GroupPrior(**meta["group_prior"])
    estimate, n_agq = _KINDS[meta["fit"]][1](tree, meta, layout, tuple(term.factor for term in labelled))
    return SavedFit(
        meta["fit"], layout, (model["formula"], reader, X, terms, response), prior, group_prior, meta["seconds"],
        estimate, n_agq,
    )  # fmt: skip


def _check_formula(formula: str) -> None:
    """Refuse a formula without a response, or whose ``cbind`` response evaluates what is not arithmetic of
    columns (held-out rows' responses are evaluated from it)."""
    response, tilde, _ = formula.partition("~")
    if not tilde or not response.strip():
        raise DataError(f"model.formula {formula!r:.80} is not 'response ~ terms'")
    for argument in cbind_arguments(formula, response.strip()) or ():
        check_term(argument)


def _read_mcmc(tree, meta: dict, layout: tuple, factors: tuple):
    """The posterior tree, its variables checked against the layout (dims and labels)."""
    import xarray as xr

    if set(meta["texts"]) != set(meta["posterior_groups"]):
        raise DataError("texts must name the text statistics of each posterior group")
    posterior = xr.DataTree.from_dict(
        {
            name: texts_read(tree[name].to_dataset(inherit=False), meta["texts"][name])
            for name in meta["posterior_groups"]
        }
    )
    check_posterior(posterior, layout)
    return posterior, None


# ---- a model given to load ----------------------------------------------------------------------------
def matching(model, saved: SavedFit, path: Path) -> tuple:
    """``model``'s source (a MultilevelModel's, or another multilevel fit's) when it read the rows the saved fit
    read, with the same formula and labels; else a :class:`DataError` naming the differences.

    Raises
    ------
    OptionError
        When ``model`` is not a multilevel model or fit.
    DataError
        When its formula, labels or training rows differ from the file's.
    """
    source, layout = getattr(model, "source", None), getattr(model, "layout", None)
    if source is None or not hasattr(layout, "labels"):
        raise OptionError(
            f"'{path}' holds a multilevel fit; `model` must be the bl.MultilevelModel it was made of (or another "
            f"fit of it); got {type(model).__name__}"
        )
    formula = saved.source[0]
    differences = [f"formula {source.formula!r} (saved: {formula!r})"] * (source.formula != formula)
    names = ("coef_names", "labels", "columns", "levels", "correlated", "classes")
    differences += [
        f"{name} {_short(getattr(layout, name))} (saved: {_short(value)})"
        for name, value in zip(names, saved.layout)
        if tuple(getattr(layout, name)) != tuple(value)
    ]
    differences += [] if differences else training_differences(source, *saved.source[2:])
    if differences:
        raise DataError(
            f"`model` does not match the fit saved in '{path}': {'; '.join(differences)}. Pass the model of the "
            "formula and data the fit was made on, or none"
        )
    return source


def _short(value) -> str:
    """``value`` (a tuple of labels) as a message shows it: at most 100 characters."""
    text = repr(list(value))
    return text if len(text) <= 100 else text[:97] + "..."


_KINDS = {
    "MultilevelMLFit": (point_groups, read_point, "ml", {"estimate": ESTIMATE_SCHEMA}),
    "MultilevelMAPFit": (point_groups, read_point, "map", {"estimate": ESTIMATE_SCHEMA}),
    "MultilevelMCMCFit": (_mcmc_groups, _read_mcmc, "mcmc", {"posterior_groups": [str], "texts": Names([str])}),
}
"""Class name -> (its groups and metadata, how its estimate is read back, its method, the shape of its own
metadata)."""
KINDS = tuple(_KINDS)
"""The class names of the multilevel fits that files hold."""
