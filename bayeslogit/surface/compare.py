"""One table that puts fits side by side: coefficients, predictive metrics, ELPD-LOO and cost.

Conventions
-----------
``n`` evaluation rows, ``K`` classes, ``S`` coefficient draws (1 for a point fit). Predictions are
``fit.log_proba``, the posterior predictive ``Pr(w = k | x) = mean_s Pr(w = k | x, B_s)`` averaged in
log space, so no probability is rounded to 0 or 1 before its logarithm is taken. For a binary model
``K = 2`` and column 1 is ``classes_[1]``.
"""

import numpy as np
import pandas as pd

from bayeslogit.checks import check_count
from bayeslogit.surface.fit_collection import collect_fits


def calibration_bins(proba: np.ndarray, codes: np.ndarray, n_bins: int = 10, weights=None) -> pd.DataFrame:
    """Reliability-diagram bins of predicted probabilities.

    Binary models (``K = 2``) are binned on ``Pr(classes_[1])`` against the observed frequency of
    ``classes_[1]``; multiclass models on the top-label confidence ``max_k Pr(k)`` against the accuracy of
    the top label. Bins are ``n_bins`` equal widths of [0, 1]; empty bins are left out.

    Parameters
    ----------
    proba : ndarray of shape (n, K)
    codes : ndarray of int of shape (n,)
    n_bins : int
    weights : ndarray of shape (n,), optional

    Returns
    -------
    DataFrame indexed by bin number with columns ``confidence`` (mean prediction), ``frequency``
    (observed frequency or accuracy) and ``weight`` (the bin's total weight, its count when unweighted).
    """
    weights = np.ones(len(codes)) if weights is None else weights
    if proba.shape[1] == 2:
        confidence, hit = proba[:, 1], codes == 1
    else:
        confidence, hit = proba.max(axis=1), np.argmax(proba, axis=1) == codes
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    frame = pd.DataFrame({"bin": bins, "w": weights, "wc": weights * confidence, "wh": weights * hit})
    sums = frame.groupby("bin").sum()
    sums = sums[sums["w"] > 0]
    return pd.DataFrame(
        {"confidence": sums["wc"] / sums["w"], "frequency": sums["wh"] / sums["w"], "weight": sums["w"]}
    )


def expected_calibration_error(proba: np.ndarray, codes: np.ndarray, n_bins: int = 10, weights=None) -> float:
    """``sum_b (weight_b / total) |frequency_b - confidence_b|`` over the bins of :func:`calibration_bins`."""
    bins = calibration_bins(proba, codes, n_bins, weights)
    return float((bins["weight"] * (bins["frequency"] - bins["confidence"]).abs()).sum() / bins["weight"].sum())


def predictive_metrics(fit, X: np.ndarray, codes: np.ndarray, weights: np.ndarray, n_bins: int = 10) -> dict:
    """Log loss, accuracy, Brier score and expected calibration error, weighted means over the rows.

    ``X`` (n, p), ``codes`` and ``weights`` are those of ``model.evaluation_data``. The Brier score is
    ``mean (Pr(classes_[1]) - y)^2`` for binary models and ``mean sum_k (Pr(k) - [y = k])^2`` for multiclass
    ones (as scikit-learn's ``brier_score_loss``).
    """
    logp = fit.log_proba_of_design(X)
    proba = np.exp(logp)
    rows = np.arange(len(codes))
    onehot = np.zeros_like(proba)
    onehot[rows, codes] = 1.0
    squared = (proba[:, 1] - onehot[:, 1]) ** 2 if proba.shape[1] == 2 else ((proba - onehot) ** 2).sum(axis=1)
    return {
        "log_loss": float(np.average(-logp[rows, codes], weights=weights)),
        "accuracy": float(np.average(np.argmax(logp, axis=1) == codes, weights=weights)),
        "brier": float(np.average(squared, weights=weights)),
        "ece": expected_calibration_error(proba, codes, n_bins, weights),
    }


