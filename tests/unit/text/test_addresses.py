import socket
import subprocess
import sys

import pytest

from lienthong.text import addresses
from lienthong.text.addresses import crosswalk, lookup_commune, resolve_commune
from lienthong.text.errors import AddressParseError
from lienthong.text.names import name_key, normalise_name


TWO = ("tinhtayninh", "tinhdongthap")  # the two-province sample's (sample/scales.yml)


def test_codes_are_reused_so_keys_carry_the_scheme():
    old, new = lookup_commune("old", "25459"), lookup_commune("new", "25459")
    assert (old.name, old.district, old.key) == ("Phường 3", "Thành phố Tây Ninh", "old:25459")
    assert (new.name, new.key) == ("Phường Tân Ninh", "new:25459")


@pytest.mark.parametrize(
    "text",
    ["Phường 3, TP. Tây Ninh", "P.3, TP Tây Ninh", "p3 tp tay ninh", "Phường 03 Tây Ninh",
     "kp 2, P. 3, TP. Tây Ninh, tỉnh Tây Ninh", "PHƯỜNG 3 - THÀNH PHỐ TÂY NINH"],
)
def test_old_ward_with_its_district(text):
    match = resolve_commune(text)
    assert (match.scheme_matched, match.old_code, match.old_name) == ("old", "25459", "Phường 3")
    assert (match.new_code, match.new_name, match.split) == ("25459", "Phường Tân Ninh", False)


@pytest.mark.parametrize("text", ["Phường Tân Ninh", "P. Tân Ninh", "phuong tan ninh", "Tân Ninh"])
def test_new_name(text):
    match = resolve_commune(text)
    assert (match.scheme_matched, match.new_code, match.old_code) == ("new", "25459", None)
    assert [c.key for c in match.candidates] == ["new:25459"]


def test_old_phuong_4_of_tay_ninh_merged_whole_into_tan_ninh():
    # The package data lists it as split with Tân An's Phường 4; Resolution 1682 merges it whole.
    match = resolve_commune("Phường IV, TP Tây Ninh")
    assert (match.old_code, match.new_name, match.split) == ("25462", "Phường Tân Ninh", False)
    assert resolve_commune("F4 Tân An").new_name == "Phường Long An"
    # A commune whose name starts with a word like a Roman numeral is no numbered ward (Cần Thơ's).
    assert resolve_commune("Xã Vị Thủy", provinces=("thanhphocantho",)).new_name == "Xã Vị Thủy"


def test_split_commune_is_flagged_with_candidates_not_guessed():
    match = resolve_commune("ấp 3, xã Tân Phú, huyện Tân Châu")
    assert match.split and match.scheme_matched == "old"
    assert (match.old_code, match.old_name) == ("25546", "Xã Tân Phú")
    assert match.new_code is None and match.new_name is None
    assert {c.name for c in match.candidates} == {"Xã Tân Châu", "Xã Tân Phú"}


def test_unit_word_tells_the_schemes_apart():
    old_town = resolve_commune("TT. Thủ Thừa")
    assert (old_town.scheme_matched, old_town.old_name, old_town.split) == ("old", "Thị trấn Thủ Thừa", True)
    assert {c.name for c in old_town.candidates} == {"Xã Thủ Thừa", "Xã Nhựt Tảo"}
    new_commune = resolve_commune("Xã Thủ Thừa")
    assert (new_commune.scheme_matched, new_commune.new_code) == ("new", "28036")


def test_same_old_name_in_several_districts_is_ambiguous():
    match = resolve_commune("Phường 1")
    assert match.ambiguous and match.new_code is None and match.old_code is None
    assert {c.district for c in match.old_candidates} == {
        "Thành phố Tây Ninh", "Thành phố Tân An", "Thị xã Kiến Tường"}
    narrowed = resolve_commune("Phường 1, Long An")
    assert {c.district for c in narrowed.old_candidates} == {"Thành phố Tân An", "Thị xã Kiến Tường"}
    assert resolve_commune("Phường 1, TX. Kiến Tường").new_name == "Phường Kiến Tường"


