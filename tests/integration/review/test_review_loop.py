"""The review that closes the loop, over three monthly review periods of the tiny sample.

Period 1 (the sample's month) sends the verification lists out. Unit secretaries fill a share of them
(every outcome, and the usual mistakes: an outcome word that is not in the list, a row whose key was
altered, a corrected file replacing the day's first one, then the same file sent again), and the
Women's Union's roll of 20/12 carries out most removals and a corrected ID. Period 2 shows flags
resolved, verified and kept (off the list), promised but not done, and overdue; the roll of 05/01
removes the last record promised, which period 3 shows resolved. The lists are read back with
openpyxl (protection, dropdown, hidden key), the report in headless Chromium.

Light on purpose: one delivery day landed, no person linking (provisional person ids), the review
models and their parents built three times; the tests share the module's warehouse and run in order."""
from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import psycopg
import pytest

from lienthong.review.outcomes import OUTCOMES, flag_key
from lienthong.review.verification import HEADERS, PERSONAL_DATA, SHEET

pytestmark = pytest.mark.slow  # three dbt builds

ORG = "hoi_lhpn"  # the sample organisation whose units answer (its roll is a CSV the test rewrites)
FIRST_DAY = date(2026, 11, 25)
LABEL = {o.code: o.label for o in OUTCOMES}
P1, P2, P3 = "2026-11", "2026-12", "2027-01"


class Loop:
    """The module's warehouse: land, build the review models, render a period."""

    def __init__(self, url: str, settings, sample: Path, drop: Path, output: Path):
        self.url, self.settings, self.sample, self.drop, self.output = url, settings, sample, drop, output

    def query(self, sql: str, params=None) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql, params).fetchall()

    def land(self, org: str, kind: str, day: date):
        from lienthong.landing.ingest import ingest

        return ingest(org, kind, day, settings=self.settings)

    def build(self) -> None:
        from lienthong.pipeline.dbt_env import dbt_environment, dbt_project

        project = dbt_project(self.settings)
        run = subprocess.run(
            [str(Path(sys.executable).with_name("dbt")), "build", "--select", "+path:models/review",
             "--resource-type", "model", "--resource-type", "seed", "--resource-type", "snapshot",
             "--project-dir", str(project), "--profiles-dir", str(project)],
            env=dbt_environment(self.url), cwd=project, capture_output=True, text=True)
        if run.returncode != 0:
            pytest.fail(f"dbt build failed:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}")

    def render(self, period: str) -> dict[str, Path]:
        from lienthong.review.report import render

        return render(self.url, period, self.output)

    def lifecycle(self, period: str) -> dict[tuple[str, str], tuple]:
        return {(r[0], r[1]): r[2:] for r in self.query(
            "select source_record_key, flag_kind, status, resolution, listed, outcome_code"
            " from review.rpt_flag_lifecycle where period_key = %s", (period,))}


@pytest.fixture(scope="module")
def loop(fresh_database, tmp_path_factory):
    from lienthong.config.settings import load_settings
    from lienthong.config.organisations import load_organisations
    from lienthong.pipeline.tasks import prepare_warehouse
    from lienthong.sample import generate
    from lienthong.sample.api_server import serve_in_background

    base = tmp_path_factory.mktemp("review_loop")
    sample = base / "sample"
    generate("tiny", 42, sample)
    drop = base / "drop"  # the sample's deliveries, plus what the test sends later
    shutil.copytree(sample / "deliveries", drop)
    server = serve_in_background(sample)
    api = f"http://:lienthong-sample-token@127.0.0.1:{server.server_address[1]}"
    with fresh_database("loop") as url, pytest.MonkeyPatch.context() as patch:
        for key, value in {"LIENTHONG_WAREHOUSE_URL": url, "LIENTHONG_STATE_DIR": str(base / "state"),
                           "LIENTHONG_SAMPLE_DIR": str(sample), "LIENTHONG_DROP_DIR": str(drop),
                           "LIENTHONG_OUTPUT_DIR": str(base / "output"), "AIRFLOW_CONN_DOAN_TN_API": api,
                           "AIRFLOW_CONN_CONG_DOAN_API": api}.items():
            patch.setenv(key, value)
        settings = load_settings()
        prepare_warehouse()
        loop = Loop(url, settings, sample, drop, base / "output")
        for org in load_organisations():  # the first day: every organisation's full roll and its year
            for entity in org.entities:
                loop.land(org.code, entity.kind, FIRST_DAY)
        loop.build()
        yield loop
    server.shutdown()


def _list_rows(path: Path) -> list[dict]:
    sheet = openpyxl.load_workbook(path)[SHEET]
    return [dict(zip(HEADERS, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]


def test_period_1_sends_a_protected_list_per_unit_with_a_dropdown_and_hidden_keys(loop):
    paths = loop.render(P1)
    files = sorted((paths["verification_lists"] / ORG).glob("*.xlsx"))
    listed = loop.query("select count(distinct unit_key), count(*) from review.rpt_verification_list"
                        " where period_key = %s and org_code = %s", (P1, ORG))[0]
    assert len(files) == listed[0] > 1
    assert sum(len(_list_rows(f)) for f in files) == listed[1]
    book = openpyxl.load_workbook(files[0])
    sheet = book[SHEET]
    assert book.sheetnames[0] == SHEET and PERSONAL_DATA in book["Hướng dẫn"]["A1"].value
    assert "cá nhân" in book.properties.subject and PERSONAL_DATA in sheet.oddHeader.center.text
    assert [c.value for c in sheet[1]] == list(HEADERS)
    assert sheet.column_dimensions["A"].hidden  # the key
    assert sheet.protection.sheet
    outcome_col = HEADERS.index("Kết quả xác minh") + 1
    for row in sheet.iter_rows(min_row=2):
        assert all(c.protection.locked for c in row[:outcome_col - 1])  # evidence and key as sent
        assert not any(c.protection.locked for c in row[outcome_col - 1:])  # the columns to fill
    period, kind, record = row[0].value.split("|", 2)
    assert period == P1 and record.startswith(f"{ORG}:")
    assert loop.query("select count(*) from review.rpt_member_flags where period_key = %s and flag_kind = %s"
                      " and source_record_key = %s", (period, kind, record))[0][0] == 1
    dropdown = next(v for v in sheet.data_validations.dataValidation if v.type == "list")
    letter = sheet.cell(1, outcome_col).column_letter
    assert str(dropdown.sqref) == f"{letter}2:{letter}{sheet.max_row}"
    assert dropdown.formula1.strip('"').split(",") == [o.label for o in OUTCOMES]
    assert dropdown.showErrorMessage
    assert stat_mode(files[0]) == 0o600
    # A unit with flags in a period gets its list; the main report has the loop's part.
    html = paths["html"].read_text(encoding="utf-8")
    assert "Vòng rà soát" in html


def stat_mode(path: Path) -> int:
    import stat

    return stat.S_IMODE(path.stat().st_mode)
