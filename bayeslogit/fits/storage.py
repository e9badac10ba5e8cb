"""Saving fits to NetCDF (``.nc``) or zarr (``.zarr``) and loading them back, through an ``xarray.DataTree``.

Layout of a saved fit
---------------------
The root node's attribute ``bayeslogit`` is a JSON object: the format and its version, the fit's class and
method, its prior, ``fit_time`` (and a point fit's ``loglik``, ``n_iter``, ``converged``; an MCMC fit's
``sampler``), the model's labels (likelihood, parameterization, intercept, class labels and their dtype,
feature names, formula, response, the formula's model spec) and a SHA-256 checksum of every array in the tree.

* A point fit (ML, MAP) is one node: ``coef`` (dims ``predictor`` [, ``class``], labelled as ``fit.coef``),
  ``hessian`` (``free``, ``free2``; the optimiser's free coordinates, from which ``cov`` is recomputed exactly)
  and its iterations: ``objective``, ``grad_norm``, ``decrement``, ``step_size`` (``iteration``) and ``x``
  (``iteration``, ``free``).
* A posterior fit has ArviZ's ``posterior`` group (``coef``, see ``fit.draws``) and, for MCMC, ``sample_stats``,
  so that ArviZ reads the file as it is; ``map_fit``, the MAP fit it was built on, laid out as a point fit;
  ``diagnosis``, what the fit's check found; and, for Laplace, ``laplace`` with the standard-normal ``latent``
  draws (``draw``, ``free``).

The training rows are not saved, so a loaded fit's ``model`` is a :class:`SavedModel` that knows the labels and
how to read new rows (``predict_proba(X)``, ``summary()``, ``boundary()``, and ``compare`` of point fits on
held-out rows work) and raises :class:`~bayeslogit.DataError`, naming what is missing, for what needs the training
rows (``predict_proba()`` without ``X``, ``log_likelihood``, ``to_datatree``, ``loo`` and so ``compare`` of
posterior fits, in-sample metrics). ``bl.load(path, model=model)`` attaches a model of the same data instead, and
then everything works.

Writes are atomic: the tree is written to a temporary directory beside ``path`` and moved into place with
``os.replace``, so an existing file survives a failed write. A file that is truncated, altered, or not written
by :func:`save` raises :class:`~bayeslogit.DataError` naming it, never a partly read fit.
"""

import base64
import hashlib
import json
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..algorithms.newton import Iteration
from ..exceptions import DataError
from ..numerics.families import FAMILIES
from ..numerics.priors import prior_fields, prior_from_fields
from .diagnostics import LaplaceDiagnosis, MCMCDiagnosis
from .layout import CoefLayout
from .saved import SavedData, SavedModel

FORMAT = "bayeslogit-fit"
VERSION = 2
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
    """
    import xarray as xr

    path = Path(path)
    writer = _format(path)[0]
    kind = type(fit).__name__
    if kind not in _KINDS:
        raise TypeError(f"fits of class {kind} cannot be saved; saved are {list(_KINDS)}")
    groups, meta = _KINDS[kind][0](fit)
    tree = xr.DataTree.from_dict(groups)
    meta = {"format": FORMAT, "version": VERSION, "fit": kind, "prior": prior_fields(fit.prior),
            "model": _model_meta(fit.model), **meta, "checksum": _checksum(tree)}
    tree.attrs["bayeslogit"] = json.dumps(meta, default=_plain)
    _write_atomically(tree, path, writer)
    return path


def _point_groups(fit) -> tuple[dict, dict]:
    return {"/": _point_dataset(fit)}, _point_meta(fit)


def _point_meta(fit) -> dict:
    return {"method": fit.method, "fit_time": fit.fit_time, "loglik": fit.loglik, "n_iter": fit.n_iter,
            "converged": fit.converged}


def _point_dataset(fit):
    """A point fit's coefficients, Hessian (free coordinates) and iterations, as an ``xarray.Dataset``."""
    import xarray as xr

    layout = fit.layout
    variables = {"coef": (layout.family.coef_dims, layout.family.collapse(fit.params)),
                 "hessian": (("free", "free2"), fit.hessian),
                 "x": (("iteration", "free"), np.array([it.x for it in fit.iterations]))}
    for name in _ITERATION_FIELDS:
        variables[name] = ("iteration", np.array([getattr(it, name) for it in fit.iterations], dtype=float))
    return xr.Dataset(variables, coords=layout.coords)


