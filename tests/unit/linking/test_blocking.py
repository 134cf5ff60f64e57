"""Blocking reaches true pairs that carry two defects at once (real Splink on DuckDB)."""
import pandas as pd

from lienthong.linking import engine, load_policy
from lienthong.linking.records import prepare_frame

POLICY = load_policy()
GIVEN = ["An", "Bình", "Chi", "Dũng", "Hà", "Lan", "Minh", "Nam", "Phúc", "Quân", "Sơn", "Tâm", "Hùng", "Thảo",
         "Tuấn", "Hương", "Long", "Mai", "Nga", "Oanh", "Phương", "Quang", "Sang", "Thành", "Uyên", "Vinh"]


def _record(key: str, name: str, birth: str, hamlet: str = "Ấp 5", commune: str = "Phường Tân Ninh") -> dict:
    return {"org_code": key.split("-")[0], "source_record_key": key, "sex": "F", "id_number": None, "phone": None,
            "full_name": name, "birth_date": birth, "hamlet": hamlet, "commune": commune}


def _with_population(family_middle: str, pair: list[dict]):
    """The pair among two organisations' rolls of 26 people of one family (a population to train on),
    as the linker prepares them: the frame, and its rows by source record key."""
    people = [_record(f"org_a-{p}", f"{family_middle} {g}", f"1{p % 9 + 1}/0{p % 9 + 1}/19{70 + p}")
              for p, g in enumerate(GIVEN)]
    again = [{**r, "org_code": "org_b", "source_record_key": f"org_b-{p}"} for p, r in enumerate(people)]
    frame = prepare_frame(people + again + pair)
    return frame, {r["source_record_key"]: r for r in frame.to_dict("records")}


def _scored_pairs(frame) -> set[frozenset]:
    """The pairs Splink scores (the blocked pairs), as source record keys."""
    scored = engine._linker(frame, engine.train(frame, POLICY)).inference.predict().as_pandas_dataframe()
    keys = dict(zip(frame["record_uid"], frame["source_record_key"]))
    return {frozenset((keys[a], keys[b])) for a, b in zip(scored["record_uid_l"], scored["record_uid_r"])}


def test_a_typo_next_to_a_dropped_middle_name_is_blocked_by_family_year_and_hamlet():
    """'Phạm Thị Nhi' and 'Phạm Ni' (a typo and no middle name), one with only the year: no rule on
    the given name or the full date reaches them; family name, year and hamlet do. Another hamlet
    or another year does not."""
    pair = [_record("org_a-nhi", "Phạm Thị Nhi", "12/05/1997"), _record("org_b-ni", "Phạm Ni", "1997"),
            _record("org_c-elsewhere", "Phạm Ni", "1997", hamlet="Ấp 9"), _record("org_c-older", "Phạm Ni", "1996")]
    frame, rows = _with_population("Trần Thị", pair)
    assert engine.blocked_by(rows["org_a-nhi"], rows["org_b-ni"]) == ["family_key + birth_year + hamlet_key + commune_area"]
    assert engine.blocked_by(rows["org_a-nhi"], rows["org_c-elsewhere"]) == []
    assert engine.blocked_by(rows["org_a-nhi"], rows["org_c-older"]) == []
    # Splink renders the rule: the pair is among the blocked pairs it scores, the other two are not.
    pairs = _scored_pairs(frame)
    assert frozenset(("org_a-nhi", "org_b-ni")) in pairs
    assert not {frozenset(("org_a-nhi", "org_c-elsewhere")), frozenset(("org_a-nhi", "org_c-older"))} & pairs


def test_a_hamlet_is_one_place_only_within_its_commune_area():
    """"Ấp 5" is a hamlet of many communes: the same typo'd pair as above is blocked by family name,
    year and hamlet when one record names the old commune Mỏ Công (split between Trà Vong and Tân
    Phú: no code, both candidates) and the other the new Tân Phú (one area), not when the other
    names another commune's "Ấp 5"."""
    pair = [_record("org_a-nhi", "Phạm Thị Nhi", "12/05/1997", commune="Xã Mỏ Công, Huyện Tân Biên"),
            _record("org_b-ni", "Phạm Ni", "1997", commune="Xã Tân Phú"),
            _record("org_c-elsewhere", "Phạm Ni", "1997")]
    frame, rows = _with_population("Trần Thị", pair)
    assert pd.isna(rows["org_a-nhi"]["commune_code"]) and rows["org_a-nhi"]["commune_candidates"] == "25510 25549"
    assert engine.blocked_by(rows["org_a-nhi"], rows["org_b-ni"]) == ["family_key + birth_year + hamlet_key + commune_area"]
    assert engine.blocked_by(rows["org_a-nhi"], rows["org_c-elsewhere"]) == []
    pairs = _scored_pairs(frame)
    assert frozenset(("org_a-nhi", "org_b-ni")) in pairs
    assert frozenset(("org_a-nhi", "org_c-elsewhere")) not in pairs


