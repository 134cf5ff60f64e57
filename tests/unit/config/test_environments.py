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
