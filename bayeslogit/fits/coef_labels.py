"""How a model's coefficients are laid out and labelled.

Conventions
-----------
A coefficient matrix ``B`` has shape (P, M): ``P`` coefficients per linear predictor (the intercept first
when there is one), ``M`` linear predictors (one column per non-reference class, or one for a Bernoulli
model). ``vec(B) = B.ravel(order="F")`` is class-major: the ``P`` coefficients of column 0, then of
column 1, ... Draws of coefficients have shape (n_chains, n_draws, P, M). The family decides what users
see: a Bernoulli model's one column is dropped (a Series, dims ``("predictor",)``), a categorical model's
columns are labelled by class (a DataFrame [coef x class], dims ``("predictor", "class")``).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, eq=False)
class CoefLayout:
    """The labels of a model's coefficients, classes and class pairs.

    Attributes
    ----------
    family : Bernoulli or Categorical
    classes : ndarray of shape (K,)
        The class labels; ``classes[1]`` is the event of a Bernoulli model.
    feature_names : tuple of str of length p
    intercept : bool
    """

    family: object
    classes: np.ndarray
    feature_names: tuple
    intercept: bool

    @property
    def coef_names(self) -> list[str]:
        """Names of the P coefficient rows: ``"Intercept"`` first when present, then the features."""
        return ["Intercept"] * self.intercept + list(self.feature_names)

    @property
    def columns(self) -> list:
        """Labels of the M coefficient columns: the event class (binary), the non-reference classes
        (reference) or all classes (symmetric)."""
        return self.family.columns(self.classes)

    @property
    def flat_labels(self) -> list[str]:
        """Labels of ``vec(B)``: the coefficient names, or ``name[class]`` for a categorical model."""
        return self.family.flat_labels(self.coef_names, self.columns)

    @property
    def coords(self) -> dict:
        """Labels of the family's coefficient dims, ``predictor`` (and ``class``)."""
        labels = {"predictor": self.coef_names, "class": self.columns}
        return {dim: labels[dim] for dim in self.family.coef_dims}

    @property
    def pairs(self) -> list[str]:
        """Labels ``"a|b"`` of the class pairs whose boundaries are reported."""
        return [f"{self.classes[j]}|{self.classes[k]}" for j, k in self.family.class_pairs(len(self.classes))]

    def labelled(self, B: np.ndarray, name: str = "coef") -> pd.Series | pd.DataFrame:
        """``B`` (P, M) as a Series indexed by ``coef_names`` or a DataFrame [coef x class]."""
        values = self.family.collapse(B)
        if values.ndim == 1:
            return pd.Series(values, index=self.coef_names, name=name)
        frame = pd.DataFrame(values, index=self.coef_names, columns=self.columns)
        frame.index.name, frame.columns.name = "coef", "class"
        return frame

    def unflatten(self, vec: np.ndarray) -> np.ndarray:
        """The (P, M) matrix of ``vec(B)`` (P*M,)."""
        return vec.reshape(len(self.coef_names), -1, order="F")

    def dataarray(self, draws: np.ndarray, name: str = "coef"):
        """Draws (n_chains, n_draws, P, M) as a labelled ``xarray.DataArray`` with dims
        ``(chain, draw, *family.coef_dims)``."""
        import xarray as xr

        coords = {"chain": np.arange(draws.shape[0]), "draw": np.arange(draws.shape[1]), **self.coords}
        return xr.DataArray(self.family.collapse(draws), dims=tuple(coords), coords=coords, name=name)


def listing(labels, values, width: int = 90) -> str:
    """``"a=1.5, b=-0.2"``: as many labelled values as fit in about ``width`` characters, then how many there are."""
    pairs = [f"{label}={value:.4g}" for label, value in zip(labels, values)]
    shown = [pairs[0]] if pairs else []
    for pair in pairs[1:]:
        if len(", ".join([*shown, pair])) > width:
            break
        shown.append(pair)
    return ", ".join(shown) + (f", ... ({len(pairs)} in all)" if len(shown) < len(pairs) else "")
