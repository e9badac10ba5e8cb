"""Fitting flows one way: the model checks its arguments once, builds the objective, runs the algorithm and hands
back a result, which holds the model only as the interface the fits declare (FittedModel) and never calls back to
fit; a loaded fit's model implements the same interface."""

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest

import bayeslogit as bl
from bayeslogit.fits.model_view import FittedModel
from bayeslogit.surface import model as model_module

PACKAGE = Path(bl.__file__).parent
PRIOR = bl.Normal(2.5)


def _interface() -> set[str]:
    declared = set(FittedModel.__annotations__)
    return declared | {name for name in vars(FittedModel) if not name.startswith("_")}


def test_fits_and_plots_use_only_what_the_interface_declares():
    """Every ``model.<name>`` that the fits, plots and report read of a fit's model is declared by FittedModel."""
    used = {}
    for path in [*(PACKAGE / "fits").rglob("*.py"), *(PACKAGE / "plots").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            of = getattr(node, "value", None)
            if isinstance(node, ast.Attribute) and (
                (isinstance(of, ast.Name) and of.id == "model")
                or (isinstance(of, ast.Attribute) and of.attr == "model")
            ):
                used.setdefault(node.attr, set()).add(path.relative_to(PACKAGE).as_posix())
    undeclared = {name: sorted(paths) for name, paths in used.items() if name not in _interface()}
    assert undeclared == {}


def test_a_model_and_a_loaded_fits_model_implement_the_interface(wells_split_fits, tmp_path):
    fit = wells_split_fits[0]["map"]
    fit.save(tmp_path / "map.nc")
    loaded = bl.load(tmp_path / "map.nc")
    assert isinstance(fit.model, FittedModel) and isinstance(loaded.model, FittedModel)
    assert type(loaded.model) is type(fit.model).__mro__[1]  # the ModelView that LogisticModel extends
    assert not isinstance(object(), FittedModel)


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("fit_map", {}),
        ("fit_laplace", {"draws": 200, "random_seed": 0}),
        ("fit_mcmc", {"draws": 50, "tune": 50, "chains": 1, "random_seed": 0, "progressbar": False}),
    ],
)
def test_the_prior_is_checked_once_per_fit(method, kwargs, monkeypatch):
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())
    calls = []
    checked = model_module.checked_prior
    monkeypatch.setattr(model_module, "checked_prior", lambda prior: calls.append(prior) or checked(prior))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bl.ConvergenceWarning)
        getattr(model, method)(PRIOR, **kwargs)
    assert calls == [PRIOR]


def test_results_never_call_back_to_fit(monkeypatch):
    """Once made, every fit answers without any of the model's fit methods: they are made to fail first."""
    wells = bl.datasets.load_wells()
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bl.ConvergenceWarning)
        fits = model.fit_all(PRIOR, draws=100, tune=100, chains=2, progressbar=False)

    def refuse(*args, **kwargs):
        raise AssertionError("a result called back into the model to fit")

    for name in ("fit_ml", "fit_map", "fit_laplace", "fit_mcmc", "fit_all", "_map", "_fit_point", "_mode"):
        monkeypatch.setattr(bl.LogisticModel, name, refuse)
    new_rows = wells.iloc[:20]
    for fit in fits.values():
        assert np.all(np.isfinite(fit.predict_proba(new_rows)))
        assert np.all(np.isfinite(fit.summary().select_dtypes("number").to_numpy()[:, :2]))
        assert not np.any(np.isnan(fit.prior_scales.to_numpy()))
        fit.boundary().summary()
        fit.odds_ratios()
        fit.predict_interval(new_rows)


def test_renamed_names_work_for_a_release_with_a_deprecation_warning(wells_split_fits):
    fits, _, test = wells_split_fits
    with pytest.warns(DeprecationWarning, match="fit.loglik is renamed fit.llf"):
        assert fits["ml"].loglik == fits["ml"].llf
    with pytest.warns(DeprecationWarning, match="fit.draws is renamed fit.posterior"):
        assert fits["mcmc"].draws.equals(fits["mcmc"].posterior)
    with pytest.warns(DeprecationWarning, match="fit.decision_function is renamed fit.linear_predictor"):
        np.testing.assert_array_equal(fits["map"].decision_function(test), fits["map"].linear_predictor(test))
    with pytest.warns(DeprecationWarning, match="Normal's `sigma` is now called `scale`"):
        assert bl.Normal(sigma=1.5, intercept_sigma=3.0) == bl.Normal(scale=1.5, intercept_scale=3.0)


def test_a_normal_priors_former_names_read_and_conflict_as_the_new_ones():
    with pytest.warns(DeprecationWarning, match="`sigma` is now called `scale`"):
        assert bl.Normal(1.5).sigma == 1.5
    with pytest.warns(DeprecationWarning, match="`intercept_sigma` is now called `intercept_scale`"):
        assert bl.Normal(1.5, intercept_scale=4.0).intercept_sigma == 4.0
    with pytest.raises(TypeError, match="got `scale` and its former name `sigma`; give `scale` only"):
        bl.Normal(scale=2.5, sigma=1.0)  # 2.5 given, though it is the default
