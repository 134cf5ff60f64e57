"""Round trips of the legacy Vietnamese encodings on real Vietnamese text."""

import unicodedata

import pytest

from lienthong.text import legacy_encodings as le

SAMPLES = [
    "Nguyễn Thị Mỹ Lệ",
    "Trần Văn Đức, ấp Bến Cừ, xã Mỹ Yên",
    "Huỳnh Ngọc Thủy Tiên; Võ Quốc Hưng; Lâm Thị Ngọc Hòa",
    "Hội Liên hiệp Phụ nữ Việt Nam - chi hội ấp Thạnh Lợi",
    "Đoàn Thanh niên Cộng sản Hồ Chí Minh",
    "Phường Tân Ninh, tỉnh Tây Ninh; xã Đức Hòa, huyện Đức Hòa, tỉnh Long An",
    "ngày 27/11/2026: đóng hội phí 60.000 đồng, sinh hoạt chi hội",
    "ươ ưở ữ ự ỵ ỷ ỹ ỳ ý ĩ ị ỉ ì í ẵ ặ ẳ ằ ắ ẫ ậ ẩ ầ ấ ễ ệ ể ề ế ỗ ộ ổ ồ ố ỡ ợ ở ờ ớ",
    "Thạch Thị Sa Ry, Danh Sơn, Kha Vĩnh Phúc",
]
CAPITALS = ["NGUYỄN THỊ MỸ LỆ", "TRẦN VĂN ĐỨC", "ẤP BẾN CỪ", "Ấp", "Ước Ánh"]


@pytest.mark.parametrize("text", SAMPLES + CAPITALS)
def test_vni_round_trip_keeps_everything(text):
    assert le.decode_vni(le.encode_vni(text)) == text


@pytest.mark.parametrize("text", SAMPLES + CAPITALS[:3])
def test_tcvn3_round_trip(text):
    assert le.decode_tcvn3(le.encode_tcvn3(text)) == text


def test_tcvn3_title_case_toned_capital_comes_back_lower_case():
    # The capitals font used the same byte; nothing in the file says the case.
    assert le.decode_tcvn3(le.encode_tcvn3("Ấp Ánh")) == "ấp ánh"


@pytest.mark.parametrize("text", SAMPLES + CAPITALS)
def test_cp1258_round_trip_and_uses_combining_marks(text):
    data = le.encode_cp1258(text)
    assert le.decode_cp1258(data) == text
    assert all(ord(c) < 0x1E00 for c in data.decode("cp1258"))  # no precomposed tone letters


def test_known_bytes():
    assert le.encode_tcvn3("Nguyễn") == b"Nguy\xd4n"
    assert le.encode_tcvn3("Đức") == b"\xa7\xf8c"
    assert le.encode_tcvn3("ư") == b"\xad"
    assert le.encode_vni("Nguyễn") == "Nguyeãn".encode("cp1252")
    assert le.encode_vni("Xin chào các bạn") == "Xin chaøo caùc baïn".encode("cp1252")
    assert le.encode_vni("Trường") == "Tröôøng".encode("cp1252")
    # Windows-1258: ê is in the code page, the acute tone follows as a combining mark (0xEC).
    assert le.encode_cp1258("ế") == b"\xea\xec"


def test_encoders_accept_nfd():
    nfd = unicodedata.normalize("NFD", SAMPLES[0])
    assert le.encode_vni(nfd) == le.encode_vni(SAMPLES[0])
    assert le.encode_tcvn3(nfd) == le.encode_tcvn3(SAMPLES[0])


def test_generic_entry_points():
    for name in ("tcvn3", "vni", "cp1258", "utf-8"):
        assert le.decode(le.encode(SAMPLES[1], name), name) == SAMPLES[1]
