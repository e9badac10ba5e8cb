"""Saving flat fits to NetCDF (``.nc``) or zarr (``.zarr``) and loading them back, through an ``xarray.DataTree``
in the envelope of :mod:`.tree_files` (multilevel fits: :mod:`.multilevel_files`; ``bl.load`` reads either, by the
file's own kind: :mod:`bayeslogit.fits.results.loading`).

A saved fit is data: arrays, and text that is read as JSON. Loading never unpickles, imports or evaluates anything
from the file; what does not parse into exactly the expected shapes and types is refused with a
:class:`~bayeslogit.DataError` naming the file.

Layout of a saved fit
---------------------
The root node's attribute ``bayeslogit`` is a JSON object: the format and its version, the fit's class and
method, its prior, ``fit_time`` (and a point fit's ``llf``, under the key ``loglik``, ``n_iter`` and ``converged``;
an MCMC fit's ``sampler``), the model's labels (likelihood, parameterization, intercept, class labels and their dtype,
feature names, formula, response, the formula's model spec as plain data, see :mod:`.formula_state`) and a
checksum.

* A point fit (ML, MAP) is one node: ``coef`` (dims ``predictor`` [, ``class``], labelled as ``fit.coef``),
  ``hessian`` (``free``, ``free2``; the optimiser's free coordinates, from which ``cov`` is recomputed exactly)
  and its iterations: ``objective``, ``grad_norm``, ``decrement``, ``step_size`` (``iteration``) and ``x``
  (``iteration``, ``free``).
* A posterior fit has ArviZ's ``posterior`` group (``coef``, see ``fit.posterior``) and, for MCMC, ``sample_stats``,
  so that ArviZ reads the file as it is; ``map_fit``, the MAP fit it was built on, laid out as a point fit;
  ``diagnosis``, what the fit's check found (the figures labelled like ``coef``, with its dims; the others in
  the JSON); and, for Laplace, ``laplace`` with the standard-normal ``latent`` draws (``draw``, ``free``).

The training rows are not saved, so a loaded fit's ``model`` is a model of the labels (:mod:`.saved_model`) that knows
how to read new rows (``predict_proba(X)``, ``summary()``, ``boundary()``, and ``compare`` of point fits on
held-out rows work) and raises :class:`~bayeslogit.DataError`, naming what is missing, for what needs the training
rows (``predict_proba()`` without ``X``, ``log_likelihood``, ``to_datatree``, ``loo`` and so ``compare`` of
posterior fits, in-sample metrics). ``bl.load(path, model=model)`` attaches a model of the same data instead, and
then everything works.

Integrity
---------
Writes are atomic (:func:`.tree_files.write`, by :func:`bayeslogit.atomic.staged_write`): the tree is written to a
temporary directory beside ``path`` and moved into place with ``os.replace``, so an existing file survives a failed
write. The checksum is a SHA-256 of every array in the tree and of the metadata's canonical JSON (sorted keys,
without the checksum itself), so a truncated, partly copied or altered file is refused rather than read in part;
where the file holds a fact twice (the feature names and class labels, in the metadata and as the ``predictor`` and
``class`` coordinates), the two must agree. These checks detect damage, not deliberate tampering: anyone who edits a
file can write a new checksum. Loading executes nothing from the file, and the formula terms that predictions on new
rows evaluate are limited to computations on their columns (:func:`.formula_state.check_term`).

NetCDF needs h5netcdf and h5py, zarr needs zarr: the ``io`` extra (``pip install "bayeslogit[io]"``) installs them,
and without them :func:`save` and ``bl.load`` raise an ImportError that says so, before writing anything.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from bayeslogit.algorithms.newton import Iteration
from bayeslogit.exceptions import OptionError
from bayeslogit.fits.diagnostics.convergence import LaplaceDiagnosis
from bayeslogit.fits.diagnostics.mcmc_convergence import MCMCDiagnosis
from bayeslogit.fits.storage.plain import Names
from bayeslogit.fits.storage.saved_diagnosis import SCHEMA as DIAGNOSIS_SCHEMA
from bayeslogit.fits.storage.saved_diagnosis import diagnosis_from_parts, diagnosis_parts
from bayeslogit.fits.storage.saved_model import MODEL_SCHEMA, matching, model_meta, saved_model, saved_prior
from bayeslogit.fits.storage.tree_files import parsed, texts_read, texts_written, write
from bayeslogit.numerics.prior_specs import prior_fields

_ITERATION_FIELDS = ("objective", "grad_norm", "decrement", "step_size")
_CLASSES = {}
"""Class name -> the fit class that :func:`load` rebuilds; filled by :func:`storable`."""


def storable(cls: type) -> type:
    """Class decorator: let :func:`load` rebuild fits of ``cls``, saved under its name (a table filled by the fit
    classes themselves, since their modules import this one for ``save``)."""
    _CLASSES[cls.__name__] = cls
    return cls


# ---- writing --------------------------------------------------------------------------------------
def save(fit, path) -> Path:
    """Write ``fit`` to ``path`` (``.nc``: NetCDF-4; ``.zarr``: a zarr directory), atomically; see the module.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    DataError
        When the model holds what a saved fit cannot (a formula term or a state that is not plain data, class
        labels that are not text, numbers or booleans), naming it.
    """
    path = Path(path)
    kind = type(fit).__name__
    if kind not in _KINDS:
        raise OptionError(f"fits of class {kind} cannot be saved; saved are {list(_KINDS)}")
    groups, meta = _KINDS[kind][0](fit)
    return write(groups, {"fit": kind, "prior": prior_fields(fit.prior), "model": model_meta(fit.model), **meta}, path)


def _point_groups(fit) -> tuple[dict, dict]:
    return {"/": _point_dataset(fit)}, _point_meta(fit)


def _point_meta(fit) -> dict:
    return {
        "method": fit.method,
        "fit_time": fit.fit_time,
        "loglik": fit.llf,
        "n_iter": fit.n_iter,
        "converged": fit.converged,
    }


def _point_dataset(fit):
    """A point fit's coefficients, Hessian (free coordinates) and iterations, as an ``xarray.Dataset``."""
    import xarray as xr

    layout = fit.layout
    variables = {
        "coef": (layout.family.coef_dims, layout.family.collapse(fit.params)),
        "hessian": (("free", "free2"), fit.hessian),
        "x": (("iteration", "free"), np.array([it.x for it in fit.iterations])),
    }
    for name in _ITERATION_FIELDS:
        variables[name] = ("iteration", np.array([getattr(it, name) for it in fit.iterations], dtype=float))
    return xr.Dataset(variables, coords=layout.coords)


