import pytest

from lienthong.config.settings import WAREHOUSE_CONN_ID, load_settings
from lienthong.pipeline.airflow_env import airflow_environment
from lienthong.pipeline.dbt_env import dbt_environment

URL = "postgresql://loader:s%40cret@db.example:6543/lienthong"


def test_airflow_gets_its_connection_from_the_one_warehouse_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(tmp_path))
    env = airflow_environment(load_settings(), URL, base={})
    assert env[f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}"] == URL
    assert env["AIRFLOW_HOME"] == str(tmp_path / "airflow")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "Asia/Ho_Chi_Minh"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'airflow' / 'airflow.db'}?timeout=60"
    # Telemetry is off for every tool that would phone home.
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "False"
    assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
    assert env["SCARF_ANALYTICS"] == "false"


def test_airflow_metadata_is_the_embedded_servers_own_database_once_it_has_one(tmp_path, monkeypatch):
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("LIENTHONG_PG_PORT", "54444")
    monkeypatch.delenv("LIENTHONG_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", raising=False)
    (tmp_path / "airflow_db_password").write_text("s3cret\n")  # what the server's start writes
    env = airflow_environment(load_settings(), URL)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://airflow:s3cret@127.0.0.1:54444/airflow"
    # A warehouse of one's own: nothing is created on that server, the metadata stays in SQLite.
    monkeypatch.setenv("LIENTHONG_WAREHOUSE_URL", URL)
    assert airflow_environment(load_settings(), URL)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite:///")
    # One configured explicitly wins over both.
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2://meta@db.example/airflow")
    monkeypatch.delenv("LIENTHONG_WAREHOUSE_URL")
    assert airflow_environment(load_settings(), URL)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == \
        "postgresql+psycopg2://meta@db.example/airflow"


def test_dbt_profile_variables_come_from_the_same_url():
    env = dbt_environment(URL, base={})
    assert (env["LIENTHONG_PG_HOST"], env["LIENTHONG_PG_PORT_DBT"]) == ("db.example", "6543")
    assert (env["LIENTHONG_PG_USER"], env["LIENTHONG_PG_PASSWORD"]) == ("loader", "s@cret")
    assert env["LIENTHONG_PG_DATABASE"] == "lienthong"


def test_a_url_that_is_not_postgres_is_refused():
    with pytest.raises(ValueError, match="postgresql://"):
        dbt_environment("mysql://x@y/z", base={})


def test_a_bad_port_setting_is_refused(monkeypatch):
    monkeypatch.setenv("LIENTHONG_PG_PORT", "port")
    with pytest.raises(ValueError, match="LIENTHONG_PG_PORT"):
        load_settings()
