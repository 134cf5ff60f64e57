"""Row preparation before landing: configured clean-up, constants, fields derived from a form's split
columns, and the ID set aside."""
import pytest

from lienthong.config.organisations import EntityConfig
from lienthong.landing.checks import ID_SET_ASIDE, clean_value, row_preparer
from lienthong.sources.base import SourceRow

ENTITY = EntityConfig.model_validate({
    "kind": "roster",
    "connector": {"type": "file", "path": "x/{date}/ds.csv", "format": "csv"},
    "columns": {"Tên": "full_name", "CCCD": "id_number", "Số tiền": "amount", "Năm sinh": "birth_year"},
    "constants": {"sex": "F"},
    "clean": {"amount": ["thousands_separators"], "birth_year": ["surrounding_quotes", "excel_text_marker"]},
})


@pytest.mark.parametrize("text, steps, expected", [
    ("'080089687442", ["excel_text_marker"], "080089687442"),
    ("1.000.000", ["thousands_separators"], "1000000"),
    ("20,000", ["thousands_separators"], "20000"),
    ("1.5", ["thousands_separators"], "1.5"),          # not a thousands pattern: left alone
    ('"Nguyễn Văn A"', ["surrounding_quotes"], "Nguyễn Văn A"),
    ("“1985”", ["surrounding_quotes"], "1985"),
    ("'", ["excel_text_marker"], None),                # nothing left: empty
])
def test_clean_up_steps(text, steps, expected):
    assert clean_value(text, steps) == expected


def test_rows_are_cleaned_given_constants_and_keep_an_unreadable_id_aside():
    prepare = row_preparer(ENTITY)
    row = prepare(SourceRow(2, {"full_name": "Lê Thị Hoa", "id_number": "'080089687442", "amount": "12.000",
                                "birth_year": "\"'1984\""}, {}))
    assert row.values == {"full_name": "Lê Thị Hoa", "id_number": "080089687442", "amount": "12000",
                          "birth_year": "1984", "sex": "F"}
    odd = prepare(SourceRow(3, {"full_name": "Lê Thị Hoa", "id_number": "07218800ABCD", "amount": None,
                                "birth_year": None}, {"Ghi chú": "x"}))
    assert odd.values["id_number"] is None
    assert odd.extra == {"Ghi chú": "x", ID_SET_ASIDE: "07218800ABCD"}


def _form(columns: dict, **more) -> EntityConfig:
    return EntityConfig.model_validate({
        "kind": "roster", "connector": {"type": "file", "path": "x/{date}/ds.csv", "format": "csv"},
        "columns": columns, **more})


def test_a_birth_split_over_day_month_and_year_columns_lands_as_one_birth_date():
    entity = _form({"Họ": "family_name", "Tên đệm": "middle_name", "Tên": "given_names",
                    "Ngày": "birth_day", "Tháng": "birth_month", "Năm": "birth_year"})
    assert entity.fields[-1] == "birth_date"
    prepare = row_preparer(entity)

    def birth(day, month, year):
        return prepare(SourceRow(2, {"birth_day": day, "birth_month": month, "birth_year": year}, {})).values["birth_date"]

    assert birth("5", "03", " 1990 ") == "1990-03-5"  # ISO order: the columns say which part is the day
    assert birth(None, None, "1990") == "1990"           # a year alone stays a year
    assert birth("5", " ", "1990") == "1990"             # no month: the day says nothing alone
    assert birth("5", "3", None) is None                 # no year: no birth date
    assert birth("31", "2", "1990") == "1990-2-31"       # lands as written: the date check quarantines it


def test_a_form_writing_the_birth_under_nam_or_nu_gives_the_birth_date_and_the_sex():
    entity = _form({"Họ và tên": "full_name", "Nam": "birth_date_male", "Nữ": "birth_date_female"})
    assert set(entity.derived) == {"birth_date", "sex"}
    prepare = row_preparer(entity)

    def derived(male, female):
        values = prepare(SourceRow(2, {"birth_date_male": male, "birth_date_female": female}, {})).values
        return values["birth_date"], values["sex"]

    assert derived("1958", None) == ("1958", "M")
    assert derived(" ", "12/03/1961") == ("12/03/1961", "F")
    assert derived(None, None) == (None, None)


@pytest.mark.parametrize("columns, expected", [
    ({"Ngày": "birth_day", "Năm": "birth_year"}, "birth_day needs birth_month"),
    ({"Ngày": "birth_day", "Tháng": "birth_month"}, "need birth_year too"),
    ({"Ngày": "birth_day", "Tháng": "birth_month", "Năm": "birth_year", "Ngày sinh": "birth_date"},
     "birth_date is derived from birth_day, birth_month, birth_year"),
    ({"Nam": "birth_date_male"}, "birth_date_male needs birth_date_female"),
    ({"Nam": "birth_date_male", "Nữ": "birth_date_female", "Giới": "sex"}, "sex is derived"),
])
def test_split_birth_columns_must_come_whole_and_alone(columns, expected):
    with pytest.raises(ValueError, match=expected):
        _form({"Tên": "full_name", **columns})


def test_a_dues_period_no_reading_fits_is_quarantined_with_its_reason():
    from lienthong.landing.checks import checks_for

    dues = EntityConfig.model_validate({
        "kind": "dues", "connector": {"type": "file", "path": "x/{date}/hp.csv", "format": "csv"},
        "columns": {"Mã": "member_code", "Kỳ": "period", "Số tiền": "amount"}})

    def rejection(period):
        row = SourceRow(2, {"member_code": "A1", "period": period, "amount": "10000"}, {})
        return next((r.reason_code for check in checks_for(dues) if (r := check(row))), None)

    assert [rejection(p) for p in ("Quý 4/2026", "tháng 10/2026", "2026", "13/2026", "10/26")] == \
        [None, None, None, "unreadable_period", "unreadable_period"]
