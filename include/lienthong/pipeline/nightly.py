"""Run the nightly pipeline the way the scheduler would, without a scheduler.

Each DAG runs through `airflow dags test` (a real DAG run: real tasks, real retries off), in the
order the assets would trigger them: every organisation's ingest, then the warehouse build, then
the review. An organisation whose ingest fails does not stop the others; the run reports it.
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from lienthong.config.organisations import load_organisations
from lienthong.config.settings import PRIVATE_UMASK, Settings, load_settings, make_private
from lienthong.pipeline.airflow_env import airflow_environment, airflow_executable
from lienthong.pipeline.sample_sources import sample_api_connections
from lienthong.review.report import output_folder
from lienthong.warehouse import ensure_ready, resolve_url
from lienthong.warehouse.connection import mask

# Lines our task bodies print ("[ingest] …", "[quality] …") are the story worth showing.
_STORY = re.compile(r"^\[(ingest|warehouse|linking|access|quality|review|site)\] ")


@dataclass
class DagRunResult:
    dag_id: str
    ok: bool
    seconds: float
    log: Path
    story: list[str] = field(default_factory=list)


@dataclass
class NightlyResult:
    day: date
    runs: list[DagRunResult] = field(default_factory=list)
    review_folder: Path | None = None

    @property
    def failed(self) -> list[DagRunResult]:
        return [run for run in self.runs if not run.ok]


def ensure_airflow_metadata(settings: Settings, env: dict[str, str]) -> None:
    """`airflow db migrate` once per Airflow version (it takes seconds; a second run skips it)."""
    from importlib.metadata import version

    # Airflow's metadata and task logs carry run parameters and error messages: the owner's alone.
    make_private(settings.airflow_home)
    marker = settings.airflow_home / f".migrated-{version('apache-airflow-core')}"
    if marker.exists():
        return
    subprocess.run([airflow_executable(), "db", "migrate"], env=env, check=True, umask=PRIVATE_UMASK,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    marker.touch(mode=0o600)


def run_dag(dag_id: str, day: date, env: dict[str, str], log_dir: Path) -> DagRunResult:
    """One real DAG run via `airflow dags test`; its full output goes to a log file."""
    make_private(log_dir)
    log = log_dir / f"{dag_id}.log"
    started = time.monotonic()
    with log.open("w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        # The run's files (task logs, spooled pages, Airflow's metadata) are private whoever calls.
        code = subprocess.call([airflow_executable(), "dags", "test", dag_id, day.isoformat()], env=env,
                               umask=PRIVATE_UMASK, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    story = [line.rstrip() for line in log.read_text(errors="replace").splitlines() if _STORY.match(line)]
    return DagRunResult(dag_id, code == 0, time.monotonic() - started, log, story)


def not_built_from(runs: list[DagRunResult]) -> list[str]:
    """What tonight's build leaves out and why: failed, rejected and held deliveries, per organisation."""
    lines = []
    for run in runs:
        if not run.dag_id.startswith("ingest_"):
            continue
        reasons = [line.split("] ", 1)[-1] for line in run.story
                   if ": FAILED" in line or " REJECTED" in line or ": HELD" in line]
        if not run.ok and not reasons:
            reasons = [f"its ingest failed (log: {run.log})"]
        lines += [f"  not built from: {reason}" for reason in reasons]
    if lines:
        lines.insert(0, "  building from the batches that are live; left out tonight (earlier live batches stay):")
    return lines


def run_nightly(day: date, settings: Settings | None = None, echo: Callable[[str], None] = print) -> NightlyResult:
    settings = settings or load_settings()
    make_private(settings.state_dir)
    url = resolve_url(settings, start=True)
    ensure_ready(url)
    echo(f"warehouse: {mask(url)}")
    env = airflow_environment(settings, url)
    ensure_airflow_metadata(settings, env)
    log_dir = settings.state_dir / "logs" / "nightly" / day.isoformat()

    result = NightlyResult(day)
    dag_ids = [f"ingest_{org.code}" for org in load_organisations()] + ["warehouse_build", "review_monthly"]
    with sample_api_connections(settings, env) as env:
        for number, dag_id in enumerate(dag_ids, start=1):
            if dag_id == "warehouse_build":
                for line in not_built_from(result.runs):
                    echo(line)
            echo(f"[{number}/{len(dag_ids)}] {dag_id} for {day} …")
            run = run_dag(dag_id, day, env, log_dir)
            result.runs.append(run)
            for line in run.story:
                echo(f"      {line}")
            echo(f"      {'ok' if run.ok else 'FAILED'} in {run.seconds:.0f} s (log: {run.log})")
            if dag_id == "warehouse_build" and not run.ok:
                echo("  the warehouse build failed, so no review is rendered; see its log above")
                break
    folder = output_folder(settings.output_dir, day.strftime("%Y-%m"))
    if result.runs[-1].dag_id == "review_monthly" and result.runs[-1].ok:
        result.review_folder = folder
    return result


def backfill(dag_ids: list[str], days: list[date], settings: Settings | None = None,
             echo: Callable[[str], None] = print) -> list[DagRunResult]:
    """Run DAGs for each day in order, without a scheduler (the same DAG code as nightly)."""
    settings = settings or load_settings()
    make_private(settings.state_dir)
    url = resolve_url(settings, start=True)
    ensure_ready(url)
    env = airflow_environment(settings, url)
    ensure_airflow_metadata(settings, env)
    runs = []
    with sample_api_connections(settings, env) as env:
        for day in days:
            for dag_id in dag_ids:
                run = run_dag(dag_id, day, env, settings.state_dir / "logs" / "backfill" / day.isoformat())
                runs.append(run)
                status = "ok" if run.ok else f"FAILED (log: {run.log})"
                echo(f"{day} {dag_id}: {status}; " + "; ".join(line.split("] ", 1)[-1] for line in run.story))
    return runs
