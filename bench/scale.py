"""Benchmark of person linking by size and engine: DuckDB in process against Spark.

    uv run python bench/scale.py --scale tiny|demo [--seed 42] [--engines duckdb,spark] [--spark-master local[*]]
    uv run python bench/scale.py --scale custom --people 400000   # a point between demo and province
    uv run python bench/scale.py --scale province --engines duckdb --sample /work/samples/province-42  # a sample made before
    uv run python bench/scale.py --scale demo --engines duckdb --partitions 4   # and partitioned, 4 commune groups
    uv run python bench/scale.py --scale demo --engines duckdb --partitions 4 --train-records 5000  # trained on a part
    uv run python bench/scale.py --setting untuned-d --engines duckdb --partitions 4   # a setting of bench/matching_settings.yml
    uv run python bench/scale.py --scale two-province --engines duckdb --partitions province   # two provinces

Generates the sample (or reuses the one bench/matching.py caches in .lienthong/bench/sample-<scale>-<seed>,
or with ``--setting NAME`` a generator setting of bench/matching_settings.yml, in
.lienthong/bench/sample-<NAME>, the folder bench/matching.py uses for it),
loads every roster record delivered into an embedded PostgreSQL of its own, and runs a full linking
run (``link_people``: features, training, scoring, clustering, stable ids) once per engine on an
empty ``identity`` schema, each in a fresh process. Per engine: records, seconds, peak memory (the
resident memory of the process and its children, sampled every 0.2 s: Spark's JVM is a child of
the Python process), persons, and the share of DuckDB's clusters (sets of records) the engine
found exactly, and the pairwise precision and recall against the sample's truth.

``--partitions N`` adds a partitioned DuckDB run (``lienthong.linking.partitions``, N commune
groups; ``--partitions province``: by province) after the engines: plan, each partition and finish each in a fresh process, one after the
other, as Airflow's tasks run them (each its own process); its seconds are the sum, its peak memory
the largest of the steps' (each sampled as the engines' are), and ``seconds_if_parallel`` is an estimate:
plan + the slowest partition + finish, as with a worker per partition. It then runs partitioned
again with the model it stored (as a partitioned night does: the plan does not train) and adds
those figures (``with_stored_model``) and whether every record kept its person id. Its
``differences`` compare its clusters with the one-partition run's: the clusters of the one run
split or merged, each split's pairs of records (in two partitions) by the strong key they share, if
any, and whether the truth says one person; ``--differences FILE`` writes every differing cluster
with its records' partitions and keys (JSON) for reading. ``movers`` counts the true pairs (one
person's records, by the truth) whose records fall in two partitions, and how many of them each
run put in one cluster. A sample of several provinces (``--scale two-province``) is linked with
the policy's ``provinces`` set to the sample's.
Prints human lines, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil
import psycopg

import yaml

from matching import ROOT, SETTINGS, SOURCE, _generate, _ids, _in_child, _load_source
from lienthong.ports import free_port

SAMPLE_SECONDS = 0.2


class PeakMemory:
    """Peak resident memory of this process and its children (MB), sampled in a thread."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:  # a child that ended in between
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def mb(self) -> float:
        return round(self.peak / 2**20, 1)


def _policy(provinces: tuple[str, ...], **overrides):
    """The configured linking policy for a sample of ``provinces`` (package keys), with ``overrides``."""
    from lienthong.linking import load_policy

    return load_policy().replace(provinces=provinces, **overrides)


def _sample_provinces(sample: Path) -> tuple[str, ...]:
    """The sample's new provinces (package keys), as the generator's scale named them."""
    from lienthong.sample.generator import scales
    from lienthong.text.addresses import DEFAULT_PROVINCES

    manifest = json.loads((sample / "manifest.json").read_text(encoding="utf-8"))
    return tuple(scales().get(manifest["scale"], {}).get("provinces", DEFAULT_PROVINCES))


def _run(url: str, engine: str, master: str, provinces: tuple[str, ...]) -> tuple[dict, float]:
    """A full linking run with ``engine`` on an empty identity schema: (summary with clusters, peak MB)."""
    from lienthong.linking import link

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists identity cascade")
    with PeakMemory() as memory:
        started = time.perf_counter()
        summary = link(url, f"select * from {SOURCE}", policy=_policy(provinces, engine=engine, spark_master=master))
        summary["wall_seconds"] = round(time.perf_counter() - started, 2)
    with psycopg.connect(url) as conn:
        summary["clusters"] = dict(conn.execute("select record_uid, person_id from identity.record_person").fetchall())
    return summary, memory.mb


