"""Messages as data: the lower layers name what to do (remedies), each door says it in its own words."""

import ast
import dataclasses
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
    PACKAGE / "exceptions.py",
    PACKAGE / "checks.py",
    *(
        path
        for layer in ("numerics", "algorithms", "rows", "fits", "plots")
        for path in sorted((PACKAGE / layer).rglob("*.py"))
    ),
]
"""Every module below the user surface."""
DOOR_WORDS = re.compile(
    r"\bfit_(ml|map|laplace|mcmc)\b|\bbl\.|--[a-z]|target_accept=|method=\"|\bautoscale=|\bintercept=True"
)
"""Words of one door: the Python API's calls and arguments, the command's options, the estimator's parameters."""
PYTHON_WORDS = re.compile(r"\bfit_(ml|map|laplace|mcmc)\b|\bbl\.|\bautoscale=|\bintercept=True")
PYTHON_API_ONLY = {
    # Prior.scales without the sd; Normal(group=...)
    "numerics/prior_specs.py": (
        "autoscale=True needs the standard deviation",
        "e.g. bl.Normal(2.5, group=bl.GroupPrior",
    ),
    "rows/saved.py": ("load the fit with bl.load(path, model=model)",),  # a loaded fit's rows
    # bl.load(path, model=...) of a model of the other kind
    "fits/storage/saved_model.py": ("`model` must be a model of its data (a bl.LogisticModel",),
    "fits/storage/multilevel_files.py": ("`model` must be the bl.MultilevelModel it was made of",),
    "fits/results/point.py": ("lr_test compares two point fits (model.fit_ml())",),  # fit.lr_test
    "fits/statistics/boundary.py": ("or fit_laplace / fit_mcmc for a posterior",),  # fit.boundary()'s draws
    # fit.statistics() and fit.lr_test
    "fits/statistics/likelihood.py": ("Use model.fit_ml().statistics()", "compare model.fit_ml() fits"),
    # fit.lr_test of a multilevel fit
    "fits/statistics/multilevel_lr.py": ("lr_test compares two maximum-likelihood fits (fit_ml())",),
    "plots/chains.py": ("it needs an MCMC fit (model.fit_mcmc(prior))",),  # bl.plot_trace
    "plots/prior.py": ("plot_prior_predictive(model, bl.Normal(1,",),  # bl.plot_prior_predictive
    "rows/formula_names.py": ("bl.MultilevelModel.from_formula(formula, data)",),  # LogisticModel.from_formula
}
"""Module -> messages in the Python API's words that only a call of the Python API can raise (a fit's method, a
plot, a loaded fit): neither the command nor the estimator makes that call, so no other door reads them."""


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


