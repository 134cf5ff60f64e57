"""Report sections read from their rows alone (the rows are rpt_* models' named tuples)."""
import datetime as dt
from collections import namedtuple
from types import SimpleNamespace

from lienthong.review.report import _unmatched

Unmatched = namedtuple("Unmatched", "org_code entity delivered_rows unmatched_before_first_roll "
                                    "unmatched_since_first_roll unmatched_members_since_first_roll "
                                    "last_unmatched_delivery")


def test_dues_no_member_owns_get_a_section_in_vietnamese_split_at_the_first_roll_and_none_when_all_match():
    data = SimpleNamespace(unmatched=[Unmatched("org_a", "dues", 120, 25, 5, 2, dt.date(2026, 11, 30))])
    section = _unmatched(data, {"org_a": "Hội A"}.get)
    assert section.title == "Hội phí, sinh hoạt không khớp hội viên nào trên danh sách"
    assert section.table.rows == [["Hội A", "hội phí", 120, 25, 5, 2, "30/11/2026"]]
    assert _unmatched(SimpleNamespace(unmatched=[]), str) is None
