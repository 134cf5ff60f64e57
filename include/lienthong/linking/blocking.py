"""Blocking rules: which pairs of records are scored at all.

Each rule is an equi-join on keys that a true pair shares despite the sample's noise, chosen so
that candidate pairs grow about linearly with the records: every key includes a rare part (an id,
a phone, a full birth date) or a place (the commune's area, ``commune_area``). A name and a year,
or a hamlet key ("ap 3", "kp 1" repeat in every commune), are not rare at a province: without the
commune those rules' blocks grew with the square of the records (142M candidate pairs for 1.6M
records, docs/linking.md, "Thirteenth round"):

- same id number; same phone;
- same given name, family name and birth year in one commune area (covers typo'd ids, missing ids
  and phones, year-only and swapped dates);
- the same in one hamlet key whatever the commune (the two records' communes read as different
  ones: an old commune name that the reference resolves to another new commune, or to several);
- same given name, family name and full birth date (the same for a mover, whose other records
  name another commune; a dropped middle name);
- same family and middle names and full birth date (covers a typo in the given name);
- same family name, birth year, hamlet and commune area (a typo in the given name where one side
  has the year only or a 01/01 placeholder, the middle name dropped or not);
- same given and family names, hamlet and commune area (a blank birth date next to a missing phone
  or an ID of the other kind: CMND in one roll, CCCD in the other);
- same family name, full birth date and hamlet (a typo in the given name where the other record
  drops the middle name: "Nguyễn Hoàng Ảbo" / "Nguyễn Bảo");
- same family name and last six digits of the ID (a typo in the ID's first six digits, the
  province, century and year of a CCCD, which also gives a record without a date the wrong year or
  none, next to a move or a typo'd given name: no other rule reaches them; the last six digits of a
  CCCD are random, so the blocks stay small);
- same given and family names and first nine digits of the ID (a typo in its last three digits next
  to a move: the name-and-year rules reach them only in one place; the family name alone is not
  enough: a CCCD's first nine digits hold a province, a year and three digits that repeat, 7.4M
  pairs on the province sample);
- each rule on the commune area again, with one record's other area (``commune_area_alt``) against
  the other's area, both ways round: an old commune name the reference reads as new communes of two
  areas ("Xã Phước Đông": Phường Gia Lộc or Xã Tân Lân, candidates "25672 28138") is compared with a
  record in either, not only in its first candidate's (docs/linking.md, "Fourteenth round").

A key is a column, or a part of one (``DERIVED_KEYS``). A commune area is the record's commune (its
code, else the first of its candidates) taken to the smallest code of the new communes that old
communes were split between (``commune_areas``): a record naming a split old commune has those new
communes as candidates and no code, and its person's other records may name any one of them. A
record's other area is its last candidate's, when it has no code and that area is not the first's.
Both are stored with a record's features (``commune_area_keys``), so every engine and a night's
candidates in PostgreSQL block on columns: as SQL an area is a CASE of about 300 codes, which
Splink would parse again for every query it builds (a linking test's set-up took 4× as long) and
every engine would evaluate in every join (a night's candidates: docs/linking.md, "A night's
candidates on stored commune areas").

A record without a year of birth is blocked with the year its CCCD carries (``engine``).

A night scores the changed records against those they can be blocked with (``candidates_sql``)
rather than against every record.

Training uses its own rules (exact id; given + family + birth date) so that each comparison is
trained on pairs not blocked on it.
"""
from __future__ import annotations

from functools import lru_cache

from splink import block_on
from splink.blocking_rule_library import CustomRule

from lienthong.text import crosswalk
from lienthong.text.addresses import national_provinces

ID_TAIL_DIGITS = 6
ID_HEAD_DIGITS = 9
# A record's commune: its code, else the first of its candidates (``{p}``: the table's prefix).
COMMUNE_UNIT_SQL = "coalesce({p}commune_code, split_part({p}commune_candidates, ' ', 1))"


