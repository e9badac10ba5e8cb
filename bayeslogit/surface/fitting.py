"""How a model is fitted, one way down: the model has checked its arguments and built the objective; these run the
algorithm on it, check what came back and hand back a result, which never calls back into the model.

The strategy follows the rows (:attr:`~bayeslogit.rows.protocol.Rows.in_memory`): rows in memory start Newton's
method on row subsamples and prove separation by a linear program; chunked rows take full Newton steps from zero (a
subsample would cost a pass over the chunks each) and report the signs of separation, which they cannot prove.
"""

import time

import numpy as np

from bayeslogit.algorithms import pymc_backend
from bayeslogit.algorithms.laplace import coef_draws
from bayeslogit.algorithms.newton import fit_newton, newton
from bayeslogit.algorithms.newton_modes import highest_mode
from bayeslogit.exceptions import Advice, CollinearityError, OptionError, Remedy, SeparationError, warn_convergence
from bayeslogit.fits.diagnostics.convergence import laplace_diagnosis
from bayeslogit.fits.diagnostics.mcmc_convergence import MCMCDiagnosis, folded_ess
from bayeslogit.fits.results.draws_summary import arviz_summary
from bayeslogit.fits.results.point import PointFit

LP_BUDGET = 500_000  # n_samples * n_coef * M up to which a converged ML fit is checked exactly for separation
SATURATED_LOGIT = 30.0  # |eta| beyond which a fitted probability is within 1e-13 of 0 or 1


def minimizer(rows, tol: float, max_iter: int, name: str):
    """The Newton solver of an objective of ``rows``: ``solve(objective, start=None) -> OptimizeResult``.

    Rows in memory: :func:`~bayeslogit.algorithms.newton.fit_newton` (Newton's method on row subsamples first where
    the rows are many; from ``start``, Newton's method on all rows). Chunked rows: Newton's method on all rows from
    ``start`` (default zero), one pass over the chunks per step.
    """

    def solve(objective, start: np.ndarray | None = None):
        if start is None and rows.in_memory:
            return fit_newton(objective, tol=tol, max_iter=max_iter, name=name)
        start = np.zeros(objective.n_free) if start is None else start
        return newton(
            objective, start, value=objective.value, tol=tol, max_iter=max_iter, name=name, convex=objective.convex
        )

    return solve


def point_fit(model, fit_class: type, prior, objective, tol: float, max_iter: int):
    """A point fit of class ``fit_class`` of ``model`` under the checked ``prior`` (None: flat), whose ``objective``
    it minimises by Newton's method (from two starts where the log posterior is not concave: see
    :func:`~bayeslogit.algorithms.newton_modes.highest_mode`)."""
    start = time.perf_counter()
    name = f"Newton's method ({fit_class.method.upper()})"
    result = highest_mode(objective, minimizer(model.data, tol, max_iter, name), name)
    B = objective.coef(result.x)
    return fit_class(
        model,
        prior,
        objective,
        B,
        model.data.observations.log_constant + objective.penalty(B) - result.value,
        result.n_iter,
        result.converged,
        time.perf_counter() - start,
        result.iterations,
        result.hess,
    )


def checked_map_fit(model, prior, map_fit):
    """``map_fit`` if it is ``model.fit_map(prior)``, the fit a posterior fit may build on, else an OptionError."""
    if not isinstance(map_fit, PointFit) or map_fit.model is not model or map_fit.prior != prior:
        raise OptionError(
            f"`map_fit` must be model.fit_map(prior) of this model under {prior!r}; got a "
            f"{getattr(map_fit, 'method', type(map_fit).__name__)!r} fit with prior "
            f"{getattr(map_fit, 'prior', None)!r}"
        )
    return map_fit


def raise_if_collinear(rows, intercept: bool, problem: str, advice: Advice) -> None:
    """Raise :class:`CollinearityError` ("``problem``: what to drop, ``advice``") if the design lacks full rank."""
    found = rows.find_collinearity(intercept)
    if found is not None:
        raise CollinearityError(Advice(f"{problem}: {found.describe()}, ", *advice.parts), found.columns)


def raise_if_ml_not_unique(rows, intercept: bool) -> None:
    """Raise :class:`CollinearityError` before an ML fit of a design that lacks full rank: its estimate is not
    unique."""
    raise_if_collinear(
        rows,
        intercept,
        "maximum likelihood is not unique",
        Advice("or use ", Remedy("use_map_normal", 2.5), ", whose prior makes the estimate unique"),
    )


def raise_if_map_lost_in_rounding(rows, intercept: bool) -> None:
    """Raise :class:`CollinearityError` where the MAP's Hessian turned singular on a design that lacks full rank: at
    the scale of its columns the prior's curvature was lost in rounding."""
    raise_if_collinear(
        rows,
        intercept,
        "the MAP's Hessian is singular in float64",
        Advice(
            "or standardise them (at their scale the prior's curvature is lost in rounding), or use a prior with ",
            Remedy("autoscale_on"),
        ),
    )


