"""Model-level statistics of a point fit under statsmodels' names, and likelihood-ratio tests of nested fits.

Conventions
-----------
``k`` counts the free coefficients of a fit (``P * (K - 1)`` for a model of ``P`` coefficient rows and ``K``
classes, ``P`` for a binary one); ``k_null`` those of the null model. ``nobs`` is the sum of the sample
weights (the number of rows when there are none), so that a row of weight 2 counts as two rows, as
statsmodels' ``GLM(..., freq_weights=w)`` counts them in its ``df_resid`` and ``bic_llf``. A binomial model
(successes of trials) counts its observations, not its trials, and its ``llf`` and ``llnull`` include the binomial
coefficients, as statsmodels' ``GLM(Binomial)`` and glmer report them.

The null model is the one with the intercept alone, on the same rows and weights, whose maximum likelihood is in
closed form (each class's weighted frequency, :func:`null_llf`): nothing is fitted. For a model without an
intercept it is the model with no coefficients (every class logit 0), as R's ``glm`` takes it, so that the null is
nested in the model and ``llr`` has ``df_model = k`` degrees of freedom. statsmodels' ``Logit`` and ``MNLogit``
instead compare a model without an intercept with the intercept-only model, which is not nested in it; their
``aic``, ``bic`` and ``df_resid`` agree with these either way.

A MAP fit maximises the log posterior, not the log-likelihood: its ``llf`` (the log-likelihood at the MAP),
``llnull`` and McFadden's ``prsquared`` are descriptive and reported, but the likelihood-ratio test's
chi-squared law, AIC and BIC, and parameter counts as degrees of freedom all assume a maximised likelihood, so
those entries are NaN, and :func:`lr_test` refuses MAP fits.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from bayeslogit.exceptions import OptionError
from bayeslogit.rows import sources

_UNPENALISED_ONLY = ("llr", "llr_pvalue", "aic", "bic", "df_model", "df_resid")
"""The statistics that assume a maximised likelihood: NaN for a penalised (MAP) fit."""


class LikelihoodRatioTest(NamedTuple):
    """A likelihood-ratio test of a smaller model nested in a larger one.

    Attributes
    ----------
    statistic : float
        ``2 (llf_larger - llf_smaller)``.
    df : int
        The difference in free coefficients.
    p_value : float
        ``Pr(chi2(df) >= statistic)``.
    """

    statistic: float
    df: int
    p_value: float


def statistics(fit) -> pd.Series:
    """Model-level statistics of a point fit, named as statsmodels' ``Logit`` / ``MNLogit`` results name them.

    Parameters
    ----------
    fit : PointFit

    Returns
    -------
    Series
        ``llf, llnull, llr, llr_pvalue, prsquared, aic, bic, nobs, df_model, df_resid`` (see the module's
        conventions). For a MAP fit the entries that assume a maximised likelihood are NaN, and
        ``attrs["note"]`` says why.
    """
    llf, llnull = fit.llf, null_llf(fit)
    k, k_null = fit.objective.n_free, n_null_coef(fit.model)
    nobs = n_observations(fit.model.data)
    llr = 2.0 * (llf - llnull)
    values = {
        "llf": llf,
        "llnull": llnull,
        "llr": llr,
        "llr_pvalue": float(stats.chi2.sf(llr, k - k_null)),
        "prsquared": 1.0 - llf / llnull,
        "aic": 2.0 * (k - llf),
        "bic": np.log(nobs) * k - 2.0 * llf,
        "nobs": nobs,
        "df_model": float(k - k_null),
        "df_resid": nobs - k,
    }
    table = pd.Series(values, name=fit.method, dtype=float)
    if fit.penalised:
        table[list(_UNPENALISED_ONLY)] = np.nan
        table.attrs["note"] = (
            f"{fit.method.upper()} is a penalised fit: llf is the log-likelihood at its estimate; "
            f"{', '.join(_UNPENALISED_ONLY)} assume a maximised likelihood and are NaN. Use "
            "model.fit_ml().statistics() for them"
        )
    return table


def n_observations(rows) -> float:
    """The number of observations as the statistics count them: the rows' summed weight, or of a binomial model the
    observations' (not the trials), as statsmodels' ``GLM(Binomial)`` and R count them."""
    return float(rows.observations.nobs(rows.class_weights().sum()))


def n_null_coef(model) -> int:
    """Free coefficients of the null model: ``K - 1`` intercepts (one for a binary model), or none."""
    return (model.n_classes - 1) * int(model.intercept)


def null_llf(fit) -> float:
    """Log-likelihood of the null model on the fit's rows and weights. With an intercept, the intercept-only ML fit
    gives each class its weighted frequency: ``sum_k W_k log(W_k / W)``, ``W_k`` the weight of class ``k`` and ``W``
    their sum. Without one, the model whose class logits are all 0: ``-W log K``. A binomial model's adds its
    binomial coefficients, as its ``llf`` does."""
    totals = fit.model.data.class_weights()
    constant = fit.model.data.observations.log_constant
    if not fit.model.intercept:
        return constant - float(totals.sum()) * np.log(fit.model.n_classes)
    return constant + float(totals @ np.log(totals / totals.sum()))


def lr_test(fit, other) -> LikelihoodRatioTest:
    """Likelihood-ratio test of two nested maximum-likelihood fits of the same rows, in either order.

    Parameters
    ----------
    fit, other : PointFit
        ML fits of the same rows, labels and weights; the smaller's coefficient names must be among the
        larger's, and the shared features must hold the same values.

    Returns
    -------
    LikelihoodRatioTest

    Raises
    ------
    ValueError
        When either fit is penalised (MAP), the fits are of different data, or they are not nested.
    """
    for each in (fit, other):
        if each.penalised:
            raise OptionError(
                f"lr_test needs maximum-likelihood fits, but one is a {each.method.upper()} fit, "
                "penalised by its prior, whose log-likelihood is not maximised; compare "
                "model.fit_ml() fits"
            )
    smaller, larger = sorted((fit, other), key=lambda each: each.objective.n_free)
    _check_same_data(smaller.model, larger.model)
    _check_nested(smaller, larger)
    statistic = 2.0 * (larger.llf - smaller.llf)
    df = larger.objective.n_free - smaller.objective.n_free
    return LikelihoodRatioTest(statistic, df, float(stats.chi2.sf(statistic, df)))


def _check_same_data(first, second) -> None:
    """Raise ValueError unless two models have the same classes, likelihood, rows, labels and weights."""
    if first.data is second.data:
        return
    if not np.array_equal(first.classes_, second.classes_) or first.family != second.family:
        raise OptionError(
            f"the two fits model different outcomes: classes {first.classes_.tolist()} "
            f"({first.likelihood}) and {second.classes_.tolist()} ({second.likelihood}); a "
            "likelihood-ratio test needs two models of the same labels"
        )
    if first.data.X.shape[0] != second.data.X.shape[0]:
        raise OptionError(
            f"the two fits are of different rows ({first.data.X.shape[0]} and "
            f"{second.data.X.shape[0]}; a formula drops rows with missing values in its own "
            "columns); fit both models on the same rows"
        )
    first_y, first_w = first.data.training_rows("a likelihood-ratio test", labels_in_memory=True)[1:]
    second_y, second_w = second.data.training_rows("a likelihood-ratio test", labels_in_memory=True)[1:]
    if not (np.array_equal(first_y, second_y) and np.array_equal(first_w, second_w)):
        raise OptionError(
            "the two fits are of different rows, labels or weights (the same number of rows, but "
            "not the same labels and weights in the same order); fit both models on the same data"
        )


def _check_nested(smaller, larger) -> None:
    """Raise ValueError unless ``smaller``'s coefficients are a proper subset of ``larger``'s, on the same
    feature values."""
    if smaller.objective.n_free == larger.objective.n_free:
        raise OptionError(
            f"the two fits have the same number of coefficients ({larger.objective.n_free}), so "
            "neither is nested in the other; a likelihood-ratio test needs a model with fewer "
            "coefficients, a subset of the other's"
        )
    missing = [name for name in smaller.model.coef_names if name not in larger.model.coef_names]
    if missing:
        raise OptionError(
            f"the models are not nested: the smaller has the coefficient(s) {missing}, which the "
            f"larger (with {larger.model.coef_names}) lacks; test a model against one that contains "
            "all its terms"
        )
    small_names, large_names = smaller.model.feature_names, larger.model.feature_names
    for j, name in enumerate(small_names):
        small_column, large_column = sources.in_memory_arrays(
            smaller.model.data.X[:, j], larger.model.data.X[:, large_names.index(name)]
        )
        if not np.array_equal(small_column, large_column):
            raise OptionError(
                f"the feature {name!r} holds different values in the two fits' data, so they are not "
                "of the same rows; fit both models on the same data"
            )