@lru_cache(maxsize=1)
def commune_areas() -> dict[str, str]:
    """New commune code -> its area's smallest code. An area is the new communes that old communes
    were split between (transitively): a record naming a split old commune has all of them as
    candidates and no code, and its person's other records may name either new one; an area keeps
    them together (in one partition, ``partitions``; in one block, ``commune_area``). Codes in no
    split are their own area and not listed."""
    parent: dict[str, str] = {}

    def find(code: str) -> str:
        parent.setdefault(code, code)
        while parent[code] != code:
            parent[code] = parent[parent[code]]
            code = parent[code]
        return code

    for _, new in crosswalk(national_provinces()):
        first, *rest = sorted(ref.code for ref in new)
        for code in rest:
            a, b = sorted((find(first), find(code)))
            parent[b] = a
    return {code: find(code) for code in parent}


def commune_area_keys(commune_code: str | None, commune_candidates: str | None) -> tuple[str | None, str | None]:
    """A record's ``commune_area`` and ``commune_area_alt``: the area of its commune (its code, else
    its first candidate), and the area of its last candidate when it has no code and that area is
    not the first's (an old commune name the reference reads as communes of two areas: "25672
    28138"), else None. Stored with its features (``records.prepare``): every engine and a night's
    candidates in PostgreSQL block on them as columns."""
    candidates = commune_candidates.split(" ") if isinstance(commune_candidates, str) else None
    unit = commune_code if isinstance(commune_code, str) else candidates[0] if candidates else None
    if unit is None:
        return None, None
    areas = commune_areas()
    area = areas.get(unit, unit)
    if isinstance(commune_code, str) or candidates is None:
        return area, None
    last = areas.get(candidates[-1], candidates[-1])
    return area, (last if last != area else None)


# Keys that are part of a column: the SQL (``{p}``: the table's prefix), which DuckDB and Spark (Splink)
# and PostgreSQL (a night's candidates) read alike, and the same over a feature row.
DERIVED_KEYS = {
    "id_tail": (f"right({{p}}id_number, {ID_TAIL_DIGITS})",
                lambda row: row["id_number"][-ID_TAIL_DIGITS:] if isinstance(row.get("id_number"), str) else None),
    "id_head": (f"left({{p}}id_number, {ID_HEAD_DIGITS})",
                lambda row: row["id_number"][:ID_HEAD_DIGITS] if isinstance(row.get("id_number"), str) else None),
}

_PLAIN_KEYS = (
    ("id_number",),
    ("phone",),
    ("given_key", "family_key", "birth_year", "commune_area"),
    ("given_key", "family_key", "birth_year", "hamlet_key"),
    ("given_key", "family_key", "birth_date"),
    ("family_key", "middle_key", "birth_date"),
    ("family_key", "birth_year", "hamlet_key", "commune_area"),
    ("given_key", "family_key", "hamlet_key", "commune_area"),
    ("family_key", "birth_date", "hamlet_key"),
    ("family_key", "id_tail"),
    ("given_key", "family_key", "id_head"),
)
# A key of a rule is a column (or part of one) that both records share, or a pair ``(a, b)``: the
# left record's ``a`` is the right one's ``b``. Each rule on the commune area again with a record's
# other area (``commune_area_alt``) against the other record's area, both ways round (Splink pairs a
# record with those of larger uid only): an old commune name read as new communes of two areas
# ("25672 28138") is then compared with records of either, not only of its first candidate's.
CROSSED_AREAS = (("commune_area_alt", "commune_area"), ("commune_area", "commune_area_alt"))
PREDICTION_KEYS = _PLAIN_KEYS + tuple(
    tuple(crossed if key == "commune_area" else key for key in keys)
    for crossed in CROSSED_AREAS for keys in _PLAIN_KEYS if "commune_area" in keys)


def key_sql(key: str, prefix: str = "") -> str:
    """A key as SQL over a table whose columns are written ``<prefix>column``."""
    if key not in DERIVED_KEYS:
        return f"{prefix}{key}"
    return DERIVED_KEYS[key][0].format(p=prefix)


