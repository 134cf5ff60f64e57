"""A tiny sample province landed day by day into one database for this folder's tests, and a dbt runner."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest

DAYS = [date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)]


@dataclass
class Warehouse:
    url: str
    sample: Path
    settings: object

    def dbt(self, *args: str, check: bool = True) -> str:
        """Run dbt against this database; fail the test with dbt's output when dbt fails (unless not `check`)."""
        from lienthong.pipeline.dbt_env import run_dbt

        # The project as `lienthong dbt` runs it, in this test's state folder (own target and logs).
        run = run_dbt(self.settings, self.url, *args, check=False)
        if check and run.returncode != 0:
            pytest.fail(f"dbt {' '.join(args)} failed:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}")
        return run.stdout

    def land(self, day: date) -> None:
        """Land every organisation's delivery of the day (the ingest DAG's task body, without Airflow)."""
        from lienthong.config.organisations import load_organisations
        from lienthong.landing.ingest import ingest

        for org in load_organisations():
            for entity in org.entities:
                ingest(org.code, entity.kind, day, settings=self.settings)

    def query(self, sql: str, params=None) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def tiny_warehouse(fresh_database, tmp_path_factory):
    """A fresh database with the tiny sample's first two days landed (the third is left to the tests)."""
    from lienthong.config.settings import load_settings
    from lienthong.sample import generate
    from lienthong.sample.api_server import serve_in_background

    base = tmp_path_factory.mktemp("dbt_tiny")
    sample = base / "sample"
    generate("tiny", 42, sample)
    server = serve_in_background(sample)
    api = f"http://:lienthong-sample-token@127.0.0.1:{server.server_address[1]}"
    with fresh_database() as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIENTHONG_WAREHOUSE_URL", url)
        patch.setenv("LIENTHONG_STATE_DIR", str(base / "state"))
        patch.setenv("LIENTHONG_SAMPLE_DIR", str(sample))
        patch.setenv("LIENTHONG_DROP_DIR", str(sample / "deliveries"))
        patch.setenv("AIRFLOW_CONN_DOAN_TN_API", api)
        patch.setenv("AIRFLOW_CONN_CONG_DOAN_API", api)
        warehouse = Warehouse(url, sample, load_settings())
        for day in DAYS[:2]:
            warehouse.land(day)
        yield warehouse
    server.shutdown()
