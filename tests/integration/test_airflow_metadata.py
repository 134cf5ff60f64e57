"""Airflow's metadata on the embedded PostgreSQL: a database and role of its own, closed to the
warehouse's roles and closed to the warehouse, so that `lienthong run` runs ingests side by side
(SQLite refuses a second writer); an explicitly configured metadata database still wins."""
import json
import shutil
import tempfile
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from lienthong.access.roles import role_set, sync_roles
from lienthong.config.organisations import load_organisations
from lienthong.config.settings import load_settings
from lienthong.pipeline.airflow_env import airflow_environment
from lienthong.pipeline.nightly import ensure_airflow_metadata, ingest_workers, run_side_by_side
from lienthong.ports import free_port
from lienthong.sample import generate
from lienthong.warehouse import resolve_url
from lienthong.warehouse.connection import embedded_server

pytestmark = pytest.mark.timing  # starts and stops a server


@pytest.fixture
def embedded(monkeypatch):
    """Settings of a state folder whose embedded server is the warehouse (no URL configured)."""
    base = Path(tempfile.mkdtemp(prefix="lienthong-test-airpg-"))  # see conftest: not under pytest's tmp
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(base / "state"))
    monkeypatch.setenv("LIENTHONG_SAMPLE_DIR", str(base / "sample"))
    monkeypatch.setenv("LIENTHONG_OUTPUT_DIR", str(base / "output"))
    monkeypatch.setenv("LIENTHONG_PG_PORT", str(free_port()))
    for key in ("LIENTHONG_WAREHOUSE_URL", "LIENTHONG_DROP_DIR", "LIENTHONG_REFERENCE_DIR",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        monkeypatch.delenv(key, raising=False)
    settings = load_settings()
    yield settings
    embedded_server(settings).stop()
    shutil.rmtree(base, ignore_errors=True)


def libpq(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_the_metadata_gets_its_own_database_and_role_closed_both_ways(embedded, monkeypatch):
    warehouse = resolve_url(embedded, start=True)
    metadata = airflow_environment(embedded, warehouse)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert metadata.startswith("postgresql+psycopg2://airflow:")
    assert make_url(metadata).database == "airflow"
    with psycopg.connect(libpq(metadata)) as conn:
        owner, powers = conn.execute(
            "select pg_get_userbyid(d.datdba), r.rolsuper or r.rolcreaterole or r.rolcreatedb or r.rolbypassrls"
            " from pg_database d, pg_roles r where d.datname = 'airflow' and r.rolname = current_user").fetchone()
        assert (owner, powers) == ("airflow", False)
    # The metadata role cannot reach the warehouse, not even before the first `access sync`.
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(libpq(make_url(metadata).set(database="lienthong").render_as_string(hide_password=False)))
    # Nor can the warehouse's roles reach the metadata.
    sync_roles(warehouse, environ={"LIENTHONG_BI_PASSWORD": "bi-test-password"})
    bi = role_set().name("bi")
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(make_url(libpq(metadata)).set(username=bi, password="bi-test-password")
                        .render_as_string(hide_password=False))
    # A second start changes nothing; an explicitly configured metadata database wins.
    assert resolve_url(embedded, start=True) == warehouse
    assert airflow_environment(embedded, warehouse)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == metadata
    mine = "postgresql+psycopg2://someone@db.example/airflow_meta"
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", mine)
    assert airflow_environment(embedded, warehouse)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == mine


@pytest.mark.airflow
def test_two_ingests_run_side_by_side_with_the_metadata_in_postgres(embedded):
    """On SQLite, the second of two writers fails ("database is locked"), so `lienthong run` would
    use one process: here both ingests run in their own processes at once, into PostgreSQL."""
    generate(scale="tiny", seed=7, out=embedded.sample_dir)
    day = date.fromisoformat(json.loads((embedded.sample_dir / "manifest.json").read_text())["deliveries"]["from"])
    # Organisations read from files only (no sample API to serve), two of them, each in its process.
    dag_ids = [f"ingest_{org.code}" for org in load_organisations()
               if all(entity.connector.type == "file" for entity in org.entities)][:2]
    assert len(dag_ids) == 2
    env = airflow_environment(embedded, resolve_url(embedded, start=True))
    ensure_airflow_metadata(embedded, env)
    assert ingest_workers(env) >= 2

    runs = list(run_side_by_side([[dag_id] for dag_id in dag_ids], day, env, embedded.state_dir / "logs"))
    assert sorted((run.dag_id, run.ok) for run in runs) == [(dag_id, True) for dag_id in sorted(dag_ids)], \
        [run.log.read_text()[-3000:] for run in runs if not run.ok]
    with psycopg.connect(libpq(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])) as conn:
        succeeded = {dag_id for (dag_id,) in conn.execute(
            "select dag_id from dag_run where state = 'success' and dag_id = any(%s)", (dag_ids,))}
    assert succeeded == set(dag_ids)
    assert not (embedded.airflow_home / "airflow.db").exists()
