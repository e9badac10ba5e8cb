"""What a fit's summary prints above its rows, made for each kind of fit.

A point fit's header holds :meth:`~bayeslogit.PointFit.statistics` (statsmodels' names; for MAP the entries that
assume a maximised likelihood are NaN, left out, and its note says why); a posterior fit's its draws, its ELPD-LOO
and its diagnosis. The header is computed on first use (printing, or ``statistics``) and then kept: a posterior
fit's ELPD-LOO (:attr:`~bayeslogit.PosteriorFit.loo_estimate`, PSIS over every row, or a subsample past 10,000;
computed once per fit) costs a pass over the rows per draw, which a summary that is only indexed never pays. A fit
loaded without its training rows prints the header without the statistics that need them, and a note saying so.
"""

from collections.abc import Callable

import numpy as np
import pandas as pd

from bayeslogit.exceptions import DataError
from bayeslogit.fits.display import cells
from bayeslogit.fits.results.summary_render import HeaderContent
from bayeslogit.fits.results.summary_table import SummaryTable


def point_summary(fit, table: pd.DataFrame) -> SummaryTable:
    """``table`` with the header of a point fit: :meth:`PointFit.statistics` (statsmodels' names; for MAP the
    entries that assume a maximised likelihood are NaN, left out, and its note says why)."""

    def make() -> HeaderContent:
        status = f"{'yes' if fit.converged else 'NO'} ({fit.n_iter} iterations)"
        statistics, notes = _or_missing(fit.statistics)
        return HeaderContent(
            (*_model_facts(fit), ("Converged", status), ("Fit time", f"{fit.fit_time:.3f} s")),
            statistics,
            _model_lines(fit, fit.describe_prior()),
            notes,
        )

    return SummaryTable.of(table, make)


def posterior_summary(fit, table: pd.DataFrame) -> SummaryTable:
    """``table`` with the header of a posterior fit: ``nobs``, ``chains`` and ``draws`` (per chain), the fit's
    PSIS-LOO as :func:`bayeslogit.surface.compare` shows it (:attr:`~bayeslogit.PosteriorFit.loo_estimate`:
    ``elpd_loo``, ``elpd_loo_se``, ``p_loo``, ``high_pareto_k`` of ``loo_rows``) and its diagnosis's rows (Laplace
    ``khat``, its standard error ``khat_se`` and ``shift_max``, the largest shift of a mean or sd by the importance
    weights, in posterior sds; MCMC ``r_hat_max``, ``ess_bulk_min``, ``ess_tail_min``, ``divergences``). ELPD-LOO is
    computed when the header is first shown; what ``compare`` would warn of (some Pareto k are high), the header says
    in a note beside the figure (a warning raised while a table prints would point at pandas, not at the user's
    line)."""

    def make() -> HeaderContent:
        draws = {"chains": fit.n_chains, "draws": fit.n_draws}
        loo, notes = _or_missing(lambda: _loo_statistics(fit))
        statistics = pd.Series(
            {**loo.iloc[:1], **draws, **loo.iloc[1:], **fit.diagnosis.rows}, dtype=float, name=fit.method
        )
        return HeaderContent(
            (*_model_facts(fit), ("Fit time", f"{fit.fit_time:.3f} s")),
            statistics,
            _model_lines(fit, repr(fit.prior)),
            notes,
        )

    return SummaryTable.of(table, make)


def _loo_statistics(fit) -> pd.Series:
    """``nobs`` and the fit's :attr:`~bayeslogit.PosteriorFit.loo_estimate`, with what it would warn of as a note."""
    rows, problem = fit.loo_estimate
    statistics = pd.Series({"nobs": _nobs(fit), **rows})
    if problem:
        statistics.attrs["note"] = problem
    return statistics


def _nobs(fit) -> float:
    """The number of observations, as :func:`bayeslogit.fits.statistics.likelihood.n_observations` counts it (not
    imported: its module loads scipy.stats)."""
    data = fit.model.data
    return float(data.observations.nobs(data.class_weights().sum()))


def _or_missing(compute: Callable[[], pd.Series]) -> tuple[pd.Series, tuple]:
    """``compute()`` and its ``attrs["note"]``, or, for a fit loaded without its training rows, no statistics and
    the reason."""
    try:
        statistics = compute()
    except DataError as error:
        return pd.Series(dtype=float), (f"Statistics of the training rows are absent: {error}",)
    note = statistics.attrs.get("note")
    return statistics, () if note is None else (note,)


def _model_facts(fit) -> tuple:
    model = fit.model
    response = () if model.response is None else (("Response", str(model.response)),)
    likelihood = "binomial" if model.data.observations.grouped else model.likelihood  # Bernoulli trials, by counts
    return (*response, ("Method", fit.title), ("Likelihood", likelihood))


SHOWN_SCALES = 8
"""Autoscaled prior scales the header lists by name; the rest are counted (``fit.prior_scales`` has them all)."""


def _model_lines(fit, prior: str) -> tuple:
    """Formula, classes (those without a coefficient column marked as the reference), ``prior`` and, where the
    prior autoscales, the scales it came to (as rstanarm's ``prior_summary`` shows its adjusted prior)."""
    model = fit.model
    columns = [str(label) for label in model.coef_classes]
    classes = ", ".join(str(label) if str(label) in columns else f"{label} (reference)" for label in model.classes_)
    formula = () if model.formula is None else (("Formula", model.formula),)
    return (*formula, ("Classes", classes), ("Prior", prior), *_scale_line(fit))


def _scale_line(fit) -> tuple:
    """``("Scales (scale / sd)", "Intercept flat, dist100 6.5, ...")`` for an autoscaled prior (each slope's scale
    divided by its predictor's sd), else nothing."""
    if not getattr(fit.prior, "autoscale", False):
        return ()
    scales = fit.prior_scales
    named = [
        f"{name} {'flat' if np.isinf(scale) else cells.figure(scale, '{:.3g}')}"
        for name, scale in scales.iloc[:SHOWN_SCALES].items()
    ]
    rest = len(scales) - SHOWN_SCALES
    more = f" and {rest} more (fit.prior_scales)" if rest > 0 else ""
    return (("Scales (scale / sd)", ", ".join(named) + more),)
