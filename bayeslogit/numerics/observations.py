"""Which rows of the likelihood make up each observation: every row is one (a class label), or a binomial observation
(successes of trials) is two rows, a success and a failure weighted by their counts.

A binomial observation of ``s`` successes and ``f`` failures in ``n = s + f`` trials, of weight ``w``, has the
log-likelihood ``w [log C(n, s) + s log p + f log(1 - p)]``: its success row (class code 1, weight ``w s``) and its
failure row (code 0, weight ``w f``) give every term but the binomial coefficient, which does not depend on the
coefficients. So every fit runs on the rows as they are, and what reports a log-likelihood adds
:attr:`BinomialCounts.log_constant`; what reports one per observation (PSIS-LOO) sums the rows of each observation and
adds its coefficient (:meth:`BinomialCounts.pointwise`), as glmer and statsmodels' ``GLM(Binomial)`` count them.

Conventions
-----------
``n_obs`` observations, ``n_rows`` rows of the likelihood; ``S`` draws. A row with a count of 0 is left out, so that
an observation has one row or two, its rows next to each other and in the order of the observations.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np


class EachRow:
    """Every row of the likelihood is one observation, of one class label."""

    grouped = False
    log_constant = 0.0
    """The part of the log-likelihood that does not depend on the coefficients: none."""

    def count(self, n_rows: int) -> int:
        """The number of observations of ``n_rows`` rows: as many."""
        return n_rows

    def nobs(self, row_weight: float) -> float:
        """The number of observations as statistics count them (the rows' summed weight ``row_weight``)."""
        return row_weight

    def rows_of(self, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of the sorted ``observations`` (r,): themselves, each starting at its own place."""
        return observations, np.arange(len(observations))

    def pointwise(self, loglik: np.ndarray, observations: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """The log-likelihood of each observation at each draw from that of its rows ``loglik`` (S, r): as it is."""
        return loglik

    def observed(self, codes: np.ndarray) -> dict:
        """What was observed, for ArviZ's ``observed_data``: ``y``, the class codes (n_obs,)."""
        return {"y": codes}


EACH_ROW = EachRow()


@dataclass(frozen=True, eq=False)
class BinomialCounts:
    """Binomial observations: successes and failures, each observation's rows of the likelihood.

    Attributes
    ----------
    successes, failures : ndarray of shape (n_obs,)
        Non-negative whole counts, at least one trial per observation.
    weights : ndarray of shape (n_obs,)
        The observations' own weights (a row of weight 2 counts as two identical observations).
    row_observation : ndarray of int of shape (n_rows,)
        The observation of each row of the likelihood, non-decreasing.
    """

    successes: np.ndarray
    failures: np.ndarray
    weights: np.ndarray
    row_observation: np.ndarray

    grouped = True

    @classmethod
    def expand(
        cls, successes: np.ndarray, failures: np.ndarray, weights: np.ndarray
    ) -> tuple["BinomialCounts", np.ndarray, np.ndarray]:
        """The counts of ``n_obs`` observations as rows of the likelihood.

        Returns
        -------
        counts : BinomialCounts
        codes : ndarray of int of shape (n_rows,)
            1 for a success row, 0 for a failure row.
        row_weights : ndarray of shape (n_rows,)
            ``w s`` for a success row, ``w f`` for a failure row.
        """
        n = len(successes)
        counts = np.column_stack([successes, failures]).ravel()  # success then failure, observation by observation
        kept = counts > 0
        rows = np.repeat(np.arange(n), 2)[kept]
        codes = np.tile(np.array([1, 0], dtype=np.intp), n)[kept]
        return cls(successes, failures, weights, rows), codes, weights[rows] * counts[kept]

    @cached_property
    def log_coefficients(self) -> np.ndarray:
        """``w log C(s + f, s)`` of each observation, shape (n_obs,)."""
        from scipy.special import gammaln  # here: the package's import and label models need not load scipy.special

        s, f = self.successes, self.failures
        return self.weights * (gammaln(s + f + 1.0) - gammaln(s + 1.0) - gammaln(f + 1.0))

    @property
    def log_constant(self) -> float:
        """The part of the log-likelihood that does not depend on the coefficients: ``sum w log C(s + f, s)``."""
        return float(self.log_coefficients.sum())

    def count(self, n_rows: int) -> int:
        """The number of observations (whatever the number of rows)."""
        return len(self.successes)

    def nobs(self, row_weight: float) -> float:
        """The number of observations as statistics count them: their summed weight (not the trials)."""
        return float(self.weights.sum())

    def rows_of(self, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of the sorted ``observations`` (r,), and where each observation's rows start among them (r,)."""
        first = np.searchsorted(self.row_observation, observations, side="left")
        lengths = np.searchsorted(self.row_observation, observations, side="right") - first
        starts = np.cumsum(lengths) - lengths
        return np.repeat(first - starts, lengths) + np.arange(lengths.sum()), starts

    def pointwise(self, loglik: np.ndarray, observations: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """The log-likelihood of each of ``observations`` (r,) at each draw, shape (S, r): its rows' ``loglik``
        (S, rows of :meth:`rows_of`) summed, from ``starts``, plus its binomial coefficient."""
        return np.add.reduceat(loglik, starts, axis=1) + self.log_coefficients[observations]

    def observed(self, codes: np.ndarray) -> dict:
        """What was observed, for ArviZ's ``observed_data``: ``y``, the successes, and ``trials``, each (n_obs,)."""
        return {"y": self.successes, "trials": self.successes + self.failures}
