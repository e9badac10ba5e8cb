"""Categorical multilevel fits (three classes or more) saved and loaded back: every figure exactly as the fit gives
it, tables by class and predictions (n, K) for seen and unseen groups included; the classes, the reference and the
response's kind checked when read, as the other fields are; a model of other classes refused."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import assert_same_fit, edited, rewritten
from scipy.special import softmax

import bayeslogit as bl

FORMATS = [pytest.param(".nc", id="netcdf"), pytest.param(".zarr", id="zarr")]
FORMULA = "y ~ x + center(z) + (1 + x | g)"  # a transform's state and a correlated term, by class


def _frame(seed: int, labels=("no", "perhaps", "yes")) -> pd.DataFrame:
    """20 groups of 30 rows, three classes (the first the reference) with their own intercepts and slopes of x by
    group."""
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(20), 30)
    x, z = rng.normal(size=(2, len(codes)))
    intercepts, slopes = rng.normal(scale=(0.6, 0.9), size=(2, 20, 2))
    eta = (
        np.array([0.3, -0.4])
        + intercepts[codes]
        + (np.array([0.7, -0.6]) + slopes[codes]) * x[:, None]
        + 0.3 * z[:, None]
    )
    P = softmax(np.column_stack([np.zeros(len(codes)), eta]), axis=1)
    y = (rng.random(len(codes))[:, None] > np.cumsum(P, axis=1)[:, :-1]).sum(axis=1)
    return pd.DataFrame({"y": np.asarray(labels, dtype=object)[y], "x": x, "z": z, "g": [f"g{c}" for c in codes]})


@pytest.fixture(scope="module")
def frame():
    return _frame(5)


@pytest.fixture(scope="module")
def fits(frame):
    """ML, MAP and MCMC (2 chains of 30 draws) of the three-class model."""
    model = bl.MultilevelModel.from_formula(FORMULA, frame)
    prior = bl.Normal(2.0, group=bl.GroupPrior(sd_rate=0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bl.ConvergenceWarning)  # 2 x 30 draws are too few for the MCMC check
        return {
            "ml": model.fit_ml(),
            "map": model.fit_map(prior),
            "mcmc": model.fit_mcmc(prior, draws=30, tune=30, chains=2, random_seed=3),
        }


@pytest.fixture(scope="module")
def new_rows():
    """Rows of seen and unseen groups."""
    rng = np.random.default_rng(4)
    return pd.DataFrame({"x": rng.normal(size=8), "z": rng.normal(size=8), "g": ["g0", "g7", "new", "g19"] * 2})


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("name", ["ml", "map", "mcmc"])
def test_categorical_fits_round_trip_exactly(fits, new_rows, tmp_path, name, suffix):
    """Tables by class, predictions (n, K), the response as read; a point fit's result, an MCMC fit's posterior
    (its coef by predictor and class) and diagnosis."""
    fit = fits[name]
    loaded = bl.load(fit.save(tmp_path / f"{name}{suffix}"))
    assert_same_fit(loaded, fit, new_rows)
    assert loaded.layout.classes == ("no", "perhaps", "yes")
    assert loaded.layout.labels == ("g (class perhaps)", "g (class yes)")
    assert loaded.predict_proba(new_rows).shape == (8, 3)
    np.testing.assert_array_equal(loaded.source.response.codes, fit.source.response.codes)
    assert (loaded.source.response.classes, loaded.source.successes) == (fit.source.response.classes, None)


def test_in_sample_and_held_out_comparisons_of_loaded_categorical_fits(fits, tmp_path):
    loaded = {name: bl.load(fit.save(tmp_path / f"{name}.nc")) for name, fit in fits.items()}
    pd.testing.assert_frame_equal(bl.compare(loaded), bl.compare(fits), check_exact=True)
    held_out = _frame(6)
    pd.testing.assert_frame_equal(bl.compare(loaded, held_out), bl.compare(fits, held_out), check_exact=True)


def test_a_loaded_categorical_fit_saved_again_writes_the_same_file(fits, tmp_path):
    for name in ("ml", "mcmc"):
        first = fits[name].save(tmp_path / f"{name}.nc")
        again = bl.load(first).save(tmp_path / f"{name}-again.nc")
        metas = [json.loads(xr.load_datatree(path).attrs["bayeslogit"]) for path in (first, again)]
        assert metas[0] == metas[1]
        assert metas[0]["response"] == {"kind": "categorical", "classes": ["no", "perhaps", "yes"], "reference": "no"}


def test_numeric_class_labels_keep_their_type(tmp_path):
    frame = _frame(7, labels=(1, 2, 3))
    fit = bl.MultilevelModel.from_formula("y ~ x + (1 | g)", frame).fit_ml()
    loaded = bl.load(fit.save(tmp_path / "ml.nc"))
    assert loaded.layout.classes == (1, 2, 3) and [type(label) for label in loaded.layout.classes] == [int] * 3
    pd.testing.assert_frame_equal(loaded.coef, fit.coef, check_exact=True)
    np.testing.assert_array_equal(loaded.predict_proba(frame), fit.predict_proba(frame))


def test_the_model_of_the_fit_is_attached_and_one_of_other_classes_refused(fits, frame, tmp_path):
    path = fits["map"].save(tmp_path / "map.nc")
    model = bl.MultilevelModel.from_formula(FORMULA, frame)
    assert bl.load(path, model=model).source.new_rows is model.source.new_rows
    moved = frame.assign(y=np.r_[["yes", "no", "no"], frame.y[3:]])
    pattern = r"`model` does not match the fit saved in '.*map.nc': {}"
    other = bl.MultilevelModel.from_formula(FORMULA, moved)
    with pytest.raises(bl.DataError, match=pattern.format(r"class_codes differs in \d of 600 training rows")):
        bl.load(path, model=other)
    relabelled = bl.MultilevelModel.from_formula(FORMULA, frame.assign(y=frame.y.str.upper()))
    with pytest.raises(bl.DataError, match=pattern.format(r"labels \['g \(class PERHAPS\)'.*classes \['NO'")):
        bl.load(path, model=relabelled)
    two_classes = bl.MultilevelModel.from_formula(FORMULA, frame.assign(y=frame.y.eq("yes")))
    with pytest.raises(bl.DataError, match=pattern.format(r"labels \['g'\] \(saved: \['g \(class perhaps\)'")):
        bl.load(path, model=two_classes)


@pytest.mark.parametrize(
    ("name", "place", "value", "message"),
    [
        ("ml", ("response", "kind"), "multinomial", r"response.kind must be one of \['binomial', 'categorical'\]"),
        ("ml", ("response", "kind"), "binomial", r"response.classes must be 2 labels for a binomial response"),
        ("map", ("response", "classes"), ["no", "yes"], r"response.classes must be 3 or more labels for a categorical"),
        ("ml", ("response", "classes"), ["no", "no", "yes"], r"response.classes must be distinct labels of one type"),
        ("ml", ("response", "classes"), ["no", 1, "yes"], r"response.classes must be distinct labels of one type"),
        ("ml", ("response", "classes", 1), ["a"], r"the metadata.response.classes\[1\] must be "),
        ("ml", ("response", "reference"), "yes", r"response.reference 'yes' is not the first of response.classes 'no'"),
        ("mcmc", ("response", "reference"), None, r"the metadata.response.reference must be "),
        ("map", ("response", "classes"), ["no", "maybe", "yes"], r"'/estimate's class coordinate is not the response"),
        ("mcmc", ("response", "classes"), ["no", "maybe", "yes"], r"the posterior's class coordinate is \['perhaps'"),
        (
            "ml",
            ("response",),
            {"kind": "categorical"},
            r"the metadata.response must have the keys \[.classes., .kind., .reference.\]; .* are missing",
        ),
    ],
)
def test_response_metadata_that_is_not_the_fits_is_refused(fits, tmp_path, name, place, value, message):
    """Under a checksum rewritten to match: a kind of other classes, classes of other types or count, a reference
    that is not the first class, classes that the arrays' labels contradict."""
    path = rewritten(
        fits[name].save(tmp_path / "fit.nc"), lambda meta: edited(meta, *place, value=value), tmp_path / "edited.nc"
    )
    with pytest.raises(bl.DataError, match=rf"'.*edited.nc' .*{message}.*; save the fit again"):
        bl.load(path)


