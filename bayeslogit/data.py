"""The data layer: validation of predictors and labels, class encoding and the reference class, the data of
formulas (parsed and expanded by :mod:`bayeslogit.formulas`).

Everything a user hands to :class:`bayeslogit.LogisticModel` is checked here, once; the numerical
code downstream trusts what it receives. Messages name the problem, the value received and the fix; those that
rows held out of core can meet too are in :data:`MESSAGES`, shared with :mod:`bayeslogit.dask_data`.
"""

from dataclasses import dataclass, replace
from importlib import import_module

import numpy as np
import pandas as pd

from .algorithms.collinearity import find_collinearity
from .algorithms.newton import fit_newton, newton
from .exceptions import DataError
from .formulas import design_from_formula, split_formula  # noqa: F401 (split_formula: for the CLI)
from .numerics.design import Design
from .numerics.objective import Objective
from .numerics.priors import PRIORS

LP_BUDGET = 500_000  # n_samples * n_coef * M up to which a converged ML fit is checked exactly for separation
SATURATED_LOGIT = 30.0  # |eta| beyond which a fitted probability is within 1e-13 of 0 or 1
MESSAGES = {
    "x_dims": "X must be 2-D (n_samples, n_features); got shape {shape}.{hint}",
    "x_rows": "X has no rows; a model needs at least one observation per class",
    "x_dtype": ("X must be numeric; got an array of dtype {dtype}. Encode categories as numbers or use "
                "LogisticModel.from_formula with C(column)"),
    "x_values": "X contains {problem} in column '{column}' ({rows}); drop or impute those rows",
    "y_dims": "y must be 1-D (one label per observation); got shape {shape}",
    "y_length": "X has {n_X} rows but y has {n_y}; they must have one entry per observation",
    "y_missing": "y contains missing values ({rows}); drop those rows",
    "y_fraction": ("y must hold class labels; got non-integer values such as {example}. For proportions of "
                   "successes, expand to 0/1 rows with weights"),
    "y_single": "y has a single class ({label!r}); logistic classification needs at least two",
    "w_shape": "weights must have shape ({n},) like y; got {shape}",
    "w_values": "weights must be finite and non-negative; got {example}",
    "w_zero": "weights are all zero; at least one observation must count",
    "w_class": ("every row of the class(es) {classes} has weight 0, so the model cannot learn them and its "
                "coefficients diverge; give those rows weight or drop the class"),
}
"""What each problem with the data is told, for in-memory rows and rows out of core alike."""


