"""Every answer the package gives, written to a file, so that two versions of the code can be compared.

    python benchmarks/answers.py save answers-old.npz      # on one version
    python benchmarks/answers.py save answers-new.npz      # on another
    python benchmarks/answers.py compare answers-old.npz answers-new.npz

The answers are ML, MAP, Laplace and MCMC (seeded) fits of a binary formula model (wells), a multiclass model
(iris, reference and symmetric) and an array model with weights; for each, the coefficients, covariance,
summary, odds ratios, statistics, predictions with intervals, boundaries, and what the fit predicts after
saving and loading. ``compare`` prints the largest absolute difference of each and fails beyond ``--tol``.
"""

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

import bayeslogit as bl


def _numbers(value) -> np.ndarray:
    """The numbers of a result (array, Series, DataFrame, DataArray) as a flat float array."""
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    elif hasattr(value, "values") and not callable(value.values):
        value = value.values
    return np.asarray(value, dtype=float).ravel()


def _probabilities(fit, new_rows) -> np.ndarray:
    """``fit.predict_proba(new_rows)`` (n, K), as answers record it: of a binary model, the event's column (n,) only,
    so that answers saved when a binary fit's ``predict_proba`` was (n,) compare with these."""
    proba = fit.predict_proba(new_rows)
    return proba[:, 1] if fit.model.n_classes == 2 else proba


def _fit_answers(name: str, fit, new_rows, folder: Path) -> dict:
    """The answers of one fit, keyed ``name/what``."""
    out = {
        "coef": fit.coef,
        "cov": fit.cov,
        "predict_proba": _probabilities(fit, new_rows),
        "log_proba": fit.log_proba(new_rows),
        "decision": fit.linear_predictor(new_rows),
    }
    out["summary"] = fit.summary().select_dtypes("number")
    out["odds_ratios"] = fit.odds_ratios().select_dtypes("number")
    out["interval"] = fit.predict_interval(new_rows).select_dtypes("number")
    boundary = fit.boundary()
    out["boundary"] = boundary.summary().select_dtypes("number")
    if hasattr(fit, "statistics"):
        out["statistics"] = fit.statistics()
    if hasattr(fit, "coef_draws"):
        out["draws"] = fit.coef_draws
    path = folder / f"{name.replace('/', '-')}.nc"
    fit.save(path)
    loaded = bl.load(path)
    out["loaded_predict_proba"] = _probabilities(loaded, new_rows)
    out["loaded_interval"] = loaded.predict_interval(new_rows).select_dtypes("number")
    return {f"{name}/{key}": _numbers(value) for key, value in out.items()}


def answers() -> dict:
    """Every answer, as flat float arrays keyed ``model/method/what``."""
    wells = bl.datasets.load_wells()
    iris = bl.datasets.load_iris()
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 3))
    y = (X @ [1.0, -0.5, 0.25] + rng.logistic(size=300) > 0).astype(int)
    weights = rng.integers(1, 4, size=300)
    three = np.digitize(X @ [0.8, 0.4, -0.6] + rng.logistic(size=300), [-0.7, 0.7])
    models = {
        "wells": (bl.LogisticModel.from_formula("switched ~ dist100 + arsenic + C(educ > 6)", wells), wells.iloc[:50]),
        "iris": (bl.LogisticModel.from_formula("species ~ sepal_length + sepal_width", iris), iris.iloc[::10]),
        "iris_sym": (
            bl.LogisticModel.from_formula("species ~ petal_length", iris, parameterization="symmetric"),
            iris.iloc[::10],
        ),
        "arrays": (bl.LogisticModel(X, y, weights=weights), X[:40]),
        "three": (bl.LogisticModel(X, np.array(["a", "b", "c"])[three]), X[:40]),
    }
    found = {}
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model_name, (model, new_rows) in models.items():
            prior = bl.Normal(2.5, intercept_scale=5.0, autoscale=True)
            fits = model.fit_all(prior, random_seed=3, draws=200, tune=100, chains=2, progressbar=False)
            for method, fit in fits.items():
                if hasattr(fit, "error"):
                    found[f"{model_name}/{method}/failed"] = np.array([1.0])
                    continue
                found |= _fit_answers(f"{model_name}/{method}", fit, new_rows, Path(folder))
            implied = model.prior_predictive(prior, draws=200, random_seed=1)
            found[f"{model_name}/prior_predictive"] = np.concatenate(
                [_numbers(implied.probabilities), _numbers(implied.quantiles()), [implied.share_near_certain]]
            )
    return found


def compare(old_path: str, new_path: str, tol: float) -> int:
    """Print the largest difference of each answer; 1 when an answer is missing or differs beyond ``tol``."""
    old, new = np.load(old_path), np.load(new_path)
    status = 0
    for key in sorted(set(old) | set(new)):
        if key not in old or key not in new:
            print(f"{key}: only in {'the old' if key in old else 'the new'} answers")
            status = 1
            continue
        a, b = old[key], new[key]
        if a.shape != b.shape:
            print(f"{key}: shape {a.shape} -> {b.shape}")
            status = 1
            continue
        same_nan = np.array_equal(np.isnan(a), np.isnan(b))
        finite = np.isfinite(a) & np.isfinite(b)
        diff = float(np.max(np.abs(a[finite] - b[finite]), initial=0.0))
        inf_same = np.array_equal(a[~np.isfinite(a)], b[~np.isfinite(b)], equal_nan=True)
        bad = diff > tol or not same_nan or not inf_same
        status |= bad
        print(f"{key}: {'DIFFERS' if bad else 'same'} (largest difference {diff:.3g}, {a.size} values)")
    print(f"{len(set(old) | set(new))} answers compared; {'all within' if not status else 'NOT all within'} {tol:g}")
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("save").add_argument("path")
    compared = commands.add_parser("compare")
    compared.add_argument("old")
    compared.add_argument("new")
    compared.add_argument("--tol", type=float, default=1e-10)
    args = parser.parse_args(argv)
    if args.command == "save":
        np.savez(args.path, **answers())
        return 0
    return compare(args.old, args.new, args.tol)


if __name__ == "__main__":
    sys.exit(main())
