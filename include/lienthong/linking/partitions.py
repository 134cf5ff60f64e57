"""Partitioned linking: people linked within each partition (a province, or a group of communes),
the partitions in parallel, then one pass across partitions on strong keys for people who moved.

Three steps, each its own transaction and, under Airflow, its own task (``dags/warehouse_build.py``:
``plan_linking``, ``link_partition`` mapped over the partitions, ``finish_linking``):

- ``plan``: the source's features prepared into ``identity.records`` as in any run; every record
  given a partition by its commune (the policy's ``partitions``); the model trained once, on all
  records or on whole partitions holding the policy's ``train_records``, and stored (or, with
  ``reuse_model``, the stored one kept, as a night does). Returns the partitions with their records.
- ``link_partition``: the partition's pairs scored with that model and with the term frequencies
  of all records (a pair scores as it does in one run over everyone), clustered under the same
  rules, pairs and clusters staged (``identity.staged_*``). Partitions do not read each other's rows.
- ``finish``: the pass across partitions: pairs of records in different partitions with the same
  ID number, the same given and family name and full birth date (not 01/01), or the same phone
  and given and family name (``CROSS_PARTITION_KEYS``), scored with the model; the partitions'
  clusters joined over those at or above the threshold by the same clustering rules (a join they
  refuse waits in the review queue); then person ids carried over and every identity table written
  in one transaction, as a run in one partition does.

What differs from a run in one partition: a pair of records in two partitions is scored only if
it shares one of the strong keys (a mover whose records share only a name and a year, or a
typo'd ID and a name with another date, stays two people), and the clusters of a partition are joined whole (their links were taken before the
cross-partition ones, whatever the probabilities). ``link_partitioned`` runs the three steps in turn
in one process (the CLI, tests); ``bench/scale.py`` runs each in a process of its own, as Airflow does.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict

import pandas as pd
import psycopg
from splink import block_on

from lienthong.linking import engine, store
from lienthong.linking.backends import open_backend
from lienthong.linking.blocking import COMMUNE_UNIT_SQL, commune_areas
from lienthong.linking.clustering import Refusal, cluster
from lienthong.linking.conflicts import RecordFacts
from lienthong.linking.policy import LinkingPolicy, load_policy
from lienthong.linking.run import (
    FACT_COLUMNS, _assign, _cluster, _counts, _decisions, _finish, _linked_edges, _prepare, _read_features,
    _record_events, _record_refusals, _refresh_people, _Run, _spelling_counts, _start, _store_pairs,
    _term_frequencies, _train, source_habits,
)
from lienthong.text import lookup_commune
from lienthong.warehouse import connect

NO_COMMUNE = "none"  # the partition of records without a commune (or with one the reference does not know)
ONE_PARTITION = "all"  # the partition of every record when the policy does not partition
# A record's commune: its code, else the first of its candidates (an old commune split between new
# ones, all in one area: ``blocking.commune_areas``).
UNIT_SQL = COMMUNE_UNIT_SQL.format(p="r.")
# The keys the cross-partition pass pairs records on: one person's whatever their address. Each
# narrows a prediction rule that names no place (``blocking.PREDICTION_KEYS``: so the pass scores
# only pairs a run in one partition scores too) and holds a rare part (an ID, a phone, a full date:
# its blocks stay small past a province). The ID alone; given + family name + full date (the year
# rule narrowed: a mover's stale-address record with an old CMND, a typo'd or missing ID, no phone
# or another one, a dropped middle name); phone + given + family name (the phone rule narrowed: the
# same with a 01/01, year-only or missing date). Measured on bench/scale.py's hard settings
# (docs/scale.md): with the ID and phone + name + date only, 72 true pairs of untuned-d's movers
# stayed apart in 4 commune groups.
# A 01/01 birth date is not a full date there (a placeholder for the year, as ``comparisons`` and
# ``conflicts`` read it): on untuned-o it joined a namesake of the same year (old CMND, no phone)
# whom one partition held out, another namesake fitting too.
CROSS_PARTITION_KEYS = (("id_number",), ("given_key", "family_key", "birth_date"), ("phone", "given_key", "family_key"))
PLACEHOLDER_DATE = "-01-01"
STAGED = ("identity.staged_pairs", "identity.staged_clusters", "identity.staged_partitions",
          "identity.partition_units")


def partition_of(unit: str | None, partitions: dict) -> str:
    """The partition of a commune code (None: no commune) under the policy's ``partitions``."""
    if partitions["by"] == "none":
        return ONE_PARTITION
    if not unit:
        return NO_COMMUNE
    area = commune_areas().get(unit, unit)
    if partitions["by"] == "province":
        try:
            return lookup_commune("new", area).province_code
        except KeyError:
            return NO_COMMUNE
    # A hash of the area's code, not Python's (salted per process) nor PostgreSQL's hashtext (may
    # change between versions): a commune stays in its group from run to run and on every worker.
    count = partitions["count"]
    group = int(hashlib.md5(area.encode("utf-8"), usedforsecurity=False).hexdigest()[:8], 16) % count
    return f"g{group:0{len(str(count - 1))}d}"