def _plan(url: str, partitions: dict, reuse_model: bool, provinces: tuple[str, ...]) -> dict:
    """A partitioned run's plan (the policy's ``partitions``): on an empty identity schema, or
    (``reuse_model``) after a run, with its stored model (as a night's)."""
    from lienthong.linking.partitions import plan

    if not reuse_model:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("drop schema if exists identity cascade")
    return plan(url, f"select * from {SOURCE}", reuse_model=reuse_model,
                policy=_policy(provinces, partitions=partitions))


def _link_partition(url: str, run_id: int, partition: str) -> dict:
    from lienthong.linking.partitions import link_partition

    return link_partition(url, run_id, partition)


def _finish(url: str, run_id: int) -> dict:
    from lienthong.linking.partitions import finish

    summary = finish(url, run_id)
    with psycopg.connect(url) as conn:
        summary["clusters"] = dict(conn.execute("select record_uid, person_id from identity.record_person").fetchall())
    return summary


def _sampled(function, *args) -> tuple[object, float]:
    """``function(*args)`` with the peak memory it reached (MB, sampled: a spawned process's
    ru_maxrss includes the parent's at the fork, Linux keeping it across exec)."""
    with PeakMemory() as memory:
        result = function(*args)
    return result, memory.mb


def _timed(function, *args) -> tuple[object, float, float]:
    """``function(*args)`` in a fresh process: (its result, seconds, its peak memory in MB)."""
    started = time.perf_counter()
    (result, peak_mb), _ = _in_child(_sampled, function, *args)
    return result, round(time.perf_counter() - started, 2), peak_mb


def _partitioned(url: str, partitions: dict, provinces: tuple[str, ...],
                 reuse_model: bool = False) -> tuple[dict, dict]:
    """A partitioned run step by step, each step in its own process: (finish's summary, figures)."""
    planned, plan_seconds, plan_mb = _timed(_plan, url, partitions, reuse_model, provinces)
    partitions = [(p["partition"], p["records"], *_timed(_link_partition, url, planned["run_id"], p["partition"])[1:])
                  for p in planned["partitions"]]
    summary, finish_seconds, finish_mb = _timed(_finish, url, planned["run_id"])
    slowest = max(seconds for _, _, seconds, _ in partitions)
    figures = {"seconds": round(plan_seconds + sum(p[2] for p in partitions) + finish_seconds, 2),
               "peak_memory_mb": max(plan_mb, finish_mb, *(p[3] for p in partitions)),
               "partitions": len(partitions), "largest_partition_records": max(p[1] for p in partitions),
               "records_by_partition": {p[0]: p[1] for p in partitions},
               "trained_on_records": planned["trained_on_records"],
               "seconds_if_parallel": round(plan_seconds + slowest + finish_seconds, 2),
               "seconds_by_step": {"plan": plan_seconds, "slowest_partition": slowest, "finish": finish_seconds},
               "peak_memory_mb_by_step": {"plan": plan_mb, "largest_partition": max(p[3] for p in partitions),
                                          "finish": finish_mb},
               "cross_partition_pairs": summary["cross_partition_pairs"],
               "cross_partition_links": summary["cross_partition_links"]}
    return summary, figures


def _groups(clusters: dict[str, str]) -> set[frozenset[str]]:
    members: dict[str, set[str]] = defaultdict(set)
    for uid, person in clusters.items():
        members[person].add(uid)
    return {frozenset(m) for m in members.values()}


def _features(url: str) -> dict[str, dict]:
    """Record uid -> its commune unit (as the partitions take it) and the cross-partition keys."""
    from lienthong.linking.partitions import CROSS_PARTITION_KEYS, UNIT_SQL

    columns = sorted({key for keys in CROSS_PARTITION_KEYS for key in keys} | {"birth_year", "name"})
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"select r.record_uid, {UNIT_SQL}, {', '.join('r.' + c for c in columns)} "
                            f"from identity.records r").fetchall()
    return {row[0]: {"unit": row[1], **dict(zip(columns, row[2:]))} for row in rows}


