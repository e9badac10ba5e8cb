"""The priors by the names the command line (``--prior``) and the scikit-learn estimator (``prior_family``) give
them, and the check of a prior that the Python API is given."""

from bayeslogit.exceptions import OptionError
from bayeslogit.numerics.prior_specs import PRIORS, Cauchy, Normal, StudentT

PRIOR_FAMILIES = {
    "normal": lambda scale, intercept_scale, nu, options: Normal(scale, intercept_scale, **options),
    "student-t": lambda scale, intercept_scale, nu, options: StudentT(nu, scale, intercept_scale, **options),
    "cauchy": lambda scale, intercept_scale, nu, options: Cauchy(scale, intercept_scale, **options),
}
"""Name -> ``(scale, intercept_scale, nu, {"autoscale": ...} or {}) ->`` the prior; see :func:`make_prior`."""


def make_prior(family: str, scale, intercept_scale=None, nu: float = 7.0, autoscale: bool | None = None):
    """The prior of a family named in :data:`PRIOR_FAMILIES`, with ``nu`` for Student-t only and ``autoscale=None``
    for the family's default."""
    if family not in PRIOR_FAMILIES:
        raise OptionError(f"unknown prior {family!r}; choose one of {list(PRIOR_FAMILIES)}")
    return PRIOR_FAMILIES[family](scale, intercept_scale, nu, {} if autoscale is None else {"autoscale": autoscale})


def checked_prior(prior, flat: bool = False):
    """``prior`` if it is a prior (:data:`~bayeslogit.numerics.prior_specs.PRIORS`; with ``flat``, None too: the flat
    prior of maximum likelihood), else an OptionError saying how to make one: what each fit method checks, once,
    before anything runs."""
    if not isinstance(prior, PRIORS + (type(None),) * flat):
        raise OptionError(
            f"prior must be bl.Normal, bl.StudentT or bl.Cauchy, e.g. bl.Normal(2.5); got {type(prior).__name__}"
        )
    if getattr(prior, "group", None) is not None:
        raise OptionError(
            f"{prior!r} sets `group`, the prior on a multilevel model's group sds, but this model has no group terms: "
            "drop group=, or write the groups in a formula for bl.MultilevelModel.from_formula"
        )
    return prior
