"""Communes written in rosters, resolved to the communes of the new provinces (reform of 1 July
2025): the new Tây Ninh by default, or the provinces a caller names (``provinces``: the linking
policy's).

Data: the files shipped inside the ``vietnamadminunits`` package, read directly (its SQLite
``dataset.db`` for names and codes of the old and new units, its ``converter_2025.json`` for the
old→new crosswalk). Its Python modules are never imported: they load a geocoder client that its
converter calls over the network for split communes. Two crosswalk entries of that file mix up
the two old "Phường 4" (of Tây Ninh city and of Tân An) and are corrected below.

Resolution of one text such as "P.3, TP. Tây Ninh", "xa Tan Phu huyen Tan Chau", "Tân Ninh":

1. The text is cut at commas and at unit words (P. X. TT. H. TX. TP. phường, xã, thị trấn,
   huyện, thị xã, thành phố, tỉnh; kp, khu phố, ấp, tổ name hamlets, which are dropped).
2. The commune part is looked up among old and new names, with diacritics when the text has
   them (so "Tân Thành" and "Tân Thạnh" stay apart) and without otherwise; a unit word given
   ("TT." vs "Xã") narrows the choice.
3. The province first, when several are in scope: the one the text names (a new province, or
   an old one it was made of), else the roll's (``province``: its organisation's config says it)
   when the name is in it, else the only province where the name (with its district, if given)
   exists. A name found in
   two provinces with nothing to tell them apart is **not** guessed: ``ambiguous`` and
   ``province_ambiguous`` are True, ``candidates`` lists the communes of both.
   A district (only the old scheme has districts) or a retired province ("Long An") means the old
   scheme; otherwise a new name wins over an old one, as rosters since July 2025 mean the new
   commune.
4. An old commune is carried to the new one by the crosswalk. A commune divided among 2–3 new
   communes is **not** guessed: ``split`` is True, ``new_code`` is None and ``candidates``
   lists the possible new communes. A name that several old communes share with no district to
   tell them apart ("Phường 1") gives ``ambiguous`` True likewise.

Keys carry their scheme ("old:25459" is Phường 3, "new:25459" is Phường Tân Ninh) because codes
are reused with other meanings. Results, errors included, are cached per distinct input text.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

from lienthong.text.errors import AddressParseError
from lienthong.text.names import name_key, normalise_name

Scheme = Literal["old", "new"]
# New provinces by their key in the package: any of national_provinces(). Addresses are resolved in
# these unless a caller names others: the default deployment's, when no organisation config names a
# province (lienthong.config.organisations.deployed_provinces).
DEFAULT_PROVINCES = ("tinhtayninh",)
# Resolution 1682/NQ-UBTVQH15 merges each old "Phường 4" whole: Tây Ninh city's into Phường
# Tân Ninh, Tân An's into Phường Long An. The package lists both as split between those two.
_WHOLE_MERGERS = {"25462": "25459", "27691": "27694"}

# Unit words as key tokens: (tokens, kind, unit type).
_UNIT_WORDS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("thi", "tran"), "commune", "thitran"),
    (("dac", "khu"), "commune", "dackhu"),  # the island special zones (2025)
    (("thi", "xa"), "district", "thixa"),
    (("thanh", "pho"), "district", "thanhpho"),
    (("khu", "pho"), "hamlet", ""),
    (("tt",), "commune", "thitran"),
    (("phuong",), "commune", "phuong"),
    (("p",), "commune", "phuong"),
    (("f",), "commune", "phuong"),
    (("xa",), "commune", "xa"),
    (("x",), "commune", "xa"),
    (("huyen",), "district", "huyen"),
    (("h",), "district", "huyen"),
    (("tx",), "district", "thixa"),
    (("tp",), "district", "thanhpho"),
    (("quan",), "district", "quan"),
    (("q",), "district", "quan"),
    (("kp",), "hamlet", ""),
    (("ap",), "hamlet", ""),
    (("khom",), "hamlet", ""),
    (("to",), "hamlet", ""),
)
# "tỉnh" loses its diacritics to "tinh" as in "An Tịnh", so it counts only before a province.
# Unit words as written with diacritics: a word written with others is a name's ("Xã Phương Thịnh"
# is no "Phường"); a word without any may be either.
_ACCENTED = {"dac": "đặc", "phuong": "phường", "xa": "xã", "thi": "thị", "tran": "trấn", "thanh": "thành", "pho": "phố",
             "huyen": "huyện", "ap": "ấp", "to": "tổ", "khom": "khóm", "quan": "quận", "tinh": "tỉnh"}
_PROVINCE_WORDS = ("tinh", "t")
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7",
          "viii": "8", "ix": "9", "x": "10"}
_TYPE_KEYS = {"Phường": "phuong", "Xã": "xa", "Thị trấn": "thitran", "Đặc khu": "dackhu",
              "Huyện": "huyen", "Quận": "quan", "Thị xã": "thixa", "Thành phố": "thanhpho"}
_SEGMENTS = re.compile(r"[,;|]|\s-\s")
_TOKENS = re.compile(r"[^\W\d_]+|\d+")


@dataclass(frozen=True, slots=True)
class CommuneRef:
    """One commune of one scheme; ``district`` only exists in the old scheme."""

    scheme: Scheme
    code: str
    name: str
    province_code: str
    district: str | None = None

    @property
    def key(self) -> str:
        return f"{self.scheme}:{self.code}"


@dataclass(frozen=True, slots=True)
class CommuneMatch:
    """The outcome of resolving one text.

    ``new_code``/``new_name`` are set when exactly one new commune fits; ``old_code``/``old_name``
    when the text named exactly one old commune. ``candidates`` are the new communes that fit
    (one, or several when ``split`` or ``ambiguous``); ``old_candidates`` the old ones matched.
    """

    new_code: str | None
    new_name: str | None
    old_code: str | None
    old_name: str | None
    scheme_matched: Scheme
    split: bool
    candidates: tuple[CommuneRef, ...]
    ambiguous: bool = False
    old_candidates: tuple[CommuneRef, ...] = ()
    province_ambiguous: bool = False  # the name is in several provinces and nothing told which


@dataclass(frozen=True, slots=True)
class _Name:
    """An indexed name: the unit, its type key and its spelling with diacritics (None: alias)."""

    ref: CommuneRef | str  # a commune, or an old district code
    unit_type: str
    accent: str | None


@dataclass(frozen=True, slots=True)
class _Piece:
    """Words of one unit with the unit word that introduced it (kind None: no unit word)."""

    kind: str | None
    unit_type: str
    plain_words: tuple[str, ...]
    accent_words: tuple[str, ...]

    @property
    def plain(self) -> str:
        return "".join(self.plain_words)

    @property
    def accent(self) -> str:
        return "".join(self.accent_words)

    @classmethod
    def of(cls, kind: str | None, unit_type: str, plain: list[str], accent: list[str]) -> _Piece:
        """A piece of these words, numbers read: "03" is 3 and, for a commune named by the number
        alone, "IV" is 4 (numbered wards are written all these ways; "Vị" of "Xã Vị Thủy" is no 6)."""
        return cls(kind, unit_type, tuple(_number(w, kind, len(plain) == 1) for w in plain),
                   tuple(_number(w, kind, len(accent) == 1) for w in accent))

    def cut(self, at: int) -> tuple[_Piece, _Piece]:
        """This piece's first ``at`` words, and the rest as a piece without unit word."""
        head = _Piece.of(self.kind, self.unit_type, list(self.plain_words[:at]), list(self.accent_words[:at]))
        return head, _Piece(None, "", self.plain_words[at:], self.accent_words[at:])


