"""Entry point: link every source record to one stable ``person_id``.

A full run prepares every record, trains the Splink model, scores all blocked pairs, clusters and
carries the previous ids over (``stable_ids``). An incremental run reuses the stored model, prepares
and scores only new or changed records (content hash) against everything, and reclusters only the
people those records touch (plus records of review decisions taken since the last run). Both write
``identity.*`` in one transaction.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict

import pandas as pd

from lienthong.linking import engine, store
from lienthong.linking.clustering import Refusal, cluster
from lienthong.linking.conflicts import RecordFacts
from lienthong.linking.records import FEATURE_COLUMNS, INPUT_COLUMNS, content_hash, prepare_frame, record_uid
from lienthong.linking.stable_ids import Event, assign
from lienthong.linking.survivorship import DELETE_ORPHANS, refresh_sql
from lienthong.warehouse import connect

# Measured on the sample at demo scale: true pairs sit above 0.99, false ones below 0.5.
LINK_THRESHOLD = 0.95
REVIEW_FLOOR = 0.5
PERSON_ID_PREFIX = "LT"
FACT_COLUMNS = ("record_uid", "id_number", "id_kind", "birth_date", "birth_year", "given_key", "name",
                "id_consistent")


def _read_source(conn, source_sql: str) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(f"select {', '.join(INPUT_COLUMNS)} from ({source_sql}) as source")
        return [dict(zip(INPUT_COLUMNS, row)) for row in cur.fetchall()]


def _mint(conn):
    def mint(n: int) -> list[str]:
        rows = conn.execute(
            "select %s || lpad(nextval('identity.person_seq')::text, 9, '0') from generate_series(1, %s)",
            (PERSON_ID_PREFIX, n)).fetchall()
        return [r[0] for r in rows]
    return mint


def _upsert_records(conn, features: pd.DataFrame) -> None:
    conn.execute("create temp table incoming (like identity.records including defaults) on commit drop")
    store.copy_frame(conn, "incoming", features, list(FEATURE_COLUMNS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in FEATURE_COLUMNS if c != "record_uid")
    conn.execute(f"insert into identity.records ({', '.join(FEATURE_COLUMNS)}) "
                 f"select {', '.join(FEATURE_COLUMNS)} from incoming "
                 f"on conflict (record_uid) do update set {updates}, updated_at = now()")


def _store_pairs(conn, pairs: pd.DataFrame, run_id: int) -> None:
    evidence_columns = [c for c in pairs.columns if c.startswith(("gamma_", "bf_"))]
    evidence = pairs[evidence_columns].to_json(orient="records", lines=True).splitlines() if len(pairs) else []
    rows = zip(pairs["uid_a"], pairs["uid_b"], pairs["match_weight"], pairs["match_probability"], evidence)
    store.copy_rows(conn, "identity.match_pairs",
                    ["uid_a", "uid_b", "match_weight", "match_probability", "evidence", "run_id"],
                    (row + (run_id,) for row in rows))


def _decisions(conn) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    rows = conn.execute("select record_key_a, record_key_b, decision from identity.review_decisions").fetchall()
    return [(a, b) for a, b, d in rows if d == "same"], [(a, b) for a, b, d in rows if d == "different"]


def _scope(conn, changed: list[str], pairs: pd.DataFrame, since: dt.datetime | None) -> list[str]:
    """Records to recluster: the changed ones, those of fresh decisions, their linked neighbours,
    and every record of the people all of these belong to."""
    seeds = set(changed)
    if since is not None:
        for a, b in conn.execute("select record_key_a, record_key_b from identity.review_decisions "
                                 "where decided_at >= %s", (since,)).fetchall():
            seeds |= {a, b}
    strong = pairs[pairs["match_probability"] >= LINK_THRESHOLD]
    seeds |= set(strong["uid_a"]) | set(strong["uid_b"])
    store.temp_keys(conn, "seeds", seeds)
    rows = conn.execute(
        """
        with strong_pairs as (
            select m.uid_a, m.uid_b from identity.match_pairs m join seeds s on s.record_uid = m.uid_a
            where m.match_probability >= %s
            union all
            select m.uid_a, m.uid_b from identity.match_pairs m join seeds s on s.record_uid = m.uid_b
            where m.match_probability >= %s
        ),
        people as (
            select rp.person_id from identity.record_person rp join seeds using (record_uid)
            union
            select rp.person_id from strong_pairs m
            join identity.record_person rp on rp.record_uid in (m.uid_a, m.uid_b)
        )
        select rp.record_uid from identity.record_person rp join people using (person_id)
        """, (LINK_THRESHOLD, LINK_THRESHOLD)).fetchall()
    return sorted(seeds | {r[0] for r in rows})


def _edges_in_scope(conn) -> list[tuple[str, str, float]]:
    return conn.execute(
        """select m.uid_a, m.uid_b, m.match_probability from identity.match_pairs m
           join scope a on a.record_uid = m.uid_a join scope b on b.record_uid = m.uid_b
           where m.match_probability >= %s""", (LINK_THRESHOLD,)).fetchall()


def _reason(event: Event, cluster_of: dict[str, str], members: dict[str, list[str]],
            best_edge: dict[str, tuple[str, float]], refused: list[Refusal], must: set[frozenset]) -> str:
    if event.event == "created":
        return "records matching no existing person"
    moved = set(event.record_uids)
    if event.event == "merged":
        for uid in event.record_uids:
            for other in members[cluster_of[uid]]:
                if other not in moved and frozenset((uid, other)) in must:
                    return f"reviewer decided same person: {uid} = {other}"
        uid = max(event.record_uids, key=lambda u: best_edge.get(u, ("", 0.0))[1])
        other, probability = best_edge.get(uid, ("?", 0.0))
        return f"linked {uid} ~ {other} with match probability {probability:.4f}"
    for refusal in refused:
        if refusal.uid_a in moved or refusal.uid_b in moved:
            return f"{refusal.reason}: {refusal.uid_a} vs {refusal.uid_b} (match probability {refusal.match_probability:.4f})"
    return f"no link at or above {LINK_THRESHOLD} left between the parts (records or model changed)"


def link_people(url: str, source_sql: str, *, incremental: bool = False, today: dt.date | None = None) -> dict:
    """Link the records of ``source_sql`` (columns of ``records.INPUT_COLUMNS``) to persons.

    Returns a summary: records read, changed, scored pairs, persons, events by kind, seconds.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        timings[name] = round(time.perf_counter() - started - sum(timings.values()), 2)

    with connect(url) as conn:
        store.ensure_schema(conn)
        last = conn.execute("select max(started_at) from identity.runs").fetchone()[0]
        run_id = conn.execute("insert into identity.runs (incremental) values (%s) returning run_id",
                              (incremental,)).fetchone()[0]
        model_row = conn.execute("select settings from identity.model order by model_id desc limit 1").fetchone()
        incremental = incremental and model_row is not None
        source = _read_source(conn, source_sql)
        known = dict(conn.execute("select record_uid, content_hash from identity.records").fetchall()) \
            if incremental else {}
        changed_rows = [r for r in source
                        if known.get(record_uid(r["org_code"], r["source_record_key"])) != content_hash(r)]
        features = prepare_frame(changed_rows, today)
        _upsert_records(conn, features)
        changed = list(features["record_uid"])
        lap("prepare")
        records = store.read_frame(conn, f"select {', '.join(FEATURE_COLUMNS)} from identity.records")
        records["birth_year"] = records["birth_year"].astype("Int64")
        lap("read_features")

        if incremental:
            model = model_row[0]
            pairs = engine.predict_new(records, model, changed)
            store.temp_keys(conn, "changed", changed)
            for side in ("uid_a", "uid_b"):
                conn.execute(f"delete from identity.match_pairs m using changed c where c.record_uid = m.{side}")
        else:
            model = engine.train(records)
            conn.execute("insert into identity.model (run_id, settings) values (%s, %s)",
                         (run_id, json.dumps(model)))
            lap("train")
            pairs = engine.predict(records, model)
            conn.execute("truncate identity.match_pairs")
        lap("score")
        _store_pairs(conn, pairs, run_id)

        scope = _scope(conn, changed, pairs, last) if incremental else list(records["record_uid"])
        store.temp_keys(conn, "scope", scope)
        edges = _edges_in_scope(conn)
        in_scope = records[records["record_uid"].isin(set(scope))] if incremental else records
        facts = {row["record_uid"]: RecordFacts.from_features(row)
                 for row in in_scope[list(FACT_COLUMNS)].to_dict("records")}
        must, cannot = _decisions(conn)
        clusters, refused = cluster(facts, edges, must, cannot, records["given_key"].value_counts().to_dict())
        lap("cluster")

        linked = conn.execute("select rp.record_uid, rp.person_id, rp.run_id from identity.record_person rp "
                              "join scope using (record_uid)").fetchall()
        previous = {uid: pid for uid, pid, _ in linked}
        assignment, events = assign(clusters, previous, _mint(conn), {uid: run for uid, _, run in linked})
        changed_links = [(uid, pid) for uid, pid in assignment.items() if previous.get(uid) != pid]
        conn.execute("create temp table new_links (record_uid text primary key, person_id text) on commit drop")
        store.copy_rows(conn, "new_links", ["record_uid", "person_id"], changed_links)
        conn.execute(
            """insert into identity.record_person (record_uid, org_code, source_record_key, person_id, run_id)
               select n.record_uid, r.org_code, r.source_record_key, n.person_id, %s
               from new_links n join identity.records r using (record_uid)
               on conflict (record_uid) do update set person_id = excluded.person_id,
                   linked_at = now(), run_id = excluded.run_id""", (run_id,))

        for side in ("uid_a", "uid_b"):
            conn.execute(f"update identity.match_pairs m set refused_reason = null from scope s "
                         f"where s.record_uid = m.{side} and m.refused_reason is not null")
        for r in refused:
            conn.execute("update identity.match_pairs set refused_reason = %s where uid_a = %s and uid_b = %s",
                         (r.reason, *sorted((r.uid_a, r.uid_b))))

        members: dict[str, list[str]] = defaultdict(list)
        for uid, key in clusters.items():
            members[key].append(uid)
        best_edge: dict[str, tuple[str, float]] = {}
        for a, b, p in edges:
            for x, y in ((a, b), (b, a)):
                if clusters[x] == clusters[y] and p > best_edge.get(x, ("", -1.0))[1]:
                    best_edge[x] = (y, p)
        must_pairs = {frozenset(p) for p in must}
        store.copy_rows(conn, "identity.person_events",
                        ["run_id", "event", "person_id", "other_person_id", "record_uids", "reason"],
                        ((run_id, e.event, e.person_id, e.other_person_id, list(e.record_uids),
                          _reason(e, clusters, members, best_edge, refused, must_pairs)) for e in events))

        touched = {pid for pid in assignment.values()} | set(previous.values())
        store.temp_keys(conn, "touched", touched, column="person_id")
        conn.execute(refresh_sql("rp.person_id in (select person_id from touched)"))
        conn.execute(DELETE_ORPHANS)
        _rebuild_review_queue(conn)
        lap("write")

        counts = defaultdict(int)
        for e in events:
            counts[e.event] += 1
        summary = {
            "run_id": run_id, "incremental": incremental, "records": len(source), "changed": len(changed),
            "pairs_scored": len(pairs), "reclustered": len(scope), "links_changed": len(changed_links),
            "persons": conn.execute("select count(*) from identity.person").fetchone()[0],
            "review_queue": conn.execute("select count(*) from identity.review_queue").fetchone()[0],
            "events": dict(counts), "refused": len(refused), "timings": timings,
            "seconds": round(time.perf_counter() - started, 2),
        }
        conn.execute("update identity.runs set finished_at = now(), summary = %s where run_id = %s",
                     (json.dumps(summary), run_id))
    return summary


def _rebuild_review_queue(conn) -> None:
    """Uncertain or refused pairs nobody has decided on yet."""
    conn.execute("truncate identity.review_queue")
    conn.execute(
        """
        insert into identity.review_queue (uid_a, uid_b, match_probability, reason, person_a, person_b)
        select m.uid_a, m.uid_b, m.match_probability,
               coalesce('not linked: ' || m.refused_reason,
                        case when pa.person_id = pb.person_id then 'linked, uncertain' else 'not linked, uncertain' end),
               pa.person_id, pb.person_id
        from identity.match_pairs m
        join identity.record_person pa on pa.record_uid = m.uid_a
        join identity.record_person pb on pb.record_uid = m.uid_b
        left join identity.review_decisions d on d.record_key_a = m.uid_a and d.record_key_b = m.uid_b
        where d.decision is null
          and (m.refused_reason is not null or (m.match_probability >= %s and m.match_probability < %s))
        """, (REVIEW_FLOOR, LINK_THRESHOLD))