def shows_separation(rows, intercept: bool, fit, tol: float) -> bool:
    """Whether a converged ML fit shows signs of separation: ``least_likely_other_class`` at most ``4 tol`` where
    Newton converged with the exact Hessian (chunked rows, or in memory up to :data:`LP_BUDGET` elements), else
    ``|eta| > 30`` (Newton's last steps on many rows in memory may be quasi-Newton) where the objective was last
    evaluated: at the estimate, or before a final quasi-Newton step too small to evaluate (its record has no
    gradient; it moves the estimate within the objective's rounding, far less than the margin of the threshold)."""
    if rows.in_memory and rows.X.shape[0] * fit.params.size > LP_BUDGET:
        final = fit.iterations[-1]
        evaluated = fit.iterations[-2].x if np.isnan(final.grad_norm) and len(fit.iterations) > 1 else final.x
        return fit.objective.largest_linear_predictor(fit.objective.coef(evaluated)) > SATURATED_LOGIT
    return fit.objective.least_likely_other_class(fit.iterations[-2].x) <= 4 * tol


def raise_if_separated(rows, intercept: bool, n_classes: int, fit=None) -> None:
    """Raise :class:`SeparationError` if the rows' linear program finds separation, or (chunked rows, which cannot
    run it) on the signs that the ML fit ``fit`` showed (None: Newton's Hessian turned singular)."""
    if not rows.in_memory:
        raise _unproven_separation(fit)
    found = rows.find_separation(intercept, n_classes)
    if found is not None:
        raise SeparationError(
            Advice(
                f"maximum likelihood does not exist: {found.describe()}, so the ML coefficients diverge to "
                "infinity. Use ",
                Remedy("use_map_normal", 2.5),
                " (or ",
                Remedy("use_posterior"),
                ") for finite estimates",
            ),
            found.columns,
            found.kind,
        )


def _unproven_separation(fit) -> SeparationError:
    """The error of an ML fit of chunked rows that shows signs of separation the linear program could not prove."""
    if fit is None:
        sign = "Newton's Hessian turned singular (or overflowed)"
    elif not fit.converged:
        sign = f"Newton's method did not converge in {fit.n_iter} iterations"
    else:
        sign = "the fitted probabilities saturate (some row's probability of another class is nearly 0)"
    return SeparationError(
        Advice(
            f"maximum likelihood shows signs of separation on these dask data: {sign}, as when some predictors "
            "separate the classes and the ML coefficients diverge to infinity. The linear program that proves "
            "separation and names the columns needs the rows in memory, so it was not run. Use ",
            Remedy("use_map_normal", 2.5),
            " for finite estimates, or ",
            Remedy("use_ml"),
            " on an in-memory subsample of the rows to find the separating columns",
        ),
        (),
        "unknown",
    )


def laplace_parts(map_fit, draws: int, random_seed) -> tuple:
    """Draws from ``map_fit.gaussian`` and the check of the approximation
    (:func:`~bayeslogit.fits.diagnostics.convergence.laplace_diagnosis`), warning when it is poor or borderline.

    Returns
    -------
    coef_draws : ndarray of shape (1, draws, P, M)
    diagnosis : LaplaceDiagnosis
    latent : ndarray of shape (draws, n_free)
        The standard-normal draws ``z`` behind ``coef_draws``.
    seconds : float
        Spent here, beyond the MAP fit.

    Raises
    ------
    SingularHessianError
        When the Hessian at the MAP is not positive definite.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(random_seed)
    latent = rng.standard_normal((draws, map_fit.objective.n_free))
    samples = coef_draws(map_fit.objective, map_fit.gaussian, latent)
    diagnosis = laplace_diagnosis(map_fit, latent, samples, rng)
    if not diagnosis.ok:
        warn_convergence(diagnosis.message)
    return samples[None], diagnosis, latent, time.perf_counter() - started


def mcmc_parts(prior, map_fit, nuts_sampler: str, *, draws: int, tune: int, chains: int, random_seed, **kwargs):
    """NUTS from the MAP in the Laplace-whitened coordinates, and the check of its convergence (warned on failure).

    Parameters
    ----------
    prior
        The prior of ``map_fit`` (its tails decide the diagnosis's advice).
    map_fit : PointFit
        ``model.fit_map(prior)``.
    nuts_sampler : {"nutpie", "pymc", "numpyro"}
    draws, tune, chains, random_seed, **kwargs
        See :meth:`bayeslogit.LogisticModel.fit_mcmc` (``kwargs`` holds ``progressbar`` and the sampler's own).

    Returns
    -------
    coef_draws : ndarray of shape (chains, draws, P, M)
    diagnosis : MCMCDiagnosis
    sample_stats : xarray.Dataset
    seconds : float
        Spent here, beyond the MAP fit.
    """
    started = time.perf_counter()
    posterior = pymc_backend.WhitenedPosterior(map_fit.objective, map_fit.gaussian)
    samples, sample_stats = pymc_backend.sample(
        posterior,
        map_fit.layout.coords,
        nuts_sampler,
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=random_seed,
        **kwargs,
    )
    table = arviz_summary(map_fit.layout, samples, "diagnostics")[["r_hat", "ess_bulk", "ess_tail"]]
    table["ess_folded"] = folded_ess(samples)
    diagnosis = MCMCDiagnosis(table, int(sample_stats["diverging"].sum()), chains, draws, prior.tail_advice)
    if not diagnosis.ok:
        warn_convergence(diagnosis.message)
    return samples, diagnosis, sample_stats, time.perf_counter() - started
