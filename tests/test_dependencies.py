"""The package's dependencies as declared in pyproject.toml: every package it imports is declared, and saving or
loading without the ``io`` extra says which packages to install, writing nothing."""

import ast
import re
import sys
import tomllib
from importlib import import_module
from importlib.metadata import packages_distributions
from pathlib import Path

import numpy as np
import pytest

import bayeslogit as bl
from bayeslogit.fits.storage import formats

PACKAGE = Path(bl.__file__).parent
PROJECT = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"]


def distribution(requirement: str) -> str:
    """The normalised distribution name of a requirement such as ``"dask[array]>=2026.8"``."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)[0]).lower()


def declared(*extras: str) -> set[str]:
    """The distributions of the core dependencies and of ``extras``."""
    extra = PROJECT["optional-dependencies"]
    return {distribution(requirement) for requirement in PROJECT["dependencies"] + sum((extra[e] for e in extras), [])}


def imported_packages() -> dict[str, set[str]]:
    """Top-level name of every third-party package the package's modules import, at their top or inside a function
    -> the modules that import it."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top != "bayeslogit" and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(path.relative_to(PACKAGE.parent).as_posix())
    return found


def test_the_import_scan_finds_imports_at_the_top_and_inside_functions():
    found = imported_packages()
    assert "bayeslogit/numerics/design.py" in found["numpy"]
    pymc_modules = {f"bayeslogit/algorithms/{name}.py" for name in ("pymc_backend", "pymc_model", "pymc_multilevel")}
    assert found["pymc"] == pymc_modules  # imported inside their functions only
    assert "sys" not in found and "bayeslogit" not in found


def undeclared(found: dict[str, set[str]]) -> dict[str, list[str]]:
    """Of ``found`` (import name -> modules), those whose distribution is neither a dependency nor in an extra other
    than ``test`` (which holds the tools of the tests, never needed to use the package)."""
    usable = declared(*(name for name in PROJECT["optional-dependencies"] if name != "test"))
    distributions = packages_distributions()
    return {
        name: sorted(modules)
        for name, modules in found.items()
        if not {distribution(d) for d in distributions.get(name, [])} & usable
    }


def test_every_package_the_package_imports_is_declared():
    assert undeclared(imported_packages()) == {}, "import names whose distribution is not declared in pyproject.toml"


def test_an_undeclared_import_is_found():
    """The check above is able to fail: statsmodels is a tool of the tests only, and a name no distribution
    provides is declared by none."""
    found = {"numpy": {"a.py"}, "sklearn": {"b.py"}, "statsmodels": {"c.py"}, "no_such_package": {"d.py"}}
    assert undeclared(found) == {"statsmodels": ["c.py"], "no_such_package": ["d.py"]}


def test_the_formats_packages_are_the_io_extra_and_the_tests_install_it():
    needed = {distribution(name) for names in formats.PACKAGES.values() for name in names}
    assert needed == {distribution(requirement) for requirement in PROJECT["optional-dependencies"]["io"]}
    assert not needed & declared(), "the io packages are an extra, not core dependencies"
    test_extras = {
        extra.strip()
        for requirement in PROJECT["optional-dependencies"]["test"]
        if distribution(requirement) == "bayeslogit"
        for extra in re.search(r"\[(.*)\]", requirement)[1].split(",")
    }
    assert "io" in test_extras


def test_no_dependency_has_an_upper_bound_without_a_reason():
    """Upper bounds break users' environments; the one kept (ruff, whose minor releases reformat the code the tests
    check) is a tool of the tests."""
    bounded = [
        requirement
        for requirements in [PROJECT["dependencies"], *PROJECT["optional-dependencies"].values()]
        for requirement in requirements
        if "<" in requirement
    ]
    assert bounded == ["ruff>=0.16.10,<0.17"]


@pytest.fixture(scope="module")
def point_fit():
    """An ML fit, with the io packages imported first: each test then blocks one, and the others, already imported,
    keep what they found (h5netcdf imported without h5py would stay without it)."""
    for names in formats.PACKAGES.values():
        for name in names:
            import_module(name)
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] + np.random.default_rng(1).normal(size=40) > 0).astype(int)
    return bl.LogisticModel(X, y).fit_ml()


IO_CASES = [("fit.nc", "h5netcdf"), ("fit.nc", "h5py"), ("fit.zarr", "zarr")]


def io_error(name: str, missing: str) -> str:
    """The message of a save or load of ``name`` without the package ``missing``."""
    return (
        rf"saving or loading '.*{name}' needs {missing}, which cannot be imported \('\.nc' needs "
        r"h5netcdf and h5py; '\.zarr' needs zarr\); install them with pip install \"bayeslogit\[io\]\""
    )


@pytest.mark.parametrize("name, missing", IO_CASES)
def test_saving_without_the_io_extra_names_it_and_writes_nothing(point_fit, tmp_path, monkeypatch, name, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # as if not installed: importing it raises ImportError
    with pytest.raises(ImportError, match=io_error(name, missing)):
        point_fit.save(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, missing", IO_CASES)
def test_loading_without_the_io_extra_names_it(point_fit, tmp_path, monkeypatch, name, missing):
    path = point_fit.save(tmp_path / name)
    monkeypatch.setitem(sys.modules, missing, None)
    with pytest.raises(ImportError, match=io_error(name, missing)):
        bl.load(path)
    monkeypatch.undo()
    np.testing.assert_array_equal(bl.load(path).params, point_fit.params)