def _nodes(node: str, name: str, edit, dims=None):
    """An edit of a file's tree: ``node``'s variable ``name`` replaced by ``edit`` of its values (of the dims
    ``dims``; None: its own), or dropped where ``edit`` is None."""

    def change(tree):
        ds = tree[node].to_dataset().drop_vars(name)
        if edit is not None:
            variable = tree[node][name]
            ds = ds.assign({name: (dims or variable.dims, edit(variable.values))})
        tree[node] = xr.DataTree(ds)
        return tree

    return change


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        (_nodes("design", "class_codes", lambda v: v + 1), r"'/design's class_codes must be indices of the 3 classes"),
        (
            _nodes("design", "class_codes", lambda v: v + 0.5),
            r"'/design's class_codes must be indices of the 3 classes",
        ),
        (_nodes("design", "class_codes", None), r"KeyError: .*class_codes"),
        (
            _nodes("group_term_0", "sd", lambda v: v[0], ("column",)),
            r"'/group_term_0's sd must be numbers of the dims \('class', 'column'\)",
        ),
        (
            _nodes("estimate", "beta", lambda v: v.ravel(), ("coefficient",)),
            r"'/estimate's beta must be numbers of the dims \('class', 'predictor'\)",
        ),
    ],
)
def test_response_arrays_that_do_not_make_the_fit_are_refused(fits, tmp_path, nodes, message):
    path = rewritten(fits["ml"].save(tmp_path / "fit.nc"), lambda meta: meta, tmp_path / "edited.nc", nodes)
    with pytest.raises(bl.DataError, match=rf"'.*edited.nc' does not hold .*{message}"):
        bl.load(path)
