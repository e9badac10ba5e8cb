"""Newton's method, and the way fits run it: on nested row subsamples first where the rows are many.

:func:`newton` is a plain function of ``fun(x) -> (value, gradient, hessian)`` (and ``value(x) -> float`` for the
line search) that records one :class:`~.descent.Iteration` per step (the ``iterations`` of its result), as
:func:`~.gradient_descent.gradient_descent` does, so that the two can be compared iteration by iteration;
:data:`OPTIMIZERS` maps their names to them and :func:`minimize` runs one of them on an
:class:`~bayeslogit.numerics.objective.Objective` from zero. :func:`fit_newton` is what fits call: Newton's
method on small problems, and on large ones (:data:`SUBSAMPLE_MIN_CELLS`) Newton on nested row subsamples
followed by quasi-Newton steps on all rows (:func:`~.quasi_newton.quasi_newton`), whose passes need the gradient
only. Convergence is judged as :func:`~.descent.converged` says: on the gradient and the Newton decrement.
"""

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from bayeslogit.algorithms.descent import Iteration, OptimizeResult, converged, line_search, lost_in_rounding, max_abs
from bayeslogit.algorithms.gradient_descent import gradient_descent
from bayeslogit.algorithms.newton_directions import is_positive_definite, newton_direction
from bayeslogit.algorithms.quasi_newton import quasi_newton
from bayeslogit.exceptions import Advice, Remedy, SingularHessianError, warn_convergence
from bayeslogit.numerics.blas_threads import blas_threads

Derivatives = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]

SUBSAMPLE_MIN_CELLS = 500_000
"""Problems of more rows times free coefficients (and enough rows per coefficient) end by quasi-Newton steps;
smaller ones take :func:`newton`, whose decrement (with the exact Hessian) the separation check relies on."""
_SUBSAMPLES = ((0.01, 20), (0.1, 20))  # nested row subsamples: (share of the rows, least rows per free coef)
_LARGEST_SHARE = 0.1  # larger subsamples (fewer than 200 rows per free coefficient) are left to Newton
SUBSAMPLE_RUN = 16
"""Consecutive rows that a subsample takes together (a run of 6.4 KB for 50 predictors): read in one stream where
rows one by one each cost a wait on memory (the copy and first Newton step of 50,000 of 500,000 rows x 50 took
10.0 against 13.5 ms)."""
_SUBSAMPLE_STEPS = 50  # Newton steps on a subsample before it is deemed to fail
_QUASI_NEWTON_STEPS = 30  # quasi-Newton steps before the exact Hessian takes over


def not_converged(problem: str) -> Advice:
    """``problem`` (what did not converge, and where it stopped), then what to do about it."""
    return Advice(
        f"{problem}. ",
        Remedy("raise_max_iter"),
        ", standardise the predictors, or use a proper prior (",
        Remedy("use_map"),
        ")",
    )


