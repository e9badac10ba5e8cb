"""The variables a boundary plot is drawn in, and how a grid over them becomes rows of the design.

Two kinds of plane:

* features: one or two columns of the model's design (an array model's features, or a formula's plain
  columns). The other features are held at their means over the rows drawn; boundaries are straight.
* data variables: one or two columns of a formula model's data frame (``dist100`` in
  ``bs(dist100, df=4) + np.log(arsenic)``). A grid over them, with the formula's other variables held at
  their mean (numeric) or most frequent level (categorical), goes through the fitted formula, so that a
  boundary is a curve in the variables the user knows.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayeslogit.exceptions import DataError, OptionError
from bayeslogit.rows.formulas import data_names

SPAN_MARGIN = 0.05  # fraction of the data's range added on each side of a plotted variable


@dataclass(frozen=True)
class Plane:
    """One or two plotted variables, the rows drawn in them, and the map from the plane to design rows.

    Attributes
    ----------
    names : tuple of str
        The plotted variables.
    points : ndarray of shape (n_samples, len(names))
        The rows drawn, in the plotted variables.
    spans : tuple of (float, float)
        Extent of each plotted variable.
    held : dict of str to object
        The variables held fixed and their values.
    held_how : str
        How they were chosen, as the figure says it.
    expand : callable
        Values in the plane, ndarray (m, len(names)), to design rows (m, n_features).
    columns : tuple of int or None
        The design columns of the plotted variables; None for data variables (curved boundaries).
    """

    names: tuple
    points: np.ndarray
    spans: tuple
    held: dict
    held_how: str
    expand: Callable[[np.ndarray], np.ndarray]
    columns: tuple | None

    def axis(self, i: int, size: int) -> np.ndarray:
        """``size`` evenly spaced values of plotted variable ``i`` over its span."""
        return np.linspace(*self.spans[i], size)

    def grid(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mesh of the two plotted variables, G1 and G2 (size, size), and its design rows (size**2, n_features)."""
        G1, G2 = np.meshgrid(self.axis(0, size), self.axis(1, size))
        return G1, G2, self.expand(np.column_stack([G1.ravel(), G2.ravel()]))

    def line(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Values of the one plotted variable (size,) and their design rows (size, n_features)."""
        values = self.axis(0, size)
        return values, self.expand(values[:, None])

    def held_row(self) -> np.ndarray:
        """The design row (n_features,) of the held values, the plotted features at 0 (feature planes)."""
        return self.expand(np.zeros((1, len(self.names))))[0]

    def note(self) -> str:
        """``"Other features held at their means: educ = 4.83."``, or empty when nothing is held."""
        if not self.held:
            return ""
        values = ", ".join(f"{name} = {_shown(value)}" for name, value in self.held.items())
        return f"Other {self.held_how}: {values}."


def _shown(value) -> str:
    return f"{value:.3g}" if isinstance(value, float | np.floating) else str(value)


def make_plane(model, design: np.ndarray, frame, features, ranges, allowed: tuple) -> Plane:
    """The plane of ``features`` (names of design columns, or of a formula model's data columns).

    Parameters
    ----------
    model : LogisticModel
    design : ndarray of shape (n_samples, n_features)
        The design of the rows drawn.
    frame : DataFrame or None
        The same rows as the raw data frame of a formula model (needed for data variables).
    features : str, sequence of str or None
        None takes every feature when there are as many as ``allowed`` permits.
    ranges : dict of str to (float, float) or None
        Extent of plotted variables; the others span their data (design features with a 5% margin).
    allowed : tuple of int
        How many variables the plot can draw.
    """
    names = model.feature_names
    if features is None:
        if len(names) not in allowed:
            raise OptionError(
                f"the model has {len(names)} features {names}; pick {' or '.join(map(str, allowed))} "
                "to plot with features=[...] (the others are held at their means)"
            )
        features = names
    features = [features] if isinstance(features, str) else list(features)
    if len(features) not in allowed or len(set(features)) != len(features):
        raise OptionError(f"give {' or '.join(map(str, allowed))} distinct feature names; got {features}")
    variables = formula_variables(model)
    spread = {f: _columns_of(model, f) for f in features if f in variables}
    if all(f in names and spread.get(f, {f}) == {f} for f in features):
        return _feature_plane(names, design, [names.index(f) for f in features], ranges)
    unknown = [f for f in features if f not in names and f not in variables]
    if unknown:
        where = f" or the formula's data columns {variables}" if variables else ""
        raise OptionError(f"features {unknown} are not features of the model; choose from {names}{where}")
    mixed = [f for f in features if f not in variables]
    if mixed:
        raise OptionError(
            f"draw data columns of the formula {variables}, or design features, not both; {mixed} are design features"
        )
    if not isinstance(frame, pd.DataFrame):
        columns = "; ".join(f"{f} -> {sorted(spread[f])}" for f in features if f in spread)
        raise OptionError(
            f"features {features} are data columns that the formula turns into design columns "
            f"({columns}), so they are drawn through the formula: pass the rows as a pandas "
            "data frame, X=data (of dask data, an in-memory sample); animations draw design features "
            "only"
        )
    return _data_plane(model, frame, variables, features, ranges)


def formula_variables(model) -> list[str]:
    """The data columns a formula model's right-hand side reads, in the formula's order; [] for array models."""
    spec = model.data.formula_spec
    if spec is None:
        return []
    return sorted(data_names(spec), key=lambda v: model.formula.find(v))


def _columns_of(model, variable: str) -> set[str]:
    """The design columns that a formula's data column enters."""
    spec = model.data.formula_spec
    return {spec.column_names[i] for i in spec.variable_indices.get(variable, [])} - {"Intercept"}


def _feature_plane(names: list, design: np.ndarray, chosen: list[int], ranges) -> Plane:
    fixed = design.mean(axis=0)

    def expand(values: np.ndarray) -> np.ndarray:
        rows = np.tile(fixed, (len(values), 1))
        rows[:, chosen] = values
        return rows

    points = design[:, chosen]
    held = {names[j]: float(fixed[j]) for j in range(len(names)) if j not in chosen}
    spans = _spans([names[j] for j in chosen], points, ranges, SPAN_MARGIN)
    return Plane(
        tuple(names[j] for j in chosen), points, spans, held, "features held at their means", expand, tuple(chosen)
    )


def _data_plane(model, frame: pd.DataFrame, variables: list[str], chosen: list[str], ranges) -> Plane:
    variables = [v for v in variables if v in frame.columns]  # formulaic also reports names such as `np`
    categorical = [v for v in chosen if not _is_numeric(frame[v])]
    if categorical:
        raise OptionError(
            f"features {categorical} are not numeric, so they have no axis to draw; choose numeric "
            "columns and let the others be held at their most frequent level"
        )
    held = {v: _typical(frame[v]) for v in variables if v not in chosen}
    template = frame[variables].iloc[:1].reset_index(drop=True)
    for v, value in held.items():  # a categorical column keeps its levels; a numeric one takes its mean
        template[v] = pd.Series([value], dtype=float if _is_numeric(frame[v]) else frame[v].dtype)

    points = frame[chosen].to_numpy(float)
    # No margin: a stateful transform (a spline's knots) may refuse values beyond the data it was fitted on.
    spans = _spans(chosen, points, ranges, 0.0)

    def expand(values: np.ndarray) -> np.ndarray:
        grid = template.iloc[np.zeros(len(values), dtype=int)].reset_index(drop=True)
        for i, v in enumerate(chosen):
            grid[v] = values[:, i]
        try:
            return model.design_matrix(grid)
        except DataError as error:
            extent = ", ".join(f"{v} in [{low:.4g}, {high:.4g}]" for v, (low, high) in zip(chosen, spans))
            raise DataError(
                f"{error}. The plot's grid spans {extent}: keep `ranges` within the data the formula "
                "was fitted on, or let the formula extrapolate, e.g. bs(x, df=4, extrapolation='extend')"
            ) from None

    return Plane(
        tuple(chosen),
        points,
        spans,
        held,
        "variables held at their mean (numeric) or most frequent level",
        expand,
        None,
    )


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _typical(column: pd.Series):
    """The mean of a numeric column, else its most frequent value."""
    return float(column.mean()) if _is_numeric(column) else column.mode().iloc[0]


def _spans(names: list[str], points: np.ndarray, ranges, margin: float) -> tuple:
    """Each variable's extent: ``ranges[name]`` where given, else its data's range widened by ``margin`` of it
    on each side."""
    ranges = {} if ranges is None else ranges
    if not isinstance(ranges, dict):
        raise OptionError(f"ranges must be a dict of variable name to (low, high); got {type(ranges).__name__}")
    unknown = [name for name in ranges if name not in names]
    if unknown:
        raise OptionError(f"ranges names {unknown}, which are not plotted; the plotted variables are {names}")
    spans = []
    for i, name in enumerate(names):
        if name in ranges:
            span = ranges[name]
            if np.shape(span) != (2,) or not np.all(np.isfinite(span)) or not span[0] < span[1]:
                raise OptionError(f"ranges[{name!r}] must be (low, high) with finite low < high; got {span!r}")
            spans.append((float(span[0]), float(span[1])))
            continue
        low, high = points[:, i].min(), points[:, i].max()
        pad = margin * (high - low or 1.0)
        spans.append((float(low - pad), float(high + pad)))
    return tuple(spans)
