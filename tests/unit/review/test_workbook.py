"""The review workbook never drops a row: a list longer than a sheet goes on in the next sheet."""
from datetime import date
from pathlib import Path

import openpyxl

from lienthong.review.report import Period
from lienthong.review.workbook import FLAGGED_HEADERS, FLAGGED_QUERY, write_workbook


class _Flags:
    """A connection whose flag list has ``count`` rows and every other list none."""

    def __init__(self, count: int):
        self.count = count

    def execute(self, query, *_args):
        if query != FLAGGED_QUERY:
            return []
        return [("org_a", "Xã A", "Chi hội 1", f"M{n:03d}", f"Người {n}", "Cờ", "rule", "căn cứ", date(2026, 11, 1), 1.5, 0.5)
                for n in range(self.count)]


def test_a_flag_list_longer_than_a_sheet_goes_on_in_numbered_sheets(tmp_path: Path):
    period = Period("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30))
    # 10 rows a sheet: the caption, a blank row and the header leave 7 for the list.
    path = write_workbook(_Flags(20), period, [], {"org_a": "Hội A"}, tmp_path / "review.xlsx", max_rows=10)
    book = openpyxl.load_workbook(path, read_only=True)
    parts = [name for name in book.sheetnames if name.startswith("Danh sách gắn cờ")]
    assert parts == ["Danh sách gắn cờ", "Danh sách gắn cờ (phần 2)", "Danh sách gắn cờ (phần 3)"]
    codes = []
    for name in parts:
        rows = list(book[name].iter_rows(values_only=True))
        assert len(rows) <= 10 and rows[2] == FLAGGED_HEADERS
        codes += [row[3] for row in rows[3:]]
    assert codes == [f"M{n:03d}" for n in range(20)]
    assert "phần 3" in book[parts[2]]["A1"].value
