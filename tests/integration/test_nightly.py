"""The nightly pipeline end to end, as the schedule runs it: real DAG runs, dbt, GX, the review."""
import csv
import json
import shutil
import subprocess
from datetime import date

import pytest
from python_calamine import CalamineWorkbook

from lienthong.config.organisations import load_organisations
from lienthong.config.settings import load_settings
from lienthong.pipeline.airflow_env import airflow_environment
from lienthong.pipeline.nightly import run_dag
from lienthong.sample import generate
from lienthong.warehouse import connect

pytestmark = pytest.mark.airflow


@pytest.fixture
def sample(project_env, monkeypatch):
    """The tiny sample province, its deliveries as the drop folder; returns its first delivery day."""
    out = project_env / "sample"
    generate(scale="tiny", seed=7, out=out)
    monkeypatch.setenv("LIENTHONG_DROP_DIR", str(out / "deliveries"))
    manifest = json.loads((out / "manifest.json").read_text())
    return date.fromisoformat(manifest["deliveries"]["from"])


def shared_airflow_metadata(airflow_env, monkeypatch):
    # One migrated Airflow metadata database for the session saves a migration per test.
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", airflow_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])


def test_nightly_run_lands_builds_validates_and_renders_the_review(sample, airflow_env, warehouse_url,
                                                                    monkeypatch):
    """`lienthong run` (what `make demo` calls) on the tiny sample: every step, then what it left."""
    shared_airflow_metadata(airflow_env, monkeypatch)
    done = subprocess.run([shutil.which("lienthong"), "run", "--date", sample.isoformat()], capture_output=True,
                          text=True, timeout=1200, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ingest_hoi_lhpn for" in done.stdout and "[7/7] review_monthly" in done.stdout
    assert "[quality]" in done.stdout and "[review]" in done.stdout

    settings = load_settings()
    roster = settings.drop_dir / "hoi_lhpn" / sample.isoformat() / "hoi_vien.csv"
    with roster.open(encoding="utf-8-sig", newline="") as handle:
        delivered = sum(1 for _ in csv.reader(handle)) - 1
    with connect(warehouse_url) as conn:
        landed, quarantined = conn.execute(
            "select row_count + quarantined_count, quarantined_count from raw.batches"
            " where org_code = 'hoi_lhpn' and entity = 'roster' and status = 'loaded'").fetchone()
        organisations = conn.execute("select count(distinct org_code) from raw.batches").fetchone()[0]
        members = conn.execute("select count(*) from marts.fct_membership").fetchone()[0]
        people = conn.execute("select count(*) from marts.dim_person").fetchone()[0]
        checks = conn.execute("select count(*), bool_and(success) from dq.validation_results"
                              " where severity = 'critical'").fetchone()
    assert landed == delivered  # every delivered row is either in raw or in quarantine
    assert organisations == len(load_organisations())
    assert 0 < people <= members
    assert checks[0] > 0 and checks[1] is True

    # The review workbook is where the run says, in Vietnamese, and adds up to the roll.
    workbook = settings.output_dir / "reviews" / sample.strftime("%Y-%m") / f"bao_cao_ra_soat_{sample:%Y-%m}.xlsx"
    assert f"Review workbook: {workbook}" in done.stdout
    sheet = CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name("Tổng hợp theo xã")
    header, *rows = sheet.to_python()
    assert header[:3] == ["Tổ chức", "Xã/Phường", "Số trên danh sách"]
    assert "Hội Liên hiệp Phụ nữ" in {r[0] for r in rows}
    assert sum(r[2] for r in rows) == members

    # Rerunning the night's ingest changes nothing.
    env = airflow_environment(settings, warehouse_url)
    again = run_dag("ingest_hoi_lhpn", sample, env, settings.state_dir / "logs" / "rerun")
    assert again.ok and "unchanged" in " ".join(again.story)
    with connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.hoi_lhpn__roster").fetchone()[0] == landed - quarantined


def test_an_unreadable_file_fails_the_organisations_task_naming_the_file(sample, airflow_env, warehouse_url,
                                                                         monkeypatch):
    shared_airflow_metadata(airflow_env, monkeypatch)
    settings = load_settings()
    roster = settings.drop_dir / "hoi_lhpn" / sample.isoformat() / "hoi_vien.csv"
    roster.write_bytes(roster.read_bytes()[:200] + b"\xff\xfe broken \xc3(")
    env = airflow_environment(settings, warehouse_url)
    run = run_dag("ingest_hoi_lhpn", sample, env, settings.state_dir / "logs")
    assert not run.ok
    log = run.log.read_text()
    assert str(roster) in log and "cannot be decoded as utf-8-sig" in log
    with connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.batches where status = 'loaded'").fetchone()[0] == 0