def test_diacritics_separate_names_that_the_plain_key_merges():
    assert resolve_commune("Xã Tân Thạnh").new_name == "Xã Tân Thạnh"
    assert resolve_commune("Xã Tân Thành").new_name == "Xã Tân Thành"
    plain = resolve_commune("xa tan thanh")
    assert plain.ambiguous and {c.name for c in plain.candidates} == {"Xã Tân Thành", "Xã Tân Thạnh"}


def test_abbreviations_and_district_without_comma():
    match = resolve_commune("X. Mỹ Hạnh Nam, H. Đức Hòa, T. Long An")
    assert (match.old_name, match.new_name) == ("Xã Mỹ Hạnh Nam", "Xã Mỹ Hạnh")
    assert resolve_commune("xa binh tinh huyen tan tru tinh long an").old_name == "Xã Bình Tịnh"


def test_former_name_from_the_package_aliases():
    assert resolve_commune("thị trấn Hòa Thành").old_name == "Phường Long Hoa"


def test_a_bare_name_that_is_also_a_district_is_the_commune():
    assert resolve_commune("Tân Châu").new_name == "Xã Tân Châu"
    assert resolve_commune("Long An").new_name == "Phường Long An"


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "missing_address"), ("  ", "missing_address"), ("TP. Tây Ninh", "missing_commune"),
     ("ấp Bàu Sen", "missing_commune"), ("Phường Bến Thành, Quận 1", "unknown_commune")],
)
def test_errors(text, code):
    with pytest.raises(AddressParseError) as info:
        resolve_commune(text)
    assert info.value.code == code


def test_crosswalk_covers_every_old_commune():
    rows = crosswalk()
    assert len(rows) == 94 + 186
    assert {new.code for _, news in rows for new in news} == {
        lookup_commune("new", code).code for code in {n.code for _, ns in rows for n in ns}}
    assert len({new.code for _, news in rows for new in news}) == 96
    splits = [old for old, news in rows if len(news) > 1]
    assert 20 <= len(splits) <= 24 and all(len(news) <= 3 for _, news in rows)


def test_unit_words_never_occur_inside_names():
    """Cutting a text at unit words is safe only if no unit or district name contains one."""
    words = {w for tokens, _, _ in addresses._UNIT_WORDS for w in tokens if len(tokens) == 1}
    names = [ref.name for ref, _ in crosswalk()] + [ref.district or "" for ref, _ in crosswalk()]
    names += [ref.name for _, news in crosswalk() for ref in news]
    for name in names:
        short = next(name[len(t):] for t in (*addresses._TYPE_KEYS, "") if name.startswith(t))
        assert not words & set(name_key(short).split()), name


def test_unit_words_as_written_never_occur_inside_names_of_the_known_provinces():
    """With diacritics a unit word is told from a name's word ("Xã Phương Thịnh" is no "Phường")."""
    words = {addresses._ACCENTED.get(w, w) for tokens, _, _ in addresses._UNIT_WORDS for w in tokens
             if len(tokens) == 1}
    rows = crosswalk(TWO)
    names = [ref.name for ref, _ in rows] + [ref.district or "" for ref, _ in rows]
    names += [ref.name for _, news in rows for ref in news]
    for name in names:
        short = next(name[len(t):] for t in (*addresses._TYPE_KEYS, "") if name.startswith(t))
        assert not words & set(normalise_name(short).lower().split()), name
    assert resolve_commune("Xã Phương Thịnh, Tỉnh Đồng Tháp", provinces=TWO).new_name == "Xã Phương Thịnh"


