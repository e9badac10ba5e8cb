"""The rows of a loaded fit: its model's labels, without the rows, which a saved fit does not keep.

:class:`SavedRows` implements :class:`~bayeslogit.rows.protocol.Rows` from the labels: new rows are read exactly as
the model read them (:func:`~bayeslogit.rows.in_memory.new_design`), and whatever needs the training rows raises
:class:`~bayeslogit.exceptions.DataError`, naming what is missing and how to attach a model.
"""

from dataclasses import dataclass

import numpy as np

from bayeslogit.exceptions import DataError
from bayeslogit.numerics.observations import EACH_ROW

_ATTACH = "load the fit with bl.load(path, model=model), a model of the same data, to attach them"


def rows_missing(what: str) -> DataError:
    """The error of ``what``, which needs the training rows that a loaded fit does not have."""
    return DataError(f"{what} needs the training rows, which a saved fit does not keep; {_ATTACH}")


@dataclass(frozen=True, eq=False)
class SavedRows:
    """What a loaded fit keeps of its model's rows: the labels, not the rows.

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

    in_memory = False
    frame = None
    observations = EACH_ROW

    def predictor_sd(self) -> np.ndarray | None:
        """The predictors' standard deviations (n_features,), saved with the fit; None when not saved."""
        if self.column_sd is None:
            return None
        return np.array([np.nan if sd is None else sd for sd in self.column_sd], dtype=float)

    def objective(self, family, intercept: bool, n_classes: int, prior, transform) -> "SavedObjective":
        """The objective's layout (free coordinates and prior term), without rows to evaluate it on."""
        shape = (len(self.feature_names) + intercept, family.n_linear_predictors(n_classes))
        return SavedObjective(shape, prior, transform)

    def training_rows(self, what: str, labels_in_memory: bool = False):
        """Raise :class:`DataError`: ``what`` needs the training rows, which a saved fit does not keep."""
        raise rows_missing(what)

    def find_collinearity(self, intercept: bool):
        """Raise :class:`DataError`: the rank of the design needs the training rows."""
        raise rows_missing("checking the design's rank")

    def find_separation(self, intercept: bool, n_classes: int):
        """Raise :class:`DataError`: the linear program of separation needs the training rows."""
        raise rows_missing("the linear program that proves separation")

    def describe(self) -> str:
        """For a model's repr."""
        return "no training rows"

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


@dataclass(frozen=True, eq=False)
class SavedObjective:
    """What a loaded point fit keeps of its objective: the map from free coordinates to coefficients.

    Evaluating it needs the training rows and raises :class:`DataError`; the fit's Hessian at the optimum was saved.

    Attributes
    ----------
    shape : tuple of int
        ``(P, M)``, the coefficient matrix's.
    prior : GaussianTerm or StudentTTerm
    transform : ndarray of shape (P * M, n_free) or None
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
