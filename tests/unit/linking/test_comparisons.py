"""The place comparison's levels, read from the SQL Splink renders (DuckDB, as the stored model)."""
import duckdb

from lienthong.linking.comparisons import splink_settings
from lienthong.linking.records import commune_features, hamlet_key

OLD_SPLIT = "Xã Tân Phong, Huyện Tân Biên"  # split by the 2025 reform into Tân Phú and Thạnh Bình
NEW = "Xã Tân Phú"


def _level(name: str, row: dict) -> str:
    """The label of the first level of comparison ``name`` whose condition holds for ``row`` (x_l, x_r)."""
    comparison = next(c for c in splink_settings().get_settings("duckdb").as_dict()["comparisons"]
                      if c["output_column_name"] == name)
    columns = ", ".join(f"{'NULL' if v is None else repr(v)}::varchar as {k}" for k, v in row.items())
    with duckdb.connect() as conn:
        for level in comparison["comparison_levels"]:
            condition = level["sql_condition"]
            if condition == "ELSE" or conn.execute(
                    f"select coalesce(({condition}), false) from (select {columns})").fetchone()[0]:
                return level["label_for_charts"]
    raise AssertionError("no level matched")


def _place_level(left: tuple[str, str], right: tuple[str, str]) -> str:
    """The place level of two (commune, hamlet) texts."""
    row = {}
    for side, (commune, hamlet) in (("l", left), ("r", right)):
        code, candidates = commune_features(commune)
        row |= {f"commune_code_{side}": code, f"commune_candidates_{side}": candidates,
                f"hamlet_key_{side}": hamlet_key(hamlet)}
    return _level("place", row)


def test_the_old_name_of_a_split_commune_with_the_same_hamlet_is_its_own_level():
    """A roll that still writes the pre-reform commune (split: two new communes fit) next to a roll
    with the new name: the same hamlet key is a level above mere overlap, below the exact commune."""
    assert commune_features(OLD_SPLIT)[0] is None and len(commune_features(OLD_SPLIT)[1].split()) == 2
    assert _place_level((OLD_SPLIT, "Ấp 3"), (NEW, "ap 3")) == "split commune may be the same, same hamlet"
    assert _place_level((OLD_SPLIT, "Ấp 3"), (NEW, "Ấp 4")) == "split commune may be the same"
    assert _place_level((NEW, "Ấp 3"), (NEW, "Ấp 3")) == "same commune and hamlet"
    assert _place_level((NEW, "Ấp 3"), ("Phường Tân Ninh", "Ấp 3")).startswith("All other")


def test_the_roll_is_compared_and_its_m_kept_above_the_floor():
    """Two entries on one organisation's roll are most often two people (a member is listed once):
    the roll is a comparison; its m is floored, so a duplicate entry on one roll is no veto."""
    from lienthong.linking.engine import M_FLOOR_COMPARISONS

    assert _level("org_code", {"org_code_l": "hoi_nd", "org_code_r": "hoi_nd"}) == "Exact match on org_code"
    assert _level("org_code", {"org_code_l": "hoi_nd", "org_code_r": "doan_tn"}).startswith("All other")
    assert "org_code" in M_FLOOR_COMPARISONS
