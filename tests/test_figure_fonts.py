"""Names in any script: drawn in a font that has them where one is installed (Debian's fonts-noto-cjk here), else
one MissingGlyphWarning of the package's, and never matplotlib's warning per glyph."""

import io
import warnings

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy.special import expit

import bayeslogit as bl
from bayeslogit.exceptions import MissingGlyphWarning
from bayeslogit.plots import fonts, plot_boundary, plot_calibration, plot_coef

HANGUL = ("구매여부", "나이", "소득")  # outcome and predictors, as in a Korean CSV file


@pytest.fixture(scope="module")
def korean_fit():
    rng = np.random.default_rng(2)
    n = 200
    frame = pd.DataFrame({"나이": rng.normal(45, 12, n), "소득": rng.normal(300, 80, n)})
    frame["구매여부"] = (rng.random(n) < expit(0.05 * (frame["나이"] - 45))).astype(int)
    return bl.LogisticModel.from_formula("구매여부 ~ 나이 + 소득", frame).fit_ml()


def drawn(fig) -> np.ndarray:
    """The figure drawn to PNG, as grey levels; the warnings that drawing raises are raised."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    return np.asarray(Image.open(buffer).convert("L"))


def texts_of(fig) -> list:
    from matplotlib.text import Text

    return [text for text in fig.findobj(Text) if any(name in text.get_text() for name in HANGUL)]


@pytest.mark.skipif(not fonts._fallbacks(), reason="no font of FALLBACK_FAMILIES installed (apt fonts-noto-cjk)")
def test_names_are_drawn_in_a_fallback_font_without_any_warning(korean_fit):
    family = mpl.rcParams["font.family"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's "Glyph ... missing" and ours alike
        figures = [plot_boundary(korean_fit), plot_coef(korean_fit), plot_calibration(korean_fit)]
        images = [drawn(fig) for fig in figures]
    assert mpl.rcParams["font.family"] == family  # the user's settings are left as they were
    boundary = figures[0]
    assert (boundary.axes[0].get_xlabel(), boundary.axes[0].get_ylabel()) == ("나이", "소득")
    for fig in figures:
        assert texts_of(fig) and {text.get_fontfamily()[-1] for text in texts_of(fig)} == {fonts.FALLBACK_FAMILIES[0]}
    # The names are drawn as glyphs: replacing them by the mark a missing glyph would draw changes the pixels.
    for text in texts_of(boundary):
        text.set_text("".join(fonts.MISSING_MARK if not char.isascii() else char for char in text.get_text()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (drawn(boundary) != images[0]).any()


def test_without_such_a_font_one_warning_names_the_names(korean_fit, monkeypatch):
    monkeypatch.setattr(fonts, "FALLBACK_FAMILIES", ("No Such Font Family",))
    monkeypatch.setattr(fonts, "_WARNED", set())
    with pytest.warns(MissingGlyphWarning) as caught:
        fig = plot_boundary(korean_fit)
    assert [str(w.message) for w in caught] == [
        "the names 구매여부, 나이, 소득 cannot be drawn: the figure's font lacks their characters, and No Such Font "
        "Family is not installed, so they show as □. Install a font that has them, such as Debian's "
        "fonts-noto-cjk (apt-get install fonts-noto-cjk), and draw the figure again"
    ]
    assert caught[0].filename == __file__  # attributed to the caller, as the package's warnings are
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("□□", "□□")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no matplotlib warning per glyph when drawn, none of ours again
        drawn(fig)
        drawn(plot_coef(korean_fit))  # the same names: said once
    assert issubclass(MissingGlyphWarning, UserWarning)


@pytest.mark.skipif(not fonts._fallbacks(), reason="no font of FALLBACK_FAMILIES installed (apt fonts-noto-cjk)")
def test_characters_that_no_installed_font_has_are_marked_and_named(monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(fonts, "_WARNED", set())
    fig, ax = plt.subplots()
    ax.set_xlabel("ऊँचाई (cm)")  # Devanagari: neither DejaVu Sans nor Noto Sans CJK has it
    ax.set_ylabel("나이")
    with pytest.warns(MissingGlyphWarning) as caught:
        fonts.draw_names(fig)
    assert [str(w.message) for w in caught] == [
        "the name ऊँचाई cannot be drawn: neither the figure's font nor Noto Sans CJK JP has their characters, so "
        "they show as □. Install a font that has them, such as Debian's fonts-noto-cjk (apt-get install "
        "fonts-noto-cjk), and draw the figure again"
    ]
    assert ax.get_xlabel() == "□□□□□ (cm)" and ax.get_ylabel() == "나이"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drawn(fig)
