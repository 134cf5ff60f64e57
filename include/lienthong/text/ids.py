"""Personal identification numbers: 12-digit CCCD and 9-digit CMND.

CCCD layout (Circular 07/2016/TT-BCA, kept by Circular 59/2021/TT-BCA): digits 1–3 are the
province where the birth was registered (the 63 provinces as they were before the 2025 merger,
e.g. 072 Tây Ninh, 080 Long An) or a country code for births abroad; digit 4 is century and sex
(1900s: male 0, female 1; 2000s: 2 / 3; 2100s: 4 / 5; 2200s: 6 / 7; 2300s: 8 / 9); digits 5–6 are
the last two digits of the birth year; digits 7–12 are random. A CMND carries no sex or year.

Reason codes of ``IdParseError``: ``missing_id``, ``non_digit_id``, ``bad_id_length``;
``unknown_sex`` / ``bad_birth_year`` when the supplied sex / birth year is not recognised.
Issues reported on a parsed id (not errors): ``leading_zero_restored`` (Excel dropped the
leading 0), ``unknown_province_code`` (not one of the 63; may be a country code),
``birth_year_in_future``, ``sex_mismatch``, ``birth_year_mismatch``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from lienthong.text.errors import IdParseError
from lienthong.text.names import name_key

# The 63 provinces' codes before 1 July 2025, as used in CCCD digits 1–3 (= GSO province codes).
PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn",
    "008": "Tuyên Quang", "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu",
    "014": "Sơn La", "015": "Yên Bái", "017": "Hòa Bình", "019": "Thái Nguyên",
    "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang", "025": "Phú Thọ",
    "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định",
    "037": "Ninh Bình", "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh",
    "044": "Quảng Bình", "045": "Quảng Trị", "046": "Thừa Thiên Huế", "048": "Đà Nẵng",
    "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định", "054": "Phú Yên",
    "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu", "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang",
    "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long", "087": "Đồng Tháp",
    "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
    "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}

_SEPARATORS = re.compile(r"[\s.\-_]")
_EXCEL_FLOAT = re.compile(r"(\d+)\.0+")
_SEX_WORDS = {
    "male": "male", "nam": "male", "m": "male", "trai": "male",
    "female": "female", "nu": "female", "f": "female", "gai": "female",
}

Sex = Literal["male", "female"]


@dataclass(frozen=True, slots=True)
class PersonId:
    """A parsed CCCD or CMND. CCCD-only fields are None for a CMND.

    ``consistent`` is None when nothing could be checked (no sex or birth year supplied, or a
    CMND), True when every supplied value agrees with the id, False otherwise.
    """

    kind: Literal["cccd", "cmnd"]
    digits: str
    province_code: str | None = None
    sex_from_id: Sex | None = None
    century: int | None = None
    birth_year_2d: int | None = None
    consistent: bool | None = None
    issues: tuple[str, ...] = ()

    @property
    def birth_year_from_id(self) -> int | None:
        if self.century is None or self.birth_year_2d is None:
            return None
        return self.century + self.birth_year_2d

    @property
    def province_name(self) -> str | None:
        return PROVINCE_CODES.get(self.province_code or "")


def normalise_sex(value: object) -> Sex | None:
    """'Nam' / 'Nữ' / 'male' / 'F' ... to 'male' / 'female'; blank or None to None."""
    if value is None:
        return None
    key = name_key(str(value))
    if not key:
        return None
    if key not in _SEX_WORDS:
        raise IdParseError("unknown_sex", value)
    return _SEX_WORDS[key]  # type: ignore[return-value]


def _year(value: object) -> int:
    """A roster's birth year as int; Excel may hand it over as 1985.0 or "1985.0"."""
    try:
        return int(float(str(value).strip()))
    except ValueError:
        raise IdParseError("bad_birth_year", value) from None


def _digits(s: object) -> tuple[str, list[str]]:
    text = "" if s is None else str(s).strip()
    if m := _EXCEL_FLOAT.fullmatch(text):
        text = m.group(1)
    text = _SEPARATORS.sub("", text)
    if not text:
        raise IdParseError("missing_id", s)
    if not text.isdigit() or not text.isascii():
        raise IdParseError("non_digit_id", s)
    issues = []
    if len(text) in (8, 11):
        # Both lengths are a CMND / CCCD that went through a numeric Excel cell.
        text = "0" + text
        issues.append("leading_zero_restored")
    if len(text) not in (9, 12):
        raise IdParseError("bad_id_length", s, f"{len(text)} digits")
    return text, issues


def parse_person_id(
    s: object, sex: object = None, birth_year: object = None, today: dt.date | None = None
) -> PersonId:
    """Parse a CCCD (12 digits) or CMND (9); check digits 4–6 against ``sex`` and ``birth_year``.

    Spaces, dots and dashes are ignored. Raises ``IdParseError`` for a malformed number; facts
    that make the id doubtful but not unreadable go to ``PersonId.issues``.
    """
    digits, issues = _digits(s)
    if len(digits) == 9:
        return PersonId("cmnd", digits, issues=tuple(issues))

    province = digits[:3]
    if province not in PROVINCE_CODES:
        issues.append("unknown_province_code")
    marker = int(digits[3])
    century = 1900 + 100 * (marker // 2)
    id_sex: Sex = "female" if marker % 2 else "male"
    year_2d = int(digits[4:6])
    if century + year_2d > (today or dt.date.today()).year:
        issues.append("birth_year_in_future")

    checks = []
    expected_sex = normalise_sex(sex)
    if expected_sex is not None:
        checks.append(expected_sex == id_sex)
        if expected_sex != id_sex:
            issues.append("sex_mismatch")
    if birth_year is not None and str(birth_year).strip():
        matches = _year(birth_year) == century + year_2d
        checks.append(matches)
        if not matches:
            issues.append("birth_year_mismatch")
    return PersonId(
        kind="cccd",
        digits=digits,
        province_code=province,
        sex_from_id=id_sex,
        century=century,
        birth_year_2d=year_2d,
        consistent=all(checks) if checks else None,
        issues=tuple(issues),
    )
