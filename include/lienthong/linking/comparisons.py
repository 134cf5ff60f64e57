"""The Splink model's comparisons, which know Vietnamese names, dates, ids and the 2025 communes.

- Names are compared by part. Family and middle names are few and very common (Nguyễn, Văn,
  Thị), so their exact-match levels carry term-frequency adjustments and weigh little; the given
  name carries most of the identity, with a level for one edit (a dropped, doubled or swapped
  letter). All on diacritic-free keys, so NFC/NFD, tone placement, case and spaces do not matter.
- Birth dates: exact (two 01/01 placeholders are not the same date); day and month swapped; one side known only by its year or by a 01/01
  placeholder (same year); same year otherwise.
- IDs: exact, or one Damerau-Levenshtein edit (a digit typo or two adjacent digits swapped);
  a CCCD never compares with a CMND (different numbers of the same person).
- Roll: the same organisation's roll or another. A member is listed once on a roll, so two entries
  on one roll are most often two people (namesakes, twins in one youth union branch) and one
  person's records are mostly on different rolls; EM learns how much (the m is floored, so a
  duplicate entry on one roll is no veto).
- Address: same new commune and hamlet, same commune, or overlapping candidates when an old
  split commune could not be resolved (with the same hamlet key, then without): a roll that still
  writes the pre-2025 name of a split commune names the person's hamlet as well, and the hamlet
  tells the one record from a namesake elsewhere in the old commune.

The levels' SQL is written once, for both engines Splink runs on (``backends``: DuckDB and Spark).
Splink renders its own levels for each; the custom conditions here are plain SQL both engines read
alike (``substr``, ``=``, ``is null``), except where one is spelt per engine in ``_PER_DIALECT``,
the one place for SQL that differs between them. A trained model (Splink's JSON, which carries the
rendered SQL) is stored in DuckDB's dialect and rendered for the engine by ``for_dialect``.
"""
from __future__ import annotations

import copy

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator

from lienthong.linking.blocking import prediction_rules

TF_COLUMNS = ("given_key", "family_key", "middle_key")
_SWAPPED = ("substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
            "and substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
            "and substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)")

# A 01/01 date is most often a placeholder for an unknown day and month: read as the year only.
_YEAR_ONLY = "(birth_date_{side} is null or substr(birth_date_{side}, 6, 5) = '01-01')"

# Conditions the engines spell differently (sqlglot renders DuckDB's list_has_any as Spark's
# `&&`, which Spark does not parse).
_PER_DIALECT = {
    "candidates_overlap": {
        "duckdb": "list_has_any(string_split(commune_candidates_l, ' '), string_split(commune_candidates_r, ' '))",
        "spark": "arrays_overlap(split(commune_candidates_l, ' '), split(commune_candidates_r, ' '))",
    },
    "candidates_overlap_same_hamlet": {
        "duckdb": "list_has_any(string_split(commune_candidates_l, ' '), string_split(commune_candidates_r, ' ')) "
                  "and hamlet_key_l = hamlet_key_r",
        "spark": "arrays_overlap(split(commune_candidates_l, ' '), split(commune_candidates_r, ' ')) "
                 "and hamlet_key_l = hamlet_key_r",
    },
}
STORED_DIALECT = "duckdb"


class _PerDialectLevel(ComparisonLevelCreator):
    """A custom level whose condition is spelt per engine (``_PER_DIALECT``)."""

    def __init__(self, name: str, label: str):
        self.name, self.label = name, label

    def create_sql(self, sql_dialect) -> str:
        spellings = _PER_DIALECT[self.name]
        if sql_dialect.sql_dialect_str not in spellings:
            raise ValueError(f"comparison level {self.name!r} has no SQL for {sql_dialect.sql_dialect_str}: "
                             f"add it to _PER_DIALECT in {__name__}")
        return spellings[sql_dialect.sql_dialect_str]

    def create_label_for_charts(self) -> str:
        return self.label


def _null_level(condition: str) -> cll.CustomLevel:
    return cll.CustomLevel(condition, "null").configure(is_null_level=True)


