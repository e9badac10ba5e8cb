"""The README's numbers are the numbers the code prints.

Two kinds of figure are quoted in README.md: the output blocks of its tour (a summary, the comparison table, the
boundary summaries, a warning and an error), and the numbers its "Examples" section quotes from each example
script's output. Each is recomputed here, by the calls the README shows and by running each script with its
default settings (as a reader runs it), and compared to the digits the README prints: a change that moves a
figure fails here until the README moves with it.

Lines that time something (``Fit time``, ``fit_time_s``) are left out: they are this machine's, not the code's.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import bayeslogit as bl

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TIMINGS = re.compile(r"^\s*(Fit time:.*|fit_time_s\b.*)$")

pytestmark = pytest.mark.slow  # MCMC fits and the example scripts at their default settings: about two minutes


def output_after(code_line: str) -> str:
    """The README's output block (the fenced block without a language) right after the python block holding
    ``code_line``."""
    code = README.index(code_line)
    start = README.index("```\n", README.index("```\n", code) + 4) + 4  # the python block's end, then the output's
    return README[start : README.index("```", start)].rstrip("\n")


def comparable(text: str) -> list[str]:
    """``text``'s lines without trailing blanks and without the lines that time something."""
    return [line.rstrip() for line in text.splitlines() if not TIMINGS.match(line)]


def number_after(text: str, phrase: str) -> str:
    """The number that follows ``phrase`` (a regex) in ``text``, as written there."""
    found = re.search(phrase + r"\s*(-?[\d,]*\.?\d+)", text)
    assert found, f"{phrase!r} not found"
    return found.group(1)


def rounded_as(readme: str, printed: str) -> str:
    """``printed`` rounded to the digits of ``readme`` and written as it is (``66.971`` as ``48`` is ``67``)."""
    decimals = len(readme.split(".")[1]) if "." in readme else 0
    grouping = "," if "," in readme else ""
    return f"{float(printed.replace(',', '')):{grouping}.{decimals}f}"


@pytest.fixture(scope="module")
def tour():
    """The tour's objects, made by the README's calls."""
    wells = bl.datasets.load_wells()
    model = bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", wells)
    fits = model.fit_all(bl.Normal(scale=2.5, intercept_scale=None), random_seed=0)
    return {"wells": wells, "model": model, "ml": fits["ml"], "fits": fits}


def test_the_ml_summary_is_the_one_printed(tour):
    shown = output_after("print(ml.summary(ci_prob=0.95).round(4))")
    assert comparable(str(tour["ml"].summary(ci_prob=0.95).round(4))) == comparable(shown)


def test_the_comparison_table_is_the_one_printed(tour):
    assert comparable(str(bl.compare(tour["fits"]))) == comparable(output_after("print(bl.compare(fits))"))


def test_the_boundary_summaries_are_the_ones_printed(tour):
    printed = f"{tour['ml'].boundary().summary()}\n\n{tour['fits']['mcmc'].boundary().summary()}"
    assert comparable(printed) == comparable(output_after('fits["mcmc"].boundary().summary()'))


def test_the_diagnoses_are_the_ones_printed(tour):
    for method in ("laplace", "mcmc"):
        comment = re.search(rf'fits\["{method}"\]\.diagnosis\s+# (.*(?:\n\s+# .*)*)', README).group(1)
        shown = " ".join(line.strip(" #") for line in comment.splitlines())
        assert repr(tour["fits"][method].diagnosis) == shown


def test_the_profile_intervals_are_the_ones_printed(tour):
    shown = output_after('ml.summary(ci_kind="profile", ci_prob=0.95)').split("(header as above)\n")[1]
    printed = comparable(str(tour["ml"].summary(ci_kind="profile", ci_prob=0.95).round(4)))
    header_end = max(i for i, line in enumerate(printed) if line and set(line) == {"="})
    assert printed[header_end + 1 :] == comparable(shown)


def test_the_warning_and_the_error_are_the_ones_printed():
    challenger = bl.LogisticModel.from_formula("damaged ~ temp", bl.datasets.load_challenger())
    with pytest.warns(bl.ConvergenceWarning) as caught:
        challenger.fit_laplace(bl.Normal(10), random_seed=0)
    shown = output_after("challenger.fit_laplace(bl.Normal(10), random_seed=0)")
    assert shown.split() == f"ConvergenceWarning: {caught[0].message}".split()
    iris = bl.datasets.load_iris().query("species != 'virginica'")
    with pytest.raises(bl.SeparationError) as error:
        bl.LogisticModel.from_formula("species ~ petal_length", iris).fit_ml()
    shown = output_after('bl.LogisticModel.from_formula("species ~ petal_length", iris).fit_ml()')
    assert shown.split() == f"SeparationError: {error.value}".split()


def test_the_multilevel_summary_is_the_one_printed():
    cbpp = bl.datasets.load_cbpp()
    model = bl.MultilevelModel.from_formula("cbind(incidence, size - incidence) ~ period + (1 | herd)", cbpp)
    printed = str(model.fit_ml().summary())
    assert comparable(printed) == comparable(output_after("print(ml.summary())\n```"))


def test_the_categorical_multilevel_tables_are_the_ones_printed():
    verbagg = bl.datasets.load_verbagg()
    ml = bl.MultilevelModel.from_formula("resp ~ Anger + Gender + btype + (1 | id)", verbagg).fit_ml()
    printed = f"{ml.coef.round(3)}\n{ml.group_sd.round(3)}"
    assert comparable(printed) == comparable(output_after("print(ml.group_sd.round(3))\n```"))


