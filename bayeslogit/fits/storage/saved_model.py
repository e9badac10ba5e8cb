"""The ``model`` of a loaded fit: its labels and how it reads new rows, without the training rows.

A saved fit does not keep the rows it was fitted on. Its model is a :class:`~bayeslogit.fits.model_view.ModelView`,
as every fit's is, of :class:`~bayeslogit.rows.saved.SavedRows`: the labels (coefficient and class names, the family,
the formula's model spec), from which new rows are read as the model read them; what needs the training rows raises
:class:`~bayeslogit.DataError`, naming what is missing and how to attach a model.

:func:`model_meta` writes a model's labels as plain data and :func:`saved_model` reads them back strictly
(:data:`MODEL_SCHEMA`), checking them against the coordinates of the saved arrays; :func:`saved_prior` reads a
saved prior as strictly.
"""

import re

import numpy as np

from bayeslogit.exceptions import DataError, OptionError
from bayeslogit.fits.coef_labels import CoefLayout
from bayeslogit.fits.model_view import ModelView
from bayeslogit.fits.storage.formula_state import spec_from_plain, spec_to_plain
from bayeslogit.fits.storage.plain import checked
from bayeslogit.numerics.families import FAMILIES, PARAMETERIZATIONS
from bayeslogit.numerics.prior_specs import PRIORS, current_fields, data_fields, prior_from_fields
from bayeslogit.rows.saved import SavedRows

# ---- the model's labels as plain data -------------------------------------------------------------------------
_LABEL = (str, int, float, bool)
MODEL_SCHEMA = {
    "likelihood": frozenset(FAMILIES),
    "parameterization": frozenset(PARAMETERIZATIONS),
    "intercept": bool,
    "classes": [_LABEL],
    "classes_dtype": str,
    "feature_names": [str],
    "named_features": bool,
    "formula": (str, None),
    "response": (str, None),
    "formula_spec": (dict, None),
    "predictor_sd": ([(float, None)], None),
}
"""The shape of :func:`model_meta`'s output (see :mod:`.plain`)."""
_CLASSES_DTYPE = re.compile(r"[<>|=]?([biuf]\d+|U\d+|O)")


def model_meta(model) -> dict:
    """The labels of ``model`` (a :class:`~bayeslogit.LogisticModel`, or a loaded fit's model) as plain data: the
    family, the class labels and their dtype, the feature names, the formula and its model spec
    (:func:`~.formula_state.spec_to_plain`) and the predictors' standard deviations.

    Raises
    ------
    DataError
        When the class labels or the formula's spec hold what a saved fit cannot (naming it).
    """
    classes = np.asarray(model.classes_)
    spec = model.data.formula_spec
    meta = {
        "likelihood": model.likelihood,
        "parameterization": model.parameterization,
        "intercept": model.intercept,
        "classes": classes.tolist(),
        "classes_dtype": classes.dtype.str,
        "feature_names": model.feature_names,
        "named_features": bool(model.data.named_features),
        "formula": model.formula,
        "response": model.response,
        "formula_spec": None if spec is None else spec_to_plain(spec),
        "predictor_sd": _predictor_sd(model.data),
    }
    try:
        _classes(meta)
    except DataError as error:
        raise DataError(
            f"a fit of these class labels cannot be saved: {error}; relabel y with text or numbers"
        ) from None
    return meta


def _predictor_sd(data) -> list | None:
    """The predictors' standard deviations, which an autoscaled prior's scales are divided by (NaN as None);
    None where unknown."""
    sd = data.predictor_sd()
    return None if sd is None else [None if np.isnan(value) else value for value in np.asarray(sd, dtype=float)]


