"""The variables a boundary plot is drawn in, what the others are held at, and how a grid over the plotted ones
becomes rows of the design.

Two kinds of plane:

* features: one or two columns of the model's design (an array model's features, or a formula's plain
  columns). Boundaries are straight.
* data variables: one or two columns of a formula model's data frame (``dist100`` in
  ``bs(dist100, df=4) + np.log(arsenic)``). A grid over them goes through the fitted formula, so that a boundary
  is a curve in the variables the user knows.

The predictors not drawn are held fixed, over the rows drawn: a categorical one (a string or categorical column, a
column the formula reads through ``C(...)``, a 0/1 or other two-valued column) at its most frequent level, so that
the boundary drawn is one of a row that exists; a continuous one at its mean. The mean rather than the median: the
linear predictor is linear in a continuous predictor, so at its mean the predictor adds its average contribution
over the rows, and the boundary drawn is the one of the average row (the median does so only for a symmetric
column).

Unless the user names them, the plotted variables are the two continuous predictors with the largest standardised
effect in the first fit: the standard deviation over the rows of the predictor's contribution to the linear
predictor, ``|coef| x sd`` for a predictor of one column (the largest over the linear predictors of a multiclass
model).
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from bayeslogit.exceptions import DataError, OptionError
from bayeslogit.plots.style import style, with_unit
from bayeslogit.rows.formulas import data_names

SPAN_MARGIN = 0.05  # fraction of the data's range added on each side of a plotted variable
MOST_FREQUENT, MEAN = "most frequent", "mean"


@dataclass(frozen=True)
class Held:
    """The value a predictor not drawn is held at, and how it was chosen (:data:`MOST_FREQUENT` or :data:`MEAN`)."""

    value: object
    how: str

    def phrase(self, name: str, units: dict) -> str:
        """``"occupation at 3 (most frequent)"``, ``"educ at its mean 14.2 yr"``, ``"dist100 at its mean 0.483 ×
        100 m"``."""
        if self.how == MOST_FREQUENT:
            return f"{name} at {_shown(self.value)} (most frequent)"
        unit = units.get(name, "")
        return (
            f"{name} at its mean {_shown(self.value)}{' ×' if unit[:1].isdigit() else ''}{f' {unit}' if unit else ''}"
        )


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
    held : dict of str to Held
        The predictors held fixed, and their values.
    expand : callable
        Values in the plane, ndarray (m, len(names)), to design rows (m, n_features).
    columns : tuple of int or None
        The design columns of the plotted variables; None for data variables (curved boundaries).
    units : dict of str to str
        Units of the columns, as :func:`~bayeslogit.plots.style.plot_units` gives them.
    chosen : str
        How the plotted variables were chosen, as the figure says it; empty when the user named them.
    """

    names: tuple
    points: np.ndarray
    spans: tuple
    held: dict
    expand: Callable[[np.ndarray], np.ndarray]
    columns: tuple | None
    units: dict = field(default_factory=dict)
    chosen: str = ""

    @property
    def labels(self) -> tuple:
        """The plotted variables with their units, as axes name them: ``("dist100 (100 m)", "arsenic (100 µg/L)")``."""
        return tuple(with_unit(name, self.units) for name in self.names)

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
        """How the plotted variables were chosen, and what the others are held at (``"Other predictors held
        fixed: occupation at 3 (most frequent), educ at its mean 14.2."``); empty when there is nothing to say."""
        held = ", ".join(value.phrase(name, self.units) for name, value in self.held.items())
        return " ".join(part for part in (self.chosen, f"Other predictors held fixed: {held}." if held else "") if part)


def _shown(value) -> str:
    return f"{value:.3g}" if isinstance(value, float | np.floating) else str(value)


def make_plane(model, design: np.ndarray, frame, features, ranges, allowed: tuple, *, fit=None, units=None) -> Plane:
    """The plane of ``features`` (names of design columns, or of a formula model's data columns).

    Parameters
    ----------
    model : LogisticModel
    design : ndarray of shape (n_samples, n_features)
        The design of the rows drawn.
    frame : DataFrame or None
        The same rows as the raw data frame of a formula model (needed for data variables).
    features : str, sequence of str or None
        None takes every feature when there are as many as ``allowed`` permits, else (given ``fit``) the two
        continuous predictors of largest standardised effect in ``fit``.
    ranges : dict of str to (float, float) or None
        Extent of plotted variables; the others span their data (design features with a 5% margin).
    allowed : tuple of int
        How many variables the plot can draw.
    fit : fit, optional
        The fit whose coefficients choose the variables when ``features`` is None.
    units : dict of str to str, optional
        Units of the columns (checked by the caller).
    """
    units = {} if units is None else units
    chosen = ""
    if features is None:
        features, chosen = _default_features(model, design, allowed, fit)
    features = [features] if isinstance(features, str) else list(features)
    if len(features) not in allowed or len(set(features)) != len(features):
        raise OptionError(f"give {' or '.join(map(str, allowed))} distinct feature names; got {features}")
    names, variables = model.feature_names, formula_variables(model)
    spread = {f: _columns_of(model, f) for f in features if f in variables}
    if all(f in names and spread.get(f, {f}) == {f} for f in features):
        plane = _feature_plane(model, design, frame, [names.index(f) for f in features], ranges)
    else:
        _check_data_variables(features, names, variables, spread, frame)
        plane = _data_plane(model, frame, variables, features, ranges)
    return replace(plane, units=units, chosen=chosen)


def _check_data_variables(features: list, names: list, variables: list, spread: dict, frame) -> None:
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


def _categorical_variables(model) -> set[str]:
    """The data columns a formula reads as categories (strings, categoricals, ``C(...)``)."""
    spec = model.data.formula_spec
    return set().union(*(spec.factor_variables[factor] for factor in spec.factor_contrasts)) & data_names(spec)


def _predictor_columns(model, design: np.ndarray) -> dict[str, list[int]]:
    """Predictor -> its design columns: a formula's data columns, or an array model's features."""
    names = model.feature_names
    if model.data.formula_spec is None:
        return {name: [j] for j, name in enumerate(names)}
    return {v: [names.index(c) for c in sorted(_columns_of(model, v))] for v in formula_variables(model)}


def _is_categorical(model, name: str, values: np.ndarray) -> bool:
    """Whether predictor ``name``, of ``values`` (its column in the frame, or its design columns), is categorical."""
    spec = model.data.formula_spec
    if spec is not None and name in _categorical_variables(model):
        return True
    if values.ndim == 1 and not _is_numeric(pd.Series(values)):
        return True
    return len(np.unique(np.asarray(values), axis=0)) <= 2


def standardised_effects(model, design: np.ndarray, fit) -> dict[str, float]:
    """Continuous predictor -> the standard deviation over the rows (``design``, (n, n_features)) of its
    contribution to ``fit``'s linear predictor, ``|coef| x sd`` for a predictor of one column; the largest over
    the linear predictors of a multiclass model. Sorted from the largest."""
    coefs = fit.params[int(model.intercept) :]  # (n_features, M)
    effects = {
        name: float((design[:, columns] @ coefs[columns]).std(axis=0).max())
        for name, columns in _predictor_columns(model, design).items()
        if columns and not _is_categorical(model, name, design[:, columns])
    }
    return dict(sorted(effects.items(), key=lambda item: -item[1]))


def _default_features(model, design: np.ndarray, allowed: tuple, fit) -> tuple[list[str], str]:
    """Every feature when the plot can draw them all; else the two continuous predictors of largest standardised
    effect in ``fit``, and the sentence that says so."""
    names = model.feature_names
    if len(names) in allowed:
        return names, ""
    effects = {} if fit is None else standardised_effects(model, design, fit)
    picked = list(effects)[: max(allowed)]
    if len(picked) not in allowed:
        raise OptionError(
            f"the model has {len(names)} features {names}; pick {' or '.join(map(str, allowed))} "
            "to plot with features=[...] (the others are held at their means or most frequent levels)"
        )
    picked.sort(key=lambda v: _order(model, v))
    shown = ", ".join(f"{name} {value:.2g}" for name, value in list(effects.items())[:4])
    what = " and ".join(picked)
    chosen = (
        f"Drawn in {what}, the continuous predictor{'s' if len(picked) > 1 else ''} of largest standardised effect "
        f"(|coef| × sd) in the {style(fit.method)['label']} fit: {shown}."
    )
    return picked, chosen


def _order(model, name: str) -> int:
    """Where ``name`` comes in the formula (or among the features), so that the chosen ones keep that order."""
    return model.formula.find(name) if model.data.formula_spec is not None else model.feature_names.index(name)


def _held_values(model, frame, variables: list[str], design: np.ndarray) -> dict[str, Held]:
    """Each predictor among ``variables`` at its most frequent level (categorical) or mean (continuous): from
    ``frame``'s columns where given, else from the design's columns."""
    if isinstance(frame, pd.DataFrame):
        return {v: _typical(model, v, frame[v]) for v in variables}
    names = model.feature_names
    return {v: _typical(model, v, pd.Series(design[:, names.index(v)])) for v in variables}


def _typical(model, name: str, column: pd.Series) -> Held:
    if _is_categorical(model, name, column.to_numpy()):
        return Held(column.mode().iloc[0], MOST_FREQUENT)
    return Held(float(column.mean()), MEAN)


def _feature_plane(model, design: np.ndarray, frame, chosen: list[int], ranges) -> Plane:
    """A plane of design features: the others held as :func:`_held_values` says, through the formula where the
    rows' data frame is given (so that a categorical predictor's columns take one level's values)."""
    names = model.feature_names
    plotted = [names[j] for j in chosen]
    variables = [v for v in formula_variables(model) if isinstance(frame, pd.DataFrame) and v in frame.columns]
    if variables:  # those that enter a column not drawn
        held = _held_values(model, frame, [v for v in variables if _columns_of(model, v) - set(plotted)], design)
        fixed = model.design_matrix(_template(frame, variables, held))[0]
    else:
        held = _held_values(model, None, [n for n in names if n not in plotted], design)
        fixed = np.array([held[n].value if n in held else 0.0 for n in names], dtype=float)

    def expand(values: np.ndarray) -> np.ndarray:
        rows = np.tile(fixed, (len(values), 1))
        rows[:, chosen] = values
        return rows

    points = design[:, chosen]
    spans = _spans(plotted, points, ranges, SPAN_MARGIN)
    return Plane(tuple(plotted), points, spans, held, expand, tuple(chosen))


def _template(frame: pd.DataFrame, variables: list[str], held: dict) -> pd.DataFrame:
    """One row of ``frame``'s ``variables``, the held ones at their values (a categorical keeps its levels)."""
    template = frame[variables].iloc[:1].reset_index(drop=True)
    for v, value in held.items():
        numeric = _is_numeric(frame[v])
        template[v] = pd.Series([value.value], dtype=float if numeric else frame[v].dtype)
    return template


def _data_plane(model, frame: pd.DataFrame, variables: list[str], chosen: list[str], ranges) -> Plane:
    variables = [v for v in variables if v in frame.columns]  # formulaic also reports names such as `np`
    categorical = [v for v in chosen if not _is_numeric(frame[v])]
    if categorical:
        raise OptionError(
            f"features {categorical} are not numeric, so they have no axis to draw; choose numeric "
            "columns and let the others be held at their most frequent level"
        )
    held = _held_values(model, frame, [v for v in variables if v not in chosen], None)
    template = _template(frame, variables, held)
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

    return Plane(tuple(chosen), points, spans, held, expand, None)


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


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
