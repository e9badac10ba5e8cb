"""One table that puts fits side by side: coefficients, predictive metrics, ELPD-LOO and cost; and the fits of one
model as that table and the plots take them (:func:`collect_fits`).

Conventions
-----------
``n`` evaluation rows, ``K`` classes, ``S`` coefficient draws (1 for a point fit). Predictions are
``fit.log_proba``, the posterior predictive ``Pr(w = k | x) = mean_s Pr(w = k | x, B_s)`` averaged in
log space, so no probability is rounded to 0 or 1 before its logarithm is taken. For a binary model
``K = 2`` and column 1 is ``classes_[1]``.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from bayeslogit.checks import check_count
from bayeslogit.exceptions import OptionError
from bayeslogit.fits.display import cells, markup
from bayeslogit.fits.statistics.calibration import expected_calibration_error


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

    A method whose fit failed has NaN everywhere and its reason in :attr:`failures`, in the words of the failed
    fit's door (:attr:`~bayeslogit.fits.results.point.FailedFit.door`: the command line's in ``bayeslogit
    compare``). Printing shows the sections one under the other, a notebook the same cells as an HTML table
    (``-`` where a method has no figure); a slice of the table is a Comparison too.
    """

    @property
    def _constructor(self):
        return Comparison

    @property
    def failures(self) -> dict:
        """``method -> reason`` for the fits that failed (:attr:`FailedFit.reason`)."""
        return self.attrs.get("failures", {})

    def __repr__(self) -> str:
        if not self._sectioned:
            return super().__repr__()  # a slice without the (section, quantity) rows
        return render_comparison(self)

    __str__ = __repr__

    def _repr_html_(self) -> str | None:
        """IPython's rich display: the sections of ``repr``, their cells the same strings, in an HTML table."""
        if not self._sectioned:
            return super()._repr_html_()
        return comparison_html(self)

    @property
    def _sectioned(self) -> bool:
        """Whether the rows are ``(section, quantity)`` and the columns methods, as ``compare`` made them."""
        return self.index.nlevels == 2 and self.columns.nlevels == 1


FORMATS = {"coef": "{:.4g}", "coef_se_sd": "{:.3g}", "loo": "{:.1f}"}
"""Section -> the format of its numbers; ``{:.4f}`` for the others. In every section, counts are whole and R-hat
and k-hat have their own formats (see :mod:`bayeslogit.fits.display.cells`)."""


def _cell(section: str, quantity: str, value: float) -> str:
    return cells.figure(value, cells.spec_of(quantity, FORMATS.get(section, "{:.4f}")))


def comparison_rows(table: Comparison) -> list:
    """The rows of ``table`` as text and HTML show them: per section a
    :class:`~bayeslogit.fits.display.markup.Section` titled by its name (with the number of rows the metrics are
    of), then ``((quantity,), cells)`` for each of its quantities, one formatted cell per method."""
    rows = []
    for section in table.index.get_level_values(0).unique():
        n_rows = table.attrs.get("n_rows") if section in ("held-out", "in-sample") else None
        rows.append(markup.Section(f"{section} ({n_rows} rows)" if n_rows else section))
        for quantity, values in table.loc[section].iterrows():
            rows.append(((str(quantity),), [_cell(section, quantity, value) for value in values]))
    return rows


def _failure_lines(table: Comparison) -> list[str]:
    return [f"{method}: not fitted ({reason})" for method, reason in table.failures.items()]


def render_comparison(table: Comparison) -> str:
    """The sections of ``table`` one under the other, a column of 12 characters per method, then the failures."""
    width = max(len(str(quantity)) for quantity in table.index.get_level_values(1)) + 2
    lines = [" " * width + "".join(f"{method:>12}" for method in table.columns)]
    for row in comparison_rows(table):
        if isinstance(row, markup.Section):
            lines.append(row.title)
        else:
            (quantity,), shown = row
            lines.append(f"  {quantity:<{width - 2}}" + "".join(f"{cell:>12}" for cell in shown))
    return "\n".join(lines + _failure_lines(table))


