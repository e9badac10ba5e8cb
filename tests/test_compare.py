"""compare(): one table of coefficients, held-out metrics, ELPD-LOO and cost, checked against scikit-learn."""

import re

import numpy as np
import pandas as pd
import pytest
from conftest import split
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss

import bayeslogit as bl
from bayeslogit.fits.statistics.calibration import calibration_bins, expected_calibration_error
from bayeslogit.surface.compare import compare

PRIOR = bl.Normal(2.5)
METRICS = ["log_loss", "accuracy", "brier", "ece"]


@pytest.fixture(scope="module")
def wells_split(wells_split_fits):
    """Wells fitted every way on 75% of the rows, and its table on the held-out rows."""
    fits, _, test = wells_split_fits
    return fits, test, compare(fits, test, test["switched"])


@pytest.fixture(scope="module")
def iris_split():
    train, test = split(bl.datasets.load_iris(), seed=5)
    model = bl.LogisticModel.from_formula("species ~ petal_length + petal_width", train)
    with pytest.warns(bl.ConvergenceWarning, match="the Laplace approximation is poor here"):  # setosa separates
        fits = model.fit_all(PRIOR, random_seed=0, draws=1000, chains=1, methods=("ml", "map", "laplace"))
    return fits, test


def test_wells_held_out_table_has_every_metric_finite(wells_split):
    fits, test, table = wells_split
    assert list(table.columns) == ["ml", "map", "laplace", "mcmc"]
    assert list(table.index.get_level_values(0).unique()) == [
        "coef",
        "coef_se_sd",
        "held-out",
        "loo",
        "diagnostics",
        "cost",
    ]
    assert np.isfinite(table.loc["held-out"].loc[METRICS].to_numpy()).all()
    loo = table.loc["loo", ["laplace", "mcmc"]]
    assert np.isfinite(loo.to_numpy()).all() and (loo.loc["elpd_loo_se"] > 0).all()
    # 2,265 training rows: the ELPD of the two posteriors agree within their standard error.
    assert abs(loo.loc["elpd_loo", "laplace"] - loo.loc["elpd_loo", "mcmc"]) < loo.loc["elpd_loo_se", "mcmc"]
    assert table.loc[("cost", "n_iter"), "ml"] == fits["ml"].n_iter
    assert table.loc[("cost", "draws"), "laplace"] == 1000
    assert table.loc[("diagnostics", "ess_bulk_min"), "mcmc"] == pytest.approx(fits["mcmc"].summary()["ess_bulk"].min())
    assert table.loc[("diagnostics", "khat"), "laplace"] == pytest.approx(fits["laplace"].diagnosis.khat)
    assert table.loc[("diagnostics", "r_hat_max"), "mcmc"] == pytest.approx(fits["mcmc"].summary()["r_hat"].max())
    assert table.loc[("diagnostics", "divergences"), "mcmc"] == fits["mcmc"].diagnosis.divergences
    assert table.loc[("cost", "chains"), "mcmc"] == 2 and table.loc[("cost", "draws"), "mcmc"] == 500
    assert (table.loc[("cost", "fit_time_s")] > 0).all()
    np.testing.assert_allclose(table.loc["coef", "ml"], fits["ml"].params[:, 0], rtol=0, atol=0)
    np.testing.assert_allclose(table.loc["coef_se_sd", "map"], fits["map"].se, rtol=1e-12)
    # A slice of the table is still a Comparison, and prints as a plain table.
    assert isinstance(table.loc["coef"], bl.Comparison) and isinstance(table[["ml", "map"]], bl.Comparison)
    assert "arsenic" in repr(table.loc["coef"]) and str(table[["ml", "map"]]).splitlines()[0].split() == ["ml", "map"]


@pytest.mark.parametrize("method", ["ml", "map", "laplace", "mcmc"])
def test_wells_metrics_equal_scikit_learn(wells_split, method):
    fits, test, table = wells_split
    proba = fits[method].predict_proba(test)[:, 1]
    y = test["switched"].to_numpy()
    # The table's metrics against scikit-learn's on the same predictions: only rounding separates them.
    assert table.loc[("held-out", "log_loss"), method] == pytest.approx(log_loss(y, proba), abs=1e-12)
    assert table.loc[("held-out", "brier"), method] == pytest.approx(brier_score_loss(y, proba), abs=1e-12)
    assert table.loc[("held-out", "accuracy"), method] == pytest.approx(accuracy_score(y, proba > 0.5), abs=1e-12)