@dataclass(frozen=True)
class ModelData:
    """Validated data of a model, in memory.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        C-contiguous float64, without an intercept column.
    y : ndarray of shape (n_samples,)
        Integer class codes into ``classes``.
    weights : ndarray of shape (n_samples,)
    classes : ndarray of shape (n_classes,)
        The labels; ``classes[1]`` is the event of a binary model.
    feature_names : tuple of str
    formula_spec : formulaic ModelSpec or None
        Re-applied to new data frames at prediction time.
    frame : DataFrame or None
        For a formula model, the data columns its formula reads (and the response), at the rows it kept: what
        plots draw in the data's own variables.
    named_features : bool
        Whether the features were named (a DataFrame's columns, or ``feature_names``), so that a data frame
        of new rows is read by those names; unnamed features (``x0, x1, ...``) are read by position.
    """

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    classes: np.ndarray
    feature_names: tuple
    formula_spec: object = None
    named_features: bool = False
    frame: pd.DataFrame | None = None

    # What differs between rows in memory and rows out of core (:class:`bayeslogit.dask_data.ChunkedData`).
    def objective(self, family, intercept: bool, n_classes: int, prior, transform) -> Objective:
        """The negative log posterior of these rows under the prior term ``prior``; see
        :class:`~bayeslogit.numerics.objective.Objective`."""
        return Objective(family, Design(self.X, intercept), self.y, self.weights, n_classes, prior, transform)

    def class_weights(self) -> np.ndarray:
        """The weight of each class of ``classes`` (K,): its rows' weights summed."""
        return np.bincount(self.y, self.weights, minlength=len(self.classes))

    def predictor_sd(self) -> pd.Series:
        """Each predictor's standard deviation, indexed by feature name, the weights counting rows (divisor
        ``sum(w) - 1``; NaN when the weights sum to 1 or less)."""
        mean = self.weights @ self.X / self.weights.sum()
        return pd.Series(frequency_sd(self.weights @ (self.X - mean) ** 2, self.weights.sum()), index=self.feature_names)

    def minimize(self, objective: Objective, tol: float, max_iter: int, name: str, start: np.ndarray | None = None):
        """:func:`~bayeslogit.algorithms.newton.fit_newton` of ``objective``: Newton's method, on row subsamples
        first where the rows are many; from ``start`` (n_free,), Newton's method on all rows."""
        if start is not None:
            return newton(objective, start, value=objective.value, tol=tol, max_iter=max_iter, name=name,
                          convex=objective.convex)
        return fit_newton(objective, tol=tol, max_iter=max_iter, name=name)

    def find_collinearity(self, intercept: bool):
        """The constant or linearly dependent columns of the design (a ``Collinearity``), or None."""
        return find_collinearity(Design(self.X, intercept), self.weights, self.feature_names)

    def shows_separation(self, fit, tol: float) -> bool:
        """Whether a converged ML fit (a ``PointFit``) shows signs of separation: (``n_samples * n_coef * M`` up to
        :data:`LP_BUDGET`) ``least_likely_other_class`` at most ``4 tol`` where Newton converged, or (beyond)
        ``|eta| > 30``."""
        if self.X.shape[0] * fit.params.size > LP_BUDGET:
            return Design(self.X, fit.model.intercept).largest_linear_predictor(fit.params) > SATURATED_LOGIT
        return fit.objective.least_likely_other_class(fit.iterations[-2].x) <= 4 * tol

    def find_separation(self, intercept: bool, n_classes: int, fit=None):
        """The separation that the linear program finds in these rows (a ``Separation``), or None; ``fit`` (the
        ML fit that showed signs of it, or None when Newton failed) is not needed here."""
        return find_separation(self.X, self.y, n_classes, intercept=intercept, names=self.feature_names,
                               weights=self.weights)

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``X``, ``y`` and ``weights`` of the row indices ``rows``."""
        return self.X[rows], self.y[rows], self.weights[rows]

    def require_in_memory(self, what: str, instead: str) -> None:
        """Nothing: these rows are in memory (rows out of core refuse ``what``, suggesting ``instead``)."""


def find_separation(*args, **kwargs):  # imported on first use: its linear programs need scipy.optimize (~0.1 s)
    return import_module(".algorithms.separation", __package__).find_separation(*args, **kwargs)


def describe_rows(count: int, first: int) -> str:
    """``"3 rows, first at row 17"``."""
    return f"{count} row{'s' if count > 1 else ''}, first at row {first}"


def _describe_rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)
    return describe_rows(rows.size, rows[0])


def validate_X(X, feature_names=None) -> tuple[np.ndarray, tuple]:
    """Check a predictor matrix and return it as a C-contiguous float64 array with its column names.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
    feature_names : sequence of str, optional
        Overrides the DataFrame's column names; default ``x0, x1, ...`` for arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    feature_names : tuple of str
    """
    if isinstance(X, pd.DataFrame):
        non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if non_numeric:
            raise TypeError(
                f"X must be numeric; column(s) {non_numeric} have dtype "
                f"{[str(X[c].dtype) for c in non_numeric]}. Encode them first, e.g. "
                f"LogisticModel.from_formula('y ~ C({non_numeric[0]})', data)"
            )
        names = tuple(str(c) for c in X.columns)
        X = X.to_numpy(dtype=float)
    else:
        try:
            X = np.asarray(X)
        except ValueError as error:
            raise DataError(f"X could not be read as an array ({error}); pass a 2-D array or a DataFrame") from None
        check_numeric(X)
        names = None
    check_shape(X)
    X = np.ascontiguousarray(X, dtype=float)
    names = feature_names_of(feature_names, names, X.shape[1])
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(X.ravel())):  # one pass: a finite sum has finite terms
            return X, names
    for problem, mask in (("NaN", np.isnan(X)), ("infinite values", np.isinf(X))):  # or the sum overflowed
        if mask.any():
            column = int(np.flatnonzero(mask.any(axis=0))[0])
            raise DataError(MESSAGES["x_values"].format(problem=problem, column=names[column],
                                                        rows=_describe_rows(mask[:, column])))
    return X, names


def check_numeric(X) -> None:
    """Raise a TypeError unless the array ``X`` (NumPy or dask) is numeric or boolean."""
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(MESSAGES["x_dtype"].format(dtype=X.dtype))


def check_shape(X) -> None:
    """Raise a DataError unless the array ``X`` (NumPy or dask) is 2-D with rows."""
    if X.ndim != 2:
        hint = " For a single feature use X.reshape(-1, 1)." if X.ndim == 1 else ""
        raise DataError(MESSAGES["x_dims"].format(shape=X.shape, hint=hint))
    if X.shape[0] == 0:
        raise DataError(MESSAGES["x_rows"])


def feature_names_of(given, from_frame, n_features: int) -> tuple:
    """The names of ``n_features`` columns: ``given``, else a frame's column names, else ``x0, x1, ...``."""
    if given is None:
        return from_frame or tuple(f"x{j}" for j in range(n_features))
    names = tuple(str(name) for name in given)
    if len(names) != n_features:
        raise DataError(f"feature_names has {len(names)} names but X has {n_features} columns")
    if len(set(names)) != len(names):
        raise DataError(f"feature_names must be unique; got {list(names)}")
    return names


