"""The data layer for rows held out of core: dask arrays, and dask DataFrames through formulas.

A model of dask data keeps its rows as dask arrays (:class:`ChunkedData`) and reads them a chunk at a time,
on dask's local threads or, when a ``dask.distributed`` client is active, on its cluster. Construction makes
one pass over the chunks that checks everything :mod:`bayeslogit.rows.in_memory` checks, with the same messages (a
column's NaN or infinite values, missing or fractional labels, weights), finds the class labels, and sums the
weighted Gram matrix that the rank check of ``fit_ml`` needs. The fits then read the rows once per Newton step
(:class:`~bayeslogit.algorithms.dask_backend.ChunkedObjective`); predictions, and the in-sample rows of
:func:`bayeslogit.surface.compare` (its PSIS-LOO on a subsample of the rows), are computed chunk by chunk
(:func:`new_design` validates new dask rows as they are read).

What needs the rows in memory is refused, saying why and what to do instead: the linear program that proves
separation (``fit_ml`` raises :class:`~bayeslogit.exceptions.SeparationError` on the signs of it), MCMC, and
every row's log-likelihood at every draw (``log_likelihood``, ``to_datatree``, ArviZ's ``loo``).
"""

from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import pandas as pd

from bayeslogit.algorithms import dask_backend
from bayeslogit.algorithms.collinearity import collinearity_of_gram
from bayeslogit.algorithms.newton import newton
from bayeslogit.exceptions import DataError, DataTypeError, SeparationError
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.objective import Objective
from bayeslogit.rows import in_memory as data_layer
from bayeslogit.rows.in_memory import ModelData, design_from_formula, frequency_sd
from bayeslogit.rows.validation import (
    MESSAGES,
    check_numeric,
    check_scales,
    check_shape,
    check_total_weight,
    describe_rows,
    feature_names_of,
)

_NONE = np.iinfo(np.int64).max  # the "first row" of a problem that no row has