@dataclass(frozen=True, slots=True)
class _Index:
    old: dict[str, CommuneRef]
    new: dict[str, CommuneRef]
    old_to_new: dict[str, tuple[CommuneRef, ...]]
    old_district_of: dict[str, str]
    communes: dict[str, tuple[_Name, ...]]
    districts: dict[str, tuple[_Name, ...]]
    province_of: dict[str, str]  # commune key (either scheme) -> code of its new province
    provinces: dict[str, str]  # province name key ("tayninh", "longan") -> code of its new province
    province_names: dict[str, str]  # province name ("Tỉnh Long An") -> code of its new province
    old_provinces: dict[str, str]  # old province name key -> its old code ("tayninh" -> "72")
    codes: dict[str, str]  # new province key ("tinhtayninh") -> its code ("80")
    retired: frozenset[str]  # old provinces that are none any more ("longan"): naming one means the old scheme


def _data_dir() -> Path:
    # find_spec locates the package without running its __init__ (which imports the geocoder).
    spec = find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the vietnamadminunits package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@lru_cache(maxsize=1)
def national_provinces() -> tuple[str, ...]:
    """Every new province (2025) the package converts, by key: the 34 the parser can read."""
    converter = json.loads((_data_dir() / "converter_2025.json").read_text(encoding="utf-8"))
    return tuple(converter["DICT_PROVINCE_WARD_NO_DIVIDED"])