def plan_partitions(records_per_unit: dict[str | None, int],
                    partitions: dict) -> tuple[dict[str, str], list[dict]]:
    """Communes (None: none) with their records -> (commune -> partition, the partitions as
    ``{"partition", "records"}`` by key). Never no partition: an empty input plans one, empty."""
    units = {unit: partition_of(unit, partitions) for unit in records_per_unit}
    totals: dict[str, int] = defaultdict(int)
    for unit, n in records_per_unit.items():
        totals[units[unit]] += n
    planned = [{"partition": key, "records": totals[key]} for key in sorted(totals)]
    return {u: p for u, p in units.items() if u is not None}, planned or [
        {"partition": partition_of(None, partitions), "records": 0}]


def link_partitioned(url: str, source_sql: str, *, policy: LinkingPolicy | None = None, reuse_model: bool = False,
                     today: dt.date | None = None) -> dict:
    """``plan``, every partition's ``link_partition`` in turn, ``finish``: the finished run's summary."""
    planned = plan(url, source_sql, policy=policy, reuse_model=reuse_model, today=today)
    for partition in planned["partitions"]:
        link_partition(url, planned["run_id"], partition["partition"])
    return finish(url, planned["run_id"])


def plan(url: str, source_sql: str, *, policy: LinkingPolicy | None = None, reuse_model: bool = False,
         today: dt.date | None = None) -> dict:
    """Prepare the source, train (or reuse) the model, place every record in a partition.

    Returns ``run_id``, ``records`` (read from the source), ``changed`` and ``partitions`` (each
    ``{"partition", "records"}``). One partitioned run at a time: what earlier runs left staged
    (a failed partition, a finish never run) is cleared here.
    """
    policy = policy or load_policy()
    with connect(url) as conn, open_backend(policy) as backend:
        run = _start(conn, policy, reuse_model, backend)
        for table in STAGED:
            conn.execute(f"delete from {table} where run_id <> %s", (run.run_id,))
        read, changed = _prepare(run, source_sql, today)
        counts = dict(conn.execute(f"select {UNIT_SQL}, count(*) from identity.records r group by 1").fetchall())
        units, planned = plan_partitions(counts, policy.partitions)
        store.copy_rows(conn, "identity.partition_units", ["run_id", "unit", "partition"],
                        ((run.run_id, unit, key) for unit, key in units.items()))
        store.copy_rows(conn, "identity.staged_partitions", ["run_id", "partition", "records"],
                        ((run.run_id, p["partition"], p["records"]) for p in planned))
        run.lap("plan")
        trained = 0
        if not run.incremental:  # a run with the stored model (a night) scores with it, as link_new does
            training = _read_features(run, _training_records(run, planned))
            trained = len(training)
            _train(run, training)
        conn.execute("update identity.runs set summary = %s where run_id = %s",
                     (json.dumps({"records": read, "changed": len(changed), "trained_on_records": trained,
                                  "timings": run.timings, "peak_memory_mb": run.peak_memory_mb}), run.run_id))
        return {"run_id": run.run_id, "records": read, "changed": len(changed), "trained_on_records": trained,
                "partitions": planned}


