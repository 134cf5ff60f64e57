"""Row preparation before landing: configured clean-up, constants, and the ID set aside."""
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
