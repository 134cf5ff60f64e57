"""How many ingest processes `lienthong run` starts side by side."""
import pytest

from lienthong.pipeline.nightly import ingest_workers

POSTGRES = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://airflow@127.0.0.1/airflow"}
SQLITE = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "sqlite:////tmp/airflow.db?timeout=60"}


def test_side_by_side_on_a_metadata_database_that_takes_two_writers(monkeypatch):
    monkeypatch.delenv("LIENTHONG_INGEST_WORKERS", raising=False)
    assert ingest_workers(POSTGRES) == 2
    monkeypatch.setenv("LIENTHONG_INGEST_WORKERS", "3")
    assert ingest_workers(POSTGRES) == 3


def test_one_process_on_sqlite_which_refuses_a_second_writer(monkeypatch):
    monkeypatch.setenv("LIENTHONG_INGEST_WORKERS", "3")
    assert ingest_workers(SQLITE) == 1


@pytest.mark.parametrize("text", ["0", "two", "-1"])
def test_a_count_that_is_not_a_number_of_processes_is_refused(monkeypatch, text):
    monkeypatch.setenv("LIENTHONG_INGEST_WORKERS", text)
    with pytest.raises(ValueError, match="LIENTHONG_INGEST_WORKERS"):
        ingest_workers(POSTGRES)
