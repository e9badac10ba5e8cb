"""What a fit holds of the model it was made from, declared once (:class:`FittedModel`) and implemented once
(:class:`ModelView`).

A fit needs its model's labels (family, coefficient and class names, formula), a way to read new rows as the model
read its own, and the objective under a prior (a loaded point fit rebuilds its free coordinates from it). It never
needs to fit: fitting flows one way, from :class:`~bayeslogit.LogisticModel` (a ModelView that also fits) down to
the algorithms and back as a result. A loaded fit's model is a ModelView of
:class:`~bayeslogit.rows.saved.SavedRows`: the same code reads its new rows, and what needs the training rows raises
:class:`~bayeslogit.exceptions.DataError`.
"""

from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from bayeslogit.exceptions import DataError, OptionError
from bayeslogit.fits.coef_labels import CoefLayout
from bayeslogit.numerics import predictive
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.prior_specs import prior_term
from bayeslogit.rows import counts, sources
from bayeslogit.rows.in_memory import class_codes
from bayeslogit.rows.protocol import Rows
from bayeslogit.rows.validation import MESSAGES


@runtime_checkable
class FittedModel(Protocol):
    """The interface of a fit's ``model``: labels, the design of new rows, and the objective under a prior.

    Attributes
    ----------
    family : Bernoulli or Categorical
        The implementation of the likelihood that ``likelihood`` names.
    layout : CoefLayout
        The labels of the coefficients, classes and class pairs.
    intercept : bool
    parameterization : {"reference", "symmetric"}
    formula, response : str or None
    data : Rows
        The training rows (in memory or chunked), or a loaded fit's labels without them.
    likelihood : str
        The name of ``family``.
    classes_, n_classes, feature_names, coef_names, coef_classes
        Labels, as :class:`ModelView` gives them.
    """

    family: object
    layout: CoefLayout
    intercept: bool
    parameterization: str
    formula: str | None
    response: str | None
    data: Rows
    likelihood: str
    classes_: np.ndarray
    n_classes: int
    feature_names: list
    coef_names: list
    coef_classes: list

    def design_matrix(self, X=None):
        """Validated predictors (n_samples, n_features) of ``X``; None gives the training rows."""

    def evaluation_data(self, X=None, y=None) -> tuple:
        """``(X, codes, weights, held_out)`` of the rows to evaluate on: new rows, or the training rows."""

    def log_probabilities(self, B: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Class log-probabilities (n, K) at coefficients ``B`` (P, M) for a validated design ``X`` (n, p)."""

    def objective(self, prior=None):
        """The negative log posterior under ``prior`` (None: the negative log-likelihood) of the training rows."""


class ModelView:
    """A model's labels and rows, and what follows from them: the one implementation of :class:`FittedModel`.

    Parameters
    ----------
    family : Bernoulli or Categorical
    intercept : bool
    parameterization : {"reference", "symmetric"}
    data : Rows
        In memory, chunked, or saved (labels only).
    formula, response : str or None
        For models built from a formula.
    """

    def __init__(self, family, intercept: bool, parameterization: str, data: Rows, formula=None, response=None):
        self.family = family
        self.intercept = intercept
        self.parameterization = parameterization
        self.data = data
        self.layout = CoefLayout(family, data.classes, data.feature_names, intercept)
        self.formula = formula
        self.response = response

    # ---- labels ------------------------------------------------------------------------------------
    @property
    def likelihood(self) -> str:
        """``"bernoulli"`` or ``"categorical"``: the name of :attr:`family`."""
        return self.family.name

    @property
    def classes_(self) -> np.ndarray:
        """Class labels, shape (n_classes,)."""
        return self.data.classes

    @property
    def n_classes(self) -> int:
        return len(self.data.classes)

    @property
    def feature_names(self) -> list[str]:
        return list(self.data.feature_names)

    @property
    def coef_names(self) -> list[str]:
        """Names of the coefficient rows: ``"Intercept"`` first when present, then the features."""
        return self.layout.coef_names

    @property
    def coef_classes(self) -> list:
        """Labels of the coefficient columns: the event class, the non-reference classes, or all (symmetric)."""
        return self.layout.columns

    # ---- rows ----------------------------------------------------------------------------------------
    def objective(self, prior=None):
        """The negative log posterior (``prior=None``: log-likelihood) of the training rows, as their
        :meth:`~bayeslogit.rows.protocol.Rows.objective` walks them; an autoscaled prior's scales are divided by the
        predictors' sds. ``prior`` is taken as checked (each fit method checks it once)."""
        term = prior_term(prior, len(self.layout.coef_names), self.intercept, self.data.predictor_sd)
        return self.data.objective(
            self.family, self.intercept, self.n_classes, term, self.family.free_transform(term.flat, self.n_classes)
        )

    def design_matrix(self, X=None):
        """Validated predictors (n_samples, n_features) for prediction; None gives the training rows. Dask rows (a
        dask X, or the training rows of dask data) give a dask array, validated chunk by chunk when computed.

        Raises
        ------
        DataError
            For ``X=None`` when the model has no training rows (a loaded fit).
        """
        if X is None:
            return self.data.training_rows("predicting without X (on the training rows)")[0]
        rhs = self.formula.split("~", 1)[1].strip() if self.formula else None
        return sources.kind_of(X).new_design(self.data, rhs, X)

    def evaluation_data(self, X=None, y=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Validated rows to evaluate on: the training rows when both ``X`` and ``y`` are None.

        For a binary model, ``y`` may be counts of two columns, of ``classes_[1]`` and ``classes_[0]`` (a binomial
        model's successes and failures): each row of ``X`` is then evaluated as many times as it has trials, a
        success row and a failure row weighted by their counts, so that metrics are per trial.

        Returns
        -------
        X : ndarray or dask array of shape (n, p)
            In the model's feature space (a dask array for the training rows of a model of dask data).
        codes : ndarray of int of shape (n,)
        weights : ndarray of shape (n,)
            The model's sample weights in-sample, ones for new data (counts, for counts).
        held_out : bool

        Raises
        ------
        DataError
            Without ``X`` and ``y`` when the model has no training rows (a loaded fit); for labels the model was not
            fitted on, or as many labels as rows.
        """
        if X is None and y is None:
            what = "evaluating without X_test and y_test (on the training rows)"
            return *self.data.training_rows(what, labels_in_memory=True), False
        if X is None or y is None:
            raise OptionError(
                "give both X and y to evaluate on new data (X as the model's features, or the raw data frame of a "
                "formula model; y as class labels), or neither for the training data"
            )
        X = self.design_matrix(X)
        if counts.is_counts(y) and self.n_classes == 2:
            rows, codes, weights = counts.held_out(y if isinstance(y, pd.DataFrame) else np.asarray(y), X.shape[0])
            return X[rows], codes, weights, True
        codes = class_codes(self.classes_, *sources.in_memory_arrays(y))
        if len(codes) != X.shape[0]:
            raise DataError(MESSAGES["y_length"].format(n_X=X.shape[0], n_y=len(codes)))
        return X, codes, np.ones(len(codes)), True

    def log_probabilities(self, B: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Class log-probabilities (n, K) at coefficients ``B`` (P, M) for a validated design ``X`` (n, p)."""
        return predictive.average_log_proba(self.family, Design(X, self.intercept), B[None])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.likelihood}, {self.data.describe()}, classes={self.classes_.tolist()}, "
            f"coef={self.coef_names})"
        )
