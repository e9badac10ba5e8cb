"""The package's shape: layers that hold, small modules, behaviour on the kinds rather than string tests,
and a public API that exports what it returns."""

import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import bayeslogit as bl

PACKAGE = Path(bl.__file__).parent
ROOT = PACKAGE.parent
MAX_MODULE_LINES = 400

# A comparison of a likelihood, parameterization or method name with a string literal, in either order, or a
# test of such a name's membership in a collection.
NAMES = r"""["'](bernoulli|categorical|reference|symmetric|ml|map|laplace|mcmc)["']"""
KIND_TEST = re.compile(
    r"""(likelihood|parameterization|method|family\.name)\s*[!=]=\s*["']"""
    rf"""|{NAMES}\s*[!=]=|{NAMES}\s+(not\s+)?in\b|\bin\s*[(\[{{]\s*{NAMES}"""
)


def source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_import_contracts_hold():
    """Layers point down, nothing imports in a cycle, numerics use NumPy/SciPy only, and PyMC and matplotlib
    are imported by their one back end each (the contracts are in pyproject.toml)."""
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_code_passes_ruff(command):
    """The package, its tests, benchmarks and examples are as ruff, configured in pyproject.toml, keeps them."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "bayeslogit", "tests", "benchmarks", "examples"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_module_is_long():
    lengths = {path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines()) for path in source_files()}
    assert {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def test_no_string_tests_of_kinds():
    """What differs between families and between fit methods is behaviour on their classes: no module tests
    a likelihood or method name (the tables that map names to classes look them up in a dict)."""
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in source_files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if KIND_TEST.search(line.split("#")[0])
    ]
    assert found == []


def test_the_kind_test_pattern_finds_string_tests():
    """The pattern above is able to fail."""
    for line in [
        'if model.likelihood == "bernoulli":',
        "x = 'mcmc' != fit.method",
        'if self.method != "map"',
        'shown = "map" if "map" in fits else None',
        'if method in ("laplace", "mcmc"):',
    ]:
        assert KIND_TEST.search(line), line
    assert not KIND_TEST.search('FAMILIES = {"bernoulli": Bernoulli.with_parameterization}')


def test_every_returned_type_is_exported(wells_split_fits):
    fits, _, _ = wells_split_fits
    failed = bl.LogisticModel.from_formula(
        "species ~ petal_length", bl.datasets.load_iris().query("species != 'virginica'")
    ).fit_all(bl.Normal(1.0), methods=("ml",))["ml"]
    returned = [
        failed,
        bl.compare(fits),
        *fits.values(),
        *(fit.boundary() for fit in fits.values()),
        fits["laplace"].diagnose(),
        fits["mcmc"].diagnose(),
    ]
    assert {type(obj).__name__ for obj in returned} == {
        "FailedFit",
        "Comparison",
        "MLFit",
        "MAPFit",
        "LaplaceFit",
        "MCMCFit",
        "PointBoundary",
        "PosteriorBoundary",
        "LaplaceDiagnosis",
        "MCMCDiagnosis",
    }
    assert all(getattr(bl, type(obj).__name__) is type(obj) for obj in returned)
    assert all(
        issubclass(getattr(bl, name), bl.BayeslogitError)
        for name in ("DataError", "SeparationError", "CollinearityError", "SingularHessianError")
    )


def test_version_comes_from_the_package_metadata():
    from importlib.metadata import version

    assert bl.__version__ == version("bayeslogit")


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.fit_map(bl.Normal(1.0)),
        lambda m: m.fit_laplace(bl.Normal(1.0), draws=300, random_seed=0),
        lambda m: m.fit_map(bl.Normal(1.0)).boundary(),
        lambda m: m.fit_laplace(bl.Normal(1.0), draws=300, random_seed=0).diagnose(),
    ],
    ids=["point fit", "posterior fit", "boundary", "diagnosis"],
)
def test_reprs_are_one_short_line(make):
    """Five coefficients, or 5 x 2 for three classes: a repr names a few and counts the rest."""
    wells = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic + educ + assoc", bl.datasets.load_wells())
    iris = bl.LogisticModel.from_formula(
        "species ~ sepal_length + sepal_width + petal_length + petal_width", bl.datasets.load_iris()
    )
    for model in (wells, iris):
        with warnings.catch_warnings():  # the three-class iris Laplace fit is borderline; its repr is what is tested
            warnings.filterwarnings("ignore", "Pareto k-hat", bl.ConvergenceWarning)
            made = make(model)
        text = repr(made)
        assert "\n" not in text and len(text) < 200, text


def test_import_and_ml_fit_load_no_heavy_modules():
    code = (
        "import sys, numpy as np, bayeslogit as bl\n"
        "rng = np.random.default_rng(0); X = rng.normal(size=(200, 2))\n"
        "bl.LogisticModel(X, (X[:, 0] + rng.normal(size=200) > 0).astype(int)).fit_ml()\n"
        "heavy = ['pymc', 'pytensor', 'arviz', 'arviz_base', 'arviz_stats', 'matplotlib', 'formulaic', 'xarray',\n"
        "         'numba']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""
