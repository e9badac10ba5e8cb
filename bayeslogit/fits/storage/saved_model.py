"""The stand-in ``model`` of a loaded fit: its labels and how it reads new rows, without the training rows.

A saved fit does not keep the rows it was fitted on. :class:`SavedModel` answers what the fits ask of their
model from the labels (coefficient and class names, the family, the formula's model spec) and raises
:class:`~bayeslogit.DataError`, naming what is missing and how to attach a model, for what needs the rows.

:func:`model_meta` writes a model's labels as plain data and :func:`saved_model` reads them back strictly
(:data:`MODEL_SCHEMA`), checking them against the coordinates of the saved arrays; :func:`saved_prior` reads a
saved prior as strictly.
"""

import dataclasses
import re
from dataclasses import dataclass

import numpy as np

from bayeslogit.exceptions import DataError, OptionError
from bayeslogit.fits.coef_labels import CoefLayout
from bayeslogit.fits.storage.formula_state import spec_from_plain, spec_to_plain
from bayeslogit.fits.storage.plain import checked
from bayeslogit.numerics import predictive
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.families import FAMILIES, PARAMETERIZATIONS
from bayeslogit.numerics.prior_specs import PRIORS, prior_from_fields, prior_term

_ATTACH = "load the fit with bl.load(path, model=model), a model of the same data, to attach them"


def rows_missing(what: str) -> DataError:
    """The error of ``what``, which needs the training rows that a loaded fit does not have."""
    return DataError(f"{what} needs the training rows, which a saved fit does not keep; {_ATTACH}")


@dataclass(frozen=True, eq=False)
class SavedData:
    """What a loaded fit keeps of its model's data: the labels, not the rows.

    Attributes
    ----------
    classes : ndarray of shape (K,)
    feature_names : tuple of str
    formula_spec : formulaic ModelSpec or None
    named_features : bool
    column_sd : sequence of float or None
        The predictors' standard deviations (None where unknown; NaN as None).
    """

    classes: np.ndarray
    feature_names: tuple
    formula_spec: object
    named_features: bool
    column_sd: tuple | None = None

    def predictor_sd(self) -> np.ndarray | None:
        """The predictors' standard deviations (n_features,), saved with the fit; None when not saved."""
        if self.column_sd is None:
            return None
        return np.array([np.nan if sd is None else sd for sd in self.column_sd], dtype=float)

    def require_in_memory(self, what: str, instead: str = "") -> None:
        """Raise :class:`DataError`: ``what`` needs the training rows, which a saved fit does not keep."""
        raise rows_missing(what)

    def _missing(self, name: str):
        raise DataError(f"a loaded fit has no training {name}: a saved fit does not keep them; {_ATTACH}")

    X = property(lambda self: self._missing("rows (X)"), doc="Raises :class:`DataError`: the rows were not saved.")
    y = property(lambda self: self._missing("labels (y)"), doc="Raises :class:`DataError`: the labels were not saved.")
    weights = property(lambda self: self._missing("weights"), doc="Raises :class:`DataError`: not saved.")

    def class_weights(self):
        """Raises :class:`DataError`: the weights were not saved."""
        self._missing("weights")

    def take(self, rows):
        """Raises :class:`DataError`: the rows were not saved."""
        self._missing("rows (X)")


@dataclass(frozen=True, eq=False)
class SavedObjective:
    """What a loaded point fit keeps of its objective: the map from free coordinates to coefficients.

    Evaluating it needs the training rows and raises :class:`DataError`; the fit's Hessian at the optimum was saved.
    """

    shape: tuple
    prior: object
    transform: np.ndarray | None

    @property
    def n_free(self) -> int:
        return int(np.prod(self.shape)) if self.transform is None else self.transform.shape[1]

    def coef(self, u: np.ndarray) -> np.ndarray:
        """The coefficient matrix (P, M) of free coordinates ``u`` (n_free,)."""
        vec = u if self.transform is None else self.transform @ u
        return vec.reshape(self.shape, order="F")

    def __call__(self, u: np.ndarray):
        raise rows_missing("evaluating the objective of a loaded fit")