def test_an_old_commune_name_read_as_communes_of_two_areas_is_blocked_with_either():
    """"Xã Phước Đông" names an old commune now in Phường Gia Lộc and another now in Xã Tân Lân (two
    areas: no code, both candidates, Gia Lộc first). Its record is blocked by name and year with the
    same person's record in Tân Lân, in another hamlet (the rule crossed with its other area, whichever
    record comes first), as with one in Gia Lộc; not with the same name and year in a third commune."""
    pair = [_record("org_a-yen", "Trần Thị Yến", "27/12/2006", hamlet="Ấp Giồng Cát", commune="Xã Phước Đông"),
            _record("org_b-tan-lan", "Trần Thị Yến", "2006", hamlet="Ấp Cây Me", commune="Xã Tân Lân"),
            _record("org_c-gia-loc", "Trần Thị Yến", "2006", hamlet="Ấp 2", commune="Phường Gia Lộc"),
            _record("org_c-elsewhere", "Trần Thị Yến", "2006", hamlet="Ấp 9")]
    frame, rows = _with_population("Lê Văn", pair)
    assert pd.isna(rows["org_a-yen"]["commune_code"]) and rows["org_a-yen"]["commune_candidates"] == "25672 28138"
    assert engine.blocked_by(rows["org_a-yen"], rows["org_b-tan-lan"]) == [
        "given_key + family_key + birth_year + commune_area_alt = commune_area"]
    assert engine.blocked_by(rows["org_b-tan-lan"], rows["org_a-yen"]) == [
        "given_key + family_key + birth_year + commune_area = commune_area_alt"]
    assert engine.blocked_by(rows["org_a-yen"], rows["org_c-gia-loc"]) == ["given_key + family_key + birth_year + commune_area"]
    assert engine.blocked_by(rows["org_a-yen"], rows["org_c-elsewhere"]) == []
    pairs = _scored_pairs(frame)
    assert {frozenset(("org_a-yen", "org_b-tan-lan")), frozenset(("org_a-yen", "org_c-gia-loc"))} <= pairs
    assert frozenset(("org_a-yen", "org_c-elsewhere")) not in pairs


def test_a_typo_in_the_ids_first_digits_next_to_a_move_is_blocked_by_family_name_and_id_tail():
    """'Trần Thị Hòa' and 'Trần Thị Hòòa' (a typo), day and month swapped, the CCCD's year digit
    typo'd, another hamlet (a move): only the family name and the last six digits of the ID reach
    them. Another family name, or other last digits, do not."""
    pair = [{**_record("org_a-hoa", "Trần Thị Hòa", "03/06/1990", hamlet="Ấp 3"), "id_number": "080190960512"},
            {**_record("org_b-hooa", "Trần Thị Hòòa", "06/03/1990", hamlet="Ấp 9"), "id_number": "080199960512"},
            {**_record("org_c-other-family", "Phạm Thị Hòòa", "06/03/1990", hamlet="Ấp 9"), "id_number": "080199960512"},
            {**_record("org_c-other-tail", "Trần Thị Hòòa", "06/03/1990", hamlet="Ấp 9"), "id_number": "080199960513"}]
    frame, rows = _with_population("Lê Văn", pair)
    assert engine.blocked_by(rows["org_a-hoa"], rows["org_b-hooa"]) == ["family_key + id_tail"]
    assert engine.blocked_by(rows["org_a-hoa"], rows["org_c-other-family"]) == []
    assert engine.blocked_by(rows["org_a-hoa"], rows["org_c-other-tail"]) == []
    pairs = _scored_pairs(frame)
    assert frozenset(("org_a-hoa", "org_b-hooa")) in pairs
    assert not {frozenset(("org_a-hoa", "org_c-other-family")), frozenset(("org_a-hoa", "org_c-other-tail"))} & pairs
