"""bayeslogit: logistic classification by maximum likelihood, MAP and the full Bayesian posterior.

Conventions
-----------
One name per thing, throughout the package:

* ``coef``: the coefficients, the intercept first. A coefficient matrix has shape (P, M), P coefficients per
  linear predictor and M linear predictors (1 for a Bernoulli model; K - 1 classes against a reference, or K,
  for a categorical one); ``vec(B)`` flattens it class-major (``order="F"``), labelled ``name[class]``.
* ``draws`` is a count, of draws PER CHAIN, wherever it is an argument (``fit_mcmc(draws=...)``, ``--draws``,
  the estimator's ``draws``) as in ArviZ's ``draw`` dim, and ``fit.n_draws`` on fits; ``chains`` is the number of
  chains, so a posterior fit holds ``n_chains * n_draws`` draws in all. The draws themselves are
  ``fit.coef_draws``, the array (n_chains, n_draws, P, M) (a point fit is one chain of one draw);
  ``fit.posterior`` the same as a labelled ``xarray.DataArray`` (the ``posterior`` group of ``fit.to_datatree()``,
  as ArviZ names it); ``fit.pooled_draws()`` the chains concatenated, (n_chains * n_draws, P, M).
* ``predict_proba(X)`` is scikit-learn's, on fits and on the estimator alike: an array of shape (n_samples, K),
  one column per class in ``classes_`` order, binary models included; a binary model's event probability
  ``Pr(w = classes_[1])`` is ``predict_proba(X)[:, 1]``.
* ``fit.linear_predictor(X)``: the linear predictor at the fit's coefficients (a posterior fit's posterior mean),
  (n_samples,) for a binary model, (n_samples, K) class logits for a multiclass one. ``decision_function(X)`` is
  the estimator's only, with scikit-learn's meaning: the log-odds of the predicted probabilities, which
  ``predict`` follows (for a posterior fit they average over the draws, so the two differ).
* ``llf``: the log-likelihood at a point fit's estimate (without the prior term), ``fit.llf`` and
  ``fit.statistics()["llf"]`` alike, as statsmodels names it.
* ``scale``: a prior's scale (a Normal's standard deviation), ``scale`` and ``intercept_scale`` in every prior,
  ``--prior-scale`` and ``--intercept-scale`` on the command line, ``prior_scale`` and ``intercept_scale`` in the
  estimator; ``fit.prior_scales`` the scales a fit used.
* ``se``: the standard error of a point fit (ML, MAP), from the inverse Hessian; ``sd``: a posterior standard
  deviation (Laplace, MCMC). Tables name them so.
* Intervals: ``ci_prob`` (default ``arviz_base.rcParams["stats.ci_prob"]``) and ``ci_kind`` ("eti" or "hdi"
  for posteriors, "wald" or "profile" for point fits), in columns named as ArviZ names them: ``eti89_lb``, ``eti89_ub``.
* ``iterations``: an optimiser's record of its steps, one :class:`~bayeslogit.algorithms.newton.Iteration`
  each; ``fit.history`` is the same as a table; ``n_iter`` counts the steps.
* ``method``: how a fit was made ("ml", "map", "laplace", "mcmc"). ``model.likelihood`` and ``model.family`` are
  one choice: ``likelihood`` its name ("bernoulli", "categorical"), ``family`` its implementation (a
  ``Bernoulli`` or ``Categorical`` object). Neither string is tested anywhere but in the tables that map them to
  classes.
"""

from importlib import import_module

from bayeslogit import datasets
from bayeslogit.exceptions import (
    BayeslogitError,
    CollinearityError,
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    DataTypeError,
    FormulaError,
    MissingGlyphWarning,
    OptionError,
    PriorWarning,
    SeparationError,
    SingularHessianError,
)
from bayeslogit.fits.diagnostics.convergence import LaplaceDiagnosis
from bayeslogit.fits.diagnostics.mcmc_convergence import MCMCDiagnosis
from bayeslogit.fits.diagnostics.prior_predictive import PriorPredictive
from bayeslogit.fits.results import loading
from bayeslogit.fits.results.point import FailedFit, MAPFit, MLFit, PointFit
from bayeslogit.fits.results.posterior import LaplaceFit, MCMCFit, PosteriorFit
from bayeslogit.fits.results.summary_table import SummaryTable
from bayeslogit.fits.statistics.boundary import Boundary, PointBoundary, PosteriorBoundary
from bayeslogit.numerics.group_design import GroupPrior
from bayeslogit.numerics.prior_specs import Cauchy, Normal, StudentT
from bayeslogit.surface.compare import Comparison, compare
from bayeslogit.surface.model import LogisticModel

