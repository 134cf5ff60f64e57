"""Benchmark of dbt models on a built warehouse: their build's seconds, temporary files and rows, against
the same models at another revision in the same run.

    uv run python bench/model.py --scale demo --model int_review__record_flags [--against REV] [--runs 2]
    uv run python bench/model.py --warehouse DIR --model NAME ...   # a folder kept by bench/e2e.py --keep DIR
    uv run python bench/model.py --model NAME NAME ...              # several models in one dbt run

The warehouse is the one `bench/e2e.py --keep DIR` left in DIR (`--warehouse DIR`), else
`.lienthong/bench/model-<scale>-<seed>`, built the first time from the sample (generated once into
`.lienthong/samples/<scale>-<seed>`, as bench/e2e.py does) by its first delivery day through the real
DAGs. The models are then rebuilt alone, in one dbt run (`dbt run -s MODEL ... --full-refresh`, or
`--incremental` for a run on what is there), `--runs` times: a change that reshapes several models is
measured as a whole. With `--against REV` the revision's models (its whole checkout: `git archive REV`)
and this checkout's alternately, the revision first, so the relations are left as this checkout builds
them. Per run: dbt's seconds for each node (run_results.json) and their sum, the whole dbt process's, the
temporary files PostgreSQL wrote (pg_stat_database) and the most on disk at once (pg_ls_tmpdir(),
sampled twice a second), each relation's rows and a digest of them (order-free), the load average.
Temporary-file figures count the whole server: run it when nothing else uses that warehouse.
Prints a line per run, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from lienthong.config.settings import load_settings
from lienthong.pipeline.nightly import run_nightly
from lienthong.ports import free_port
from lienthong.sample import generate
from lienthong.warehouse import connect, resolve_url
from lienthong.warehouse.connection import embedded_server

REPO = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


class TempPeak:
    """The most bytes of temporary files on the server at once, sampled on a connection of its own."""

    def __init__(self, url: str):
        self.url, self.peak, self.error = url, 0, None
        self._stop = threading.Event()

    def _run(self) -> None:
        try:
            with connect(self.url, autocommit=True) as conn:
                while not self._stop.is_set():
                    size = conn.execute("select coalesce(sum(size), 0) from pg_ls_tmpdir()").fetchone()[0]
                    self.peak = max(self.peak, int(size))
                    self._stop.wait(0.5)
        except Exception as error:  # no right to pg_ls_tmpdir (not a superuser or pg_monitor): no figure
            self.error = str(error).strip().splitlines()[0]

    def __enter__(self) -> TempPeak:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def temp_written(url: str) -> int:
    with connect(url, autocommit=True) as conn:
        return int(conn.execute("select temp_bytes from pg_stat_database where datname = current_database()")
                   .fetchone()[0])


def rows_and_digest(url: str, relation: str) -> tuple[int, str]:
    """Row count and the sum of the rows' md5 prefixes: equal for equal rows in any order."""
    with connect(url, autocommit=True) as conn:
        count, digest = conn.execute(
            f"select count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text"
            f" from {relation} as t").fetchone()
    return int(count), digest