class Comparison(pd.DataFrame):
    """The table of :func:`compare`: rows ``(section, quantity)``, one column per method.

    Sections:

    * ``coef``: the estimates (posterior means for posterior fits);
    * ``coef_se_sd``: their uncertainty, the standard error of a point fit or the posterior sd;
    * ``held-out`` or ``in-sample``: ``log_loss, accuracy, brier, ece``;
    * ``loo`` (posterior fits, in-sample): ``elpd_loo, elpd_loo_se, p_loo``, ``high_pareto_k`` (the rows whose
      Pareto k exceeds ArviZ's threshold, where the estimate is unreliable) and ``loo_rows``, the rows PSIS ran
      on: all of them, or a subsample of 2,000 past 10,000 rows (see :mod:`bayeslogit.fits.diagnostics.loo`);
    * ``diagnostics`` (posterior fits): the Laplace fit's Pareto ``khat`` (reliable below 0.7) with its
      standard error ``khat_se``, and ``shift_max``, the largest shift of a coefficient's mean or sd by the
      importance weights, in posterior sds (ok below 0.2, poor above 0.5); the MCMC
      fit's ``r_hat_max`` (below 1.01), ``ess_bulk_min`` and ``ess_tail_min`` (above 400) and
      ``divergences`` (0);
    * ``cost``: ``fit_time_s``, ``n_iter`` (point fits), ``chains`` and ``draws`` per chain (posterior fits).

    A method whose fit failed has NaN everywhere and its reason in :attr:`failures`. Printing shows the
    sections one under the other; a slice of the table is a Comparison too.
    """

    _FORMATS = {"coef": "{:.4g}", "coef_se_sd": "{:.3g}", "loo": "{:.1f}"}
    _QUANTITY_FORMATS = {"khat": "{:.2f}", "khat_se": "{:.2f}", "shift_max": "{:.2f}", "r_hat_max": "{:.3f}"}
    _COUNTS = ("n_iter", "chains", "draws", "ess_bulk_min", "ess_tail_min", "divergences", "high_pareto_k", "loo_rows")

    @property
    def _constructor(self):
        return Comparison

    @property
    def failures(self) -> dict:
        """``method -> reason`` for the fits that failed."""
        return self.attrs.get("failures", {})

    def _cell(self, section: str, quantity: str, value: float) -> str:
        if pd.isna(value):
            return "-"
        if quantity in self._COUNTS:
            return f"{value:.0f}"
        return self._QUANTITY_FORMATS.get(quantity, self._FORMATS.get(section, "{:.4f}")).format(value)

    def _format(self) -> str:
        width = max(len(str(quantity)) for quantity in self.index.get_level_values(1)) + 2
        lines = [" " * width + "".join(f"{method:>12}" for method in self.columns)]
        for section in self.index.get_level_values(0).unique():
            rows = self.attrs.get("n_rows") if section in ("held-out", "in-sample") else None
            lines.append(f"{section} ({rows} rows)" if rows else section)
            for quantity, row in self.loc[section].iterrows():
                cells = "".join(f"{self._cell(section, quantity, value):>12}" for value in row)
                lines.append(f"  {quantity:<{width - 2}}{cells}")
        lines += [f"{method}: not fitted ({reason})" for method, reason in self.failures.items()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        if self.index.nlevels != 2 or self.columns.nlevels != 1:
            return super().__repr__()  # a slice without the (section, quantity) rows
        return self._format()

    __str__ = __repr__


SECTIONS = ("coef", "coef_se_sd", "held-out", "in-sample", "loo", "diagnostics", "cost")


def compare(fits, X_test=None, y_test=None, n_bins: int = 10) -> Comparison:
    """Put fits of one model side by side.

    Parameters
    ----------
    fits : dict of str to fit, sequence of fits, or a single fit
        E.g. ``model.fit_all(prior)``; entries may be :class:`FailedFit` (shown with their reason, in
        columns after the fitted methods). A sequence is keyed by each fit's ``method``, which must then
        be distinct.
    X_test : array-like or DataFrame of shape (n_test, n_features), optional
        Held-out rows (for formula models, a data frame with the formula's columns).
    y_test : array-like of shape (n_test,), optional
        Their class labels, as in ``model.classes_``.
    n_bins : int
        Bins of the expected calibration error.

    Returns
    -------
    Comparison
        A DataFrame with one column per method; see :class:`Comparison` for the rows. Metrics are
        labelled ``held-out`` when test data are given, ``in-sample`` otherwise.

    Raises
    ------
    ValueError
        When no fit is usable, two fits of a sequence share a method, or the fits come from different models.

    Examples
    --------
    >>> fits = model.fit_all(bl.Normal(2.5))            # doctest: +SKIP
    >>> print(bl.compare(fits, X_test, y_test))         # doctest: +SKIP
    """
    n_bins = check_count("n_bins", n_bins, 1)
    fitted, failed = collect_fits(fits)
    model = next(iter(fitted.values())).model
    X, codes, weights, held_out = model.evaluation_data(X_test, y_test)
    labels = model.layout.flat_labels
    columns = {}
    for method, fit in fitted.items():
        sections = {
            "coef": dict(zip(labels, fit.params.ravel(order="F"))),
            "coef_se_sd": dict(zip(labels, fit.uncertainty)),
            "held-out" if held_out else "in-sample": predictive_metrics(fit, X, codes, weights, n_bins),
            **fit.comparison_rows(),
        }
        columns[method] = {(section, name): value for section, rows in sections.items() for name, value in rows.items()}
    frame = pd.DataFrame(columns, columns=[*fitted, *failed], dtype=float)
    order = sorted(range(len(frame)), key=lambda i: SECTIONS.index(frame.index[i][0]))  # stable within sections
    table = Comparison(frame.iloc[order])
    table.index.names = ["section", "quantity"]
    table.attrs["failures"] = {method: fit.reason for method, fit in failed.items()}
    table.attrs["n_rows"] = len(codes)
    return table