def link_partition(url: str, run_id: int, partition: str) -> dict:
    """Score and cluster the records of one partition of run ``run_id``; stage pairs and clusters.
    Returns the partition's summary (records, pairs scored, people, seconds and memory by step)."""
    with connect(url) as conn:
        policy, model, _ = _resumed(conn, run_id)
        with open_backend(policy) as backend:
            run = _Run(conn, policy, run_id, False, None, model, backend)
            conn.execute(f"create temp table part on commit drop as "
                         f"select record_uid from ({_placed_sql('r.record_uid')}) as placed where partition = %s",
                         (partition_of(None, policy.partitions), run_id, partition))
            for table, column in (("identity.staged_pairs", "uid_a"), ("identity.staged_clusters", "record_uid")):
                conn.execute(f"delete from {table} s using part p where s.run_id = %s and s.{column} = p.record_uid",
                             (run_id,))  # a retried partition starts afresh
            records = _read_features(run, " where record_uid in (select record_uid from part)")
            scored = 0
            if len(records):
                for pairs in engine.predict_chunks(records, model, policy, backend,
                                                   term_frequencies=_term_frequencies(conn)):
                    _store_pairs(conn, pairs, run_id, "identity.staged_pairs")
                    scored += len(pairs)
            run.lap("score")
            must, cannot = _decisions(conn)
            clusters, refused, _ = _cluster(run, records, list(records["record_uid"]), must, cannot,
                                            pairs=f"(select * from identity.staged_pairs where run_id = {int(run_id)})")
            store.copy_rows(conn, "identity.staged_clusters", ["run_id", "record_uid", "cluster_key"],
                            ((run_id, uid, key) for uid, key in clusters.items()))
            for r in refused:
                conn.execute("update identity.staged_pairs set refused_reason = %s "
                             "where run_id = %s and uid_a = %s and uid_b = %s",
                             (r.reason, run_id, *sorted((r.uid_a, r.uid_b))))
            run.lap("stage")
            summary = {"records": len(records), "pairs_scored": scored, "people": len(set(clusters.values())),
                       "refused": len(refused), "timings": run.timings, "peak_memory_mb": run.peak_memory_mb}
            conn.execute("update identity.staged_partitions set summary = %s where run_id = %s and partition = %s",
                         (json.dumps(summary), run_id, partition))
            return summary


def finish(url: str, run_id: int) -> dict:
    """The pass across partitions, stable ids and the identity tables of run ``run_id``, in one
    transaction. Returns the run's summary (as ``link``'s, with the partitions' and the pass's figures)."""
    with connect(url) as conn:
        policy, model, plan_summary = _resumed(conn, run_id)
        pending = [row[0] for row in conn.execute(
            "select partition from identity.staged_partitions where run_id = %s and summary is null "
            "order by partition", (run_id,)).fetchall()]
        if pending:
            raise RuntimeError(f"linking run {run_id}: partitions {', '.join(pending)} are not linked yet")
        incremental = conn.execute("select incremental from identity.runs where run_id = %s", (run_id,)).fetchone()[0]
        with open_backend(policy) as backend:
            run = _Run(conn, policy, run_id, incremental, None, model, backend)
            staged = dict(conn.execute("select record_uid, cluster_key from identity.staged_clusters "
                                       "where run_id = %s", (run_id,)).fetchall())
            cross = _cross_pairs(run)
            run.lap("cross_score")
            conn.execute("truncate identity.match_pairs")
            conn.execute("""insert into identity.match_pairs
                            (uid_a, uid_b, match_weight, match_probability, evidence, refused_reason, run_id)
                            select uid_a, uid_b, match_weight, match_probability, evidence, refused_reason, run_id
                            from identity.staged_pairs where run_id = %s""", (run_id,))
            _store_pairs(conn, cross, run_id)
            must, cannot = _decisions(conn)
            linked = cross[cross["match_probability"] >= policy.link_threshold] if len(cross) else cross
            clusters, cross_refused = _join_partitions(run, staged, linked, must, cannot)
            run.lap("cross_cluster")
            refused = [Refusal(a, b, p, reason) for a, b, p, reason in conn.execute(
                "select uid_a, uid_b, match_probability, refused_reason from identity.staged_pairs "
                "where run_id = %s and refused_reason is not null", (run_id,)).fetchall()] + cross_refused
            store.temp_keys(conn, "scope", clusters)
            assignment, events, previous, links_changed = _assign(run, clusters)
            _record_refusals(run, refused)
            _record_events(run, events, clusters, _linked_edges(run), refused, must)
            _refresh_people(run, set(assignment.values()) | set(previous.values()))
            partitions = {key: summary for key, summary in conn.execute(
                "select partition, summary from identity.staged_partitions where run_id = %s order by partition",
                (run_id,)).fetchall()}
            for table in STAGED:
                conn.execute(f"delete from {table} where run_id = %s", (run_id,))
            run.lap("write")
            return _finish(run, records_read=plan_summary["records"], changed=plan_summary["changed"],
                           pairs_scored=sum(p["pairs_scored"] for p in partitions.values()) + len(cross),
                           reclustered=len(clusters), links_changed=links_changed, events=events,
                           refused=len(refused),
                           plan={k: plan_summary[k] for k in ("trained_on_records", "timings", "peak_memory_mb")},
                           partitions=partitions, cross_partition_pairs=len(cross),
                           cross_partition_links=len(linked), cross_partition_refused=len(cross_refused))


