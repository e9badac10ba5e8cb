"""What differs between a multilevel model of two classes (or counts) and one of more: the response, read from the
formula's left-hand side (or from a saved fit's arrays), and the engines that fit it.

:class:`BinomialResponse` holds successes and trials (``cbind(successes, failures)``, or a column of two classes);
:class:`CategoricalResponse` the class codes of a column of more than two classes, the first in sorted order the
reference (as the flat models). A categorical model's group term gives each level its own effects for each
non-reference class, correlated within a class as lme4's ``|`` (independent with ``||``) and independent across
classes, a separate sd per class: in a K-class model ``(1 + x | g)`` behaves like ``K - 1`` terms, labelled
``"g (class B)"``, one per class.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gammaln

from bayeslogit.exceptions import DataError, OptionError
from bayeslogit.numerics.group_categorical import class_terms
from bayeslogit.rows.counts import cbind_arguments, read_counts, response_values
from bayeslogit.rows.in_memory import encode_labels

MIN_CLASS_ROWS = 5
"""A class of a categorical multilevel model needs this many rows: with fewer its coefficients rest on a handful
of rows, and its group effects on none in most groups."""


@dataclass(frozen=True, eq=False)
class BinomialResponse:
    """Successes (n,) in trials (n,), and the two outcome names (failure, success); ``kind`` names the kind in a
    saved fit's file."""

    successes: np.ndarray
    trials: np.ndarray
    outcomes: tuple
    classes = ()
    kind = "binomial"

    def layout_terms(self, terms: tuple) -> tuple:
        """The terms as the fits label them: the model's own."""
        return tuple(terms)

    def held_out(self, data: pd.DataFrame, formula: str) -> "BinomialResponse":
        """The response of other rows ``data``."""
        return BinomialResponse(*binomial_response(formula.partition("~")[0], data, formula))

    def log_likelihood(self, proba: np.ndarray) -> tuple[float, float]:
        """The binomial log-likelihood of the rows at the probabilities of success ``proba`` (n,), coefficients
        included, and the log loss per trial."""
        y, m = self.successes, self.trials
        p = np.clip(proba, 1e-300, 1 - 1e-16)
        loglik = y * np.log(p) + (m - y) * np.log1p(-p)
        constant = gammaln(m + 1) - gammaln(y + 1) - gammaln(m - y + 1)
        return float((loglik + constant).sum()), float(-loglik.sum() / m.sum())

    def fit_ml(self, X, terms, names, n_agq: int):
        from bayeslogit.algorithms.group_fit import fit_group_ml  # SciPy's optimisers: not on import

        return fit_group_ml(X, self.successes, self.trials, terms, n_agq=n_agq, names=names)

    def fit_map(self, X, terms, names, group_prior, precision):
        from bayeslogit.algorithms.group_fit import fit_group_map

        return fit_group_map(X, self.successes, self.trials, terms, group_prior, precision, names=names)

    def sample(self, X, names, terms, coef_sd, group_prior, **options):
        from bayeslogit.algorithms.pymc_multilevel import sample_multilevel

        return sample_multilevel(X, names, self.successes, self.trials, list(terms), coef_sd, group_prior, **options)


