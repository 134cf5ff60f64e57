"""Vietnamese text normalisation for ingestion and person matching.

Pure Python, no network. Every parser raises a ``ParseError`` subclass whose ``code`` goes
into quarantine.
"""

from lienthong.text.addresses import CommuneMatch, CommuneRef, crosswalk, lookup_commune, resolve_commune
from lienthong.text.dates import BirthDate, parse_birth_date, parse_date
from lienthong.text.errors import ParseError
from lienthong.text.ids import PersonId, normalise_sex, parse_person_id
from lienthong.text.names import NameParts, is_syllable, name_key, normalise_name, split_name
from lienthong.text.phones import normalise_phone

__all__ = [
    "BirthDate",
    "CommuneMatch",
    "CommuneRef",
    "NameParts",
    "ParseError",
    "PersonId",
    "crosswalk",
    "is_syllable",
    "lookup_commune",
    "name_key",
    "normalise_name",
    "normalise_phone",
    "normalise_sex",
    "parse_birth_date",
    "parse_date",
    "parse_person_id",
    "resolve_commune",
    "split_name",
]
