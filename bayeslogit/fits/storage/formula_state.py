"""A formula's model spec as plain data, and back, so that a saved fit reads new rows as the fitted one did.

A formulaic ``ModelSpec`` holds what a formula learnt from the training rows: the state of its stateful transforms
(``transform_state``: the knots and bounds of ``bs()``, the mean of ``center()``, ...), the levels and contrasts of
its categorical factors (``encoder_state``) and the structure of its columns (which factors of which terms are
reduced in rank). :func:`spec_to_plain` writes all of it as JSON-ready data (text, numbers, lists and objects) and
:func:`spec_from_plain` builds the ``ModelSpec`` again from it.

The values in the states are written by :mod:`.formula_values`; one of another type is refused when the fit is
saved.

The reader is strict: what does not parse into exactly these shapes and types raises :class:`DataError`. Nothing
is evaluated while reading. formulaic evaluates a formula's Python terms (``np.log(x)``) on new rows, so both the
writer and the reader accept only terms built of column names, constants, operators, formulaic's transforms
(``bs``, ``C``, ``center``, ...) and NumPy's ufuncs, checked by parsing them (:func:`check_term`).

formulaic is imported on first use.
"""

import ast
import builtins
from functools import cache

import numpy as np

from bayeslogit.exceptions import DataError
from bayeslogit.fits.storage.formula_values import decode, encode
from bayeslogit.fits.storage.plain import checked

_NUMPY_NAMES = ("pi", "e", "nan", "inf", "where", "clip", "round")
"""What a formula term may use of NumPy besides its ufuncs."""
_NODES = (
    ast.Expression,
    ast.Call,
    ast.keyword,
    ast.Name,
    ast.Attribute,
    ast.Constant,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Load,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
)
"""The Python syntax a formula term may use."""
MAX_EXPONENT = 16
"""The largest exponent, in size, of a saved formula term's powers (``I(x**2)``)."""


# ---- ModelSpec -> plain data ----------------------------------------------------------------------------
def spec_to_plain(spec) -> dict:
    """A fitted formulaic ``ModelSpec`` as JSON-ready data; :func:`spec_from_plain` rebuilds it.

    Raises
    ------
    DataError
        When a term of the formula is not one that a saved fit may hold (see :func:`check_term`), or a state holds
        a value that is not plain data (naming it).
    """
    table = _factor_table(spec)
    index = {expr: i for i, expr in enumerate(table)}
    terms = list(spec.formula)
    return {
        "ordering": spec.formula.ordering.value,
        "materializer": spec.materializer,
        "materializer_params": encode(spec.materializer_params, "materializer_params"),
        "ensure_full_rank": spec.ensure_full_rank,
        "na_action": spec.na_action.value,
        "output": spec.output,
        "cluster_by": spec.cluster_by.value,
        "factors": [_factor_plain(factor, variables) for factor, variables in table.values()],
        "terms": [[index[factor.expr] for factor in term.factors] for term in terms],
        "structure": [
            {
                "term": terms.index(row.term),
                "columns": list(row.columns),
                "scoped_terms": [
                    {
                        "factors": [[index[scoped.factor.expr], scoped.reduced] for scoped in scoped_term.factors],
                        "scale": scoped_term.scale,
                    }
                    for scoped_term in row.scoped_terms
                ],
            }
            for row in spec.structure
        ],
        "transform_state": encode(spec.transform_state, "transform_state"),
        "encoder_state": [
            [expr, kind.value, encode(state, f"encoder_state[{expr!r}]")]
            for expr, (kind, state) in spec.encoder_state.items()
        ],
    }


def _factor_table(spec) -> dict:
    """Factor expression -> [Factor, the variables its evaluation read (None where it was not evaluated)], for
    every factor of the formula's terms."""
    table = {factor.expr: [factor, None] for term in spec.formula for factor in term.factors}
    for row in spec.structure:
        for scoped_term in row.scoped_terms:
            for scoped in scoped_term.factors:
                table[scoped.factor.expr][1] = scoped.factor.variables
    return table


def _factor_plain(factor, variables) -> dict:
    if factor.eval_method.value == "python":
        check_term(factor.expr)
    return {
        "expr": factor.expr,
        "eval_method": factor.eval_method.value,
        "kind": factor.kind.value,
        "metadata": encode(factor.metadata, f"the metadata of {factor.expr!r}"),
        "variables": None
        if variables is None
        else [
            {"name": str(variable), "roles": sorted(role.value for role in variable.roles), "source": variable.source}
            for variable in sorted(variables)
        ],
    }