@dataclass(frozen=True, eq=False)
class CategoricalResponse:
    """Class codes (n,) in ``0 .. K-1`` of the K ``classes``, class 0 the reference; ``kind`` names the kind in a
    saved fit's file."""

    codes: np.ndarray
    classes: tuple
    successes = None
    trials = None
    kind = "categorical"

    @property
    def outcomes(self) -> tuple:
        return self.classes

    def held_out(self, data: pd.DataFrame, formula: str) -> "CategoricalResponse":
        """The response of other rows ``data``, coded in this model's classes.

        Raises
        ------
        DataError
            When the column is missing or holds a class the model has not seen.
        """
        column = formula.partition("~")[0].strip().strip("`")
        if column not in data.columns:
            raise DataError(f"the response {column!r} of {formula!r} is not a column of the rows")
        labels = pd.Index(list(self.classes))
        codes = labels.get_indexer(data[column])
        if np.any(codes < 0):
            unknown = sorted(set(data[column][codes < 0].tolist()), key=str)[:5]
            raise DataError(
                f"the response {column!r} holds classes the model was not fitted on ({unknown}); it knows "
                f"{list(self.classes)}: drop those rows"
            )
        return CategoricalResponse(codes, self.classes)

    def log_likelihood(self, proba: np.ndarray) -> tuple[float, float]:
        """The log-likelihood of the rows' classes at the class probabilities ``proba`` (n, K), and the log loss
        per row."""
        log_p = np.log(np.clip(proba[np.arange(len(self.codes)), self.codes], 1e-300, None))
        return float(log_p.sum()), float(-log_p.mean())

    def layout_terms(self, terms: tuple) -> tuple:
        """Each term's per-class terms, term by term, class by class (``"g (class B)"``)."""
        return tuple(copy for term in terms for copy in class_terms(term, self.classes))

    def fit_ml(self, X, terms, names, n_agq: int):
        if n_agq > 1:
            raise OptionError(
                f"n_agq={n_agq} (adaptive Gauss-Hermite quadrature) is not available for a categorical model, whose "
                f"levels' effects span {len(self.classes) - 1} classes each: use the Laplace approximation, n_agq=1"
            )
        from bayeslogit.algorithms.group_fit_categorical import fit_categorical_ml

        return fit_categorical_ml(X, self.codes, self.classes, terms, names=names)

    def fit_map(self, X, terms, names, group_prior, precision):
        from bayeslogit.algorithms.group_fit_categorical import fit_categorical_map

        return fit_categorical_map(X, self.codes, self.classes, terms, group_prior, precision, names=names)

    def sample(self, X, names, terms, coef_sd, group_prior, **options):
        from bayeslogit.algorithms.pymc_multilevel import sample_categorical_multilevel

        return sample_categorical_multilevel(
            X, names, self.codes, self.classes, self.layout_terms(terms), coef_sd, group_prior, **options
        )


def read_response(response: str, data: pd.DataFrame, formula: str, n_terms: int):
    """The response of ``formula``'s left-hand side ``response``: ``cbind(successes, failures)`` as lme4 writes it,
    a column of two classes (the second, in sorted order, the success), or of more (a categorical model).

    Raises
    ------
    DataError
        When the column is missing, has one class, or a class has fewer than :data:`MIN_CLASS_ROWS` rows.
    OptionError
        When a categorical model has more than one group term.
    """
    if cbind_arguments(formula, response.strip()) is not None:
        successes, failures, _ = read_counts(response_values(formula, response.strip(), data), len(data))
        return BinomialResponse(successes, successes + failures, ("failure", "success"))
    column = response.strip().strip("`")
    if column not in data.columns:
        raise DataError(f"the response {column!r} of {formula!r} is not a column of the data")
    codes, classes = encode_labels(data[column], len(data))
    if len(classes) < 2:
        raise DataError(f"the response {column!r} has a single class ({classes.tolist()}): there is nothing to model")
    if len(classes) == 2:
        return BinomialResponse(codes.astype(float), np.ones(len(codes)), tuple(classes.tolist()))
    counts = np.bincount(codes, minlength=len(classes))
    if counts.min() < MIN_CLASS_ROWS:
        rare = [f"{label!r} ({count} rows)" for label, count in zip(classes.tolist(), counts) if count < MIN_CLASS_ROWS]
        raise DataError(
            f"the response {column!r} has classes with fewer than {MIN_CLASS_ROWS} rows: {', '.join(rare)}; their "
            "coefficients and group effects cannot be estimated: merge them into another class or drop their rows"
        )
    if n_terms > 1:
        raise OptionError(
            f"a categorical multilevel model takes one group term here; {formula!r} has {n_terms}. Several (crossed "
            "or nested) terms couple the levels of different factors through each row's class weights, which the "
            "Laplace engine does not factor: keep one term, e.g. (1 | g), or (1 | a:b) for the groups within groups, "
            "or fit a two-class model of each class against the reference"
        )
    return CategoricalResponse(codes, tuple(classes.tolist()))


def binomial_response(response: str, data: pd.DataFrame, formula: str) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Successes (n,), trials (n,) and the two outcome names of a two-class or counts response.

    Raises
    ------
    DataError
        As :func:`read_response`, and when the response has more than two classes.
    """
    read = read_response(response, data, formula, 1)
    if read.successes is None:
        raise DataError(
            f"a two-class response is needed here; {response.strip()!r} has {len(read.classes)} classes "
            f"({list(read.classes)[:5]})"
        )
    return read.successes, read.trials, read.outcomes
