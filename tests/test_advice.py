"""Messages as data: the lower layers name what to do (remedies), each door says it in its own words."""

import ast
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayeslogit as bl
from bayeslogit.algorithms.newton import newton
from bayeslogit.exceptions import Advice, Remedy, advice_of
from bayeslogit.fits.diagnostics.mcmc_convergence import MCMCDiagnosis
from bayeslogit.surface import advice

PACKAGE = Path(bl.__file__).parent
LOWER_LAYERS = [
    *sorted((PACKAGE / "numerics").glob("*.py")),
    *sorted((PACKAGE / "algorithms").glob("*.py")),
    PACKAGE / "exceptions.py",
    PACKAGE / "fits" / "diagnostics" / "convergence.py",
    PACKAGE / "fits" / "diagnostics" / "prior_predictive.py",
]
DOOR_WORDS = re.compile(r"\bfit_(ml|map|laplace|mcmc)\b|\bbl\.|--[a-z]|target_accept=|method=\"")


def message_texts(path: Path) -> list[str]:
    """The string constants of a module's code, docstrings left out (they may name what users call)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


@pytest.mark.parametrize("path", LOWER_LAYERS, ids=lambda path: path.name)
def test_the_lower_layers_hold_no_door_words(path):
    assert [text for text in message_texts(path) if DOOR_WORDS.search(text)] == []


def test_every_door_has_words_for_every_remedy_the_package_names():
    named = {
        node.args[0].value
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Remedy" and node.args
    }
    assert named and named <= set(advice.PYTHON)
    assert set(advice.PYTHON) == set(advice.CLI) == set(advice.ESTIMATOR)
    assert advice.DOORS == {"python": advice.PYTHON, "cli": advice.CLI, "estimator": advice.ESTIMATOR}
    for door, table in advice.DOORS.items():
        for name in table:
            said = advice.words(door, Remedy(name, 7))  # every entry takes a value, used or not
            assert said and "{" not in said, (door, name)


def quadratic(x):
    return 0.5 * float(x @ x), x, np.eye(len(x))


def test_an_error_of_a_lower_layer_names_remedies_and_each_door_says_them():
    """Newton's method, called directly, says what to do as remedies; the text around them has no door's words."""
    with pytest.warns(bl.ConvergenceWarning) as caught:
        newton(quadratic, np.full(2, 1e8), max_iter=1)
    found = advice_of(caught[0].message)
    assert caught[0].message.remedies == found.remedies == (Remedy("raise_max_iter"), Remedy("use_map"))
    assert not any(DOOR_WORDS.search(part) for part in found.parts if isinstance(part, str))
    assert str(caught[0].message).endswith(
        "Increase max_iter, standardise the predictors, or use a proper prior (fit_map)"
    )
    cli = found.render("cli")
    assert cli.endswith("or use a proper prior (--methods map)") and "fit_map" not in cli
    assert found.render("estimator").endswith('or use a proper prior (method="map")')


def test_the_python_words_are_the_message_and_other_doors_rerender_it():
    said = Advice("the sampler diverged. ", Remedy("more_tuning", 2000), ", or set ", Remedy("autoscale_off"))
    assert said == "the sampler diverged. More tuning (tune=2000) and draws, or set autoscale=False"
    assert advice.in_words(ValueError(said), "cli") == (
        "the sampler diverged. More tuning (--tune 2000) and draws, or set --no-autoscale"
    )
    assert advice.in_words(ValueError("plain text"), "cli") == "plain text"
    assert Advice("no door: ", Remedy("use_map")).render("nowhere") == "no door: [use_map]"


def test_mcmc_advice_in_each_door_with_the_tails_of_the_prior():
    table = {"r_hat": [1.002], "ess_bulk": [4000.0], "ess_tail": [4000.0], "ess_folded": [4000.0]}
    diagnosis = MCMCDiagnosis(pd.DataFrame(table, index=["a"]), 9, 4, 1000, bl.Cauchy().tail_advice)
    message = diagnosis.message
    assert message.endswith("no mean: bl.StudentT(nu=7) has lighter tails)")
    cli = message.render("cli")
    assert "more tuning (--tune 2000) and draws" in cli and "--prior student-t --prior-nu 7 has lighter tails" in cli
    assert "a smaller --prior-scale" in cli and "target_accept=0.95 of the Python API's fit_mcmc" in cli
    estimator = message.render("estimator")
    assert 'prior_family="student-t", prior_nu=7 has lighter tails' in estimator


def test_the_autoscale_remedy_is_the_flag_of_each_door():
    wells = bl.datasets.load_wells().assign(arsenic=1.0)
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    with pytest.raises(bl.OptionError) as caught:
        model.prior_predictive(bl.StudentT(intercept_scale=2.5))
    assert caught.value.remedies == (Remedy("autoscale_off"),) and str(caught.value).endswith("or set autoscale=False")
    assert advice.in_words(caught.value, "cli").endswith("or set --no-autoscale")


def test_the_estimator_says_the_laplace_remedy_as_its_method():
    from bayeslogit.surface.estimator import in_estimator_words

    laplace = Advice("k-hat is high: the Laplace approximation is poor here; use ", Remedy("use_mcmc"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(laplace, bl.ConvergenceWarning, stacklevel=1)
    assert in_estimator_words(caught[0].message).endswith('; use method="mcmc"')


def test_the_command_line_prints_its_own_words(capsys):
    """Challenger's posterior is skewed: the Laplace check warns, and the command says what to run, not what to
    call."""
    from bayeslogit.surface import cli

    cli.main(["compare", "challenger", "--formula", "damaged ~ temp", "--methods", "map,laplace", "--test-size", "0"])
    printed = capsys.readouterr().err
    assert "warning (laplace): Pareto k-hat" in printed and "the Laplace approximation" in printed
    assert "--methods mcmc" in printed and "fit_mcmc" not in printed
