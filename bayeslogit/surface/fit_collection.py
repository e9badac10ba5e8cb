"""Several fits of one model, as :func:`bayeslogit.surface.compare` and the plots take them."""

from collections.abc import Mapping

from bayeslogit.exceptions import OptionError
from bayeslogit.fits.results.base import FitBase
from bayeslogit.fits.results.point import FailedFit


def collect_fits(fits) -> tuple[dict, dict]:
    """Split fits of one model into the usable ones and the failures.

    Parameters
    ----------
    fits : dict of str to fit, sequence of fits, or a single fit
        A sequence is keyed by each fit's ``method``, which must then be distinct.

    Returns
    -------
    fitted : dict
        name -> PointFit or PosteriorFit, in the given order.
    failed : dict
        name -> FailedFit.

    Raises
    ------
    OptionError
        When no fit is usable, two fits of a sequence share a method, or the fits come from
        different models (a ValueError, as every OptionError is).
    """
    if isinstance(fits, (FitBase, FailedFit)):
        fits = [fits]
    if not isinstance(fits, Mapping):
        fits = list(fits)
        methods = [fit.method for fit in fits]
        if len(set(methods)) < len(methods):
            raise OptionError(
                f"two fits share a method ({methods}); pass a dict to name them, e.g. "
                "{'map sigma=1': fit_a, 'map sigma=0.1': fit_b}"
            )
        fits = dict(zip(methods, fits))
    fitted = {name: fit for name, fit in fits.items() if not isinstance(fit, FailedFit)}
    failed = {name: fit for name, fit in fits.items() if isinstance(fit, FailedFit)}
    if not fitted:
        reasons = "; ".join(f"{name}: {fit.reason}" for name, fit in failed.items()) or "none given"
        raise OptionError(f"no usable fit ({reasons}); pass fits such as model.fit_all(prior)")
    if len({id(fit.model) for fit in fitted.values()}) > 1:
        raise OptionError("these fits come from different models; put fits of one model together")
    return fitted, failed