def _posterior_groups(fit) -> tuple[dict, dict]:
    """The groups and metadata that Laplace and MCMC fits share: the draws and the MAP fit."""
    import xarray as xr

    return ({"posterior": xr.Dataset({"coef": fit.draws}), "map_fit": _point_dataset(fit.map_fit)},
            {"method": fit.method, "fit_time": fit.fit_time, "map_fit": _point_meta(fit.map_fit)})


def _laplace_groups(fit) -> tuple[dict, dict]:
    import xarray as xr

    groups, meta = _posterior_groups(fit)
    diagnosis = fit.diagnosis
    corrected = np.asarray(diagnosis.corrected_coef, dtype=float)
    groups["laplace"] = xr.Dataset({"latent": (("draw", "free"), fit.latent)})
    groups["diagnosis"] = xr.Dataset({"khat": diagnosis.khat, "log_ratio_range": diagnosis.log_ratio_range,
                                      "n_draws": diagnosis.n_draws,
                                      "corrected_coef": (fit.layout.family.coef_dims, corrected)},
                                     coords=fit.layout.coords)
    return groups, meta


def _mcmc_groups(fit) -> tuple[dict, dict]:
    import xarray as xr

    groups, meta = _posterior_groups(fit)
    table, stats = fit.diagnosis.table, fit.sample_stats
    # NetCDF and zarr hold text but not None (nutpie's divergence_message is None where no divergence happened): the
    # text statistics are saved with None as "", and read back with "" as None.
    texts = [name for name, variable in stats.data_vars.items() if variable.dtype == object]
    groups["sample_stats"] = stats.assign({name: stats[name].copy(data=_text(stats[name].values)) for name in texts})
    groups["diagnosis"] = xr.Dataset({name: ("coefficient", table[name].to_numpy()) for name in table.columns}
                                     | {"divergences": fit.diagnosis.divergences})
    return groups, meta | {"sampler": fit.sampler, "diagnosis_columns": list(table.columns), "texts": texts}


def _text(values: np.ndarray) -> np.ndarray:
    """An object array of text and None as text, None as ""."""
    texts = ["" if value is None else str(value) for value in values.ravel()]
    return np.array(texts, dtype=object).reshape(values.shape)


def _model_meta(model) -> dict:
    """The model's labels, and the formula's model spec pickled (base64 text).

    Predicting on a new data frame needs the formulaic ``ModelSpec`` itself: the state of stateful transforms
    (``center(x)`` keeps the training mean, ``C(g)`` the training levels), which the formula alone cannot give
    back without the training rows. formulaic 1.x offers no serialization of a ModelSpec but pickling (it defines
    ``__getstate__`` for it), so the spec is pickled; loading unpickles it, so load only files you trust, and a
    file pickled by another formulaic version may fail to load (a :class:`DataError` says so).
    """
    classes = np.asarray(model.classes_)
    spec = model.data.formula_spec
    return {"likelihood": model.likelihood, "parameterization": model.parameterization, "intercept": model.intercept,
            "classes": classes.tolist(), "classes_dtype": classes.dtype.str, "feature_names": model.feature_names,
            "named_features": bool(model.data.named_features), "formula": model.formula, "response": model.response,
            "formula_spec": None if spec is None else base64.b64encode(pickle.dumps(spec)).decode("ascii"),
            "predictor_sd": _predictor_sd(model.data)}


def _predictor_sd(data) -> list | None:
    """The predictors' standard deviations, which an autoscaled prior's scales are divided by; None where unknown
    (a fit saved in format version 1 and loaded)."""
    sd = data.predictor_sd()
    return None if sd is None else [None if np.isnan(value) else value for value in np.asarray(sd, dtype=float)]