def test_iris_shows_why_ml_is_missing_and_matches_scikit_learn(iris_split):
    fits, test = iris_split
    # 113 training rows and three classes: some rows' LOO estimates are unreliable, and compare says so.
    with pytest.warns(
        UserWarning,
        match=r"^ELPD-LOO of the laplace fit (is|may be) unreliable for \d+ of the 113 rows "
        r"it was computed on, whose Pareto k exceeds 0\.67.*cross-validate "
        r"\(k-fold\)$",
    ) as caught:
        table = compare(fits, test, test["species"])
    high = next(
        int(found.group(1))
        for warning in caught
        if (found := re.search(r"ELPD-LOO .* unreliable for (\d+) of", str(warning.message)))
    )
    assert table.loc[("loo", "high_pareto_k"), "laplace"] == high and 1 <= high <= 20
    assert list(table.columns) == ["map", "laplace", "ml"]  # failed fits last
    assert table["ml"].isna().all()
    assert table.failures["ml"].startswith("SeparationError: maximum likelihood does not exist")
    assert "ml: not fitted (SeparationError" in str(table)
    fitted = ["map", "laplace"]
    assert np.isfinite(table.loc["held-out", fitted].loc[METRICS].to_numpy()).all()
    assert np.isfinite(table.loc["loo", "laplace"].to_numpy()).all()
    y = test["species"].to_numpy()
    classes = list(fits["map"].model.classes_)
    for method in fitted:
        proba = fits[method].predict_proba(test)
        assert table.loc[("held-out", "log_loss"), method] == pytest.approx(
            log_loss(y, proba, labels=classes), abs=1e-12
        )
        assert table.loc[("held-out", "brier"), method] == pytest.approx(
            brier_score_loss(y, proba, labels=classes), abs=1e-12
        )
        assert table.loc[("held-out", "accuracy"), method] == pytest.approx(
            accuracy_score(y, fits[method].predict(test)), abs=1e-12
        )


def test_without_test_data_the_metrics_are_labelled_in_sample(wells_split):
    fits, _, _ = wells_split
    table = compare([fits["ml"], fits["map"]])
    assert "in-sample" in table.index.get_level_values(0) and "held-out" not in table.index.get_level_values(0)
    model = fits["ml"].model
    proba = fits["ml"].predict_proba()[:, 1]
    assert table.loc[("in-sample", "log_loss"), "ml"] == pytest.approx(-fits["ml"].llf / len(model.data.y), rel=1e-12)
    assert table.loc[("in-sample", "log_loss"), "ml"] == pytest.approx(log_loss(model.data.y, proba), abs=1e-12)


def test_a_single_fit_is_a_table_of_one_column(wells_split):
    fits, test, table = wells_split
    single = compare(fits["laplace"], test, test["switched"])
    assert list(single.columns) == ["laplace"]
    pd.testing.assert_series_equal(single["laplace"], table["laplace"].loc[single.index])


def test_fits_that_cannot_be_told_apart_or_are_missing_are_refused(wells_split):
    fits, _, _ = wells_split
    with pytest.raises(ValueError, match=r"two fits share a method \(\['map', 'map'\]\); pass a dict"):
        compare([fits["map"], fits["map"]])
    with pytest.raises(ValueError, match=r"no usable fit \(none given\); pass fits such as model.fit_all"):
        compare({})
    challenger = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())
    with pytest.raises(ValueError, match="these fits come from different models"):
        compare([fits["map"], challenger.fit_ml()])
    # Two MAP fits under different priors, named by a dict.
    other = fits["map"].model.fit_map(bl.Normal(0.1))
    table = compare({"sigma=2.5": fits["map"], "sigma=0.1": other})
    assert list(table.columns) == ["sigma=2.5", "sigma=0.1"]
    assert abs(table.loc[("coef", "arsenic"), "sigma=0.1"]) < abs(table.loc[("coef", "arsenic"), "sigma=2.5"])


def test_expected_calibration_error_by_hand():
    # Binary: bins of Pr(class 1). Rows 0-1 fall in bin [0.1, 0.2) with mean prediction 0.15 and frequency
    # 0.5; rows 2-4 in bin [0.9, 1.0] with mean 0.95 and frequency 2/3.
    p1 = np.array([0.1, 0.2 - 1e-9, 0.9, 0.95, 1.0])
    codes = np.array([0, 1, 1, 1, 0])
    proba = np.column_stack([1 - p1, p1])
    bins = calibration_bins(proba, codes, n_bins=10)
    assert list(bins.index) == [1, 9]
    np.testing.assert_allclose(bins["frequency"], [0.5, 2 / 3])
    np.testing.assert_allclose(bins["weight"], [2, 3])
    expected = (2 * abs(0.5 - (0.1 + 0.2 - 1e-9) / 2) + 3 * abs(2 / 3 - 0.95)) / 5
    assert expected_calibration_error(proba, codes, n_bins=10) == pytest.approx(expected, rel=1e-12)
    # Multiclass: top-label confidence against whether the top label is right.
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.05, 0.9, 0.05]])
    codes = np.array([0, 1, 1])
    expected = (abs(1 - 0.7) + abs(0 - 0.6) + abs(1 - 0.9)) / 3
    assert expected_calibration_error(proba, codes, n_bins=10) == pytest.approx(expected, rel=1e-12)