def key_value(row: dict, key: str):
    """A key's value for a feature row (None when it has none)."""
    return DERIVED_KEYS[key][1](row) if key in DERIVED_KEYS else row.get(key)


def sides(key: str | tuple[str, str]) -> tuple[str, str]:
    """A rule's key as (the left record's key, the right record's)."""
    return key if isinstance(key, tuple) else (key, key)


def rule_label(keys: tuple) -> str:
    """A rule's name: its keys, a crossed pair as ``a = b``."""
    return " + ".join(" = ".join(dict.fromkeys(sides(key))) for key in keys)


def agrees(left: dict, right: dict, key: str | tuple[str, str]) -> bool:
    """Whether two feature rows agree on a rule's key (a missing value agrees with nothing)."""
    a, b = sides(key)
    value = key_value(left, a)
    return value is not None and value == key_value(right, b)


@lru_cache(maxsize=1)
def prediction_rules() -> list:
    """Splink's blocking rules for ``PREDICTION_KEYS``."""
    def side_sql(key: str, side: str) -> str:  # quoted, so that Splink renders it for Spark too
        return key_sql(key, f"{side}.") if key in DERIVED_KEYS else f'{side}."{key}"'

    return [block_on(*(key_sql(k) for k in keys))
            if all(isinstance(k, str) for k in keys)
            else CustomRule(" and ".join(f"{side_sql(sides(k)[0], 'l')} = {side_sql(sides(k)[1], 'r')}" for k in keys),
                            "duckdb")
            for keys in PREDICTION_KEYS]

# Deterministic keys for the prior: records that agree on these are almost surely one person.
DETERMINISTIC_KEYS = (
    ("id_number",),
    ("given_key", "family_key", "middle_key", "birth_date"),
)
TRAINING_KEYS = (
    ("id_number",),
    ("given_key", "family_key", "birth_date"),
)
# Rolls with no ID numbers or with years of birth only give the keys above no pair at all (Splink
# then fails to train, or puts the prior at zero and links nobody): each set falls back to this.
FALLBACK_KEYS = {
    DETERMINISTIC_KEYS: (("given_key", "family_key", "middle_key", "birth_year", "commune_code"),),
    # Each comparison is trained by a rule that does not block on it: given, family and birth by
    # the second, third and first rule's complements.
    TRAINING_KEYS: (("given_key", "family_key", "birth_year"),
                    ("family_key", "middle_key", "birth_year", "hamlet_key"),
                    ("given_key", "middle_key", "hamlet_key")),
}


def rules_with_pairs(keys: tuple[tuple[str, ...], ...], has_pair) -> list:
    """Blocking rules for those of ``keys`` under which the input has a pair (``has_pair(key)``),
    else for the fallback keys."""
    found = [block_on(*key) for key in keys if has_pair(key)]
    return found or [block_on(*key) for key in FALLBACK_KEYS[keys] if has_pair(key)]


def candidates_sql(changed: str, records: str = "identity.records") -> str:
    """SQL for the uids of ``records`` that the records of ``changed`` (a table of ``record_uid``s)
    can be blocked with, those included: sharing every key of a prediction rule, a missing year of
    birth on either side counting as any year (scoring reads a CCCD's year there, ``backends``)."""

    def agree(key: str | tuple[str, str]) -> str:
        if key == "birth_year":
            return "(r.birth_year = n.birth_year or r.birth_year is null or n.birth_year is null)"
        # Each crossed rule comes both ways round: the changed record on its left side covers both.
        a, b = sides(key)
        return f"{key_sql(a, 'n.')} = {key_sql(b, 'r.')}"

    rules = [f"select r.record_uid from {records} n join {changed} c on c.record_uid = n.record_uid "
             f"join {records} r on {' and '.join(agree(k) for k in keys)}" for keys in PREDICTION_KEYS]
    return "\nunion\n".join([f"select record_uid from {changed}"] + rules)