def _name_part(column: str, description: str, *, typo_level: bool) -> cl.CustomComparison:
    levels = [cll.NullLevel(column), cll.ExactMatchLevel(column, term_frequency_adjustments=True)]
    if typo_level:
        levels.append(cll.DamerauLevenshteinLevel(column, 1))
    levels.append(cll.ElseLevel())
    return cl.CustomComparison(levels, column, description)


def comparisons() -> list[cl.CustomComparison]:
    return [
        _name_part(TF_COLUMNS[0], "Given name (carries the identity)", typo_level=True),
        _name_part(TF_COLUMNS[1], "Family name (few, common)", typo_level=False),
        _name_part(TF_COLUMNS[2], "Middle name (Văn, Thị dominate)", typo_level=False),
        cl.CustomComparison(
            [
                cll.NullLevel("birth_year"),
                cll.CustomLevel("birth_date_l = birth_date_r and substr(birth_date_l, 6, 5) <> '01-01'", "same date"),
                cll.CustomLevel(_SWAPPED, "day and month swapped"),
                cll.CustomLevel(f"({_YEAR_ONLY.format(side='l')} or {_YEAR_ONLY.format(side='r')}) "
                                "and birth_year_l = birth_year_r", "same year, one side year only or 01/01"),
                cll.CustomLevel("birth_year_l = birth_year_r", "same year, other day"),
                cll.ElseLevel(),
            ],
            "birth", "Birth date (full or year only)",
        ),
        cl.CustomComparison(
            [
                _null_level("id_number_l is null or id_number_r is null or id_kind_l <> id_kind_r"),
                cll.ExactMatchLevel("id_number"),
                cll.DamerauLevenshteinLevel("id_number", 1),
                cll.ElseLevel(),
            ],
            "id_number", "CCCD / CMND (typos and transpositions tolerated)",
        ),
        cl.CustomComparison([cll.NullLevel("phone"), cll.ExactMatchLevel("phone"), cll.ElseLevel()],
                            "phone", "Mobile phone"),
        cl.CustomComparison([cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()], "sex", "Sex"),
        cl.CustomComparison([cll.ExactMatchLevel("org_code"), cll.ElseLevel()], "org_code",
                            "Roll (a person is on one organisation's roll once)"),
        cl.CustomComparison(
            [
                cll.NullLevel("commune_candidates"),
                cll.CustomLevel("commune_code_l = commune_code_r and hamlet_key_l = hamlet_key_r",
                                "same commune and hamlet"),
                cll.CustomLevel("commune_code_l = commune_code_r", "same commune"),
                _PerDialectLevel("candidates_overlap_same_hamlet", "split commune may be the same, same hamlet"),
                _PerDialectLevel("candidates_overlap", "split commune may be the same"),
                cll.ElseLevel(),
            ],
            "place", "New-scheme commune and hamlet",
        ),
    ]


def splink_settings() -> SettingsCreator:
    """The model's shape (comparisons and blocking) before training."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_uid",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=prediction_rules(),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )


def for_dialect(model: dict, dialect: str) -> dict:
    """A trained model (Splink's JSON) with its SQL rendered for ``dialect``: the trained values kept,
    every condition and blocking rule taken from this module's settings rendered for that engine."""
    if model.get("sql_dialect") == dialect:
        return model
    rendered = splink_settings().get_settings(dialect).as_dict()
    shape = [(c["output_column_name"], [lv.get("label_for_charts") for lv in c["comparison_levels"]])
             for c in model["comparisons"]]
    if shape != [(c["output_column_name"], [lv.get("label_for_charts") for lv in c["comparison_levels"]])
                 for c in rendered["comparisons"]]:
        raise ValueError(f"the stored model ({model.get('sql_dialect')}) has other comparison levels than "
                         f"this version's: it cannot be rendered for {dialect}; run a full link to retrain")
    out = copy.deepcopy(model)
    out["sql_dialect"] = dialect
    out["blocking_rules_to_generate_predictions"] = rendered["blocking_rules_to_generate_predictions"]
    for comparison, fresh in zip(out["comparisons"], rendered["comparisons"]):
        for level, fresh_level in zip(comparison["comparison_levels"], fresh["comparison_levels"]):
            level["sql_condition"] = fresh_level["sql_condition"]
    return out
