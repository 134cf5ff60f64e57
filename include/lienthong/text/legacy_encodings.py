"""Vietnamese legacy encodings: TCVN3 (ABC), VNI-Windows and Windows-1258, both directions.

Why hand-written tables: no well-kept PyPI package does this. The registry's candidates are either
document loaders for RAG pipelines (``viparse``) that pull a large dependency tree for a decoder we
could not audit, or one-off scripts. The two font encodings are small, frozen since the 1990s and
fully described by the tables below, so the project owns them.

- **TCVN3 (ABC)** is a single-byte encoding (shown here as Latin-1 code points). Only lower-case
  letters with tone marks have codes; the seven plain upper-case letters Ă Â Ê Ô Ơ Ư Đ have their
  own. Upper-case letters *with* tone marks were typed with the same bytes in a separate capitals
  font (``.VnTimeH``), so the bytes do not say the case: :func:`encode_tcvn3` writes them with the
  lower-case byte, and :func:`decode_tcvn3` restores capitals for words whose other letters are all
  capitals (``NGUYÔN`` -> ``NGUYỄN``). A title-case word starting with such a letter (``Ánh``)
  comes back lower-case (``ánh``): the information is not in the file.
- **VNI-Windows** writes a base letter followed by one or two mark bytes, shown here as Windows-1252
  characters (``Nguyễn`` -> ``Nguye\\xe3n`` i.e. ``Nguyeãn``). A few letters have single bytes
  (``ơ`` -> ``ô``, ``ư`` -> ``ö``, ``đ`` -> ``ñ``, ``í`` ``ì`` ``ỉ`` ``ĩ`` ``ị``, ``ỵ``). It keeps case.
- **Windows-1258** is a real codec in Python, but Python's ``cp1258`` only encodes the precomposed
  letters that the code page has; Windows writes the others as a base letter plus a combining tone
  mark. :func:`encode_cp1258` does the same; :func:`decode_cp1258` returns NFC text.

All decoders return NFC text; all encoders accept any normalisation form.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = [
    "encode_tcvn3",
    "decode_tcvn3",
    "encode_vni",
    "decode_vni",
    "encode_cp1258",
    "decode_cp1258",
    "encode",
    "decode",
]

# Tone order used in the tables: none, grave, acute, hook above, tilde, dot below.
_TONED_VOWELS = {
    "a": "aàáảãạ",
    "ă": "ăằắẳẵặ",
    "â": "âầấẩẫậ",
    "e": "eèéẻẽẹ",
    "ê": "êềếểễệ",
    "i": "iìíỉĩị",
    "o": "oòóỏõọ",
    "ô": "ôồốổỗộ",
    "ơ": "ơờớởỡợ",
    "u": "uùúủũụ",
    "ư": "ưừứửữự",
    "y": "yỳýỷỹỵ",
}

# TCVN3 bytes for each letter of _TONED_VOWELS in the same order (plain ASCII letters keep theirs).
_TCVN3_VOWEL_BYTES = {
    "a": "aµ¸¶·¹",
    "ă": "¨»¾¼½Æ",
    "â": "©ÇÊÈÉË",
    "e": "eÌÐÎÏÑ",
    "ê": "ªÒÕÓÔÖ",
    "i": "i×ÝØÜÞ",
    "o": "oßãáâä",
    "ô": "«åèæçé",
    "ơ": "¬êíëìî",
    "u": "uïóñòô",
    "ư": "\xadõøö÷ù",
    "y": "yúýûüþ",
}
_TCVN3_UPPER_PLAIN = {"Ă": "¡", "Â": "¢", "Ê": "£", "Ô": "¤", "Ơ": "¥", "Ư": "¦", "Đ": "§"}

# VNI: upper-case spellings (lower case is the Windows-1252 lower case of each character).
# Tone order: none, grave, acute, hook above, tilde, dot below.
_VNI_UPPER = {
    "A": ["A", "AØ", "AÙ", "AÛ", "AÕ", "AÏ"],
    "Ă": ["AÊ", "AÈ", "AÉ", "AÚ", "AÜ", "AË"],
    "Â": ["AÂ", "AÀ", "AÁ", "AÅ", "AÃ", "AÄ"],
    "E": ["E", "EØ", "EÙ", "EÛ", "EÕ", "EÏ"],
    "Ê": ["EÂ", "EÀ", "EÁ", "EÅ", "EÃ", "EÄ"],
    "I": ["I", "Ì", "Í", "Æ", "Ó", "Ò"],
    "O": ["O", "OØ", "OÙ", "OÛ", "OÕ", "OÏ"],
    "Ô": ["OÂ", "OÀ", "OÁ", "OÅ", "OÃ", "OÄ"],
    "Ơ": ["Ô", "ÔØ", "ÔÙ", "ÔÛ", "ÔÕ", "ÔÏ"],
    "U": ["U", "UØ", "UÙ", "UÛ", "UÕ", "UÏ"],
    "Ư": ["Ö", "ÖØ", "ÖÙ", "ÖÛ", "ÖÕ", "ÖÏ"],
    "Y": ["Y", "YØ", "YÙ", "YÛ", "YÕ", "Î"],
}


def _build_tables():
    tcvn_enc: dict[str, str] = {}
    for base, letters in _TONED_VOWELS.items():
        for letter, byte in zip(letters, _TCVN3_VOWEL_BYTES[base]):
            tcvn_enc[letter] = byte
            # Capitals with a tone mark share the lower-case byte (see module docstring).
            tcvn_enc.setdefault(letter.upper(), byte if letter.upper() != letter else letter)
    tcvn_enc["đ"] = "®"
    for upper, byte in _TCVN3_UPPER_PLAIN.items():
        tcvn_enc[upper] = byte
    for ascii_upper in "AEIOUY":
        tcvn_enc[ascii_upper] = ascii_upper
    tcvn_dec = {byte: letter for letter, byte in tcvn_enc.items() if letter.islower() or letter in _TCVN3_UPPER_PLAIN}
    tcvn_dec.update({c: c for c in "aeiouyAEIOUY"})

    vni_enc: dict[str, str] = {}
    for upper, spellings in _VNI_UPPER.items():
        lower_letters = _TONED_VOWELS[upper.lower()]
        for lower_letter, spelling in zip(lower_letters, spellings):
            vni_enc[lower_letter.upper()] = spelling
            vni_enc[lower_letter] = spelling.lower()
    vni_enc["Đ"], vni_enc["đ"] = "Ñ", "ñ"
    vni_dec = {spelling: letter for letter, spelling in vni_enc.items() if len(spelling) > 1 or not spelling.isascii()}
    return tcvn_enc, tcvn_dec, vni_enc, vni_dec


_TCVN3_ENC, _TCVN3_DEC, _VNI_ENC, _VNI_DEC = _build_tables()
_TCVN3_ENC_TABLE = str.maketrans({k: v for k, v in _TCVN3_ENC.items() if k != v})
_TCVN3_DEC_TABLE = str.maketrans({k: v for k, v in _TCVN3_DEC.items() if k != v})
_VNI_ENC_TABLE = str.maketrans(_VNI_ENC)
# Longest spellings first so that a base letter is not decoded before its mark byte.
_VNI_DEC_RE = re.compile("|".join(re.escape(s) for s in sorted(_VNI_DEC, key=len, reverse=True)))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def encode_tcvn3(text: str) -> bytes:
    """Unicode text -> TCVN3 (ABC) bytes. Characters outside Vietnamese + Latin-1 raise UnicodeEncodeError."""
    return _nfc(text).translate(_TCVN3_ENC_TABLE).encode("latin-1")


_TCVN3_DEC_LOWER_TONED = frozenset(v for k, v in _TCVN3_DEC.items() if not k.isascii() and v.islower())


def _restore_capitals(text: str) -> str:
    """Upper-case the toned letters of words written in capitals.

    A word is in capitals when its other letters are (at least two of them). A word with a single
    other letter ("MỸ", "LỆ", "ẤP") follows the nearest such word on the same line, before it first.
    """
    return "".join(_restore_line(line) for line in text.splitlines(keepends=True))


_WORD = re.compile(r"(\w+)")


def _restore_line(line: str) -> str:
    pieces = _WORD.split(line)
    status = [_caps_status(piece) for piece in pieces]
    if True not in status:  # most lines: names in title case, nothing to restore
        return line
    known = [i for i, caps in enumerate(status) if caps is not None]
    out = []
    for i, piece in enumerate(pieces):
        if piece[:1].isalnum() and status[i] is None:
            before = [k for k in known if k < i]
            status[i] = status[before[-1] if before else known[0]]
        out.append(piece.upper() if status[i] else piece)
    return "".join(out)


@functools.lru_cache(maxsize=65536)  # names and places repeat on every line of a roll
def _caps_status(piece: str) -> bool | None:
    """True/False when the piece's own letters say whether it is in capitals, None when they cannot."""
    others = [c for c in piece if c.isalpha() and c not in _TCVN3_DEC_LOWER_TONED]
    if not piece[:1].isalnum() or not others:
        return None
    if len(others) >= 2 or not others[0].isupper():
        return all(c.isupper() for c in others)
    return None


