"""The review workbook: Vietnamese headers, one sheet per view, for the Fatherland Front officers."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from lienthong.config.organisations import load_organisations
from lienthong.warehouse import connect


@dataclass(frozen=True)
class Sheet:
    title: str  # Excel limits sheet titles to 31 characters
    query: str
    headers: tuple[str, ...]


SHEETS = (
    Sheet(
        title="Tổng hợp theo xã",
        query="select org_code, commune_name, roll_count, distinct_people, as_of_date"
              " from review.rpt_members_by_commune order by org_code, commune_name",
        headers=("Tổ chức", "Xã/Phường", "Số trên danh sách", "Số người (không trùng)", "Số liệu đến ngày"),
    ),
)


def workbook_path(output_dir: Path, period: str) -> Path:
    """Where the review of a period (YYYY-MM) is written: output/reviews/<period>/."""
    return output_dir / "reviews" / period / f"bao_cao_ra_soat_{period}.xlsx"


def render_review(url: str, period: str, output_dir: Path) -> Path:
    """Write the period's review workbook and return its path."""
    org_names = {org.code: org.name for org in load_organisations()}
    path = workbook_path(output_dir, period)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.xlsx")
    workbook = xlsxwriter.Workbook(tmp, {"constant_memory": True, "default_date_format": "dd/mm/yyyy"})
    header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7"})
    with connect(url) as conn:
        for sheet in SHEETS:
            ws = workbook.add_worksheet(sheet.title)
            ws.write_row(0, 0, sheet.headers, header)
            ws.set_column(0, len(sheet.headers) - 1, 22)
            ws.freeze_panes(1, 0)
            for r, row in enumerate(conn.execute(sheet.query), start=1):
                ws.write_row(r, 0, (org_names.get(row[0], row[0]), *row[1:]))
    workbook.close()
    tmp.replace(path)  # readers never see a half-written workbook
    return path
