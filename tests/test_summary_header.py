"""Summaries print a header of the fit's statistics above the table, as statsmodels' summaries do.

The header shows each statistic rounded to its format, so a number read back from it is compared with the
statistic to half a unit of its last printed digit. ``table.statistics`` holds the unrounded numbers: for point
fits exactly ``fit.statistics()``, for posterior fits the ELPD-LOO that :func:`bayeslogit.surface.compare` reports (both
from ``loo_rows``, deterministic given the draws, so equal exactly) and the diagnosis's rows.
"""

import io
import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from test_statistics import statsmodels_expected, statsmodels_null_llf

import bayeslogit as bl
from bayeslogit.fits.results import summary_render
from bayeslogit.fits.results.summary_render import STATISTICS
from bayeslogit.fits.results.summary_table import SummaryTable

sm = pytest.importorskip("statsmodels.api")

LABELS = {label: name for name, (label, _) in STATISTICS.items()}
MCMC_SETTINGS = {"draws": 200, "tune": 200, "chains": 2, "progressbar": False, "random_seed": 1}


def header_numbers(text: str) -> dict[str, str]:
    """Statistic name -> the text of its value, for every ``Label: value`` cell of the header's two columns."""
    block = re.search(r"^=+\n(.*?)^-+$", text, flags=re.MULTILINE | re.DOTALL).group(1)
    found = {}
    for label, name in LABELS.items():
        match = re.search(rf"(?:^|\s){re.escape(label)}:\s+(\S+)", block, flags=re.MULTILINE)
        if match:
            found[name] = match.group(1)
    return found


