"""Benchmark of the whole pipeline: the first delivery day and one night through the real DAGs.

    uv run python bench/e2e.py --scale demo|province [--seed 42] [--sample DIR] [--keep DIR] [--nights N]

The sample is generated once into `.lienthong/samples/<scale>-<seed>` (or `--sample`) and reused.
Into a fresh state folder (its own embedded PostgreSQL, Airflow home and output), the first day (every
organisation's full roll and a year of dues and attendance) and then the next day (a night of changes;
`--nights N`: the N next days, one night each) are run the way `lienthong run` runs them
(`lienthong.pipeline.nightly.run_nightly`: `airflow dags test` per DAG). Per stage (the ingests,
`warehouse_build`, `review_monthly`): wall time, peak resident memory of any single process of the
pipeline's process tree and of the tree as a whole (sampled with psutil), and the same for PostgreSQL's
processes; per Airflow task its duration from Airflow's metadata, and each DAG run's overhead (wall time
minus its tasks); for `warehouse_build`, the seconds dbt printed per node (its log), summed per kind, and
the slowest. After the first day, the server's COPY ceiling is measured on the rows that day landed
(bench/ingest.py's plain COPY FROM STDIN), in the same run on the same server.
A DAG run that fails is named in its day's `failed` (with its log) and the bench goes on; it then
exits 1 after the figures.
Prints human lines, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import psutil
from sqlalchemy import create_engine, text

from ingest import copy_ceiling  # bench/ingest.py: the same ceiling the landing bench compares with
from lienthong.config.settings import load_settings
from lienthong.pipeline.airflow_env import airflow_environment
from lienthong.pipeline.nightly import run_nightly
from lienthong.ports import free_port
from lienthong.sample import generate
from lienthong.warehouse import connect, resolve_url

REPO = Path(__file__).resolve().parents[1]
SAMPLE_INTERVAL_S = 0.2


class PeakMemory:
    """Peak RSS of this process's descendants and of the PostgreSQL server's processes, sampled."""

    def __init__(self, postmaster_pid: int | None):
        self.postmaster_pid = postmaster_pid
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reset()

    def reset(self) -> None:
        self.any_process = self.tree = self.postgres_any = self.postgres_tree = 0

    @staticmethod
    def _rss(root: psutil.Process, include_root: bool) -> list[int]:
        sizes = []
        for proc in ([root] if include_root else []) + root.children(recursive=True):
            try:
                sizes.append(proc.memory_info().rss)
            except psutil.Error:  # it ended between listing and reading
                pass
        return sizes

    def _sample(self) -> None:
        me = psutil.Process()
        postmaster = psutil.Process(self.postmaster_pid) if self.postmaster_pid else None
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            ours = self._rss(me, include_root=True)
            self.any_process = max(self.any_process, *ours)
            self.tree = max(self.tree, sum(ours))
            if postmaster:
                try:
                    theirs = self._rss(postmaster, include_root=True)
                except psutil.Error:
                    continue
                self.postgres_any = max(self.postgres_any, *theirs)
                self.postgres_tree = max(self.postgres_tree, sum(theirs))

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def figures(self) -> dict:
        mb = 1 << 20
        return {"peak_mb_any_process": round(self.any_process / mb), "peak_mb_tree": round(self.tree / mb),
                "peak_mb_postgres_any": round(self.postgres_any / mb),
                "peak_mb_postgres_tree": round(self.postgres_tree / mb)}


def task_durations(airflow_db: str, dag_id: str) -> dict[str, float]:
    """Seconds per task of the DAG's latest run, from Airflow's own metadata (SQLAlchemy URL)."""
    engine = create_engine(airflow_db)
    try:
        with engine.connect() as db:
            rows = db.execute(text(
                "select task_id, coalesce(map_index, -1), duration from task_instance where dag_id = :dag and"
                " run_id = (select run_id from dag_run where dag_id = :dag order by id desc limit 1)"),
                {"dag": dag_id}).fetchall()
    finally:
        engine.dispose()
    durations: dict[str, float] = {}
    for task_id, _index, duration in rows:
        durations[task_id] = round(durations.get(task_id, 0.0) + (duration or 0.0), 1)
    return durations


# A dbt node's line in a build log ("12 of 281 OK created sql table model bi.x .... [SELECT 9 in 1.23s]"):
# what kind of node, its name, its seconds.
_DBT_NODE = re.compile(r"\d+ of \d+ (?:(PASS|WARN \d+|FAIL \d+) (\S+)|OK (created sql \w+ model|loaded seed file|snapshotted)"
                       r" (\S+)) .*\bin (\d+(?:\.\d+)?)s\]")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def dbt_node_seconds(log: Path, top: int = 10) -> dict:
    """The seconds dbt printed per node in a build's log, summed (over its stages and threads) per kind
    of node (model materialisation, seed, snapshot, data test), and the slowest nodes."""
    nodes = []
    for line in log.read_text(errors="replace").splitlines():
        if match := _DBT_NODE.search(_ANSI.sub("", line)):
            status, test, action, name, seconds = match.groups()
            kind = "data test" if status else {"loaded seed file": "seed", "snapshotted": "snapshot"}.get(
                action, action.removeprefix("created sql ").removesuffix(" model"))
            nodes.append((kind, test or name, float(seconds)))
    by_kind: dict[str, list] = {}
    for kind, _name, seconds in nodes:
        count_seconds = by_kind.setdefault(kind, [0, 0.0])
        count_seconds[0] += 1
        count_seconds[1] += seconds
    return {"node_seconds": round(sum(s for _k, _n, s in nodes), 1), "nodes": len(nodes),
            "by_kind": {k: {"nodes": c, "seconds": round(s, 1)} for k, (c, s) in sorted(by_kind.items())},
            "slowest": [[name, kind, seconds] for kind, name, seconds in sorted(nodes, key=lambda n: -n[2])[:top]]}


def run_day(day: date, memory: PeakMemory, airflow_db: str) -> dict:
    """One night through the DAGs: wall time and peaks per stage, and per DAG run its tasks' durations."""
    stages: dict[str, dict] = {}

    @contextmanager
    def stage(name: str):
        memory.reset()
        started = time.perf_counter()
        try:
            yield
        finally:
            stages[name] = {"seconds": round(time.perf_counter() - started, 1), **memory.figures()}

    started = time.perf_counter()
    result = run_nightly(day, load_settings(), echo=lambda line: print(f"  {line}", flush=True), stage=stage)
    total = time.perf_counter() - started
    # A failed run is reported with the day's figures, not in their place (a province day is an hour).
    failed = [{"dag_id": r.dag_id, "log": str(r.log)} for r in result.failed]
    for run in failed:
        print(f"  {day}: {run['dag_id']} FAILED (log: {run['log']}); its figures are kept", flush=True)
    runs = {}
    for run in result.runs:
        tasks = task_durations(airflow_db, run.dag_id)
        # What the DAG run cost above its tasks: Airflow's start-up, parsing, bookkeeping.
        runs[run.dag_id] = {"seconds": round(run.seconds, 1), "tasks": tasks,
                            "airflow_overhead_s": round(run.seconds - sum(tasks.values()), 1)}
        if run.dag_id == "warehouse_build":
            runs[run.dag_id]["dbt_nodes"] = dbt_node_seconds(run.log)
    return {"day": day.isoformat(), "seconds": round(total, 1), "stages": stages, "dag_runs": runs, "failed": failed,
            "peak_mb_any_process": max(s["peak_mb_any_process"] for s in stages.values()),
            "peak_mb_postgres_any": max(s["peak_mb_postgres_any"] for s in stages.values())}


