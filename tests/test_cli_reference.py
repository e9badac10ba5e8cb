"""``bayeslogit compare ... --reference LABEL``: the text names a class label (string or number) of the outcome.

Tolerances: ML fits under two references solve one convex problem in two coordinates by Newton to a decrement
below 1e-10; their probabilities agree to rounding (1e-10 is asserted), their coefficients (about 10) to 1e-8.
"""

import numpy as np
import pandas as pd
import pytest
from test_cli import run_command as run_main

import bayeslogit as bl
from bayeslogit.surface import cli
from bayeslogit.surface.cli import class_label


def run_command(argv: list[str], monkeypatch) -> tuple[int, str, str, dict]:
    """``main(argv)``: its exit status, stdout and stderr, and the fits it compared (empty when it stopped before)."""
    compared = {}

    def recording_compare(fits, *args, **kwargs):
        compared.update(fits)
        return bl.compare(fits, *args, **kwargs)

    monkeypatch.setattr(cli, "compare", recording_compare)
    return (*run_main(argv), compared)


def iris_csv(path, labels: dict) -> pd.DataFrame:
    """Iris's sepal length and its species written as ``labels[species]``; the frame as read back."""
    frame = bl.datasets.load_iris()
    frame = pd.DataFrame({"x": frame["sepal_length"], "y": frame["species"].map(labels).astype(object)})
    frame.to_csv(path, index=False)
    return pd.read_csv(path)


def test_the_reference_of_a_bundled_data_set_gives_contrasts_against_it(monkeypatch):
    status, out, _, fits = run_command(
        [
            "compare",
            "iris",
            "--formula",
            "species ~ sepal_length",
            "--methods",
            "ml",
            "--test-size",
            "0",
            "--reference",
            "virginica",
        ],
        monkeypatch,
    )
    assert status == 0
    fit = fits["ml"]
    default = bl.LogisticModel.from_formula("species ~ sepal_length", bl.datasets.load_iris()).fit_ml()
    assert fit.model.classes_.tolist() == ["virginica", "setosa", "versicolor"]
    np.testing.assert_allclose(fit.predict_proba(), default.predict_proba()[:, [2, 0, 1]], rtol=0, atol=1e-10)
    theirs = default.coef  # columns versicolor, virginica: log-odds against setosa
    np.testing.assert_allclose(fit.coef["setosa"], -theirs["virginica"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.coef["versicolor"], theirs["versicolor"] - theirs["virginica"], rtol=0, atol=1e-8)
    # the printed comparison shows these coefficients (4 significant digits)
    lines = out.splitlines()
    shown = dict(line.split() for line in lines[lines.index("coef") + 1 : lines.index("coef_se_sd")])
    for name in ("Intercept[setosa]", "sepal_length[setosa]", "Intercept[versicolor]", "sepal_length[versicolor]"):
        assert float(shown[name]) == pytest.approx(fit.coef.loc[name.split("[")[0], name[:-1].split("[")[1]], rel=5e-4)
    assert fit.coef.loc["Intercept", "versicolor"] == pytest.approx(38.759001 - 26.081936, abs=1e-5)  # from -> to


@pytest.mark.parametrize(
    ("labels", "text", "expected"),
    [
        ({"setosa": 0, "versicolor": 1, "virginica": 2}, "2", 2),  # integers
        ({"setosa": 0.0, "versicolor": 1.0, "virginica": 2.0}, "2", 2.0),  # floats named as integers
        ({"setosa": "a", "versicolor": "b", "virginica": "c"}, "c", "c"),  # strings
    ],
    ids=["int", "float", "str"],
)
def test_the_text_becomes_the_class_label_read_from_the_csv(tmp_path, monkeypatch, labels, text, expected):
    frame = iris_csv(tmp_path / "data.csv", labels)
    status, _, _, fits = run_command(
        [
            "compare",
            str(tmp_path / "data.csv"),
            "--formula",
            "y ~ x",
            "--methods",
            "ml",
            "--test-size",
            "0",
            "--reference",
            text,
        ],
        monkeypatch,
    )
    assert status == 0
    reference = fits["ml"].model.classes_[0]
    assert reference == expected and np.asarray(reference).dtype.kind == np.asarray(expected).dtype.kind
    default = bl.LogisticModel.from_formula("y ~ x", frame).fit_ml()
    np.testing.assert_allclose(fits["ml"].predict_proba(), default.predict_proba()[:, [2, 0, 1]], rtol=0, atol=1e-10)


def test_a_binary_reference_flips_the_event(monkeypatch):
    status, _, _, fits = run_command(
        [
            "compare",
            "wells",
            "--formula",
            "switched ~ dist100 + arsenic",
            "--methods",
            "ml",
            "--test-size",
            "0",
            "--reference",
            "1",
        ],
        monkeypatch,
    )
    assert status == 0 and fits["ml"].model.classes_.tolist() == [1, 0]
    default = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells()).fit_ml()
    np.testing.assert_allclose(fits["ml"].coef.to_numpy(), -default.coef.to_numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(fits["ml"].coef.to_numpy(), [-0.0027, 0.8966, -0.4608], atol=5e-5)  # Gelman & Hill


@pytest.mark.parametrize(
    ("labels", "text"),
    [
        ({"setosa": "s", "versicolor": "v", "virginica": "g"}, "daisy"),
        ({"setosa": 0, "versicolor": 1, "virginica": 2}, "7"),
    ],
    ids=["str", "int"],
)
def test_an_unknown_reference_gives_the_models_error_listing_the_classes(tmp_path, monkeypatch, labels, text):
    frame = iris_csv(tmp_path / "data.csv", labels)
    with pytest.raises(bl.DataError) as expected:
        bl.LogisticModel.from_formula("y ~ x", frame, reference=text)
    status, out, err, fits = run_command(
        ["compare", str(tmp_path / "data.csv"), "--formula", "y ~ x", "--test-size", "0", "--reference", text],
        monkeypatch,
    )
    assert (status, out, fits) == (1, "", {})
    assert err.splitlines()[-1] == f"bayeslogit: error: {expected.value}"
    assert str(sorted(labels.values())) in err  # the classes, listed


def test_class_label_matches_text_then_numbers():
    assert class_label("1", np.array([0.0, 1.0])) == 1.0
    assert class_label("1.0", np.array([0, 1])) == 1
    assert class_label("True", np.array([False, True])) is np.True_
    assert class_label("b", np.array(["a", "b"], dtype=object)) == "b"
    assert class_label("z", np.array(["a", "b"], dtype=object)) == "z"  # unknown: the model refuses it
