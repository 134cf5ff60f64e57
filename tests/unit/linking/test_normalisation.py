"""The issue's normalisation cases one by one, on real Vietnamese examples, down to the linker's features."""
import datetime as dt
import unicodedata

import pytest

from lienthong.linking.records import hamlet_key, prepare
from lienthong.text import name_key, normalise_name, normalise_phone, parse_birth_date, parse_person_id, split_name
from lienthong.text import resolve_commune

TODAY = dt.date(2026, 11, 27)


def features(**values):
    row = {"org_code": "hoi_lhpn", "source_record_key": "1", "full_name": "", "birth_date": "", "sex": "",
           "id_number": "", "phone": "", "hamlet": "", "commune": ""}
    return prepare({**row, **values}, TODAY)


@pytest.mark.parametrize("variant", [
    "Trần Thị Thúy",                                   # reference
    unicodedata.normalize("NFD", "Trần Thị Thúy"),     # decomposed Unicode
    "Trần Thị Thuý",                                   # tone on the second vowel ("new" placement)
    "TRẦN THỊ THÚY",                                   # all capitals
    "  Trần   Thị  Thúy ",                             # extra spaces
])
def test_name_variants_have_one_display_form_and_one_key(variant):
    assert normalise_name(variant) == "Trần Thị Thúy"
    assert features(full_name=variant)["name_key"] == "tran thi thuy"


def test_diacritic_free_key_folds_d_bar_and_matches_an_ascii_roster():
    assert name_key("Đặng Văn Đức") == name_key("DANG VAN DUC") == "dang van duc"
    assert features(full_name="TRAN THI THUY")["name_key"] == features(full_name="Trần Thị Thuý")["name_key"]


@pytest.mark.parametrize("spelling, expected", [("Hoà", "Hòa"), ("Khoẻ", "Khỏe"), ("Thuý", "Thúy"),
                                                ("Huỳnh", "Huỳnh"), ("Nguyêñ", "Nguyễn")])
def test_tone_mark_placement(spelling, expected):
    assert normalise_name(spelling) == expected


def test_family_middle_given_parts():
    assert split_name("nguyễn thị mỹ lệ") == ("Nguyễn", "Thị Mỹ", "Lệ")
    got = features(full_name="NGUYỄN THỊ MỸ LỆ")
    assert (got["family_key"], got["middle_key"], got["given_key"]) == ("nguyen", "thi my", "le")
    assert features(full_name="Lê Lan")["middle_key"] is None


def test_birth_date_full_year_only_and_excel_serial():
    assert features(birth_date="12/05/1985")["birth_date"] == "1985-05-12"
    year_only = features(birth_date="1962")
    assert (year_only["birth_date"], year_only["birth_year"]) == (None, 1962)
    assert features(birth_date="31179")["birth_date"] == "1985-05-12"  # Excel serial


def test_day_month_ambiguity_is_kept_not_resolved():
    parsed = parse_birth_date("04/03/1990", today=TODAY)
    assert (parsed.day, parsed.month, parsed.ambiguous_day_month) == (4, 3, True)
    assert parse_birth_date("25/12/1990", today=TODAY).ambiguous_day_month is False


def test_iso_export_with_day_and_month_swapped_is_read():
    parsed = parse_birth_date("2006-26-06", today=TODAY)
    assert (parsed.date, parsed.day_month_swapped) == (dt.date(2006, 6, 26), True)


def test_cccd_digits_4_to_6_checked_against_sex_and_birth_year():
    woman_1982 = parse_person_id("072182947378", sex="Nữ", birth_year=1982)
    assert (woman_1982.kind, woman_1982.province_name, woman_1982.consistent) == ("cccd", "Tây Ninh", True)
    wrong = parse_person_id("072082947378", sex="Nữ", birth_year=1983)
    assert not wrong.consistent and {"sex_mismatch", "birth_year_mismatch"} <= set(wrong.issues)
    assert parse_person_id("080 201 257 720", sex="Nam", birth_year=2001).consistent


def test_cmnd_and_excel_damaged_ids():
    assert parse_person_id("295392225").kind == "cmnd"
    restored = parse_person_id("72182947378.0")  # numeric Excel cell dropped the leading zero
    assert restored.digits == "072182947378" and "leading_zero_restored" in restored.issues
    assert features(id_number="12345")["id_number"] is None


@pytest.mark.parametrize("raw", ["+84 912 345 678", "0912.345.678", "0912 345 678", "84912345678", "912345678"])
def test_phones(raw):
    assert normalise_phone(raw) == "0912345678"
    assert features(phone=raw)["phone"] == "0912345678"


def test_address_old_and_new_names_resolve_to_one_new_commune_code():
    old = features(hamlet="KP3", commune="P.3, TP. Tây Ninh")
    new = features(hamlet="Khu phố 3", commune="Phường Tân Ninh")
    assert old["commune_code"] == new["commune_code"] == "25459"
    assert old["hamlet_key"] == new["hamlet_key"] == "kp3"
    assert hamlet_key("ấp Đình Bàu") == hamlet_key("Ap Dinh Bau") == "apdinhbau"


def test_split_commune_is_flagged_not_guessed():
    assert resolve_commune("xã Tân Phú, huyện Tân Châu").split
    got = features(hamlet="ấp 3", commune="xã Tân Phú, huyện Tân Châu")
    assert got["commune_code"] is None and len(got["commune_candidates"].split()) == 2


def test_a_rolls_province_places_a_commune_both_provinces_have():
    two = ("tinhtayninh", "tinhdongthap")
    row = {"org_code": "hoi_nd_dt", "source_record_key": "1", "full_name": "Lê Văn Tư", "commune": "Xã Tân Phú"}
    alone = prepare(row, provinces=two)
    assert alone["commune_code"] is None and len(alone["commune_candidates"].split()) > 1  # ambiguous, not guessed
    homed = prepare(row, provinces=two, homes={"hoi_nd_dt": "tinhdongthap"})
    assert homed["commune_code"] == resolve_commune("Xã Tân Phú, Tỉnh Đồng Tháp", provinces=two).new_code
    # A province the policy does not resolve in is no home: the record resolves as without one.
    assert prepare(row, homes={"hoi_nd_dt": "tinhdongthap"})["commune_code"] == prepare(row)["commune_code"]