def landed(url: str, day: date) -> int:
    """Rows the day's deliveries brought (landed or quarantined) in the live and held batches."""
    with connect(url) as conn:
        return int(conn.execute("select coalesce(sum(row_count + quarantined_count), 0) from raw.batches"
                                " where delivery_date = %s and status in ('loaded', 'held')", (day,)).fetchone()[0])


def stage_summary(night: dict) -> dict:
    """The stages as the issue counts them: ingests, dbt, linking, GX gate, review."""
    runs = night["dag_runs"]
    ingests = [v for k, v in runs.items() if k.startswith("ingest_")]
    build = runs.get("warehouse_build", {}).get("tasks", {})
    return {
        "airflow_metadata_s": night["stages"]["airflow_metadata"]["seconds"],  # migration (first day) or check
        "ingests_s": night["stages"]["ingests"]["seconds"],
        "landing_tasks_s": round(sum(sum(v["tasks"].values()) for v in ingests), 1),
        "dbt_s": round(build.get("dbt_staging", 0) + build.get("dbt_marts", 0), 1),
        "linking_s": build.get("link_people"),
        "gx_gate_s": build.get("validate_marts"),
        "warehouse_build_s": runs.get("warehouse_build", {}).get("seconds"),
        "review_s": runs.get("review_monthly", {}).get("seconds"),
        "dbt_node_s": runs.get("warehouse_build", {}).get("dbt_nodes", {}).get("node_seconds"),
        "airflow_overhead_s": round(sum(v["airflow_overhead_s"] for v in runs.values()), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sample", type=Path, help="a generated sample (default: .lienthong/samples/<scale>-<seed>)")
    parser.add_argument("--keep", type=Path, help="keep the state folder (database, Airflow, output) here")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the COPY ceiling")
    parser.add_argument("--nights", type=int, default=1,
                        help="nights of changes after the first day (the sample's first night is a Sunday, when the"
                             " weekly tests run: 2 or more show a weekday night too)")
    args = parser.parse_args()

    sample = (args.sample or REPO / ".lienthong" / "samples" / f"{args.scale}-{args.seed}").resolve()
    generated_s = None
    if not (sample / "manifest.json").exists():
        print(f"generating the {args.scale} sample (seed {args.seed}) in {sample} …", flush=True)
        started = time.perf_counter()
        generate(args.scale, args.seed, sample)
        generated_s = round(time.perf_counter() - started, 1)
    deliveries = json.loads((sample / "manifest.json").read_text())["deliveries"]
    first = date.fromisoformat(deliveries["from"])
    if not 1 <= args.nights < deliveries["days"]:
        parser.error(f"--nights: 1 to {deliveries['days'] - 1} (the sample delivers {deliveries['days']} days)")

    work = (args.keep or Path(tempfile.mkdtemp(prefix=f"lienthong-bench-e2e-{args.scale}-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    for name in ("LIENTHONG_WAREHOUSE_URL", "LIENTHONG_DROP_DIR", "LIENTHONG_REFERENCE_DIR"):
        os.environ.pop(name, None)
    os.environ.update({"LIENTHONG_STATE_DIR": str(work / "state"), "LIENTHONG_SAMPLE_DIR": str(sample),
                       "LIENTHONG_OUTPUT_DIR": str(work / "output"), "LIENTHONG_PG_PORT": str(free_port())})
    settings = load_settings()
    load_before = os.getloadavg()
    url = resolve_url(settings, start=True)
    postmaster = int((settings.pgdata / "postmaster.pid").read_text().split()[0])
    airflow_db = airflow_environment(settings, url)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]  # as the runs get it
    try:
        with PeakMemory(postmaster) as memory:
            print(f"first day {first} ({args.scale}) …", flush=True)
            first_day = run_day(first, memory, airflow_db)
            first_day["rows"] = landed(url, first)
            ceiling = None
            if not args.no_ceiling:
                print("ceiling: plain COPY of the first day's rows …", flush=True)
                ceiling = copy_ceiling(url, work, ways=("server",))["server"]
            nights = []
            for n in range(1, args.nights + 1):
                night_day = first + timedelta(days=n)
                print(f"night {n} of {args.nights}: {night_day} ({night_day:%A}) …", flush=True)
                nights.append(run_day(night_day, memory, airflow_db))
                nights[-1]["rows"] = landed(url, night_day)
    finally:
        from lienthong.warehouse.connection import embedded_server

        embedded_server(settings).stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    for label, figures in (("first day", first_day), *((f"night {n}", f) for n, f in enumerate(nights, 1))):
        figures["summary"] = stage_summary(figures)
        print(f"{label} {figures['day']}: {figures['seconds']:.0f} s, {figures['rows']:,} rows, peak "
              f"{figures['peak_mb_any_process']} MB (any pipeline process), PostgreSQL "
              f"{figures['peak_mb_postgres_any']} MB; {figures['summary']}")
        if nodes := figures["dag_runs"].get("warehouse_build", {}).get("dbt_nodes"):
            print(f"  dbt: {nodes['node_seconds']} node seconds over {nodes['nodes']} nodes {nodes['by_kind']};"
                  f" slowest {nodes['slowest']}")

    def to_first_day_dbt(night: dict) -> float | None:
        return round(night["summary"]["dbt_s"] / first_day["summary"]["dbt_s"], 3) if first_day["summary"]["dbt_s"] else None

    landing_s = first_day["summary"]["landing_tasks_s"]
    landing_rate = round(first_day["rows"] / landing_s) if landing_s else None
    result = {
        "bench": "e2e", "scale": args.scale, "seed": args.seed, "cpus": os.cpu_count(),
        "load_avg_1_5_15_before": [round(x, 2) for x in load_before],
        "generated_s": generated_s,
        # "night": the first night (as before --nights); "later_nights": the others, in order.
        "first_day": first_day, "night": nights[0], "later_nights": nights[1:],
        "ceiling_copy": ceiling,
        "first_day_landing_rows_per_s": landing_rate,
        "landing_to_ceiling": round(landing_rate / ceiling["rows_per_s"], 3)
        if ceiling and landing_rate and ceiling["rows_per_s"] else None,
        "night_to_first_day_dbt": to_first_day_dbt(nights[0]),
        "nights_to_first_day_dbt": {f["day"]: to_first_day_dbt(f) for f in nights},
    }
    print(json.dumps(result, ensure_ascii=False))
    return 1 if first_day["failed"] or any(f["failed"] for f in nights) else 0


if __name__ == "__main__":
    sys.exit(main())