def _newton(
    fun: Derivatives,
    value: Callable,
    x: np.ndarray,
    tol: float,
    gtol: float,
    max_iter: int,
    name: str,
    evaluate_final: bool = True,
    convex: bool = True,
    at_x: tuple | None = None,
) -> tuple[OptimizeResult, str | None]:
    """Newton's iterations from ``x``: the result, and why it stopped short (None when it converged).

    With ``evaluate_final`` False, the final step is taken but not evaluated: the result's value, gradient
    and Hessian (and the final record's objective and gradient) are those where convergence was declared.
    ``at_x``, where given, stands for ``fun(x)``: its value and gradient, and its Hessian or an estimate of it (a
    smaller subsample's, see :func:`fit_newton`), which the first step takes.
    """
    f, g, H = fun(x) if at_x is None else at_x
    iterations, problem = [], None
    for iteration in range(max_iter):
        direction = newton_direction(H, g, name, iteration, convex)
        decrement = -0.5 * float(g @ direction)
        grad_norm = max_abs(g)
        if converged(f, decrement, grad_norm, tol, gtol):
            iterations.append(Iteration(f, grad_norm, decrement, 1.0, x.copy()))
            x = x + direction
            if evaluate_final:
                f, g, H = fun(x)
            if not (convex or is_positive_definite(H)):
                problem = Advice(
                    f"{name} stopped where the gradient vanishes but the Hessian is not positive definite: "
                    "a saddle point of the posterior, not its mode. A heavy-tailed prior of small scale can "
                    "make such a posterior: widen the prior, or use ",
                    Remedy("use_normal_prior"),
                )
            break
        step, trial = _newton_step(fun, value, x, f, decrement, direction)
        iterations.append(Iteration(f, grad_norm, decrement, step, x.copy()))
        if step == 0.0:
            problem = (
                f"{name} stopped: the line search found no decrease of the objective from a point where "
                f"max |gradient| = {grad_norm:.3g}. The problem may be badly scaled (standardise the "
                "predictors) or the optimum may not exist (separation: use a proper prior)"
            )
            break
        x = x + step * direction
        f, g, H = trial
    else:
        problem = not_converged(
            f"{name} did not converge in {max_iter} iterations: max |gradient| = {grad_norm:.3g}, Newton "
            f"decrement = {decrement:.3g}"
        )
    iterations.append(Iteration(f, max_abs(g), np.nan, 0.0, x.copy()))
    return OptimizeResult(x, f, g, H, len(iterations) - 1, problem is None, tuple(iterations)), problem


def newton(
    fun: Derivatives,
    x0: np.ndarray,
    *,
    value: Callable | None = None,
    tol: float = 1e-10,
    gtol: float = 1e-7,
    max_iter: int = 100,
    name: str = "Newton's method",
    convex: bool = True,
) -> OptimizeResult:
    """Minimise a smooth objective by Newton steps with a backtracking (Armijo) line search.

    Each step solves ``H d = -g`` by Cholesky. For a convex objective a failed factorisation is how a singular
    Hessian is detected; for a non-convex one (``convex=False``) an indefinite Hessian is modified to a positive
    definite one (:mod:`bayeslogit.algorithms.newton_directions`), and convergence to a point where the Hessian is not
    positive definite (a saddle) warns. The line search is :func:`~.descent.line_search`.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (value, gradient (n,), hessian (n, n))``.
    x0 : ndarray of shape (n,)
    value : callable, optional
        ``value(x) -> float``, used by the line search; defaults to ``fun(x)[0]``.
    tol : float
        Converged when the Newton decrement ``lambda^2 / 2 <= tol`` ...
    gtol : float
        ... and ``max |gradient| <= gtol``, or when the decrement is below the objective's rounding
        error. The final Newton step is then still taken (it squares the error). A step whose decrement is
        below the rounding but above ``tol`` is taken whole, untested by the line search
        (:func:`~.descent.lost_in_rounding`).
    max_iter : int
        Largest number of Newton steps.
    name : str
        The method's name in messages.
    convex : bool
        Whether the objective is convex (an indefinite Hessian then raises).

    Returns
    -------
    OptimizeResult
        ``iterations`` holds one record per step plus one for the final point.

    Raises
    ------
    SingularHessianError
        When the Hessian's Cholesky factorisation fails.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` is reached or the line search cannot decrease the objective.
    """
    result, problem = _newton(
        fun, value or (lambda x: fun(x)[0]), np.array(x0, dtype=float), tol, gtol, max_iter, name, convex=convex
    )
    if problem:
        warn_convergence(problem)
    return result


def _newton_step(
    fun: Derivatives, value: Callable, x: np.ndarray, f: float, decrement: float, direction: np.ndarray
) -> tuple[float, tuple | None]:
    """Step size along the Newton direction and the derivatives there (None when no step is found).

    The full step usually passes the Armijo test, so it is evaluated with its derivatives, which the
    next iteration reuses; only when it fails does the line search backtrack on values alone. Where the decrement
    is below what the objective's value can show, the Armijo test would compare rounding errors: the full step is
    taken if its value and derivatives are finite.
    """
    if lost_in_rounding(f, decrement):
        trial = fun(x + direction)
        if all(np.all(np.isfinite(part)) for part in trial):
            return 1.0, trial
    step, trial = line_search(fun, x, f, -2 * decrement, direction, trials=1)
    if step == 0.0:
        step, _ = line_search(lambda x: (value(x),), x, f, -2 * decrement, direction, t=0.5)
        trial = fun(x + step * direction) if step > 0.0 else None
    return step, trial


