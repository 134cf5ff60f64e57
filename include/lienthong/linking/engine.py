"""Splink: training, scoring all pairs, scoring new records, explaining a pair.

Splink runs on the backend a run opens (``backends``): an in-process DuckDB by default, Spark past
one machine. Why DuckDB and not Splink's PostgreSQL backend: the features are prepared in Python
anyway (the Vietnamese normalisation lives in ``lienthong.text``), DuckDB is columnar and uses both
cores, and Splink's PostgreSQL backend materialises every intermediate table through the server;
tried on the demo sample with this model it also failed (PostgreSQL has no ``damerau_levenshtein``
and the float8 product of Bayes factors underflows). The warehouse stays the system of record:
features, pairs, the model (in DuckDB's dialect whatever the engine, ``comparisons.for_dialect``)
and persons are written back to PostgreSQL.
"""
from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator

import pandas as pd
from splink import Linker

from lienthong.linking.backends import DUCKDB, Backend
from lienthong.linking.blocking import (DETERMINISTIC_KEYS, PREDICTION_KEYS, TRAINING_KEYS, agrees, prediction_rules,
                                        rule_label, rules_with_pairs)
from lienthong.linking.comparisons import STORED_DIALECT, TF_COLUMNS, for_dialect, splink_settings
from lienthong.linking.policy import LinkingPolicy
from lienthong.linking.records import cccd_birth_year

log = logging.getLogger(__name__)

# EM learns from the sample's own pairs; where one person's records never disagree on a field in
# them it drives that level's m to 1e-100 and less: a veto no other evidence outweighs. For the year
# of birth and the ID that is wrong on rolls the model was not trained on (a year typed wrong, a
# typo in an ID's year digits, which also gives a dateless record a wrong year through its CCCD),
# so their m stay at or above the policy's ``m_floor``; conflicting dates and IDs are refused by
# the clustering rules, which an agreeing ID can lift. Names, phone and sex keep their learned m:
# twins and households differ on them, and that veto keeps them out of the scored pairs (a floor
# on phone and sex merged twins on untuned-a). The roll is floored too: where no one person is on
# one roll twice in the sample, two entries on one roll must still be able to link (a duplicate).
M_FLOOR_COMPARISONS = ("birth", "id_number", "org_code")


def train(records: pd.DataFrame, policy: LinkingPolicy, seed: int = 42, backend: Backend = DUCKDB) -> dict:
    """A trained model (Splink's settings dict with m and u, in DuckDB's dialect) for these records."""
    linker = Linker("records", splink_settings(), db_api=backend.api(records), set_up_basic_logging=False)

    def has_pair(keys: tuple[str, ...]) -> bool:
        return bool(records[list(keys)].dropna().duplicated().any())  # the keys only: no copy of every feature

    deterministic = rules_with_pairs(DETERMINISTIC_KEYS, has_pair)
    if len(deterministic) < len(DETERMINISTIC_KEYS):
        log.warning("linking: the input has no pair on some of the usual keys; prior estimated on %s",
                    [r.get_blocking_rule("duckdb").blocking_rule_sql for r in deterministic] or "nothing (default)")
    if deterministic:  # else nobody is in two rolls yet: Splink's default prior stands
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=policy.prior_recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=policy.u_sample_pairs(len(records)), seed=seed)
    for rule in rules_with_pairs(TRAINING_KEYS, has_pair):
        linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=False)
    return _with_m_floor(for_dialect(linker.misc.save_model_to_json(), STORED_DIALECT), policy.m_floor)


def _with_m_floor(model: dict, m_floor: float) -> dict:
    """The model with the m of ``M_FLOOR_COMPARISONS``' levels raised to ``m_floor`` (untrained
    levels included: Splink would use its default)."""
    for comparison in model["comparisons"]:
        if comparison["output_column_name"] in M_FLOOR_COMPARISONS:
            for level in comparison["comparison_levels"]:
                if not level.get("is_null_level"):
                    level["m_probability"] = max(level.get("m_probability") or 0.0, m_floor)
    return model


def _linker(records: pd.DataFrame, model: dict, new_uids: list[str] = (), backend: Backend = DUCKDB) -> Linker:
    return Linker("records", json.loads(json.dumps(for_dialect(model, backend.dialect))),
                  db_api=backend.api(records, new_uids), set_up_basic_logging=False)


def _pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Scored pairs with the record uids ordered (a < b) and one row per pair."""
    swap = frame["record_uid_l"] > frame["record_uid_r"]
    frame.loc[swap, ["record_uid_l", "record_uid_r"]] = frame.loc[swap, ["record_uid_r", "record_uid_l"]].values
    frame = frame.rename(columns={"record_uid_l": "uid_a", "record_uid_r": "uid_b"})
    frame = frame[frame["uid_a"] != frame["uid_b"]]
    return frame.drop_duplicates(["uid_a", "uid_b"]).reset_index(drop=True)


def _evidence_columns(columns: list[str]) -> list[str]:
    """Of Splink's output columns, those stored with a pair: the uids, match weight and probability,
    and each comparison's gamma and Bayes factor."""
    return ["record_uid_l", "record_uid_r", "match_weight", "match_probability"] + \
        [c for c in columns if c.startswith(("gamma_", "bf_"))]


def _evidence(frame: pd.DataFrame) -> pd.DataFrame:
    """uid_a, uid_b, match_weight, match_probability, and the per-comparison gammas and Bayes factors."""
    return _pairs(frame[_evidence_columns(frame.columns)].copy())