# ---- plain data -> ModelSpec ----------------------------------------------------------------------------
def spec_from_plain(plain):
    """The formulaic ``ModelSpec`` of :func:`spec_to_plain`'s output ``plain``, read strictly.

    Raises
    ------
    DataError
        When ``plain`` does not parse into exactly the shapes and types that :func:`spec_to_plain` writes, or
        holds a term refused by :func:`check_term`; the message names the place (``formula_spec.factors[2]``).
    """
    from formulaic import ModelSpec
    from formulaic.formula import SimpleFormula
    from formulaic.materializers import FormulaMaterializer
    from formulaic.materializers.base import EncodedTermStructure
    from formulaic.parser.types import Term

    where = "formula_spec"
    checked(plain, _schema(), where)
    outputs = FormulaMaterializer.REGISTERED_NAMES[plain["materializer"]].REGISTER_OUTPUTS
    checked(plain["output"], frozenset(outputs), f"{where}.output")
    factors = [_factor(item, f"{where}.factors[{i}]") for i, item in enumerate(plain["factors"])]
    if len({factor.expr for factor in factors}) < len(factors):
        raise DataError(f"{where}.factors names a factor twice")
    terms = [_indexed(indices, factors, f"{where}.terms[{i}]") for i, indices in enumerate(plain["terms"])]
    formula_terms = [Term([factor.factor for factor in term]) for term in terms]
    rows = [_index(row["term"], terms, f"{where}.structure[{i}].term") for i, row in enumerate(plain["structure"])]
    structure = [
        EncodedTermStructure(
            formula_terms[term],
            _scoped_terms(row["scoped_terms"], factors, terms[term], f"{where}.structure[{i}]"),
            row["columns"],
        )
        for i, (term, row) in enumerate(zip(rows, plain["structure"]))
    ]
    encoder_state = {
        expr: (_kind(kind, f"{where}.encoder_state[{expr!r}]"), _state(state, f"{where}.encoder_state[{expr!r}]"))
        for expr, kind, state in _triples(plain["encoder_state"], f"{where}.encoder_state")
    }
    params = checked(
        decode(plain["materializer_params"], f"{where}.materializer_params"),
        (dict, None),
        f"{where}.materializer_params",
    )
    return ModelSpec(
        formula=SimpleFormula(formula_terms, _ordering=plain["ordering"]),
        materializer=plain["materializer"],
        materializer_params=params,
        ensure_full_rank=plain["ensure_full_rank"],
        na_action=plain["na_action"],
        output=plain["output"],
        cluster_by=plain["cluster_by"],
        structure=structure,
        transform_state=_state(plain["transform_state"], f"{where}.transform_state"),
        encoder_state=encoder_state,
    )


@cache
def _schema() -> dict:
    """The shape of :func:`spec_to_plain`'s output (see :mod:`.plain`)."""
    from formulaic.formula import OrderingMethod
    from formulaic.materializers import ClusterBy, FormulaMaterializer, NAAction
    from formulaic.parser.types import Factor
    from formulaic.utils.variables import Variable

    def values(enum) -> frozenset:
        return frozenset(member.value for member in enum)

    variable = {"name": str, "roles": [values(Variable.Role)], "source": (str, None)}
    factor = {
        "expr": str,
        "eval_method": values(Factor.EvalMethod),
        "kind": values(Factor.Kind),
        "metadata": object,
        "variables": ([variable], None),
    }
    scoped_term = {"factors": [[(int, bool)]], "scale": (int, float)}
    return {
        "ordering": values(OrderingMethod),
        "materializer": frozenset(FormulaMaterializer.REGISTERED_NAMES),
        "materializer_params": object,
        "ensure_full_rank": bool,
        "na_action": values(NAAction),
        "output": str,
        "cluster_by": values(ClusterBy),
        "factors": [factor],
        "terms": [[int]],
        "structure": [{"term": int, "columns": [str], "scoped_terms": [scoped_term]}],
        "transform_state": object,
        "encoder_state": [[object]],
    }


def _factor(item: dict, where: str):
    """The evaluated factor (without values) of one entry of ``factors``."""
    from formulaic.materializers.types import EvaluatedFactor
    from formulaic.parser.types import Factor
    from formulaic.utils.variables import Variable

    if item["eval_method"] == Factor.EvalMethod.PYTHON.value:
        check_term(item["expr"])
    metadata = decode(item["metadata"], f"{where}.metadata")
    checked(metadata, dict, f"{where}.metadata")
    factor = Factor(item["expr"], eval_method=item["eval_method"], kind=item["kind"], metadata=metadata)
    variables = (
        None
        if item["variables"] is None
        else {
            Variable(variable["name"], roles=variable["roles"], source=variable["source"])
            for variable in item["variables"]
        }
    )
    return EvaluatedFactor(factor, None, variables)


def _index(i: int, items: list, where: str) -> int:
    if not 0 <= i < len(items):
        raise DataError(f"{where} must index one of {len(items)} entries; got {i}")
    return i


def _indexed(indices: list, items: list, where: str) -> list:
    return [items[_index(i, items, f"{where}[{j}]")] for j, i in enumerate(indices)]


