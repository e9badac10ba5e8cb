"""What a multilevel fit read of its training rows, as saved: the fixed effects' design, the responses of the
response's kind (a binomial model's successes and trials, a categorical one's class codes) and each group term's
level codes and values (see :mod:`.multilevel_files` for the nodes), written, read back checked, and compared with a
model's."""

import numpy as np

from bayeslogit.exceptions import DataError
from bayeslogit.numerics.group_design import GroupTerm

_LABEL = (str, int, float, bool)
RESPONSE_SCHEMA = {"kind": frozenset({"binomial", "categorical"}), "classes": [_LABEL], "reference": _LABEL}
"""The shape of :func:`response_meta`'s output (see :mod:`.plain`)."""


def design_datasets(source, layout) -> dict:
    """The nodes ``design`` and ``group_term_<t>`` of a fit's ``source`` (a ``FitSource``) and ``layout``, as
    ``xarray.Dataset`` s."""
    import xarray as xr

    responses = {name: ("obs", values) for name, values in _RESPONSES[source.response.kind][0](source.response)}
    groups = {
        "design": xr.Dataset(
            {"X": (("obs", "predictor"), source.X), **responses}, coords={"predictor": list(layout.coef_names)}
        )
    }
    for t, term in enumerate(source.terms):
        groups[f"group_term_{t}"] = xr.Dataset(
            {"codes": ("obs", term.codes), "values": (("obs", "column"), term.values)},
            coords={"level": list(term.levels), "column": list(term.columns)},
        )
    return groups


def response_meta(response) -> dict:
    """The metadata of ``response`` (a model's response kind): the kind, the classes (a binomial model's two
    outcomes, the failure first; a categorical model's K classes) and the reference class, the first."""
    return {"kind": response.kind, "classes": list(response.outcomes), "reference": response.outcomes[0]}


def design_arrays(tree, terms: list, response: dict) -> tuple:
    """``X`` (n, p), the response (of the kind the metadata ``response`` names, :data:`RESPONSE_SCHEMA`) and the
    ``GroupTerm`` s of the nodes of ``tree``, for the terms of the metadata ``terms`` (each a dict of ``factor``
    and ``correlated``), checked.

    Raises
    ------
    DataError
        When a node is missing, an array has other dims than those written, a label is not text, the rows of the
        nodes differ in number, a level or class code is out of range, or the classes are not the kind's: two
        outcomes of a binomial response, three or more distinct labels of one type of a categorical one, the
        reference first.
    """
    design = tree["design"]
    X = np.asfortranarray(_array(design, "X", ("obs", "predictor")))  # column-major, as the model's (fixed_design)
    classes = _classes(response)
    read = _RESPONSES[response["kind"]][1](design, classes)
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
    return X, read, tuple(groups)


_TERM = (("codes", ("obs",)), ("values", ("obs", "column")))


def _classes(response: dict) -> tuple:
    """The classes of the metadata ``response``, checked against its kind."""
    classes, kind = tuple(response["classes"]), response["kind"]
    fewest, most = _RESPONSES[kind][2:]
    if not fewest <= len(classes) <= (most or len(classes)):
        raise DataError(
            f"response.classes must be {fewest}{'' if most else ' or more'} labels for a {kind} response; got "
            f"{list(classes)!r:.80}"
        )
    if len({type(label) for label in classes}) > 1 or len(set(classes)) < len(classes):
        raise DataError(f"response.classes must be distinct labels of one type; got {list(classes)!r:.80}")
    reference = response["reference"]
    if type(reference) is not type(classes[0]) or reference != classes[0]:
        raise DataError(f"response.reference {reference!r:.40} is not the first of response.classes {classes[0]!r:.40}")
    return classes


def _binomial_arrays(response) -> tuple:
    return ("successes", response.successes), ("trials", response.trials)


def _read_binomial(design, classes: tuple):
    from bayeslogit.rows.group_response import BinomialResponse  # the categorical engine's blocks: not on import

    successes, trials = (_array(design, name, ("obs",)) for name in ("successes", "trials"))
    return BinomialResponse(successes, trials, classes)


def _categorical_arrays(response) -> tuple:
    return (("class_codes", response.codes),)


def _read_categorical(design, classes: tuple):
    from bayeslogit.rows.group_response import CategoricalResponse

    codes = _array(design, "class_codes", ("obs",))
    if codes.dtype.kind != "i" or len(codes) and (codes.min() < 0 or codes.max() >= len(classes)):
        raise DataError(f"'{design.path}'s class_codes must be indices of the {len(classes)} classes")
    return CategoricalResponse(codes.astype(np.int64), classes)


_RESPONSES = {
    "binomial": (_binomial_arrays, _read_binomial, 2, 2),
    "categorical": (_categorical_arrays, _read_categorical, 3, None),
}
"""The response's kind -> (its arrays as saved in ``design``, how they are read back, its fewest and most classes
(None: no most))."""


def _array(node, name: str, dims: tuple) -> np.ndarray:
    variable = node[name]
    if variable.dims != dims or variable.dtype.kind not in "iuf":
        raise DataError(
            f"'{node.path}'s {name} must be numbers of the dims {dims}; got {variable.dims} of {variable.dtype}"
        )
    return variable.values if name.endswith("codes") else np.asarray(variable.values, dtype=float)


def _labels(node, dim: str) -> tuple:
    labels = node[dim].values.tolist()
    if not all(type(label) is str for label in labels):
        raise DataError(f"'{node.path}'s {dim} labels must be text; got {labels!r:.80}")
    return tuple(labels)


def training_differences(source, X, terms, response) -> list[str]:
    """How the rows that ``source`` (a ``FitSource``) read differ from the saved ones, in words (none: the same)."""
    if len(source.X) != len(X):
        return [f"{len(source.X)} training rows (saved: {len(X)})"]
    if (source.response.kind, source.response.outcomes) != (response.kind, response.outcomes):
        mine, theirs = (f"a {r.kind} response of {list(r.outcomes)!r:.80}" for r in (source.response, response))
        return [f"{mine} (saved: {theirs})"]
    pairs = [("the fixed design X", source.X, X)]
    arrays = _RESPONSES[response.kind][0]
    pairs += [(name, mine, theirs) for (name, mine), (_, theirs) in zip(arrays(source.response), arrays(response))]
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
