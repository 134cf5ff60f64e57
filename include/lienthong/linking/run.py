"""The verbs ``link`` and ``link_new``: every source record linked to one stable ``person_id``.

A full run (``link``) prepares every record, trains the Splink model, scores all blocked pairs,
clusters and carries the previous ids over (``stable_ids``). An incremental run (``link_new``)
reuses the stored model, prepares and scores only new or changed records (content hash, compared
in PostgreSQL) against the records they can be blocked with, and reclusters only the people those
records touch (plus records of review decisions taken since the last run). Both write ``identity.*`` in one transaction, the policy they used
recorded with the run. Splink trains and scores on the policy's engine (``backends``: DuckDB, or a
Spark session opened for the run and stopped after it). ``partitions`` runs these steps partition by
partition.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import resource
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd
import psycopg

from lienthong.config.organisations import load_organisations
from lienthong.linking import engine, store
from lienthong.linking.backends import Backend, open_backend
from lienthong.linking.blocking import candidates_sql
from lienthong.linking.clustering import Refusal, cluster
from lienthong.linking.comparisons import TF_COLUMNS
from lienthong.linking.conflicts import RecordFacts, RollHabits, given_spelling, roll_habits
from lienthong.linking.policy import LinkingPolicy, load_policy
from lienthong.linking.records import FEATURE_COLUMNS, INPUT_COLUMNS, content_hash_sql, prepare_frame
from lienthong.linking.stable_ids import Event, assign
from lienthong.linking.survivorship import DELETE_ORPHANS, refresh_sql
from lienthong.warehouse import connect
from lienthong.warehouse.statistics import analyse_if_grown

log = logging.getLogger(__name__)

PERSON_ID_PREFIX = "LT"
SOURCE_BATCH = 50_000  # source rows read and prepared at a time
# The features scoring and clustering read (not the source key and content hash), and those of them
# whose values repeat across records (held once each in memory: ``store.read_frame``).
SCORED_COLUMNS = tuple(c for c in FEATURE_COLUMNS if c not in ("source_record_key", "content_hash"))
SHARED_COLUMNS = ("org_code", "family_key", "middle_key", "given_key", "birth_date", "sex", "id_kind",
                  "commune_code", "commune_candidates", "hamlet_key", "commune_area", "commune_area_alt")
FACT_COLUMNS = ("record_uid", "org_code", "id_number", "id_kind", "birth_date", "birth_year", "given_key", "name",
                "id_consistent", "phone", "sex", "middle_key")


@dataclass
class _Run:
    """One linking run as it passes through the steps of ``_link``."""

    conn: psycopg.Connection
    policy: LinkingPolicy
    run_id: int
    incremental: bool  # asked for and possible (a stored model exists)
    since: dt.datetime | None  # the previous run's start: review decisions taken since are fresh
    model: dict | None  # the stored model an incremental run reuses
    backend: Backend  # where Splink trains and scores (the policy's engine)
    started: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)
    # The process's peak resident memory (MB, DuckDB's included) at the end of each step: the step
    # where it grows is the one that raised it.
    peak_memory_mb: dict[str, float] = field(default_factory=dict)

    def lap(self, name: str) -> None:
        self.timings[name] = round(time.perf_counter() - self.started - sum(self.timings.values()), 2)
        self.peak_memory_mb[name] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def link(url: str, source_sql: str, *, policy: LinkingPolicy | None = None, today: dt.date | None = None) -> dict:
    """Link every record of ``source_sql`` (columns of ``records.INPUT_COLUMNS``) afresh: train the
    model, score every blocked pair, recluster everyone. ``policy``: the configured one when None.

    Returns a summary: records read, changed, scored pairs, persons, events by kind, seconds.
    """
    return _link(url, source_sql, incremental=False, policy=policy, today=today)


def link_new(url: str, source_sql: str, *, policy: LinkingPolicy | None = None,
             today: dt.date | None = None) -> dict:
    """Link only the new or changed records of ``source_sql`` with the stored model and recluster
    the people they touch; a full ``link`` when no model is stored yet. Returns the run's summary."""
    return _link(url, source_sql, incremental=True, policy=policy, today=today)


