"""Run the nightly pipeline the way the scheduler would, without a scheduler.

Each DAG runs as `airflow dags test` runs it (a real DAG run: real tasks, retries off), in the order
the assets would trigger them: every organisation's ingest (side by side, as independent DAGs are
under a scheduler), then the warehouse build, then the review. Every run shares one process's start-up
(lienthong.pipeline.dag_runs: the side-by-side groups are children forked from it), so Airflow and
Great Expectations start once a night rather than once per DAG run or per group. An organisation whose ingest fails does not stop the others; the run reports it.
On a first day, dbt's full parse runs beside that start-up (lienthong.pipeline.dbt_parse_ahead).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
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
    """`airflow db migrate` once per Airflow version and metadata database (it takes seconds; a
    second run skips it), and again whenever that database lost its tables (`lienthong db reset`)."""
    import hashlib
    from importlib.metadata import version

    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url

    # Airflow's metadata and task logs carry run parameters and error messages: the owner's alone.
    make_private(settings.airflow_home)
    url = make_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    # Which database, not its password: a state folder moved from SQLite to PostgreSQL migrates anew.
    target = hashlib.sha256(url.set(password=None).render_as_string().encode()).hexdigest()[:12]
    marker = settings.airflow_home / f".migrated-{version('apache-airflow-core')}-{target}"
    if marker.exists():
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                if inspect(conn).has_table("alembic_version"):
                    return
        finally:
            engine.dispose()
    subprocess.run([airflow_executable(), "db", "migrate"], env=env, check=True, umask=PRIVATE_UMASK,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    marker.touch(mode=0o600)


class DagRunner:
    """A process of real DAG runs (`airflow dags test`, through Airflow's CLI) one after another
    (lienthong.pipeline.dag_runs: Airflow and GX start once); each run's output to its own log file.
    It starts at once. ``beside``: further groups of DAGs run side by side with ``dag_ids``, each in a
    child forked once the process has started up (the start-up is paid once). ``then``: DAGs it runs
    after the others once released (`release()`), each only if the one before succeeded; closed
    unreleased, it runs none of them."""

    def __init__(self, dag_ids: list[str], day: date, env: dict[str, str], log_dir: Path,
                 stop_on_failure: bool = False, then: Sequence[str] = (), beside: Sequence[Sequence[str]] = ()):
        make_private(log_dir)
        groups = [group for group in beside if group]
        self.dag_ids = [*dag_ids, *(d for group in groups for d in group), *then]
        self.log_dir, self.stop_on_failure = log_dir, stop_on_failure
        self.runner_log = log_dir / f"runner-{self.dag_ids[0]}.log"
        command = [sys.executable, "-m", "lienthong.pipeline.dag_runs", "--day", day.isoformat(),
                   "--log-dir", str(log_dir), *(["--stop-on-failure"] if stop_on_failure else []),
                   *dag_ids, *(a for group in groups for a in ("--beside", *group)),
                   *(["--then", *then] if then else [])]
        self._errors = self.runner_log.open("w")
        os.fchmod(self._errors.fileno(), 0o600)
        # The run's files (task logs, spooled pages, Airflow's metadata) are private whoever calls.
        self._process = subprocess.Popen(command, env=env, umask=PRIVATE_UMASK, stdout=subprocess.PIPE,
                                         stderr=self._errors, text=True,
                                         stdin=subprocess.PIPE if then else subprocess.DEVNULL)

    def release(self) -> None:
        """Let the runner go on with its ``then`` DAGs."""
        if self._process.stdin and not self._process.stdin.closed:
            try:
                self._process.stdin.write("go\n")
                self._process.stdin.close()
            except BrokenPipeError:  # it died before: results() reports its runs failed
                pass

    def close(self) -> None:
        """Unreleased, it ends without its ``then`` DAGs; either way, wait for the process."""
        if self._process.stdin and not self._process.stdin.closed:
            self._process.stdin.close()
        self._process.wait()
        self._process.stdout.close()
        self._errors.close()

    def results(self) -> Iterator[DagRunResult]:
        """Each run as it finishes; runs the process never finished (it died) are failures."""
        finished: set[str] = set()
        try:
            for line in self._process.stdout:
                done = json.loads(line)
                finished.add(done["dag_id"])
                yield _result(done["dag_id"], done["ok"], done["seconds"], Path(done["log"]))
                if self.stop_on_failure and not done["ok"]:
                    return
        finally:
            self.close()
        if self._process.returncode != 0:
            for dag_id in (d for d in self.dag_ids if d not in finished):
                log = self.log_dir / f"{dag_id}.log"
                yield _result(dag_id, False, 0.0, log if log.exists() else self.runner_log)


def run_dags(dag_ids: list[str], day: date, env: dict[str, str], log_dir: Path,
             stop_on_failure: bool = False) -> Iterator[DagRunResult]:
    """Real DAG runs in one process (DagRunner), yielded as they finish."""
    yield from DagRunner(dag_ids, day, env, log_dir, stop_on_failure).results()


def _result(dag_id: str, ok: bool, seconds: float, log: Path) -> DagRunResult:
    story = [line.rstrip() for line in log.read_text(errors="replace").splitlines() if _STORY.match(line)] \
        if log.exists() else []
    return DagRunResult(dag_id, ok, seconds, log, story)


def run_side_by_side(groups: list[list[str]], day: date, env: dict[str, str], log_dir: Path) -> Iterator[DagRunResult]:
    """Each group of DAG runs in its own process (forked from one that started up once), the groups
    side by side; runs as they finish."""
    groups = [group for group in groups if group]
    yield from DagRunner(groups[0], day, env, log_dir, beside=groups[1:]).results()


def run_dag(dag_id: str, day: date, env: dict[str, str], log_dir: Path) -> DagRunResult:
    """One real DAG run (`airflow dags test`); its full output goes to a log file."""
    return list(run_dags([dag_id], day, env, log_dir))[0]


def ingest_workers(env: dict[str, str]) -> int:
    """How many ingest processes run side by side (LIENTHONG_INGEST_WORKERS, default 2: the cores
    of the machine this was measured on; the organisations' sources are independent). One on a
    SQLite metadata database: SQLite refuses a second writer at once ("database is locked") when
    two runs write their DAG and task states together, and the refused run fails."""
    text = os.environ.get("LIENTHONG_INGEST_WORKERS", "2")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"LIENTHONG_INGEST_WORKERS must be a whole number of processes, got {text!r}")
    if env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "").startswith("sqlite"):
        return 1
    return int(text)


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


PARSE_AHEAD_LOG = "dbt_parse_ahead.log"


def parse_dbt_ahead(settings: Settings, env: dict[str, str], log_dir: Path) -> subprocess.Popen | None:
    """dbt's full parse started beside the night's start-up (lienthong.pipeline.dbt_parse_ahead), when
    the build keeps no partial parse yet (a first day): the process, or None."""
    from lienthong.pipeline.dbt_parse_ahead import partial_parse_kept

    if partial_parse_kept(settings):
        return None
    make_private(log_dir)
    with (log_dir / PARSE_AHEAD_LOG).open("w") as log:
        os.fchmod(log.fileno(), 0o600)
        return subprocess.Popen([sys.executable, "-m", "lienthong.pipeline.dbt_parse_ahead"], env=env,
                                umask=PRIVATE_UMASK, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def run_nightly(day: date, settings: Settings | None = None, echo: Callable[[str], None] = print,
                stage: Callable[[str], AbstractContextManager] = lambda name: nullcontext()) -> NightlyResult:
    """The night's DAG runs: the ingests side by side, then the warehouse build and the review.
    ``stage(name)`` wraps the metadata's migration, the ingests and the build (bench/e2e.py times them)."""
    settings = settings or load_settings()
    make_private(settings.state_dir)
    url = resolve_url(settings, start=True)
    ensure_ready(url)
    echo(f"warehouse: {mask(url)}")
    env = airflow_environment(settings, url)
    log_dir = settings.state_dir / "logs" / "nightly" / day.isoformat()
    parsing = parse_dbt_ahead(settings, env, log_dir)
    with stage("airflow_metadata"):  # a migration the first time (set-up), a check after
        ensure_airflow_metadata(settings, env)
    old_metadata = settings.airflow_home / "airflow.db"
    if old_metadata.exists() and not env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite"):
        echo(f"note: Airflow's metadata is no longer in {old_metadata} (only past DAG runs' history is there; "
             "the pipeline's own state is in the warehouse): delete that file (docs/warehouse.md)")

    result = NightlyResult(day)
    ingests = [f"ingest_{org.code}" for org in load_organisations()]
    total = len(ingests) + 2
    workers = ingest_workers(env)

    def show(run: DagRunResult) -> None:
        result.runs.append(run)
        echo(f"[{len(result.runs)}/{total}] {run.dag_id} for {day}:")
        for line in run.story:
            echo(f"      {line}")
        echo(f"      {'ok' if run.ok else 'FAILED'} in {run.seconds:.0f} s (log: {run.log})")

    with sample_api_connections(settings, env) as env:
        echo(f"ingests for {day}, {min(workers, len(ingests))} side by side: {', '.join(ingests)} …")
        # One process starts up (Airflow, the DAG folder, the execution API, GX: 20-60 s under load),
        # then forks a child per group of ingests, and goes on with the build and the review once
        # every ingest is done: the start-up is paid once a night, not once per group, and no other
        # process starts on the cores the ingests use.
        groups = [group for group in (ingests[n::workers] for n in range(workers)) if group] or [[]]
        build = DagRunner(groups[0], day, env, log_dir, then=["warehouse_build", "review_monthly"], beside=groups[1:])
        try:
            finished = build.results()
            # Organisations are independent: a failed ingest does not stop the others.
            pending = set(ingests)
            with stage("ingests"):
                for run in finished if pending else ():
                    show(run)
                    pending.discard(run.dag_id)
                    if not pending:
                        break
            for line in not_built_from(result.runs):
                echo(line)
            if parsing is not None and parsing.wait() != 0:
                echo(f"  note: dbt's parse ahead failed (log: {log_dir / PARSE_AHEAD_LOG}); the build parses in full")
            echo(f"warehouse_build, then review_monthly for {day} …")
            build.release()
            with stage("warehouse_build"):  # and the review, in the same process
                for run in finished:
                    show(run)
                    if run.dag_id == "warehouse_build" and not run.ok:
                        echo("  the warehouse build failed, so no review is rendered; see its log above")
        finally:
            build.close()
            if parsing is not None:
                parsing.wait()
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
            # A day's DAGs in order, in one process (Airflow starts once per day).
            for run in run_dags(dag_ids, day, env, settings.state_dir / "logs" / "backfill" / day.isoformat()):
                runs.append(run)
                status = "ok" if run.ok else f"FAILED (log: {run.log})"
                echo(f"{day} {run.dag_id}: {status}; " + "; ".join(line.split("] ", 1)[-1] for line in run.story))
    return runs
