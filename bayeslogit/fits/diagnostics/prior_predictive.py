"""The prior predictive check: the class probabilities a prior implies on the observed rows, before any data.

Coefficients drawn from the prior (:mod:`bayeslogit.numerics.prior_specs`) are pushed through the model's link on
its own predictors. A prior that is wide on the predictors' scale (a slope of sd 2.5 on a
predictor that reaches 10) puts most of that mass within :data:`NEAR_CERTAIN` of 0 or 1: it claims near
certainty before seeing a row, and :func:`prior_predictive` warns :class:`~bayeslogit.exceptions.PriorWarning`.
The share is a mean over independent prior draws, so it is compared with :data:`WARN_ABOVE` beyond its Monte Carlo
noise (:data:`~bayeslogit.fits.diagnostics.convergence.Z` standard errors); within it, the warning says that the prior
may be too wide.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayeslogit.checks import check_count
from bayeslogit.exceptions import Advice, OptionError, PriorWarning, Remedy, warn_convergence
from bayeslogit.fits.diagnostics.convergence import Z
from bayeslogit.numerics import predictive
from bayeslogit.numerics.blocks import block_slices
from bayeslogit.numerics.design import Design
from bayeslogit.numerics.prior_specs import prior_term

NEAR_CERTAIN = 0.01  # a probability within this of 0 or 1 is a near-certain prediction
WARN_ABOVE = 0.5  # share of near-certain probabilities above which the prior is said to be too wide
MAX_ROWS = 10_000  # rows the check runs on; beyond, a seeded subsample of this many
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True, repr=False)
class PriorPredictive:
    """The distribution of the class probabilities implied by a prior on the observed rows.

    Attributes
    ----------
    probabilities : ndarray of shape (draws, n_rows) or (draws, n_rows, K)
        Binary: the event's probability ``Pr(w = model.classes_[1])`` (the one label of ``classes``), of each row at
        each prior draw. Multiclass: every class's probability. At most ``draws * MAX_ROWS * K`` values (80 MB for
        1,000 draws of a binary model).
    classes : tuple
        Labels of what ``probabilities`` holds: the event class (binary) or the K classes.
    response : str
        The formula's response, or ``"y"``.
    prior : Normal, StudentT or Cauchy
    share_near_certain : float
        The share of the probabilities (all classes' together) within :data:`NEAR_CERTAIN` of 0 or 1.
    n_rows_total : int
        Rows of the model: ``n_rows`` is all of them up to :data:`MAX_ROWS`, else a seeded subsample.
    share_se : float
        Monte Carlo standard error of ``share_near_certain``: the sd of each draw's share over the draws, divided by
        the square root of their number (the draws are independent).
    """

    probabilities: np.ndarray
    classes: tuple
    response: str
    prior: object
    share_near_certain: float
    n_rows_total: int
    share_se: float

    @property
    def verdict(self) -> str:
        """``"too wide"`` when the share exceeds :data:`WARN_ABOVE` by more than Z standard errors, ``"borderline"``
        within them, ``"fine"`` below them."""
        if self.share_near_certain - Z * self.share_se > WARN_ABOVE:
            return "too wide"
        return "fine" if self.share_near_certain + Z * self.share_se <= WARN_ABOVE else "borderline"

    @property
    def message(self) -> str | None:
        """What the check found and what to do, or None for a fine prior."""
        verdict = self.verdict
        if verdict == "fine":
            return None
        fix = ("use ", Remedy("smaller_scale"), *(() if self.prior.autoscale else (" or ", Remedy("autoscale_on"))))
        share = f"of the prior predictive probabilities are within {NEAR_CERTAIN} of 0 or 1"
        if verdict == "too wide":
            return Advice(
                f"this prior implies near-certain predictions before seeing data ({self.share_near_certain:.0%} "
                f"{share}); ",
                *fix,
            )
        return Advice(
            f"this prior may imply near-certain predictions before seeing data ({self.share_near_certain:.0%} ± "
            f"{self.share_se:.1%} {share}, within its noise of the {WARN_ABOVE:.0%} above which a prior is too "
            "wide); draw more (",
            Remedy("more_draws", 4 * self.n_draws),
            ") to settle it, or ",
            *fix,
        )

    @property
    def n_draws(self) -> int:
        return self.probabilities.shape[0]

    @property
    def n_rows(self) -> int:
        return self.probabilities.shape[1]

    def by_class(self) -> np.ndarray:
        """The probabilities with a class axis, shape (draws, n_rows, len(classes))."""
        return self.probabilities.reshape(self.n_draws, self.n_rows, len(self.classes))

    def shares_near_certain(self) -> np.ndarray:
        """Per class (of ``classes``), the share of its probabilities within :data:`NEAR_CERTAIN` of 0 or 1."""
        return _near_certain(self.by_class()).mean(axis=(0, 1))

    def quantiles(self, q=QUANTILES) -> pd.DataFrame:
        """Quantiles of each class's probabilities over every draw and row (NumPy's default, linear, method).

        Returns
        -------
        DataFrame of shape (len(q), len(classes))
            Index ``quantile``, one column per class label.
        """
        values = self.by_class().reshape(-1, len(self.classes))
        return pd.DataFrame(
            np.quantile(values, q, axis=0), index=pd.Index(q, name="quantile"), columns=list(self.classes)
        )

    def __repr__(self) -> str:
        return (
            f"PriorPredictive({self.prior!r}, {self.n_draws} draws x {self.n_rows} rows, "
            f"{self.share_near_certain:.0%} within {NEAR_CERTAIN} of 0 or 1)"
        )


def prior_predictive(model, prior, draws: int = 1000, random_seed=0) -> PriorPredictive:
    """The class probabilities that coefficients drawn from ``prior`` give the model's rows.

    Each draw is ``coef = scale * z``, ``z`` of shape (P, M) standard normal (``Normal``) or Student-t from
    ``numpy.random.default_rng(random_seed)`` and ``scale`` the prior scale of each coefficient row (autoscaled
    where the prior says so). Past :data:`MAX_ROWS` rows, the same generator then picks :data:`MAX_ROWS` of them.

    Parameters
    ----------
    model : LogisticModel
    prior : Normal, StudentT or Cauchy
    draws : int
        Coefficient draws from the prior (>= 2, for the Monte Carlo error of the share near-certain).
    random_seed : int, numpy.random.Generator or None

    Returns
    -------
    PriorPredictive

    Raises
    ------
    ValueError
        When the model has an intercept and the prior on it is flat: a flat prior has no draws, so it implies no
        distribution of the probabilities.

    Warns
    -----
    PriorWarning
        When more than half of the probabilities lie within :data:`NEAR_CERTAIN` of 0 or 1, or when their share is
        within its Monte Carlo noise of a half (see :attr:`PriorPredictive.verdict`).
    """
    draws = check_count("draws", draws, 2)  # two at least, for the Monte Carlo error of the share
    term = prior_term(prior, len(model.coef_names), model.intercept, model.data.predictor_sd)
    if term.flat.any():
        raise OptionError(
            Advice(
                f"the prior on the intercept is flat ({prior!r}), and a flat prior has no prior predictive "
                "distribution: it gives no draws of the intercept, so no distribution of the probabilities. "
                "Give the intercept a proper prior, e.g. ",
                Remedy("intercept_prior"),
            )
        )
    rng = np.random.default_rng(random_seed)
    coef_draws = term.draw(rng, (draws, len(model.coef_names), len(model.coef_classes)))
    observations = model.data.observations  # a binomial observation's predictors once, not once per row of it
    n = observations.count(model.data.X.shape[0])
    rows = np.arange(n) if n <= MAX_ROWS else np.sort(rng.choice(n, MAX_ROWS, replace=False))
    expanded, starts = observations.rows_of(rows)
    X, _, _ = model.data.take(expanded[starts])
    probabilities = _probabilities(model.family, Design(X, model.intercept), coef_draws, model.n_classes)
    shown = model.family.output_probabilities(np.asarray(model.classes_)[None])
    per_draw = _near_certain(probabilities).reshape(draws, -1).mean(axis=1)
    share_se = float(per_draw.std(ddof=1) / np.sqrt(draws))
    result = PriorPredictive(
        probabilities,
        tuple(np.ravel(shown).tolist()),
        model.response or "y",
        prior,
        float(per_draw.mean()),
        n,
        share_se,
    )
    if result.message:
        warn_convergence(result.message, PriorWarning)
    return result


def _probabilities(family, design: Design, coef_draws: np.ndarray, n_classes: int) -> np.ndarray:
    """What :attr:`PriorPredictive.probabilities` holds, computed a block of draws at a time."""
    n = design.n_samples
    blocks = []
    for draws in block_slices(len(coef_draws), n * n_classes):  # each draw's probabilities at every row
        proba = predictive.proba_per_draw(family, design, coef_draws[draws])  # (s, n, K)
        kept = family.output_probabilities(proba.reshape(-1, n_classes))
        blocks.append(kept.reshape(len(proba), n, *kept.shape[1:]))
    return np.concatenate(blocks)


def _near_certain(probabilities: np.ndarray) -> np.ndarray:
    return (probabilities < NEAR_CERTAIN) | (probabilities > 1 - NEAR_CERTAIN)