_LAZY = {  # public names whose modules load on first use, so that `import bayeslogit` does not pay for them
    "MultilevelModel": "bayeslogit.surface.multilevel",
    "plot_boundary": "bayeslogit.plots",
    "plot_coef": "bayeslogit.plots",
    "plot_calibration": "bayeslogit.plots",
    "plot_trace": "bayeslogit.plots",
    "plot_rank": "bayeslogit.plots",
    "plot_prior_predictive": "bayeslogit.plots",
    "plot_shrinkage": "bayeslogit.plots",
    "plot_caterpillar": "bayeslogit.plots",
    "animate_optimization": "bayeslogit.plots",
    "OptimizationAnimation": "bayeslogit.plots.animation",
}

__all__ = [
    "LogisticModel",
    "MultilevelModel",
    "GroupPrior",
    "Normal",
    "StudentT",
    "Cauchy",
    "PointFit",
    "MLFit",
    "MAPFit",
    "PosteriorFit",
    "LaplaceFit",
    "MCMCFit",
    "FailedFit",
    "Boundary",
    "PointBoundary",
    "PosteriorBoundary",
    "LaplaceDiagnosis",
    "MCMCDiagnosis",
    "Comparison",
    "compare",
    "PriorPredictive",
    "SummaryTable",
    "load",
    "plot_boundary",
    "plot_coef",
    "plot_calibration",
    "plot_trace",
    "plot_rank",
    "plot_prior_predictive",
    "plot_shrinkage",
    "plot_caterpillar",
    "animate_optimization",
    "OptimizationAnimation",
    "datasets",
    "BayeslogitError",
    "CollinearityError",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "DataTypeError",
    "FormulaError",
    "MissingGlyphWarning",
    "OptionError",
    "PriorWarning",
    "SeparationError",
    "SingularHessianError",
]


def load(path, model=None):
    """Read a fit written by ``fit.save(path)``, as the class it was saved as: an :class:`MLFit`, :class:`MAPFit`,
    :class:`LaplaceFit` or :class:`MCMCFit`, or a multilevel model's ML, MAP or MCMC fit.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.nc`` file or a ``.zarr`` directory.
    model : LogisticModel or MultilevelModel, optional
        A model of the data the fit was made on, to attach to it (or another loaded fit's ``model``, to share it).
        Without one, a flat fit's ``model`` is a :class:`~bayeslogit.fits.model_view.ModelView` of the saved labels:
        predictions on new rows, summaries and boundaries work, and what needs the training rows raises
        :class:`DataError`. A multilevel fit keeps what it read of its training rows, so it needs no model; one
        given (a ``MultilevelModel``, or another multilevel fit of it) must be of the same formula and rows, or
        :class:`DataError` names what differs.

    Raises
    ------
    DataError
        When the file is damaged, was not written by ``fit.save``, is of another format version (versions 1 and 2,
        which pickled a formula's spec, are refused: fit and save again), or does not parse into a fit; when a
        multilevel ``model`` is of another formula or other rows.
    OptionError
        When ``model`` is a flat model for a multilevel fit or the other way round, or a flat model's labels differ.
    ImportError
        When the packages of the file's format are not installed (the ``io`` extra: ``pip install
        "bayeslogit[io]"``).

    Notes
    -----
    A saved fit is data (arrays and JSON): loading never unpickles or evaluates anything from the file. Its
    checksum detects damage, not deliberate tampering.
    """
    return loading.load(path, model)


def __getattr__(name: str):
    """The plotting names of ``_LAZY``, imported on first use, and ``__version__`` from the package metadata."""
    if name == "__version__":
        from importlib.metadata import version

        return version("bayeslogit")
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bayeslogit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, "__version__"})
