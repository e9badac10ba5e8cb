"""A formula's model spec as plain data and back: the same model matrix of new rows, values of every type a state
holds, the strict reader, and the formula terms a saved fit may hold."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from formulaic import model_matrix

import bayeslogit as bl
from bayeslogit.fits.coef_labels import CoefLayout
from bayeslogit.fits.storage.formula_state import check_term, spec_from_plain, spec_to_plain
from bayeslogit.fits.storage.formula_values import decode, encode
from bayeslogit.fits.storage.saved_diagnosis import diagnosis_from_parts, diagnosis_parts
from bayeslogit.numerics.families import Categorical


@pytest.fixture(scope="module")
def frames():
    """(training rows, new rows) of wells with a two-level and a three-level text column; the new rows lie within
    the training ranges (the splines' bounds) and hold every level."""
    wells = bl.datasets.load_wells()
    levels = np.array(["x", "y", "z"])[np.arange(len(wells)) % 3]
    wells = wells.assign(g=np.where(wells["assoc"] == 1, "b", "a"), g3=levels)
    rng = np.random.default_rng(2)
    dist100 = rng.uniform(wells["dist100"].min(), wells["dist100"].max(), 150)
    new = wells.sample(150, random_state=3).assign(dist100=dist100)
    return wells, new


SPECS = [
    "bs(dist100, df=4) + arsenic + C(educ > 6)",
    "cr(dist100, df=4) + cc(arsenic, df=4) + bs(arsenic, df=5, degree=2)",
    "poly(dist100, degree=3) + standardize(arsenic) + center(dist100) + scale(arsenic)",
    "np.log(arsenic) + log(dist100 + 1) + center(np.log(arsenic)) + I(dist100 ** 2)",
    'C(g3, contr.sum) + C(g, levels=["b", "a"]) + C(g3, contr.poly) + C(g3, contr.helmert)',
    'C(g3, contr.treatment("y")) + C(g3, contr.custom([[1, 0], [0, 1], [1, 1]])) + C(g, contr.diff)',
    "g3:arsenic + C(g3):bs(dist100, df=3) + hashed(g3, levels=5) + g3:C(g, contr.sum) - 1",
]


@pytest.mark.parametrize("rhs", SPECS)
def test_a_spec_rebuilt_from_plain_data_makes_the_same_matrix(frames, rhs):
    train, new = frames
    spec = model_matrix(rhs, train).model_spec
    plain = spec_to_plain(spec)
    rebuilt = spec_from_plain(json.loads(json.dumps(plain)))
    assert spec_to_plain(rebuilt) == plain
    assert (rebuilt.column_names, rebuilt.required_variables) == (spec.column_names, spec.required_variables)
    # Same state, same code: the columns are computed by the same operations, so they are equal exactly.
    pd.testing.assert_frame_equal(rebuilt.get_model_matrix(new), spec.get_model_matrix(new), check_exact=True)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        -2.5,
        float("inf"),
        "text",
        [1, "a", None],
        (1, (2.0, "b")),
        {0: np.float64(1.5), "k": [True]},
        np.float64(0.1),
        np.int64(-7),
        np.bool_(True),
        np.str_("level"),
        np.uint8(255),
        np.arange(6, dtype=np.int32).reshape(2, 3),
        np.array([[0.5, np.nan]]),
        np.array([True, False]),
    ],
    ids=repr,
)
def test_values_of_a_state_round_trip_with_their_types(value):
    back = decode(json.loads(json.dumps(encode(value, "state"))), "state")
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype
        np.testing.assert_array_equal(back, value)
    else:
        assert back == value


def test_contrasts_round_trip(frames):
    from formulaic.transforms.contrasts import ContrastsState, CustomContrasts, TreatmentContrasts

    for value in (
        ContrastsState(TreatmentContrasts(base="y"), ["x", "y"]),
        CustomContrasts(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), names=["p", "q"]),
    ):
        back = decode(json.loads(json.dumps(encode(value, "state"))), "state")
        assert type(back) is type(value) and repr(back) == repr(value)


def test_a_value_of_another_type_is_refused_when_written():
    with pytest.raises(
        bl.DataError,
        match=r"a fit of this formula cannot be saved: transform_state\['f'\]\[1\] holds "
        r"<object object at .*> of type builtins.object, which a saved fit cannot "
        "hold as plain data",
    ):
        encode({"f": [1, object()]}, "transform_state")


