"""Verification lists that go out to the units: one Excel file per unit (chi hội, chi đoàn, tổ) with
the period's flagged records, their evidence and the columns a unit secretary fills in.

The sheet is protected except for the columns to fill; the outcome is a dropdown of the answers in
``lienthong.review.outcomes``; a hidden first column carries each row's key (period | rule | record)
so the returned file, landed as the organisation's ``verification_outcomes`` delivery, answers the
right flag. The same columns are what an organisation's config maps for that entity kind. A second
sheet lists the corrections the other rolls suggest for the unit's members (liên thông), with the
source of the evidence.

The lists name members: they are read as the reviewer role (``set local role <prefix>_reviewer``:
the review schema's flags and suggestions, nothing else), written into the owner-only review folder
(0600), and every file says it holds personal data.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import xlsxwriter

from lienthong.review import charts
from lienthong.review.outcomes import OUTCOMES
from lienthong.review.report import Section, Table, rows
from lienthong.text.numbers import vn_percent
from lienthong.workers import map_in_workers, worker_count

SHEET = "Xác minh"  # the sheet an organisation's verification_outcomes config reads
GUIDE_SHEET = "Hướng dẫn"
PERSONAL_DATA = ("TÀI LIỆU CÓ DỮ LIỆU CÁ NHÂN: chỉ dùng để xác minh, không sao chép, không chia sẻ; "
                 "gửi lại đúng tệp này sau khi điền.")
# Order of a unit's rows: most suspected records first (the record's suspicion score), then by rule
# in the report's order.
LIST_ORDER = "suspicion_score desc nulls last, source_record_key, flag_order, full_name"
LIST_QUERY = f"""
    select org_code, unit_key, unit_name, commune_name, flag_key, member_code, full_name, birth_year, id_number,
           flag_label, evidence, since, listed_before
    from review.rpt_verification_list where period_key = %s
    order by org_code, unit_key, {LIST_ORDER}
"""
SUGGESTIONS_SHEET = "Gợi ý sửa"
SUGGESTIONS_QUERY = """
    select org_code, unit_key, unit_name, commune_name, member_code, full_name, suggestion_label, current_value,
           suggested_value, evidence_source
    from review.rpt_correction_suggestions where period_key = %s
    order by org_code, unit_key, full_name, source_record_key, suggestion_kind
