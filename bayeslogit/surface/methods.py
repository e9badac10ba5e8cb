"""The ways to fit a model, by the names users give them: the one table of method names.

Each :class:`Method` names its fit class (which holds what differs in the fit itself: its summary, intervals,
predictions, see :class:`~bayeslogit.fits.results.point.PointFit`), the fit it is built on, how a model makes it,
how plots draw it and what a report says of its draws. :meth:`bayeslogit.LogisticModel.fit_all`, the command line,
the scikit-learn estimator and the plots read :data:`METHODS`; nothing else names a method.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from bayeslogit.fits.results.point import MAPFit, MLFit
from bayeslogit.fits.results.posterior import LaplaceFit, MCMCFit


@dataclass(frozen=True)
class FitSettings:
    """How the posterior fits draw, as :meth:`~bayeslogit.LogisticModel.fit_all` and the estimator set it.

    Attributes
    ----------
    draws, tune, chains : int
        MCMC draws kept per chain, tuning steps per chain, and chains.
    independent_draws : int or None
        The Laplace fit's independent draws; None: ``draws * chains``, as many as MCMC keeps.
    random_seed : int, numpy.random.Generator or None
        Seeds the Laplace draws and the sampler.
    sampler_options : dict
        Passed to :meth:`~bayeslogit.LogisticModel.fit_mcmc` (``progressbar``, ``sampler``, the sampler's own).
    max_iter : int
        Most Newton iterations of the ML and MAP fits, and of the MAP fit a posterior fit makes to start from.
    """

    draws: int = 1000
    tune: int = 200
    chains: int = 4
    independent_draws: int | None = None
    random_seed: object = None
    sampler_options: dict = field(default_factory=dict)
    max_iter: int = 100

    @property
    def laplace_draws(self) -> int:
        return self.draws * self.chains if self.independent_draws is None else self.independent_draws


@dataclass(frozen=True)
class Method:
    """A way to fit a model.

    Attributes
    ----------
    fit_class : type
        The class of its fits; its ``method`` is the name users give it.
    make : callable
        ``make(model, prior, base, settings) -> fit``: fit ``model`` under ``prior`` (ignored by ML) from ``base``,
        the fit it is built on (or None: the model makes it), with :class:`FitSettings`.
    built_on : str or None
        The method whose fit it starts from (the MAP, for the posterior fits).
    style : dict
        How plots draw it: ``label``, ``color``, ``linestyle``, ``marker``, ``linewidth``, ``zorder``.
    describe_draws : callable or None
        ``describe_draws(draws, chains, tune) -> str``: its draws as a report lists them; None for a point fit.
    """

    fit_class: type
    make: Callable
    built_on: str | None
    style: dict
    describe_draws: Callable[[int, int, int], str] | None = None

    @property
    def name(self) -> str:
        return self.fit_class.method


def _mode(model, prior, base, settings: FitSettings):
    """The MAP fit a posterior fit starts from: ``base``, or one made with the settings' ``max_iter``."""
    return base if base is not None else model.fit_map(prior, max_iter=settings.max_iter)


def _laplace(model, prior, base, settings: FitSettings):
    return model.fit_laplace(
        prior,
        draws=settings.laplace_draws,
        random_seed=settings.random_seed,
        map_fit=_mode(model, prior, base, settings),
    )


def _mcmc(model, prior, base, settings: FitSettings):
    return model.fit_mcmc(
        prior,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        random_seed=settings.random_seed,
        map_fit=_mode(model, prior, base, settings),
        **settings.sampler_options,
    )


METHODS = {
    method.name: method
    for method in (
        Method(
            MLFit,
            lambda model, prior, base, settings: model.fit_ml(max_iter=settings.max_iter),
            None,
            {"label": "ML", "color": "black", "linestyle": "-", "marker": "o", "linewidth": 3.2, "zorder": 4},
        ),
        Method(
            MAPFit,
            lambda model, prior, base, settings: model.fit_map(prior, max_iter=settings.max_iter),
            None,
            {
                "label": "MAP",
                "color": "#D55E00",
                "linestyle": (0, (5, 2)),
                "marker": "s",
                "linewidth": 2.0,
                "zorder": 5,
            },
        ),
        Method(
            LaplaceFit,
            _laplace,
            MAPFit.method,
            {
                "label": "Laplace",
                "color": "#0072B2",
                "linestyle": (0, (1, 1.2)),
                "marker": "^",
                "linewidth": 2.0,
                "zorder": 5,
            },
            lambda draws, chains, tune: f"{chains * draws} draws",
        ),
        Method(
            MCMCFit,
            _mcmc,
            MAPFit.method,
            {
                "label": "MCMC",
                "color": "#009E73",
                "linestyle": (0, (6, 1.5, 1, 1.5)),
                "marker": "D",
                "linewidth": 2.0,
                "zorder": 5,
            },
            lambda draws, chains, tune: f"{chains} chains x {draws} draws after {tune} tuning steps",
        ),
    )
}
"""Method name -> :class:`Method`, in the order :meth:`~bayeslogit.LogisticModel.fit_all` makes them. The styles
are Okabe-Ito colours, with line styles and markers that keep the methods apart in grey-scale print; ML is the
widest line, drawn first (lowest ``zorder``), so that the others show on it where they agree."""


def draw_settings(methods, draws: int, chains: int, tune: int) -> dict:
    """``{label: text}`` of the draws of each of ``methods`` (names) that draws, in the order of :data:`METHODS`, as
    a report lists them."""
    return {
        method.style["label"]: method.describe_draws(draws, chains, tune)
        for name, method in METHODS.items()
        if name in methods and method.describe_draws is not None
    }
