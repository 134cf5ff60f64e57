"""`lienthong config check`: a delivered file dry-run through its organisation's mapping."""
from pathlib import Path

import pytest

from lienthong.config.check import check_file, find_entity
from lienthong.config.organisations import load_organisations

CONFIG = """
code: hoi_thu
name: Hội Thử
short_name: Hội Thử
member_word: hội viên
owner: test
sex_codes: {"1": M, "0": F}
entities:
  - kind: roster
    connector: {type: file, path: "thu/{date}/ds.csv", format: csv, delimiter: ";"}
    record_id: Mã
    columns: {Tên: full_name, Năm sinh: birth_year, Phái: sex, CCCD: id_number, Ghi chú: end_reason}
    optional: [Ghi chú]
    required: [full_name]
"""


@pytest.fixture
def setup(tmp_path) -> tuple:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "hoi_thu.yml").write_text(CONFIG, encoding="utf-8")
    path = tmp_path / "drop" / "thu" / "2026-10-01" / "ds.csv"
    path.parent.mkdir(parents=True)
    return load_organisations(tmp_path / "configs"), path


def test_a_file_is_dry_run_field_by_field(setup):
    orgs, path = setup
    path.write_text("Mã;Tên;Năm sinh;Phái;CCCD;Thêm\n"
                    "A1;Lê Thị Hoa;1980;0;'072180000001;x\n"
                    "A2;;1981;1;0721S0ABC;\n"
                    "A3;Trần Văn Ba;1979;2;;\n", encoding="utf-8")
    org, entity = find_entity(orgs, path)
    report = check_file(org, entity, path)
    assert report.ok and report.rows == 3
    assert report.unmapped == ["Thêm"] and report.missing_optional == ["Ghi chú"]
    assert report.fill["member_code"] == 3 and report.fill["full_name"] == 2 and report.fill["id_number"] == 1
    assert report.examples["id_number"] == ["<12 digits>"]  # apostrophe gone; shape only
    assert "'0' -> F" in report.examples["sex"] and any("unknown" in e for e in report.examples["sex"])
    assert report.ids_set_aside == 1
    assert dict(report.quarantined) == {"missing_required": 1} and report.quarantined_rows["missing_required"] == [3]
    assert not any("Lê Thị Hoa" in line for line in report.lines())


def test_a_missing_configured_header_is_an_error(setup):
    orgs, path = setup
    path.write_text("Mã;Tên;Năm sinh;CCCD\nA1;Lê Thị Hoa;1980;\n", encoding="utf-8")
    report = check_file(*find_entity(orgs, path), path)
    assert not report.ok and report.missing == ["Phái"]
    assert "ERROR" in report.lines()[1] and "Phái" in report.lines()[1]


def test_a_file_no_config_describes_is_named(setup):
    orgs, _ = setup
    with pytest.raises(ValueError, match="--org and --entity"):
        find_entity(orgs, Path("elsewhere/2026-10-01/ds.csv"))
