"""Rolls unlike the sample's still train a model that links: no ID numbers, years of birth only
(as many roll-only senders deliver), or nobody in two rolls yet."""
import pandas as pd

from lienthong.linking import engine, load_policy
from lienthong.linking.records import prepare_frame

POLICY = load_policy()

GIVEN = ["An", "Bình", "Chi", "Dũng", "Hà", "Lan", "Minh", "Nam", "Phúc", "Quân", "Sơn", "Tâm", "Hùng", "Thảo",
         "Tuấn", "Hương", "Long", "Mai", "Nga", "Oanh", "Phương", "Quang", "Sang", "Thành", "Uyên", "Vinh",
         "Xuân", "Yến", "Bảo", "Cường", "Đạt", "Giang", "Hải", "Khoa", "Linh", "Ngọc", "Nhân", "Tài", "Trang",
         "Việt"]
FAMILY = ["Nguyễn", "Trần", "Lê"]


def roll(org: str, people: range) -> list[dict]:
    return [{"org_code": org, "source_record_key": f"{org}-{p}", "sex": "M", "id_number": None, "phone": None,
             "full_name": f"{FAMILY[p % 3]} Văn {GIVEN[p]}", "birth_date": str(1950 + p % 25),
             "hamlet": "Ấp 1", "commune": "Phường Tân Ninh"} for p in people]


def linked_pairs(rows: list[dict]) -> set[tuple[str, str]]:
    frame = prepare_frame(rows)
    pairs = engine.predict(frame, engine.train(frame, POLICY), POLICY)
    uid = dict(zip(frame["record_uid"], frame["source_record_key"]))
    likely = pairs[pairs["match_probability"] >= 0.9]
    return {tuple(sorted((uid[a], uid[b]))) for a, b in zip(likely["uid_a"], likely["uid_b"])}


def test_no_ids_and_years_of_birth_only_still_link_the_same_people():
    # 30 people in both rolls, 10 more in the second only; nobody has an ID or a full birth date.
    pairs = linked_pairs(roll("org_a", range(30)) + roll("org_b", range(40)))
    assert pairs == {(f"org_a-{p}", f"org_b-{p}") for p in range(30)}


def test_a_first_roll_with_nobody_in_two_organisations_links_nobody():
    assert linked_pairs(roll("org_a", range(40))) == set()


def test_a_record_without_a_date_meets_the_others_through_its_cccds_year():
    """A roll without birth dates but with CCCDs: each CCCD's year (digits 5-6) stands in for the
    year of birth, so the record is blocked and scored as a year-only one; a ghost's invented CCCD
    with another year scores as a disagreement."""
    dated = [{"org_code": "org_a", "source_record_key": f"a-{p}", "sex": "M", "id_number": None, "phone": None,
              "full_name": f"{FAMILY[p % 3]} Văn {GIVEN[p]}", "birth_date": f"15/03/{1950 + p}",
              "hamlet": "Ấp 1", "commune": "Phường Tân Ninh"} for p in range(30)]
    cccd_only = [{**r, "org_code": "org_b", "source_record_key": f"b-{p}", "birth_date": None, "hamlet": "Ấp 2",
                  "id_number": f"0720{50 + p:02d}{p:06d}"} for p, r in enumerate(dated)]
    ghost = {**cccd_only[0], "source_record_key": "ghost", "id_number": "072099123456"}
    frame = prepare_frame(dated + cccd_only + [ghost])
    assert frame["birth_year"].isna().sum() == 31  # the stored features keep the date as written
    # Every blocked pair, whatever its score (a model trained on 61 records is not the point here).
    pairs = engine._linker(frame, engine.train(frame, POLICY)).inference.predict().as_pandas_dataframe()
    uid = dict(zip(frame["record_uid"], frame["source_record_key"]))
    birth = {tuple(sorted((uid[a], uid[b]))): g
             for a, b, g in zip(pairs["record_uid_l"], pairs["record_uid_r"], pairs["gamma_birth"])}
    assert all(birth.get((f"a-{p}", f"b-{p}")) == 2 for p in range(30))  # same year, one side year only
    assert birth.get(("a-0", "ghost"), 0) == 0