def test_unknown_test_labels_are_named(wells_split):
    fits, test, _ = wells_split
    labels = test["switched"].replace({1: 2}).to_numpy().copy()
    labels[0] = 7
    with pytest.raises(bl.DataError, match=r"not fitted on: 2, 7; the model's classes are \[0, 1\]"):
        compare(fits, test, labels)
    with pytest.raises(ValueError, match="give both X and y"):
        compare(fits, test)


def test_terminal_form_has_sections_and_methods(wells_split):
    _, test, table = wells_split
    lines = str(table).splitlines()
    assert lines[0].split() == ["ml", "map", "laplace", "mcmc"]
    for section in ["coef", "coef_se_sd", f"held-out ({len(test)} rows)", "loo", "diagnostics", "cost"]:
        assert section in lines
    log_loss_line = next(line for line in lines if line.strip().startswith("log_loss"))
    assert len(log_loss_line.split()) == 5
    elpd_line = next(line for line in lines if line.strip().startswith("elpd_loo "))
    assert elpd_line.split()[1:3] == ["-", "-"]  # point fits have no ELPD-LOO


@pytest.mark.parametrize("method", ["laplace", "mcmc"])
def test_loo_rows_in_blocks_equal_arviz_loo(wells_split_fits, monkeypatch, method):
    """compare computes PSIS-LOO block of rows by block (memory bounded by rows x draws of one block); the sums
    equal ArviZ's loo on the whole DataTree, r_eff included, even with blocks of a few rows."""
    from bayeslogit.numerics import blocks

    fit = wells_split_fits[0][method]
    reference = fit.loo()
    monkeypatch.setattr(blocks, "BLOCK_VALUES", 7 * fit.n_chains * fit.n_draws)  # blocks of 7 rows
    rows = fit.comparison_rows()["loo"]
    assert rows["elpd_loo"] == pytest.approx(float(reference.elpd), rel=1e-12)
    assert rows["elpd_loo_se"] == pytest.approx(float(reference.se), rel=1e-10)
    assert rows["p_loo"] == pytest.approx(float(reference.p), rel=1e-10)
    assert rows["high_pareto_k"] == int((reference.pareto_k > reference.good_k).sum())
    assert rows["loo_rows"] == len(fit.model.data.y)


def test_loo_subsamples_many_rows_and_stays_within_its_sampling_error(wells_split_fits, monkeypatch):
    """Past EXACT_ROWS rows, PSIS runs on a seeded subsample and ArviZ's difference estimator corrects every
    row's in-sample lpd by it. elpd_i = lpd_i - p_loo_i, so the estimator's error is that of a mean of p_loo_i
    over m of N rows: N sd(p_loo_i) sqrt(1 - m / N) / sqrt(m); the estimate lies within 4 of those."""
    from bayeslogit.fits.diagnostics import loo

    fit = wells_split_fits[0]["laplace"]
    exact = loo.loo_rows(fit)
    N, m = exact["loo_rows"], 400
    _, _, p_loo_i = loo._pointwise(fit, np.arange(N), 1.0)
    monkeypatch.setattr(loo, "EXACT_ROWS", 1000)
    monkeypatch.setattr(loo, "SUBSAMPLE_ROWS", m)
    subsampled, _ = loo.loo_estimate(fit)  # computed again: the fit's cached estimate is the exact one
    assert subsampled["loo_rows"] == m and subsampled == loo.loo_estimate(fit)[0]  # seeded: the same rows each time
    assert loo.loo_rows(fit) == exact  # the fit computes its estimate once
    sampling_se = N * p_loo_i.std(ddof=1) * np.sqrt(1 - m / N) / np.sqrt(m)
    assert abs(subsampled["elpd_loo"] - exact["elpd_loo"]) < 4 * sampling_se
    assert abs(subsampled["p_loo"] - exact["p_loo"]) < 4 * sampling_se
    assert subsampled["elpd_loo_se"] >= exact["elpd_loo_se"] * 0.99
