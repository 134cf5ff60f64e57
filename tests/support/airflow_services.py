"""A test harness: Airflow's services for this project's environment, in the background: api-server,
scheduler and dag-processor (LocalExecutor, the metadata database the environment names), for what
only a running scheduler does — `airflow backfill create` above all.

The three commands are started one by one rather than through `airflow standalone`: each gets its
own log file (the scheduler's is what a stuck run needs), its own process group, a free port for
the API and for the scheduler's log server (so it runs next to another Airflow on 8080/8793), and
no triggerer (no DAG here defers). Task processes reach the API server over the execution API, so
the API server is not optional.

Stopping signals every process of every tree (the LocalExecutor's workers and their task
processes too): SIGTERM, a grace period, then SIGKILL for whatever is left.

    with AirflowServices(env, log_dir, schedule=False) as services:
        services.wait_ready([dag_id])
        services.unpause(dag_id)
        ...  # `airflow backfill create …` with the same env
        services.wait_backfill(dag_id, created_after=before)
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import httpx
import psutil  # a dependency of Airflow's

from lienthong.pipeline.airflow_env import airflow_executable
from lienthong.ports import free_port

COMPONENTS = ("api-server", "scheduler", "dag-processor")
# Task instance states that mean a run needs a person (a retry waits minutes before it runs again).
_TROUBLE = {"failed", "up_for_retry", "upstream_failed"}


def _exit_status(pid: int) -> int | None:
    """A child's exit status, None while it runs; without reaping it (its pid stays ours, so does the
    id of the process group it leads)."""
    try:
        result = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # reaped already
        return -1
    return None if result is None else result.si_status


def _exited(pid: int) -> bool:
    return _exit_status(pid) is not None


def _gone(member: psutil.Process) -> bool:
    """Ended: no such process any more (is_running also sees a reused pid), or a zombie."""
    try:
        return not member.is_running() or member.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _signal_each(tree: list[psutil.Process], sig: int) -> None:
    for member in tree:
        try:
            member.send_signal(sig)  # psutil checks first that the pid was not reused
        except psutil.NoSuchProcess:
            pass


class AirflowServicesError(RuntimeError):
    """The services did not start, or what they were asked to run did not finish well; the message
    carries the scheduler's log tail."""


