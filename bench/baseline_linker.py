"""A plain Splink baseline for the benchmark: generic cleaning, Splink's out-of-the-box comparisons.

What a team would get from Splink's tutorials without knowing Vietnamese data: names lower-cased
and trimmed (diacritics, tone placement and Unicode form left as they are), dates read with three
common layouts, digits kept from ids and phones; a ``NameComparison`` on the full name,
``DateOfBirthComparison``, Levenshtein on the id, exact phone, sex and commune; blocking and EM
training on those columns; connected components at match probability 0.9.
"""
from __future__ import annotations

import datetime as dt
import re

import duckdb
import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from lienthong.linking.backends import DUCKDB_TEMP
from lienthong.linking.records import record_uid

THRESHOLD = 0.9
_NON_DIGITS = re.compile(r"\D")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y")


def _date(text: str | None) -> str | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime((text or "").strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _text(value: str | None) -> str | None:
    return " ".join((value or "").lower().split()) or None


def clean(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records([{
        "record_uid": record_uid(r["org_code"], r["source_record_key"]),
        "full_name": _text(r["full_name"]),
        "birth_date": _date(r["birth_date"]),
        "sex": _text(r["sex"]),
        "id_number": _NON_DIGITS.sub("", r["id_number"] or "") or None,
        "phone": _NON_DIGITS.sub("", r["phone"] or "") or None,
        "commune": _text(r["commune"]),
    } for r in rows])


def link(rows: list[dict]) -> dict[str, str]:
    """Record uid -> cluster id."""
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_uid",
        comparisons=[
            cl.NameComparison("full_name"),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.LevenshteinAtThresholds("id_number", 2),
            cl.ExactMatch("phone"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("commune").configure(term_frequency_adjustments=True),
        ],
        # Splink's advice is to check the comparison count of each rule before predicting: the full
        # name alone made billions of pairs at province scale (the commonest names repeat thousands
        # of times; 52 GB spilled after 20 min), so it is paired with the birth date or the commune.
        blocking_rules_to_generate_predictions=[
            block_on("full_name", "birth_date"), block_on("full_name", "commune"), block_on("id_number"),
            block_on("phone"), block_on("birth_date", "commune"),
        ],
    )
    con = duckdb.connect(config={"temp_directory": str(DUCKDB_TEMP)})  # where the linker spills too
    con.execute("set memory_limit = '8GB'")  # spill rather than be killed on a 2-core, 24 GB machine
    frame = clean(rows)
    con.register("frame", frame)
    con.execute("create table records as select * from frame")
    linker = Linker("records", settings, db_api=DuckDBAPI(connection=con), set_up_basic_logging=False)
    linker.training.estimate_probability_two_random_records_match([block_on("id_number")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1_000_000, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("full_name", "commune"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date", "commune"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
    result = clusters.as_pandas_dataframe()
    return dict(zip(result["record_uid"], result["cluster_id"].astype(str)))