"""
SUGGESTION_HEADERS = (("Xã/Phường", 16), ("Đơn vị", 20), ("Mã thành viên", 12), ("Họ và tên", 24), ("Gợi ý", 40),
                      ("Trên danh sách", 14), ("Theo nguồn khác", 14), ("Nguồn căn cứ", 24))
# (header, width); the first is the hidden key, the last six are filled in by the unit.
GIVEN = (("Khóa", 10), ("STT", 5), ("Xã/Phường", 16), ("Đơn vị", 20), ("Mã thành viên", 12), ("Họ và tên", 24),
         ("Năm sinh", 8), ("Số CCCD trên danh sách", 15), ("Cờ", 20), ("Căn cứ", 40), ("Từ ngày", 11),
         ("Đã gửi kỳ trước", 9))
TO_FILL = (("Kết quả xác minh", 30), ("Số CCCD đúng", 15), ("Ngày sinh đúng", 12), ("Ghi chú", 30),
           ("Người xác minh", 20), ("Ngày xác minh", 12))
HEADERS = tuple(h for h, _ in GIVEN + TO_FILL)
OUTCOME_COLUMN = len(GIVEN) + 1  # 1-based
# From this many lists to write, they are written in worker processes, one per core: a first review
# writes every unit's (7,020 at 400,000 people, 33 s in one process); a worker costs about a second
# to start (its imports), so a night's few changed lists are written here.
MIN_LISTS_FOR_WORKERS = 400


def _file_name(unit_key: str, unit_name: str | None) -> str:
    """A file name a secretary recognises (the unit's name, accents off) and that is unique (key hash)."""
    from lienthong.pipeline.dbt_generated import vn_key

    slug = re.sub(r"[^a-z0-9]+", "_", vn_key(unit_name or "khong_ro_don_vi")).strip("_")[:40]
    return f"{slug}_{hashlib.md5(unit_key.encode()).hexdigest()[:6]}.xlsx"


def _write_workbook(path: Path, period, org_name: str, unit_name: str, rows: list[tuple],
                    suggestions: list[tuple]) -> Path:
    # xlsxwriter, the project's runtime writer (openpyxl is a test dependency). Text from the rolls
    # stays text: a name starting with "=" is never a formula, a URL never a link. A unit's list is
    # small, so it is assembled in memory: xlsxwriter's default writes and deletes a temporary file
    # per part of every workbook (about 11 per unit), which cost most of the review's time.
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "default_date_format": "dd/mm/yyyy", "in_memory": True})
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
    to_fill = {"locked": False, "bg_color": "#FFF2CC", "border": 1, "border_color": "#BFBFBF"}
    fill_formats = [book.add_format(to_fill), book.add_format({**to_fill, "num_format": "@"}),  # an ID stays text
                    book.add_format({**to_fill, "num_format": "dd/mm/yyyy"})]
    fill_kinds = (0, 1, 2, 0, 0, 2)  # outcome, ID, birth date, note, verified by, date verified
    ws = book.add_worksheet(SHEET)
    ws.write_row(0, 0, HEADERS, header)
    for column, (_, width) in enumerate(GIVEN + TO_FILL):
        ws.set_column(column, column, width, None, {"hidden": column == 0})  # A: the key, not for the reader
    for number, row in enumerate(rows, start=1):
        key, member_code, full_name, birth_year, id_number, label, evidence, since, listed_before, commune = row
        ws.write_row(number, 0, [key, number, commune, unit_name, member_code, full_name, birth_year, id_number,
                                 label, evidence, since, "Có" if listed_before else ""])
        for offset, kind in enumerate(fill_kinds):
            ws.write_blank(number, OUTCOME_COLUMN - 1 + offset, None, fill_formats[kind])
    last = max(len(rows), 1)
    outcome = OUTCOME_COLUMN - 1
    ws.data_validation(1, outcome, last, outcome, {
        "validate": "list", "source": [o.label for o in OUTCOMES], "error_title": "Kết quả không hợp lệ",
        "error_message": "Chọn một kết quả trong danh sách.", "input_title": "Kết quả xác minh",
        "input_message": "Chọn kết quả trong danh sách"})
    for offset in (2, 5):  # corrected birth date, date verified
        ws.data_validation(1, outcome + offset, last, outcome + offset, {
            "validate": "date", "criteria": ">", "value": date(1900, 1, 1), "error_title": "Ngày không hợp lệ",
            "error_message": "Nhập ngày dd/mm/yyyy."})
    ws.freeze_panes(1, 2)
    ws.set_header(f"&C{PERSONAL_DATA}")
    # Everything but the fill columns is locked: evidence and keys come back as sent.
    ws.protect("", {"format_columns": True, "autofilter": True, "sort": False})
    if suggestions:
        # What the other rolls say about this unit's members (liên thông): for the unit to check and
        # the organisation to correct in its next roll; nothing to fill here.
        hints = book.add_worksheet(SUGGESTIONS_SHEET)
        hints.write_row(0, 0, [h for h, _ in SUGGESTION_HEADERS], header)
        for column, (_, width) in enumerate(SUGGESTION_HEADERS):
            hints.set_column(column, column, width)
        for number, row in enumerate(suggestions, start=1):
            hints.write_row(number, 0, row)
        hints.set_header(f"&C{PERSONAL_DATA}")
        hints.protect("", {"format_columns": True})
    guide = book.add_worksheet(GUIDE_SHEET)
    guide.set_column(0, 0, 110)
    guide.write(0, 0, PERSONAL_DATA, book.add_format({"bold": True, "font_color": "#C00000"}))
    for number, line in enumerate((
            "", f"Danh sách xác minh kỳ {period.label} — {org_name} — {unit_name}",
            "Với mỗi hồ sơ: chọn kết quả xác minh; nếu sửa thông tin, ghi số CCCD hoặc ngày sinh đúng;",
            "ghi người xác minh và ngày xác minh. Không sửa các cột khác, không thêm hay xóa dòng.",
            "Hồ sơ đã xác minh còn sinh hoạt sẽ không bị gắn cờ lại, trừ khi có căn cứ mới.",
            f"Trang “{SUGGESTIONS_SHEET}”: thông tin của tổ chức khác hoặc dữ liệu dân cư về thành viên của đơn vị,"
            " để đơn vị kiểm tra và tổ chức sửa trong danh sách lần sau.", "",
            "Các kết quả:", *(f"  • {o.label}" for o in OUTCOMES)), start=1):
        guide.write(number, 0, line)
    guide.protect("")
    book.set_properties({"title": f"Danh sách xác minh {period.key} — {unit_name}",
                         "subject": "Dữ liệu cá nhân — chỉ người rà soát được giao",
                         "keywords": "personal data; dữ liệu cá nhân", "comments": PERSONAL_DATA})
    book.close()
    return path


class ReviewerRoleError(RuntimeError):
    """The lists cannot be read as the reviewer role."""


def _as_reviewer(conn) -> None:
    """Read what follows as the reviewer role (until `reset role`, or the savepoint's rollback)."""
    from lienthong.access import role_set
    from lienthong.access.roles import assume_role

    assume_role(conn, role_set().name("reviewer"), ReviewerRoleError, reading="the verification lists",
                account="rendering the review", local=True)


