"""Several DAG runs in one process, each exactly as `airflow dags test DAG DAY` runs it.

`airflow dags test` starts a fresh interpreter per DAG run, and at demo scale that start-up was most
of an ingest: importing Airflow and parsing the DAG folder, starting the in-process execution API
before the first task, importing Great Expectations for the first batch check (about 25 of an
ingest's 30 s; the data took a few). Here they are paid once for a list of DAG runs. Each run goes
through Airflow's own CLI (the parser and the `dags test` command), so tasks, retries, XCom and the
metadata are what the command gives; its output goes to its own log file.

    python -m lienthong.pipeline.dag_runs --day 2026-11-21 --log-dir DIR [--stop-on-failure] DAG...
        [--beside DAG...]... [--then DAG...]

With --beside (one or more further groups of DAGs) the groups run side by side, each in a child
forked from this process once it has paid what every group's first run would pay (Airflow, the DAG
folder's imports, the in-process execution API's app, Great Expectations): the start-up is paid once,
not once per group (a night's ingests were 20-60 s of start-up per process for a few seconds of data).
A child that dies has its unreported runs reported failed.

With --then the process runs its DAGs, then waits for a line `go` on standard input and runs the
DAGs after --then in order, each only if the one before succeeded (the warehouse build, then the
review): the nightly pipeline's last ingest process goes on with the build once every ingest is
done, already warmed up by its own ingests (Airflow, the DAG folder, the in-process execution API,
Great Expectations). At the end of input it runs none of them.

One JSON line per finished run on standard output: {"dag_id", "ok", "seconds", "log"}.
"""
from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def _output_to(log: Path):
    """Standard output and error (the file descriptors, so every handler and child follows) to ``log``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for handle in (fd, *saved):
            os.close(handle)


def run_one(parser, dag_id: str, day: str, log: Path) -> bool:
    """One `airflow dags test` through Airflow's CLI; True when the DAG run succeeded."""
    with _output_to(log):
        try:
            args = parser.parse_args(["dags", "test", dag_id, day])
            args.func(args)
        except SystemExit as exit_:  # "DagRun failed", or the CLI's own refusal
            print(f"exit: {exit_.code}")
            return exit_.code in (None, 0)
        except Exception:  # noqa: BLE001 — a DAG that fails to parse or run is that run's failure
            traceback.print_exc()
            return False
    return True


def _all_known(dag_ids: list[str]) -> bool:
    """Whether the metadata already holds these DAGs and every asset the DAGs publish (a new
    organisation or entity adds assets, which the runs' own writes would insert side by side)."""
    from sqlalchemy import func, select

    from airflow.models.asset import AssetModel
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    from lienthong.config.organisations import load_organisations

    assets = {f"raw.{org.code}.{entity.kind}" for org in load_organisations() for entity in org.entities} | {"marts"}
    with create_session() as session:
        dags = session.scalar(select(func.count()).where(DagModel.dag_id.in_(dag_ids)))
        known_assets = session.scalar(select(func.count()).where(AssetModel.name.in_(assets)))
    return dags == len(set(dag_ids)) and known_assets == len(assets)


def warm_up(dag_id: str) -> None:
    """What each group's first DAG run would otherwise build or import in every forked child (and
    the build after them in this process): the `dags test` command and the task runner, the DAG
    folder's imports (Cosmos and dbt, through a parse), the in-process execution API's app (every
    task reports through it) and Great Expectations (the batch gate). Nothing here starts a thread
    or keeps a connection a child could share: the API's event loop starts at a child's first task,
    and Airflow's engine is disposed in a forked child (airflow.settings)."""
    import great_expectations  # noqa: F401

    import airflow.cli.commands.dag_command  # noqa: F401
    import airflow.sdk.execution_time.task_runner  # noqa: F401
    from airflow.sdk.execution_time.supervisor import in_process_api_server
    from airflow.utils.cli import get_bagged_dag

    import lienthong.quality.batches  # noqa: F401

    get_bagged_dag(None, dag_id)
    app = in_process_api_server().app  # built and cached for the children
    # The app's first request builds what every later one reuses (3-9 s here, whatever the request);
    # made on an event loop that ends with it (no thread left to copy), to a path that touches nothing.
    asyncio.run(_first_request(app))


async def _first_request(app) -> None:
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://in-process") as client:
        await client.get("/execution/")