def _posterior_groups(fit) -> tuple[dict, dict]:
    """The groups and metadata that Laplace and MCMC fits share: the draws and the MAP fit."""
    import xarray as xr

    return (
        {"posterior": xr.Dataset({"coef": fit.posterior}), "map_fit": _point_dataset(fit.map_fit)},
        {"method": fit.method, "fit_time": fit.fit_time, "map_fit": _point_meta(fit.map_fit)},
    )


def _laplace_groups(fit) -> tuple[dict, dict]:
    """A Laplace fit: its draws, MAP fit and latent draws, and every field of its diagnosis (:mod:`.saved_diagnosis`):
    those labelled like ``coef`` as the variables of the group ``diagnosis``, the others in the metadata."""
    import xarray as xr

    groups, meta = _posterior_groups(fit)
    arrays, diagnosis = diagnosis_parts(fit.diagnosis, fit.layout)
    groups["laplace"] = xr.Dataset({"latent": (("draw", "free"), fit.latent)})
    groups["diagnosis"] = xr.Dataset(
        {name: (fit.layout.family.coef_dims, values) for name, values in arrays.items()}, coords=fit.layout.coords
    )
    return groups, meta | {"diagnosis": diagnosis}


def _mcmc_groups(fit) -> tuple[dict, dict]:
    import xarray as xr

    groups, meta = _posterior_groups(fit)
    table, stats = fit.diagnosis.table, fit.sample_stats
    groups["sample_stats"], texts = texts_written(stats)
    groups["diagnosis"] = xr.Dataset(
        {name: ("coefficient", table[name].to_numpy()) for name in table.columns}
        | {"divergences": fit.diagnosis.divergences}
    )
    return groups, meta | {"sampler": fit.sampler, "diagnosis_columns": list(table.columns), "texts": texts}


# ---- reading --------------------------------------------------------------------------------------
def load_tree(tree, meta: dict, model, path: Path):
    """The fit of a tree read by :func:`.tree_files.read`, its metadata of the shape :func:`schema` gives.

    Parameters
    ----------
    model : LogisticModel or a loaded fit's model, optional
        A model of the data the fit was made on (same likelihood, parameterization, intercept, classes, features
        and formula), which the loaded fit then uses as its own: methods that need the training rows work. A
        loaded fit's ``model`` may be given, so that fits loaded one by one share it (as
        :func:`bayeslogit.surface.compare` requires). Default: a model of the saved labels, without the rows
        (see :mod:`.saved_model`).

    Returns
    -------
    MLFit, MAPFit, LaplaceFit or MCMCFit

    Raises
    ------
    DataError
        When the tree holds what does not parse into a fit; the message names the file.
    OptionError
        When ``model`` does not match the saved fit's labels.
    """
    saved, prior = parsed(lambda: (saved_model(meta["model"], tree), saved_prior(meta["prior"])), path)
    model = saved if model is None else matching(model, saved, path)
    return parsed(lambda: _KINDS[meta["fit"]][1](tree, meta, model, prior), path)


