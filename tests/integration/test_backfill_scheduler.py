"""`airflow backfill create` carried out by a running scheduler (api-server, scheduler, dag-processor;
LocalExecutor; PostgreSQL metadata) leaves raw exactly as the scheduler-less `lienthong backfill` does
for the same days, and creating the same backfill again (reprocessing the completed runs) changes
nothing.

Each path lands in its own fresh database; the scheduler runs in its own Airflow home under the
test's temp folder, with its metadata in its own database on the test session's server (as in
production: SQLite next to a running scheduler refuses writes, and `backfill create` failed with
"database is locked" or left a half-made backfill), and is stopped (every process of its trees)
however the test ends."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import make_url

from lienthong.config.organisations import get_organisation
from lienthong.config.settings import TIMEZONE, load_settings
from lienthong.landing.raw import raw_table
from lienthong.pipeline.airflow_env import airflow_environment
from lienthong.pipeline.nightly import ensure_airflow_metadata
from support.airflow_services import AirflowServices
from lienthong.sample import generate
from lienthong.warehouse import connect

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timing]

ORG = "hoi_lhpn"  # a file-drop organisation: no API to serve
DAG_ID = f"ingest_{ORG}"


def project_settings(base: Path, sample: Path, url: str, **airflow):
    """Settings (and the Airflow environment) of one path: its state folder, the shared sample."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {"LIENTHONG_WAREHOUSE_URL": url, "LIENTHONG_STATE_DIR": str(base / "state"),
                           "LIENTHONG_SAMPLE_DIR": str(sample), "LIENTHONG_OUTPUT_DIR": str(base / "output"),
                           **airflow}.items():
            patch.setenv(key, value)
        # Unset unless given: the sample's drop and reference folders, this path's own metadata database.
        for key in ("LIENTHONG_DROP_DIR", "LIENTHONG_REFERENCE_DIR", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
            if key not in airflow:
                patch.delenv(key, raising=False)
        settings = load_settings()
        return settings, airflow_environment(settings, url)


def raw_state(url: str, with_ids: bool) -> dict:
    """What the ingest DAG leaves in the warehouse for the organisation, in a stable order.

    Without ids (to compare two databases): batch ids, load times and notes (they name batch ids)
    are left out. With ids (the same database before and after a rerun): every column."""
    org = get_organisation(ORG)
    batch_columns = "*" if with_ids else "entity, delivery_date, source, checksum, status, row_count, quarantined_count"
    state = {}
    with connect(url) as conn:
        state["batches"] = conn.execute(
            f"select {batch_columns} from raw.batches where org_code = %s"
            " order by entity, delivery_date, status, checksum", (ORG,)).fetchall()
        for entity in org.entities:
            name = f"{ORG}__{entity.kind}"
            columns = [c for (c,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' and table_name = %s"
                " order by column_name", (name,)) if with_ids or c != "batch_id"]
            if not columns:
                continue
            listed = ", ".join(f'"{c}"::text' for c in columns)
            state[entity.kind] = conn.execute(
                f"select {listed} from {raw_table(org, entity).as_string(conn)} order by {listed}").fetchall()
        state["quarantine"] = conn.execute(
            f"select {'batch_id, ' if with_ids else ''}entity, row_number, reason_code, reason, original::text"
            " from raw.quarantine where org_code = %s order by 1, 2, 3, 4, 5", (ORG,)).fetchall()
        state["checks"] = conn.execute(
            "select entity, suite, expectation, severity, success, count(*) from dq.validation_results"
            " where org_code = %s group by 1, 2, 3, 4, 5 order by 1, 2, 3, 4, 5", (ORG,)).fetchall()
    return state


def ingest_lines(services: AirflowServices, run_id: str) -> dict[str, tuple[int, list[str]]]:
    """Per task of a run: its latest attempt number and what it did: `[ingest] …` lines or why it skipped."""
    found = {}
    run_dir = services.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}"
    for task_id, text in services.task_logs(DAG_ID, run_id).items():
        attempt = max(int(p.stem.split("=")[1]) for p in (run_dir / f"task_id={task_id}").glob("attempt=*.log"))
        events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        found[task_id] = (attempt, [e["event"] if e["event"] != "Skipping task." else f"skipped: {e.get('reason')}"
                                    for e in events if e["event"].startswith("[ingest]") or e["event"] == "Skipping task."])
    return found