def training_partitions(planned: list[dict], train_records: int) -> list[str]:
    """The partitions the model is trained on: every one (``train_records`` 0), else whole
    partitions in the plan's order until they hold ``train_records`` records. Whole partitions, not
    records drawn at random: a person's records mostly share a partition, so the pairs EM and the
    prior learn from stay pairs (a random tenth of the records keeps a hundredth of the pairs)."""
    if not train_records:
        return [p["partition"] for p in planned]
    chosen, held = [], 0
    for p in planned:
        if held >= train_records:
            break
        chosen.append(p["partition"])
        held += p["records"]
    return chosen


def _training_records(run: _Run, planned: list[dict]) -> str:
    """The ``where`` that keeps the records of the training partitions ("": every record)."""
    chosen = training_partitions(planned, run.policy.partitions.get("train_records", 0))
    if len(chosen) == len(planned):
        return ""
    run.conn.execute(f"create temp table training on commit drop as select record_uid from "
                     f"({_placed_sql('r.record_uid')}) as placed where partition = any(%s)",
                     (partition_of(None, run.policy.partitions), run.run_id, chosen))
    return " where record_uid in (select record_uid from training)"


def _placed_sql(columns: str) -> str:
    """``columns`` of every record with its ``partition`` in a run (parameters: the partition of
    records without a commune, the run)."""
    return (f"select {columns}, coalesce(u.partition, %s) as partition from identity.records r "
            f"left join identity.partition_units u on u.run_id = %s and u.unit = {UNIT_SQL}")


def _cross_pairs(run: _Run) -> pd.DataFrame:
    """Pairs of records in different partitions that share a key of ``CROSS_PARTITION_KEYS``,
    scored with the run's model (those at or above the evidence floor)."""
    conn = run.conn
    columns = sorted({key for keys in CROSS_PARTITION_KEYS for key in keys})
    conn.execute(f"create temp table placed on commit drop as "
                 f"{_placed_sql(', '.join('r.' + c for c in ['record_uid', *columns]))}",
                 (partition_of(None, run.policy.partitions), run.run_id))
    # One equi-join per key (an "or" of keys would compare every record with every other).
    conn.execute("create temp table crossing on commit drop as " + "\nunion\n".join(
        f"select a.record_uid, a.partition from placed a join placed b on "
        f"{' and '.join(f'a.{k} = b.{k}' for k in keys)} and a.partition <> b.partition"
        + (f" and a.birth_date not like '%{PLACEHOLDER_DATE}'" if "birth_date" in keys else "")
        for keys in CROSS_PARTITION_KEYS))
    partition = dict(conn.execute("select record_uid, partition from crossing").fetchall())
    if not partition:
        return pd.DataFrame(columns=["uid_a", "uid_b", "match_weight", "match_probability"])
    records = _read_features(run, " where record_uid in (select record_uid from crossing)")
    pairs = pd.concat(engine.predict_chunks(records, run.model, run.policy, run.backend,
                                            rules=[block_on(*keys) for keys in CROSS_PARTITION_KEYS],
                                            term_frequencies=_term_frequencies(conn)), ignore_index=True)
    # Pairs within a partition were scored there (and came here only through a third record); a
    # pair blocked on a 01/01 date shares no key (``share_a_key``).
    keys = {row["record_uid"]: row for row in records.to_dict("records")}
    return pairs[[partition[a] != partition[b] and share_a_key(keys[a], keys[b])
                  for a, b in zip(pairs["uid_a"], pairs["uid_b"])]].reset_index(drop=True)