def _scoped_terms(plain: list, factors: list, term: list, where: str) -> list:
    """The scoped terms of one row of the structure, whose factors must be those of the row's ``term``."""
    from formulaic.materializers.types import ScopedFactor, ScopedTerm

    scoped_terms = []
    for i, scoped_term in enumerate(plain):
        pairs = scoped_term["factors"]
        for j, pair in enumerate(pairs):
            if [type(part) for part in pair] != [int, bool]:
                raise DataError(f"{where}.scoped_terms[{i}].factors[{j}] must be [factor index, reduced]; got {pair}")
        chosen = _indexed([pair[0] for pair in pairs], factors, f"{where}.scoped_terms[{i}].factors")
        if any(all(factor is not other for other in term) for factor in chosen):
            raise DataError(f"{where}.scoped_terms[{i}] holds factors that are not those of its term")
        scoped = [ScopedFactor(factor, reduced=pair[1]) for factor, pair in zip(chosen, pairs)]
        scoped_terms.append(ScopedTerm(scoped, scale=scoped_term["scale"]))
    return scoped_terms


def _triples(items: list, where: str) -> list:
    """The [expr, kind, state] entries of ``encoder_state``, checked."""
    for i, item in enumerate(items):
        if len(item) != 3 or type(item[0]) is not str or type(item[1]) is not str:
            raise DataError(f"{where}[{i}] must be [factor, kind, state]; got {item!r:.80}")
    return items


def _kind(value: str, where: str):
    from formulaic.parser.types import Factor

    return Factor.Kind(checked(value, frozenset(member.value for member in Factor.Kind), f"{where}'s kind"))


def _state(plain, where: str) -> dict:
    return checked(decode(plain, where), dict, where)


# ---- the terms a saved formula may hold -----------------------------------------------------------------
def check_term(expr: str) -> None:
    """Refuse a Python term of a formula that could do more than compute on the data's columns.

    formulaic evaluates such a term (``np.log(arsenic)``, ``C(educ > 6)``) on every new data frame, so a saved fit
    holds only terms built of column names, constants, operators, formulaic's transforms (``bs``, ``C``,
    ``center``, ...) and NumPy's ufuncs. The term is parsed, never evaluated.

    Raises
    ------
    DataError
        Naming the term, and what in it is refused.
    """
    from formulaic.utils.code import sanitize_variable_names

    try:
        tree = ast.parse(sanitize_variable_names(expr, {}, {}), mode="eval")
    except SyntaxError as error:
        raise DataError(f"the formula term {expr!r} is not a Python expression ({error.msg})") from None
    for node in ast.walk(tree):
        problem = _problem(node)
        if problem:
            raise DataError(
                f"the formula term {expr!r} {problem}; a saved fit holds only terms of column names, "
                "constants, operators, formulaic's transforms (bs, C, center, ...) and NumPy's ufuncs "
                "(np.log, ...), since formulaic evaluates them on new rows: compute such a column in the "
                "data frame before the formula reads it"
            )


def _small_exponent(node) -> bool:
    """Whether ``node`` is a number of size at most :data:`MAX_EXPONENT` (``-2``, ``0.5``)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and abs(node.value) <= MAX_EXPONENT


def _problem(node) -> str | None:
    """What is refused in ``node`` of a formula term, or None."""
    if not isinstance(node, _NODES):
        return f"uses the Python syntax {type(node).__name__}"
    if isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in _BUILTINS):
        return (
            f"uses the name {node.id!r}, which Python may take for one of its built-ins or internals (a column "
            f"of that name is read by Q({node.id!r}))"
        )
    if isinstance(node, ast.Attribute) and not _allowed_attribute(node):
        return f"uses the attribute {ast.unparse(node)!r}"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and not _small_exponent(node.right):
        return (
            f"raises to the power {ast.unparse(node.right)!r}; a saved term's exponents are numbers of at most "
            f"{MAX_EXPONENT} in size (a larger one could stall whoever predicts with the fit)"
        )
    if isinstance(node, ast.Call) and not (
        isinstance(node.func, ast.Attribute) or (isinstance(node.func, ast.Name) and node.func.id in _transforms())
    ):
        return f"calls {ast.unparse(node.func)!r}, which is neither a formulaic transform nor a NumPy ufunc"
    return None


_BUILTINS = frozenset(dir(builtins))


def _allowed_attribute(node: ast.Attribute) -> bool:
    """``np.<ufunc>`` (and a few NumPy names) or ``contr.<contrasts>``."""
    if not isinstance(node.value, ast.Name):
        return False
    return node.attr in _namespaces().get(node.value.id, ())


@cache
def _namespaces() -> dict:
    """Name -> the attributes a formula term may use of it: NumPy's and formulaic's contrasts (``contr``)."""
    from formulaic.transforms import ContrastsRegistry

    ufuncs = {name for name in dir(np) if isinstance(getattr(np, name), np.ufunc)}
    return {
        "np": frozenset(ufuncs | set(_NUMPY_NAMES)),
        "contr": frozenset(name for name in vars(ContrastsRegistry) if not name.startswith("_")),
    }


@cache
def _transforms() -> frozenset:
    """The names of formulaic's transforms that a formula term may call (``bs``, ``C``, ``center``, ...)."""
    from formulaic.transforms import TRANSFORMS

    return frozenset(TRANSFORMS) - set(_namespaces())