def _plain(text: str) -> str:
    return name_key(text).replace(" ", "")


def _accent(text: str) -> str:
    return normalise_name(text).lower().replace(" ", "")


def _short(name: str, unit_type: str) -> str:
    return name[len(unit_type) + 1 :] if name.startswith(unit_type + " ") else name


def _alias_names(aliases: str | None, ref: CommuneRef | str) -> list[tuple[str, _Name]]:
    """The package's former names ("thitranhoathanh") that start with a full unit word."""
    found = []
    for alias in json.loads(aliases or "[]"):
        for type_key in _TYPE_KEYS.values():
            if alias.startswith(type_key) and len(alias) > len(type_key):
                found.append((alias[len(type_key) :], _Name(ref, type_key, None)))
                break
    return found


def _province_key(name: str) -> str:
    """"Tỉnh Long An" -> "longan"."""
    for word in ("Tỉnh ", "Thành phố "):
        if name.startswith(word):
            name = name[len(word):]
    return _plain(name)


@lru_cache(maxsize=4)
def _index(scope: tuple[str, ...] = DEFAULT_PROVINCES) -> _Index:
    """The communes of the new provinces ``scope`` (package keys) and of the old ones they were made of."""
    data = _data_dir()
    converter = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
    # The old provinces of each new one: the first part of the converter's old keys.
    new_of_old = {old.split("_")[0]: key for key in scope
                  for olds in converter["DICT_PROVINCE_WARD_NO_DIVIDED"][key].values() for old in olds}
    with sqlite3.connect(f"file:{data / 'dataset.db'}?mode=ro", uri=True) as conn:
        old_rows = conn.execute(
            "SELECT wardCode, ward, wardType, wardAlias, provinceCode, districtCode, district,"
            " districtType, districtAlias, provinceKey, districtKey, wardKey, province"
            # (an island district without communes has a row with no ward: not a commune)
            f" FROM admin_units_legacy WHERE provinceKey IN ({', '.join('?' * len(new_of_old))})"
            " AND wardCode IS NOT NULL ORDER BY wardCode",
            tuple(new_of_old),
        ).fetchall()
        new_rows = conn.execute(
            "SELECT wardCode, ward, wardType, wardKey, provinceKey, provinceCode, province FROM admin_units"
            f" WHERE provinceKey IN ({', '.join('?' * len(scope))}) ORDER BY wardCode",
            scope,
        ).fetchall()

    communes: dict[str, list[_Name]] = defaultdict(list)
    districts: dict[str, list[_Name]] = defaultdict(list)
    new: dict[str, CommuneRef] = {}
    new_by_key: dict[tuple[str, str], CommuneRef] = {}
    codes: dict[str, str] = {}
    province_names: dict[str, str] = {}
    for code, name, unit_type, ward_key, province_key, province_code, province in new_rows:
        ref = new[code] = new_by_key[province_key, ward_key] = CommuneRef("new", code, name, province_code)
        codes[province_key] = province_names[province] = province_code
        short = _short(name, unit_type)
        communes[_plain(short)].append(_Name(ref, _TYPE_KEYS[unit_type], _accent(short)))

    old: dict[str, CommuneRef] = {}
    old_by_key: dict[str, str] = {}
    old_district_of: dict[str, str] = {}
    old_provinces: dict[str, str] = {}
    seen_districts: set[str] = set()
    for (code, name, unit_type, aliases, province, district_code, district, district_type,
         district_aliases, province_key, district_key, ward_key, province_name) in old_rows:
        ref = old[code] = CommuneRef("old", code, name, province, district)
        old_by_key[f"{province_key}_{district_key}_{ward_key}"] = code
        old_district_of[code] = district_code
        old_provinces[_province_key(province_name)] = province
        province_names.setdefault(province_name, codes[new_of_old[province_key]])
        short = _short(name, unit_type)
        communes[_plain(short)].append(_Name(ref, _TYPE_KEYS[unit_type], _accent(short)))
        for key, alias in _alias_names(aliases, ref):
            communes[key].append(alias)
        if district_code not in seen_districts:
            seen_districts.add(district_code)
            district_short = _short(district, district_type)
            districts[_plain(district_short)].append(
                _Name(district_code, _TYPE_KEYS[district_type], _accent(district_short)))
            for key, alias in _alias_names(district_aliases, district_code):
                districts[key].append(alias)

    old_to_new: dict[str, tuple[CommuneRef, ...]] = {}
    for key in scope:
        for new_key, old_keys in converter["DICT_PROVINCE_WARD_NO_DIVIDED"][key].items():
            # An island district without communes ("…_huyenhoangsa_") became a special zone whole.
            for old_key in (k for k in old_keys if k in old_by_key):
                old_to_new[old_by_key[old_key]] = (new_by_key[key, new_key],)
        for old_key, parts in converter["DICT_PROVINCE_WARD_DIVIDED"].get(key, {}).items():
            old_to_new[old_by_key[old_key]] = tuple(new_by_key[key, p["newWardKey"]] for p in parts)
    for old_code, new_code in _WHOLE_MERGERS.items():
        if old_code in old:
            old_to_new[old_code] = (new[new_code],)
    missing = set(old) - set(old_to_new)
    if missing:
        raise RuntimeError(f"old communes without a crosswalk entry: {sorted(missing)}")
    province_of = {ref.key: ref.province_code for ref in new.values()}
    province_of.update({old[code].key: targets[0].province_code for code, targets in old_to_new.items()})

    return _Index(
        old=old,
        new=new,
        old_to_new=old_to_new,
        old_district_of=old_district_of,
        communes={k: tuple(v) for k, v in communes.items()},
        districts={k: tuple(v) for k, v in districts.items()},
        province_of=province_of,
        provinces={_province_key(name): code for name, code in province_names.items()},
        province_names=province_names,
        old_provinces=old_provinces,
        codes=codes,
        # An old province whose name no new province took (Long An, Tiền Giang).
        retired=frozenset(k for k in old_provinces if k not in {_province_key(r[6]) for r in new_rows}),
    )


