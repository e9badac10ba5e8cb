"""What every fit shares: its coefficients, labels and predictions.

A fit holds coefficient draws of shape (n_chains, n_draws, P, M): a point fit (ML, MAP) is one chain of
one draw, a posterior fit its chains of draws (the Laplace fit one chain of independent draws). Every
prediction averages over them through :mod:`bayeslogit.numerics.predictive`, so the same formula gives a
point fit's probabilities and a posterior predictive.
"""

from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from bayeslogit.checks import warn_renamed
from bayeslogit.fits.coef_labels import listing
from bayeslogit.fits.results.prediction import predict_interval
from bayeslogit.fits.storage import files
from bayeslogit.numerics import predictive
from bayeslogit.numerics.design import Design
from bayeslogit.rows import sources


class FitBase:
    """Predictions shared by point and posterior fits.

    Subclasses provide ``model``, ``params`` (P, M) (the point estimate or posterior mean), ``coef_draws``
    (n_chains, n_draws, P, M), ``_cov`` (the covariance of ``vec(params)``, (P*M, P*M)) and
    ``_boundary_type``, the :class:`~bayeslogit.fits.statistics.boundary.Boundary` class of their boundaries.

    Every fit class declares what it is, so that tables, plots and the command line treat a fit by what it is
    rather than by testing its type:

    method : str
        The user's name of the way it was made: ``"ml"``, ``"map"``, ``"laplace"``, ``"mcmc"``.
    title : str
        Its name in a summary's header, e.g. ``"ML (Newton)"``.
    failed : bool
        False: a fit, not a :class:`~bayeslogit.fits.results.point.FailedFit`.
    penalised : bool
        Whether a prior enters it (every fit but ML).
    draws_are_posterior : bool
        Whether its ``coef_draws`` sample a posterior, whose spread plots draw as bands, single draws and shares of
        draws; a point fit's one draw is its estimate, drawn as a line or a point.
    markov_chains : bool
        Whether its draws are Markov chains (MCMC), which trace and rank plots diagnose.
    estimate_name : str
        What ``params`` is: ``"estimate"`` or ``"posterior mean"``.
    interval_kinds : tuple of str
        The ``ci_kind`` its summary and odds ratios accept, the default first.
    prediction : type
        How its predictions' intervals are made (:mod:`bayeslogit.fits.results.prediction`).
    """

    method: ClassVar[str]
    title: ClassVar[str]
    failed: ClassVar[bool] = False
    penalised: ClassVar[bool]
    draws_are_posterior: ClassVar[bool]
    markov_chains: ClassVar[bool]
    estimate_name: ClassVar[str]
    interval_kinds: ClassVar[tuple]
    prediction: ClassVar[type]

    @property
    def layout(self):
        """The model's :class:`~bayeslogit.fits.coef_labels.CoefLayout`."""
        return self.model.layout

    @property
    def coef(self) -> pd.Series | pd.DataFrame:
        """Estimates (posterior means): a Series by ``coef_names``, or a DataFrame [coef x class] for multiclass."""
        return self.layout.labelled(self.params)

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of ``vec(params)``, (P*M, P*M), labelled by ``layout.flat_labels``."""
        labels = self.layout.flat_labels
        return pd.DataFrame(self._cov, index=labels, columns=labels)

    @property
    def uncertainty(self) -> np.ndarray:
        """``sqrt(diag(cov))`` of ``vec(params)``, shape (P*M,): standard errors of a point fit, posterior sds
        of a posterior fit."""
        return np.sqrt(np.diag(self._cov))

    @property
    def prior_scales(self) -> pd.Series:
        """The prior scale of each coefficient row as the fit used it: divided by the predictor's standard deviation
        where the prior autoscales, ``inf`` where the prior is flat (every row of an ML fit). Indexed by
        ``model.coef_names``."""
        scale = self.objective.prior.scale
        return pd.Series(scale, index=pd.Index(self.layout.coef_names, name="coef"), name="prior_scale")

    def _coef_text(self) -> str:
        """``coef: name=value, ...``, a few coefficients for a one-line repr."""
        return "coef: " + listing(self.layout.flat_labels, self.params.ravel(order="F"))

    def _repr_html_(self) -> str:
        """IPython's rich display: the fit's :meth:`summary` (its header of statistics above the table), as HTML."""
        return self.summary()._repr_html_()

    def pooled_draws(self) -> np.ndarray:
        """All coefficient draws, chains concatenated: shape (n_chains * n_draws, P, M)."""
        return self.coef_draws.reshape(-1, *self.coef_draws.shape[2:])

    def linear_predictor(self, X=None) -> np.ndarray:
        """The linear predictor at the fit's coefficients ``params`` (for posterior fits, the posterior mean).

        Not the estimator's ``decision_function``, the log-odds of the predicted probabilities: for a posterior fit
        the two differ, since the probabilities average over the draws.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), optional
            New data (a DataFrame for formula models); default: the training data.

        Returns
        -------
        ndarray of shape (n_samples,) for binary models (the logit of ``classes_[1]``), else
        (n_samples, K) class logits (the reference class's logit is 0).
        """
        design = Design(self.model.design_matrix(X), self.model.intercept)
        return self.layout.family.output_linear_predictor(design.linear_predictor(self.params))

    def decision_function(self, X=None) -> np.ndarray:
        """Deprecated: :meth:`linear_predictor` (the estimator's ``decision_function`` means another thing)."""
        warn_renamed("fit.decision_function", "fit.linear_predictor", "the estimator's means the predictive log-odds")
        return self.linear_predictor(X)

    def log_proba(self, X=None) -> np.ndarray:
        """Log of the predicted class probabilities, averaged over the draws in log space.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), optional
            New data (a DataFrame for formula models); default: the training data.

        Returns
        -------
        ndarray of shape (n_samples, K)
            One column per class of ``model.classes_``, binary models included.
        """
        return self.log_proba_of_design(self.model.design_matrix(X))

    def log_proba_of_design(self, X) -> np.ndarray:
        """:meth:`log_proba` of a design already validated by ``model.design_matrix`` (n_samples, n_features): an
        ndarray, or a dask array, taken chunk by chunk."""
        draws = self.pooled_draws()
        return sources.kind_of(X).by_row_chunks(
            lambda rows: predictive.average_log_proba(self.layout.family, Design(rows, self.model.intercept), draws), X
        )

    def predictive_moments(self, X: np.ndarray, max_draws: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Mean and sd over the draws of the class probabilities at the rows of a validated design ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        max_draws : int, optional
            Use at most this many draws, evenly thinned.

        Returns
        -------
        mean, sd : ndarray of shape (n_samples, K)
            The sd is zero for a point fit.
        """
        draws = self.pooled_draws()
        if max_draws is not None and len(draws) > max_draws:
            draws = draws[np.linspace(0, len(draws) - 1, max_draws).astype(int)]
        return predictive.proba_moments(self.layout.family, Design(X, self.model.intercept), draws)

    def predictive_draws(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities of each draw at the rows of a validated design ``X`` (n_samples, n_features),
        shape (n_chains * n_draws, n_samples, K): what intervals of ``p`` over the posterior are made of."""
        return predictive.proba_per_draw(self.layout.family, Design(X, self.model.intercept), self.pooled_draws())

    def predict_proba(self, X=None) -> np.ndarray:
        """Predicted class probabilities, averaged over the posterior draws for posterior fits.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), optional
            New data (a DataFrame for formula models); default: the training data.

        Returns
        -------
        ndarray of shape (n_samples, K)
            One column per class of ``model.classes_``, binary models included, as scikit-learn's
            ``predict_proba``: a binary model's ``Pr(w = classes_[1])`` is ``predict_proba(X)[:, 1]``.
        """
        return np.exp(self.log_proba(X))

    def predict(self, X=None) -> np.ndarray:
        """The most probable class label of each row, shape (n_samples,)."""
        return self.model.classes_[np.argmax(self.log_proba(X), axis=1)]

    def save(self, path) -> Path:
        """Write the fit to ``path``: a NetCDF-4 file (``.nc``) or a zarr directory (``.zarr``); read it back with
        :func:`bayeslogit.load`.

        The write is atomic (an existing file at ``path`` is replaced only once the new one is complete). The
        training rows are not saved; see :mod:`bayeslogit.fits.storage.files` for what is, and what a loaded fit can do.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        DataError
            When a formula term or a transform's state cannot be saved as plain data (a method call such as
            ``x.clip(0, 2)``, category levels that are not plain scalars); the message names it.
        ImportError
            When the packages of the format are not installed (the ``io`` extra: ``pip install "bayeslogit[io]"``);
            nothing is written.
        """
        return files.save(self, path)

    def boundary(self, level: float = 0.5):
        """Where the predicted probability equals ``level``: threshold, line or hyperplane, per class pair.

        Parameters
        ----------
        level : float
            The probability, in (0, 1), at which the boundary is drawn: ``Pr(classes_[1]) = level`` for a
            binary model, ``Pr(k | j or k) = level`` for a pair of classes ``j < k`` of a multiclass model.

        Returns
        -------
        Boundary
            Point values with delta-method standard errors, or per-draw values with an ArviZ summary; see
            :class:`bayeslogit.fits.statistics.boundary.Boundary`.
        """
        return self._boundary_type.of(self, level)

    def predict_interval(self, X=None, ci_prob: float | None = None, ci_kind: str | None = None) -> pd.DataFrame:
        """Predicted probabilities with intervals, per row and class.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), optional
            New data (a DataFrame for formula models); default: the training data.
        ci_prob : float, optional
            Probability of the interval; default ``arviz_base.rcParams["stats.ci_prob"]``.
        ci_kind : {"eti", "hdi"} for posterior fits, {"wald"} for point fits, optional
            Posterior fits: the interval of ``p`` over the draws (default ``rcParams["stats.ci_kind"]``). Point
            fits: ``expit(logit p -+ z se)``, the Wald interval of the log-odds of the class against all the
            others by the delta method with :attr:`cov` (for a binary model, of ``x^T b``).

        Returns
        -------
        DataFrame indexed by the rows of ``X`` (a DataFrame's index, else a RangeIndex) with columns ``mean``
        (posterior fits) or ``estimate`` (point fits) and the bounds (``eti89_lb, eti89_ub``): for binary models
        of ``Pr(w = classes_[1])``, for multiclass of every class, under a column MultiIndex (class, stat).
        ``attrs["interval"]`` says what the interval is.
        """
        return predict_interval(self, X, ci_prob, ci_kind)