def services_environment(env: dict[str, str], port: int, log_server_port: int, schedule: bool = True) -> dict[str, str]:
    """`env` (from `airflow_environment`) with what the long-running services need on top.

    `schedule=False` keeps the scheduler from creating the timetable's own runs (after unpausing,
    catchup=False still creates the latest interval's run): it runs only what is asked for —
    backfills and triggered runs."""
    base_url = f"http://127.0.0.1:{port}"
    services = {
        **env,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_server_port),
    }
    if not schedule:
        services["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
    return services


class AirflowServices:
    """The api-server, scheduler and dag-processor of one Airflow home, started in the background."""

    def __init__(self, env: dict[str, str], log_dir: Path, *, port: int | None = None, schedule: bool = True,
                 components: Iterable[str] = COMPONENTS):
        self.port = port or free_port()
        self.env = services_environment(env, self.port, free_port(), schedule=schedule)
        self.home = Path(self.env["AIRFLOW_HOME"])
        self.log_dir = Path(log_dir)
        self.components = tuple(components)
        self.processes: dict[str, subprocess.Popen] = {}
        self._token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> AirflowServices:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not (self.home / "airflow.cfg").exists():
            # Every command writes a missing airflow.cfg with a fresh JWT secret: three at once would
            # each sign with their own, and tasks would fail with "Invalid auth token". One first.
            subprocess.run([airflow_executable(), "config", "get-value", "core", "executor"], env=self.env,
                           check=True, capture_output=True, stdin=subprocess.DEVNULL)
        try:
            for name in self.components:
                with self.log_path(name).open("w") as log:
                    self.processes[name] = subprocess.Popen(
                        [airflow_executable(), name], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL, start_new_session=True)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, grace: float = 20.0) -> None:
        """Signal every process of every tree and wait until each one is gone; whatever outlives the
        grace period is killed, and waited for too.

        The descendants are collected before the first signal (a parent that dies orphans its
        children, out of reach of `children()`) and checked afterwards by those same handles. A
        SIGKILL takes effect only when the process next runs, which on a loaded machine is not at
        once: returning before the kernel has ended them left a process running (see the unit test).
        Each service leads its own process group; the leaders are reaped only at the end, so no
        group id can have been reused by then."""
        tree = self._descendants()
        self._signal_groups(signal.SIGTERM)
        _signal_each(tree, signal.SIGTERM)
        if not self._wait_gone(tree, grace):
            tree += [p for p in self._descendants() if p not in tree]  # started while stopping
            self._signal_groups(signal.SIGKILL)  # whatever is left in the groups, leaders not yet reaped
            _signal_each(tree, signal.SIGKILL)
            if not self._wait_gone(tree, 30.0):
                left = [p.pid for p in tree if not _gone(p)]
                raise AirflowServicesError(f"processes still running after SIGKILL: leaders "
                                           f"{[p.pid for p in self.processes.values() if not _exited(p.pid)]}, others {left}")
        for process in self.processes.values():
            process.wait(timeout=10)

    def _descendants(self) -> list[psutil.Process]:
        tree: list[psutil.Process] = []
        for process in self.processes.values():
            try:
                tree += psutil.Process(process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                pass
        return tree

    def _wait_gone(self, tree: list[psutil.Process], timeout: float) -> bool:
        """Until every leader has exited and every other process is gone (or a zombie: its parent
        reaps it, not us); False when `timeout` ran out first."""
        deadline = time.monotonic() + timeout
        while not (all(_exited(p.pid) for p in self.processes.values()) and all(_gone(m) for m in tree)):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _signal_groups(self, sig: int) -> None:
        for process in self.processes.values():
            if process.returncode is None:  # not reaped: its pid, so its group id, is still ours
                try:
                    os.killpg(process.pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass

    def __enter__(self) -> AirflowServices:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- logs --------------------------------------------------------------------------------------
    def log_path(self, component: str) -> Path:
        return self.log_dir / f"{component}.log"

    def log_tail(self, component: str = "scheduler", lines: int = 40) -> str:
        path = self.log_path(component)
        text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else ["(no log)"]
        return f"--- last {lines} lines of {path} ---\n" + "\n".join(text)

    def task_logs(self, dag_id: str, run_id: str) -> dict[str, str]:
        """Each task's latest attempt log of one run, by task id."""
        run = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        logs = {}
        for task in sorted(run.glob("task_id=*")):
            attempts = sorted(task.glob("attempt=*.log"), key=lambda p: int(p.stem.split("=")[1]))
            if attempts:
                logs[task.name.split("=", 1)[1]] = attempts[-1].read_text(errors="replace")
        return logs

    def _fail(self, message: str) -> AirflowServicesError:
        exited = {name: code for name, p in self.processes.items() if (code := _exit_status(p.pid)) is not None}
        parts = [message]
        if exited:
            parts.append(f"exited: {exited}")
            parts += [self.log_tail(name) for name in exited]
        parts.append(self.log_tail("scheduler"))
        return AirflowServicesError("\n".join(parts))

    # -- the REST API ------------------------------------------------------------------------------
    # A bound that only keeps a hung call from hanging the test: the API server (one worker, its own
    # request timeout 120 s) answered a plain GET after more than 30 s on a 2-core machine at load 24.
    # Calls are not retried: creating a backfill is not idempotent.
    API_TIMEOUT = 180.0

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        """A call to the public API (`/api/v2/…`) as the admin user."""
        if self._token is None:
            self._token = self._login()
        response = httpx.request(method, f"{self.url}{path}", headers={"Authorization": f"Bearer {self._token}"},
                                 timeout=self.API_TIMEOUT, **kwargs)
        response.raise_for_status()
        return response

    def _login(self) -> str:
        # The simple auth manager writes its generated passwords when the API server starts.
        passwords = self.home / "simple_auth_manager_passwords.json.generated"
        if passwords.exists():
            username, password = next(iter(json.loads(passwords.read_text()).items()))
            response = httpx.post(f"{self.url}/auth/token", json={"username": username, "password": password},
                                  timeout=self.API_TIMEOUT)
        else:  # simple_auth_manager_all_admins
            response = httpx.get(f"{self.url}/auth/token", timeout=self.API_TIMEOUT)
        response.raise_for_status()
        return response.json()["access_token"]

    def health(self) -> dict | None:
        try:
            return httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return None

    # -- waiting -----------------------------------------------------------------------------------
    def _check_alive(self) -> None:
        if any(_exited(p.pid) for p in self.processes.values()):
            raise self._fail("an Airflow service exited")

    def wait_ready(self, dag_ids: Iterable[str] = (), timeout: float = 600.0) -> None:
        """Until the API answers, the scheduler and dag-processor heartbeat, and the DAGs are parsed."""
        deadline = time.monotonic() + timeout
        wanted = list(dag_ids)
        while True:
            self._check_alive()
            health = self.health()
            if health and all((health.get(part) or {}).get("status") == "healthy"
                              for part in ("metadatabase", "scheduler", "dag_processor")):
                missing = [d for d in wanted if not self._dag_exists(d)]
                if not missing:
                    return
            else:
                missing = wanted
            if time.monotonic() > deadline:
                errors = self.api("GET", "/api/v2/importErrors").json() if health else "API not answering"
                raise self._fail(f"Airflow not ready after {timeout:.0f} s: health {health}, DAGs not parsed "
                                 f"{missing}, import errors {errors}")
            time.sleep(2)

    def _dag_exists(self, dag_id: str) -> bool:
        try:
            self.api("GET", f"/api/v2/dags/{dag_id}")
            return True
        except httpx.HTTPStatusError as err:
            if err.response.status_code == 404:
                return False
            raise

    def unpause(self, dag_id: str) -> None:
        """Runs of a paused DAG, backfills included, stay queued."""
        self.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})

    def backfills(self, dag_id: str) -> list[dict]:
        return self.api("GET", "/api/v2/backfills", params={"dag_id": dag_id}).json()["backfills"]

    def dag_runs(self, dag_id: str, run_type: str | None = None) -> list[dict]:
        params = {"limit": 100, "order_by": "logical_date"} | ({"run_type": run_type} if run_type else {})
        runs: list[dict] = []
        while True:  # the API pages by 100 at most
            page = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns", params=params | {"offset": len(runs)}).json()
            runs += page["dag_runs"]
            if not page["dag_runs"] or len(runs) >= page["total_entries"]:
                return runs

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()["task_instances"]

    # The bounds only keep a stuck run from hanging a test: a two-day backfill of one DAG took 5 min
    # on a 2-core machine running three test suites at once (load 15); failures are raised at once.
    def wait_backfill(self, dag_id: str, created_after: datetime, timeout: float = 1200.0,
                      runs: int | None = None) -> tuple[dict, list[dict]]:
        """Until the DAG's backfill created after `created_after` is done; return it and its runs,
        all successful.

        Done is read from the runs themselves: every run of this backfill is terminal (and, with
        `runs=N`, there are N of them). The backfill's `completed_at` is not enough: it was seen set
        while its reprocessed runs were still queued and running. Without `runs`, the wait also
        needs `completed_at`, since the scheduler takes another backfill of the DAG only after it
        marked the previous one complete (every 30 s).

        Fails at once, with the task's log, when a task fails or waits for a retry."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            backfill = next((b for b in self.backfills(dag_id)
                             if datetime.fromisoformat(b["created_at"]) > created_after), None)
            found = []
            if backfill:
                started = datetime.fromisoformat(backfill["created_at"])
                # A rerun (reprocess) keeps the run id: it is this backfill's once queued after it began.
                found = [r for r in self.dag_runs(dag_id, "backfill")
                         if r["queued_at"] and datetime.fromisoformat(r["queued_at"]) >= started]
                for run in found:
                    if run["state"] in ("failed", "running"):
                        self._raise_on_trouble(dag_id, run)
                if found and all(r["state"] == "success" for r in found) and (
                        len(found) >= runs if runs is not None else backfill["completed_at"]):
                    return backfill, found
            if time.monotonic() > deadline:
                states = {r["dag_run_id"]: r["state"] for r in found}
                paused = self.api("GET", f"/api/v2/dags/{dag_id}").json()["is_paused"]
                raise self._fail(f"backfill of {dag_id} created after {created_after.isoformat()} not done "
                                 f"after {timeout:.0f} s: {backfill or 'no such backfill'}; runs {states}"
                                 + ("; the DAG is paused (its runs stay queued)" if paused else ""))
            time.sleep(3)

    def _raise_on_trouble(self, dag_id: str, run: dict) -> None:
        trouble = [t for t in self.task_instances(dag_id, run["dag_run_id"]) if t["state"] in _TROUBLE]
        if trouble or run["state"] == "failed":
            logs = self.task_logs(dag_id, run["dag_run_id"])
            detail = "\n".join(f"--- {t['task_id']}: {t['state']} ---\n"
                               + "\n".join(logs.get(t["task_id"], "(no log)").splitlines()[-15:])
                               for t in trouble)
            raise self._fail(f"backfill run {run['dag_run_id']} of {dag_id} is {run['state']}:\n{detail}")
