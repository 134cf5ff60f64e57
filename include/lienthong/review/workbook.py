"""The review workbook: Vietnamese headers, a sheet per view, and the flagged members by unit for
the follow-up work of each chi hội / chi đoàn."""
from __future__ import annotations

from pathlib import Path

import xlsxwriter

from lienthong.review.report import NOT_REPORTED

# Rows a worksheet can hold (Excel 2007 and later).
EXCEL_MAX_ROWS = 1_048_576

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
    # Names and units come from the rolls: text starting with "=" or looking like a URL stays text, never
    # a formula (=HYPERLINK(...) would run in the reader's Excel) or a link.
    book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "default_date_format": "dd/mm/yyyy",
                                          "strings_to_formulas": False, "strings_to_urls": False})
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
    title = book.add_format({"bold": True, "font_size": 13})

    def start(name: str, headers, caption: str | None):
        ws = book.add_worksheet(name[:31])
        first = 0
        if caption:
            ws.write(0, 0, caption, title)
            first = 2
        ws.write_row(first, 0, headers, header)
        ws.set_column(0, len(headers) - 1, 18)
        ws.freeze_panes(first + 1, 0)
        return ws, first

    def sheet(name: str, headers, rows, caption: str | None = None):
        # A sheet holds at most max_rows rows (Excel's limit, which xlsxwriter enforces by dropping the
        # rest without a word): past it the list goes on in "<name> (phần 2)", "(phần 3)", ... with the same
        # headers, so a province's flag list is never cut.
        ws, first = start(name, headers, caption)
        part, count = 1, 0
        for row in rows:
            if first + count + 1 >= max_rows:
                ws.autofilter(first, 0, first + max(count, 1), len(headers) - 1)
                part += 1
                label = f" (phần {part})"
                ws, first = start(name[:31 - len(label)] + label, headers,
                                  f"{caption or name} — phần {part}")
                count = 0
            count += 1
            ws.write_row(first + count, 0, [org_names.get(row[0], row[0]), *row[1:]])
        ws.autofilter(first, 0, first + max(count, 1), len(headers) - 1)

    caption = f"Báo cáo rà soát kỳ {period.label}"
    for section in sections:
        if section.table:
            ws = book.add_worksheet(section.title.replace("“", "").replace("”", "")[:31])
            ws.write(0, 0, f"{section.title} — {caption}", title)
            ws.write_row(2, 0, section.table.headers, header)
            ws.set_column(0, len(section.table.headers) - 1, 16)
            for n, row in enumerate(section.table.rows, start=3):
                ws.write_row(n, 0, row)
    units = ([*row[:8], *(NOT_REPORTED if v is None else v for v in row[8:10]), *row[10:]]
             for row in conn.execute(UNITS_QUERY, (period.key,)))
    sheet("Theo đơn vị", UNITS_HEADERS, units, f"5 có theo đơn vị — {caption}")
    sheet("Nghi ảo cần xác minh", SUSPECTED_HEADERS, conn.execute(SUSPECTED_QUERY, (period.key,)),
          f"Hồ sơ nghi ảo theo đơn vị, xếp theo điểm — {caption}")
    sheet("Danh sách gắn cờ", FLAGGED_HEADERS, conn.execute(FLAGGED_QUERY, (period.key,)),
          f"Hồ sơ cần rà soát theo đơn vị — {caption}")
    sheet("Tổng hợp theo xã", COMMUNES_HEADERS, conn.execute(COMMUNES_QUERY))
    book.close()
    tmp.chmod(0o600)  # names of members: the owner's alone
    tmp.replace(path)  # readers never see a half-written workbook
    return path
