"""Multilevel fits saved and loaded back: every figure exactly as the fit gives it (new rows, unseen groups and
in-sample figures included, the loaded fit keeping the rows as the model read them), files of either kind read by
their own, a model given to load checked against the file, and damaged, altered and foreign files refused by a
DataError naming the file."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import assert_same_fit, edited, rewritten
from scipy.special import expit

import bayeslogit as bl
from bayeslogit.fits.storage import formats
from bayeslogit.plots.group_fits import no_pooling

FORMATS = [pytest.param(".nc", id="netcdf"), pytest.param(".zarr", id="zarr")]
CBPP = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
TWO_TERMS = "y ~ x + center(z) + (1 + x | g) + (1 | h)"  # a transform's state, a correlated and a second term


@pytest.fixture(scope="module")
def cbpp():
    return bl.datasets.load_cbpp()


@pytest.fixture(scope="module")
def groups_data():
    """20 groups g of 30 rows with their own intercepts and slopes of x, crossed with 4 groups h."""
    rng = np.random.default_rng(2)
    g, h = np.repeat(np.arange(20), 30), np.tile(np.arange(4), 150)
    x, z = rng.normal(size=(2, len(g)))
    b0, b1, c = rng.normal(scale=0.8, size=20), rng.normal(scale=0.5, size=20), rng.normal(scale=0.5, size=4)
    eta = -0.3 + b0[g] + c[h] + (1.0 + b1[g]) * x + 0.5 * z
    y = (rng.random(len(g)) < expit(eta)).astype(int)
    return pd.DataFrame({"y": y, "x": x, "z": z, "g": [f"g{i}" for i in g], "h": h})


@pytest.fixture(scope="module")
def fits(cbpp, groups_data):
    """ML and MAP fits of cbpp and of the two-term model; MCMC of the two-term model, 2 chains of 40 draws."""
    herds = bl.MultilevelModel.from_formula(CBPP, cbpp)
    model = bl.MultilevelModel.from_formula(TWO_TERMS, groups_data)
    prior = bl.Normal(2.0, group=bl.GroupPrior(sd_rate=0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bl.ConvergenceWarning)  # 2 x 40 draws are too few for the MCMC check
        return {
            "cbpp-ml": herds.fit_ml(),
            "cbpp-map": herds.fit_map(),
            "ml": model.fit_ml(),
            "map": model.fit_map(prior),
            "mcmc": model.fit_mcmc(prior, draws=40, tune=40, chains=2, random_seed=3),
        }


@pytest.fixture(scope="module")
def new_rows(groups_data):
    """Rows of seen and unseen groups of both terms."""
    rng = np.random.default_rng(4)
    return pd.DataFrame(
        {
            "x": rng.normal(size=12),
            "z": rng.normal(size=12),
            "g": ["g0", "g5", "g19", "new", "g3", "other"] * 2,
            "h": [0, 1, 2, 3, 9, 0] * 2,
        }
    )


def _new_rows_of(name: str, cbpp: pd.DataFrame, new_rows: pd.DataFrame) -> pd.DataFrame:
    if name.startswith("cbpp"):
        return pd.DataFrame({"period": ["1", "2", "3", "4"], "herd": ["1", "7", "99", "new"]})
    return new_rows


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("name", ["cbpp-ml", "cbpp-map", "ml", "map", "mcmc"])
def test_fits_round_trip_exactly(fits, cbpp, new_rows, tmp_path, name, suffix):
    """Point fits with their results, MCMC with its posterior tree and diagnosis."""
    fit = fits[name]
    path = tmp_path / f"{name}{suffix}"
    assert fit.save(path) == path
    loaded = bl.load(path)
    assert_same_fit(loaded, fit, _new_rows_of(name, cbpp, new_rows))


def test_arviz_reads_the_posterior_of_a_saved_file(fits, tmp_path):
    path = fits["mcmc"].save(tmp_path / "mcmc.nc")
    tree = xr.open_datatree(path, engine="h5netcdf")
    np.testing.assert_array_equal(tree["posterior"]["b__g"].values, fits["mcmc"].posterior["posterior"]["b__g"].values)


@pytest.mark.parametrize("names", [["ml", "map", "mcmc"], ["cbpp-ml", "cbpp-map"]])
def test_in_sample_figures_need_no_model(fits, groups_data, tmp_path, names):
    """The comparison without held-out rows and the no-pooling estimates of the shrinkage plot read the training
    rows, which the file keeps as the model read them."""
    originals = {name: fits[name] for name in names}
    loaded = {name: bl.load(fit.save(tmp_path / f"{name}.nc")) for name, fit in originals.items()}
    pd.testing.assert_frame_equal(bl.compare(loaded), bl.compare(originals), check_exact=True)
    if "mcmc" in names:
        held_out = groups_data.iloc[::7]
        pd.testing.assert_frame_equal(bl.compare(loaded, held_out), bl.compare(originals, held_out), check_exact=True)
    for name in names:
        for t, columns in enumerate(originals[name].layout.columns):
            for c in range(len(columns)):
                np.testing.assert_array_equal(no_pooling(loaded[name], t, c), no_pooling(originals[name], t, c))


def test_a_loaded_fit_saved_again_writes_the_same_arrays_and_metadata(fits, tmp_path):
    for name in ("map", "mcmc"):
        first = fits[name].save(tmp_path / f"{name}.nc")
        again = bl.load(first).save(tmp_path / f"{name}-again.nc")
        metas = [json.loads(xr.load_datatree(path).attrs["bayeslogit"]) for path in (first, again)]
        assert metas[0] == metas[1]  # the checksum among them: the same arrays


# ---- the kind of a file, and a model given to load -----------------------------------------------------------
def test_each_file_is_read_by_its_own_kind(fits, tmp_path):
    flat = bl.LogisticModel.from_formula("switched ~ dist + arsenic", bl.datasets.load_wells())
    flat_path = flat.fit_ml().save(tmp_path / "flat.nc")
    multilevel_path = fits["ml"].save(tmp_path / "multilevel.nc")
    assert type(bl.load(flat_path)) is bl.MLFit
    assert type(bl.load(multilevel_path)) is type(fits["ml"])
    with pytest.raises(bl.OptionError, match=r"'.*multilevel.nc' holds a multilevel fit; `model` must be the "):
        bl.load(multilevel_path, model=flat)
    with pytest.raises(bl.OptionError, match=r"'.*flat.nc' holds a fit of a bl.LogisticModel; .*got MultilevelModel"):
        bl.load(flat_path, model=bl.MultilevelModel.from_formula(CBPP, bl.datasets.load_cbpp()))


def test_a_model_of_the_same_formula_and_rows_is_attached(fits, groups_data, new_rows, tmp_path):
    model = bl.MultilevelModel.from_formula(TWO_TERMS, groups_data)
    path = fits["map"].save(tmp_path / "map.nc")
    loaded = bl.load(path, model=model)
    assert loaded.source.new_rows is model.source.new_rows
    assert_same_fit(loaded, fits["map"], new_rows)
    shared = bl.load(fits["ml"].save(tmp_path / "ml.nc"), model=loaded)  # another fit of the model will do
    assert shared.source.new_rows is model.source.new_rows


@pytest.mark.parametrize(
    ("formula", "edit", "message"),
    [
        pytest.param(
            "y ~ x + z + (1 + x | g) + (1 | h)",
            None,
            r"formula 'y ~ x \+ z \+ \(1 \+ x \| g\) \+ \(1 \| h\)' \(saved: 'y ~ x \+ center\(z\) .*\)",
            id="formula",
        ),
        pytest.param(
            TWO_TERMS,
            lambda d: d.assign(y=np.r_[1 - d.y[:3], d.y[3:]]),
            "successes differs in 3 of 600 training rows",
            id="response",
        ),
        pytest.param(
            TWO_TERMS,
            lambda d: d.assign(x=d.x.where(d.index != 10, 9.0)),
            "the fixed design X differs in 1 of 600",
            id="rows",
        ),
        pytest.param(TWO_TERMS, lambda d: d.iloc[:-1], r"599 training rows \(saved: 600\)", id="fewer-rows"),
        pytest.param(
            TWO_TERMS, lambda d: d.assign(h=d.h[::-1].to_numpy()), "the levels of 'h' differs in", id="groups"
        ),
    ],
)
def test_a_model_of_another_formula_or_other_rows_is_refused(fits, groups_data, tmp_path, formula, edit, message):
    data = groups_data if edit is None else edit(groups_data)
    path = fits["ml"].save(tmp_path / "ml.nc")
    with pytest.raises(bl.DataError, match=rf"`model` does not match the fit saved in '.*ml.nc': .*{message}"):
        bl.load(path, model=bl.MultilevelModel.from_formula(formula, data))


# ---- writing ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", FORMATS)
def test_saving_replaces_a_file_whole_or_leaves_it_as_it_was(fits, tmp_path, atomic_save, suffix):
    loaded = atomic_save(fits["ml"], fits["mcmc"], tmp_path / f"fit{suffix}")
    assert str(loaded.summary()) == str(fits["mcmc"].summary())


def test_saving_into_a_missing_folder_or_by_an_unknown_suffix_is_refused(fits, tmp_path):
    with pytest.raises(FileNotFoundError):
        fits["ml"].save(tmp_path / "missing" / "fit.nc")
    with pytest.raises(
        bl.OptionError, match=r"chosen by the path's suffix, one of \['.nc', '.zarr'\]; got '.*fit.rds'"
    ):
        fits["ml"].save(tmp_path / "fit.rds")
    assert not any(tmp_path.iterdir())


def test_a_formula_that_calls_other_code_is_refused_when_saved(groups_data, tmp_path):
    model = bl.MultilevelModel.from_formula("y ~ x.clip(-1, 1) + (1 | g)", groups_data)
    with pytest.raises(bl.DataError, match=r"the formula term 'x.clip\(-1, 1\)' uses the attribute 'x.clip'"):
        model.fit_ml().save(tmp_path / "fit.nc")
    assert not any(tmp_path.iterdir())


# ---- damaged, altered and foreign files ---------------------------------------------------------------------
def test_a_truncated_file_is_refused(fits, tmp_path):
    path = fits["mcmc"].save(tmp_path / "fit.nc")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(bl.DataError, match=r"cannot read '.*fit.nc' as a saved fit .*the file is damaged \(truncated"):
        bl.load(path)


@pytest.mark.parametrize("suffix", FORMATS)
def test_an_altered_field_fails_the_checksum(fits, tmp_path, suffix):
    tree = xr.load_datatree(fits["map"].save(tmp_path / f"fit{suffix}"))
    meta = json.loads(tree.attrs["bayeslogit"])
    meta["estimate"]["loglik"] += 1.0
    tree.attrs["bayeslogit"] = json.dumps(meta)
    formats.FORMATS[suffix][0](tree, tmp_path / f"altered{suffix}")
    with pytest.raises(bl.DataError, match=r"'.*altered.(nc|zarr)' is damaged: .* do not match the checksum"):
        bl.load(tmp_path / f"altered{suffix}")


def test_an_unknown_format_version_is_refused(fits, tmp_path):
    path = rewritten(fits["ml"].save(tmp_path / "fit.nc"), lambda meta: meta | {"version": 99}, tmp_path / "v.nc")
    with pytest.raises(
        bl.DataError, match=r"'.*v.nc' is in fit format version 99, which this bayeslogit does not read"
    ):
        bl.load(path)


@pytest.mark.parametrize(
    ("name", "place", "value", "message"),
    [
        ("ml", ("estimate", "n_agq"), "1", r"the metadata.estimate.n_agq must be int; got '1' \(str\)"),
        ("map", ("seconds",), None, r"the metadata.seconds must be float; got None"),
        ("map", ("model", "terms", 0, "correlated"), 1, r"the metadata.model.terms\[0\].correlated must be bool"),
        ("map", ("group_prior",), {"sd_shape": 2.0}, r"the metadata.group_prior must be an object with the keys"),
        ("ml", ("method",), "mcmc", r"the metadata.method must be one of \['ml'\]"),
        ("ml", ("fit",), "MultilevelFitBase", r"holds a fit of class 'MultilevelFitBase'; this bayeslogit loads \["),
        ("mcmc", ("posterior_groups",), ["posterior"], r"texts must name the text statistics of each posterior group"),
        (
            "ml",
            ("model", "formula"),
            "cbind(__import__('os').getpid(), y) ~ x",
            r"the formula term .*__import__.* uses the attribute",
        ),
        ("ml", ("model", "formula"), "y + x", r"model.formula 'y \+ x' is not 'response ~ terms'"),
        ("ml", ("model", "terms", 1), None, r"the metadata.model.terms\[1\] must be an object"),
        ("ml", ("model", "terms", 0, "label"), "h", r"model.terms labels two terms alike: \['h', 'h'\]"),
    ],
)
def test_metadata_of_a_wrong_shape_is_refused_naming_the_place(fits, tmp_path, name, place, value, message):
    """Under a checksum rewritten to match: a wrong type, a missing key, another kind's value, a formula whose
    response would call code on held-out rows."""
    path = rewritten(
        fits[name].save(tmp_path / "fit.nc"), lambda meta: edited(meta, *place, value=value), tmp_path / "edited.nc"
    )
    with pytest.raises(bl.DataError, match=rf"'.*edited.nc' .*{message}"):
        bl.load(path)


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        (
            lambda tree: _replace(tree, "group_term_0", codes=lambda v: v + 25),
            r"group_term_0's codes must be 600 indices of its 20 levels",
        ),
        (
            lambda tree: _replace(tree, "design", successes=lambda v: v[:-1]),
            r"'/design's successes must be numbers of the dims \('obs',\)",
        ),
        (
            lambda tree: _relabel(tree, "group_term_1", "level", [1, 2, 3, 4]),
            r"group_term_1's level labels must be text",
        ),
        (
            lambda tree: _relabel(tree, "estimate", "predictor", ["a", "b", "c"]),
            r"the estimate's predictor coordinate is not the design's",
        ),
    ],
)
def test_arrays_that_do_not_make_the_fit_are_refused(fits, tmp_path, nodes, message):
    path = rewritten(fits["ml"].save(tmp_path / "fit.nc"), lambda meta: meta, tmp_path / "edited.nc", nodes)
    with pytest.raises(bl.DataError, match=rf"'.*edited.nc' does not hold .*{message}"):
        bl.load(path)


def _replace(tree, node: str, **edits):
    """``tree`` with the variables of ``node`` replaced by ``edits`` (name -> function of the values)."""
    ds = tree[node].to_dataset()
    for name, edit in edits.items():
        values = edit(ds[name].values)
        ds = ds.drop_vars(name).assign(
            {name: (ds[name].dims if values.shape == ds[name].shape else ("short",), values)}
        )
    tree[node] = xr.DataTree(ds)
    return tree


def _relabel(tree, node: str, dim: str, labels: list):
    tree[node] = xr.DataTree(tree[node].to_dataset().assign_coords({dim: labels}))
    return tree


def test_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "other.nc"
    xr.DataTree.from_dict({"design": xr.Dataset({"X": ("obs", [1.0])})}).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(bl.DataError, match=r"'.*other.nc' is not a saved bayeslogit fit"):
        bl.load(path)
