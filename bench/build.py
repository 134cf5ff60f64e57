"""Benchmark of the dbt warehouse build: full build time, nightly incremental build time after one
day of changes, their ratio, and peak memory.

    uv run python bench/build.py --scale tiny|demo|province [--sample DIR] [--keep DIR]

All delivery days but the last are landed into a fresh embedded PostgreSQL (not timed), then the
warehouse models are built from scratch (`dbt build --full-refresh`, timed: the full build); the last
day is landed and the warehouse built again (`dbt build`, timed: the nightly incremental build).
Peak memory: the largest resident set of the dbt process (ru_maxrss of children) and PostgreSQL's
largest backend is not included (it is bounded by work_mem and shared_buffers).
Per-node seconds come from dbt's run_results.json (the ten slowest of each build are printed).
Prints human lines, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import date
from pathlib import Path

from lienthong.config.organisations import load_organisations
from lienthong.config.settings import load_settings
from lienthong.landing.ingest import ingest
from lienthong.pipeline.dbt_env import dbt_environment, dbt_project
from lienthong.ports import free_port
from lienthong.sample import generate
from lienthong.sample.api_server import DEFAULT_TOKEN, serve_in_background
from lienthong.warehouse import connect, ensure_ready
from lienthong.warehouse.embedded import EmbeddedPostgres

# The warehouse proper: staging, intermediate, marts, snapshots, the scorecard and the commune report.
SELECT = ["+fct_member_month", "+fct_membership_history", "+dim_org_unit", "+rpt_dq_scorecard",
          "+rpt_members_by_commune", "+int_people__source_records", "+dim_date", "+dim_organisation",
          "+dim_admin_unit", "+dim_person"]


def node_seconds(work: Path) -> dict[str, float]:
    """Seconds per model, seed, snapshot and test of the last dbt run (its run_results.json)."""
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".", 1)[1]: round(r["execution_time"], 2) for r in results}


def top(nodes: dict[str, float], n: int = 10) -> dict[str, float]:
    return dict(sorted(nodes.items(), key=lambda kv: -kv[1])[:n])


def dbt(url: str, work: Path, *args: str) -> float:
    project = dbt_project(load_settings())  # the configured organisations, rendered in the state folder
    command = [str(Path(sys.executable).with_name("dbt")), *args, "--select", *SELECT,
               "--project-dir", str(project), "--profiles-dir", str(project),
               "--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    started = time.perf_counter()
    tail: deque[str] = deque(maxlen=60)
    # dbt's own lines are shown as they come (a province build runs for many minutes).
    with subprocess.Popen(command, env=dbt_environment(url), cwd=project, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as run:
        for line in run.stdout:
            tail.append(line)
            print(f"  dbt | {line}", end="", flush=True)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        sys.exit(f"dbt {' '.join(args)} failed:\n{''.join(tail)}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sample", type=Path, help="an existing sample of that scale (default: generate one)")
    parser.add_argument("--keep", type=Path, help="keep the work folder (database, sample) here")
    args = parser.parse_args()

    # Absolute: dbt runs in the rendered project folder, and its --target-path is under `work`.
    work = (args.keep or Path(tempfile.mkdtemp(prefix=f"lienthong-bench-build-{args.scale}-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    sample = args.sample or work / "sample"
    if not args.sample:
        generate(args.scale, args.seed, sample)
    days = sorted(date.fromisoformat(p.name) for p in (sample / "deliveries").glob("*/*") if p.is_dir())
    days = sorted(set(days))
    server = EmbeddedPostgres(work / "pgdata", free_port())
    url = server.start()
    api = serve_in_background(sample)
    try:
        ensure_ready(url)
        base = f"http://:{DEFAULT_TOKEN}@127.0.0.1:{api.server_address[1]}"
        os.environ.update({"LIENTHONG_WAREHOUSE_URL": url, "LIENTHONG_STATE_DIR": str(work / "state"),
                           "LIENTHONG_SAMPLE_DIR": str(sample), "LIENTHONG_DROP_DIR": str(sample / "deliveries"),
                           "AIRFLOW_CONN_DOAN_TN_API": base, "AIRFLOW_CONN_CONG_DOAN_API": base})
        settings = load_settings()

        def land(day: date) -> None:
            started = time.perf_counter()
            rows = 0
            for org in load_organisations():
                for entity in org.entities:
                    result = ingest(org.code, entity.kind, day, settings=settings)
                    rows += result.row_count if result else 0
            print(f"landed {day}: {rows:,} rows in {time.perf_counter() - started:.0f} s", flush=True)

        for day in days[:-1]:
            land(day)
        full = dbt(url, work, "build", "--full-refresh")
        full_nodes = node_seconds(work)
        land(days[-1])
        with connect(url) as conn:
            changed = conn.execute("select coalesce(sum(row_count), 0) from raw.batches where status = 'loaded'"
                                   " and delivery_date = %s", (days[-1],)).fetchone()[0]
            members = conn.execute("select count(*) from marts.fct_membership").fetchone()[0]
        incremental = dbt(url, work, "build")
        night_nodes = node_seconds(work)
        with connect(url) as conn:
            member_months = conn.execute("select count(*) from marts.fct_member_month").fetchone()[0]
    finally:
        api.shutdown()
        server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    figures = {
        "bench": "build",
        "scale": args.scale,
        "days": len(days),
        "full_build_s": round(full, 1),
        "incremental_build_s": round(incremental, 1),
        "incremental_to_full": round(incremental / full, 3),
        "last_day_rows": int(changed),
        "current_members": members,
        "member_months": member_months,
        "peak_memory_mb_dbt": round(peak_mb, 1),
        # dbt's own seconds per node (threads overlap, so they add up to more than the wall time).
        "full_nodes_s": round(sum(full_nodes.values()), 1),
        "night_nodes_s": round(sum(night_nodes.values()), 1),
        "full_top10": top(full_nodes),
        "night_top10": top(night_nodes),
    }
    for name, nodes in (("full build", full_nodes), ("night", night_nodes)):
        print(f"{name}: slowest nodes (s)")
        for node, seconds in top(nodes).items():
            print(f"  {seconds:8.2f}  {node}")
    print(f"scale {args.scale}: full build {full:.1f} s, nightly incremental {incremental:.1f} s "
          f"(ratio {figures['incremental_to_full']}), last day {changed:,} rows, peak dbt memory {peak_mb:.0f} MB")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