def _link(url: str, source_sql: str, *, incremental: bool, policy: LinkingPolicy | None,
          today: dt.date | None) -> dict:
    policy = policy or load_policy()
    with connect(url) as conn, open_backend(policy) as backend:
        run = _start(conn, policy, incremental, backend)
        read, changed = _prepare(run, source_sql, today)
        # An incremental run reads only the records the changed ones can be scored against.
        records = _read_features(run, f" where record_uid in ({candidates_sql('changed')})"
                                 if run.incremental else "")
        scored, strong = _score(run, records, changed)
        scope = _scope(run, changed, strong) if run.incremental else list(records["record_uid"])
        must, cannot = _decisions(conn)
        clusters, refused, edges = _cluster(run, records, scope, must, cannot)
        assignment, events, previous, links_changed = _assign(run, clusters)
        _record_refusals(run, refused)
        _record_events(run, events, clusters, edges, refused, must)
        _refresh_people(run, set(assignment.values()) | set(previous.values()))
        run.lap("write")
        return _finish(run, records_read=read, changed=len(changed), pairs_scored=scored,
                       reclustered=len(scope), links_changed=links_changed, events=events, refused=len(refused))


def _start(conn, policy: LinkingPolicy, incremental: bool, backend: Backend) -> _Run:
    """Open the run (recording its policy) and find the stored model an incremental run needs."""
    store.ensure_schema(conn)
    since = conn.execute("select max(started_at) from identity.runs").fetchone()[0]
    model_row = conn.execute("select settings from identity.model order by model_id desc limit 1").fetchone()
    # Features stored in an older form (content hashes before they were MD5s, which SQL cannot
    # compare; no commune areas, which a night's candidates block on): the first night after the
    # change links in full, which rewrites every record's features.
    stale = conn.execute("select exists (select 1 from identity.records where length(content_hash) <> 32 "
                         "or (commune_area is null and coalesce(commune_code, commune_candidates) is not null))"
                         ).fetchone()[0]
    if incremental and model_row is not None and stale:
        log.warning("linking: stored features are of an older form; this run links every record in full")
    incremental = incremental and model_row is not None and not stale
    run_id = conn.execute("insert into identity.runs (incremental, policy) values (%s, %s) returning run_id",
                          (incremental, json.dumps(policy.as_dict()))).fetchone()[0]
    return _Run(conn, policy, run_id, incremental, since, model_row[0] if incremental else None, backend)


def _prepare(run: _Run, source_sql: str, today: dt.date | None) -> tuple[int, list[str]]:
    """Features of the new or changed records (all of them in a full run) stored (in an incremental
    run, their uids in temporary table ``changed`` too). Returns the records read and the changed uids."""
    read = run.conn.execute(f"select count(*) from ({source_sql}) as source").fetchone()[0]
    changed = []
    run.conn.execute("create temp table incoming (like identity.records including defaults) on commit drop")
    # A roll whose organisation's config says its province: its communes are looked for there first.
    homes = {o.code: o.province for o in load_organisations() if o.province}
    for rows in _read_source(run.conn, source_sql, changed_only=run.incremental):
        features = prepare_frame(rows, today, run.policy.provinces, homes)
        store.copy_frame(run.conn, "incoming", features, list(FEATURE_COLUMNS))
        changed += list(features["record_uid"])
    _upsert_records(run.conn)
    if run.incremental:
        store.temp_keys(run.conn, "changed", changed)
    run.lap("prepare")
    return read, changed


def _read_features(run: _Run, where: str = "") -> pd.DataFrame:
    """The features scoring and clustering read, of every stored record or of those ``where`` keeps
    (an incremental run: those the changed ones can be scored against; a partition: its records)."""
    records = store.read_frame(run.conn, f"select {', '.join(SCORED_COLUMNS)} from identity.records{where}",
                               shared=SHARED_COLUMNS)
    records["birth_year"] = records["birth_year"].astype("Int64")
    run.lap("read_features")
    return records