def _unit_word(plain: list[str], words: list[str], i: int, index: _Index) -> tuple[int, str, str] | None:
    """(length, kind, unit type) of the unit word starting at word ``i``, if one does."""
    for tokens, kind, unit_type in _UNIT_WORDS:
        if tuple(plain[i : i + len(tokens)]) == tokens and all(
                words[j] in (plain[j], _ACCENTED.get(plain[j], plain[j])) for j in range(i, i + len(tokens))):
            return len(tokens), kind, unit_type
    if plain[i] in _PROVINCE_WORDS and "".join(plain[i + 1 :]) in index.provinces:
        return 1, "province", ""
    return None


def _pieces(text: str, index: _Index) -> list[_Piece]:
    """Cut a text at commas and unit words into pieces; a unit word without a name is dropped."""
    pieces: list[_Piece] = []
    for segment in _SEGMENTS.split(text):
        words = _TOKENS.findall(normalise_name(segment).lower())
        plain = [name_key(w) for w in words]
        groups: list[tuple[str | None, str, list[int]]] = [(None, "", [])]
        i = 0
        while i < len(words):
            found = _unit_word(plain, words, i, index)
            if found is None:
                groups[-1][2].append(i)
                i += 1
            else:
                groups.append((found[1], found[2], []))
                i += found[0]
        pieces.extend(
            _Piece.of(kind, unit_type, [plain[j] for j in indexes], [words[j] for j in indexes])
            for kind, unit_type, indexes in groups
            if indexes
        )
    return pieces


def _number(token: str, kind: str | None, alone: bool) -> str:
    if token.isdigit():
        return str(int(token))
    if alone and kind in ("commune", None) and token in _ROMAN:
        return _ROMAN[token]
    return token


def _narrow(names: tuple[_Name, ...], piece: _Piece) -> list[_Name]:
    """Keep the names spelt like the piece (if any are) and of its unit type (if any are)."""
    found = list(names)
    if piece.accent != piece.plain:
        same = [n for n in found if n.accent in (piece.accent, None)]
        found = same or found
    if piece.unit_type:
        typed = [n for n in found if n.unit_type == piece.unit_type]
        found = typed or found
    return found


