"""Saving fits and loading them back: exact round trips, what a loaded fit can do, atomic writes, damaged files."""

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayeslogit as bl
from bayeslogit.fits import storage


FORMATS = [pytest.param(".nc", id="netcdf"), pytest.param(".zarr", id="zarr")]
FORMULA = "switched ~ center(dist100) + np.log(arsenic) + C(assoc)"  # a stateful transform and a categorical term


@pytest.fixture(scope="module")
def wells():
    """(training rows, new rows) of the wells data."""
    frame = bl.datasets.load_wells()
    return frame.iloc[:600], frame.iloc[600:900]


@pytest.fixture(scope="module")
def binary_fits(wells):
    """Every kind of fit of a binary formula model; MCMC with 2 chains of 100 draws."""
    model = bl.LogisticModel.from_formula(FORMULA, wells[0])
    with warnings.catch_warnings():
        # 2 x 100 draws cannot reach the ESS of 400 that the MCMC check asks for; the warning is not tested here.
        warnings.simplefilter("ignore", bl.ConvergenceWarning)
        return model.fit_all(bl.Normal(2.5, intercept_sigma=10.0), random_seed=0, draws=100, tune=100, chains=2,
                             progressbar=False)


@pytest.fixture(scope="module")
def multiclass():
    """A 3-class model of unnamed array features and integer labels, its ML, MAP and Laplace fits, and new rows."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(240, 2))
    logits = np.column_stack([np.zeros(240), 1.0 + 2.0 * X[:, 0], -0.5 + 1.5 * X[:, 1]])
    y = np.array([rng.choice(3, p=p) for p in np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)])
    model = bl.LogisticModel(X, y * 10)
    prior = bl.Normal(sigma=[2.0, 3.0])
    fits = {"ml": model.fit_ml(), "map": model.fit_map(prior),
            "laplace": model.fit_laplace(prior, draws=400, random_seed=1)}
    return model, fits, rng.normal(size=(50, 2))


def _round_trip(fit, tmp_path, suffix, **load_options):
    path = tmp_path / f"{fit.method}{suffix}"
    assert fit.save(path) == path
    return bl.load(path, **load_options)


def _assert_same_point(loaded, fit):
    assert (type(loaded), loaded.method, loaded.prior) == (type(fit), fit.method, fit.prior)
    assert (loaded.loglik, loaded.n_iter, loaded.converged, loaded.fit_time) == (
        fit.loglik, fit.n_iter, fit.converged, fit.fit_time)
    np.testing.assert_array_equal(loaded.params, fit.params)
    np.testing.assert_array_equal(loaded.hessian, fit.hessian)
    pd.testing.assert_frame_equal(loaded.cov, fit.cov, check_exact=True)
    pd.testing.assert_frame_equal(loaded.history, fit.history, check_exact=True)


def _assert_same_labels(loaded, fit):
    model, original = loaded.model, fit.model
    assert (model.likelihood, model.coef_names, model.feature_names, model.formula, model.response) == (
        original.likelihood, original.coef_names, original.feature_names, original.formula, original.response)
    assert model.classes_.dtype == original.classes_.dtype
    np.testing.assert_array_equal(model.classes_, original.classes_)


def _assert_same_posterior(loaded, fit):
    _assert_same_point(loaded.map_fit, fit.map_fit)
    assert (type(loaded), loaded.prior, loaded.fit_time) == (type(fit), fit.prior, fit.fit_time)
    np.testing.assert_array_equal(loaded.coef_draws, fit.coef_draws)
    np.testing.assert_array_equal(loaded.cov, fit.cov)
    assert repr(loaded.diagnosis) == repr(fit.diagnosis)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("method", ["ml", "map", "laplace", "mcmc"])
def test_binary_formula_fits_round_trip_exactly(binary_fits, wells, tmp_path, method, suffix):
    fit = binary_fits[method]
    loaded = _round_trip(fit, tmp_path, suffix)
    _assert_same_labels(loaded, fit)
    if method in ("ml", "map"):
        _assert_same_point(loaded, fit)
    else:
        _assert_same_posterior(loaded, fit)
    pd.testing.assert_frame_equal(loaded.summary(), fit.summary(), check_exact=True)
    pd.testing.assert_frame_equal(loaded.summary(ci_prob=0.95), fit.summary(ci_prob=0.95), check_exact=True)
    # The same coefficients through the same spec (centred by the training mean) give the same probabilities; 1e-12
    # allows for nothing but the order of floating-point sums.
    new_rows = wells[1]
    np.testing.assert_allclose(loaded.predict_proba(new_rows), fit.predict_proba(new_rows), rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(loaded.boundary().summary(), fit.boundary().summary(), check_exact=True)


@pytest.mark.parametrize("suffix", FORMATS)
def test_mcmc_keeps_its_sampler_statistics_and_diagnosis(binary_fits, tmp_path, suffix):
    fit = binary_fits["mcmc"]
    loaded = _round_trip(fit, tmp_path, suffix)
    assert loaded.sampler == fit.sampler
    xr.testing.assert_equal(loaded.sample_stats, fit.sample_stats)
    pd.testing.assert_frame_equal(loaded.diagnosis.table, fit.diagnosis.table, check_exact=True)
    assert (loaded.diagnosis.divergences, loaded.diagnosis.message) == (fit.diagnosis.divergences,
                                                                        fit.diagnosis.message)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("method", ["ml", "map", "laplace"])
def test_multiclass_array_fits_round_trip_exactly(multiclass, tmp_path, method, suffix):
    model, fits, new_rows = multiclass
    fit = fits[method]
    loaded = _round_trip(fit, tmp_path, suffix)
    _assert_same_labels(loaded, fit)
    assert loaded.model.coef_classes == [10, 20]
    if method == "laplace":
        _assert_same_posterior(loaded, fit)
        np.testing.assert_array_equal(loaded.latent, fit.latent)
        pd.testing.assert_frame_equal(loaded.diagnosis.corrected_coef, fit.diagnosis.corrected_coef, check_exact=True)
    else:
        _assert_same_point(loaded, fit)
    pd.testing.assert_frame_equal(loaded.summary(), fit.summary(), check_exact=True)
    np.testing.assert_allclose(loaded.predict_proba(new_rows), fit.predict_proba(new_rows), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(loaded.predict(new_rows), fit.predict(new_rows))


def test_arviz_reads_the_posterior_of_a_saved_file(binary_fits, tmp_path):
    fit = binary_fits["mcmc"]
    fit.save(tmp_path / "mcmc.nc")
    tree = xr.load_datatree(tmp_path / "mcmc.nc")
    assert tree["posterior"]["coef"].dims == ("chain", "draw", "predictor")
    assert list(tree["posterior"]["predictor"].values) == fit.model.coef_names
    np.testing.assert_array_equal(tree["posterior"]["coef"].values, fit.coef_draws[..., 0])


def test_a_loaded_fit_without_its_model_names_the_missing_training_rows(binary_fits, tmp_path):
    loaded = _round_trip(binary_fits["laplace"], tmp_path, ".nc")
    fix = r"load the fit with bl.load\(path, model=model\), a model of the same data, to attach them"
    with pytest.raises(bl.DataError, match=f"predicting without X .* needs the training rows, which a saved fit does "
                                           f"not keep; {fix}"):
        loaded.predict_proba()
    with pytest.raises(bl.DataError, match="the log-likelihood of every row .* needs the training rows"):
        loaded.log_likelihood()
    for needs_labels in (loaded.loo, loaded.to_datatree):
        with pytest.raises(bl.DataError, match=f"a loaded fit has no training labels \\(y\\): a saved fit does not "
                                               f"keep them; {fix}"):
            needs_labels()
    with pytest.raises(bl.DataError, match="evaluating the objective of a loaded fit needs the training rows"):
        loaded.map_fit.objective(loaded.map_fit.iterations[-1].x)


def test_loading_with_the_model_restores_what_needs_the_training_rows(binary_fits, wells, tmp_path):
    model = binary_fits["ml"].model
    fits = {method: _round_trip(fit, tmp_path, ".nc", model=model) for method, fit in binary_fits.items()}
    assert all(fit.model is model for fit in fits.values())
    np.testing.assert_array_equal(fits["mcmc"].log_likelihood(), binary_fits["mcmc"].log_likelihood())
    np.testing.assert_array_equal(fits["ml"].predict_proba(), binary_fits["ml"].predict_proba())
    # Every row, ELPD-LOO included, is computed from the saved draws and the attached rows as from the originals.
    pd.testing.assert_frame_equal(bl.compare(fits, *_test_data(wells)), bl.compare(binary_fits, *_test_data(wells)),
                                  check_exact=True)


def test_fits_loaded_one_by_one_share_a_model_given_to_the_next(binary_fits, wells, tmp_path):
    first = _round_trip(binary_fits["ml"], tmp_path, ".zarr")
    second = _round_trip(binary_fits["map"], tmp_path, ".zarr", model=first.model)
    assert second.model is first.model
    point_fits = {method: binary_fits[method] for method in ("ml", "map")}
    pd.testing.assert_frame_equal(bl.compare({"ml": first, "map": second}, *_test_data(wells)),
                                  bl.compare(point_fits, *_test_data(wells)), check_exact=True)


def _test_data(wells):
    return wells[1], wells[1]["switched"]


def test_a_model_of_other_data_is_refused(binary_fits, multiclass, tmp_path):
    binary_fits["map"].save(tmp_path / "map.nc")
    with pytest.raises(ValueError, match=r"`model` does not match the fit saved in '.*map.nc': likelihood "
                                         r"'categorical' \(saved: 'bernoulli'\)"):
        bl.load(tmp_path / "map.nc", model=multiclass[0])


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_failed_write_leaves_the_existing_file_whole(binary_fits, tmp_path, monkeypatch, suffix):
    path = tmp_path / f"fit{suffix}"
    binary_fits["ml"].save(path)
    write, read = storage._FORMATS[suffix]

    def write_then_fail(tree, target):
        write(tree, target)
        raise OSError("disk full")

    monkeypatch.setitem(storage._FORMATS, suffix, (write_then_fail, read))
    with pytest.raises(OSError, match="disk full"):
        binary_fits["map"].save(path)
    monkeypatch.undo()
    assert bl.load(path).method == "ml"
    assert [entry.name for entry in tmp_path.iterdir()] == [path.name]  # no temporary left behind
    binary_fits["map"].save(path)  # a successful write replaces the file (or the zarr directory)
    np.testing.assert_array_equal(bl.load(path).params, binary_fits["map"].params)


def test_a_truncated_netcdf_file_is_refused(binary_fits, tmp_path):
    path = tmp_path / "fit.nc"
    binary_fits["laplace"].save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(bl.DataError, match=r"cannot read '.*fit.nc' as a saved fit .*the file is damaged \(truncated"):
        bl.load(path)


def test_a_zarr_directory_missing_a_chunk_is_refused(binary_fits, tmp_path):
    path = tmp_path / "fit.zarr"
    binary_fits["laplace"].save(path)
    chunks = [chunk for chunk in (path / "laplace" / "latent").iterdir() if not chunk.name.startswith(".")]
    chunks[0].unlink()  # zarr reads a missing chunk as its fill value, without an error
    with pytest.raises(bl.DataError, match=r"'.*fit.zarr' is damaged: its arrays do not match the checksum"):
        bl.load(path)


def test_a_foreign_netcdf_file_is_refused(tmp_path):
    path = tmp_path / "other.nc"
    xr.Dataset({"temperature": ("time", [1.0, 2.0])}).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(bl.DataError, match=r"'.*other.nc' is not a saved bayeslogit fit: its root has no bayeslogit "
                                           "fit metadata"):
        bl.load(path)


def test_unknown_suffixes_and_failed_fits_are_refused(binary_fits, tmp_path):
    with pytest.raises(ValueError, match=r"chosen by the path's suffix, one of \['.nc', '.zarr'\]; got '.*fit.pkl'"):
        binary_fits["ml"].save(tmp_path / "fit.pkl")
    failed = bl.FailedFit("ml", bl.SeparationError("the classes are separated"))
    with pytest.raises(TypeError, match="the ml fit failed .*so it has no estimates to save"):
        failed.save(tmp_path / "failed.nc")
    assert not any(tmp_path.iterdir())
