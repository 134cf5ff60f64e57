"""The staging macros' dbt unit tests, on made-up organisations rendered the way `lienthong run`
renders the configured ones (no organisation is part of the dbt project itself)."""
from __future__ import annotations

import shutil
from pathlib import Path

from lienthong.config.organisations import load_organisations
from lienthong.landing.raw import ensure_raw_tables
from lienthong.config.settings import load_settings
from lienthong.pipeline.dbt_env import dbt_project, run_dbt
from lienthong.warehouse import connect

FIXTURE = Path(__file__).with_name("staging_fixture")


def test_staging_macros_pass_their_unit_tests_on_made_up_organisations(warehouse_url, tmp_path, monkeypatch):
    monkeypatch.setenv("LIENTHONG_ORG_CONFIG_DIR", str(FIXTURE / "organisations"))
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(tmp_path / "state"))
    orgs = load_organisations()
    with connect(warehouse_url) as conn:
        for org in orgs:
            ensure_raw_tables(conn, org)  # unit tests read the inputs' column types from the database
    settings = load_settings()
    project = dbt_project(settings)
    shutil.copy(FIXTURE / "_staging__unit_tests.yml", project / "generated" / "models" / "staging")
    models = [f"stg_{org.code}__{entity.kind}" for org in orgs for entity in org.entities]
    run = run_dbt(settings, warehouse_url, "test", "--select", *models, "--resource-type", "unit_test",
                  project=project)
    assert "PASS=6" in run.stdout  # every unit test ran (a selection typo would pass with none)
