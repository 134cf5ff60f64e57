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