def load_unit_lists(conn, period) -> dict[tuple[str, str], dict]:
    """What each unit's list holds: (org, unit key) -> name, rows, suggestions, for every unit with
    flagged records or suggestions in the period (``write_unit_lists`` writes them)."""
    units: dict[tuple[str, str], dict] = {}

    def unit(org, unit_key, unit_name):
        return units.setdefault((org, unit_key), {"name": unit_name, "rows": [], "suggestions": []})

    with conn.transaction():
        _as_reviewer(conn)
        listed = conn.execute(LIST_QUERY, (period.key,)).fetchall()
        suggested = conn.execute(SUGGESTIONS_QUERY, (period.key,)).fetchall()
        conn.execute("reset role")
    for (org, unit_key, unit_name, commune, key, member_code, full_name, birth_year, id_number, label, evidence,
         since, listed_before) in listed:
        unit(org, unit_key, unit_name)["rows"].append(
            (key, member_code, full_name, birth_year, id_number, label, evidence, since, listed_before, commune))
    for org, unit_key, unit_name, commune, *rest in suggested:
        unit(org, unit_key, unit_name)["suggestions"].append((commune, unit_name, *rest))
    return units


# What each list in a folder was written from (content fingerprint, then the file's size and mtime).
MANIFEST = ".da_ghi.json"
# A change to how a list is laid out (this module, the answers' vocabulary) rewrites every list.
_LAYOUT = hashlib.md5(Path(__file__).read_bytes() + Path(__file__).with_name("outcomes.py").read_bytes()).hexdigest()


def write_unit_lists(units: dict[tuple[str, str], dict], period, org_names: dict[str, str], folder: Path) -> list[Path]:
    """Write ``units`` ((org, unit key) -> name, rows, suggestions) as one workbook each; return their paths.

    The review renders the open month every night, and most units' lists do not change from one
    night to the next: a list whose content, layout and file are as the folder's manifest recorded
    is left as it is (a province has tens of thousands of units, ~5 ms each). A unit no longer listed
    loses its file, so no list outlives its flags. Files are written whole under a temporary name,
    then renamed (readers never see half a file); from MIN_LISTS_FOR_WORKERS lists to write, in
    worker processes (lienthong.workers)."""
    from lienthong.config.settings import make_private

    manifest_path = folder / MANIFEST
    try:
        previous = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        previous = {}
    contents, to_write = {}, []  # file name in the folder -> (path, content fingerprint); lists to write
    for (org, unit_key), found in units.items():
        target = make_private(folder / org) / _file_name(unit_key, found["name"])
        job = (period, org_names.get(org, org), found["name"] or "", found["rows"], found["suggestions"])
        name = str(target.relative_to(folder))
        contents[name] = target, hashlib.md5(repr((_LAYOUT, job)).encode()).hexdigest()
        if not _as_recorded(target, previous.get(name), contents[name][1]):
            to_write.append((target, job))
    map_in_workers(_write_list, to_write, worker_count(len(to_write), MIN_LISTS_FOR_WORKERS))
    manifest, paths = {}, []
    for name, (target, content) in contents.items():
        stat = target.stat()
        manifest[name] = [content, stat.st_size, stat.st_mtime_ns]
        paths.append(target)
    if folder.exists():
        for old in folder.glob("*/*.xlsx"):
            if str(old.relative_to(folder)) not in manifest:
                old.unlink()
        tmp = manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(manifest_path)
    return paths


def _write_list(item: tuple[Path, tuple]) -> None:
    """One unit's list, written whole under a temporary name and then renamed."""
    target, job = item
    tmp = target.with_suffix(".tmp")
    _write_workbook(tmp, *job)
    tmp.chmod(0o600)
    tmp.replace(target)


def _as_recorded(target: Path, recorded: list | None, content: str) -> bool:
    """The file is there, unchanged since it was written from ``content``."""
    if not recorded or recorded[0] != content:
        return False
    try:
        stat = target.stat()
    except FileNotFoundError:
        return False
    return [stat.st_size, stat.st_mtime_ns] == recorded[1:]


@dataclass
class LoopData:
    """The review loop's figures for one monthly period, read once."""
    totals: list
    rates: list
    overdue: list
    unmatched: list