def _score(run: _Run, records: pd.DataFrame, changed: list[str]) -> tuple[int, set[str]]:
    """Score the pairs (the changed records' only, with the stored model, in an incremental run;
    all of them with a newly trained model otherwise) and store them as evidence, a part at a time.
    Returns the pairs scored and, in an incremental run, the records of those at or above the threshold."""
    if run.incremental:
        pairs = engine.predict_new(records, run.model, changed, run.policy, run.backend, _term_frequencies(run.conn))
        for side in ("uid_a", "uid_b"):
            run.conn.execute(f"delete from identity.match_pairs m using changed c where c.record_uid = m.{side}")
        _store_pairs(run.conn, pairs, run.run_id)
        strong = pairs[pairs["match_probability"] >= run.policy.link_threshold]
        run.lap("score")
        return len(pairs), set(strong["uid_a"]) | set(strong["uid_b"])
    _train(run, records)
    run.conn.execute("truncate identity.match_pairs")
    scored = 0
    for pairs in engine.predict_chunks(records, run.model, run.policy, run.backend):
        _store_pairs(run.conn, pairs, run.run_id)
        scored += len(pairs)
    run.lap("score")
    return scored, set()


def _train(run: _Run, records: pd.DataFrame) -> None:
    """A model trained on ``records``, stored with the run (the one incremental runs reuse)."""
    run.model = engine.train(records, run.policy, backend=run.backend)
    run.conn.execute("insert into identity.model (run_id, settings) values (%s, %s)",
                     (run.run_id, json.dumps(run.model)))
    run.lap("train")


def _term_frequencies(conn) -> dict[str, pd.DataFrame]:
    """Per column of ``TF_COLUMNS``, each value's share of all stored records (``value``, ``n``): what
    scoring some of the records (new ones, a partition) reads in place of their own frequencies."""
    term_frequencies = {column: _counts(conn, column) for column in TF_COLUMNS}
    for frame in term_frequencies.values():
        frame["n"] = frame["n"] / frame["n"].sum()
    return term_frequencies


def _cluster(run: _Run, records: pd.DataFrame, scope: list[str], must: list[tuple[str, str]],
             cannot: list[tuple[str, str]],
             pairs: str = "identity.match_pairs") -> tuple[dict[str, str], list[Refusal], list[tuple[str, str, float]]]:
    """Cluster the records in scope over their links at or above the threshold, reviewer decisions
    first. ``pairs``: the table (or subquery) the scored pairs are read from."""
    store.temp_keys(run.conn, "scope", scope)
    edges = _linked_edges(run, pairs)
    in_scope = store.read_frame(run.conn, f"select {', '.join(FACT_COLUMNS)} from identity.records "
                                          "join scope using (record_uid)") if run.incremental else records
    # Row by row: a dict per record for all of a province at once is a few GB.
    habits = source_habits(run.conn, run.policy)
    facts = {row[0]: RecordFacts.from_features(dict(zip(FACT_COLUMNS, row)), habits)
             for row in in_scope[list(FACT_COLUMNS)].itertuples(index=False, name=None)}
    name_counts = dict(_counts(run.conn, "given_key").itertuples(index=False, name=None))
    clusters, refused = cluster(facts, edges, must, cannot, name_counts,
                                policy=run.policy, spelling_counts=_spelling_counts(run.conn))
    run.lap("cluster")
    return clusters, refused, edges


def _linked_edges(run: _Run, pairs: str = "identity.match_pairs") -> list[tuple[str, str, float]]:
    """The pairs of ``pairs`` between records of temporary table ``scope`` at or above the threshold."""
    # Ordered in full: clustering takes equal probabilities in the order given, which is then the
    # same however the pairs were scored and stored (in parts or at once, on either engine, in a
    # partition or not).
    return run.conn.execute(
        f"""select m.uid_a, m.uid_b, m.match_probability from {pairs} m
            join scope a on a.record_uid = m.uid_a join scope b on b.record_uid = m.uid_b
            where m.match_probability >= %s
            order by m.match_probability desc, m.uid_a, m.uid_b""", (run.policy.link_threshold,)).fetchall()


