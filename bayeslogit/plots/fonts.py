"""Names in any script: the package's figures draw each text in its own font, falling back to a font that has the
glyphs its characters need (Korean, Japanese or Chinese column names, class labels).

Only the texts of the package's own figures change (their font family gets the fallback appended); the user's
``rcParams`` are left as they are. Where no installed font has a character, it is drawn as :data:`MISSING_MARK`
and one :class:`MissingGlyphWarning` names the names that could not be drawn, instead of matplotlib's warning per
glyph and per draw.
"""

import functools
import unicodedata

from bayeslogit.exceptions import MissingGlyphWarning, warn_convergence

FALLBACK_FAMILIES = ("Noto Sans CJK JP",)
"""Families tried, in order, for characters a text's own font lacks: Noto Sans CJK (Debian's ``fonts-noto-cjk``)
covers Hangul, kana and the Han characters of Chinese, Japanese and Korean."""

MISSING_MARK = "\u25a1"  # WHITE SQUARE: drawn for a character that no installed font has, as fonts draw "tofu"

FONT_PACKAGE = "fonts-noto-cjk"  # what the warning suggests installing

_WARNED: set[str] = set()  # names already named in a warning in this process: each is said once


def draw_names(fig):
    """Let every text of ``fig`` draw its characters: a text whose font lacks some gets the first of
    :data:`FALLBACK_FAMILIES` that has them all appended to its font family; where none has them, they are
    replaced by :data:`MISSING_MARK` and one :class:`MissingGlyphWarning` names the names. Returns ``fig``.

    Texts made later, when the figure is drawn (tick labels of numbers), are in the font of the figure's numbers.
    """
    from matplotlib.text import Text

    undrawable = set()
    for text in fig.findobj(Text):
        content = text.get_text()
        if content.isascii():  # every font has ASCII
            continue
        lacking = {char for char in content if not char.isspace()} - _charmap_of(text.get_fontproperties())
        if not lacking:
            continue
        family = next((name for name, chars in _fallbacks() if lacking <= chars), None)
        if family is not None:
            if family not in text.get_fontfamily():
                text.set_fontfamily([*text.get_fontfamily(), family])
            continue
        undrawable |= {word for word in _words(content) if lacking & set(word)} or lacking  # a symbol: itself
        text.set_text("".join(MISSING_MARK if char in lacking else char for char in content))
    _warn_once(undrawable)
    return fig


def _words(text: str) -> list[str]:
    """The words of ``text``: runs of letters, marks (the vowel signs of Indic scripts, say) and digits."""
    words, word = [], ""
    for char in text + " ":
        if unicodedata.category(char)[0] in "LMN":
            word += char
        elif word:
            words.append(word)
            word = ""
    return words


def _warn_once(names: set[str]) -> None:
    """One :class:`MissingGlyphWarning` naming those of ``names`` that no warning has named yet."""
    new = sorted(names - _WARNED)
    if not new:
        return
    _WARNED.update(new)
    installed = [family for family, _ in _fallbacks()]
    absent = [family for family in FALLBACK_FAMILIES if family not in installed]
    tried = " nor ".join(["the figure's font", *installed])
    why = f"neither {tried} has their characters" if installed else "the figure's font lacks their characters"
    if absent:
        why += f", and {', '.join(absent)} {'is' if len(absent) == 1 else 'are'} not installed"
    warn_convergence(
        f"the name{'s' if len(new) > 1 else ''} {', '.join(new)} cannot be drawn: {why}, so they show as "
        f"{MISSING_MARK}. Install a font that has them, such as Debian's {FONT_PACKAGE} (apt-get install "
        f"{FONT_PACKAGE}), and draw the figure again",
        MissingGlyphWarning,
    )


def _charmap_of(properties) -> frozenset:
    """The characters of the font that matplotlib picks for ``properties``."""
    from matplotlib import font_manager

    found = font_manager.findfont(properties)  # a path (str), with the face's index where it is a collection
    return _characters(str(found), getattr(found, "face_index", 0))


@functools.cache
def _characters(path: str, index: int) -> frozenset:
    """The characters that the font at ``path`` (face ``index`` of a collection) has glyphs for."""
    from matplotlib import ft2font

    face = ft2font.FT2Font(path, face_index=index)
    return frozenset(chr(code) for code in face.get_charmap())


def _fallbacks() -> list[tuple[str, frozenset]]:
    """``(family, characters)`` of each of :data:`FALLBACK_FAMILIES` that matplotlib can use, in order."""
    entries = {entry.name: entry for entry in _font_entries()}
    return [
        (family, _characters(entries[family].fname, entries[family].index))
        for family in FALLBACK_FAMILIES
        if family in entries
    ]


def _font_entries() -> list:
    """matplotlib's fonts, with those of :data:`FALLBACK_FAMILIES` installed after its font cache was made added
    (matplotlib reads the system's fonts once, into a cache, and does not see fonts installed later)."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    if not set(FALLBACK_FAMILIES) <= {entry.name for entry in manager.ttflist}:
        _add_installed(manager, FALLBACK_FAMILIES)
    return manager.ttflist


@functools.cache
def _add_installed(manager, families: tuple) -> None:
    """Add to ``manager`` the system's font files that it does not know and that hold one of ``families``; once
    per process."""
    from matplotlib import font_manager, ft2font

    known = {entry.fname for entry in manager.ttflist}
    for path in font_manager.findSystemFonts():
        if path in known:
            continue
        try:
            font = ft2font.FT2Font(path)
        except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read
            continue
        faces = [font] + [ft2font.FT2Font(path, face_index=i) for i in range(1, font.num_faces)]
        if any(face.family_name in families for face in faces):
            manager.addfont(path)