def fit_newton(
    objective,
    *,
    tol: float = 1e-10,
    gtol: float = 1e-7,
    max_iter: int = 100,
    name: str = "Newton's method",
    random_seed: int = 0,
) -> OptimizeResult:
    """Minimise an objective from zero to Newton's convergence criteria, as cheaply as its size allows.

    Small problems take :func:`newton`. With more than :data:`SUBSAMPLE_MIN_CELLS` rows times free coefficients and
    200 rows per free coefficient, Newton runs on nested random subsamples of 1 % and 10 % of the rows, in runs of
    :data:`SUBSAMPLE_RUN` (at least 20 rows per free coefficient; :meth:`Objective.subset` scales them to the full
    sample), each after the first taking its first step with the last Hessian of the one before (its first pass
    computes the value and gradient only: on 50,000 of 500,000 rows x 50, 4.5 ms against 9.3), until the decrement
    is below ``n_free`` on the last (its own sampling error, in the full objective, is several times that) and below
    ``n_free`` times the ratio of the sizes on a smaller one (whose optimum lies about that much further from the
    next one's), and one more step, not evaluated; then :func:`~.quasi_newton.quasi_newton` takes steps on all rows
    with the last subsample's own Hessian (computed where its steps stopped, if they stopped at once), corrected by
    BFGS updates, until ``tol`` and ``gtol`` hold with that estimate. Each full-data step costs one pass for the
    value and gradient, a fraction of Newton's. Should a subsample's fit fail (a separated or degenerate subsample),
    or the quasi-Newton steps stall, :func:`newton` continues on all rows, so the outcome (estimate, warnings,
    errors) is Newton's.

    Parameters
    ----------
    objective : Objective
    tol, gtol, max_iter, name
        As for :func:`newton`; ``max_iter`` counts the steps on all rows.
    random_seed : int
        Seed of the subsamples: the same data give the same steps.

    Returns
    -------
    OptimizeResult
        After quasi-Newton steps, ``iterations`` records the steps on all rows only (the first at the last
        subsample's estimate; ``decrement`` with the Hessian estimate) and ``hess`` is None.
    """
    n, n_free = objective.design.n_samples, objective.n_free
    shares = sorted({max(share, rows * n_free / n) for share, rows in _SUBSAMPLES}, reverse=True)

    def on_all_rows(start: np.ndarray) -> OptimizeResult:
        return newton(
            objective,
            start,
            value=objective.value,
            tol=tol,
            gtol=gtol,
            max_iter=max_iter,
            name=name,
            convex=objective.convex,
        )

    if n * n_free <= SUBSAMPLE_MIN_CELLS or shares[0] > _LARGEST_SHARE:
        return on_all_rows(np.zeros(n_free))
    with blas_threads(1):  # the passes' products on one BLAS thread, set once for all of them
        return _subsampled(objective, shares, on_all_rows, tol, gtol, max_iter, name, random_seed)


