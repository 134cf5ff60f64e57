"""The review workbook never drops a row: a list longer than a sheet goes on in the next sheet."""
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from lienthong.review.report import Period
from lienthong.review.workbook import FLAGGED_HEADERS, FLAGGED_QUERY, write_workbook


class _Rows(list):
    """A client-side cursor's result: its rows, and their count before any is read."""

    @property
    def rowcount(self) -> int:
        return len(self)


class _Flags:
    """A connection whose flag list has ``count`` rows and every other list none."""

    def __init__(self, count: int):
        self.count = count

    def execute(self, query, *_args):
        if query != FLAGGED_QUERY:
            return _Rows()
        return _Rows(("org_a", "Xã A", "Chi hội 1", f"M{n:03d}", f"Người {n}", "Cờ", "rule", "căn cứ", date(2026, 11, 1), 1.5, 0.5)
                     for n in range(self.count))


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


def test_a_list_that_fills_a_sheet_exactly_needs_no_second_part(tmp_path: Path):
    period = Period("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30))
    for count, sheets in ((7, 1), (8, 2)):
        path = write_workbook(_Flags(count), period, [], {}, tmp_path / f"{count}.xlsx", max_rows=10)
        book = openpyxl.load_workbook(path, read_only=True)
        parts = [name for name in book.sheetnames if name.startswith("Danh sách gắn cờ")]
        assert len(parts) == sheets, (count, parts)
        assert sum(len(list(book[name].iter_rows(min_row=4, values_only=True))) for name in parts) == count


def test_an_empty_list_keeps_its_header_and_an_overlong_text_is_cut_to_a_cell(tmp_path: Path):
    """The writer refuses text longer than a cell holds: one such name from a roll must not fail the
    whole workbook. An empty list still shows its caption and header."""
    class _LongName(_Flags):
        def execute(self, query, *_args):
            rows = super().execute(query)
            return _Rows((*row[:4], "Ngô" * 20_000, *row[5:]) for row in rows)

    period = Period("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30))
    path = write_workbook(_LongName(1), period, [], {}, tmp_path / "review.xlsx")
    book = openpyxl.load_workbook(path, read_only=True)
    flags = list(book["Danh sách gắn cờ"].iter_rows(values_only=True))
    assert flags[2] == FLAGGED_HEADERS and len(flags) == 4
    assert flags[3][4] == ("Ngô" * 20_000)[:32_767]
    suspected = list(book["Nghi ảo cần xác minh"].iter_rows(values_only=True))
    assert "Hồ sơ nghi ảo" in suspected[0][0] and suspected[2][0] == "Tổ chức" and len(suspected) == 3


def test_rows_the_parts_did_not_hold_fail_the_workbook_and_it_is_not_published(tmp_path: Path):
    """A cursor whose row count is short of its rows (none of psycopg's, but it would cut the list
    without a word): the workbook fails and no file takes the review's name."""
    class _Short(_Rows):
        @property
        def rowcount(self) -> int:
            return max(len(self) - 1, 0)

    class _ShortFlags(_Flags):
        def execute(self, query, *_args):
            return _Short(super().execute(query))

    period = Period("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30))
    with pytest.raises(RuntimeError, match="rows were left unwritten"):
        write_workbook(_ShortFlags(15), period, [], {}, tmp_path / "review.xlsx", max_rows=10)
    assert not list(tmp_path.iterdir())
