"""Benchmark of person linkage against the sample's ground truth, with a plain Splink baseline.

    uv run python bench/matching.py --scale demo|province|tiny [--seed 42] [--sample DIR]

Generates the sample (or reuses the one cached in .lienthong/bench/sample-<scale>-<seed>), loads
the roster records delivered up to the day before the last into an embedded PostgreSQL of its own,
runs the linker in full, then the last day's changes incrementally, and the baseline on the full
set of records. Scores are pairwise precision / recall / F1 and people found vs true, over all
records delivered. Each engine runs in its own process so that its peak memory (ru_maxrss, the
interpreter included; the PostgreSQL server is not counted) is its own.
Prints human lines, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import psycopg

from lienthong.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "bench_source.roster_records"


def _in_child(function, *args):
    """Run ``function(*args)`` in a fresh process; return (its result, its peak memory in MB)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_measured, function, *args).result()


def _measured(function, *args):
    result = function(*args)
    return result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load_source(url: str, sample: Path, until: str | None) -> int:
    from lienthong.linking.sample_input import latest_records, write_source_table

    rows = latest_records(sample, until)
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists bench_source")
        write_source_table(conn, SOURCE, rows)
    return len(rows)


def _run_linker(url: str, incremental: bool) -> dict:
    from lienthong.linking.run import link_people

    started = time.perf_counter()
    summary = link_people(url, f"select * from {SOURCE}", incremental=incremental)
    summary["wall_seconds"] = round(time.perf_counter() - started, 2)
    with psycopg.connect(url) as conn:
        summary["clusters"] = dict(conn.execute("select record_uid, person_id from identity.record_person").fetchall())
    return summary


def _run_baseline(url: str) -> dict:
    from lienthong.linking.baseline import link
    from lienthong.linking.records import INPUT_COLUMNS

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        rows = [dict(zip(INPUT_COLUMNS, r)) for r in
                conn.execute(f"select {', '.join(INPUT_COLUMNS)} from {SOURCE}").fetchall()]
    clusters = link(rows)
    return {"clusters": clusters, "wall_seconds": round(time.perf_counter() - started, 2)}


def score(clusters: dict[str, str], truth: dict[str, str]) -> dict:
    """Pairwise precision, recall and F1 of ``clusters`` (uid -> cluster) against ``truth`` (uid -> person)."""
    from collections import Counter

    def pairs(counter: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    uids = [u for u in clusters if u in truth]
    true_positive = pairs(Counter((clusters[u], truth[u]) for u in uids))
    predicted = pairs(Counter(clusters[u] for u in uids))
    actual = pairs(Counter(truth[u] for u in uids))
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 5), "recall": round(recall, 5), "f1": round(f1, 5),
            "people_found": len({clusters[u] for u in uids}), "people_true": len({truth[u] for u in uids}),
            "records": len(uids), "true_pairs": actual, "predicted_pairs": predicted}


def _truth(sample: Path) -> dict[str, str]:
    with (sample / "truth" / "records.csv").open(encoding="utf-8") as handle:
        return {f"{r['org']}|{r['record_id']}": r["person_id"] for r in csv.DictReader(handle)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sample", type=Path, default=None, help="an existing sample folder")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    sample = args.sample or ROOT / ".lienthong" / "bench" / f"sample-{args.scale}-{args.seed}"
    if not (sample / "manifest.json").exists():
        from lienthong.sample import generate

        print(f"generating the {args.scale} sample into {sample} ...", flush=True)
        generate(args.scale, args.seed, sample)
    from lienthong.linking.sample_input import delivery_dates
    from lienthong.warehouse import ensure_ready
    from lienthong.warehouse.embedded import EmbeddedPostgres

    days = delivery_dates(sample)
    truth = _truth(sample)
    base = Path(tempfile.mkdtemp(prefix="lienthong-bench-pg-"))
    server = EmbeddedPostgres(base / "pgdata", free_port())
    url = server.start()
    try:
        ensure_ready(url)
        loaded = _load_source(url, sample, days[-2])
        print(f"{args.scale}: {loaded:,} records delivered up to {days[-2]}", flush=True)
        full, full_mb = _in_child(_run_linker, url, False)
        print(f"full run: {full['wall_seconds']} s, {full_mb:.0f} MB, {full['pairs_scored']:,} pairs scored, "
              f"timings {full['timings']}", flush=True)
        total = _load_source(url, sample, days[-1])
        night, night_mb = _in_child(_run_linker, url, True)
        print(f"incremental run ({days[-1]}): {night['changed']:,} new or changed of {total:,} records in "
              f"{night['wall_seconds']} s, {night_mb:.0f} MB, timings {night['timings']}", flush=True)
        ours = score(night["clusters"], truth)
        print(f"linker:   precision {ours['precision']}, recall {ours['recall']}, F1 {ours['f1']}, "
              f"people {ours['people_found']:,} found vs {ours['people_true']:,} true", flush=True)
        figures = {
            "bench": "matching", "scale": args.scale, "seed": args.seed, "records": total,
            "linker": {**ours, "seconds": full["wall_seconds"], "peak_memory_mb": round(full_mb, 1),
                       "review_queue": night["review_queue"], "persons": night["persons"]},
            "incremental": {"day": days[-1], "changed": night["changed"], "seconds": night["wall_seconds"],
                            "peak_memory_mb": round(night_mb, 1),
                            "fraction_of_full": round(night["wall_seconds"] / full["wall_seconds"], 3),
                            "events": night["events"]},
        }
        baseline = None
        if not args.no_baseline:
            try:
                baseline, baseline_mb = _in_child(_run_baseline, url)
            except BrokenProcessPool as err:  # killed, e.g. out of memory: report it, keep our figures
                print(f"baseline: failed ({err})", flush=True)
                figures["baseline"] = {"error": str(err)}
        if baseline is not None:
            theirs = score(baseline["clusters"], truth)
            print(f"baseline: precision {theirs['precision']}, recall {theirs['recall']}, F1 {theirs['f1']}, "
                  f"people {theirs['people_found']:,} found, {baseline['wall_seconds']} s, {baseline_mb:.0f} MB",
                  flush=True)
            figures["baseline"] = {**theirs, "seconds": baseline["wall_seconds"],
                                   "peak_memory_mb": round(baseline_mb, 1)}
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
