"""The group effects' part of a multilevel fit's predictions: each row's shift of its linear predictors by its
groups' effects, the draws of a new group's effects, and the table of the groups' effects.

Conventions: ``parts`` holds each model term's ``(codes (n,), values (n, k))`` for the rows predicted, code -1 for a
level the fit has not seen; a layout term is a model term for a two-class model, and one per class of a categorical
model (class ``c``'s at positions ``c::M``, ``M`` linear predictors).
"""

import numpy as np
import pandas as pd

from bayeslogit.fits.results.multilevel import GroupLayout


def term_slices(layout: GroupLayout) -> list[slice]:
    """Each term's columns' positions among all the terms' sd labels."""
    sizes = [len(columns) for columns in layout.columns]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    return [slice(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:])]


def linear_predictors(layout: GroupLayout, X: np.ndarray, beta: np.ndarray, parts: tuple, effects) -> np.ndarray:
    """The rows' linear predictors (n, M) from the fixed design ``X`` (n, p), ``vec(B)`` (p M,), the model terms'
    ``parts`` (codes, values) and the layout terms' ``effects`` (n_levels, k) (class ``c``'s: ``effects[c::M]``);
    unknown levels' effects at zero."""
    M = layout.n_predictors
    eta = X @ beta.reshape(M, -1).T
    for c in range(M):
        eta[:, c] += group_shift(parts, list(effects)[c::M])
    return eta


def new_group_shifts(layout: GroupLayout, parts: tuple, covariances, rng: np.random.Generator, draws: int):
    """Draws (draws, n, M) of the unknown levels' effects on the linear predictors, each layout term's from
    ``Normal(0, covariances[t])`` (independent across classes), zero for known levels."""
    M = layout.n_predictors
    return np.stack([new_group_draws(parts, list(covariances)[c::M], rng, draws) for c in range(M)], axis=-1)


def group_shift(parts: tuple, effects: list[np.ndarray]) -> np.ndarray:
    """``sum_terms values[i] @ effects[codes[i]]`` (n,), zero for rows whose level is unknown (code -1)."""
    total = np.zeros(len(parts[0][0]) if parts else 0)
    for (codes, values), b in zip(parts, effects):
        known = codes >= 0
        total[known] += np.einsum("ik,ik->i", values[known], b[codes[known]])
    return total


def new_group_draws(parts: tuple, covariances: list[np.ndarray], rng: np.random.Generator, draws: int) -> np.ndarray:
    """Draws (draws, n) of ``sum_terms values[i] @ b`` with ``b ~ Normal(0, covariance)`` for the rows of unknown
    levels (zero elsewhere)."""
    n = len(parts[0][0])
    total = np.zeros((draws, n))
    for (codes, values), covariance in zip(parts, covariances):
        unknown = codes < 0
        if unknown.any():
            root = _square_root(covariance)
            b = rng.standard_normal((draws, unknown.sum(), len(covariance))) @ root.T
            total[:, unknown] += np.einsum("ik,dik->di", values[unknown], b)
    return total


def _square_root(covariance: np.ndarray) -> np.ndarray:
    """A root ``R`` (k, k) with ``R R^T = covariance``: its Cholesky factor, or where the covariance is singular
    (a boundary fit: an sd at 0 or a correlation at +-1) and has none, the root from its eigenvalues clipped at 0."""
    try:
        return np.linalg.cholesky(covariance)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(covariance)
        return vectors * np.sqrt(np.clip(values, 0.0, None))


def ranef_table(layout: GroupLayout, values: dict) -> pd.DataFrame:
    """The groups' effects as a long table: a row per term (with its ``class`` for a categorical model), level and
    column, with a column per entry of ``values`` (name -> one array (n_levels, k) per term)."""
    frames = [
        pd.DataFrame(
            {
                "term": label,
                **({"class": layout.term_class(t)} if layout.classes else {}),
                "level": list(levels),
                "column": column,
                **{name: arrays[t][:, c] for name, arrays in values.items()},
            }
        )
        for t, (label, columns, levels) in enumerate(zip(layout.labels, layout.columns, layout.levels))
        for c, column in enumerate(columns)
    ]
    return pd.concat(frames, ignore_index=True)


def covariance_of(sd: np.ndarray, corr: np.ndarray) -> np.ndarray:
    """``diag(sd) corr diag(sd)`` (k, k)."""
    return corr * np.outer(sd, sd)