def decode_tcvn3(data: bytes) -> str:
    """TCVN3 (ABC) bytes -> NFC text; words otherwise in capitals get their toned letters in capitals."""
    text = data.decode("latin-1").translate(_TCVN3_DEC_TABLE)
    return _nfc(_restore_capitals(text))


def encode_vni(text: str) -> bytes:
    """Unicode text -> VNI-Windows bytes (a Windows-1252 byte stream)."""
    return _nfc(text).translate(_VNI_ENC_TABLE).encode("cp1252")


def decode_vni(data: bytes) -> str:
    """VNI-Windows bytes -> NFC text."""
    return _nfc(_VNI_DEC_RE.sub(lambda m: _VNI_DEC[m.group(0)], data.decode("cp1252")))


def encode_cp1258(text: str) -> bytes:
    """Unicode text -> Windows-1258 bytes the way Windows writes them (base letter + combining tone)."""
    return b"".join(_cp1258_char(char) for char in _nfc(text))


@functools.lru_cache(maxsize=4096)
def _cp1258_char(char: str) -> bytes:
    if _in_cp1258(char):
        return char.encode("cp1258")
    decomposed = unicodedata.normalize("NFD", char)
    # The code page has the letters shaped by breve, circumflex and horn (ă â ê ô ơ ư); only the
    # tone mark is written as a combining character after them.
    shape = _nfc(decomposed[0] + "".join(m for m in decomposed[1:] if m in _SHAPE_MARKS))
    tones = "".join(m for m in decomposed[1:] if m not in _SHAPE_MARKS)
    return (shape + tones).encode("cp1258")