def schema(kind: str) -> dict:
    """The shape of the metadata of a flat fit of class ``kind`` (see :mod:`.plain`), besides the envelope's
    (:func:`.tree_files.read`)."""
    return {"prior": (None, Names(object)), "model": MODEL_SCHEMA} | _KINDS[kind][2](_CLASSES.get(kind))


def _point_schema(cls=None) -> dict:
    """The shape of a point fit's own metadata (:func:`_point_meta`): its method one of the point fits'."""
    methods = frozenset(fit.method for fit in _CLASSES.values() if not fit.draws_are_posterior)
    return {"method": methods, "fit_time": float, "loglik": float, "n_iter": int, "converged": bool}


def _posterior_schema(cls) -> dict:
    """The shape of the metadata that Laplace and MCMC fits share (:func:`_posterior_groups`)."""
    return {"method": frozenset({cls.method}), "fit_time": float, "map_fit": _point_schema(), "prior": Names(object)}


def _read_point(tree, meta: dict, model, prior):
    return _point_fit(tree.to_dataset(), meta, model, prior)


def _point_fit(ds, meta: dict, model, prior):
    """The point fit of a dataset written by :func:`_point_dataset` and its metadata (:func:`_point_meta`)."""
    objective = model.objective(prior)
    params = np.asfortranarray(ds["coef"].values.reshape(objective.shape))
    fields = [ds[name].values for name in _ITERATION_FIELDS]
    iterations = tuple(Iteration(*(float(field[i]) for field in fields), x) for i, x in enumerate(ds["x"].values))
    point_class = next(cls for cls in _CLASSES.values() if cls.method == meta["method"])
    return point_class(
        model,
        prior,
        objective,
        params,
        meta["loglik"],
        meta["n_iter"],
        meta["converged"],
        meta["fit_time"],
        iterations,
        ds["hessian"].values,
    )


def _posterior_parts(tree, meta: dict, model, prior) -> tuple:
    """The MAP fit and the draws (n_chains, n_draws, P, M) of a saved posterior fit."""
    map_fit = _point_fit(tree["map_fit"].to_dataset(), meta["map_fit"], model, prior)
    draws = tree["posterior"]["coef"].values
    return map_fit, draws.reshape(*draws.shape[:2], *map_fit.params.shape)


def _read_laplace(tree, meta: dict, model, prior):
    map_fit, draws = _posterior_parts(tree, meta, model, prior)
    group = tree["diagnosis"]
    arrays = {name: group[name].values for name in group.data_vars}
    diagnosis = diagnosis_from_parts(LaplaceDiagnosis, arrays, meta["diagnosis"], map_fit.layout)
    return _CLASSES["LaplaceFit"](
        model, prior, draws, meta["fit_time"], map_fit, diagnosis, tree["laplace"]["latent"].values
    )


def _read_mcmc(tree, meta: dict, model, prior):
    map_fit, draws = _posterior_parts(tree, meta, model, prior)
    found = tree["diagnosis"]
    table = pd.DataFrame(
        {name: found[name].values for name in meta["diagnosis_columns"]},
        index=pd.Index(model.layout.flat_labels, name="coef"),
    )
    diagnosis = MCMCDiagnosis(table, int(found["divergences"]), *draws.shape[:2], prior.tail_advice)
    stats = texts_read(tree["sample_stats"].to_dataset(), meta["texts"])
    return _CLASSES["MCMCFit"](model, prior, draws, meta["fit_time"], map_fit, diagnosis, stats, meta["sampler"])


_POINT_KIND = (_point_groups, _read_point, _point_schema)  # read as the class of its method (_point_fit)
_KINDS = {
    "MLFit": _POINT_KIND,
    "MAPFit": _POINT_KIND,
    "PointFit": _POINT_KIND,
    "LaplaceFit": (
        _laplace_groups,
        _read_laplace,
        lambda cls: _posterior_schema(cls) | {"diagnosis": DIAGNOSIS_SCHEMA},
    ),
    "MCMCFit": (
        _mcmc_groups,
        _read_mcmc,
        lambda cls: _posterior_schema(cls) | {"sampler": str, "diagnosis_columns": [str], "texts": [str]},
    ),
}
"""Fit class name -> (the groups and metadata it is saved as, how it is read back, the shape of its metadata).
"PointFit": files written before ML and MAP had classes of their own."""
KINDS = tuple(_KINDS)
"""The class names of the flat fits that files hold."""
