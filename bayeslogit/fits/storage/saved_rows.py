"""What a multilevel fit read of its training rows, as saved: the fixed effects' design, the responses and each
group term's level codes and values (see :mod:`.multilevel_files` for the nodes), written, read back checked, and
compared with a model's."""

import numpy as np

from bayeslogit.exceptions import DataError
from bayeslogit.numerics.group_design import GroupTerm


def design_datasets(source, layout) -> dict:
    """The nodes ``design`` and ``group_term_<t>`` of a fit's ``source`` (a ``FitSource``) and ``layout``, as
    ``xarray.Dataset`` s."""
    import xarray as xr

    groups = {
        "design": xr.Dataset(
            {
                "X": (("obs", "predictor"), source.X),
                "successes": ("obs", source.successes),
                "trials": ("obs", source.trials),
            },
            coords={"predictor": list(layout.coef_names)},
        )
    }
    for t, term in enumerate(source.terms):
        groups[f"group_term_{t}"] = xr.Dataset(
            {"codes": ("obs", term.codes), "values": (("obs", "column"), term.values)},
            coords={"level": list(term.levels), "column": list(term.columns)},
        )
    return groups


def design_arrays(tree, terms: list) -> tuple:
    """``X`` (n, p), successes and trials (n,) and the ``GroupTerm`` s of the nodes of ``tree``, for the terms of
    the metadata ``terms`` (each a dict of ``factor`` and ``correlated``), checked.

    Raises
    ------
    DataError
        When a node is missing, an array has other dims than those written, a label is not text, the rows of the
        nodes differ in number, or a level code is out of range.
    """
    design = tree["design"]
    X, successes, trials = (_array(design, name, dims) for name, dims in _DESIGN)
    X = np.asfortranarray(X)  # column-major, as the model's (bayeslogit.rows.group_rows.fixed_design)
    groups = []
    for t, term in enumerate(terms):
        node = tree[f"group_term_{t}"]
        codes, values = (_array(node, name, dims) for name, dims in _TERM)
        levels, columns = _labels(node, "level"), _labels(node, "column")
        if len(codes) != len(X) or codes.dtype.kind != "i" or codes.min() < 0 or codes.max() >= len(levels):
            raise DataError(f"'{node.path}'s codes must be {len(X)} indices of its {len(levels)} levels")
        groups.append(GroupTerm(term["factor"], columns, levels, codes.astype(np.int64), values, term["correlated"]))
    if f"group_term_{len(terms)}" in tree.children:
        raise DataError(f"the file holds more group terms than the {len(terms)} its metadata names")
    return X, successes, trials, tuple(groups)


_DESIGN = (("X", ("obs", "predictor")), ("successes", ("obs",)), ("trials", ("obs",)))
_TERM = (("codes", ("obs",)), ("values", ("obs", "column")))


def _array(node, name: str, dims: tuple) -> np.ndarray:
    variable = node[name]
    if variable.dims != dims or variable.dtype.kind not in "iuf":
        raise DataError(
            f"'{node.path}'s {name} must be numbers of the dims {dims}; got {variable.dims} of {variable.dtype}"
        )
    return variable.values if name == "codes" else np.asarray(variable.values, dtype=float)


def _labels(node, dim: str) -> tuple:
    labels = node[dim].values.tolist()
    if not all(type(label) is str for label in labels):
        raise DataError(f"'{node.path}'s {dim} labels must be text; got {labels!r:.80}")
    return tuple(labels)


def training_differences(source, X, successes, trials, terms) -> list[str]:
    """How the rows that ``source`` (a ``FitSource``) read differ from the saved ones, in words (none: the same)."""
    if len(source.X) != len(X):
        return [f"{len(source.X)} training rows (saved: {len(X)})"]
    pairs = [
        ("the fixed design X", source.X, X),
        ("successes", source.successes, successes),
        ("trials", source.trials, trials),
    ]
    for mine, theirs in zip(source.terms, terms):
        pairs += [
            (f"the levels of {mine.factor!r}", mine.codes, theirs.codes),
            (f"the values of {mine.factor!r}'s columns", mine.values, theirs.values),
        ]
    return [
        f"{name} differs in {_rows_differing(a, b)} of {len(a)} training rows"
        for name, a, b in pairs
        if not np.array_equal(a, b)
    ]


def _rows_differing(a: np.ndarray, b: np.ndarray) -> int:
    """How many rows of ``a`` and ``b`` (n,) or (n, k) differ."""
    return int(np.any(a.reshape(len(a), -1) != b.reshape(len(b), -1), axis=1).sum())