@dataclass(frozen=True)
class ChunkedData(ModelData):
    """Validated data of a model, held as dask arrays chunked alike along the rows.

    Attributes
    ----------
    X : dask array of shape (n_samples, n_features)
        float64, in one chunk of columns.
    y : dask array of int of shape (n_samples,)
        Class codes into ``classes``, computed chunk by chunk from the labels.
    weights : dask array of shape (n_samples,)
    classes, feature_names, formula_spec, named_features
        As :class:`~bayeslogit.rows.in_memory.ModelData`'s.
    gram : ndarray of shape (n_features + 1, n_features + 1)
        ``Z^T diag(weights) Z`` for ``Z = [1, X / s]``, ``s`` each column's largest absolute value (1 for a column
        of zeros): the rank check's statistic, finite whatever the columns' scale, from the construction's pass.
    """

    gram: np.ndarray = field(default=None, kw_only=True)
    column_sd: np.ndarray = field(default=None, kw_only=True)

    def objective(self, family, intercept: bool, n_classes: int, prior, transform) -> dask_backend.ChunkedObjective:
        """The negative log posterior of these rows under the prior term ``prior``, a pass over the chunks per
        evaluation."""
        none = Objective(
            family,
            Design(np.empty((0, self.X.shape[1])), intercept),
            np.empty(0, dtype=np.intp),
            np.empty(0),
            n_classes,
            prior,
            transform,
        )
        return dask_backend.ChunkedObjective(none, self.X, self.y, self.weights)

    def class_weights(self) -> np.ndarray:
        """The weight of each class (K,), as :meth:`ModelData.class_weights`'s, in one pass over the chunks."""
        return dask_backend.reduce_row_chunks(
            partial(_class_weights, len(self.classes)), dask_backend.add, self.y, self.weights
        )

    def predictor_sd(self) -> pd.Series:
        """Each predictor's standard deviation, as :meth:`ModelData.predictor_sd`'s, found in the construction's pass
        (:attr:`column_sd`)."""
        return pd.Series(self.column_sd, index=self.feature_names)

    def minimize(
        self,
        objective: dask_backend.ChunkedObjective,
        tol: float,
        max_iter: int,
        name: str,
        start: np.ndarray | None = None,
    ):
        """:func:`~bayeslogit.algorithms.newton.newton` from ``start`` (default zero): one pass over the rows per
        step (row subsamples, which the in-memory fit starts with, would cost a pass each)."""
        start = np.zeros(objective.n_free) if start is None else start
        return newton(
            objective, start, value=objective.value, tol=tol, max_iter=max_iter, name=name, convex=objective.convex
        )

    def find_collinearity(self, intercept: bool):
        """The constant or linearly dependent columns (a ``Collinearity``), or None, from :attr:`gram`."""
        gram = self.gram if intercept else self.gram[1:, 1:]
        return collinearity_of_gram(gram, intercept, self.feature_names)

    def shows_separation(self, fit, tol: float) -> bool:
        """Whether a converged ML fit shows the sign of separation that holds wherever Newton converged with the
        exact Hessian, as here: ``least_likely_other_class`` at most ``4 tol`` (one pass)."""
        return fit.objective.least_likely_other_class(fit.iterations[-2].x) <= 4 * tol

    def find_separation(self, intercept: bool, n_classes: int, fit=None):
        """Raise :class:`SeparationError`: the ML fit shows signs of separation, and the linear program that would
        prove it, and name the columns, needs the rows in memory."""
        if fit is None:
            sign = "Newton's Hessian turned singular (or overflowed)"
        elif not fit.converged:
            sign = f"Newton's method did not converge in {fit.n_iter} iterations"
        else:
            sign = "the fitted probabilities saturate (some row's probability of another class is nearly 0)"
        raise SeparationError(
            f"maximum likelihood shows signs of separation on these dask data: {sign}, as when some predictors "
            "separate the classes and the ML coefficients diverge to infinity. The linear program that proves "
            "separation and names the columns needs the rows in memory, so it was not run. Use "
            "fit_map(bl.Normal(sigma=2.5)) for finite estimates, or fit_ml on an in-memory subsample of the rows "
            "to find the separating columns",
            (),
            "unknown",
        )

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``X``, ``y`` and ``weights`` of the sorted row indices ``rows``, in memory (one pass over the chunks)."""
        return dask_backend.in_memory(self.X[rows], self.y[rows], self.weights[rows])

    def require_in_memory(self, what: str, instead: str) -> None:
        """Raise :class:`DataError`: ``what`` needs the rows in memory; ``instead`` says what to do."""
        raise DataError(
            f"{what} needs the rows in memory, and this model's rows are dask arrays, read a chunk at a time; {instead}"
        )


@dataclass(frozen=True)
class _Summary:
    """What one pass over some rows finds.

    ``nan`` and ``inf``: (n_features, 2) per column, the rows with NaN (infinite values) and the first of them
    (:data:`_NONE` when none); ``missing``: the same for the labels. ``fraction``: a non-integer float label, or
    None. ``labels``: the distinct labels, and ``label_weights`` their weight sums. ``bad_weight``: a negative or
    non-finite weight, or None. ``scale`` (n_features,): each column's largest absolute value; ``gram``: the
    Gram matrix of ``[1, X / scale]`` (see :attr:`ChunkedData.gram`). ``mean`` and ``squares`` (n_features,): each
    column's weighted mean and weighted sum of squared deviations from it, merged by Chan et al.'s pairwise update
    (no cancellation, whatever the columns' offsets).
    """

    nan: np.ndarray
    inf: np.ndarray
    missing: np.ndarray
    fraction: float | None
    labels: np.ndarray
    label_weights: np.ndarray
    bad_weight: float | None
    total_weight: float
    scale: np.ndarray
    gram: np.ndarray
    mean: np.ndarray
    squares: np.ndarray


def _problem_rows(mask: np.ndarray, start: int) -> np.ndarray:
    """Per column of ``mask`` (n, ...): how many rows are flagged and the first (:data:`_NONE` when none)."""
    count = mask.sum(axis=0)
    first = np.where(count > 0, start + mask.argmax(axis=0), _NONE)
    return np.stack([count, first], axis=-1)


def _summarize(start: int, X: np.ndarray, y: np.ndarray, weights: np.ndarray) -> _Summary:
    """The :class:`_Summary` of one chunk whose first row is ``start``."""
    X = np.asarray(X, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(np.add.reduce(X.ravel()))  # a finite sum has finite terms
        scale = np.abs(X).max(axis=0, initial=0.0)
        gram = Design(X / np.where(scale > 0, scale, 1.0), True).gram(weights)
        total = float(weights.sum())
        mean = weights @ X / total if total > 0 else np.zeros(X.shape[1])
        squares = weights @ (X - mean) ** 2
    clean = np.zeros((X.shape[1], 2), dtype=np.int64) + [0, _NONE]
    missing = pd.isna(y)
    labels = y[~missing]
    fraction = None
    if labels.dtype.kind == "f" and np.any(labels != np.round(labels)):
        fraction = labels[labels != np.round(labels)][0]
    codes, distinct = pd.factorize(labels)
    bad = ~np.isfinite(weights) | (weights < 0)
    return _Summary(
        clean if finite else _problem_rows(np.isnan(X), start),
        clean if finite else _problem_rows(np.isinf(X), start),
        _problem_rows(missing, start),
        fraction,
        np.asarray(distinct),
        np.bincount(codes, weights[~missing], minlength=len(distinct)),
        weights[bad][0] if bad.any() else None,
        total,
        scale,
        gram,
        mean,
        squares,
    )


def _merge_rows(*counts: np.ndarray) -> np.ndarray:
    stacked = np.stack(counts)
    return np.stack([stacked[..., 0].sum(axis=0), stacked[..., 1].min(axis=0)], axis=-1)


def _merge(*parts: _Summary) -> _Summary:
    """The :class:`_Summary` of the rows of all ``parts``."""
    codes, labels = pd.factorize(np.concatenate([part.labels for part in parts]))
    label_weights = np.bincount(codes, np.concatenate([part.label_weights for part in parts]), minlength=len(labels))
    scale = np.max([part.scale for part in parts], axis=0)
    gram = 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite or huge values, which _check refuses
        for part in parts:  # each part's columns were divided by its own scale; bring them to the common one
            ratio = np.concatenate([[1.0], np.where(part.scale > 0, part.scale, 1.0) / np.where(scale > 0, scale, 1.0)])
            gram = gram + part.gram * np.outer(ratio, ratio)
        total, mean, squares = 0.0, parts[0].mean, parts[0].squares * 0.0
        for part in (part for part in parts if part.total_weight > 0):  # Chan, Golub & LeVeque's pairwise update
            combined = total + part.total_weight
            delta = part.mean - mean
            mean = mean + delta * part.total_weight / combined
            squares = squares + part.squares + delta**2 * total * part.total_weight / combined
            total = combined
    first = next((value for value in (part.fraction for part in parts) if value is not None), None)
    bad = next((value for value in (part.bad_weight for part in parts) if value is not None), None)
    return _Summary(
        _merge_rows(*(part.nan for part in parts)),
        _merge_rows(*(part.inf for part in parts)),
        _merge_rows(*(part.missing for part in parts)),
        first,
        np.asarray(labels),
        label_weights,
        bad,
        sum(part.total_weight for part in parts),
        scale,
        gram,
        mean,
        squares,
    )


def _class_weights(n_classes: int, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.bincount(y, weights, minlength=n_classes)


def _codes(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Class codes of ``labels``, every one of which is in the sorted ``classes``."""
    return np.searchsorted(classes, labels).astype(np.intp)


def prepare(X, y, feature_names=None, weights=None) -> ChunkedData:
    """Validate a dask array ``X`` (n_samples, n_features), labels ``y`` and ``weights`` (each (n_samples,), dask or
    NumPy) into :class:`ChunkedData`, in one pass over the chunks.

    Raises
    ------
    DataError
        As :func:`bayeslogit.rows.in_memory.prepare` does, with its messages (a DataTypeError for a dask DataFrame);
        also when ``X``'s chunk sizes are unknown.
    """
    if hasattr(X, "columns"):
        raise DataTypeError(
            "X is a dask DataFrame: pass LogisticModel(X.to_dask_array(lengths=True), y, "
            "feature_names=list(X.columns)), or use LogisticModel.from_formula('y ~ a + b', frame)"
        )
    check_shape(X)
    check_numeric(X)
    if any(np.isnan(size) for size in X.chunks[0]):
        raise DataError(
            "X's row chunks have unknown sizes (an array made from a DataFrame without lengths?); "
            "call X.compute_chunk_sizes() first, or make it with to_dask_array(lengths=True)"
        )
    names = feature_names_of(feature_names, None, X.shape[1])
    X = X.rechunk({1: -1})
    chunks = (X.chunks[0],)
    if np.ndim(y) != 1:
        raise DataError(MESSAGES["y_dims"].format(shape=np.shape(y)))
    if np.shape(y)[0] != X.shape[0]:
        raise DataError(MESSAGES["y_length"].format(n_X=X.shape[0], n_y=np.shape(y)[0]))
    if weights is not None and np.shape(weights) != (X.shape[0],):
        raise DataError(MESSAGES["w_shape"].format(n=X.shape[0], shape=np.shape(weights)))
    y = dask_backend.as_dask_array(np.asarray(y) if isinstance(y, pd.Series) else y, chunks)
    weights = (
        dask_backend.ones(chunks) if weights is None else dask_backend.as_dask_array(weights, chunks).astype(float)
    )
    summary = dask_backend.reduce_row_chunks(_summarize, _merge, X, y, weights, first_row=True)
    classes = _check(summary, names)
    return ChunkedData(
        X.astype(float),
        dask_backend.map_blocks(_codes, y, np.intp, classes),
        weights,
        classes,
        names,
        named_features=feature_names is not None,
        gram=summary.gram,
        column_sd=frequency_sd(summary.squares, summary.total_weight),
    )


def _check(summary: _Summary, names: tuple) -> np.ndarray:
    """Raise the first problem of the summarised rows, in :func:`bayeslogit.rows.in_memory.prepare`'s order; else
    return the sorted class labels."""
    flagged = np.flatnonzero(summary.nan[:, 0] + summary.inf[:, 0])
    if flagged.size:  # the first column with NaN or infinite values, as in memory
        problem, rows = ("NaN", summary.nan) if summary.nan[flagged[0], 0] else ("infinite values", summary.inf)
        raise DataError(
            MESSAGES["x_values"].format(
                problem=problem, column=names[flagged[0]], rows=describe_rows(*rows[flagged[0]])
            )
        )
    if summary.missing[0]:
        raise DataError(MESSAGES["y_missing"].format(rows=describe_rows(*summary.missing)))
    if summary.fraction is not None:
        raise DataError(MESSAGES["y_fraction"].format(example=summary.fraction))
    codes, classes = pd.factorize(summary.labels, sort=True)
    classes = np.asarray(classes)
    if len(classes) < 2:
        raise DataError(MESSAGES["y_single"].format(label=classes.tolist()[0]))
    if summary.bad_weight is not None:
        raise DataError(MESSAGES["w_values"].format(example=summary.bad_weight))
    if summary.total_weight == 0:
        raise DataError(MESSAGES["w_zero"])
    check_total_weight(summary.total_weight)
    unweighted = classes[np.bincount(codes, summary.label_weights, minlength=len(classes)) == 0]
    if unweighted.size:
        raise DataError(MESSAGES["w_class"].format(classes=unweighted.tolist()))
    with np.errstate(over="ignore", invalid="ignore"):
        squares = summary.squares + summary.total_weight * summary.mean**2  # sum w x^2
    check_scales(squares, names, lambda j: summary.scale[j])
    return classes


def _expand(spec, partition: pd.DataFrame) -> pd.DataFrame:
    """A partition's model matrix by a formula's ``spec``, without the intercept column."""
    return spec.get_model_matrix(partition).drop(columns=["Intercept"], errors="ignore").astype(float)


def formula_data(rhs: str, response: str, frame, weights=None) -> tuple[ChunkedData, bool]:
    """The validated data of a formula's right-hand side ``rhs`` and ``response`` column of a dask DataFrame, and
    whether the formula has an intercept.

    formulaic learns a spec from the first partition and applies it to each partition, which gives the
    in-memory design when the spec holds nothing learnt from the data: terms that are functions of a row
    (``a + np.log(b) + a:b + I(a**2)``). Categorical terms (``C(g)``, string columns) need every level of the
    column, and stateful transforms (``center``, ``scale``, ``poly``, splines) the moments of all rows, which a
    partition's spec would get wrong; those formulas are refused. Missing values stay NaN, reported by column.

    Raises
    ------
    DataError
        For such a formula, or as :func:`prepare` does.
    """
    first = frame.partitions[0].compute()
    head, intercept, spec = design_from_formula(rhs, first, na_action="ignore")
    learnt = [name for name, (kind, _) in spec.encoder_state.items() if kind is type(kind).CATEGORICAL]
    learnt += list(spec.transform_state)
    learnt += [
        column
        for column in first.columns.intersection(list(spec.required_variables))  # strings, which
        if not pd.api.types.is_numeric_dtype(first[column])
    ]  # formulaic may not see as categories
    if learnt:
        raise DataError(
            f"the formula '{rhs}' has terms that formulaic learns from the data ({', '.join(learnt)}): category "
            "levels or a transform's moments. On a dask DataFrame they would be learnt from one partition and "
            "could differ from the whole column's, so only terms that are functions of a row are supported. "
            "Encode such columns first (e.g. dummy columns with dask's get_dummies, or centred values), or "
            "pass a pandas DataFrame"
        )
    X, y = dask_backend.frame_to_arrays(frame, partial(_expand, spec), head.iloc[:0].astype(float), [response])
    data = prepare(X, y, feature_names=list(head.columns), weights=weights)
    return replace(data, formula_spec=spec), intercept


def _as_frame(check, names: tuple, partition: pd.DataFrame) -> pd.DataFrame:
    """``check`` of a partition as a DataFrame of the model's feature ``names``."""
    return pd.DataFrame(check(partition), columns=list(names), index=partition.index)


def new_design(model_data: ModelData, rhs: str | None, X):
    """Validated predictors of new dask rows for a model fitted on ``model_data``, as a dask array.

    Parameters
    ----------
    model_data : ModelData or ChunkedData
    rhs : str or None
        The right-hand side of the model's formula.
    X : dask array of shape (n_samples, n_features), or dask DataFrame
        A DataFrame for a formula model, or one with the model's named features.

    Returns
    -------
    dask array of shape (n_samples, n_features)
        Each chunk passes :func:`bayeslogit.rows.in_memory.new_design` when it is computed (a row number in its messages
        counts from the chunk's first row); the first row passes it at once, so that a wrong type, shape or set of
        columns is told here.
    """
    names = model_data.feature_names
    labels_only = ModelData(
        np.empty((0, len(names))),
        np.empty(0, dtype=np.intp),
        np.empty(0),
        model_data.classes,
        names,
        model_data.formula_spec,
        model_data.named_features,
    )
    check = partial(data_layer.new_design, labels_only, rhs)
    if hasattr(X, "columns"):
        check(X.head(1))
        meta = pd.DataFrame({name: pd.Series(dtype=float) for name in names})
        return dask_backend.frame_to_arrays(X, partial(_as_frame, check, names), meta, [])[0]
    check(X[:1].compute())
    return dask_backend.map_blocks(check, X.rechunk({1: -1}), float)
