"""Rows held out of core: dask arrays, and dask DataFrames through formulas.

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
from bayeslogit.checks import check_choice
from bayeslogit.exceptions import DataError, DataTypeError
from bayeslogit.numerics.column_moments import frequency_sd
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.objective import Objective
from bayeslogit.rows import counts
from bayeslogit.rows import in_memory as data_layer
from bayeslogit.rows.chunk_summary import checked_classes, merge, summarize
from bayeslogit.rows.formulas import MISSING
from bayeslogit.rows.in_memory import ModelData, design_from_formula
from bayeslogit.rows.validation import (
    MESSAGES,
    check_numeric,
    check_shape,
    feature_names_of,
)

_BINOMIAL_IN_MEMORY = (
    "a binomial response (successes and failures) needs its rows in memory; compute them first, e.g. "
    "LogisticModel.from_formula('cbind(s, f) ~ x', frame.compute()): aggregated counts are few rows"
)


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

    in_memory = False

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

    def find_collinearity(self, intercept: bool):
        """The constant or linearly dependent columns (a ``Collinearity``), or None, from :attr:`gram`."""
        gram = self.gram if intercept else self.gram[1:, 1:]
        return collinearity_of_gram(gram, intercept, self.feature_names)

    def find_separation(self, intercept: bool, n_classes: int):
        """Raise :class:`~bayeslogit.exceptions.DataError`: the linear program that proves separation needs the
        rows in memory."""
        self.require_in_memory("the linear program that proves separation", "fit an in-memory subsample")

    def training_rows(self, what: str, labels_in_memory: bool = False) -> tuple:
        """``X``, ``y`` and ``weights`` as dask arrays; with ``labels_in_memory``, ``y`` and ``weights`` computed
        (one pass over the chunks)."""
        if labels_in_memory:
            return self.X, *computed(self.y, self.weights)
        return self.X, self.y, self.weights

    def describe(self) -> str:
        """How many rows, and that they are chunked, for a model's repr."""
        return f"{self.X.shape[0]} observations in {len(self.X.chunks[0])} dask chunks"

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``X``, ``y`` and ``weights`` of the sorted row indices ``rows``, in memory (one pass over the chunks)."""
        return computed(self.X[rows], self.y[rows], self.weights[rows])

    def require_in_memory(self, what: str, instead: str = "") -> None:
        """Raise :class:`DataError`: ``what`` needs the rows in memory; ``instead`` says what to do."""
        raise DataError(
            f"{what} needs the rows in memory, and this model's rows are dask arrays, read a chunk at a time; {instead}"
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
    if counts.is_counts(y):
        raise DataError(_BINOMIAL_IN_MEMORY)
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
    summary = dask_backend.reduce_row_chunks(summarize, merge, X, y, weights, first_row=True)
    classes = checked_classes(summary, names)
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


def computed(*arrays):
    """Dask arrays (or NumPy arrays) computed together, one pass over their chunks; one array as itself."""
    values = dask_backend.in_memory(*arrays)
    return values[0] if len(arrays) == 1 else values


def by_row_chunks(function, rows) -> np.ndarray:
    """``function`` of each row chunk of dask ``rows`` (see :func:`~bayeslogit.algorithms.dask_backend.map_row_chunks`),
    results concatenated."""
    return dask_backend.map_row_chunks(function, rows)


def handle_missing(response: str, rhs: str, frame, weights, missing: str):
    """A dask DataFrame's rows as they are: their missing values are reported by column as the rest of their
    values are, chunk by chunk, so ``missing="raise"`` holds; ``"drop"`` is refused.

    Returns
    -------
    frame, weights, dropped : dask DataFrame, as given, and an empty Index
    """
    if check_choice("missing", missing, MISSING) != "raise":
        raise DataError(
            "missing='drop' needs a pandas DataFrame; drop the rows of a dask DataFrame first, "
            "e.g. data.dropna(subset=[...the formula's columns...])"
        )
    return frame, weights, pd.Index([])


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
    if counts.cbind_arguments(f"{response} ~ {rhs}", response) is not None:
        raise DataError(_BINOMIAL_IN_MEMORY)
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
