"""Vietnamese personal names: display form, match key, and family / middle / given parts.

Tone-mark convention. Vietnamese has two placements of the tone mark on the open syllables
ending in *oa*, *oe* and *uy*: on the first vowel ("Hòa", "Khỏe", "Thúy") or on the second
("Hoà", "Khoẻ", "Thuý"). Linguists call the first the traditional ("kiểu cũ") placement and the
second the "new" one ("kiểu mới", on the main vowel), but the brief, the official administrative
unit lists and most rosters use the first; so ``normalise_name`` always writes **"Hòa", "Khỏe",
"Thúy"**. Rather than a table of spelling pairs, each syllable's tone is stripped and put back by
rule, which also repairs other misplacements (e.g. "Nguyêñ" → "Nguyễn"):

- ``gi`` and ``qu`` before another vowel are consonants ("già", "quý");
- a vowel carrying a quality mark (â ă ê ô ơ ư) takes the tone, the second one in "ươ";
- else one vowel takes it; of three, the middle one ("ngoài", "khuỷu"); of two, the second if a final consonant follows ("hoàng", "Huỳnh"), otherwise
  the first ("mùa", "hòa", "thủy").

No PyPI package was used: the candidates in the package index (``vi-textmatch``, ``visen``,
``underthesea``) are either young and little used or a heavy NLP toolkit, and the rule is a few
lines of standard-library code.
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")  # grave, acute, tilde, hook above, dot below
_PLAIN_VOWELS = frozenset("aeiouy")
_MARKED_VOWELS = frozenset("âăêôơư")
_VOWELS = _PLAIN_VOWELS | _MARKED_VOWELS


class NameParts(NamedTuple):
    """A name split the Vietnamese way; ``middle`` may hold several words or be empty."""

    family: str
    middle: str
    given: str


def _tone_index(base: str) -> int | None:
    """Index in the lowercase, toneless syllable ``base`` of the vowel that carries the tone."""
    start = 0
    if base.startswith(("gi", "qu")) and len(base) > 2 and base[2] in _VOWELS:
        start = 2
    while start < len(base) and base[start] not in _VOWELS:
        start += 1
    end = start
    while end < len(base) and base[end] in _VOWELS:
        end += 1
    nucleus = base[start:end]
    if not nucleus:
        return None
    marked = [i for i, ch in enumerate(nucleus) if ch in _MARKED_VOWELS]
    if marked:
        return start + marked[-1]
    if len(nucleus) == 1:
        return start
    if len(nucleus) >= 3:
        return start + 1
    return start + (1 if end < len(base) else 0)


def _place_tone(word: str) -> str:
    """Put the tone mark of one NFC word where ``_tone_index`` says; other words pass through."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [ch for ch in decomposed if ch in _TONES]
    if len(tones) != 1:
        # No tone: nothing to move. Several tones: not a Vietnamese syllable, leave it alone.
        return word
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    index = _tone_index(base.lower())
    if index is None:
        return word
    return unicodedata.normalize("NFC", base[: index + 1] + tones[0] + base[index + 1 :])


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def normalise_name(s: str) -> str:
    """Display form: NFC, one tone placement ("Hòa"), single spaces, each word capitalised.

    >>> normalise_name("  TRẦN   THỊ THUÝ ")
    'Trần Thị Thúy'
    """
    words = unicodedata.normalize("NFC", s).split()
    return " ".join(_capitalise(_place_tone(word)) for word in words)


def _build_key_table() -> dict[int, str | None]:
    """Translation table for ``name_key``: letters to their bare ASCII base, marks dropped.

    One ``str.translate`` pass is several times faster than NFD + filtering per call, and it
    handles NFC and NFD input alike because the combining marks themselves map to nothing.
    """
    table: dict[int, str | None] = {}
    for code in list(range(0x00C0, 0x0250)) + list(range(0x1E00, 0x1F00)):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base.isascii() and base.isalpha():
            table[code] = base.lower()
    for code in range(0x0300, 0x0370):
        table[code] = None
    table[ord("đ")] = table[ord("Đ")] = "d"
    table[ord("\u00a0")] = " "
    for ch in ".,;:-_'\"`()/\\":
        table[ord(ch)] = " "
    return table