_SHAPE_MARKS = frozenset("\u0302\u0306\u031b")


def _in_cp1258(char: str) -> bool:
    try:
        char.encode("cp1258")
    except UnicodeEncodeError:
        return False
    return True


def decode_cp1258(data: bytes) -> str:
    """Windows-1258 bytes -> NFC text."""
    return _nfc(data.decode("cp1258"))


_CODECS = {
    "tcvn3": (encode_tcvn3, decode_tcvn3),
    "vni": (encode_vni, decode_vni),
    "cp1258": (encode_cp1258, decode_cp1258),
    "windows-1258": (encode_cp1258, decode_cp1258),
}


def is_known_encoding(encoding: str) -> bool:
    """True for the legacy Vietnamese encodings this module handles itself."""
    return encoding.lower() in _CODECS


def encode(text: str, encoding: str) -> bytes:
    """Encode with a legacy Vietnamese encoding name or any Python codec name."""
    codec = _CODECS.get(encoding.lower())
    return codec[0](text) if codec else text.encode(encoding)


def decode(data: bytes, encoding: str) -> str:
    """Decode legacy Vietnamese bytes (or any Python codec) to NFC text."""
    codec = _CODECS.get(encoding.lower())
    return codec[1](data) if codec else _nfc(data.decode(encoding))