def _unique(refs: list[CommuneRef]) -> tuple[CommuneRef, ...]:
    return tuple(dict.fromkeys(refs))


def _match_commune(piece: _Piece, district_codes: set[str], province: str | None, home: str | None,
                   index: _Index) -> CommuneMatch | None:
    names = _narrow(index.communes.get(piece.plain, ()), piece)
    refs = [n.ref for n in names if isinstance(n.ref, CommuneRef)]
    # The province first: the one the text names, else the roll's (``home``) when the name is in it
    # (a member living across the border writes a commune of the other province), else the only one
    # the name is in (within the district the text names, if any).
    target = index.provinces[province] if province else None
    if not target and home and any(index.province_of[r.key] == home for r in refs):
        target = home
    if target:
        refs = [r for r in refs if index.province_of[r.key] == target]
    new = _unique([r for r in refs if r.scheme == "new"])
    old = _unique([r for r in refs if r.scheme == "old"])
    in_district = tuple(r for r in old if index.old_district_of[r.code] in district_codes)
    if not target and len({index.province_of[r.key] for r in in_district or refs}) > 1:
        return _across_provinces(in_district or refs, index)
    in_province = tuple(r for r in old if r.province_code == index.old_provinces.get(province or ""))
    if in_district:
        old = in_district
    elif new and not (province in index.retired and in_province):
        return _result("new", new, ())
    else:
        old = in_province or old
    if not old:
        return None
    targets = _unique([t for r in old for t in index.old_to_new[r.code]])
    return _result("old", targets, old, split=any(len(index.old_to_new[r.code]) > 1 for r in old))


def _result(scheme: Scheme, candidates: tuple[CommuneRef, ...], old: tuple[CommuneRef, ...],
            split: bool = False) -> CommuneMatch:
    one_new = candidates[0] if len(candidates) == 1 else None
    one_old = old[0] if len(old) == 1 else None
    return CommuneMatch(
        new_code=one_new.code if one_new else None,
        new_name=one_new.name if one_new else None,
        old_code=one_old.code if one_old else None,
        old_name=one_old.name if one_old else None,
        scheme_matched=scheme,
        split=split,
        candidates=candidates,
        ambiguous=len(old) > 1 or (scheme == "new" and len(candidates) > 1),
        old_candidates=old,
    )


def _across_provinces(refs: list[CommuneRef] | tuple[CommuneRef, ...], index: _Index) -> CommuneMatch:
    """A name in several provinces, none named: every commune it may be, none chosen."""
    old = _unique([r for r in refs if r.scheme == "old"])
    candidates = _unique([r for r in refs if r.scheme == "new"] + [t for r in old for t in index.old_to_new[r.code]])
    return CommuneMatch(new_code=None, new_name=None, old_code=None, old_name=None,
                        scheme_matched="new" if len(old) < len(refs) else "old", split=False,
                        candidates=candidates, ambiguous=True, old_candidates=old, province_ambiguous=True)


def _hints(piece: _Piece, index: _Index) -> tuple[set[str], str | None]:
    """Old district codes and province key that a piece may name."""
    districts: set[str] = set()
    if piece.kind in ("district", None):
        districts = {n.ref for n in _narrow(index.districts.get(piece.plain, ()), piece)}  # type: ignore[misc]
    province = piece.plain if piece.kind in ("province", None) and piece.plain in index.provinces else None
    return districts, province


def _match_with_hints(piece: _Piece, others: list[_Piece], home: str | None, index: _Index) -> CommuneMatch | None:
    district_codes: set[str] = set()
    province: str | None = None
    for other in others:
        codes, named = _hints(other, index)
        district_codes |= codes
        province = named or province
    return _match_commune(piece, district_codes, province, home, index)


@lru_cache(maxsize=1 << 18)
def _resolve(text: str, scope: tuple[str, ...], home: str | None) -> CommuneMatch | str:
    """The match, or the reason code of the failure (a code, not an exception, is cached)."""
    index = _index(scope)
    if home is not None and home not in index.codes:
        return "unknown_province"
    home = index.codes.get(home)
    pieces = _pieces(text, index)
    order = [i for i, p in enumerate(pieces) if p.kind == "commune"]
    order += [i for i, p in enumerate(pieces) if p.kind is None]
    if not order:
        return "missing_commune"
    for i in order:
        # The piece read as the commune is not also its own district ("Tân Châu").
        others = pieces[:i] + pieces[i + 1 :]
        match = _match_with_hints(pieces[i], others, home, index)
        if match is not None:
            return match
        # No comma before the district: "F4 Tân An", "Phường 3 Tây Ninh".
        for at in range(len(pieces[i].plain_words) - 1, 0, -1):
            head, rest = pieces[i].cut(at)
            if rest.plain in index.districts or rest.plain in index.provinces:
                match = _match_with_hints(head, [*others, rest], home, index)
                if match is not None:
                    return match
    return "unknown_commune"


