"""Saving fits to NetCDF (``.nc``) or zarr (``.zarr``) and loading them back, through an ``xarray.DataTree``.

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
Writes are atomic (:func:`bayeslogit.atomic.staged_write`): the tree is written to a temporary directory beside
``path`` and moved into place with ``os.replace``, so an existing file survives a failed write. The checksum is a
SHA-256 of every array in the tree and of the metadata's canonical JSON (sorted keys, without the checksum itself),
so a truncated, partly copied or altered file is refused rather than read in part; where the file holds a fact
twice (the feature names and class labels, in the metadata and as the ``predictor`` and ``class`` coordinates), the
two must agree. These checks detect damage, not deliberate tampering: anyone who edits a file can write a new
checksum. Loading executes nothing from the file, and the formula terms that predictions on new rows evaluate are
limited to computations on their columns (:func:`.formula_state.check_term`).

NetCDF needs h5netcdf and h5py, zarr needs zarr: the ``io`` extra (``pip install "bayeslogit[io]"``) installs them,
and without them :func:`save` and :func:`load` raise an ImportError that says so, before writing anything.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from bayeslogit.algorithms.newton import Iteration
from bayeslogit.atomic import staged_write
from bayeslogit.exceptions import DataError, OptionError
from bayeslogit.fits.diagnostics.convergence import LaplaceDiagnosis
from bayeslogit.fits.diagnostics.mcmc_convergence import MCMCDiagnosis
from bayeslogit.fits.storage.checksum import checksum
from bayeslogit.fits.storage.formats import FORMAT, VERSION, check_version, file_format
from bayeslogit.fits.storage.plain import Names, checked
from bayeslogit.fits.storage.saved_diagnosis import SCHEMA as DIAGNOSIS_SCHEMA
from bayeslogit.fits.storage.saved_diagnosis import diagnosis_from_parts, diagnosis_parts
from bayeslogit.fits.storage.saved_model import MODEL_SCHEMA, matching, model_meta, saved_model, saved_prior
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
    import xarray as xr

    path = Path(path)
    writer = file_format(path)[0]
    kind = type(fit).__name__
    if kind not in _KINDS:
        raise OptionError(f"fits of class {kind} cannot be saved; saved are {list(_KINDS)}")
    groups, meta = _KINDS[kind][0](fit)
    tree = xr.DataTree.from_dict(groups)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "fit": kind,
        "prior": prior_fields(fit.prior),
        "model": model_meta(fit.model),
        **meta,
    }
    meta = json.loads(json.dumps(meta, default=_plain))  # as load reads it back
    tree.attrs["bayeslogit"] = json.dumps(meta | {"checksum": checksum(tree, meta)})
    with staged_write(path) as temporary:
        writer(tree, temporary)
    return path


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
    # NetCDF and zarr hold text but not None (nutpie's divergence_message is None where no divergence happened): the
    # text statistics are saved with None as "", and read back with "" as None.
    texts = [name for name, variable in stats.data_vars.items() if variable.dtype == object]
    groups["sample_stats"] = stats.assign({name: stats[name].copy(data=_text(stats[name].values)) for name in texts})
    groups["diagnosis"] = xr.Dataset(
        {name: ("coefficient", table[name].to_numpy()) for name in table.columns}
        | {"divergences": fit.diagnosis.divergences}
    )
    return groups, meta | {"sampler": fit.sampler, "diagnosis_columns": list(table.columns), "texts": texts}


def _text(values: np.ndarray) -> np.ndarray:
    """An object array of text and None as text, None as ""."""
    texts = ["" if value is None else str(value) for value in values.ravel()]
    return np.array(texts, dtype=object).reshape(values.shape)


def _plain(value):
    """JSON for NumPy scalars (class labels held in object arrays)."""
    if isinstance(value, np.generic):
        return value.item()
    raise OptionError(f"cannot save a value of type {type(value).__name__} ({value!r}) in a fit's metadata")


# ---- reading --------------------------------------------------------------------------------------
def load(path, model=None):
    """Read a fit written by :func:`save`.

    Parameters
    ----------
    path : str or Path
        A ``.nc`` file or ``.zarr`` directory.
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
        When the file is damaged (truncated, altered), was not written by :func:`save`, is of another format
        version, or holds what does not parse into a fit; the message names the file.
    OptionError
        When ``model`` does not match the saved fit's labels.
    """
    path = Path(path)
    reader = file_format(path)[1]
    if not path.exists():
        raise FileNotFoundError(f"no saved fit at '{path}'")
    try:
        tree = reader(path)
    except Exception as error:  # h5py, netCDF4 and zarr each raise their own errors on a damaged file
        raise DataError(
            f"cannot read '{path}' as a saved fit ({type(error).__name__}: {error}); the file is damaged "
            "(truncated?) or was not written by fit.save"
        ) from error
    meta = _metadata(tree, path)
    saved, prior = _parsed(lambda: (saved_model(meta["model"], tree), saved_prior(meta["prior"])), path)
    model = saved if model is None else matching(model, saved, path)
    return _parsed(lambda: _KINDS[meta["fit"]][1](tree, meta, model, prior), path)


def _parsed(read, path: Path):
    """``read()``, with what it finds wrong with the file raised as a :class:`DataError` naming ``path``."""
    try:
        return read()
    except DataError as error:
        raise DataError(
            f"'{path}' does not hold a fit that this bayeslogit reads: {error}; save the fit again"
        ) from None
    except (KeyError, IndexError, TypeError, ValueError) as error:  # arrays missing, or of other shapes
        raise DataError(
            f"'{path}' does not hold the arrays of a saved fit ({type(error).__name__}: {error}); save the fit again"
        ) from None


def _metadata(tree, path: Path) -> dict:
    """The root's JSON metadata, checked: format, version, the checksum, and the shapes and types of its values."""
    text = tree.attrs.get("bayeslogit")
    try:
        meta = json.loads(text) if isinstance(text, str) else None
    except (json.JSONDecodeError, RecursionError) as error:
        raise DataError(f"'{path}' is damaged: its fit metadata is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataError(
            f"'{path}' is not a saved bayeslogit fit: its root has no bayeslogit fit metadata (it holds "
            f"the groups {sorted(tree.groups)}); fits are saved with fit.save(path), other files are read "
            "with xarray"
        )
    check_version(meta.get("version"), path)
    if checksum(tree, meta) != meta.get("checksum"):
        raise DataError(
            f"'{path}' is damaged: its arrays and metadata do not match the checksum written with them (a "
            "truncated, partly copied or altered file); save the fit again"
        )
    if not isinstance(meta.get("fit"), str) or meta["fit"] not in _KINDS:
        raise DataError(f"'{path}' holds a fit of class {meta.get('fit')!r:.40}; this bayeslogit loads {list(_KINDS)}")
    return _parsed(lambda: checked(meta, _schema(meta["fit"]), "the metadata"), path)


def _schema(kind: str) -> dict:
    """The shape of the metadata of a fit of class ``kind`` (see :mod:`.plain`)."""
    common = {
        "format": str,
        "version": int,
        "fit": str,
        "prior": (None, Names(object)),
        "model": MODEL_SCHEMA,
        "checksum": str,
    }
    return common | _KINDS[kind][2](_CLASSES.get(kind))


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
    stats = tree["sample_stats"].to_dataset()
    stats = stats.assign(
        {
            name: stats[name].copy(data=np.where(stats[name].values == "", None, stats[name].values))
            for name in meta["texts"]
        }
    )
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
