"""nutpie's raw trace read into arrays as nutpie's own conversion reads it, and the deferred module that keeps
nutpie's import of the arviz namespace from running until the namespace is used."""

import importlib.util
import sys

import numpy as np
import pytest

from bayeslogit.algorithms.nutpie_trace import DeferredModule, import_nutpie, trace_arrays


def _standard_normal(n_free: int):
    """A nutpie model of n_free independent standard normals."""
    from nutpie.compiled_pyfunc import from_pyfunc

    def make_logp():
        return lambda z, **_: (-0.5 * z @ z, -z)

    return from_pyfunc(
        n_free,
        make_logp,
        lambda *_: lambda z, **__: {"z": z.copy()},
        [np.dtype("float64")],
        [(n_free,)],
        ["z"],
        coords={"free": np.arange(n_free)},
        dims={"z": ("free",)},
    )


def test_the_raw_trace_reads_as_nutpies_own_conversion():
    """Same seed, same draws: every draw and every per-draw statistic nutpie's DataTree holds, with its type, and
    its missing values (NaN for floats, None for texts, 0 for integers) where nutpie recorded none."""
    nutpie = import_nutpie()
    compiled = _standard_normal(3)
    settings = {"draws": 60, "tune": 40, "chains": 2, "cores": 1, "seed": 7, "progress_bar": False}
    z, stats = trace_arrays(nutpie.sample(compiled, return_raw_trace=True, **settings), "z", 60)
    tree = nutpie.sample(compiled, **settings)
    np.testing.assert_array_equal(z, tree["posterior"]["z"].to_numpy())
    expected = tree["sample_stats"].to_dataset()
    assert sorted(stats) == sorted(expected.data_vars)
    for name, values in stats.items():
        assert values.dtype == expected[name].dtype, name
        assert values.shape == (2, 60), name
        if values.dtype.kind == "O":
            assert values.tolist() == expected[name].to_numpy().tolist(), name
        else:
            np.testing.assert_array_equal(values, expected[name].to_numpy(), err_msg=name)
    assert np.isnan(stats["divergence_energy_error"][~stats["diverging"]]).all()
    assert not stats["tuning"].any()


@pytest.fixture
def module_file(tmp_path, monkeypatch):
    """Write a module ``name`` with ``code`` into a directory on ``sys.path``; removed from sys.modules after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    names = []

    def write(name: str, code: str):
        (tmp_path / f"{name}.py").write_text(code)
        names.append(name)
        return importlib.util.find_spec(name)

    yield write
    for name in names:
        sys.modules.pop(name, None)


def test_a_deferred_module_runs_on_first_use_of_an_attribute(module_file):
    spec = module_file("deferred_probe", "ANSWER = 42\nRUNS = globals().get('RUNS', 0) + 1\n")
    sys.modules["deferred_probe"] = deferred = DeferredModule.from_spec(spec)
    import deferred_probe

    assert deferred_probe is deferred
    assert "ANSWER" not in vars(deferred)  # bound by the import statement, not run
    assert deferred_probe.ANSWER == 42
    assert type(deferred) is type(sys)
    assert deferred.RUNS == 1
    assert "ANSWER" in dir(deferred)


def test_dir_of_a_deferred_module_runs_it(module_file):
    spec = module_file("deferred_listed", "ANSWER = 42\n")
    deferred = DeferredModule.from_spec(spec)
    assert "ANSWER" in dir(deferred)
    assert deferred.ANSWER == 42


def test_a_deferred_module_that_fails_leaves_sys_modules_as_a_failed_import(module_file):
    spec = module_file("deferred_broken", "raise ImportError('a dependency of deferred_broken is missing')\n")
    sys.modules["deferred_broken"] = deferred = DeferredModule.from_spec(spec)
    with pytest.raises(ImportError, match="a dependency of deferred_broken is missing"):
        deferred.anything
    assert "deferred_broken" not in sys.modules
