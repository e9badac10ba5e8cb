"""How a multilevel model reads rows: the fixed effects' design through the formula's formulaic spec, and each group
term's values through its own spec and its levels' codes. A model and a loaded fit read new rows by the same
:class:`GroupRowReader`, so a loaded fit predicts as the fitted one did."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayeslogit.exceptions import DataTypeError
from bayeslogit.rows.formulas import design_from_formula
from bayeslogit.rows.group_terms import new_level_codes, split_group_formula


def fixed_design(rhs: str, data: pd.DataFrame, spec=None) -> tuple[np.ndarray, object]:
    """The fixed effects' design (n, p) of ``data``, column-major, its intercept column first where the formula has
    one, and the formulaic spec that made it (``spec`` given: re-applied to new rows). Column-major always, so that
    reductions over its rows (the means that boundaries hold the other columns at) are the same wherever it is
    read back from."""
    X, intercept, spec = design_from_formula(rhs, data, spec)
    values = X.to_numpy(dtype=float)
    return np.asfortranarray(np.column_stack([np.ones(len(values)), values]) if intercept else values), spec


@dataclass(frozen=True, eq=False)
class GroupRowReader:
    """The design of new rows, as the model read its training rows.

    Attributes
    ----------
    formula : str
        The lme4-style formula, ``"y ~ x + (1 | g)"``.
    fixed_spec : formulaic ModelSpec
        What the fixed effects' formula learnt of the training rows (levels, transforms' states).
    terms : tuple of GroupTerm
        The group terms: each one's factor and levels name the codes of new rows.
    term_specs : tuple of formulaic ModelSpec
        What each term's left side learnt of the training rows, in the terms' order.
    """

    formula: str
    fixed_spec: object
    terms: tuple
    term_specs: tuple

    def __call__(self, data: pd.DataFrame) -> tuple[np.ndarray, tuple]:
        """The fixed design (n, p) of ``data`` and each term's ``(codes (n,), values (n, k))``, codes -1 for levels
        the model has not seen.

        Raises
        ------
        DataTypeError
            When ``data`` is not a data frame.
        DataError
            When it lacks a column the formula reads, or has missing values in one.
        """
        if not isinstance(data, pd.DataFrame):
            raise DataTypeError(f"new rows must be a pandas DataFrame; got {type(data).__name__}")
        rhs = split_group_formula(self.formula)[0].partition("~")[2].strip()
        design, _ = fixed_design(rhs, data, self.fixed_spec)
        parts = tuple(
            (new_level_codes(term, data), np.asarray(spec.get_model_matrix(data), dtype=float).reshape(len(data), -1))
            for term, spec in zip(self.terms, self.term_specs)
        )
        return design, parts