def comparison_html(table: Comparison) -> str:
    """The rows of :func:`render_comparison` as an HTML table (the same cells), then the failures."""
    body = markup.table([str(method) for method in table.columns], comparison_rows(table))
    return markup.block(body, markup.paragraphs(_failure_lines(table)))


SECTIONS = ("coef", "coef_se_sd", "group_sd", "group_corr", "held-out", "in-sample", "loo", "diagnostics", "cost")


def compare(fits, X_test=None, y_test=None, n_bins: int = 10) -> Comparison:
    """Put fits of one model side by side.

    Parameters
    ----------
    fits : dict of str to fit, sequence of fits, or a single fit
        E.g. ``model.fit_all(prior)``; entries may be :class:`~bayeslogit.fits.results.point.FailedFit` (shown with
        their reason, in columns after the fitted methods). A sequence is keyed by each fit's ``method``, which must
        then be distinct.
    X_test : array-like or DataFrame of shape (n_test, n_features), optional
        Held-out rows (for formula models, a data frame with the formula's columns; for multilevel fits, see
        :func:`compare_multilevel`).
    y_test : array-like of shape (n_test,) or (n_test, 2), optional
        Their class labels, as in ``model.classes_``; for a binary model (a binomial one above all), also counts of
        ``classes_[1]`` and ``classes_[0]`` (successes and failures), which score each trial: the held-out log loss,
        accuracy, Brier score and calibration are then means over the trials (the log loss, the binomial
        log-likelihood without its coefficients, over the trials).
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
    if _multilevel(fits):
        if y_test is not None:
            raise OptionError(
                "multilevel fits read the held-out responses from the rows themselves: pass them as one data frame "
                "with the formula's columns and response, compare(fits, held_out), without y_test"
            )
        return compare_multilevel(fits, X_test)
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
    table.attrs["n_rows"] = model.data.observations.count(len(codes)) if y_test is None else len(X_test)
    return table


def collect_fits(fits) -> tuple[dict, dict]:
    """Split fits of one model into the usable ones and the failures.

    Parameters
    ----------
    fits : dict of str to fit, sequence of fits, or a single fit
        A sequence is keyed by each fit's ``method``, which must then be distinct.

    Returns
    -------
    fitted : dict
        name -> fit (``failed`` False), in the given order.
    failed : dict
        name -> FailedFit (``failed`` True).

    Raises
    ------
    OptionError
        When no fit is usable, two fits of a sequence share a method, or the fits come from
        different models (a ValueError, as every OptionError is).
    """
    if hasattr(fits, "failed"):  # one fit
        fits = [fits]
    if not isinstance(fits, Mapping):
        fits = list(fits)
        methods = [fit.method for fit in fits]
        if len(set(methods)) < len(methods):
            raise OptionError(
                f"two fits share a method ({methods}); pass a dict to name them, e.g. "
                "{'map scale=1': fit_a, 'map scale=0.1': fit_b}"
            )
        fits = dict(zip(methods, fits))
    fitted = {name: fit for name, fit in fits.items() if not fit.failed}
    failed = {name: fit for name, fit in fits.items() if fit.failed}
    if not fitted:
        reasons = "; ".join(f"{name}: {fit.reason}" for name, fit in failed.items()) or "none given"
        raise OptionError(f"no usable fit ({reasons}); pass fits such as model.fit_all(prior)")
    if len({id(fit.model) for fit in fitted.values()}) > 1:
        raise OptionError("these fits come from different models; put fits of one model together")
    return fitted, failed


def _multilevel(fits) -> bool:
    """Whether ``fits`` (a dict, a sequence or one fit) are fits of a multilevel model."""
    from bayeslogit.fits.results.multilevel import MultilevelFitBase

    values = list(fits.values()) if isinstance(fits, Mapping) else fits if isinstance(fits, list | tuple) else [fits]
    return any(isinstance(fit, MultilevelFitBase) for fit in values)


def _evaluation_rows(source, data) -> tuple:
    """The response, fixed design (n, p) and terms' ``(codes, values)`` that a fit of ``source`` is compared on:
    of the held-out ``data``, or of the rows as the fit read them (a loaded fit keeps them: see fit.save)."""
    if data is not None:
        return source.response.held_out(data, source.formula), *source.new_rows(data)
    return source.response, source.X, tuple((term.codes, term.values) for term in source.terms)


def _same_response(first, second) -> bool:
    """Whether two multilevel responses are of one kind and hold the same values, row for row."""
    if type(first) is not type(second):
        return False
    fields = ("successes", "trials") if hasattr(first, "successes") else ("codes", "classes")
    return all(np.array_equal(np.asarray(getattr(first, f)), np.asarray(getattr(second, f))) for f in fields)


def compare_multilevel(fits, data=None) -> Comparison:
    """Fits of one multilevel model side by side, a column per method, in :func:`compare`'s table.

    Sections: ``coef`` and ``coef_se_sd`` (the fixed effects), ``group_sd`` and ``group_corr`` (the group-level
    sds and correlations, by term), ``in-sample`` or ``held-out`` (``data``, a data frame with the formula's
    columns and response: rows of groups the fits have not seen at the group mean, ``new_groups="population"``):
    ``log_loss`` per trial and ``loglik`` (the binomial log-likelihood of the rows, coefficients included; for a
    categorical model per row, and the categorical log-likelihood; its coefficients are labelled ``"x[B]"``);
    ``diagnostics``: a point fit's log marginal likelihood ``marginal_loglik`` and the count of ``singular_terms``, the
    MCMC fit's ``r_hat_max``, ``ess_bulk_min``, ``ess_tail_min`` and ``divergences``; ``cost``: ``fit_time_s``.
    """
    from bayeslogit.fits.results.multilevel import MultilevelFitBase

    fitted = dict(fits) if isinstance(fits, Mapping) else {fit.method: fit for fit in fits}
    flat = [str(method) for method, fit in fitted.items() if not isinstance(fit, MultilevelFitBase)]
    if flat:
        raise OptionError(
            f"compare puts fits of multilevel models side by side, and {', '.join(flat)} is not one (a fit of a model "
            "without group terms): compare the two kinds separately, on the same held-out rows, or test whether the "
            "group terms matter with the multilevel ML fit's lr_test(flat_ml_fit)"
        )
    held_out = data is not None
    evaluation = {}  # each fit's (response, X, parts), by its source: fits of one model share them
    for fit in fitted.values():
        if id(fit.source) not in evaluation:
            evaluation[id(fit.source)] = _evaluation_rows(fit.source, data)
    responses = [response for response, _, _ in evaluation.values()]
    if any(not _same_response(responses[0], other) for other in responses[1:]):
        raise OptionError(
            "the fits are of different rows or responses: compare multilevel fits of the same data (models of "
            "other terms on the same rows are fine)"
        )
    columns = {}
    for method, fit in fitted.items():
        response, X, parts = evaluation[id(fit.source)]
        loglik, log_loss = response.log_likelihood(fit.proba_of_design(X, parts, "population"))
        table = fit.summary()
        uncertainty = table["se"] if "se" in table else table["sd"]
        rows = {
            "coef": dict(zip(fit.layout.flat_coef_names, table["estimate"][fit.layout.flat_coef_names])),
            "coef_se_sd": dict(uncertainty[fit.layout.flat_coef_names]),
            "group_sd": dict(fit.group_sd),
            "group_corr": dict(fit.group_corr),
            "held-out" if held_out else "in-sample": {
                "log_loss": log_loss,
                "loglik": loglik,
            },
            "diagnostics": fit.comparison_diagnostics(),
            "cost": {"fit_time_s": fit.seconds},
        }
        columns[method] = {(section, name): value for section, values in rows.items() for name, value in values.items()}
    result = pd.DataFrame(columns, dtype=float)
    order = sorted(range(len(result)), key=lambda i: SECTIONS.index(result.index[i][0]))
    table = Comparison(result.iloc[order])
    table.index.names = ["section", "quantity"]
    table.attrs["n_rows"] = len(X)
    return table