def _assign(run: _Run, clusters: dict[str, str]) -> tuple[dict[str, str], list[Event], dict[str, str], int]:
    """Carry the previous person ids over to the new clusters and store the links that changed."""
    linked = run.conn.execute("select rp.record_uid, rp.person_id, rp.run_id from identity.record_person rp "
                              "join scope using (record_uid)").fetchall()
    previous = {uid: pid for uid, pid, _ in linked}
    assignment, events = assign(clusters, previous, _mint(run.conn), {uid: r for uid, _, r in linked})
    changed_links = [(uid, pid) for uid, pid in assignment.items() if previous.get(uid) != pid]
    run.conn.execute("create temp table new_links (record_uid text primary key, person_id text) on commit drop")
    store.copy_rows(run.conn, "new_links", ["record_uid", "person_id"], changed_links)
    run.conn.execute(
        """insert into identity.record_person (record_uid, org_code, source_record_key, person_id, run_id)
           select n.record_uid, r.org_code, r.source_record_key, n.person_id, %s
           from new_links n join identity.records r using (record_uid)
           on conflict (record_uid) do update set person_id = excluded.person_id,
               linked_at = now(), run_id = excluded.run_id""", (run.run_id,))
    # The build reads the links next, often before autovacuum has analysed them (a first run writes all).
    analyse_if_grown(run.conn, "identity", "record_person", len(changed_links))
    return assignment, events, previous, len(changed_links)


def _record_refusals(run: _Run, refused: list[Refusal]) -> None:
    """The reason clustering refused each pair, on the pair (earlier reasons in scope cleared)."""
    for side in ("uid_a", "uid_b"):
        run.conn.execute(f"update identity.match_pairs m set refused_reason = null from scope s "
                         f"where s.record_uid = m.{side} and m.refused_reason is not null")
    for r in refused:
        run.conn.execute("update identity.match_pairs set refused_reason = %s where uid_a = %s and uid_b = %s",
                         (r.reason, *sorted((r.uid_a, r.uid_b))))


def _record_events(run: _Run, events: list[Event], clusters: dict[str, str],
                   edges: list[tuple[str, str, float]], refused: list[Refusal], must: list[tuple[str, str]]) -> None:
    """Every created, merged or split person with the reason it happened."""
    members: dict[str, list[str]] = defaultdict(list)
    for uid, key in clusters.items():
        members[key].append(uid)
    best_edge: dict[str, tuple[str, float]] = {}
    for a, b, p in edges:
        for x, y in ((a, b), (b, a)):
            if clusters[x] == clusters[y] and p > best_edge.get(x, ("", -1.0))[1]:
                best_edge[x] = (y, p)
    must_pairs = {frozenset(p) for p in must}
    store.copy_rows(run.conn, "identity.person_events",
                    ["run_id", "event", "person_id", "other_person_id", "record_uids", "reason"],
                    ((run.run_id, e.event, e.person_id, e.other_person_id, list(e.record_uids),
                      _reason(e, clusters, members, best_edge, refused, must_pairs, run.policy)) for e in events))
    analyse_if_grown(run.conn, "identity", "person_events", len(events))


def _refresh_people(run: _Run, touched: set[str]) -> None:
    """The touched persons' surviving values, persons left without records gone, the review queue anew."""
    store.temp_keys(run.conn, "touched", touched, column="person_id")
    run.conn.execute(refresh_sql("rp.person_id in (select person_id from touched)"))
    run.conn.execute(DELETE_ORPHANS)
    _rebuild_review_queue(run.conn, run.policy)


def _finish(run: _Run, *, events: list[Event], **counts) -> dict:
    """The run's summary, stored with it."""
    by_kind: dict[str, int] = defaultdict(int)
    for e in events:
        by_kind[e.event] += 1
    summary = {
        "run_id": run.run_id, "incremental": run.incremental, "records": counts.pop("records_read"), **counts,
        "persons": run.conn.execute("select count(*) from identity.person").fetchone()[0],
        "review_queue": run.conn.execute("select count(*) from identity.review_queue").fetchone()[0],
        "events": dict(by_kind), "timings": run.timings, "peak_memory_mb": run.peak_memory_mb,
        "seconds": round(time.perf_counter() - run.started, 2),
    }
    run.conn.execute("update identity.runs set finished_at = now(), summary = %s where run_id = %s",
                     (json.dumps(summary), run.run_id))
    return summary


def _read_source(conn, source_sql: str, changed_only: bool) -> Iterator[list[dict]]:
    """The source's rows (``changed_only``: those new or changed since they were stored, compared by
    content hash in PostgreSQL), ``SOURCE_BATCH`` at a time: a province's rows are never all in memory."""
    changes = (f" left join identity.records r using (org_code, source_record_key)"
               f" where r.content_hash is distinct from {content_hash_sql('s')}") if changed_only else ""
    with conn.cursor(name="linking_source") as cur:
        cur.execute(f"select {', '.join('s.' + c for c in INPUT_COLUMNS)} from ({source_sql}) as s{changes}")
        while rows := cur.fetchmany(SOURCE_BATCH):
            yield [dict(zip(INPUT_COLUMNS, row)) for row in rows]


