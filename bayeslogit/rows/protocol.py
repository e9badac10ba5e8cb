"""What the fits and the algorithms need of a model's rows, declared once: :class:`Rows`.

Three kinds of rows implement it: :class:`~bayeslogit.rows.in_memory.ModelData` (NumPy arrays),
:class:`~bayeslogit.rows.chunked.ChunkedData` (dask arrays, read a chunk at a time) and
:class:`~bayeslogit.rows.saved.SavedRows` (the labels a saved fit keeps, without the rows). Whatever differs between
them lives on them: how the objective walks the rows, the predictors' standard deviations, and the error of what
needs rows they do not hold.
"""

from typing import Protocol

import numpy as np


class Rows(Protocol):
    """The rows of a model, their labels, and what can be computed from them.

    Attributes
    ----------
    classes : ndarray of shape (K,)
        The class labels; ``classes[1]`` is the event of a binary model.
    feature_names : tuple of str
    formula_spec : formulaic ModelSpec or None
        How a formula model expands a data frame of new rows.
    named_features : bool
        Whether a data frame of new rows is read by column name (else by position).
    in_memory : bool
        Whether every row can be read at once: what the linear program of separation and MCMC need.
    frame : DataFrame or None
        For a formula model's rows in memory, the data columns its formula reads, at the rows it kept: what plots
        draw in the data's own variables.
    observations : EachRow or BinomialCounts
        Which rows make up each observation (:mod:`bayeslogit.numerics.observations`): every row one, or the two
        rows of a binomial observation; what reports a log-likelihood adds its ``log_constant``.
    """

    classes: np.ndarray
    feature_names: tuple
    formula_spec: object
    named_features: bool
    in_memory: bool
    frame: object
    observations: object

    @property
    def X(self):
        """The predictors (n_samples, n_features): an ndarray, or a dask array for chunked rows."""

    @property
    def y(self):
        """The class codes (n_samples,) into ``classes``."""

    @property
    def weights(self):
        """The sample weights (n_samples,)."""

    def objective(self, family, intercept: bool, n_classes: int, prior, transform):
        """The negative log posterior of these rows under the prior term ``prior``, in the free coordinates that
        ``transform`` (n_vec, n_free) maps to ``vec(B)`` (None: the identity)."""

    def class_weights(self) -> np.ndarray:
        """The weight of each class (K,): its rows' weights summed."""

    def predictor_sd(self) -> np.ndarray | None:
        """Each predictor's weighted standard deviation (n_features,), which an autoscaled prior divides its scales
        by; None where unknown."""

    def training_rows(self, what: str, labels_in_memory: bool = False) -> tuple:
        """``X``, ``y`` and ``weights`` (dask arrays for chunked rows; with ``labels_in_memory``, ``y`` and ``weights``
        computed). Rows that were not kept (a loaded fit's) raise :class:`~bayeslogit.exceptions.DataError` saying that
        ``what`` needs them."""

    def find_collinearity(self, intercept: bool):
        """The constant or linearly dependent columns of the design (a ``Collinearity``), or None."""

    def find_separation(self, intercept: bool, n_classes: int):
        """The separation that a linear program finds in the rows (a ``Separation``), or None; rows that are not in
        memory raise :class:`~bayeslogit.exceptions.DataError`."""

    def describe(self) -> str:
        """How many rows, for a model's repr."""

    def require_in_memory(self, what: str, instead: str = "") -> None:
        """Raise :class:`~bayeslogit.exceptions.DataError` when these rows cannot all be read at once: ``what``
        needs them; ``instead`` says what to do."""