@pytest.mark.parametrize(
    ("plain", "message"),
    [
        ({"pickle": "gASV"}, r"state must be null, a boolean, number, text, list or an object of one of the keys"),
        ({"tuple": [1], "dict": []}, r"state must be null, a boolean, .* got \{'tuple'"),
        ({"numpy": ["O", 1]}, r"state.numpy must name a NumPy dtype of the kinds"),
        ({"numpy": ["<f8", "1.0"]}, r"state.numpy\[1\] must be float; got '1.0' \(str\)"),
        ({"numpy": ["|i1", 300]}, r"state.numpy: 300 does not fit the dtype int8"),
        ({"array": ["<f8", [2, 2], [1.0, 2.0]]}, r"state.array: 2 values do not fill the shape \[2, 2\]"),
        ({"array": ["<f8", [1], [1]]}, r"state.array\[2\]\[0\] must be float; got 1 \(int\)"),
        ({"object": ["os.system", {}]}, r"state.object must name one of the classes \['ContrastsState', "),
        ({"object": ["TreatmentContrasts", {"base": 1, "extra": 2}]}, r"\['extra'\] are extra"),
        ({"dict": [[[1], 2]]}, r"state.dict has a key that cannot be one"),
        ({"sentinel": "NONE"}, r"state.sentinel must be one of \['MISSING', 'UNSET'\]"),
    ],
)
def test_the_reader_refuses_what_the_writer_does_not_write(plain, message):
    with pytest.raises(bl.DataError, match=message):
        decode(plain, "state")


@pytest.mark.parametrize(
    "expr",
    [
        "bs(dist100, df=4)",
        "C(educ > 6)",
        "np.log(arsenic)",
        "center(np.log1p(arsenic))",
        "I(-x if x > 0 else x)",
        'C(g, contr.treatment("y"))',
        "C(g, contr.custom({'a': [1, 0]}))",
        "np.where(x > 1, 1.0, np.nan)",
        "Q('type')",
        "C(`my column`)",
        "hashed(g, levels=5)",
        "I(x ** 2 + x ** -0.5 + 2 ** 16)",
    ],
)
def test_terms_that_compute_on_columns_are_accepted(expr):
    check_term(expr)


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ('__import__("os").system("x")', r"uses the attribute \"__import__\('os'\).system\""),
        ("x.fillna(0)", "uses the attribute 'x.fillna'"),
        ('open("f")', "calls 'open', which is neither a formulaic transform nor a NumPy ufunc"),
        ('np.save("f", x)', "uses the attribute 'np.save'"),
        ("hashed(x, 3, hash_func=exec)", "uses the name 'exec', which Python may take for one of its built-ins"),
        ("I(x[0])", "uses the Python syntax Subscript"),
        ("I(lambda: 1)", "uses the Python syntax Lambda"),
        ("I(type)", r"uses the name 'type'.*\(a column of that name is read by Q\('type'\)\)"),
        ("I(_private)", "uses the name '_private'"),
        ("I(x", "is not a Python expression"),
        ("I(x * 9 ** 9 ** 9)", "raises to the power '9 \\*\\* 9'; a saved term's exponents are numbers of at most 16"),
        ("I(x ** y)", "raises to the power 'y'"),
    ],
)
def test_terms_that_could_run_other_code_are_refused(expr, problem):
    with pytest.raises(bl.DataError, match=rf"the formula term .* {problem}"):
        check_term(expr)


def test_q_reads_a_column_named_like_a_builtin(frames):
    """What the refusal of a bare built-in name suggests works."""
    train, _ = frames
    matrix = model_matrix("Q('type')", train.assign(type=train["arsenic"]))
    np.testing.assert_array_equal(matrix["Q('type')"].to_numpy(), train["arsenic"].to_numpy())


@dataclasses.dataclass(frozen=True)
class _LaterDiagnosis:
    """A diagnosis with fields of every kind a diagnosis may gain: saved with no change to storage."""

    figure: float
    count: int
    verdict: str
    note: str | None
    shift: pd.Series | pd.DataFrame
    flag: bool = False


def test_a_diagnosis_is_saved_field_by_field():
    layout = CoefLayout(Categorical(reference=True), np.array(["a", "b", "c"]), ("x0", "x1"), True)
    shift = layout.labelled(np.arange(6.0).reshape(3, 2))
    diagnosis = _LaterDiagnosis(np.float64(0.25), np.int64(4000), "ok", None, shift, True)
    arrays, meta = diagnosis_parts(diagnosis, layout)
    assert meta == {
        "labelled": {"shift": None},
        "values": {"figure": 0.25, "count": 4000, "verdict": "ok", "note": None, "flag": True},
    }
    back = diagnosis_from_parts(_LaterDiagnosis, arrays, json.loads(json.dumps(meta)), layout)
    pd.testing.assert_frame_equal(back.shift, shift, check_exact=True)
    assert dataclasses.replace(back, shift=None) == dataclasses.replace(diagnosis, shift=None)
    with pytest.raises(bl.DataError, match=r"the diagnosis's count must be int; got 'many'"):
        diagnosis_from_parts(_LaterDiagnosis, arrays, meta | {"values": meta["values"] | {"count": "many"}}, layout)
    with pytest.raises(bl.DataError, match=r"the diagnosis lacks \['verdict'\], which a _LaterDiagnosis needs"):
        values = {name: value for name, value in meta["values"].items() if name != "verdict"}
        diagnosis_from_parts(_LaterDiagnosis, arrays, meta | {"values": values}, layout)
    with pytest.raises(TypeError, match="the diagnosis's shift is not labelled like coef"):
        diagnosis_parts(dataclasses.replace(diagnosis, shift=shift.iloc[::-1]), layout)