def _differences(reference: dict[str, str], partitioned: dict[str, str], features: dict[str, dict],
                 partitions: dict, truth: dict, limit: int = 10_000) -> tuple[dict, list[dict]]:
    """How the partitioned clusters differ from the one-partition run's: (counts, the differing
    clusters of the one run with their records). A pair of records together in the one run and
    apart partitioned is counted by where its records fell (one partition or two) and, across two,
    by the strong key they share (``CROSS_PARTITION_KEYS``; none: a weaker link only), and by
    whether the truth says they are one person."""
    from lienthong.linking.partitions import CROSS_PARTITION_KEYS, partition_of

    part = {uid: partition_of(f["unit"], partitions) for uid, f in features.items()}
    ref_groups, part_groups = _groups(reference), _groups(partitioned)
    split = sorted(ref_groups - part_groups, key=lambda g: sorted(g))
    # Partitioned clusters holding records of two or more of the one run's clusters.
    merged = [g for g in part_groups - ref_groups if len({reference[uid] for uid in g}) > 1]
    pairs: dict[str, int] = defaultdict(int)
    out = []
    for group in split:
        members = sorted(group)
        apart = [(a, b) for i, a in enumerate(members) for b in members[i + 1:] if partitioned[a] != partitioned[b]]
        for a, b in apart:
            where = "one partition" if part[a] == part[b] else "two partitions"
            shared = [" + ".join(keys) for keys in CROSS_PARTITION_KEYS
                      if all(features[a][k] is not None and features[a][k] == features[b][k] for k in keys)]
            same = a in truth and b in truth and truth[a].person == truth[b].person
            pairs[f"{where}, {shared[0] if shared else 'no strong key'}, "
                  f"{'one person' if same else 'two people'}"] += 1
        if len(out) < limit:
            out.append({"records": [{"uid": uid, "partition": part[uid], "person_partitioned": partitioned[uid],
                                     "true_person": truth[uid].person if uid in truth else None,
                                     "noise": sorted(truth[uid].noise) if uid in truth else [],
                                     **features[uid]} for uid in members]})
    counts = {"clusters_split": len(split), "clusters_merged": len(merged),
              "pairs_apart": dict(sorted(pairs.items(), key=lambda kv: -kv[1]))}
    return counts, out