def test_resolution_works_with_network_disabled(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    addresses._index.cache_clear()
    addresses._resolve.cache_clear()
    assert resolve_commune("xã Tân Phong, huyện Tân Biên").split
    assert resolve_commune("Phường 3, TP Tây Ninh").new_name == "Phường Tân Ninh"


def test_the_geocoding_package_code_is_never_imported():
    script = (
        "import sys\n"
        "from lienthong.text.addresses import resolve_commune\n"
        "resolve_commune('xã Tân Phong, huyện Tân Biên')\n"
        "assert not {'geopy', 'vietnamadminunits'} & set(sys.modules), sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)




@pytest.mark.parametrize("text, province", [
    ("Xã Tân Phú, Tỉnh Đồng Tháp", "82"), ("xa Tan Phu, tinh Dong Thap", "82"), ("Xã Tân Phú, Tỉnh Tây Ninh", "80"),
])
def test_a_name_in_both_provinces_resolves_by_the_province_part(text, province):
    match = resolve_commune(text, provinces=TWO)
    assert match.new_name == "Xã Tân Phú" and not match.ambiguous
    assert [c.province_code for c in match.candidates] == [province]


def test_a_name_in_both_provinces_without_one_is_ambiguous_not_guessed():
    match = resolve_commune("Xã Tân Phú", provinces=TWO)
    assert match.ambiguous and match.province_ambiguous and match.new_code is None
    assert {c.province_code for c in match.candidates} == {"80", "82"}
    # The roll's province (its organisation's config) decides when the text names none.
    assert resolve_commune("Xã Tân Phú", province="tinhdongthap", provinces=TWO).candidates[0].province_code == "82"
    assert resolve_commune("Xã Tân Phú, Tỉnh Tây Ninh", province="tinhdongthap", provinces=TWO).new_code == \
        resolve_commune("Xã Tân Phú").new_code
    # A name only the other province has is that province's: the member lives across the border.
    assert resolve_commune("Xã Mỹ Yên", province="tinhdongthap", provinces=TWO).new_code == \
        resolve_commune("Xã Mỹ Yên").new_code
    # In Tây Ninh alone (the default) the name is Tây Ninh's, as before.
    assert not resolve_commune("Xã Tân Phú").ambiguous


def test_an_old_province_names_the_new_one_it_went_to():
    # Tiền Giang is no province any more: the old scheme, in the new Đồng Tháp.
    match = resolve_commune("Phường 1, TP Mỹ Tho, Tỉnh Tiền Giang", provinces=TWO)
    assert (match.scheme_matched, match.new_name, match.candidates[0].province_code) == ("old", "Phường Mỹ Tho", "82")


def test_a_name_in_one_province_only_needs_no_province_part():
    assert resolve_commune("Xã Mỹ Yên", provinces=TWO).new_code == resolve_commune("Xã Mỹ Yên").new_code


def test_a_province_part_that_does_not_hold_the_name_resolves_nothing():
    with pytest.raises(AddressParseError) as info:
        resolve_commune("Phường Tân Ninh, Tỉnh Đồng Tháp", provinces=TWO)
    assert info.value.code == "unknown_commune"
    with pytest.raises(AddressParseError) as info:
        resolve_commune("Xã Tân Phú", province="tinhdongthap")  # not among the provinces
    assert info.value.code == "unknown_province"


def test_the_parser_reads_every_province_the_package_converts():
    """A deployment in any province: the parser's index builds for all 34, with the island special
    zones and the cities' districts (Quận) of the old scheme."""
    national = addresses.national_provinces()
    assert len(national) == 34 and set(TWO) <= set(national)
    assert len(crosswalk(national)) > 10_000
    for text, code in [("Phường 1, Quận 3, TP Hồ Chí Minh", "27154"), ("Đặc khu Côn Đảo", "26732"),
                       ("Phường Bến Thành", "26743"), ("Xã Tân Lập, Huyện Tân Biên", "25489")]:
        assert resolve_commune(text, provinces=national).new_code == code, text
