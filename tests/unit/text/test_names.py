import unicodedata

import pytest

from lienthong.text.names import NameParts, name_key, normalise_name, split_name


@pytest.mark.parametrize(
    "variants",
    [
        ("Trần Thị Thúy", "Trần Thị Thuý", "TRẦN THỊ THÚY", "  trần   thị  thuý "),
        ("Lê Văn Hòa", "Lê Văn Hoà", "LÊ VĂN HOÀ"),
        ("Phạm Minh Khỏe", "Phạm Minh Khoẻ"),
        ("Huỳnh Thị Thủy", "Huỳnh Thị Thuỷ"),
    ],
)
def test_spelling_variants_share_display_form_and_key(variants):
    assert len({normalise_name(v) for v in variants}) == 1
    assert len({name_key(v) for v in variants}) == 1


def test_nfc_and_nfd_are_equal():
    nfc = unicodedata.normalize("NFC", "Nguyễn Thị Mỹ Lệ")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    assert normalise_name(nfd) == normalise_name(nfc) == "Nguyễn Thị Mỹ Lệ"
    assert name_key(nfd) == name_key(nfc) == "nguyen thi my le"


def test_traditional_tone_placement_is_the_output():
    assert normalise_name("Nguyễn Hoà Thuý Khoẻ") == "Nguyễn Hòa Thúy Khỏe"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hoàng", "Hoàng"),  # final consonant: the mark stays on the second vowel
        ("HUỲNH", "Huỳnh"),
        ("quý", "Quý"),  # qu is a consonant
        ("già", "Già"),  # gi is a consonant
        ("ngoài", "Ngoài"),  # three vowels: the middle one
        ("Trường", "Trường"),
        ("Nguyêñ", "Nguyễn"),  # a misplaced mark moves to the marked vowel
        ("Sóc", "Sóc"),
    ],
)
def test_tone_rule_keeps_correct_syllables(raw, expected):
    assert normalise_name(raw) == expected


def test_key_strips_diacritics_and_d_bar():
    assert name_key("Nguyễn Văn Đức") == "nguyen van duc"
    assert name_key("TRAN THI THUY") == name_key("Trần Thị Thúy") == "tran thi thuy"
    assert name_key("Đặng\u00a0Thị-Ánh") == "dang thi anh"


def test_split_name():
    assert split_name("nguyễn   thị MỸ lệ") == NameParts("Nguyễn", "Thị Mỹ", "Lệ")
    assert split_name("Võ Thành") == NameParts("Võ", "", "Thành")
    assert split_name("Sơn") == NameParts("", "", "Sơn")
    assert split_name("  ") == NameParts("", "", "")