def _counts(conn, column: str) -> pd.DataFrame:
    """``value, n``: the records of each value of ``column`` (all records, not only those read)."""
    return store.read_frame(conn, f"select {column} as value, count(*) as n from identity.records "
                                  f"where {column} is not null group by {column}")


def source_habits(conn, policy: LinkingPolicy) -> dict[str, RollHabits]:
    """Per source (``org_code``), whether its roll writes phones and full dates (``conflicts.roll_habits``),
    over all its stored records."""
    rates = conn.execute("select org_code, avg((coalesce(phone, '') <> '')::int), "
                         "avg((coalesce(right(birth_date, 6), '-01-01') <> '-01-01')::int) "
                         "from identity.records group by org_code").fetchall()
    return roll_habits({org: (float(phones), float(dates)) for org, phones, dates in rates}, policy)


def _spelling_counts(conn) -> dict[str, int]:
    """Records per given name as written (``conflicts.given_spelling``), over all records, streamed."""
    counts: Counter[str] = Counter()
    with conn.cursor(name="linking_spellings") as cur:
        cur.execute("select name, count(*) from identity.records where name is not null group by name")
        while rows := cur.fetchmany(SOURCE_BATCH):
            for name, n in rows:
                if (spelling := given_spelling(name)) is not None:
                    counts[spelling] += n
    return dict(counts)


def _mint(conn):
    def mint(n: int) -> list[str]:
        rows = conn.execute(
            "select %s || lpad(nextval('identity.person_seq')::text, 9, '0') from generate_series(1, %s)",
            (PERSON_ID_PREFIX, n)).fetchall()
        return [r[0] for r in rows]
    return mint


def _upsert_records(conn) -> None:
    """The features in temporary table ``incoming`` into ``identity.records``."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in FEATURE_COLUMNS if c != "record_uid")
    conn.execute(f"insert into identity.records ({', '.join(FEATURE_COLUMNS)}) "
                 f"select {', '.join(FEATURE_COLUMNS)} from incoming "
                 f"on conflict (record_uid) do update set {updates}, updated_at = now()")


def _store_pairs(conn, pairs: pd.DataFrame, run_id: int, table: str = "identity.match_pairs") -> None:
    evidence_columns = [c for c in pairs.columns if c.startswith(("gamma_", "bf_"))]
    evidence = pairs[evidence_columns].to_json(orient="records", lines=True).splitlines() if len(pairs) else []
    rows = zip(pairs["uid_a"], pairs["uid_b"], pairs["match_weight"], pairs["match_probability"], evidence)
    store.copy_rows(conn, table, ["uid_a", "uid_b", "match_weight", "match_probability", "evidence", "run_id"],
                    (row + (run_id,) for row in rows))


def _decisions(conn) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    rows = conn.execute("select record_key_a, record_key_b, decision from identity.review_decisions").fetchall()
    return [(a, b) for a, b, d in rows if d == "same"], [(a, b) for a, b, d in rows if d == "different"]


def _scope(run: _Run, changed: list[str], strong: set[str]) -> list[str]:
    """Records to recluster: the changed ones, those of fresh decisions, their linked neighbours,
    and every record of the people all of these belong to."""
    conn, since, threshold = run.conn, run.since, run.policy.link_threshold
    seeds = set(changed)
    if since is not None:
        for a, b in conn.execute("select record_key_a, record_key_b from identity.review_decisions "
                                 "where decided_at >= %s", (since,)).fetchall():
            seeds |= {a, b}
    seeds |= strong
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
        """, (threshold, threshold)).fetchall()
    return sorted(seeds | {r[0] for r in rows})


def _reason(event: Event, cluster_of: dict[str, str], members: dict[str, list[str]],
            best_edge: dict[str, tuple[str, float]], refused: list[Refusal], must: set[frozenset],
            policy: LinkingPolicy) -> str:
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
    return f"no link at or above {policy.link_threshold} left between the parts (records or model changed)"


def _rebuild_review_queue(conn, policy: LinkingPolicy) -> None:
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
        """, (policy.review_floor, policy.link_threshold))