def _subsampled(
    objective, shares: list, on_all_rows: Callable, tol: float, gtol: float, max_iter: int, name: str, seed: int
) -> OptimizeResult:
    """:func:`fit_newton`'s path on many rows: Newton on the row subsamples of ``shares`` (largest first), then
    quasi-Newton steps on all rows (``on_all_rows(start)`` is Newton's method there, from ``start``)."""
    n_free = objective.n_free
    x = np.zeros(n_free)
    rng = np.random.default_rng(seed)
    runs = stratified_rows(objective.design.n_samples, shares[0], rng, SUBSAMPLE_RUN).reshape(-1, SUBSAMPLE_RUN)
    largest = runs.ravel()
    nested = [runs[stratified_rows(len(runs), share / shares[0], rng)].ravel() for share in shares[1:]]
    stages = [*nested[::-1], largest]  # the subsamples' rows, the smallest first; each nested in the next
    ascending = shares[::-1]
    gains = [*(larger / smaller for smaller, larger in zip(ascending, ascending[1:])), 1.0]
    hessian = None
    for rows, gain in zip(stages, gains, strict=True):
        try:
            subset, at_x = objective.subset_at(rows, x, hessian)  # the rows copied by the pass at x
            fitted, problem = _newton(
                subset,
                subset.value,
                x,
                n_free * gain,
                np.inf,
                _SUBSAMPLE_STEPS,
                name,
                evaluate_final=False,
                convex=objective.convex,
                at_x=at_x,
            )
            if not problem and fitted.hess is hessian:  # no step evaluated: the Hessian is still the smaller one's
                fitted = replace(fitted, hess=subset(fitted.x)[2])
        except (SingularHessianError, FloatingPointError) as error:
            problem = str(error)
        if problem:  # a separated or degenerate subsample: Newton on all rows decides
            return on_all_rows(np.zeros(n_free))
        x, hessian = fitted.x, fitted.hess
    result = quasi_newton(
        objective.value_and_gradient, x, hessian, tol=tol, gtol=gtol, max_iter=min(max_iter, _QUASI_NEWTON_STEPS)
    )
    if result.converged or result.n_iter == max_iter:
        if not result.converged:
            warn_convergence(
                not_converged(
                    f"{name} did not converge in {max_iter} iterations: max |gradient| = "
                    f"{result.iterations[-1].grad_norm:.3g}"
                )
            )
        return result
    exact = newton(
        objective,
        result.x,
        value=objective.value,
        tol=tol,
        gtol=gtol,
        max_iter=max_iter - result.n_iter,
        name=name,
        convex=objective.convex,
    )
    iterations = result.iterations[:-1] + exact.iterations
    return OptimizeResult(
        exact.x, exact.value, exact.grad, exact.hess, len(iterations) - 1, exact.converged, iterations
    )


def stratified_rows(n: int, share: float, rng: np.random.Generator, run: int = 1) -> np.ndarray:
    """Indices (sorted, shape (m * run,)) of a random subsample of about ``share`` of ``n >= run`` rows in runs of
    ``run`` consecutive rows: the rows cut into ``m = round(share * n / run)`` strata of equal length (at least 1 and
    at most ``n // run``), one run drawn from each, so that rows in any order (sorted by a predictor, or in periods, as
    panels are) give a subsample spread over all of them, drawn without a pass over the rows."""
    strata = min(n // run, max(1, round(share * n / run)))
    edges = np.arange(strata + 1) * n // strata  # strictly increasing integers: strata of at least `run` rows
    starts = edges[:-1] + (rng.random(strata) * (np.diff(edges) - run + 1)).astype(np.intp)
    return (starts[:, None] + np.arange(run)).ravel()


OPTIMIZERS = {
    "newton": (
        "Newton's method",
        lambda objective, **options: newton(
            objective, np.zeros(objective.n_free), value=objective.value, convex=objective.convex, **options
        ),
    ),
    "gradient_descent": (
        "Steepest descent",
        lambda objective, **options: gradient_descent(
            objective.value_and_gradient, np.zeros(objective.n_free), value=objective.value, **options
        ),
    ),
}
"""Optimiser name -> (display name, ``run(objective, **options) -> OptimizeResult`` from zero coefficients)."""


def minimize(objective, method: str = "newton", *, name: str | None = None, **options) -> OptimizeResult:
    """Minimise an objective from zero coefficients with the optimiser ``method`` of :data:`OPTIMIZERS`.

    Parameters
    ----------
    objective : Objective
        Called for value, gradient and Hessian; ``objective.value`` serves the line search.
    method : {"newton", "gradient_descent"}
    name : str, optional
        The method's name in messages; default its display name.
    **options
        ``tol`` (Newton), ``gtol``, ``max_iter``.
    """
    display, run = OPTIMIZERS[method]
    return run(objective, name=name or display, **options)
