"""The likelihood-ratio test of two nested maximum-likelihood fits where one or both have group terms: lme4's
``anova(smaller, larger)``, with the p-value that accounts for a group sd tested on its boundary.

A multilevel ML fit's log-likelihood is its log marginal likelihood (Laplace or adaptive Gauss-Hermite); a flat
fit's is its log-likelihood, binomial coefficients included in both, so the two are on one scale. The statistic
``2 (loglik_larger - loglik_smaller)`` is referred to ``chi2(df)``, ``df`` the difference in the numbers of fixed
effects and covariance parameters, as ``anova`` does. Under the null hypothesis a group sd is zero, on the boundary of
its space, where that reference is conservative: for one added scalar term (one sd, nothing else), the statistic's
limit is the mixture ``1/2 chi2(df - 1) + 1/2 chi2(df)`` (Self & Liang 1987), whose p-value is
``p_value_boundary``; for other differences no such simple mixture holds, and it is NaN.
"""

from typing import NamedTuple

import numpy as np

from bayeslogit.exceptions import OptionError


class GroupLikelihoodRatioTest(NamedTuple):
    """A likelihood-ratio test of a smaller model nested in a larger one with more group terms or fixed effects.

    Attributes
    ----------
    statistic : float
        ``2 (loglik_larger - loglik_smaller)``.
    df : int
        The difference in fixed effects plus covariance parameters.
    p_value : float
        ``Pr(chi2(df) >= statistic)``, as lme4's ``anova`` gives it: conservative where a group sd is tested.
    p_value_boundary : float
        ``1/2 Pr(chi2(df - 1) >= statistic) + 1/2 Pr(chi2(df) >= statistic)`` where the larger model adds one
        scalar group term (and possibly fixed effects) to the smaller; NaN otherwise.
    """

    statistic: float
    df: int
    p_value: float
    p_value_boundary: float


class _Side(NamedTuple):
    """What the test needs of a fit: its log-likelihood, response, fixed effects' names and group terms as
    ``(label, columns, correlated)``, and its count of covariance parameters."""

    loglik: float
    successes: np.ndarray
    trials: np.ndarray
    coef_names: tuple
    terms: tuple
    n_covariance: int


def _grouped_side(fit) -> _Side:
    layout, source = fit.layout, fit.source
    if layout.classes:
        raise OptionError(
            f"lr_test compares fits of a two-class or binomial response; this one has {len(layout.classes)} classes. "
            "For two nested categorical fits, refer 2 (loglik_larger - loglik_smaller) of their fit.loglik to chi2 "
            "with the difference in their numbers of coefficients (len(fit.layout.flat_coef_names)) and of group "
            "sds and correlations (len(fit.result.theta)) as degrees of freedom"
        )
    terms = tuple(zip(layout.labels, layout.columns, layout.correlated))
    return _Side(
        fit.loglik, source.successes, source.trials, layout.coef_names, terms, len(fit.result.theta)
    )  # fmt: skip


def _flat_side(fit) -> _Side:
    data = fit.model.data
    observations = data.observations
    if observations.grouped:
        successes, trials = observations.successes, observations.successes + observations.failures
    else:
        _, y, weights = data.training_rows("a likelihood-ratio test", labels_in_memory=True)
        if len(fit.model.classes_) != 2 or not np.all(weights == 1):
            raise OptionError(
                "a likelihood-ratio test against a multilevel fit needs a flat fit of the same two-class or "
                "binomial response, without weights"
            )
        successes, trials = np.asarray(y, dtype=float), np.ones(len(y))
    return _Side(fit.llf, successes, trials, tuple(fit.coef.index), (), 0)


def _within(term: tuple, other: tuple) -> bool:
    """Whether group term ``term`` is ``other`` with some sds (and correlations) at zero: the same factor, columns
    among ``other``'s, and correlated only where ``other`` is."""
    (label, columns, correlated), (other_label, other_columns, other_correlated) = term, other
    return (
        label == other_label
        and set(columns) <= set(other_columns)
        and (other_correlated or not correlated or len(columns) == 1)
    )


def _written(term: tuple) -> str:
    """A term as lme4 writes it: ``(1 + x | g)``, ``(0 + x || g)``."""
    label, columns, correlated = term
    names = [("1" if column == "Intercept" else column) for column in columns]
    names = names if "Intercept" in columns else ["0", *names]
    return f"({' + '.join(names)} {'|' if correlated else '||'} {label})"


def group_lr_test(fit, other) -> GroupLikelihoodRatioTest:
    """The test of two nested ML fits of the same rows, in either order, at least one of them multilevel.

    Parameters
    ----------
    fit : MultilevelMLFit
    other : MultilevelMLFit or MLFit
        Of the same response rows; the smaller's fixed effects and group terms (label, columns, and whether
        correlated) must be among the larger's.

    Raises
    ------
    OptionError
        When ``other`` is penalised (MAP) or not a point fit, the rows differ, or the fits are not nested.
    """
    from scipy import stats

    if getattr(other, "method", None) != "ml":
        raise OptionError(
            "lr_test compares two maximum-likelihood fits (fit_ml()), flat or multilevel; got "
            f"{type(other).__name__}, whose log-likelihood is not a maximised one"
        )
    first, second = _grouped_side(fit), (_grouped_side if hasattr(other, "source") else _flat_side)(other)
    if len(first.trials) != len(second.trials) or not (
        np.array_equal(first.successes, second.successes) and np.array_equal(first.trials, second.trials)
    ):
        raise OptionError(
            f"the two fits are of different rows or responses ({len(first.trials)} and {len(second.trials)} rows); "
            "fit both models on the same rows"
        )
    smaller, larger = sorted((first, second), key=lambda side: len(side.coef_names) + side.n_covariance)
    missing = [name for name in smaller.coef_names if name not in larger.coef_names]
    missing += [_written(term) for term in smaller.terms if not any(_within(term, other) for other in larger.terms)]
    df = len(larger.coef_names) + larger.n_covariance - len(smaller.coef_names) - smaller.n_covariance
    if missing or df == 0:
        raise OptionError(
            "the fits are not nested: "
            + (f"{', '.join(missing)} of the smaller model not in the larger" if missing else "as many parameters")
            + "; a likelihood-ratio test compares a model with one that adds fixed effects or group terms to it"
        )
    statistic = 2.0 * (larger.loglik - smaller.loglik)
    p_value = float(stats.chi2.sf(max(statistic, 0.0), df))
    added = set(larger.terms) - set(smaller.terms)
    one_scalar = len(added) == 1 and len(next(iter(added))[1]) == 1
    below = float(stats.chi2.sf(statistic, df - 1)) if df > 1 else float(statistic <= 0.0)  # chi2(0): 0 always
    boundary = 0.5 * (below + p_value) if one_scalar else np.nan
    return GroupLikelihoodRatioTest(statistic, df, p_value, boundary)