def encode_labels(y, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Class codes and labels of ``y``.

    A pandas Categorical keeps its category order (unused categories dropped); other labels are
    sorted (``False < True``, ``0 < 1``, strings alphabetically).

    Returns
    -------
    codes : ndarray of int of shape (n_samples,)
    classes : ndarray of shape (n_classes,)
    """
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise DataError(f"y must be one column; got a DataFrame with {y.shape[1]} columns")
        y = y.iloc[:, 0]
    if not isinstance(y, pd.Series) and np.ndim(y) != 1:
        raise DataError(MESSAGES["y_dims"].format(shape=np.shape(y)))
    series = y if isinstance(y, pd.Series) else pd.Series(y)
    if len(series) != n_samples:
        raise DataError(MESSAGES["y_length"].format(n_X=n_samples, n_y=len(series)))
    if series.isna().any():
        raise DataError(MESSAGES["y_missing"].format(rows=_describe_rows(series.isna().to_numpy())))
    if isinstance(series.dtype, pd.CategoricalDtype):
        categorical = series.cat.remove_unused_categories()
        codes, classes = categorical.cat.codes.to_numpy(), categorical.cat.categories.to_numpy()
    else:
        values = series.to_numpy()
        if np.issubdtype(values.dtype, np.floating) and np.any(values != np.round(values)):
            raise DataError(MESSAGES["y_fraction"].format(example=values[values != np.round(values)][0]))
        codes, classes = pd.factorize(values, sort=True)  # as np.unique(return_inverse=True), by hashing: faster
        classes = np.asarray(classes)
    if len(classes) < 2:
        raise DataError(MESSAGES["y_single"].format(label=classes.tolist()[0]))
    return np.asarray(codes, dtype=np.intp), classes


def with_reference(model_data: ModelData, reference, family) -> ModelData:
    """``model_data`` with the class ``reference`` moved first (the others keep their order); None keeps it.

    The first class is the reference of a multiclass model (its coefficients are fixed at zero) and the
    non-event class of a binary one (the event ``classes[1]`` is then the other class). The class codes are
    renumbered by arithmetic, so rows in memory and dask rows out of core alike stay as they are.

    Raises
    ------
    ValueError
        When ``family`` has no reference class (the symmetric parameterization).
    DataError
        When ``reference`` is not one of the classes, listing them.
    """
    if reference is None:
        return model_data
    labels = model_data.classes.tolist()
    if family.n_linear_predictors(len(labels)) == len(labels):
        raise ValueError(f"reference={reference!r} chooses the class whose coefficients are fixed at zero, but the "
                         "symmetric parameterization has a coefficient column for every class; drop reference= or "
                         "pass parameterization='reference'")
    if reference not in labels:
        raise DataError(f"reference={reference!r} is not a class of y; the classes are {labels}")
    first = labels.index(reference)
    order = [first, *(k for k in range(len(labels)) if k != first)]
    codes = model_data.y  # first -> 0, the classes before it one up, those after it unchanged
    return replace(model_data, y=codes + (codes < first) - first * (codes == first),
                   classes=model_data.classes[order])


def validate_weights(weights, n_samples: int) -> np.ndarray:
    """Sample weights as a float array of shape (n_samples,); ones when None."""
    if weights is None:
        return np.ones(n_samples)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (n_samples,):
        raise DataError(MESSAGES["w_shape"].format(n=n_samples, shape=weights.shape))
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise DataError(MESSAGES["w_values"].format(example=weights[~np.isfinite(weights) | (weights < 0)][0]))
    if weights.sum() == 0:
        raise DataError(MESSAGES["w_zero"])
    return weights


def check_prior(prior):
    """Return ``prior`` if it is a prior (:data:`~bayeslogit.numerics.priors.PRIORS`), else raise a TypeError saying
    how to make one."""
    if not isinstance(prior, PRIORS):
        raise TypeError(f"prior must be bl.Normal, bl.StudentT or bl.Cauchy, e.g. bl.Normal(sigma=2.5); got "
                        f"{type(prior).__name__}")
    return prior


def frequency_sd(squares: np.ndarray, total: float) -> np.ndarray:
    """Standard deviations from weighted sums of squared deviations (p,) under frequency weights summing to
    ``total``: ``sqrt(squares / (total - 1))``, NaN where ``total <= 1`` (no frequency makes a sample of one row)."""
    return np.sqrt(squares / (total - 1.0)) if total > 1 else np.full(np.shape(squares), np.nan)


def prepare(X, y, feature_names=None, weights=None) -> ModelData:
    """Validate arrays or data frames into :class:`ModelData`."""
    named = isinstance(X, pd.DataFrame) or feature_names is not None
    X, names = validate_X(X, feature_names)
    codes, classes = encode_labels(y, X.shape[0])
    weights = validate_weights(weights, X.shape[0])
    unweighted = classes[np.bincount(codes, weights, minlength=len(classes)) == 0]
    if unweighted.size:
        raise DataError(MESSAGES["w_class"].format(classes=unweighted.tolist()))
    return ModelData(X, codes, weights, classes, names, named_features=named)


def formula_data(rhs: str, response: str, data: pd.DataFrame, weights=None) -> tuple[ModelData, bool]:
    """The validated data of a formula's right-hand side ``rhs`` and ``response`` column, and whether the formula
    has an intercept."""
    X, intercept, spec = design_from_formula(rhs, data)
    read = [column for column in data.columns if column in {str(v) for v in spec.required_variables} | {response}]
    return replace(prepare(X, data[response], weights=weights), formula_spec=spec,
                   frame=data.loc[X.index, read]), intercept


def class_codes(classes: np.ndarray, y) -> np.ndarray:
    """Class codes (indices into a fitted model's ``classes``) of labels ``y`` of new rows, shape (n_samples,).

    Unlike :func:`encode_labels`, which defines the classes from the training labels, this maps labels onto
    the classes of a fitted model.

    Raises
    ------
    DataError
        When ``y`` holds labels the model was not fitted on, naming them.
    """
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise DataError(f"y must be 1-D class labels; got shape {labels.shape}")
    codes = pd.Index(classes).get_indexer(labels)
    if np.any(codes < 0):
        unknown = sorted({repr(label) for label in labels[codes < 0].tolist()})
        raise DataError(f"y holds labels the model was not fitted on: {', '.join(unknown)}; the model's "
                        f"classes are {classes.tolist()}. Map them onto these labels or drop those rows")
    return codes


def new_design(model_data: ModelData, rhs: str | None, X) -> np.ndarray:
    """Validated predictors (n_samples, n_features) of new rows for a model fitted on ``model_data``.

    A formula model expands a data frame by the spec of its formula's right-hand side ``rhs``; a model with
    named features takes a data frame's columns by name (in any order); arrays, and data frames given to a
    model of unnamed features, must have the model's columns in order.
    """
    names = list(model_data.feature_names)
    if model_data.formula_spec is not None:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("this model was built from a formula: pass new data as a DataFrame with "
                            f"the formula's columns; got {type(X).__name__}")
        X, _, _ = design_from_formula(rhs, X, model_data.formula_spec)
    elif isinstance(X, pd.DataFrame) and model_data.named_features:
        missing = [name for name in names if name not in set(map(str, X.columns))]
        if missing:
            raise DataError(f"X lacks the column(s) {missing} that the model was fitted on ({names})")
        X = X[names]
    width_matches = not isinstance(X, pd.DataFrame) and np.ndim(X) == 2 and np.shape(X)[1] == len(names)
    X, _ = validate_X(X, names if width_matches else None)
    if X.shape[1] != len(names):
        raise DataError(f"X has {X.shape[1]} columns but the model was fitted on {len(names)}: {names}")
    return X