def _plain(value):
    """JSON for NumPy scalars (class labels held in object arrays)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot save a value of type {type(value).__name__} ({value!r}) in a fit's metadata")


def _checksum(tree) -> str:
    """SHA-256 of every variable of every node, in a form that survives the file formats' encodings: numbers as
    little-endian float64, anything else as text."""
    digest = hashlib.sha256()
    for node in sorted(tree.subtree, key=lambda node: node.path):
        variables = node.to_dataset(inherit=False).variables
        for name in sorted(variables):
            values = np.asarray(variables[name].values)
            digest.update(f"{node.path}/{name}{values.shape}".encode())
            if values.dtype.kind in "biuf":
                digest.update(values.astype("<f8").tobytes())
            else:
                digest.update("\x1f".join(map(str, values.ravel().tolist())).encode())
    return digest.hexdigest()


def _write_atomically(tree, path: Path, writer) -> None:
    """Write ``tree`` to a temporary path beside ``path``, then move it there (a zarr directory replaces the old
    one by two renames: the old one aside, the new one in)."""
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        written = staging / path.name
        writer(tree, written)
        if not (path.is_dir() or (written.is_dir() and path.exists())):
            os.replace(written, path)
            return
        os.replace(path, staging / "previous")
        try:
            os.replace(written, path)
        except OSError:
            os.replace(staging / "previous", path)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_netcdf(tree, path: Path) -> None:
    tree.to_netcdf(path, engine="h5netcdf")


def _read_netcdf(path: Path):
    import xarray as xr

    return xr.load_datatree(path, engine="h5netcdf")


def _write_zarr(tree, path: Path) -> None:
    tree.to_zarr(path, mode="w-", consolidated=True, zarr_format=2)


def _read_zarr(path: Path):
    import xarray as xr

    return xr.load_datatree(path, engine="zarr", consolidated=True)


_FORMATS = {".nc": (_write_netcdf, _read_netcdf), ".zarr": (_write_zarr, _read_zarr)}
"""Suffix -> (writer, reader) of its format: NetCDF-4 with groups through h5netcdf, or zarr (format 2)."""


def _format(path: Path) -> tuple:
    """The writer and reader of ``path``'s format."""
    if path.suffix not in _FORMATS:
        raise ValueError(f"a fit is saved as NetCDF or zarr, chosen by the path's suffix, one of {list(_FORMATS)}; "
                         f"got '{path}'")
    return _FORMATS[path.suffix]


# ---- reading --------------------------------------------------------------------------------------
def load(path, model=None, *, checks):
    """Read a fit written by :func:`save`.

    Parameters
    ----------
    path : str or Path
        A ``.nc`` file or ``.zarr`` directory.
    model : LogisticModel or SavedModel, optional
        A model of the data the fit was made on (same likelihood, parameterization, intercept, classes, features
        and formula), which the loaded fit then uses as its own: methods that need the training rows work. A
        loaded fit's ``model`` may be given, so that fits loaded one by one share it (as :func:`bayeslogit.compare`
        requires). Default: a :class:`SavedModel` without the rows.
    checks : module
        The data layer that checks new rows (see :class:`SavedModel`).

    Returns
    -------
    PointFit, LaplaceFit or MCMCFit

    Raises
    ------
    DataError
        When the file is damaged (truncated, altered) or was not written by :func:`save`.
    ValueError
        When ``model`` does not match the saved fit's labels.
    """
    path = Path(path)
    reader = _format(path)[1]
    if not path.exists():
        raise FileNotFoundError(f"no saved fit at '{path}'")
    try:
        tree = reader(path)
    except Exception as error:  # h5py, netCDF4 and zarr each raise their own errors on a damaged file
        raise DataError(f"cannot read '{path}' as a saved fit ({type(error).__name__}: {error}); the file is damaged "
                        "(truncated?) or was not written by fit.save") from error
    meta = _metadata(tree, path)
    saved = _saved_model(meta["model"], checks, path)
    model = saved if model is None else _matching(model, saved, path)
    prior = prior_from_fields(meta["prior"])
    return _KINDS[meta["fit"]][1](tree, meta, model, prior)