@pytest.mark.parametrize("path", LOWER_LAYERS, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_the_lower_layers_hold_no_door_words(path):
    allowed = PYTHON_API_ONLY.get(path.relative_to(PACKAGE).as_posix(), ())
    found = [text for text in message_texts(path) if DOOR_WORDS.search(text)]
    assert [text for text in found if not any(known in text for known in allowed)] == []
    assert [known for known in allowed if not any(known in text for text in found)] == []  # none is stale


def test_the_text_of_every_advice_is_door_free():
    """Wherever an Advice is made, user surface included, its words of a door are remedies, not text."""
    texts = {
        (path.name, node.value)
        for path in PACKAGE.rglob("*.py")
        for call in ast.walk(ast.parse(path.read_text()))
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "Advice"
        for node in ast.walk(call)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert len(texts) > 20
    assert [text for text in texts if DOOR_WORDS.search(text[1])] == []


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


def test_every_option_the_command_line_advises_is_one_it_has(capsys):
    """Each remedy in the command's words names only options that ``bayeslogit compare --help`` lists (sample value
    7), and none says that the command lacks one."""
    from bayeslogit.surface import cli

    with pytest.raises(SystemExit, match="0"):
        cli.main(["compare", "--help"])
    listed = re.findall(r"^  (--\S.*?)(?:\s{2,}|$)", capsys.readouterr().out, re.MULTILINE)  # the option column
    options = {option for names in listed for option in re.findall(r"--[a-z][a-z-]*", names)}
    assert {"--methods", "--prior", "--draws", "--tune", "--no-autoscale"} <= options
    named = {name: re.findall(r"--[a-z][a-z-]*", advice.words("cli", Remedy(name, 7))) for name in advice.CLI}
    assert {option for found in named.values() for option in found} >= {"--max-iter", "--target-accept"}
    assert {name: found for name, found in named.items() if not set(found) <= options} == {}
    assert [name for name in advice.CLI if re.search(r"has no|has none", advice.words("cli", Remedy(name, 7)))] == []


def test_every_parameter_the_estimator_advises_is_one_it_has():
    """Each remedy in the estimator's words names only its parameters: ``name=value`` or a snake_case name."""
    from bayeslogit.surface.estimator import BayesLogitClassifier

    parameters = set(BayesLogitClassifier().get_params())
    said = {name: advice.words("estimator", Remedy(name, 7)) for name in advice.ESTIMATOR}
    named = {
        name: set(re.findall(r"\b([a-z_]+)=", text)) | set(re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", text))
        for name, text in said.items()
    }
    assert named["raise_max_iter"] == {"max_iter"} and named["raise_target_accept"] == {"target_accept"}
    assert {name: found for name, found in named.items() if not found <= parameters} == {}
    assert [name for name, text in said.items() if re.search(r"has no|has none|bl\.", text)] == []


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
    assert "a smaller --prior-scale" in cli and "a higher target acceptance (--target-accept 0.95)" in cli
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
    laplace = Advice("k-hat is high: the Laplace approximation is poor here; use ", Remedy("use_mcmc"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(laplace, bl.ConvergenceWarning, stacklevel=1)
    assert advice.in_words(caught[0].message, "estimator").endswith('; use method="mcmc"')


def test_the_intercept_remedies_are_each_doors():
    """A prior on an intercept the model lacks: the Python API builds the model with one, the command keeps the
    formula's, the estimator fits one."""
    from bayeslogit.surface.estimator import BayesLogitClassifier

    X, y = np.arange(20.0)[:, None] % 7, np.arange(20) % 3 == 0
    with pytest.raises(bl.OptionError) as caught:
        bl.LogisticModel(X, y, intercept=False).fit_map(bl.Normal(1.0, intercept_scale=2.0))
    assert str(caught.value) == (
        "`intercept_scale` is 2.0 but the model has no intercept; leave it None, or build the model with intercept=True"
    )
    assert advice.in_words(caught.value, "cli").endswith(
        "; leave out --intercept-scale, or keep the formula's intercept (no 0 + or - 1 in it)"
    )
    with pytest.raises(bl.OptionError, match=re.escape("; leave it None, or set fit_intercept=True")):
        BayesLogitClassifier(fit_intercept=False, intercept_scale=2.0).fit(X, y)


def test_a_failed_fit_says_its_reason_in_its_doors_words():
    """Python users read the Python API's advice in a comparison and a plot's footnote; a failed fit of the
    command says the command's."""
    from bayeslogit.plots.style import failure_note

    x = np.linspace(-1.0, 1.0, 20)
    fits = bl.LogisticModel(x[:, None], x > 0).fit_all(bl.Normal(2.5), methods=("ml", "map"))
    failed = fits["ml"]
    assert failed.door == "python" and "Use fit_map(bl.Normal(2.5)) (or the posterior fits)" in failed.reason
    assert "Use fit_map(bl.Normal(2.5))" in bl.compare(fits).failures["ml"] and "fit_map" in failure_note(
        {"ml": failed}
    )
    cli = dataclasses.replace(failed, door="cli")
    assert cli.reason == failed.reason_in("cli") and "Use --methods map (or laplace or mcmc) for" in cli.reason
    assert "--methods map" in failure_note({"ml": cli}) and not PYTHON_WORDS.search(failure_note({"ml": cli}))
    assert 'Use method="map" (or "laplace" or "mcmc")' in failed.reason_in("estimator")


def test_the_command_line_prints_its_own_words(tmp_path, capsys):
    """Challenger's posterior is skewed: the Laplace check warns, and the command says what to run, not what to
    call, on stderr and in its report's diagnostics."""
    from bayeslogit.surface import cli

    argv = ["compare", "challenger", "--formula", "damaged ~ temp", "--methods", "map,laplace", "--test-size", "0"]
    cli.main([*argv, "--out", str(tmp_path)])
    printed = capsys.readouterr().err
    assert "warning (laplace): Pareto k-hat" in printed and "the Laplace approximation" in printed
    assert "--methods mcmc" in printed and "fit_mcmc" not in printed
    diagnostics = (tmp_path / "report.html").read_text(encoding="utf-8").split('id="diagnostics"')[1]
    assert "--methods mcmc" in diagnostics and "fit_mcmc" not in diagnostics


def run_cli(argv: list[str], capsys, monkeypatch) -> tuple[str, str, dict]:
    """``bayeslogit compare`` of ``argv``: its stdout, its stderr and the fits its report drew (none without one)."""
    from bayeslogit.surface import cli, report

    drawn, render = {}, report.render_report
    monkeypatch.setattr(
        report, "render_report", lambda inputs, **options: drawn.update(inputs.fits) or render(inputs, **options)
    )
    try:
        cli.main(["compare", *argv, "--test-size", "0"])
    except SystemExit:
        pass
    printed = capsys.readouterr()
    return printed.out, printed.err, drawn


@pytest.mark.parametrize(
    "columns, formula, advised",
    [
        ({"y": np.arange(30) % 2, "x": np.arange(30) % 2 + np.linspace(0, 0.5, 30)}, "y ~ x", "Use --methods map"),
        ({"y": np.arange(30) % 3 == 0, "z": np.arange(30.0) % 7, "c": 1.0}, "y ~ z + c", "or use --methods map,"),
    ],
    ids=["separated", "constant column"],
)
def test_the_command_its_table_report_and_plots_say_its_words(tmp_path, capsys, monkeypatch, columns, formula, advised):
    """ML fails (separation; a constant column): stderr, the printed table, report.html and the plots' footnote
    say what to run, never what to call. (An autoscaled prior cannot scale a constant column, so that MAP fits
    without autoscaling.)"""
    from bayeslogit.plots.style import failure_note

    pd.DataFrame(columns).to_csv(tmp_path / "data.csv", index=False)
    argv = [str(tmp_path / "data.csv"), "--formula", formula, "--methods", "ml,map", "--out", str(tmp_path)]
    stdout, stderr, drawn = run_cli([*argv, "--no-autoscale"], capsys, monkeypatch)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    note = failure_note({"ml": drawn["ml"]})
    for said in (stderr, stdout, page, note):
        assert advised in said and not PYTHON_WORDS.search(said)


def test_the_command_says_its_autoscale_flag(tmp_path, capsys, monkeypatch):
    """A constant column under the autoscaled prior (the default, --autoscale): every fit fails, and stderr says
    which flags to change."""
    pd.DataFrame({"y": np.arange(30) % 3 == 0, "z": np.arange(30.0) % 7, "c": 1.0}).to_csv(tmp_path / "c.csv")
    argv = [str(tmp_path / "c.csv"), "--formula", "y ~ z + c", "--methods", "ml,map", "--autoscale"]
    stdout, stderr, drawn = run_cli(argv, capsys, monkeypatch)
    assert stdout == "" and not drawn and "every fit failed" in stderr
    assert "or set --no-autoscale" in stderr and "or use --methods map," in stderr and not PYTHON_WORDS.search(stderr)
