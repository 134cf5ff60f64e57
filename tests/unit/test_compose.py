"""docker-compose.yml is valid against the compose specification (no Docker engine runs here)."""
import re
import subprocess
import sys
from pathlib import Path

import yaml

from lienthong.config.settings import load_settings

COMPOSE = load_settings().home / "docker-compose.yml"


def test_compose_file_validates_against_the_compose_spec():
    checker = Path(sys.executable).with_name("check-jsonschema")
    done = subprocess.run([str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_runs_postgres_and_every_airflow_3_component():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert {"postgres", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer"} <= set(services)
    # No password is written into the file: every secret comes from the environment.
    values = re.findall(r"(?im)^\s*\w*password\w*:\s*(\S+)", COMPOSE.read_text())
    assert values and all(v.startswith("${") for v in values)


def test_compose_serves_the_public_pages_read_only_with_a_plain_web_server():
    site = yaml.safe_load(COMPOSE.read_text())["services"]["site"]
    assert site["image"].startswith("nginx:")
    assert "./output/site:/usr/share/nginx/html:ro" in site["volumes"]
    assert all(port.startswith("127.0.0.1:") for port in site["ports"])


def test_compose_scales_out_with_a_celery_profile_beside_the_local_executor_default():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    # LocalExecutor unless AIRFLOW_EXECUTOR says otherwise; the default services need no profile.
    executor = services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"]
    assert executor == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    assert not any("profiles" in services[name] for name in ("postgres", "airflow-scheduler", "airflow-apiserver"))
    broker, worker = services["redis"], services["airflow-worker"]
    assert broker["profiles"] == worker["profiles"] == ["celery"]
    assert worker["command"] == ["airflow", "celery", "worker"]
    assert worker["deploy"]["replicas"] == 2
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    # Workers run the same image and settings as the scheduler, so the broker URL reaches both.
    assert worker["image"] == services["airflow-scheduler"]["image"]
    assert worker["environment"]["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    assert "ports" not in broker


def test_compose_spark_cluster_matches_the_locked_pyspark():
    from importlib.metadata import version

    services = yaml.safe_load(COMPOSE.read_text())["services"]
    master, worker = services["spark-master"], services["spark-worker"]
    assert master["profiles"] == worker["profiles"] == ["spark"]
    # The driver (pyspark in the Airflow task) and the cluster must run the same Spark.
    assert master["image"] == worker["image"] == f"apache/spark:{version('pyspark')}"
    assert "spark://spark-master:7077" in worker["command"]
    published = [p for s in services.values() for p in s.get("ports", [])]
    assert all(p.startswith("127.0.0.1:") for p in published)
    hosts = [p.rsplit(":", 2)[1] for p in published]
    assert len(hosts) == len(set(hosts)), f"two services publish one port: {published}"