def share_a_key(a: dict, b: dict) -> bool:
    """Whether two records' features share a key of ``CROSS_PARTITION_KEYS`` (a 01/01 birth date
    is no full date)."""
    def known(value) -> bool:
        return value is not None and not pd.isna(value)

    return any(all(known(a[k]) and a[k] == b[k] for k in keys)
               and not ("birth_date" in keys and str(a["birth_date"]).endswith(PLACEHOLDER_DATE))
               for keys in CROSS_PARTITION_KEYS)


def _join_partitions(run: _Run, staged: dict[str, str], linked: pd.DataFrame, must: list[tuple[str, str]],
                     cannot: list[tuple[str, str]]) -> tuple[dict[str, str], list[Refusal]]:
    """The partitions' clusters (``staged``: record -> cluster) joined over the cross-partition pairs
    at or above the threshold (``linked``) and reviewers' "same" decisions across partitions, by the
    clustering rules. Only the clusters these touch are read and clustered again. Returns record ->
    cluster for every record, and the refused joins."""
    edges = sorted(zip(linked["uid_a"], linked["uid_b"], linked["match_probability"]),
                   key=lambda e: (-e[2], e[0], e[1]))
    across = [(a, b) for a, b in must if a in staged and b in staged and staged[a] != staged[b]]
    touched = {staged[uid] for a, b, _ in edges for uid in (a, b)} | {staged[uid] for pair in across for uid in pair}
    if not touched:
        return staged, []
    members: dict[str, list[str]] = defaultdict(list)
    for uid, key in staged.items():
        if key in touched:
            members[key].append(uid)
    store.temp_keys(run.conn, "joined", [uid for uids in members.values() for uid in uids])
    rows = store.read_frame(run.conn, f"select {', '.join(FACT_COLUMNS)} from identity.records "
                                      "join joined using (record_uid)")
    habits = source_habits(run.conn, run.policy)
    facts = {row[0]: RecordFacts.from_features(dict(zip(FACT_COLUMNS, row)), habits)
             for row in rows[list(FACT_COLUMNS)].itertuples(index=False, name=None)}
    # A partition's cluster stays whole, merged first as reviewers' decisions are: its links passed
    # the rules in the partition. The cross-partition pairs then join clusters or are refused.
    whole = [(uids[0], uid) for uids in members.values() for uid in uids[1:]]
    name_counts = dict(_counts(run.conn, "given_key").itertuples(index=False, name=None))
    joined, refused = cluster(facts, edges, whole + across, cannot, name_counts, policy=run.policy,
                              spelling_counts=_spelling_counts(run.conn))
    return {**staged, **joined}, refused


def _resumed(conn: psycopg.Connection, run_id: int) -> tuple[LinkingPolicy, dict, dict]:
    """The policy run ``run_id`` recorded, the model it scores with (the one its plan trained or
    kept) and the plan's summary."""
    row = conn.execute("select policy, summary from identity.runs where run_id = %s", (run_id,)).fetchone()
    if row is None or row[1] is None:
        raise RuntimeError(f"linking run {run_id} was not planned (lienthong.linking.partitions.plan)")
    model = conn.execute("select settings from identity.model where run_id <= %s order by model_id desc limit 1",
                         (run_id,)).fetchone()[0]
    return load_policy().with_recorded(row[0]), model, row[1]