def predict(records: pd.DataFrame, model: dict, policy: LinkingPolicy, backend: Backend = DUCKDB) -> pd.DataFrame:
    """Every blocked pair at or above the evidence floor, in one frame (``predict_chunks`` for a province)."""
    chunks = list(predict_chunks(records, model, policy, backend))
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def predict_chunks(records: pd.DataFrame, model: dict, policy: LinkingPolicy, backend: Backend = DUCKDB,
                   rules: list | None = None,
                   term_frequencies: dict[str, pd.DataFrame] | None = None) -> Iterator[pd.DataFrame]:
    """Every blocked pair at or above the evidence floor, one part of the records at a time.

    Splink scores every blocked pair in one query and its result comes back whole; at a province
    that frame (and Splink's working tables) is most of a run's memory. The records are split into
    ``policy.chunks_for(len(records))`` parts by a hash of their uid, and each part's pairs (those
    whose smaller uid lies in it: Splink orders a pair's uids) are scored in turn: every pair is
    scored once, by the same model, so the pairs and their scores are those of one query.

    ``rules``: blocking rules (``block_on``) in place of the model's (the cross-partition pass);
    ``term_frequencies``: as for ``predict_new``, when ``records`` are only some of the records (a
    partition): the scores are then those of a run over all of them.
    """
    chunks = policy.chunks_for(len(records))
    api = backend.api(records)
    for chunk in range(chunks):
        chunked = json.loads(json.dumps(for_dialect(model, backend.dialect)))
        if rules is not None:
            chunked["blocking_rules_to_generate_predictions"] = [
                rule.get_blocking_rule(backend.dialect).as_dict() for rule in rules]
        if chunks > 1:
            part = CHUNK_CONDITION[backend.dialect].format(chunks=chunks, chunk=chunk)
            for rule in chunked["blocking_rules_to_generate_predictions"]:
                rule["blocking_rule"] = f"({rule['blocking_rule']}) and {part}"
        # One Linker per part on one database: Splink's cached tables (records with their term
        # frequencies) are the database's and are built once.
        linker = Linker("records", chunked, db_api=api, set_up_basic_logging=False)
        if term_frequencies is not None and chunk == 0:  # cached in the database for the later parts
            _register_term_frequencies(linker, term_frequencies)
        scored = linker.inference.predict(threshold_match_probability=policy.evidence_floor)
        # Plain identifiers, unquoted: a double-quoted name is a string literal to Spark.
        columns = ", ".join(_evidence_columns([c.unquote().name for c in scored.columns]))
        frame = linker.misc.query_sql(f"select {columns} from {scored.physical_name}", output_type="pandas")
        scored.drop_table_from_database_and_remove_from_cache()
        yield _pairs(frame)


# A pair's part: a hash of its left record's uid (the smaller one) modulo the number of parts.
CHUNK_CONDITION = {"duckdb": 'hash(l."record_uid") % {chunks} = {chunk}',
                   "spark": "pmod(hash(l.`record_uid`), {chunks}) = {chunk}"}


def predict_new(records: pd.DataFrame, model: dict, new_uids: list[str], policy: LinkingPolicy,
                backend: Backend = DUCKDB, term_frequencies: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Pairs involving at least one of ``new_uids`` (new or changed records), against ``records``.

    Splink's ``find_matches_to_new_records`` blocks the new records against the whole input with
    the prediction rules; as the new records are part of that input, new-new pairs come too.
    ``records`` may be only those the new ones can be blocked with (``blocking.candidates_sql``)
    when ``term_frequencies`` gives, per column of ``TF_COLUMNS``, the term frequencies of all
    records (``value``, ``tf``); else they are computed over ``records``.
    """
    if not new_uids:
        return _evidence(pd.DataFrame(columns=["record_uid_l", "record_uid_r", "match_weight", "match_probability"]))
    linker = _linker(records, model, new_uids, backend)
    if term_frequencies is None:  # term frequencies of the whole input, not of the new records
        for column in TF_COLUMNS:
            linker.table_management.compute_tf_table(column)
    else:
        _register_term_frequencies(linker, term_frequencies)
    threshold = _weight(policy.evidence_floor)
    frame = linker.inference.find_matches_to_new_records(
        "new_records", blocking_rules=prediction_rules(), match_weight_threshold=threshold
    ).as_pandas_dataframe()
    return _evidence(frame)


def _register_term_frequencies(linker: Linker, term_frequencies: dict[str, pd.DataFrame]) -> None:
    """Term frequencies given per column of ``TF_COLUMNS`` (``value``, ``tf``) in place of Splink's own."""
    for column in TF_COLUMNS:
        linker.table_management.register_term_frequency_lookup(
            term_frequencies[column].set_axis([column, f"tf_{column}"], axis=1), column)


def _as_scored(row: dict) -> dict:
    """A feature row as scoring reads it: without a year of birth, the year its CCCD carries."""
    if row.get("birth_year") is None and row.get("id_kind") == "cccd" and isinstance(row.get("id_number"), str):
        return {**row, "birth_year": cccd_birth_year(row["id_number"])}
    return row


def compare(first: dict, second: dict, model: dict) -> dict:
    """Score two feature rows whether blocked or not: Splink's comparison row (gammas, Bayes factors).
    On DuckDB whatever the run's engine: two records need no cluster, and the model scores alike."""
    first, second = _as_scored(first), _as_scored(second)
    linker = _linker(pd.DataFrame([first, second]), model)
    row = linker.inference.compare_two_records(first, second).as_pandas_dataframe().iloc[0]
    return {k: (None if not isinstance(v, (list, tuple)) and pd.isna(v) else v) for k, v in row.items()}


def blocked_by(first: dict, second: dict) -> list[str]:
    """The prediction rules under which two feature rows are a candidate pair."""
    first, second = _as_scored(first), _as_scored(second)
    return [rule_label(keys) for keys in PREDICTION_KEYS if all(agrees(first, second, k) for k in keys)]


def _weight(probability: float) -> float:
    return math.log2(probability / (1 - probability))
