"""Shared fixtures: a real PostgreSQL for the whole session, a fresh database per test that needs one."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from lienthong.ports import free_port
from lienthong.warehouse import ensure_ready
from lienthong.warehouse.embedded import EmbeddedPostgres


@pytest.fixture(scope="session")
def server_url(tmp_path_factory) -> str:
    """The test session's server: LIENTHONG_TEST_WAREHOUSE_URL, else an embedded one it starts."""
    configured = os.environ.get("LIENTHONG_TEST_WAREHOUSE_URL")
    if configured:
        yield configured
        return
    # Not under pytest's tmp folder: pytest resets that folder to 0700 whenever another session
    # starts, and the server's own OS user (when tests run as root) must keep reaching its data.
    base = Path(tempfile.mkdtemp(prefix="lienthong-test-pg-"))
    server = EmbeddedPostgres(base / "pgdata", free_port())
    url = server.start()
    yield url
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@contextmanager
def _fresh_database(server_url: str, prefix: str):
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = server_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    ensure_ready(url)
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def fresh_database(server_url):
    """`with fresh_database("prefix") as url:` an empty database on the session's server, dropped
    afterwards; for fixtures of any scope."""
    return lambda prefix="test": _fresh_database(server_url, prefix)


@pytest.fixture
def warehouse_url(fresh_database) -> str:
    """A fresh, empty database on the session's server, dropped afterwards."""
    with fresh_database() as url:
        yield url


@pytest.fixture
def project_env(tmp_path, warehouse_url, monkeypatch) -> Path:
    """Point every project setting at this test's folders and database; returns the test folder."""
    monkeypatch.setenv("LIENTHONG_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("LIENTHONG_SAMPLE_DIR", str(tmp_path / "sample"))
    monkeypatch.setenv("LIENTHONG_DROP_DIR", str(tmp_path / "drop"))
    monkeypatch.setenv("LIENTHONG_OUTPUT_DIR", str(tmp_path / "output"))
    return tmp_path


WOMEN_HEADER = "STT,Họ và tên,Ngày sinh,Giới tính,Số CCCD,Số điện thoại,Ấp/Khu phố,Xã/Phường,Chi hội,Ngày vào hội"


@pytest.fixture
def women_roster(tmp_path):
    """Write a Women's Union (hoi_lhpn) roster delivery for one day into tmp_path/drop."""

    def write(day: str, lines: list[str], header: str = WOMEN_HEADER, encoding: str = "utf-8-sig") -> Path:
        path = tmp_path / "drop" / "hoi_lhpn" / day / "hoi_vien.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([header, *lines]) + "\n", encoding=encoding)
        return path

    return write


@pytest.fixture(scope="session")
def airflow_env(server_url, tmp_path_factory) -> dict[str, str]:
    """An environment for real Airflow processes: own AIRFLOW_HOME with migrated SQLite metadata.

    Airflow reads its configuration once per process, so DAG runs happen in subprocesses."""
    from lienthong.config.settings import load_settings
    from lienthong.pipeline.airflow_env import airflow_environment
    from lienthong.pipeline.nightly import ensure_airflow_metadata

    state = tmp_path_factory.mktemp("airflow_state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIENTHONG_STATE_DIR", str(state))
        settings = load_settings()
    env = airflow_environment(settings, server_url)
    ensure_airflow_metadata(settings, env)
    return env