def resolve_commune(text: str, province: str | None = None,
                    provinces: tuple[str, ...] = DEFAULT_PROVINCES) -> CommuneMatch:
    """Resolve a commune written in a roster to a commune of the new ``provinces`` (package keys;
    the new Tây Ninh by default), see the module docstring. ``province``: the roll's province (its
    organisation's config), used when the text names none.

    Raises ``AddressParseError`` with code ``missing_address`` (blank), ``missing_commune`` (only
    a district, province or hamlet), ``unknown_commune`` (no commune of the provinces fits) or
    ``unknown_province`` (``province`` is not one of ``provinces``).
    """
    text = " ".join(str(text or "").split())
    if not text:
        raise AddressParseError("missing_address", text)
    outcome = _resolve(text, tuple(provinces), province)
    if isinstance(outcome, str):
        raise AddressParseError(outcome, text)
    return outcome


@lru_cache(maxsize=1 << 14)
def lookup_commune(scheme: Scheme, code: str) -> CommuneRef:
    """The commune with this code in this scheme, in any province (codes are national); KeyError if
    there is none."""
    # Read by its code alone: building the index of all 34 provinces for one lookup takes a second.
    sql = ("SELECT wardCode, ward, provinceCode, NULL FROM admin_units WHERE wardCode = ?" if scheme == "new" else
           "SELECT wardCode, ward, provinceCode, district FROM admin_units_legacy WHERE wardCode = ?")
    with sqlite3.connect(f"file:{_data_dir() / 'dataset.db'}?mode=ro", uri=True) as conn:
        row = conn.execute(sql, (code,)).fetchone()
    if row is None:
        raise KeyError(f"{scheme}:{code}")
    return CommuneRef(scheme, *row)


def province_names(provinces: tuple[str, ...] = DEFAULT_PROVINCES) -> dict[str, str]:
    """The names of the new ``provinces`` and of the old ones they were made of ("Tỉnh Long An"),
    each with the code of its new province ("80")."""
    return dict(_index(tuple(provinces)).province_names)


def province_codes(provinces: tuple[str, ...] = DEFAULT_PROVINCES) -> dict[str, str]:
    """The code of each of the new ``provinces`` (package keys): ``{"tinhtayninh": "80"}``."""
    return {key: _national_codes()[key] for key in provinces}


@lru_cache(maxsize=1)
def _national_codes() -> dict[str, str]:
    # Read alone: the dbt project's rendering needs the codes of the provinces, not their index.
    with sqlite3.connect(f"file:{_data_dir() / 'dataset.db'}?mode=ro", uri=True) as conn:
        return dict(conn.execute("SELECT DISTINCT provinceKey, provinceCode FROM admin_units").fetchall())


def former_names(provinces: tuple[str, ...] = DEFAULT_PROVINCES) -> tuple[tuple[str, CommuneRef], ...]:
    """The old communes' former names that ``resolve_commune`` also reads, each as its key with its
    unit word ("xamybinh") and the commune it names (the warehouse's alias seed carries them)."""
    index = _index(tuple(provinces))
    return tuple(sorted(((name.unit_type + key, name.ref) for key, names in index.communes.items()
                         for name in names if name.accent is None and isinstance(name.ref, CommuneRef)),
                        key=lambda pair: (pair[0], pair[1].key)))


def crosswalk(provinces: tuple[str, ...] = DEFAULT_PROVINCES) -> tuple[tuple[CommuneRef, tuple[CommuneRef, ...]], ...]:
    """Every old commune of the old provinces that made the new ``provinces`` (old Tây Ninh and old
    Long An by default) with its new commune(s), by old code."""
    index = _index(tuple(provinces))
    return tuple((index.old[code], index.old_to_new[code]) for code in sorted(index.old))