def saved_model(meta: dict, tree) -> ModelView:
    """The model of a loaded fit: a :class:`~bayeslogit.fits.model_view.ModelView` of the labels ``meta`` (of the
    shape :data:`MODEL_SCHEMA`) and no rows (:class:`~bayeslogit.rows.saved.SavedRows`), saved with the arrays of
    ``tree`` (an ``xarray.DataTree``).

    Raises
    ------
    DataError
        When the labels contradict themselves or the coordinates of the arrays (``predictor``, ``class``), or the
        formula's spec does not parse; the message names the place.
    """
    try:
        family = FAMILIES[meta["likelihood"]](meta["parameterization"])
    except ValueError as error:
        raise DataError(f"model.parameterization: {error}") from None
    classes = _classes(meta)
    names = tuple(meta["feature_names"])
    spec = None if meta["formula_spec"] is None else spec_from_plain(meta["formula_spec"])
    formula, response = meta["formula"], meta["response"]
    sides = re.fullmatch(r"\s*(`[^`]*`|[^~`]+?)\s*~.*", formula or "", re.DOTALL)
    if spec is not None and not (sides and sides.group(1).removeprefix("`").removesuffix("`") == response):
        raise DataError(f"model.formula {formula!r:.80} is not 'response ~ terms' of the response {response!r:.40}")
    if spec is not None and list(spec.column_names) != ["Intercept"] * meta["intercept"] + list(names):
        raise DataError(
            f"the formula's spec makes the columns {list(spec.column_names)}, but model.feature_names are "
            f"{list(names)} (intercept: {meta['intercept']})"
        )
    if meta["predictor_sd"] is not None and len(meta["predictor_sd"]) != len(names):
        raise DataError(f"model.predictor_sd has {len(meta['predictor_sd'])} values for {len(names)} features")
    _check_coordinates(CoefLayout(family, classes, names, meta["intercept"]), tree)
    rows = SavedRows(classes, names, spec, meta["named_features"], meta["predictor_sd"])
    return ModelView(family, meta["intercept"], meta["parameterization"], rows, formula, response)


def _classes(meta: dict) -> np.ndarray:
    """The class labels of ``meta``, of the dtype it names: unique, at least two, each as written."""
    labels, dtype = meta["classes"], meta["classes_dtype"]
    if not _CLASSES_DTYPE.fullmatch(dtype):
        raise DataError(
            f"model.classes_dtype must name a NumPy dtype of booleans, numbers, text or objects; got {dtype!r:.40}"
        )
    try:
        classes = np.array(labels, dtype=np.dtype(dtype))
    except (ValueError, TypeError, OverflowError):
        classes = None
    typed = [(type(label), label) for label in labels]
    if (
        classes is None
        or [(type(label), label) for label in classes.tolist()] != typed
        or len(set(typed)) < 2
        or (len(set(typed)) < len(labels))
    ):
        raise DataError(f"model.classes must be two or more distinct labels of the dtype {dtype}; got {labels!r:.80}")
    return classes


def saved_prior(fields: dict | None):
    """The prior of its fields as :func:`prior_fields` writes them (or wrote them under former names: see
    :func:`~bayeslogit.numerics.prior_specs.current_fields`), each a number, a list of numbers, a flag or null,
    and exactly those of its class."""
    if fields is None:
        return None
    fields = current_fields(fields) if isinstance(fields, dict) else fields
    classes = {cls.__name__: cls for cls in PRIORS}
    cls = classes[checked(fields.get("kind"), frozenset(classes), "prior.kind")]
    expected = {"kind": str} | {name: (float, [float], bool, None) for name in data_fields(cls)}
    checked(fields, expected, "prior")
    try:
        return prior_from_fields(fields)
    except (TypeError, ValueError) as error:
        raise DataError(f"prior: {error}") from None


def _check_coordinates(layout: CoefLayout, tree) -> None:
    """Raise :class:`DataError` where a node's ``predictor`` or ``class`` coordinate is not the labels'."""
    for node in tree.subtree:
        coords = node.to_dataset(inherit=False).coords
        for dim, labels in layout.coords.items():
            labels = np.asarray(labels).tolist()
            if dim in coords and coords[dim].values.tolist() != labels:
                raise DataError(
                    f"the labels of the metadata make the {dim} coordinate {labels}, but the arrays of "
                    f"'{node.path}' have {coords[dim].values.tolist()}"
                )


def matching(model, saved: ModelView, path) -> object:
    """``model``, when its labels are those of the saved fit's model ``saved``; else a ValueError naming the
    differences."""
    labels = ("likelihood", "parameterization", "intercept", "feature_names", "formula")
    if not all(hasattr(model, name) for name in (*labels, "classes_")):
        raise OptionError(
            f"'{path}' holds a fit of a bl.LogisticModel; `model` must be a model of its data (a bl.LogisticModel, or "
            f"a loaded fit's model); got {type(model).__name__}"
        )
    differences = [
        f"{name} {getattr(model, name)!r} (saved: {getattr(saved, name)!r})"
        for name in labels
        if getattr(model, name) != getattr(saved, name)
    ]
    if not np.array_equal(np.asarray(model.classes_), saved.classes_):
        differences.append(f"classes {np.asarray(model.classes_).tolist()} (saved: {saved.classes_.tolist()})")
    if differences:
        raise OptionError(
            f"`model` does not match the fit saved in '{path}': {'; '.join(differences)}. Pass a model "
            "of the data the fit was made on, or none"
        )
    return model
