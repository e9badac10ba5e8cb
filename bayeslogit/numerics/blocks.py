"""One way to walk a long axis (the rows of a design, or draws) in blocks of bounded size.

Every pass over rows that makes intermediate values for each of them (linear predictors, log-likelihoods at every
draw, class probabilities) takes the rows in blocks sized by :func:`block_slices`, so that memory holds about
:data:`BLOCK_VALUES` of those values at a time, whatever the number of rows.
"""

from collections.abc import Iterator

BLOCK_VALUES = 2**18
"""Intermediate values (float64) a block is sized to hold: 2 MB. What a block's pass reads more than once (the
design's rows, read by the linear predictor and again by the gradient and Hessian; the linear predictors at the
draws, read by the family's functions) then stays in the processor's cache, and each block's arithmetic is large
against the few Python calls it costs."""


def block_length(values_per_item: int) -> int:
    """Items per block when each item (a row, or a draw) makes ``values_per_item`` values: at least one."""
    return max(1, BLOCK_VALUES // max(values_per_item, 1))


def block_slices(n_items: int, values_per_item: int, length: int | None = None) -> Iterator[slice]:
    """Slices covering ``range(n_items)`` in order, each of :func:`block_length` items (the last one shorter).

    Parameters
    ----------
    n_items : int
        Length of the axis walked (rows, or draws).
    values_per_item : int
        Intermediate values one item makes in the pass.
    length : int, optional
        Items per block instead of :func:`block_length`'s (a test's small blocks).
    """
    size = length or block_length(values_per_item)
    for start in range(0, n_items, size):
        yield slice(start, min(start + size, n_items))
