"""What to do about a problem, in the words of the door the user came in by.

The package's messages are :class:`~bayeslogit.exceptions.Advice`: door-free text and
:class:`~bayeslogit.exceptions.Remedy` values naming what to do. This module holds each door's words for every
remedy, a table per door (:data:`DOORS`): the Python API (``fit_map``, ``bl.Normal``), the command line
(``--methods map``, ``--no-autoscale``) and the scikit-learn estimator (``method="map"``). Importing it (the
package does, through :mod:`bayeslogit.surface`) gives the words to :mod:`bayeslogit.exceptions`, so that a message
reads as the Python API's words; :func:`in_words` says one in another door's.

Each entry is a format string of the remedy's ``value``, written for the place the remedy takes in its messages:
``use_map`` completes "use a proper prior (...)", ``raise_target_accept`` is a noun phrase after "Try", and
``use_posterior`` follows ``use_map_normal`` in brackets: "Use fit_map(bl.Normal(2.5)) (or the posterior fits)".
"""

from bayeslogit.exceptions import Remedy, advice_of, give_words

PYTHON = {
    "raise_max_iter": "increase max_iter",
    "use_ml": "fit_ml",
    "use_map": "fit_map",
    "use_map_normal": "fit_map(bl.Normal({value:g}))",
    "use_posterior": "the posterior fits",
    "use_mcmc": "fit_mcmc",
    "use_normal_prior": "bl.Normal",
    "use_student_t_prior": "bl.StudentT(nu={value:g})",
    "intercept_prior": "bl.Normal(scale, intercept_scale=1.5) or bl.StudentT(intercept_scale=2.5)",
    "smaller_scale": "a smaller scale",
    "autoscale_on": "autoscale=True",
    "autoscale_off": "autoscale=False",
    "no_intercept_scale": "leave it None",
    "add_intercept": "build the model with intercept=True",
    "more_draws": "draws={value}",
    "more_chains": "chains={value}",
    "more_tuning": "more tuning (tune={value}) and draws",
    "raise_target_accept": "a higher target_accept (target_accept={value:g})",
}
"""Remedy name -> its words in the Python API (``bl`` is ``import bayeslogit as bl``)."""

CLI = {
    "raise_max_iter": "increase --max-iter",
    "use_ml": "--methods ml",
    "use_map": "--methods map",
    "use_map_normal": "--methods map",
    "use_posterior": "laplace or mcmc",
    "use_mcmc": "--methods mcmc",
    "use_normal_prior": "--prior normal",
    "use_student_t_prior": "--prior student-t --prior-nu {value:g}",
    "intercept_prior": "--intercept-scale 1.5",
    "smaller_scale": "a smaller --prior-scale",
    "autoscale_on": "--autoscale",
    "autoscale_off": "--no-autoscale",
    "no_intercept_scale": "leave out --intercept-scale",
    "add_intercept": "keep the formula's intercept (no 0 + or - 1 in it)",
    "more_draws": "--draws {value}",
    "more_chains": "--chains {value}",
    "more_tuning": "more tuning (--tune {value}) and draws",
    "raise_target_accept": "a higher target acceptance (--target-accept {value:g})",
}
"""Remedy name -> its words on the command line: ``bayeslogit compare``'s options
(:mod:`bayeslogit.surface.cli_options`), every one it names."""

ESTIMATOR = {
    "raise_max_iter": "increase max_iter",
    "use_ml": 'method="ml"',
    "use_map": 'method="map"',
    "use_map_normal": 'method="map"',
    "use_posterior": '"laplace" or "mcmc"',
    "use_mcmc": 'method="mcmc"',
    "use_normal_prior": 'prior_family="normal"',
    "use_student_t_prior": 'prior_family="student-t", prior_nu={value:g}',
    "intercept_prior": "intercept_scale=1.5",
    "smaller_scale": "a smaller prior_scale",
    "autoscale_on": "autoscale=True",
    "autoscale_off": "autoscale=False",
    "no_intercept_scale": "leave it None",
    "add_intercept": "set fit_intercept=True",
    "more_draws": "draws={value}",
    "more_chains": "chains={value}",
    "more_tuning": "more tuning (tune={value}) and draws",
    "raise_target_accept": "a higher target_accept (target_accept={value:g})",
}
"""Remedy name -> its words as the parameters of :class:`~bayeslogit.sklearn.BayesLogitClassifier`, every one it
names."""

DOORS = {"python": PYTHON, "cli": CLI, "estimator": ESTIMATOR}
"""Door -> its words for every remedy (each table has every remedy)."""


def words(door: str, remedy: Remedy) -> str:
    """``remedy`` in ``door``'s words."""
    return DOORS[door][remedy.name].format(value=remedy.value)


def in_words(message, door: str) -> str:
    """The text of ``message`` (an exception, a warning or an :class:`~bayeslogit.exceptions.Advice`) in ``door``'s
    words; a message of plain text as it is."""
    advice = advice_of(message)
    return str(message) if advice is None else advice.render(door)


for _door in DOORS:
    give_words(_door, lambda remedy, door=_door: words(door, remedy))