def build_once(checkout: Path, state: Path, url: str, models: list[str], incremental: bool) -> dict:
    """`lienthong dbt run -s MODEL ...` with ``checkout``'s package and dbt project (its own dbt folder
    under ``state``), timed; each node's seconds and relation from the run's own artifacts."""
    env = {**os.environ, "PYTHONPATH": str(checkout / "include"), "LIENTHONG_HOME": str(checkout),
           "LIENTHONG_STATE_DIR": str(state), "LIENTHONG_WAREHOUSE_URL": url}
    command = [sys.executable, "-m", "lienthong.cli", "dbt", "run", "-s", *models, "--threads", "1",
               *([] if incremental else ["--full-refresh"])]
    written_before = temp_written(url)
    with TempPeak(url) as peak:
        started = time.perf_counter()
        run = subprocess.run(command, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
    time.sleep(1)  # the dbt connection's statistics reach pg_stat_database as its backend exits
    figures = {"ok": run.returncode == 0, "wall_s": round(wall, 1),
               "temp_written_mb": round((temp_written(url) - written_before) / MB),
               "temp_peak_mb": round(peak.peak / MB) if peak.error is None else None,
               "load_1m": round(os.getloadavg()[0], 2)}
    target = state / "dbt_project" / "target"
    results = json.loads((target / "run_results.json").read_text())["results"] if run.returncode in (0, 1) else []
    nodes = {r["unique_id"].split(".")[-1]: r for r in results}
    missing = [m for m in models if m not in nodes]
    figures["seconds"] = None if missing else round(sum(nodes[m]["execution_time"] for m in models), 1)
    if figures["ok"] and missing:
        figures["ok"], figures["error"] = False, f"dbt built no model named {', '.join(missing)}: check the names"
    if not figures["ok"]:
        failed = [nodes[m]["message"] for m in models if m in nodes and nodes[m].get("status") != "success"]
        figures.setdefault("error", "; ".join(failed) or (run.stdout + run.stderr).strip()[-500:])
        return figures
    manifest = json.loads((target / "manifest.json").read_text())
    relations = {n["name"]: n["relation_name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    figures["models"] = {}
    for model in models:
        rows, digest = rows_and_digest(url, relations[model])
        figures["models"][model] = {"seconds": round(nodes[model]["execution_time"], 1), "rows": rows,
                                    "digest": digest}
    return figures


def first_day_warehouse(folder: Path, scale: str, seed: int) -> None:
    """The sample's first delivery day through the real DAGs into ``folder`` (once)."""
    sample = REPO / ".lienthong" / "samples" / f"{scale}-{seed}"
    if not (sample / "manifest.json").exists():
        print(f"generating the {scale} sample (seed {seed}) in {sample} …", flush=True)
        generate(scale, seed, sample)
    os.environ["LIENTHONG_SAMPLE_DIR"] = str(sample)
    first = date.fromisoformat(json.loads((sample / "manifest.json").read_text())["deliveries"]["from"])
    print(f"building the warehouse in {folder}: the first day {first} …", flush=True)
    result = run_nightly(first, load_settings(), echo=lambda line: print(f"  {line}", flush=True))
    if result.failed:
        sys.exit(f"the first day failed: {', '.join(str(r.log) for r in result.failed)}")
    (folder / "built").write_text(first.isoformat())


def summary(runs: list[dict]) -> dict:
    done = [r for r in runs if r["ok"]]
    return {"runs": runs, "ok": len(done) == len(runs),
            "seconds_min": min((r["seconds"] for r in done), default=None),
            "temp_written_mb_max": max((r["temp_written_mb"] for r in done), default=None),
            "temp_peak_mb_max": max((r["temp_peak_mb"] or 0 for r in done), default=None),
            "models": {model: {"seconds_min": min(r["models"][model]["seconds"] for r in done),
                               "rows": figures["rows"], "digest": figures["digest"]}
                       for model, figures in (done[-1]["models"].items() if done else ())}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, nargs="+", help="the dbt models' names (one dbt run)")
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--warehouse", type=Path, help="a folder bench/e2e.py --keep left (its state/ is used)")
    parser.add_argument("--against", help="a git revision whose model is built alternately with this checkout's")
    parser.add_argument("--runs", type=int, default=2, help="builds per version")
    parser.add_argument("--incremental", action="store_true", help="an incremental run, not --full-refresh")
    args = parser.parse_args()

    folder = (args.warehouse or REPO / ".lienthong" / "bench" / f"model-{args.scale}-{args.seed}").resolve()
    if args.warehouse and not (folder / "state" / "pgdata").exists():
        sys.exit(f"{folder} has no warehouse (state/pgdata): give a folder bench/e2e.py --keep left")
    for name in ("LIENTHONG_WAREHOUSE_URL", "LIENTHONG_DROP_DIR", "LIENTHONG_REFERENCE_DIR"):
        os.environ.pop(name, None)
    os.environ.update({"LIENTHONG_STATE_DIR": str(folder / "state"), "LIENTHONG_OUTPUT_DIR": str(folder / "output"),
                       "LIENTHONG_PG_PORT": str(free_port())})
    settings = load_settings()
    url = resolve_url(settings, start=True)
    try:
        if not args.warehouse and not (folder / "built").exists():
            first_day_warehouse(folder, args.scale, args.seed)
        with tempfile.TemporaryDirectory(prefix="lienthong-bench-model-") as scratch:
            work = Path(scratch)
            versions = {"current": REPO}
            if args.against:
                versions = {"against": work / "against", "current": REPO}
                versions["against"].mkdir()
                archive = subprocess.run(["git", "-C", str(REPO), "archive", args.against], capture_output=True,
                                         check=True).stdout
                subprocess.run(["tar", "-x", "-C", str(versions["against"])], input=archive, check=True)
            runs: dict[str, list[dict]] = {label: [] for label in versions}
            for round_ in range(args.runs):
                for label, checkout in versions.items():
                    figures = build_once(checkout, work / f"state-{label}", url, args.model, args.incremental)
                    runs[label].append(figures)
                    print(f"{label} run {round_ + 1}: " + ", ".join(f"{k} {v}" for k, v in figures.items()
                                                                   if k != "models"), flush=True)
                    for model, by_model in figures.get("models", {}).items():
                        print(f"  {model}: " + ", ".join(f"{k} {v}" for k, v in by_model.items()), flush=True)
    finally:
        embedded_server(settings).stop()

    result = {"bench": "model", "models": args.model, "warehouse": str(folder), "cpus": os.cpu_count(),
              "mode": "incremental" if args.incremental else "full-refresh", "against": args.against,
              **{label: summary(r) for label, r in runs.items()}}
    if args.against and result["current"]["ok"] and result["against"]["ok"]:
        # Per model: the same rows (count and digest) from both revisions.
        result["same_rows"] = {model: (figures["rows"], figures["digest"]) == (
            result["against"]["models"][model]["rows"], result["against"]["models"][model]["digest"])
            for model, figures in result["current"]["models"].items()}
        result["seconds_ratio"] = round(result["current"]["seconds_min"] / result["against"]["seconds_min"], 3) \
            if result["against"]["seconds_min"] else None
    print(json.dumps(result, ensure_ascii=False))
    return 0 if all(s["ok"] for s in (result.get("current"), result.get("against")) if s) else 1


if __name__ == "__main__":
    sys.exit(main())
