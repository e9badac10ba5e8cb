"""Warnings held while something runs, to be looked at, dropped or raised again once it is done.

A fit whose outcome decides what its warnings mean holds them: a separation error replaces the convergence
warnings of the fit it explains, the mode returned decides whose warnings are raised, the command line reports
them per fit, the estimator rewords them. Raised again, each keeps the file and line it was first attributed to.
"""

import contextlib
import warnings
from collections.abc import Iterable, Iterator


@contextlib.contextmanager
def held_warnings(category: type[Warning] = Warning) -> Iterator[list[warnings.WarningMessage]]:
    """Hold the warnings raised inside, in the list yielded, instead of raising them.

    Parameters
    ----------
    category : type of Warning
        Warnings of this class are held every time they are raised (the filter ``"always"``), even a repeat that
        would otherwise be shown once; other warnings are held as the filters in force let them through.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", category)
        yield caught


def reissue(held: Iterable[warnings.WarningMessage]) -> None:
    """Raise the ``held`` warnings again, in order, each attributed to the file and line it was first raised at."""
    for warning in held:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
