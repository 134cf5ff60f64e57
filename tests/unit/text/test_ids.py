import datetime as dt
import sqlite3

import pytest

from lienthong.text.errors import IdParseError
from lienthong.text.ids import PROVINCE_CODES, normalise_sex, parse_person_id


def test_cccd_fields():
    pid = parse_person_id("072 185 000 123")
    assert (pid.kind, pid.digits, pid.province_code, pid.province_name) == (
        "cccd", "072185000123", "072", "Tây Ninh")
    assert (pid.sex_from_id, pid.century, pid.birth_year_2d, pid.birth_year_from_id) == (
        "female", 1900, 85, 1985)
    assert pid.consistent is None and pid.issues == ()


@pytest.mark.parametrize(
    ("digits", "sex", "year"),
    [("080090001234", "male", 1990), ("080190001234", "female", 1990),
     ("080205001234", "male", 2005), ("080305001234", "female", 2005)],
)
def test_century_and_sex_digit(digits, sex, year):
    pid = parse_person_id(digits, sex=sex, birth_year=year)
    assert pid.consistent is True
    assert pid.birth_year_from_id == year


def test_2100s_marker_is_decoded_and_flagged():
    pid = parse_person_id("072401001234", today=dt.date(2026, 1, 1))
    assert (pid.century, pid.sex_from_id) == (2100, "male")
    assert "birth_year_in_future" in pid.issues


def test_mismatch_with_roster():
    pid = parse_person_id("072.185.000.123", sex="Nam", birth_year="1986")
    assert pid.consistent is False
    assert set(pid.issues) == {"sex_mismatch", "birth_year_mismatch"}
    assert parse_person_id("072185000123", sex="Nữ", birth_year=1985).consistent is True
    assert parse_person_id("072185000123", birth_year="1985.0").consistent is True
    with pytest.raises(IdParseError) as info:
        parse_person_id("072185000123", birth_year="không rõ")
    assert info.value.code == "bad_birth_year"


def test_excel_lost_leading_zero():
    for raw in ("72185000123", 72185000123.0, "72185000123.0"):
        pid = parse_person_id(raw)
        assert pid.digits == "072185000123"
        assert pid.issues == ("leading_zero_restored",)


def test_cmnd_has_no_sex_or_year():
    pid = parse_person_id("290 123 456", sex="Nam", birth_year=1960)
    assert (pid.kind, pid.digits, pid.sex_from_id, pid.consistent) == ("cmnd", "290123456", None, None)


def test_unknown_province_is_an_issue_not_an_error():
    assert parse_person_id("999185000123").issues == ("unknown_province_code",)


@pytest.mark.parametrize(
    ("raw", "code"),
    [("", "missing_id"), (None, "missing_id"), ("07218500012A", "non_digit_id"),
     ("0721850001", "bad_id_length"), ("0721850001234", "bad_id_length")],
)
def test_errors(raw, code):
    with pytest.raises(IdParseError) as info:
        parse_person_id(raw)
    assert info.value.code == code


def test_sex_words():
    assert normalise_sex("NỮ") == "female" and normalise_sex("nam") == "male"
    assert normalise_sex("") is None
    with pytest.raises(IdParseError) as info:
        normalise_sex("khác")
    assert info.value.code == "unknown_sex"


def test_province_codes_are_the_63_old_provinces_of_the_admin_dataset():
    from importlib.util import find_spec
    from pathlib import Path

    db = Path(find_spec("vietnamadminunits").submodule_search_locations[0]) / "data/dataset.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        codes = {f"{int(c):03d}" for (c,) in conn.execute(
            "SELECT DISTINCT provinceCode FROM admin_units_legacy")}
    assert set(PROVINCE_CODES) == codes
    assert len(codes) == 63