def _movers(reference: dict[str, str], partitioned: dict[str, str], features: dict[str, dict],
            partitions: dict, truth: dict) -> dict:
    """True pairs (one person's records, ghosts aside) whose records fall in two partitions, and how
    many of them the one-partition run and the partitioned run each put in one cluster."""
    from lienthong.linking.partitions import partition_of

    by_person: dict[str, list[str]] = defaultdict(list)
    for uid, record in truth.items():
        if uid in features and not record.ghost:
            by_person[record.person].append(uid)
    part = {uid: partition_of(f["unit"], partitions) for uid, f in features.items()}
    pairs = [(a, b) for uids in by_person.values() for i, a in enumerate(uids) for b in uids[i + 1:]
             if part[a] != part[b]]
    return {"true_pairs_across_partitions": len(pairs),
            "persons": len({truth[a].person for a, _ in pairs}),
            "together_one_partition": sum(reference[a] == reference[b] for a, b in pairs),
            "together_partitioned": sum(partitioned[a] == partitioned[b] for a, b in pairs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="tiny", choices=("tiny", "demo", "province", "custom", "two-province"))
    parser.add_argument("--setting", default=None,
                        help="a generator setting of bench/matching_settings.yml (instead of --scale/--seed)")
    parser.add_argument("--people", type=int, default=None, help="people of a custom scale")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--spark-master", default="local[*]")
    parser.add_argument("--sample", type=Path, default=None, help="an existing sample folder of this scale")
    parser.add_argument("--partitions", default="",
                        help="also link partitioned (DuckDB) and compare: N commune groups, or 'province'")
    parser.add_argument("--train-records", type=int, default=0,
                        help="with --partitions: train on whole partitions holding this many records (0: all)")
    parser.add_argument("--differences", type=Path, default=None,
                        help="with --partitions: write the clusters that differ from the one run's here (JSON)")
    args = parser.parse_args()
    engines = args.engines.split(",")
    if engines[0] != "duckdb":
        parser.error("--engines must start with duckdb: the other engines' clusters are compared to its")

    if args.setting:
        setting = yaml.safe_load(SETTINGS.read_text(encoding="utf-8"))[args.setting]
        args.scale, args.seed, args.people, name = setting["scale"], setting["seed"], setting.get("people"), args.setting
    else:
        if (args.scale == "custom") != (args.people is not None):
            parser.error("--people goes with --scale custom, and only with it")
        setting = {"scale": args.scale, "seed": args.seed, "people": args.people}
        name = f"{args.scale}{args.people or ''}-{args.seed}"
    sample = args.sample or ROOT / ".lienthong" / "bench" / f"sample-{name}"
    if not (sample / "manifest.json").exists():
        _generate(setting, sample)
    from lienthong.sample.link_scoring import read_hard_negatives, read_truth, score_linking
    from lienthong.sample.linking_input import delivery_dates
    from lienthong.warehouse import ensure_ready
    from lienthong.warehouse.embedded import EmbeddedPostgres

    truth, hard_negatives = read_truth(sample), read_hard_negatives(sample)
    provinces = _sample_provinces(sample)
    if args.partitions == "province":
        partitions = {"by": "province", "train_records": args.train_records}
    elif args.partitions:
        partitions = {"by": "commune_group", "count": int(args.partitions), "train_records": args.train_records}
    base = Path(tempfile.mkdtemp(prefix="lienthong-bench-pg-"))
    server = EmbeddedPostgres(base / "pgdata", free_port())
    url = server.start()
    rows = []
    try:
        ensure_ready(url)
        # Read through the generator's shapes, as the curve's runs were (a generated sample, not xgen's).
        records = _load_source(url, sample, delivery_dates(sample)[-1], None)
        ids = _ids(url)
        print(f"{name}: {records:,} records", flush=True)
        reference = reference_clusters = None
        for engine in engines:
            (summary, peak_mb), _ = _in_child(_run, url, engine, args.spark_master, provinces)
            groups = _groups(summary["clusters"])
            reference = reference or groups
            reference_clusters = reference_clusters or summary["clusters"]
            scores = score_linking(summary["clusters"], truth, ids, hard_negatives)
            row = {"scale": name, "engine": engine, "records": summary["records"],
                   "seconds": summary["wall_seconds"], "peak_memory_mb": peak_mb, "persons": summary["persons"],
                   "pairs_scored": summary["pairs_scored"],
                   "clusters_equal_to_duckdb": round(len(groups & reference) / len(reference), 4),
                   "precision": scores["precision"], "recall": scores["recall"], "timings": summary["timings"],
                   "peak_memory_mb_by_step": summary.get("peak_memory_mb", {})}
            rows.append(row)
            print(" ".join(f"{k} {v}" for k, v in row.items()), flush=True)
        if args.partitions:
            summary, figures = _partitioned(url, partitions, provinces)
            groups = _groups(summary["clusters"])
            scores = score_linking(summary["clusters"], truth, ids, hard_negatives)
            kind = "by province" if args.partitions == "province" else f"{args.partitions} commune groups"
            engine = f"duckdb, {kind}" + (
                f", trained on >= {args.train_records} records" if args.train_records else "")
            row = {"scale": name, "engine": engine, "records": summary["records"],
                   "seconds": figures.pop("seconds"), "peak_memory_mb": figures.pop("peak_memory_mb"),
                   "persons": summary["persons"], "pairs_scored": summary["pairs_scored"],
                   "clusters_equal_to_duckdb": round(len(groups & reference) / len(reference), 4),
                   "precision": scores["precision"], "recall": scores["recall"], **figures}
            features = _features(url)
            counts, differing = _differences(reference_clusters, summary["clusters"], features, partitions, truth)
            row["movers"] = _movers(reference_clusters, summary["clusters"], features, partitions, truth)
            row["cross_partition_refused"] = summary.get("cross_partition_refused")
            row["differences"] = counts
            if args.differences:
                args.differences.write_text(json.dumps(differing, ensure_ascii=False, indent=1), encoding="utf-8")
            # Again with the model just stored, as a partitioned night runs (the plan does not train).
            again, figures = _partitioned(url, partitions, provinces, reuse_model=True)
            row["with_stored_model"] = {k: figures[k] for k in ("seconds", "peak_memory_mb", "seconds_if_parallel",
                                                                "seconds_by_step", "peak_memory_mb_by_step")}
            row["with_stored_model"]["same_person_ids"] = again["clusters"] == summary["clusters"]
            rows.append(row)
            print(" ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps({"bench": "scale", "scale": args.scale, "setting": args.setting, "people": args.people,
                      "seed": args.seed,
                      "spark_master": args.spark_master,
                      "runs": rows}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