def half_unit(text: str) -> float:
    """Half a unit of the last digit printed in ``text`` (``-1965.3341`` -> 5e-5, ``1.9947e-41`` -> 5e-46)."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def assert_shown(text: str, expected: dict, rtol: float = 0.0) -> None:
    """Every statistic in ``expected`` is shown, within half a unit of its last digit (plus ``rtol`` of it)."""
    shown = header_numbers(text)
    assert set(shown) == set(expected)
    for name, value in expected.items():
        assert abs(float(shown[name]) - value) <= half_unit(shown[name]) + rtol * abs(value) + 1e-12, name


@pytest.fixture(scope="module")
def wells():
    return bl.datasets.load_wells()


@pytest.fixture(scope="module")
def wells_model(wells):
    return bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)


@pytest.fixture(scope="module")
def iris_model():
    """Three classes on one sepal feature, which does not separate them, so ML exists."""
    return bl.LogisticModel.from_formula("species ~ sepal_length", bl.datasets.load_iris())


def test_ml_header_equals_the_statistics_and_statsmodels_logit(wells, wells_model):
    fit = wells_model.fit_ml()
    table = fit.summary()
    ours = fit.statistics()
    pd.testing.assert_series_equal(table.statistics, ours, check_exact=True)
    assert_shown(repr(table), ours.to_dict())
    # statsmodels' Logit, its null model refitted by its Newton (see tests/test_statistics.py)
    theirs = sm.Logit(wells["switched"], sm.add_constant(wells[["dist100", "arsenic"]])).fit(disp=0, tol=1e-12)
    expected = statsmodels_expected(theirs, statsmodels_null_llf(wells["switched"], sm.Logit))
    np.testing.assert_allclose(table.statistics[list(expected)].to_numpy(), list(expected.values()), rtol=1e-8)
    assert_shown(repr(table), expected, rtol=1e-8)
    assert theirs.llnull == pytest.approx(ours["llnull"], abs=1e-6)  # statsmodels' own optimiser's llnull
    assert "Formula: switched ~ dist100 + arsenic" in repr(table) and "Classes: 0 (reference), 1" in repr(table)


def test_multiclass_ml_header_equals_statsmodels_mnlogit(iris_model):
    frame = bl.datasets.load_iris()
    fit = iris_model.fit_ml()
    table = fit.summary()
    assert_shown(repr(table), fit.statistics().to_dict())
    theirs = sm.MNLogit(frame["species"].cat.codes, sm.add_constant(frame[["sepal_length"]])).fit(
        method="newton", disp=0, maxiter=100
    )
    np.testing.assert_allclose(
        table.statistics[["llf", "aic", "bic", "df_model", "df_resid"]].to_numpy(),
        [theirs.llf, theirs.aic, theirs.bic, theirs.df_model, theirs.df_resid],
        rtol=1e-8,
    )
    assert "Classes: setosa (reference), versicolor, virginica" in repr(table)


def test_map_header_shows_the_llf_the_prior_and_why_the_rest_is_absent(wells_model):
    prior = bl.Normal(2.5)
    fit = wells_model.fit_map(prior)
    text = repr(fit.summary())
    ours = fit.statistics()
    assert_shown(text, {name: value for name, value in ours.items() if not np.isnan(value)})
    assert set(header_numbers(text)) == {"nobs", "llf", "llnull", "prsquared"}
    assert float(header_numbers(text)["llf"]) == pytest.approx(fit.llf, abs=5e-5)  # printed to 4 decimals
    assert f"Prior: {prior!r}" in text
    assert " ".join(ours.attrs["note"].split()) in " ".join(text.split())


@pytest.fixture(scope="module")
def posterior_fits(wells_model, iris_model):
    """Laplace and a short MCMC run, binary (wells) and multiclass (iris), under Normal(2.5): ``(data, method) ->
    (fit, messages of the ConvergenceWarnings the fit raised)``. 2 x 200 draws may fall short of ESS 400, and
    the fit then warns, as its diagnosis says."""
    prior = bl.Normal(2.5)
    fits = {}
    for name, model in (("wells", wells_model), ("iris", iris_model)):
        for method, fit_with in (
            ("laplace", lambda: model.fit_laplace(prior, draws=1000, random_seed=0)),
            ("mcmc", lambda: model.fit_mcmc(prior, **MCMC_SETTINGS)),
        ):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", bl.ConvergenceWarning)
                fit = fit_with()
            fits[name, method] = fit, [str(w.message) for w in caught if w.category is bl.ConvergenceWarning]
    return fits


@pytest.mark.parametrize("data", ["wells", "iris"])
@pytest.mark.parametrize("method", ["laplace", "mcmc"])
def test_posterior_header_shows_the_loo_of_compare_and_the_diagnostics(posterior_fits, data, method):
    fit, messages = posterior_fits[data, method]
    assert bool(messages) == (not fit.diagnosis.ok)  # a short MCMC run may warn, and then only as diagnosed
    table = fit.summary()
    loo = bl.compare({method: fit}).loc["loo", method]
    expected = {
        "nobs": fit.model.data.weights.sum(),
        "chains": fit.n_chains,
        "draws": fit.n_draws,
        **loo.to_dict(),
        **fit.diagnosis.rows,
    }
    np.testing.assert_array_equal(table.statistics[list(expected)].to_numpy(), list(expected.values()))
    assert_shown(repr(table), expected)
    assert (table.statistics["chains"], table.statistics["draws"]) == {"laplace": (1, 1000), "mcmc": (2, 200)}[method]
    assert table.statistics["loo_rows"] == {"wells": 3020, "iris": 150}[data]


def test_loo_is_computed_when_the_header_is_first_shown_and_once_per_fit(monkeypatch):
    from bayeslogit.fits.results import posterior

    model = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())
    # Challenger's posterior is skewed
    with pytest.warns(bl.ConvergenceWarning, match="the Laplace approximation may be poor here"):
        fit = model.fit_laplace(bl.Normal(10, intercept_scale=10), draws=500, random_seed=0)
    calls = []
    monkeypatch.setattr(posterior, "loo_estimate", lambda each: calls.append(each) or ({"elpd_loo": -1.0}, None))
    table = fit.summary()
    part = table.loc[["temp"], ["mean", "sd"]]
    assert len(calls) == 0  # making and indexing a summary costs no LOO
    assert float(header_numbers(repr(part))["elpd_loo"]) == -1.0
    assert float(header_numbers(repr(table))["elpd_loo"]) == -1.0
    assert float(header_numbers(repr(fit.summary()))["elpd_loo"]) == -1.0
    assert bl.compare({"laplace": fit}).loc[("loo", "elpd_loo"), "laplace"] == -1.0
    assert calls == [fit]  # computed once for the fit: its summaries, their slices and compare share it


def test_selections_keep_the_header_and_computed_frames_are_plain(wells_model):
    fit = wells_model.fit_ml()
    table = fit.summary()
    llf = header_numbers(repr(table))["llf"]
    part = table.loc[["dist100", "arsenic"], ["estimate", "se"]]
    assert isinstance(part, SummaryTable) and header_numbers(repr(part))["llf"] == llf
    np.testing.assert_array_equal(part.to_numpy(), fit.summary()[["estimate", "se"]].to_numpy()[1:])
    assert part.attrs["uncertainty"] == table.attrs["uncertainty"]
    rounded = table.round(2)
    assert isinstance(rounded, SummaryTable) and header_numbers(repr(rounded))["llf"] == llf
    np.testing.assert_array_equal(rounded["estimate"].to_numpy(), np.round(fit.params[:, 0], 2))
    for computed, values in (
        (table * 2, 2 * table.to_numpy()),
        (-table, -table.to_numpy()),
        (np.exp(table[["estimate"]]), np.exp(fit.params)),
        (table - table, 0 * table.to_numpy()),
    ):
        assert type(computed) is pd.DataFrame and "Log-Likelihood" not in repr(computed)
        np.testing.assert_array_equal(computed.to_numpy(), values)
        assert computed.attrs["uncertainty"] == table.attrs["uncertainty"]
    np.testing.assert_array_equal(table["estimate"].to_numpy(), fit.params[:, 0])
    assert table.loc["arsenic", "estimate"] == fit.coef["arsenic"]


def test_summaries_concatenate_into_a_table_without_a_header(wells_model):
    ml, mp = wells_model.fit_ml().summary(), wells_model.fit_map(bl.Normal(2.5)).summary()
    joined = pd.concat({"ml": ml[["estimate", "se"]], "map": mp[["estimate", "se"]]})
    np.testing.assert_array_equal(joined.loc["map"].to_numpy(), mp[["estimate", "se"]].to_numpy())
    assert "Log-Likelihood" not in repr(joined)
    with pytest.raises(ValueError, match="no header of statistics"):
        joined.statistics


def test_to_string_and_html_show_the_header(wells_model):
    fit = wells_model.fit_ml()
    table = fit.summary()
    buffer = io.StringIO()
    assert table.to_string(buf=buffer) is None
    assert buffer.getvalue() == table.to_string()
    assert_shown(buffer.getvalue(), fit.statistics().to_dict())
    page = table._repr_html_()
    assert f"<th>Log-Likelihood:</th><td>{fit.statistics()['llf']:.4f}</td>" in page
    assert page.index("Log-Likelihood") < page.index("<thead>")  # the header above the table


def test_the_header_is_as_wide_as_the_table_and_a_long_fact_goes_across_it(wells):
    name = "switched_to_a_safe_well_within_the_three_years_after_the_survey"
    model = bl.LogisticModel.from_formula(f"{name} ~ dist100", wells.rename(columns={"switched": name}))
    text = repr(model.fit_ml().summary())
    lines = text.splitlines()
    assert lines[1] == "=" * summary_render.WIDTH  # the table is narrower: the header keeps its 78 columns
    assert max(len(line) for line in lines) <= summary_render.WIDTH
    assert f"Response: {name}" in lines  # too long for the left column: a line across the width
    assert header_numbers(text)["llf"] == f"{model.fit_ml().llf:.4f}"


def test_a_loaded_fit_prints_its_table_and_says_which_statistics_need_the_rows(wells_model, tmp_path):
    fit = wells_model.fit_ml()
    loaded = bl.load(fit.save(tmp_path / "ml.nc"))
    table = loaded.summary()
    pd.testing.assert_frame_equal(table, fit.summary(), check_exact=True)
    assert len(table.statistics) == 0
    assert "a saved fit does not keep them" in " ".join(repr(table).split())
    attached = bl.load(tmp_path / "ml.nc", model=wells_model).summary()
    pd.testing.assert_series_equal(attached.statistics, fit.statistics(), check_exact=True)


def test_a_summary_pickles_with_its_header(wells_model):
    table = wells_model.fit_ml().summary()
    copy = pickle.loads(pickle.dumps(table.loc[["arsenic"]]))
    assert isinstance(copy, SummaryTable) and copy.loc["arsenic", "estimate"] == table.loc["arsenic", "estimate"]
    pd.testing.assert_series_equal(copy.statistics, table.statistics, check_exact=True)
    assert copy.header_text() == table.header_text()


def test_an_autoscaled_prior_lists_the_scales_it_came_to():
    """As rstanarm's prior_summary shows its adjusted prior: each slope's scale over its predictor's sd, by name;
    past eight coefficients the rest are counted. A prior of fixed scales shows its scales in its own repr."""
    wells = bl.datasets.load_wells()
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic + educ", wells)
    fit = model.fit_map(bl.Normal(2.5, autoscale=True))
    line = [text for text in str(fit.summary()).splitlines() if text.startswith("Scales (scale / sd):")]
    expected = [2.5 / wells[name].std(ddof=1) for name in ("dist100", "arsenic", "educ")]
    assert line == [
        "Scales (scale / sd): Intercept flat, "
        + ", ".join(f"{name} {value:.3g}" for name, value in zip(("dist100", "arsenic", "educ"), expected))
    ]
    assert "Scales (scale / sd)" not in str(model.fit_map(bl.Normal(2.5)).summary())
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 11))
    wide = bl.LogisticModel(X, (X[:, 0] + rng.normal(size=200) > 0).astype(int)).fit_map(bl.Cauchy(2.5))
    assert "x6 " in str(wide.summary()) and "and 4 more (fit.prior_scales)" in str(wide.summary())
