import pytest

from lienthong.text.errors import PhoneParseError
from lienthong.text.phones import normalise_phone


@pytest.mark.parametrize(
    "raw",
    ["0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "+84 912 345 678",
     "84912345678", "0084912345678", "+84 (0) 912 345 678", "912345678", "912345678.0", 912345678],
)
def test_forms_of_one_number(raw):
    assert normalise_phone(raw) == "0912345678"


def test_retired_eleven_digit_numbers_get_their_new_prefix():
    assert normalise_phone("0168 123 4567") == "0381234567"
    assert normalise_phone("+84 128 123 4567") == "0781234567"


@pytest.mark.parametrize(
    ("raw", "code"),
    [("", "missing_phone"), (None, "missing_phone"), ("không có", "non_digit_phone"),
     ("0276 3822 123", "landline_phone"), ("091234567", "bad_phone_length"),
     ("0612345678", "bad_mobile_prefix"), ("0912345678 / 0987654321", "multiple_phones")],
)
def test_errors(raw, code):
    with pytest.raises(PhoneParseError) as info:
        normalise_phone(raw)
    assert info.value.code == code


def test_placeholder_numbers():
    from lienthong.text.phones import is_placeholder_phone

    for phone in ("0900000000", "0999999999", "0123456789", "0987654321", "0912345678"):
        assert is_placeholder_phone(phone), phone
    for phone in ("0897193134", "0704896307", "0909000123"):
        assert not is_placeholder_phone(phone), phone