@dataclass(frozen=True, eq=False)
class SavedModel:
    """The stand-in ``model`` of a loaded fit: the labels, and how new rows are read, without the training rows.

    Attributes
    ----------
    family : Bernoulli or Categorical
    layout : CoefLayout
    intercept : bool
    parameterization : {"reference", "symmetric"}
    formula, response : str or None
    data : SavedData
    checks : module
        The data layer (:mod:`bayeslogit.rows.in_memory`), whose ``new_design`` and ``class_codes`` check new rows
        exactly as :class:`~bayeslogit.LogisticModel` does. :func:`bayeslogit.load` passes it, because that layer sits
        above the fits.
    """

    family: object
    layout: CoefLayout
    intercept: bool
    parameterization: str
    formula: str | None
    response: str | None
    data: SavedData
    checks: object

    likelihood = property(lambda self: self.family.name, doc='``"bernoulli"`` or ``"categorical"``.')
    classes_ = property(lambda self: self.data.classes, doc="Class labels, shape (n_classes,).")
    n_classes = property(lambda self: len(self.data.classes))
    feature_names = property(lambda self: list(self.data.feature_names))
    coef_names = property(lambda self: self.layout.coef_names)
    coef_classes = property(lambda self: self.layout.columns)

    def objective(self, prior=None) -> SavedObjective:
        """The free coordinates of the objective under ``prior``, as :meth:`LogisticModel.objective` lays them out,
        and the prior's term (an autoscaled prior's scales from the saved standard deviations)."""
        P = len(self.layout.coef_names)
        term = prior_term(prior, P, self.intercept, self.data.predictor_sd)
        shape = (P, self.family.n_linear_predictors(self.n_classes))
        return SavedObjective(shape, term, self.family.free_transform(term.flat, self.n_classes))

    def design_matrix(self, X=None) -> np.ndarray:
        """Validated predictors (n_samples, n_features) of new rows ``X``; None raises :class:`DataError`."""
        if X is None:
            self.data.require_in_memory("predicting without X (on the training rows)")
        rhs = self.formula.split("~", 1)[1].strip() if self.formula else None
        return self.checks.new_design(self.data, rhs, X)

    def evaluation_data(self, X=None, y=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Validated new rows, class codes and unit weights, as :meth:`LogisticModel.evaluation_data` gives them
        for held-out data; without ``X`` and ``y`` raises :class:`DataError`."""
        if X is None or y is None:
            self.data.require_in_memory("evaluating without X_test and y_test (on the training rows)")
        X = self.design_matrix(X)
        codes = self.checks.class_codes(self.classes_, np.asarray(y))
        if len(codes) != X.shape[0]:
            raise DataError(self.checks.MESSAGES["y_length"].format(n_X=X.shape[0], n_y=len(codes)))
        return X, codes, np.ones(len(codes)), True

    def log_probabilities(self, B: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Class log-probabilities (n, K) at coefficients ``B`` (P, M) for a validated design ``X`` (n, p)."""
        return predictive.average_log_proba(self.family, Design(X, self.intercept), B[None])

    def __repr__(self) -> str:
        return (
            f"SavedModel({self.likelihood}, no training rows, classes={self.classes_.tolist()}, coef={self.coef_names})"
        )


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
    """The labels of ``model`` (a :class:`~bayeslogit.LogisticModel` or :class:`SavedModel`) as plain data: the
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


def saved_model(meta: dict, tree, checks) -> SavedModel:
    """The :class:`SavedModel` of labels ``meta`` (of the shape :data:`MODEL_SCHEMA`), saved with the arrays of
    ``tree`` (an ``xarray.DataTree``); ``checks`` is the data layer (see :class:`SavedModel`).

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
    layout = CoefLayout(family, classes, names, meta["intercept"])
    _check_coordinates(layout, tree)
    data = SavedData(classes, names, spec, meta["named_features"], meta["predictor_sd"])
    return SavedModel(family, layout, meta["intercept"], meta["parameterization"], formula, response, data, checks)


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
    """The prior of its fields as :func:`prior_fields` writes them, each a number, a list of numbers, a flag or
    null, and exactly those of its class."""
    if fields is None:
        return None
    classes = {cls.__name__: cls for cls in PRIORS}
    cls = classes[checked(fields.get("kind"), frozenset(classes), "prior.kind")]
    expected = {"kind": str} | {
        field.name: (float, [float], bool, None)
        for field in dataclasses.fields(cls)
        if field.name not in cls.fixed_fields
    }
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


def matching(model, saved: SavedModel, path) -> object:
    """``model``, when its labels are those of the saved fit's model ``saved``; else a ValueError naming the
    differences."""
    labels = ("likelihood", "parameterization", "intercept", "feature_names", "formula")
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