EXAMPLE_QUOTES = {
    "challenger.py": [
        (r"ML puts the odds against\s+damage at 1 in", r"ml .*no damage 1 in"),
        (r"MCMC, averaging over the slope's uncertainty, at 1 in", r"mcmc .*no damage 1 in"),
        (
            r"the Laplace approximation,\s+whose Gaussian misses the skewed posterior, at 1 in",
            r"laplace .*no damage 1 in",
        ),
    ],
    "optimization.py": [(r"Newton's method has converged in", r"newton\s+")],
    "spline_boundary.py": [
        (r"\(a difference of", r"spline - linear ="),
        (r"a difference of [\d.]+, SE", r"SE of the difference"),
    ],
    "weakly_informative.py": [
        (r"0\.01 of 0 or 1 is", r"Normal\(0\.5\), intercept 1\s+"),
        (r"under Normal\(0\.5\) \(intercept sd 1\),", r"StudentT\(7, 2\.5\), intercept 1\s+"),
        (r"under Student-t\(7, 2\.5\) and", r"Cauchy\(2\.5\), intercept 1\s+"),
        (r"autoscaled Cauchy\(2\.5\),", r"Normal\(10\), intercept 10\s+"),
        (r"the Cauchy's slope reaches", r"Cauchy\(2\.5\)(?:\s+[-\d.]+){7}\s+"),
        (r"the Normal's stops at", r"Normal\(2\.5\)(?:\s+[-\d.]+){7}\s+"),
    ],
    "multilevel.py": [
        (r"the herd sd is", r"herd\s+Intercept\s+[\d.]+\s+"),
        (r"the herd sd is [\d.]+ by ML,", r"herd\s+Intercept(?:\s+[\d.]+){3}\s+"),
        (r"by MAP and", r"herd\s+Intercept(?:\s+[\d.]+){5}\s+"),
        (r"ML's sd is", r"\n  ml\s+"),
        (r"MAP's", r"\n  map\s+"),
        (r"the posterior's mean", r"\n  mcmc\s+"),
        (r"89% interval from", r"89% ETI \["),
        (r"89% interval from [\d.]+ to", r"89% ETI \[[\d.]+,"),
    ],
}
"""Script -> (the README's phrase before a number, the script's printed text before the same number)."""

NOT_PRINTED = (
    r"\bto 31 F\b",
    r"\bAt 31 F\b",
    r"reaches 0\.75\s+and 0\.95",
    r"at step 12\b",  # the frame of the animation that the README's image shows
    r"its 40-frame animation",
    r"\(at sd 10, MCMC's",
    r"bs\(dist100, df=4\) \+ np\.log\(arsenic\)",
    r"within\s+0\.01 of 0 or 1",
    r"Normal\(0\.5\) \(intercept sd 1\)",
    r"Student-t\(7, 2\.5\)",
    r"Cauchy\(2\.5\)",
    r"Normal\(10\)",
    r"its 99% quantile",
    r"true sd 0\.3",
    r"On five simulated groups",
    r"\(a singular\s+fit",
)
"""Numbers in the README's "Examples" prose that are settings or a figure's content, not printed figures."""

PERCENT_PHRASES = ("0.01 of 0 or 1 is", "under Normal(0.5)", "under Student-t(7, 2.5) and", "autoscaled Cauchy(2.5),")
"""README phrases followed by a share that the README writes in percent and the script prints as a fraction."""


@pytest.fixture(scope="module")
def example_outputs(tmp_path_factory) -> dict:
    """What each quoted script prints at its default settings."""
    outputs = {}
    for script in EXAMPLE_QUOTES:
        out = tmp_path_factory.mktemp(script.removesuffix(".py"))
        run = subprocess.run(
            [sys.executable, str(ROOT / "examples" / script), "--out", str(out)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr
        outputs[script] = run.stdout
    return outputs


@pytest.mark.parametrize("script", EXAMPLE_QUOTES)
def test_the_examples_numbers_are_the_ones_printed(script, example_outputs):
    for readme_phrase, printed_phrase in EXAMPLE_QUOTES[script]:
        quoted = number_after(README, readme_phrase)
        printed = number_after(example_outputs[script], printed_phrase)
        if any(phrase in readme_phrase.replace("\\", "") for phrase in PERCENT_PHRASES):
            printed = str(100 * float(printed))
        assert rounded_as(quoted, printed) == quoted, f"README: {quoted} after {readme_phrase!r}; {script}: {printed}"


def test_the_count_of_example_scripts_is_right():
    scripts = [path for path in (ROOT / "examples").glob("*.py") if not path.name.startswith("_")]
    words = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    assert re.search(rf"\b{words[len(scripts)].capitalize()} scripts in `examples/`", README)


def test_every_number_of_the_examples_prose_is_checked():
    section = README[README.index("## Examples") : README.index("## Performance")]
    prose = "\n".join(
        line for line in re.sub(r"```.*?```", "", section, flags=re.S).splitlines() if not line.startswith("![")
    )
    checked = [rf"{phrase}\s*-?[\d,]*\.?\d+" for quotes in EXAMPLE_QUOTES.values() for phrase, _ in quotes]
    spans = [found.span() for pattern in (*checked, *NOT_PRINTED) for found in re.finditer(pattern, prose)]
    unchecked = "".join(" " if any(a <= i < b for a, b in spans) else char for i, char in enumerate(prose))
    assert not re.findall(r".{0,30}\d.{0,30}", unchecked), "numbers in README's Examples that no test checks"
