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
