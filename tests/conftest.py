import os
import shutil
import subprocess

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")


@pytest.fixture
def rng():
    return np.random.default_rng(20261129)


@pytest.fixture(autouse=True)
def close_figures():
    """Every figure a test makes is closed after it."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def headless_chromium(tmp_path):
    """``run(page, *options) -> stdout``: headless Chromium on the HTML file ``page`` with ``options`` (e.g.
    ``--dump-dom``, ``--screenshot=FILE``), in a profile and home under ``tmp_path``; skips where Chromium is absent
    (``.ci/run`` installs it where it can)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium or chromium-browser on PATH to render the page with")

    def run(page, *options) -> str:
        done = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"]
            + [*options, page.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HOME": str(tmp_path)},
            check=True,
        )
        return done.stdout

    return run


def split(frame, seed: int):
    """75% training rows and 25% held-out rows, chosen by a seeded permutation."""
    rows = np.random.default_rng(seed).permutation(len(frame))
    cut = len(frame) // 4
    return frame.iloc[rows[cut:]], frame.iloc[rows[:cut]]


@pytest.fixture(scope="session")
def wells_split_fits():
    """Wells fitted every way on 75% of its rows (MCMC: 2 chains of 500 draws), shared by the comparison and
    plot tests so that the MCMC model is compiled once: ``(fits, train, test)``."""
    import bayeslogit as bl

    train, test = split(bl.datasets.load_wells(), seed=11)
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", train)
    fits = model.fit_all(bl.Normal(2.5), random_seed=0, draws=500, tune=300, chains=2, progressbar=False)
    return fits, train, test


@pytest.fixture(scope="session")
def wells_mcmc():
    """Wells, ``switched ~ dist100 + arsenic`` under Normal(2.5), sampled with fit_mcmc's defaults (4 x 1000);
    for the slow tests."""
    import bayeslogit as bl

    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())
    return model.fit_mcmc(bl.Normal(2.5), random_seed=0, progressbar=False)


@pytest.fixture
def atomic_save(monkeypatch):
    """``atomic_save(first, second, path)``: ``first.save(path)``; then ``second.save(path)`` with a writer that
    writes and raises OSError("disk full"), which must leave ``first``'s file whole and nothing staged beside it;
    then ``second.save(path)`` again, which must replace it. Returns the fit loaded from ``path`` at the end."""
    import bayeslogit as bl
    from bayeslogit.fits.storage import formats

    def check(first, second, path):
        first.save(path)
        write, read = formats.FORMATS[path.suffix]

        def write_then_fail(tree, target):
            write(tree, target)
            raise OSError("disk full")

        monkeypatch.setitem(formats.FORMATS, path.suffix, (write_then_fail, read))
        with pytest.raises(OSError, match="disk full"):
            second.save(path)
        monkeypatch.undo()
        assert bl.load(path).method == first.method
        assert [entry.name for entry in path.parent.iterdir()] == [path.name]  # no temporary left behind
        second.save(path)  # a successful write replaces the file (or the zarr directory)
        return bl.load(path)

    return check


def rewritten(path, edit, target, nodes=None):
    """The saved fit at ``path`` with its metadata edited by ``edit`` (and its nodes by ``nodes``), under a checksum
    made for them, written as NetCDF to ``target``: what a file altered on purpose holds."""
    import json

    import xarray as xr

    from bayeslogit.fits.storage.checksum import checksum

    tree = xr.load_datatree(path)
    meta = edit(json.loads(tree.attrs["bayeslogit"]))
    if nodes is not None:
        tree = nodes(tree)
    tree.attrs["bayeslogit"] = json.dumps(meta | {"checksum": checksum(tree, meta)})
    tree.to_netcdf(target, engine="h5netcdf")
    return target


def edited(meta: dict, *place, value) -> dict:
    """``meta`` with the value at ``place`` (keys and indices) replaced."""
    inner = meta
    for key in place[:-1]:
        inner = inner[key]
    inner[place[-1]] = value
    return meta


def assert_same_fit(loaded, fit, rows):
    """Every figure of the multilevel fit ``fit`` and of ``loaded`` (its file read back) is the same, exactly, on
    the new rows ``rows`` too; summaries as text; a point fit's result and an MCMC fit's posterior tree and
    diagnosis. Boundaries where the fit has them (two classes)."""
    import pandas as pd

    assert type(loaded) is type(fit)
    assert (loaded.prior, loaded.group_prior, loaded.seconds) == (fit.prior, fit.group_prior, fit.seconds)
    assert loaded.layout == fit.layout
    assert loaded.source.formula == fit.source.formula
    for name in ("coef", "group_sd", "group_corr"):  # a categorical fit's coef: a DataFrame [coef x class]
        theirs = getattr(fit, name)
        same = pd.testing.assert_frame_equal if isinstance(theirs, pd.DataFrame) else pd.testing.assert_series_equal
        same(getattr(loaded, name), theirs, check_exact=True)
    pd.testing.assert_frame_equal(loaded.cov, fit.cov, check_exact=True)
    assert str(loaded.summary()) == str(fit.summary())
    assert str(loaded.summary(ci_prob=0.5)) == str(fit.summary(ci_prob=0.5))
    pd.testing.assert_frame_equal(loaded.random_effects(), fit.random_effects(), check_exact=True)
    pd.testing.assert_frame_equal(loaded.ranef(), fit.ranef(), check_exact=True)
    for new_groups in ("population", "integrate"):
        expected = fit.predict_proba(rows, new_groups=new_groups)
        np.testing.assert_array_equal(loaded.predict_proba(rows, new_groups=new_groups), expected)
    feature = fit.layout.coef_names[1]
    for term in () if fit.layout.classes else fit.layout.labels:
        pd.testing.assert_frame_equal(
            loaded.group_boundaries(feature, term), fit.group_boundaries(feature, term), check_exact=True
        )
    if hasattr(fit, "posterior"):
        _assert_same_posterior(loaded, fit)
    else:
        _assert_same_result(loaded, fit)


def _assert_same_result(loaded, fit):
    for field in ("beta", "beta_cov", "theta"):
        np.testing.assert_array_equal(getattr(loaded.result, field), getattr(fit.result, field))
    for field in ("sd", "corr", "ranef", "ranef_sd"):
        for mine, theirs in zip(getattr(loaded.result, field), getattr(fit.result, field), strict=True):
            np.testing.assert_array_equal(mine, theirs)
    figures = ("factors", "columns", "singular", "loglik", "deviance", "objective", "iterations", "converged")
    assert [getattr(loaded.result, f) for f in figures] == [getattr(fit.result, f) for f in figures]
    assert (loaded.n_agq, loaded.singular) == (fit.n_agq, fit.singular)


def _assert_same_posterior(loaded, fit):
    import pandas as pd
    import xarray as xr

    assert list(loaded.posterior.children) == list(fit.posterior.children)
    for group in fit.posterior.children:  # values, dims, coordinates; None text statistics read back as None
        xr.testing.assert_equal(loaded.posterior[group].to_dataset(), fit.posterior[group].to_dataset())
    pd.testing.assert_frame_equal(loaded.diagnosis.table, fit.diagnosis.table, check_exact=True)
    assert (loaded.diagnosis.divergences, loaded.diagnosis.ok, loaded.diagnosis.message) == (
        fit.diagnosis.divergences,
        fit.diagnosis.ok,
        fit.diagnosis.message,
    )
