"""The compiled sum of a binary model's event probabilities over draws, against NumPy's blocks."""

import numpy as np
import pytest

from bayeslogit.numerics import fused, fused_predictions, predictive
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.families import FAMILIES

BERNOULLI = FAMILIES["bernoulli"]("reference")


def numpy_average(design: Design, draws: np.ndarray, monkeypatch) -> np.ndarray:
    """``predictive.average_log_proba`` by NumPy's blocks (the compiled sums switched off)."""
    with monkeypatch.context() as patch:
        patch.setattr(fused_predictions, "applies", lambda *args: False)
        return predictive.average_log_proba(BERNOULLI, design, draws)


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("n_draws", [1, 7, 512, 1000])
def test_the_compiled_average_is_numpys(rng, monkeypatch, intercept, n_draws):
    """Blocks of 512 draws and a last one shorter, a point fit (one draw), rows not a multiple of the batch: the
    log of the averaged probabilities equals NumPy's to rounding (the sums to ``S eps``: 1e-12 of the logs here)."""
    X = rng.normal(size=(3001, 6))
    draws = rng.normal(scale=0.7, size=(n_draws, 6 + intercept, 1))
    design = Design(X, intercept)
    monkeypatch.setattr(fused_predictions, "MIN_PRODUCTS", 0)
    assert fused_predictions.applies(BERNOULLI, design, n_draws)
    compiled = predictive.average_log_proba(BERNOULLI, design, draws)
    np.testing.assert_allclose(compiled, numpy_average(design, draws, monkeypatch), rtol=1e-12, atol=1e-13)
    slopes = draws[:, int(intercept) :, 0]
    eta = X @ slopes.T + (draws[:, 0, 0] if intercept else 0.0)
    np.testing.assert_allclose(np.exp(compiled[:, 1]), (1 / (1 + np.exp(-eta))).mean(axis=1), rtol=1e-13)


def test_extreme_and_missing_linear_predictors(rng, monkeypatch):
    """Logits of +-800 (where e^-eta overflows) give probabilities 1 and 0 and the log-space rows NumPy's; a row
    with a missing value gives NaN, the other rows their values."""
    X = rng.normal(size=(200, 3))
    X[0] = [800.0, 0.0, 0.0]
    X[1] = [-800.0, 0.0, 0.0]
    X[2, 1] = np.nan
    draws = np.abs(rng.normal(size=(300, 4, 1))) + 0.5  # every slope positive: rows 0 and 1 saturate
    design = Design(X, True)
    monkeypatch.setattr(fused_predictions, "MIN_PRODUCTS", 0)
    compiled = predictive.average_log_proba(BERNOULLI, design, draws)
    expected = numpy_average(design, draws, monkeypatch)
    assert compiled[0, 1] == 0.0 and compiled[1, 0] == 0.0
    assert compiled[0, 0] < -400 and compiled[1, 1] < -400  # the other class, from the log-space average
    assert np.isnan(compiled[2]).all() and np.isnan(expected[2]).all()
    finite = np.isfinite(expected).all(axis=1)
    np.testing.assert_allclose(compiled[finite], expected[finite], rtol=1e-12, atol=1e-13)


def test_the_sums_do_not_depend_on_the_threads(rng):
    """The same bits from the pool's threads and from the calling thread alone."""
    X = rng.normal(size=(20_000, 10))
    draws = rng.normal(scale=0.5, size=(700, 11, 1))
    shared = fused_predictions.event_probability_sums(X, True, draws)
    with fused.in_this_thread():
        alone = fused_predictions.event_probability_sums(X, True, draws)
    np.testing.assert_array_equal(shared, alone)


def test_the_compiled_sums_take_binary_models_with_predictors_on_many_products():
    """From MIN_PRODUCTS products of a value and a coefficient (4,000 draws on 200,000 rows x 20 predictors, not on
    the 3,020 x 3 of the wells), for the Bernoulli family and designs with a predictor only."""
    many, wells = Design(np.empty((200_000, 20)), True), Design(np.empty((3_020, 3)), True)
    assert fused_predictions.applies(BERNOULLI, many, 4_000)
    assert not fused_predictions.applies(BERNOULLI, wells, 4_000)
    assert not fused_predictions.applies(BERNOULLI, Design(np.empty((10**7, 0)), True), 4_000)  # no predictors
    assert not fused_predictions.applies(FAMILIES["categorical"]("reference"), many, 4_000)
