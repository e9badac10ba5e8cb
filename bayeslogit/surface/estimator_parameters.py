"""What two of :class:`~bayeslogit.sklearn.BayesLogitClassifier`'s parameters become when it fits, checked then,
as scikit-learn's conventions have it: ``random_state`` a seed per fit, ``target_accept`` the sampler's options."""

import numbers

import numpy as np

from bayeslogit.exceptions import OptionError

_MAX_SEED = np.iinfo(np.int64).max


def seed_of(random_state) -> int | None:
    """The seed of one fit: ``random_state`` itself for an int or None, one drawn from it for a generator.

    Parameters
    ----------
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None

    Returns
    -------
    int or None
        None: fresh entropy on every fit.

    Raises
    ------
    OptionError
        For a negative int or anything else, naming what is allowed.
    """
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and random_state >= 0:
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(_MAX_SEED))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(_MAX_SEED, dtype=np.int64))
    raise OptionError(
        f"`random_state` must be a non-negative int, a numpy.random.Generator, a "
        f"numpy.random.RandomState or None; got {random_state!r}"
    )


def sampler_options(target_accept) -> dict:
    """What "mcmc" passes to its sampler: no progress bar, and ``target_accept`` when it is not None.

    Raises
    ------
    OptionError
        When ``target_accept`` is neither None nor a number strictly between 0 and 1.
    """
    if target_accept is not None and not (isinstance(target_accept, numbers.Real) and 0 < target_accept < 1):
        raise OptionError(
            f"`target_accept` must be a number between 0 and 1, e.g. 0.95, or None; got {target_accept!r}"
        )
    return {"progressbar": False} | ({} if target_accept is None else {"target_accept": float(target_accept)})
