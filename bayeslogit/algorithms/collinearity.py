"""Rank check of a design before maximum likelihood.

Works on the small (P, P) weighted Gram matrix, accumulated over row blocks, so it costs one pass
over the data (a symmetric rank-k update) rather than a QR factorisation of the whole design.
"""

import numpy as np
from scipy.linalg import eigh

from ..numerics.objective import Design

_RELATIVE_EIGENVALUE = 1e-10  # condition number of the scaled Gram matrix above which columns are dependent


def find_collinearity(design: Design, weights: np.ndarray, names: tuple) -> tuple[str, tuple]:
    """Columns of the design that are linearly dependent, with the intercept or with each other.

    Parameters
    ----------
    design : Design
    weights : ndarray of shape (n_samples,)
    names : tuple of str of length n_features

    Returns
    -------
    reason : str
        ``""`` when the design has full column rank, else a sentence naming the problem.
    columns : tuple of str
        The columns involved.
    """
    if not names:
        return "", ()
    gram = design.gram(weights)
    start = int(design.intercept)
    inner = gram[start:, start:]
    if design.intercept:  # the Gram matrix of the centred columns (Schur complement of the intercept)
        inner = inner - np.outer(gram[0, 1:], gram[0, 1:]) / gram[0, 0]
    variance = np.diag(inner)
    constant = variance <= 1e-12 * np.maximum(np.diag(gram[start:, start:]), np.finfo(float).tiny)
    if constant.any():
        columns = tuple(np.asarray(names)[constant])
        what = "constant, which duplicates the intercept" if design.intercept else "all zero"
        return f"column(s) {list(columns)} are {what}", columns
    scale = np.sqrt(variance)
    values, vectors = eigh(inner / np.outer(scale, scale))
    if values[0] > _RELATIVE_EIGENVALUE * values[-1]:
        return "", ()
    null = vectors[:, 0]
    columns = tuple(np.asarray(names)[np.abs(null) > 0.05 * np.abs(null).max()])
    return f"column(s) {list(columns)} are linearly dependent (collinear)", columns