def _metadata(tree, path: Path) -> dict:
    """The root's JSON metadata, checked: format, version, kind and the arrays' checksum."""
    text = tree.attrs.get("bayeslogit")
    try:
        meta = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError as error:
        raise DataError(f"'{path}' is damaged: its fit metadata is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataError(f"'{path}' is not a saved bayeslogit fit: its root has no bayeslogit fit metadata (it holds "
                        f"the groups {sorted(tree.groups)}); fits are saved with fit.save(path), other files are read "
                        "with xarray")
    if meta.get("version", VERSION + 1) > VERSION:
        raise DataError(f"'{path}' is in fit format version {meta.get('version')}, newer than this bayeslogit reads "
                        f"({VERSION}); upgrade bayeslogit")
    if meta.get("fit") not in _KINDS:
        raise DataError(f"'{path}' holds a fit of class {meta.get('fit')!r}; this bayeslogit loads {list(_KINDS)}")
    if _checksum(tree) != meta.get("checksum"):
        raise DataError(f"'{path}' is damaged: its arrays do not match the checksum written with them (a truncated, "
                        "partly copied or altered file); save the fit again")
    return meta


def _saved_model(meta: dict, checks, path: Path) -> SavedModel:
    family = FAMILIES[meta["likelihood"]](meta["parameterization"])
    classes = np.array(meta["classes"], dtype=np.dtype(meta["classes_dtype"]))
    spec = meta["formula_spec"]
    if spec is not None:
        try:
            spec = pickle.loads(base64.b64decode(spec))
        except Exception as error:  # unpickling raises whatever the pickled classes raise
            raise DataError(f"'{path}': the model spec of the formula {meta['formula']!r} cannot be rebuilt "
                            f"({type(error).__name__}: {error}); install the formulaic version it was saved "
                            "with") from error
    data = SavedData(classes, tuple(meta["feature_names"]), spec, meta["named_features"], meta.get("predictor_sd"))
    layout = CoefLayout(family, classes, data.feature_names, meta["intercept"])
    return SavedModel(family, layout, meta["intercept"], meta["parameterization"], meta["formula"], meta["response"],
                      data, checks)


def _matching(model, saved: SavedModel, path: Path):
    """``model``, when its labels are those of the saved fit's model ``saved``; else a ValueError naming the
    differences."""
    labels = ("likelihood", "parameterization", "intercept", "feature_names", "formula")
    differences = [f"{name} {getattr(model, name)!r} (saved: {getattr(saved, name)!r})" for name in labels
                   if getattr(model, name) != getattr(saved, name)]
    if not np.array_equal(np.asarray(model.classes_), saved.classes_):
        differences.append(f"classes {np.asarray(model.classes_).tolist()} (saved: {saved.classes_.tolist()})")
    if differences:
        raise ValueError(f"`model` does not match the fit saved in '{path}': {'; '.join(differences)}. Pass a model "
                         "of the data the fit was made on, or none")
    return model


def _read_point(tree, meta: dict, model, prior):
    return _point_fit(tree.to_dataset(), meta, model, prior)


def _point_fit(ds, meta: dict, model, prior):
    """The point fit of a dataset written by :func:`_point_dataset` and its metadata (:func:`_point_meta`)."""
    objective = model.objective(prior)
    params = np.asfortranarray(ds["coef"].values.reshape(objective.shape))
    fields = [ds[name].values for name in _ITERATION_FIELDS]
    iterations = tuple(Iteration(*(float(field[i]) for field in fields), x) for i, x in enumerate(ds["x"].values))
    return _CLASSES["PointFit"](meta["method"], model, prior, objective, params, meta["loglik"], meta["n_iter"],
                                meta["converged"], meta["fit_time"], iterations, ds["hessian"].values)


def _posterior_parts(tree, meta: dict, model, prior) -> tuple:
    """The MAP fit and the draws (n_chains, n_draws, P, M) of a saved posterior fit."""
    map_fit = _point_fit(tree["map_fit"].to_dataset(), meta["map_fit"], model, prior)
    draws = tree["posterior"]["coef"].values
    return map_fit, draws.reshape(*draws.shape[:2], *map_fit.params.shape)


def _read_laplace(tree, meta: dict, model, prior):
    map_fit, draws = _posterior_parts(tree, meta, model, prior)
    found = tree["diagnosis"]
    corrected = map_fit.layout.labelled(found["corrected_coef"].values.reshape(map_fit.params.shape))
    diagnosis = LaplaceDiagnosis(float(found["khat"]), corrected, int(found["n_draws"]),
                                 float(found["log_ratio_range"]))
    return _CLASSES["LaplaceFit"](model, prior, draws, meta["fit_time"], map_fit, diagnosis,
                                  tree["laplace"]["latent"].values)


def _read_mcmc(tree, meta: dict, model, prior):
    map_fit, draws = _posterior_parts(tree, meta, model, prior)
    found = tree["diagnosis"]
    table = pd.DataFrame({name: found[name].values for name in meta["diagnosis_columns"]},
                         index=pd.Index(model.layout.flat_labels, name="coef"))
    diagnosis = MCMCDiagnosis(table, int(found["divergences"]), *draws.shape[:2], prior.tail_advice)
    stats = tree["sample_stats"].to_dataset()
    stats = stats.assign({name: stats[name].copy(data=np.where(stats[name].values == "", None, stats[name].values))
                          for name in meta["texts"]})
    return _CLASSES["MCMCFit"](model, prior, draws, meta["fit_time"], map_fit, diagnosis, stats, meta["sampler"])


_KINDS = {"PointFit": (_point_groups, _read_point), "LaplaceFit": (_laplace_groups, _read_laplace),
          "MCMCFit": (_mcmc_groups, _read_mcmc)}
"""Fit class name -> (the groups and metadata it is saved as, how it is read back)."""