def run_forked(groups: list[list[str]], run_group: Callable[[list[str], "object"], None], status,
               log_dir: Path, while_waiting: Callable[[], None] = lambda: None) -> bool:
    """Each group in a child forked from this process, side by side; the children's lines relayed to
    ``status`` as they come. A child that died has its runs it never reported reported failed (so
    the caller never waits for them). True when every child ended normally."""
    children = []
    for group in groups:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: its group, its lines into its pipe, and out without the parent's exit handlers
            os.close(read)
            code = 1
            try:
                with os.fdopen(write, "w", buffering=1) as out:
                    run_group(group, out)
                code = 0
            except BaseException:  # noqa: BLE001 — reported as the group's unreported runs, failed
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(write)
        children.append((pid, group, os.fdopen(read)))
    lock = threading.Lock()
    reported: dict[int, set[str]] = {pid: set() for pid, _group, _pipe in children}

    def relay(pid: int, pipe) -> None:
        with pipe:
            for line in pipe:
                reported[pid].add(json.loads(line)["dag_id"])
                with lock:
                    status.write(line)

    relays = [threading.Thread(target=relay, args=(pid, pipe)) for pid, _group, pipe in children]
    for thread in relays:
        thread.start()
    while_waiting()
    for thread in relays:
        thread.join()
    all_ok = True
    for pid, group, _pipe in children:
        _pid, wait_status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(wait_status) == 0:
            continue
        all_ok = False
        for dag_id in (d for d in group if d not in reported[pid]):
            log = log_dir / f"{dag_id}.log"
            status.write(json.dumps({"dag_id": dag_id, "ok": False, "seconds": 0.0,
                                     "log": str(log if log.exists() else log_dir)}) + "\n")
    return all_ok


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--day", required=True)
    options.add_argument("--log-dir", type=Path, required=True)
    options.add_argument("--stop-on-failure", action="store_true")
    options.add_argument("dag_ids", nargs="*")
    options.add_argument("--beside", nargs="+", action="append", default=[], metavar="DAG",
                         help="another group of DAGs, run side by side with the first in a forked child")
    options.add_argument("--then", nargs="+", default=[], metavar="DAG",
                         help="after the DAGs, wait for `go` on standard input, then run these in order")
    args = options.parse_args(argv)

    status = os.fdopen(os.dup(1), "w", buffering=1)  # the caller's pipe, kept while runs use fd 1
    os.dup2(2, 1)  # anything else printed outside a run goes with the errors, never into the pipe
    # As `airflow` itself starts (airflow/__main__.py): configuration first, then the CLI parser.
    from airflow import configuration
    from airflow.cli import cli_parser
    from airflow.configuration import write_default_airflow_configuration_if_needed

    write_default_airflow_configuration_if_needed()
    parser = cli_parser.get_parser()
    # Every `dags test` writes the DAG folder to the metadata first; two processes doing it at once
    # into a new metadata database both insert the same DAGs and assets and one fails (UNIQUE
    # constraint failed: asset.name). Side-by-side runners take turns here: the first to find a DAG
    # missing writes the folder, so the runs' own writes only update rows that exist.
    with open(Path(configuration.AIRFLOW_HOME) / ".dag-sync.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _all_known([*args.dag_ids, *(d for group in args.beside for d in group), *args.then]):
            reserialize = parser.parse_args(["dags", "reserialize"])
            reserialize.func(reserialize)

    def run(dag_id: str, out) -> bool:
        log = args.log_dir / f"{dag_id}.log"
        started = time.monotonic()
        ok = run_one(parser, dag_id, args.day, log)
        out.write(json.dumps({"dag_id": dag_id, "ok": ok, "seconds": time.monotonic() - started,
                              "log": str(log)}) + "\n")
        return ok

    def run_group(dag_ids: list[str], out) -> bool:
        """The DAGs in order; False when one failed and the runs stop at a failure."""
        return all(run(dag_id, out) or not args.stop_on_failure for dag_id in dag_ids)

    def import_dbt() -> None:
        # While the ingests run: dbt's import (Cosmos runs dbt in this process), which the build's
        # first dbt task would pay (1-3 s).
        if args.then:
            from dbt.cli.main import dbtRunner  # noqa: F401

    groups = [group for group in (args.dag_ids, *args.beside) if group]
    if len(groups) > 1:
        started = time.monotonic()
        warm_up(groups[0][0])
        # To the runner's log: what the start-up cost, and that no thread is copied into the children.
        print(f"[dag_runs] warmed up in {time.monotonic() - started:.1f} s, {threading.active_count()} thread(s); "
              f"forking {len(groups)} groups", file=sys.stderr, flush=True)
        children_ok = run_forked(groups, run_group, status, args.log_dir, while_waiting=import_dbt)
    else:
        children_ok = True
        if groups and not run_group(groups[0], status):
            return 0
        import_dbt()
    if args.then:
        if sys.stdin.readline().strip() == "go":
            for dag_id in args.then:
                if not run(dag_id, status):  # each needs the one before: no review of a build that failed
                    break
    return 0 if children_ok else 1


if __name__ == "__main__":
    sys.exit(main())
