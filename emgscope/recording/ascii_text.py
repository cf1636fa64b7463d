"""Typed text as the printable ASCII an EDF header holds, changed only where it must be, and never ambiguously.

EDF header fields are printable ASCII (EDF specification, section 2.1.3); an operator types Zoë Müller, Δέλτα or
患者. The rules, in order:

* Latin letters follow ICAO Doc 9303 Part 3 ("Transliteration of multinational characters", the rule of
  passports' machine-readable zones): Ä, Ö, Ü → AE, OE, UE (Müller → Mueller), Å → AA, Æ → AE, Ø → OE, ß → SS,
  Þ → TH, Œ → OE, Ł → L, Đ and Ð → D, Ħ → H, ı → I; every other accented letter loses its accent (É → E, Ñ → N,
  Č → C).
* Greek follows the transliteration (type 1) of ISO 843, which Greece adopted as ELOT 743: letter by letter,
  Δέλτα → Delta, Ωμέγα → Omega, Θ → TH, Χ → CH, Ψ → PS, and υ is u after α, ε, ο (ου → ou).
* Cyrillic follows ICAO Doc 9303 Part 3: Ж → ZH, Х → KH, Ц → TS, Ч → CH, Ш → SH, Щ → SHCH, Ъ → IE, Ю → IU,
  Я → IA, Ь is left out (Щукин → Shchukin).
* A letter these scripts do not cover (患者, Arabic, emoji) has no faithful transliteration and becomes ``?``;
  control characters become spaces.

A letter that becomes two keeps its case as a word does: Ä → Ae, but ÄRZTE → AERZTE.

Because transliteration is not one-to-one (Müller and Mueller, Δέλτα and Delta, or 患者 and 病人 → ``??``), a
text that must tell people apart (the patient ID: the header's code and the file name) gets
:func:`distinct`: whenever its header form differs from what was typed, a short stable hash of the typed text is
appended, so two different IDs never share a header ID or a file name. The full typed text is kept elsewhere
(an annotation at 0 s; see :mod:`emgscope.recording.session`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import unicodedata
from dataclasses import dataclass

HASH_CHARS = 6
"""Hex digits of SHA-256 appended to a changed ID: 16.7 million values, so two different IDs of one lab collide
with odds of about one in sixteen million."""

_LATIN = {
    "Ä": "AE", "Ö": "OE", "Ü": "UE", "Å": "AA", "Æ": "AE", "Ø": "OE", "ẞ": "SS", "Þ": "TH", "Œ": "OE", "Ł": "L",
    "Đ": "D", "Ð": "D", "Ħ": "H", "Ŧ": "T", "Ŋ": "N", "Ŀ": "L", "Ĳ": "IJ",
    "ä": "ae", "ö": "oe", "ü": "ue", "å": "aa", "æ": "ae", "ø": "oe", "ß": "ss", "þ": "th", "œ": "oe", "ł": "l",
    "đ": "d", "ð": "d", "ħ": "h", "ŧ": "t", "ŋ": "n", "ŀ": "l", "ĳ": "ij", "ı": "i", "ĸ": "k",
}  # fmt: skip
"""ICAO Doc 9303 Part 3 for the Latin letters whose rule is not "drop the accent" (or that have none to drop)."""
_GREEK = dict(zip("ΑΒΓΔΕΖΗΙΚΛΜΝΞΟΠΡΣΤΥΦΩ", "ABGDEZIIKLMNXOPRSTYFO", strict=True)) | {"Θ": "TH", "Χ": "CH", "Ψ": "PS"}
_CYRILLIC = dict(zip("АБВГДЕЗИІКЛМНОПРСТУФЫЭЈҐЎ", "ABVGDEZIIKLMNOPRSTUFYEJGU", strict=True)) | {
    "Ж": "ZH", "Х": "KH", "Ц": "TS", "Ч": "CH", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ь": "", "Ю": "IU", "Я": "IA",
    "Є": "IE", "Ђ": "D", "Ћ": "C", "Љ": "LJ", "Њ": "NJ", "Џ": "DZ", "Ѕ": "DZ", "Ќ": "KJ", "Ѓ": "GJ",
}  # fmt: skip
_UPPER = _LATIN | _GREEK | _CYRILLIC
_DIPHTHONG_U = {"Α", "Ε", "Ο"}
"""ISO 843: υ after these is written u (αυ, ευ, ου), elsewhere y."""
UNKNOWN = "?"


def transliterate(text: str) -> tuple[str, list[int]]:
    """``text`` in printable ASCII by the rules above, and for each output character the index of the input
    character it came from (so a match found in the ASCII form can be cut out of the original)."""
    out: list[str] = []
    origin: list[int] = []
    previous = ""
    for index, char in enumerate(text):
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        written = _one(char, base, previous, _neighbour_upper(text, index))
        previous = base.upper() if len(base) == 1 else ""
        out.append(written)
        origin += [index] * len(written)
    return "".join(out), origin


def to_ascii(text: str) -> str:
    """``text`` in printable ASCII (see :func:`transliterate`)."""
    return transliterate(text)[0]


def _one(char: str, base: str, previous: str, upper_context: bool) -> str:
    if 32 <= ord(char) < 127:
        return char
    if char in _LATIN:
        return _cased(_LATIN[char], char.isupper(), upper_context)
    if all(32 <= ord(c) < 127 for c in base) and base:
        return base
    if len(base) != 1:
        return " " if unicodedata.category(char).startswith(("Z", "C")) else UNKNOWN
    upper = base.upper()
    if upper == "Υ" and previous in _DIPHTHONG_U:
        return "U" if base.isupper() else "u"
    if upper in _UPPER:
        return _cased(_UPPER[upper], base.isupper(), upper_context)
    return " " if unicodedata.category(char).startswith(("Z", "C")) else UNKNOWN


def _cased(letters: str, upper: bool, upper_context: bool) -> str:
    if not upper:
        return letters.lower()
    return letters if upper_context else letters[:1] + letters[1:].lower()


def _neighbour_upper(text: str, index: int) -> bool:
    """Whether a letter next to ``text[index]`` is upper case too (then a two-letter replacement is all caps)."""
    return any(0 <= j < len(text) and text[j].isalpha() and text[j].isupper() for j in (index - 1, index + 1))


@dataclass(frozen=True)
class Fitted:
    """Typed text as a header field holds it, and whether that changed it."""

    typed: str
    text: str
    """What goes into the header."""
    transliterated: bool
    """Some character is not ASCII and was replaced (see the module's rules)."""
    shortened: bool
    """Cut to the room the field has."""
    suffixed: bool = False
    """A hash of the typed text was appended (:func:`distinct`)."""
    untransliterable: bool = False
    """Some letter has no transliteration and was written as :data:`UNKNOWN`."""

    @property
    def changed(self) -> bool:
        return self.transliterated or self.shortened or self.suffixed


def fit(typed: str, max_chars: int, space: str = " ") -> Fitted:
    """``typed`` transliterated, spaces written as ``space``, cut to ``max_chars``."""
    ascii_text = to_ascii(typed)
    transliterated = ascii_text != typed
    text = ascii_text.replace(" ", space)
    unknown = ascii_text.count(UNKNOWN) > typed.count(UNKNOWN)
    return Fitted(typed, text[:max_chars], transliterated, len(text) > max_chars, untransliterable=unknown)


def distinct(typed: str, max_chars: int, space: str = " ", separator: str = "~") -> Fitted:
    """Like :func:`fit`, but when the result is not exactly what was typed, ``separator`` and :func:`short_hash` of
    the typed text are appended (the text cut to make room), so two different texts never give one result."""
    fitted = fit(typed, max_chars, space)
    if fitted.text == typed:
        return fitted
    suffix = separator + short_hash(typed)
    head = fit(typed, max_chars - len(suffix), space).text
    return dataclasses.replace(fitted, text=head + suffix, suffixed=True)


def short_hash(text: str) -> str:
    """:data:`HASH_CHARS` hex digits of the SHA-256 of ``text`` (NFC: the same letters typed two ways agree)."""
    return hashlib.sha256(unicodedata.normalize("NFC", text).encode("utf-8")).hexdigest()[:HASH_CHARS]
