"""The review workbook: Vietnamese headers, a sheet per view, and the flagged members by unit for
the follow-up work of each chi hội / chi đoàn."""
from __future__ import annotations

from itertools import islice
from pathlib import Path

from rustpy_xlsxwriter import FastExcel, Format

from lienthong.review.report import NOT_REPORTED

# Rows a worksheet can hold (Excel 2007 and later).
EXCEL_MAX_ROWS = 1_048_576
# Characters a cell holds.
EXCEL_MAX_TEXT = 32_767

FLAGGED_QUERY = """
    select org_code, commune_name, unit_name, member_code, full_name, flag_label, rule, evidence, since,
           suspicion_score, weight
    from review.rpt_member_flags where period_key = %s
    order by org_code, commune_name nulls last, unit_name nulls last, suspicion_score desc, full_name, flag_kind
"""
FLAGGED_HEADERS = ("Tổ chức", "Xã/Phường", "Đơn vị", "Mã hội viên", "Họ và tên", "Cờ", "Quy tắc", "Căn cứ", "Từ ngày",
                   "Điểm nghi ảo", "Trọng số của cờ")
# The verification list: records at or above the threshold, most suspect first in each unit.
SUSPECTED_QUERY = """
    select org_code, commune_name, unit_name, rank_in_unit, member_code, full_name, suspicion_score, score_weights
    from review.rpt_member_suspicion where period_key = %s and suspected
    order by org_code, commune_name nulls last, unit_name nulls last, rank_in_unit, full_name
"""
SUSPECTED_HEADERS = ("Tổ chức", "Xã/Phường", "Đơn vị", "Thứ tự trong đơn vị", "Mã hội viên", "Họ và tên",
                     "Điểm nghi ảo", "Căn cứ tính điểm (cờ và trọng số)")
UNITS_QUERY = """
    select org_code, commune_name, unit_name, roll_records, people, has_person, has_name, has_unit, has_dues,
           has_attendance, all_five, flagged_records
    from review.rpt_five_haves_by_unit where period_key = %s order by org_code, commune_name, unit_name
"""
UNITS_HEADERS = ("Tổ chức", "Xã/Phường", "Đơn vị", "Hồ sơ", "Số người", "Có người thật", "Có tên", "Có đơn vị",
                 "Có đóng phí", "Có sinh hoạt", "Đủ 5 có", "Bị gắn cờ")
COMMUNES_QUERY = """
    select org_code, commune_name, roll_count, distinct_people, as_of_date
    from review.rpt_members_by_commune order by org_code, commune_name
"""
COMMUNES_HEADERS = ("Tổ chức", "Xã/Phường", "Số trên danh sách", "Số người (không trùng)", "Số liệu đến ngày")


def write_workbook(conn, period, sections, org_names: dict[str, str], path: Path,
                   max_rows: int = EXCEL_MAX_ROWS) -> Path:
    tmp = path.with_suffix(".tmp.xlsx")
    # rustpy-xlsxwriter (rust_xlsxwriter's binding) writes the cells in Rust: a province's flag list
    # (a million rows) took xlsxwriter about 10 µs a cell in Python. Every string is written as a
    # string cell, so text from the rolls starting with "=" or looking like a URL is never a formula
    # or a link in the reader's Excel. Sheets stream in constant memory as the workbook is saved.
    book = FastExcel(str(tmp)).format(datetime_format="dd/mm/yyyy")
    header = Format().set_bold().set_text_wrap().set_align("top").set_background_color("#DDEBF7").set_border("thin")
    title = Format().set_bold().set_font_size(13)

    def add(name: str, headers, rows, caption: str | None, width: float, listing: bool, empty: bool):
        if len(set(headers)) != len(headers):
            raise ValueError(f"sheet {name!r}: a column name is repeated in {list(headers)}")
        first = 2 if caption else 0
        book.sheet(name, _frame(headers) if empty else _records(headers, rows), header_row=first,
                   header_format=header, column_width=width,
                   # a merge of one cell is refused: the caption spans two columns at least
                   merge_ranges=[(0, 0, 0, max(len(headers) - 1, 1), caption, title)] if caption else None,
                   autofilter=listing)
        if listing:
            book.freeze(row=first + 1, sheet=name)

    def sheet(name: str, headers, cursor, caption: str | None = None, convert=None):
        # A sheet holds at most max_rows rows (Excel's limit): past it the list goes on in
        # "<name> (phần 2)", "(phần 3)", ... with the same headers, so a province's flag list is never
        # cut. The cursor holds the whole result (psycopg's client-side cursor), so its row count
        # tells the parts before any is written; each part reads the next rows of it.
        if cursor.rowcount < 0:
            raise ValueError(f"sheet {name!r}: the list's row count is unknown (a client-side cursor gives it)")
        capacity = max_rows - (3 if caption else 1)
        rows = (convert(row) for row in cursor) if convert else iter(cursor)
        rows = ([org_names.get(row[0], row[0]), *row[1:]] for row in rows)
        lists.append((name, rows))
        for part in range(1, max(1, -(-cursor.rowcount // capacity)) + 1):
            label = f" (phần {part})" if part > 1 else ""
            add(name[:31 - len(label)] + label, headers, islice(rows, capacity),
                f"{caption or name} — phần {part}" if part > 1 else caption, 18, listing=True,
                empty=cursor.rowcount == 0)

    lists = []
    caption = f"Báo cáo rà soát kỳ {period.label}"
    for section in sections:
        if section.table:
            add(section.title.replace("“", "").replace("”", "")[:31], section.table.headers,
                section.table.rows, f"{section.title} — {caption}", 16, listing=False,
                empty=not section.table.rows)
    sheet("Theo đơn vị", UNITS_HEADERS, conn.execute(UNITS_QUERY, (period.key,)),
          f"5 có theo đơn vị — {caption}",
          convert=lambda row: [*row[:8], *(NOT_REPORTED if v is None else v for v in row[8:10]), *row[10:]])
    sheet("Nghi ảo cần xác minh", SUSPECTED_HEADERS, conn.execute(SUSPECTED_QUERY, (period.key,)),
          f"Hồ sơ nghi ảo theo đơn vị, xếp theo điểm — {caption}")
    sheet("Danh sách gắn cờ", FLAGGED_HEADERS, conn.execute(FLAGGED_QUERY, (period.key,)),
          f"Hồ sơ cần rà soát theo đơn vị — {caption}")
    sheet("Tổng hợp theo xã", COMMUNES_HEADERS, conn.execute(COMMUNES_QUERY))
    book.save()
    for name, rows in lists:  # never a row left out without a word
        if next(rows, None) is not None:
            tmp.unlink()
            raise RuntimeError(f"sheet {name!r}: rows were left unwritten; the workbook was not published")
    tmp.chmod(0o600)  # names of members: the owner's alone
    tmp.replace(path)  # readers never see a half-written workbook
    return path


def _records(headers, rows):
    """Rows as the writer takes them: a dict per row, text cut to what a cell holds (the writer refuses
    longer text, and one such name from a roll would fail the whole workbook)."""
    for row in rows:
        yield {h: v[:EXCEL_MAX_TEXT] if type(v) is str and len(v) > EXCEL_MAX_TEXT else v
               for h, v in zip(headers, row)}


def _frame(headers):
    """An empty list as the writer takes it: a frame with the columns alone, so the sheet still shows
    its header (rows as dicts would give it none)."""
    import pandas as pd

    return pd.DataFrame(columns=list(headers))
