"""The crossed and nested terms' factor of ``H``, its Schur complement factored dense and sparse, against ``H`` written
out dense: log determinant, solves, conditional covariance blocks and leverages, at random weights."""

import numpy as np
import pytest

from bayeslogit.numerics import group_sparse, group_systems
from bayeslogit.numerics.group_design import GroupTerm
from bayeslogit.numerics.group_systems import group_system


def _terms(rng, n, levels, slopes, nested):
    """Terms on ``n`` rows: ``levels[t]`` levels, ``(1 + x | g)`` where ``slopes[t]``; with ``nested``, each level of
    the second term sits in one level of the first (the codes of ``a:b``)."""
    x = rng.normal(size=n)
    values = np.column_stack([np.ones(n), x])
    codes = [rng.integers(0, n_levels, n) for n_levels in levels]
    if nested:
        codes[1] = codes[0] * levels[1] + codes[1]
        codes[1] = np.unique(codes[1], return_inverse=True)[1]
    terms = []
    for t, (code, slope) in enumerate(zip(codes, slopes)):
        k = 2 if slope else 1
        n_levels = int(code.max()) + 1
        terms.append(GroupTerm(f"g{t}", ("Intercept", "x")[:k], tuple(range(n_levels)), code, values[:, :k]))
    return tuple(terms)


def _theta(rng, terms):
    return np.concatenate([rng.uniform(0.3, 1.2, t.n_columns * (t.n_columns + 1) // 2) for t in terms])


def _dense(at, terms):
    """``Z Lambda`` (n, q), column by column through ``at.effect``."""
    q = sum(t.n_levels * t.n_columns for t in terms)
    return np.column_stack([at.effect(e) for e in np.eye(q)])


CASES = {
    "crossed": dict(n=600, levels=(40, 25), slopes=(False, False), nested=False),
    "crossed, slopes": dict(n=600, levels=(30, 20), slopes=(True, True), nested=False),
    "crossed, slope on the rest": dict(n=500, levels=(8, 30), slopes=(False, True), nested=False),
    "three crossed": dict(n=700, levels=(35, 20, 12), slopes=(False, True, False), nested=False),
    "nested": dict(n=600, levels=(15, 6), slopes=(False, False), nested=True),
}


@pytest.fixture(params=["dense products", "sparse products, dense Schur", "sparse products, sparse Schur"])
def route(request, monkeypatch):
    """The route of the factorisation, whatever the size: dense products, or sparse products with the Schur
    complement factored dense or sparse."""
    if request.param != "dense products":
        monkeypatch.setattr(group_systems, "DENSE_MAX_PRODUCT", 0)
    monkeypatch.setattr(group_sparse, "DENSE_MAX_EFFECTS", -1 if request.param.endswith("sparse Schur") else 10**9)
    monkeypatch.setattr(group_sparse, "SPARSE_MAX_ENVELOPE", 1.0)
    return request.param


@pytest.mark.parametrize("case", CASES)
def test_factor_equals_dense(rng, case, route):
    terms = _terms(rng, **CASES[case])
    system = group_system(terms)
    assert system.sparse_schur == route.endswith("sparse Schur")
    at = system.at(_theta(rng, terms))
    w = rng.uniform(0.05, 0.25, len(terms[0].codes))
    factor = at.factor(w)
    ZL = _dense(at, terms)
    H = ZL.T @ (w[:, None] * ZL) + np.eye(ZL.shape[1])
    inverse = np.linalg.inv(H)
    assert factor.log_det == pytest.approx(np.linalg.slogdet(H)[1], rel=1e-12)
    rhs = rng.normal(size=(H.shape[0], 3))
    np.testing.assert_allclose(factor.solve(rhs), np.linalg.solve(H, rhs), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(factor.solve(rhs[:, 0]), np.linalg.solve(H, rhs[:, 0]), rtol=1e-10, atol=1e-12)
    expected = np.einsum("ij,jk,ik->i", ZL, inverse, ZL)
    np.testing.assert_allclose(factor.leverage(), expected, rtol=1e-10)
    # Lambda H^-1 Lambda^T's diagonal blocks, Lambda's columns being the effects of unit vectors of u per term
    start = 0
    for term, blocks, T in zip(terms, factor.cond_cov(), at.factors):
        k, size = term.n_columns, term.n_levels * term.n_columns
        part = inverse[start : start + size, start : start + size].reshape(term.n_levels, k, term.n_levels, k)
        levels = np.arange(term.n_levels)
        expected = np.einsum("jl,glm,nm->gjn", T, part[levels, :, levels, :], T)
        np.testing.assert_allclose(blocks, expected, rtol=1e-10, atol=1e-14)
        start += size


def test_rule_takes_dense_for_random_crossings_and_sparse_for_nesting(rng):
    """Two factors of 1,500 and 1,200 levels paired at random fill a sparse factor: dense; 1,200 classes in 1,500
    schools leave the Schur complement in the schools diagonal: sparse."""
    crossed = _terms(rng, 20_000, (1500, 1200), (False, False), nested=False)
    assert not group_system(crossed).sparse_schur
    nested = _terms(rng, 20_000, (1500, 3), (False, False), nested=True)
    assert nested[1].n_levels > nested[0].n_levels > group_sparse.DENSE_MAX_EFFECTS
    assert group_system(nested).sparse_schur
