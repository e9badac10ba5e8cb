"""The package's shape: layers that hold, small modules, behaviour on the kinds rather than string tests,
and a public API that exports what it returns."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import bayeslogit as bl

PACKAGE = Path(bl.__file__).parent
ROOT = PACKAGE.parent
MAX_MODULE_LINES = 400

# A comparison of a likelihood, parameterization or method name with a string literal, in either order.
KIND_TEST = re.compile(r"""(likelihood|parameterization|method|family\.name)\s*[!=]=\s*["']"""
                       r"""|["'](bernoulli|categorical|reference|symmetric|ml|map|laplace|mcmc)["']\s*[!=]=""")


def source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_import_contracts_hold():
    """Layers point down, nothing imports in a cycle, numerics use NumPy/SciPy only, and PyMC and matplotlib
    are imported by their one back end each (the contracts are in pyproject.toml)."""
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_no_module_is_long():
    lengths = {path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines()) for path in source_files()}
    assert {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def test_no_string_tests_of_kinds():
    """What differs between families and between fit methods is behaviour on their classes: no module tests
    a likelihood or method name (the tables that map names to classes look them up in a dict)."""
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in source_files() for number, line in enumerate(path.read_text().splitlines(), 1)
             if KIND_TEST.search(line.split("#")[0])]
    assert found == []


def test_the_kind_test_pattern_finds_string_tests():
    """The pattern above is able to fail."""
    for line in ['if model.likelihood == "bernoulli":', "x = 'mcmc' != fit.method", 'if self.method != "map"']:
        assert KIND_TEST.search(line), line
    assert not KIND_TEST.search('FAMILIES = {"bernoulli": Bernoulli.with_parameterization}')


def test_every_returned_type_is_exported():
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())
    ml = model.fit_ml()
    laplace = model.fit_laplace(bl.Normal(1.0), draws=300, random_seed=0)
    returned = [ml, laplace, ml.boundary(), laplace.boundary(), laplace.diagnose(), bl.compare([ml, laplace])]
    assert [type(obj).__name__ for obj in returned if type(obj).__name__ not in bl.__all__] == []
    assert all(issubclass(getattr(bl, name), bl.BayeslogitError)
               for name in ("DataError", "SeparationError", "CollinearityError", "SingularHessianError"))


def test_version_comes_from_the_package_metadata():
    from importlib.metadata import version

    assert bl.__version__ == version("bayeslogit")


@pytest.mark.parametrize("make", [
    lambda m: m.fit_ml(), lambda m: m.fit_laplace(bl.Normal(1.0), draws=300, random_seed=0),
    lambda m: m.fit_ml().boundary(), lambda m: m.fit_laplace(bl.Normal(1.0), draws=300, random_seed=0).diagnose(),
], ids=["point fit", "posterior fit", "boundary", "diagnosis"])
def test_reprs_are_one_short_line(make):
    wells = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic + educ + assoc", bl.datasets.load_wells())
    text = repr(make(wells))
    assert "\n" not in text and len(text) < 200


def test_import_and_ml_fit_load_no_heavy_modules():
    code = (
        "import sys, numpy as np, bayeslogit as bl\n"
        "rng = np.random.default_rng(0); X = rng.normal(size=(200, 2))\n"
        "bl.LogisticModel(X, (X[:, 0] + rng.normal(size=200) > 0).astype(int)).fit_ml()\n"
        "heavy = ['pymc', 'pytensor', 'arviz', 'arviz_base', 'arviz_stats', 'matplotlib', 'formulaic', 'xarray']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""
