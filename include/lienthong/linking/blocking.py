"""Blocking rules: which pairs of records are scored at all.

Each rule is an equi-join on keys that a true pair shares despite the sample's noise, chosen so
that candidate pairs grow about linearly with the records (every key includes a rare part: an id,
a phone, a given name with a birth year or date):

- same id number; same phone;
- same given name, family name and birth year (covers typo'd ids, missing ids and phones,
  year-only and swapped dates);
- same family and middle names and full birth date (covers a typo in the given name);
- same family and middle names, birth year and hamlet (a typo in the given name where one side
  has the year only or a 01/01 placeholder);
- same given and family names and hamlet (a blank birth date next to a missing phone or an ID of
  the other kind: CMND in one roll, CCCD in the other).

Training uses its own rules (exact id; given + family + birth date) so that each comparison is
trained on pairs not blocked on it.
"""
from __future__ import annotations

from splink import block_on

PREDICTION_KEYS = (
    ("id_number",),
    ("phone",),
    ("given_key", "family_key", "birth_year"),
    ("family_key", "middle_key", "birth_date"),
    ("family_key", "middle_key", "birth_year", "hamlet_key"),
    ("given_key", "family_key", "hamlet_key"),
)
PREDICTION_RULES = [block_on(*keys) for keys in PREDICTION_KEYS]

# Deterministic rules for the prior: records that agree on these are almost surely one person.
DETERMINISTIC_RULES = [
    block_on("id_number"),
    block_on("given_key", "family_key", "middle_key", "birth_date"),
]

TRAINING_RULES = [
    block_on("id_number"),
    block_on("given_key", "family_key", "birth_date"),
]
