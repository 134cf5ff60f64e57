"""The Airflow services helper without Airflow: its environment, and that stopping it leaves no
process of any tree behind (the scheduler's LocalExecutor workers and their tasks included)."""
import subprocess
import time

import psutil
import pytest

from support.airflow_services import AirflowServices, services_environment

BASE = {"AIRFLOW_HOME": "/tmp/airflow-home", "PATH": "/usr/bin:/bin"}


def test_services_listen_on_loopback_and_tasks_call_the_same_api_server():
    env = services_environment(BASE, 18080, 18793, schedule=True)
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1" and env["AIRFLOW__API__PORT"] == "18080"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == "18793"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE" not in env
    assert services_environment(BASE, 1, 2, schedule=False)["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] == "False"


def live_tree(leaders) -> list[psutil.Process]:
    tree = []
    for leader in leaders:
        try:
            root = psutil.Process(leader.pid)
            tree += [p for p in [root, *root.children(recursive=True)] if p.status() != psutil.STATUS_ZOMBIE]
        except psutil.NoSuchProcess:
            pass
    return tree


@pytest.mark.timing
def test_stop_ends_every_process_of_every_tree_even_those_ignoring_sigterm(tmp_path):
    services = AirflowServices(BASE, tmp_path)
    # A "service" with a child and a grandchild that ignores SIGTERM, and one that already exited.
    stubborn = "trap '' TERM; sleep 300 & sh -c \"trap '' TERM; sleep 300\" & wait"
    services.processes = {
        name: subprocess.Popen(["sh", "-c", command], start_new_session=True)
        for name, command in {"scheduler": stubborn, "api-server": "sleep 300", "dag-processor": "exit 3"}.items()
    }
    # Until the shells have started their three sleeps (on a loaded machine that takes a while).
    deadline = time.monotonic() + 60
    tree = live_tree(services.processes.values())
    while [p.name() for p in tree].count("sleep") < 3:
        assert time.monotonic() < deadline, tree
        time.sleep(0.1)
        tree = live_tree(services.processes.values())
    started = time.monotonic()
    services.stop(grace=1)
    assert time.monotonic() - started < 40  # grace 1 s, then SIGKILL; not the 20 s default
    assert not [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert all(proc.returncode is not None for proc in services.processes.values())