def session_metadata(airflow_env: dict[str, str], settings, env: dict[str, str], copy: bool) -> None:
    """Start from the session's migrated metadata database (a migration, or even the check that
    one is not needed, costs many seconds on a busy machine): used as is (`copy=False`), or copied
    into this path's own Airflow home when both are SQLite; else migrated."""
    source, target = (make_url(e["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]) for e in (airflow_env, env))
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    if copy and source.get_backend_name() == target.get_backend_name() == "sqlite":
        src, dst = sqlite3.connect(source.database), sqlite3.connect(target.database)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
    if not copy or source.get_backend_name() == target.get_backend_name() == "sqlite":
        for marker in Path(airflow_env["AIRFLOW_HOME"]).glob(".migrated-*"):  # see ensure_airflow_metadata
            shutil.copy(marker, settings.airflow_home)
    ensure_airflow_metadata(settings, env)


def backfill_create(services: AirflowServices, first: date, last: date, *extra: str) -> datetime:
    """`lienthong airflow backfill create …` (the README's command) over delivery days first..last.

    The range bounds logical dates; an ingest run's logical date is its data interval's start, 02:00
    local on the delivery day, so the bounds are those instants (a bare `--to-date` is midnight)."""
    before = datetime.now(UTC)
    done = subprocess.run(
        [shutil.which("lienthong"), "airflow", "backfill", "create", "--dag-id", DAG_ID,
         "--from-date", f"{first}T02:00", "--to-date", f"{last}T02:00", "--max-active-runs", "1", *extra],
        env=services.env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:] + "\n" + services.log_tail()
    return before


def test_backfill_create_under_a_running_scheduler_matches_the_cli_backfill_and_repeats_as_a_no_op(
        fresh_database, airflow_env, tmp_path):
    started = time.monotonic()
    sample = tmp_path / "sample"
    generate(scale="tiny", seed=7, people=1500, out=sample)
    first = date.fromisoformat(json.loads((sample / "manifest.json").read_text())["deliveries"]["from"])
    days = [first, first + timedelta(days=1)]  # the full roll's day and a day of changes

    with (fresh_database("backfill_cli") as cli_url, fresh_database("backfill_scheduler") as scheduler_url,
          fresh_database("airflow_metadata") as metadata_url):
        # The CLI path (`airflow dags test` per day, no scheduler) runs meanwhile, in its own database.
        cli_settings, cli_env = project_settings(tmp_path / "cli", sample, cli_url, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=(
            airflow_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]))
        session_metadata(airflow_env, cli_settings, cli_env, copy=False)
        # Two task slots for two cores; the DAG files parsed once, not again every 30 s.
        settings, env = project_settings(
            tmp_path / "scheduler", sample, scheduler_url, AIRFLOW__CORE__PARALLELISM="2",
            AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="3600",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=make_url(metadata_url).set(drivername="postgresql+psycopg2")
            .render_as_string(hide_password=False))
        session_metadata(airflow_env, settings, env, copy=True)
        cli_log = tmp_path / "cli-backfill.log"
        with cli_log.open("w") as log:
            cli = subprocess.Popen(
                [shutil.which("lienthong"), "backfill", "--org", ORG, "--from", str(days[0]), "--to", str(days[-1])],
                env=cli_env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            with AirflowServices(env, tmp_path / "services", schedule=False) as services:
                services.wait_ready([DAG_ID])
                services.unpause(DAG_ID)
                ready = time.monotonic()

                # 1. The backfill: one successful run per delivery day, each about its day, each landing.
                created = backfill_create(services, days[0], days[-1])
                backfill, runs = services.wait_backfill(DAG_ID, created, runs=len(days))
                local = ZoneInfo(TIMEZONE)
                assert [datetime.fromisoformat(r["data_interval_start"]).astimezone(local).date()
                        for r in sorted(runs, key=lambda r: r["logical_date"])] == days, runs
                landed = [line for r in runs for _, lines in ingest_lines(services, r["dag_run_id"]).values()
                          for line in lines if line.startswith("[ingest]")]
                assert landed and all(": loaded, " in line for line in landed), landed
                first_pass = time.monotonic()

                # 2. The warehouse is as the CLI backfill left it.
                assert cli.wait(timeout=1200) == 0, cli_log.read_text()[-4000:]
                assert raw_state(scheduler_url, with_ids=False) == raw_state(cli_url, with_ids=False)
                before = raw_state(scheduler_url, with_ids=True)
                assert before["batches"] and before["roster"], before["batches"]
                services.wait_backfill(DAG_ID, created)  # marked complete: only then takes another

                # 3. The same backfill again, rerunning the completed runs: every task runs a second
                # time, finds its day's file already landed (or again none sent), and nothing changes.
                again, reruns = services.wait_backfill(
                    DAG_ID, backfill_create(services, days[0], days[-1], "--reprocess-behavior", "completed"),
                    runs=len(runs))
                assert again["id"] != backfill["id"]
                assert sorted(r["dag_run_id"] for r in reruns) == sorted(r["dag_run_id"] for r in runs)
                for run in reruns:
                    for task_id, (attempt, lines) in ingest_lines(services, run["dag_run_id"]).items():
                        assert attempt == 2 and len(lines) == 1, (run["dag_run_id"], task_id, attempt, lines)
                        assert ": unchanged, " in lines[0] or lines[0].startswith("skipped: "), (task_id, lines)
                assert raw_state(scheduler_url, with_ids=True) == before
                with connect(scheduler_url) as conn:
                    assert conn.execute(
                        "select count(*) from (select 1 from raw.batches where org_code = %s and status = 'loaded'"
                        " group by entity, delivery_date having count(*) > 1) twice", (ORG,)).fetchone()[0] == 0
        finally:
            if cli.poll() is None:  # not reaped, so its process group (its `airflow dags test` too) is ours
                os.killpg(cli.pid, signal.SIGKILL)
                cli.wait()
    done = time.monotonic()
    print(f"\nwall time {done - started:.0f} s: services ready {ready - started:.0f} s, "
          f"first backfill {first_pass - ready:.0f} s, CLI compared and reprocess {done - first_pass:.0f} s")
