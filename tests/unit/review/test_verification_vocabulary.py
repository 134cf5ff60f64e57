"""The verification lists' answers: one vocabulary for the dropdown, the landing check and dbt."""
import json
from datetime import date

from lienthong.config.organisations import get_organisation
from lienthong.landing.checks import checks_for
from lienthong.review.outcomes import OUTCOMES, flag_key, outcome_code, seed_rows
from lienthong.review.report import Period
from lienthong.review.verification import HEADERS, SHEET, _write_workbook
from lienthong.sources.base import SourceRow


def test_an_answer_is_read_whatever_its_case_accents_or_spacing():
    assert outcome_code("Đã mất") == "deceased"
    assert outcome_code("  da  MAT ") == "deceased"
    assert outcome_code("not_a_member") == "not_a_member"
    assert outcome_code("Đã kiểm tra") is None and outcome_code("") is None
    assert all("," not in o.label for o in OUTCOMES)  # an inline Excel list is comma-separated
    assert len({o.code for o in OUTCOMES}) == len(OUTCOMES) == len(seed_rows()[1])
    assert flag_key("2026-11", "no_dues", "org_a:M1") == "2026-11|no_dues|org_a:M1"


def _row(number: int, **values) -> SourceRow:
    return SourceRow(number, {"flag_key": "2026-11|no_dues|x:1", "outcome": None, "corrected_id_number": None,
                              "corrected_birth_date": None, "note": None, "verified_by": None, "verified_on": None,
                              **values}, {})


def test_a_word_not_in_the_list_is_quarantined_an_empty_answer_lands():
    entity = get_organisation("hoi_lhpn").entity("verification_outcomes")  # the sample's config

    def reasons(row):
        return [r.reason_code for check in checks_for(entity) if (r := check(row))]

    assert reasons(_row(2, outcome="Đã chuyển đi nơi khác")) == []
    assert reasons(_row(3)) == []  # not answered yet
    assert reasons(_row(4, outcome="Đã kiểm tra")) == ["unknown_outcome"]
    assert reasons(_row(5, outcome="Đã mất", verified_on="31/02/2026")) == ["unreadable_verified_on"]
    assert reasons(_row(6, flag_key=None)) == ["missing_required"]


def test_the_list_protects_all_but_the_columns_to_fill(tmp_path):
    import openpyxl

    period = Period("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30))
    rows = [("2026-11|no_dues|x:1", "=HYPERLINK(\"http://x\")", "Trần Thị Mai", 1980, None, "Không đóng hội phí", "Lần đóng gần nhất: …",
             date(2026, 1, 1), False, "Xã A")]
    path = _write_workbook(tmp_path / "a.xlsx", period, "Hội A", "Chi hội 1", rows, [])
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET]
    assert [c.value for c in sheet[1]] == list(HEADERS) and sheet["A2"].value == rows[0][0]
    assert sheet.protection.sheet and sheet.column_dimensions["A"].hidden
    fill = HEADERS.index("Kết quả xác minh")
    assert [c.protection.locked for c in sheet[2]] == [True] * fill + [False] * (len(HEADERS) - fill)
    assert book.sheetnames == [SHEET, "Hướng dẫn"]  # no suggestions: no suggestions sheet
    assert sheet["E2"].data_type == "s"  # text from the rolls stays text, never a formula


def test_a_night_rewrites_only_the_lists_that_changed_and_removes_those_no_longer_due(tmp_path):
    import openpyxl

    from lienthong.review.verification import write_unit_lists

    period = Period("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30))

    def unit(name, family):
        return {"name": name, "suggestions": [], "rows": [
            (f"2026-11|no_dues|{name}", "M1", f"{family} Thị Mai", 1980, None, "Không đóng hội phí", "…",
             date(2026, 1, 1), False, "Xã A")]}

    folder = tmp_path / "xac_minh"
    first = write_unit_lists({("org", "u1"): unit("Chi hội 1", "Trần"), ("org", "u2"): unit("Chi hội 2", "Lê"),
                              ("org", "u3"): unit("Chi hội 3", "Võ")}, period, {"org": "Hội A"}, folder)
    written = {path.name: path.stat().st_mtime_ns for path in first}
    second = write_unit_lists({("org", "u1"): unit("Chi hội 1", "Trần"), ("org", "u2"): unit("Chi hội 2", "Phạm")},
                              period, {"org": "Hội A"}, folder)
    assert second == first[:2]
    assert second[0].stat().st_mtime_ns == written[second[0].name]  # same content: left as it was
    assert openpyxl.load_workbook(second[1])[SHEET]["F2"].value == "Phạm Thị Mai"  # a name changed: rewritten
    assert not first[2].exists()  # no flags in u3 tonight: yesterday's list is gone
    assert sorted(p.name for p in folder.rglob("*.xlsx")) == sorted(p.name for p in second)
    second[0].write_bytes(b"not a workbook")  # a file changed by hand is written again
    write_unit_lists({("org", "u1"): unit("Chi hội 1", "Trần")}, period, {"org": "Hội A"}, folder)
    assert second[0].read_bytes() != b"not a workbook"
    (folder / ".da_ghi.json").write_text("{not json")  # an unreadable manifest: every list written again
    assert write_unit_lists({("org", "u1"): unit("Chi hội 1", "Trần")}, period, {"org": "Hội A"}, folder) == second[:1]
    assert openpyxl.load_workbook(second[0])[SHEET]["F2"].value == "Trần Thị Mai"
    assert list(json.loads((folder / ".da_ghi.json").read_text())) == [str(second[0].relative_to(folder))]


def test_many_lists_are_written_in_worker_processes_with_the_same_content(tmp_path, monkeypatch):
    import openpyxl

    from lienthong.review import verification

    period = Period("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30))
    units = {("org", f"u{n}"): {"name": f"Chi hội {n}", "suggestions": [], "rows": [
        (f"2026-11|no_dues|u{n}", f"M{n}", f"Trần Thị Mai {n}", 1980, None, "Không đóng hội phí", "…",
         date(2026, 1, 1), False, "Xã A")]} for n in range(6)}
    by_one = verification.write_unit_lists(units, period, {"org": "Hội A"}, tmp_path / "one")
    pools = []
    monkeypatch.setattr(verification, "worker_count", lambda items, least: pools.append(items) or 2)
    by_two = verification.write_unit_lists(units, period, {"org": "Hội A"}, tmp_path / "two")
    assert pools == [6]  # every list went to two workers

    def cells(path):
        return [[c.value for c in row] for row in openpyxl.load_workbook(path)[SHEET].iter_rows()]

    assert [p.relative_to(tmp_path / "two") for p in by_two] == [p.relative_to(tmp_path / "one") for p in by_one]
    assert [cells(p) for p in by_two] == [cells(p) for p in by_one]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in by_two)
    assert not list((tmp_path / "two").rglob("*.tmp"))
