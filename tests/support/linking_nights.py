"""A test harness: a few hundred records of the tiny sample linked once per policy, a full run and
then a night of changes, each policy on a database of its own; the people and the scores after each.

A part of the sample (every record of one person in six, ~500 records) makes ~125,000 possible pairs,
fewer than the u sample (1M): training uses every pair and does not depend on a random sample, so two
policies that score alike give the same model and the same scores.

    runs = full_and_night(tiny_sample, fresh_database, load_source, {"a": policy_a, "b": policy_b})
    runs["a"]["after_full"]  # (people as sets of record uids, {(uid_a, uid_b): probability}, {uid: person_id})
"""
from __future__ import annotations

import csv
import zlib

import psycopg

from lienthong.linking import link, link_new
from lienthong.linking.records import record_uid
from lienthong.sample.linking_input import delivery_dates, latest_records

SOURCE = "src.records"  # the table load_source writes
SHARE = 6  # one person in SHARE


def _part(rows: list[dict], people: dict[str, str]) -> list[dict]:
    """Every record of one person in SHARE (a person's records stay together)."""
    return [r for r in rows
            if zlib.crc32(people[record_uid(r["org_code"], r["source_record_key"])].encode()) % SHARE == 0]


def _state(url: str) -> tuple[set[frozenset[str]], dict[tuple[str, str], float], dict[str, str]]:
    with psycopg.connect(url) as conn:
        links = dict(conn.execute("select record_uid, person_id from identity.record_person").fetchall())
        scores = {(a, b): p for a, b, p in
                  conn.execute("select uid_a, uid_b, match_probability from identity.match_pairs").fetchall()}
    members: dict[str, set[str]] = {}
    for uid, person in links.items():
        members.setdefault(person, set()).add(uid)
    return {frozenset(m) for m in members.values()}, scores, links


def full_and_night(tiny_sample, fresh_database, load_source, policies: dict) -> dict:
    """Per policy: the summaries of a full run and of a night (``full``, ``night``) and the state
    after each (``after_full``, ``after_night``: people, scores, person id of each record)."""
    with (tiny_sample / "truth" / "records.csv").open(encoding="utf-8") as handle:
        people = {f"{r['org']}|{r['record_id']}": r["person_id"] for r in csv.DictReader(handle)}
    days = delivery_dates(tiny_sample)
    # The night brings the last day's changes and every tenth record held back from the first.
    first = [r for i, r in enumerate(_part(latest_records(tiny_sample, days[-2]), people)) if i % 10]
    second = _part(latest_records(tiny_sample, days[-1]), people)
    out = {}
    for name, policy in policies.items():
        with fresh_database(f"test_{name}") as url:
            load_source(url, first)
            full = link(url, f"select * from {SOURCE}", policy=policy)
            after_full = _state(url)
            load_source(url, second)
            night = link_new(url, f"select * from {SOURCE}", policy=policy)
            out[name] = {"full": full, "night": night, "after_full": after_full, "after_night": _state(url)}
    return out