_KEY_TABLE = _build_key_table()


def name_key(s: str) -> str:
    """Matching key: no diacritics, đ→d, lowercase, punctuation as space, single spaces.

    >>> name_key("Nguyễn Văn Đức")
    'nguyen van duc'
    """
    return " ".join(s.translate(_KEY_TABLE).lower().split())


def split_name(s: str) -> NameParts:
    """Family = first word, given = last word, middle = the words between (display form).

    Double family names ("Lê Nguyễn", "Tôn Nữ") cannot be told apart from a middle name by the
    text alone, so the first word is always the family name. A one-word name is a given name.
    """
    words = normalise_name(s).split()
    if not words:
        return NameParts("", "", "")
    if len(words) == 1:
        return NameParts("", "", words[0])
    return NameParts(words[0], " ".join(words[1:-1]), words[-1])


# The syllables a Vietnamese name is made of: an initial consonant (or none) and a rhyme. Rhymes are
# written here without tone but with their vowel marks; the coda a nucleus takes is listed with it.
_ONSETS = ("ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "th", "tr", "qu", "b", "c", "d", "đ", "g", "h",
           "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")
_OPEN_RHYMES = ("a e ê i y o ô ơ u ư ai ao au ay âu ây eo êu ia iu iêu yêu oa oe oi ôi ơi ua uê ui uy ưa ưi ưu "
                "uôi ươi ươu oai oay oao oeo uây uya uyu uơ").split()
_CLOSED_RHYMES = {  # nucleus -> the codas it takes
    "a": "c ch m n ng nh p t", "ă": "c m n ng p t", "â": "c m n ng p t", "e": "c m n ng p t",
    "ê": "ch m n nh p t ng", "i": "ch m n nh p t", "o": "c m n ng p t", "oo": "c ng", "ô": "c m n ng p t",
    "ơ": "m n p t", "u": "c m n ng p t", "ư": "c m n ng t", "iê": "c m n ng p t", "yê": "m n t",
    "uô": "c m n ng t", "ươ": "c m n ng p t", "oa": "c ch m n ng nh p t", "oă": "c m n ng t",
    "oe": "n t", "uâ": "n ng t", "uê": "ch nh n", "uy": "ch n nh t", "uyê": "n t",
}
_RHYMES = frozenset(_OPEN_RHYMES) | {nucleus + coda for nucleus, codas in _CLOSED_RHYMES.items()
                                      for coda in codas.split()}
_BARE_RHYMES = frozenset(name_key(r) for r in _RHYMES)


def is_syllable(word: str) -> bool:
    """Whether one word can be a Vietnamese syllable: an initial consonant, a rhyme of the language
    and at most one tone ("Hương", "Quỳnh", "Huong"; not "Hươngg", "Laan", "Quỳỳnh", "Hơng"). A word
    written without any marks is read by its letters alone (any marks might have been dropped);
    one with marks must be spelt as written ("Hơng" is no syllable although its letters are Hồng's)."""
    nfd = unicodedata.normalize("NFD", word.strip().lower())
    if not nfd or sum(ch in _TONES for ch in nfd) > 1:
        return False
    toneless = unicodedata.normalize("NFC", "".join(ch for ch in nfd if ch not in _TONES))
    marked = not toneless.isascii()
    rhymes, text = (_RHYMES, toneless) if marked else (_BARE_RHYMES, toneless.replace("đ", "d"))
    for onset in _ONSETS:
        if text.startswith(onset):
            rest = text[len(onset):]
            if rest in rhymes:
                return True
            if onset in ("gi", "qu") and rest == "":  # "gì" is gi + i, read below as g + i
                continue
    return text[:1] == "g" and text[1:] in rhymes or text[:1] == "q" and text[1:2] == "u" and text[1:] in rhymes