def load_loop(conn, period) -> LoopData | None:
    """None for quarters and years: the loop runs per month."""
    totals = rows(
        conn, "select org_code, sum(raised) as raised, sum(listed) as listed, sum(answered) as answered,"
        " sum(verified_kept) as verified_kept, sum(resolved) as resolved, sum(removed) as removed,"
        " sum(corrected) as corrected, sum(promised_not_done) as promised_not_done, sum(overdue) as overdue,"
        " sum(listed_previous) as listed_previous, sum(answered_of_previous) as answered_of_previous"
        " from review.rpt_verification_by_unit where period_key = %s group by 1 order by 1", (period.key,))
    if not totals:
        return None
    return LoopData(
        totals=totals,
        rates=rows(
            conn, "select u.org_code, u.period_key, sum(u.answered_of_previous) as answered,"
            " sum(u.listed_previous) as listed"
            " from review.rpt_verification_by_unit as u join review.rpt_review_periods as p using (period_key)"
            " where p.last_day <= %s group by 1, 2 having sum(u.listed_previous) > 0 order by 2", (period.last,)),
        overdue=rows(
            conn, "select org_code, commune_name, unit_name, overdue, listed, promised_not_done"
            " from review.rpt_verification_by_unit where period_key = %s and overdue > 0"
            " order by overdue desc, org_code, unit_name limit 20", (period.key,)),
        unmatched=rows(
            conn, "select org_code, delivery_date, source_row_number from review.rpt_verification_unmatched"
            " where delivery_date between %s and %s order by 1, 2, 3", (period.first, period.last)),
    )


def loop_sections(loop: LoopData | None, name) -> list:
    """The report's part on the review loop (monthly periods): per organisation raised, answered,
    resolved, overdue; the answer rate over the last periods (chart); members removed or corrected;
    the units with most overdue flags; answers whose key matched no flag. ``name`` maps org codes to
    the names shown."""
    if loop is None:
        return []
    totals = loop.totals
    sections = [Section(
        id="vong-ra-soat", title="Vòng rà soát — cờ đã gửi, trả lời, xử lý",
        note="Mỗi đơn vị nhận danh sách xác minh (tệp Excel trong thư mục xac_minh) và gửi lại kết quả. Cờ đã xác "
             "minh còn sinh hoạt không bị gắn lại trừ khi có căn cứ mới; quá hạn: chưa trả lời sau thời hạn tỉnh đặt.",
        cards=[{"label": "cờ mới trong kỳ", "value": sum(r.raised for r in totals)},
               {"label": "kết quả nhận được trong kỳ", "value": sum(r.answered for r in totals)},
               {"label": "cờ đã xử lý", "value": sum(r.resolved for r in totals)},
               {"label": "cờ quá hạn", "value": sum(r.overdue for r in totals)}],
        table=Table(["Tổ chức", "Cờ mới", "Trong danh sách", "Đã trả lời", "Xác minh, giữ lại", "Đã xử lý",
                     "Đã xóa khỏi danh sách", "Đã sửa thông tin", "Báo xóa nhưng chưa xóa", "Quá hạn",
                     "Tỉ lệ trả lời danh sách kỳ trước"],
                    [[name(r.org_code), r.raised, r.listed, r.answered, r.verified_kept, r.resolved, r.removed,
                      r.corrected, r.promised_not_done, r.overdue, vn_percent(r.answered_of_previous, r.listed_previous)]
                     for r in totals]))]

    months = list(dict.fromkeys(r.period_key for r in loop.rates))[-12:]
    if months:
        rate = {(r.org_code, r.period_key): 100 * r.answered / r.listed for r in loop.rates}
        series = {name(org): [rate.get((org, month), 0.0) for month in months]
                  for org in sorted({r.org_code for r in loop.rates})}
        sections.append(Section(
            id="ti-le-tra-loi", title="Tỉ lệ trả lời danh sách xác minh qua các kỳ",
            note="Phần trăm cờ trong danh sách kỳ trước đã có kết quả xác minh đến cuối kỳ.",
            draw=lambda: charts.lines("chart-answer-rate", "Tỉ lệ trả lời (%)", months, series, "%")))

    sections.append(Section(
        id="qua-han", title="Đơn vị có nhiều cờ quá hạn nhất",
        table=Table(["Tổ chức", "Xã/Phường", "Đơn vị", "Cờ quá hạn", "Trong danh sách", "Báo xóa nhưng chưa xóa"],
                    [[name(r.org_code), r.commune_name or "", r.unit_name or "", r.overdue, r.listed,
                      r.promised_not_done] for r in loop.overdue])))

    if loop.unmatched:
        sections.append(Section(
            id="khong-khop", title="Kết quả gửi về không khớp cờ nào",
            note="Khóa ẩn của dòng không trùng với cờ nào (bị sửa, hoặc của tổ chức, kỳ khác): đơn vị cần kiểm tra lại.",
            table=Table(["Tổ chức", "Ngày gửi", "Dòng"],
                        [[name(r.org_code), r.delivery_date.strftime("%d/%m/%Y"), r.source_row_number]
                         for r in loop.unmatched])))
    return sections
