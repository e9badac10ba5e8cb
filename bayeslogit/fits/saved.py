"""The stand-in ``model`` of a loaded fit: its labels and how it reads new rows, without the training rows.

A saved fit does not keep the rows it was fitted on. :class:`SavedModel` answers what the fits ask of their
model from the labels (coefficient and class names, the family, the formula's model spec) and raises
:class:`~bayeslogit.DataError`, naming what is missing and how to attach a model, for what needs the rows.
"""

from dataclasses import dataclass

import numpy as np

from ..exceptions import DataError
from ..numerics import predictive
from ..numerics.design import Design
from ..numerics.priors import prior_term
from .layout import CoefLayout

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
        The predictors' standard deviations (None in files of format version 1).
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
        The data layer (:mod:`bayeslogit.data`), whose ``new_design`` and ``class_codes`` check new rows exactly
        as :class:`~bayeslogit.LogisticModel` does. :func:`bayeslogit.load` passes it, because that layer sits
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
        return (f"SavedModel({self.likelihood}, no training rows, classes={self.classes_.tolist()}, "
                f"coef={self.coef_names})")
