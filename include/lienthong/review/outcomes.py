"""What a unit can answer about a flagged record, and what becomes of the flag: the vocabulary the
verification lists offer (in Vietnamese, as the dropdown shows it), the landing checks and dbt (the
generated `verification_outcome_kinds` seed) share, so the three never disagree."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    code: str
    label: str  # as the dropdown shows it; no comma (an inline Excel list is comma-separated)
    removes: bool  # the record should leave the roll: the next roll without it resolves the flag


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("verified_active", "Còn sinh hoạt - đã xác minh", False),
    Outcome("moved_away", "Đã chuyển đi nơi khác", True),
    Outcome("deceased", "Đã mất", True),
    Outcome("duplicate", "Trùng với hồ sơ khác", True),
    Outcome("not_a_member", "Không phải thành viên thật - xóa khỏi danh sách", True),
    Outcome("corrected", "Đã sửa thông tin (ghi CCCD hoặc ngày sinh đúng)", False),
)

# A flag's state in a review period (rpt_flag_lifecycle.status), as the report says it.
STATUS_LABELS: dict[str, str] = {
    "open": "Chưa trả lời",
    "overdue": "Quá hạn chưa trả lời",
    "answered": "Đã trả lời, chờ danh sách mới",
    "verified_kept": "Đã xác minh, giữ lại",
    "promised_not_done": "Báo đã xóa nhưng danh sách mới vẫn còn",
    "resolved": "Đã xử lý",
}


def _key(text: str) -> str:
    from lienthong.pipeline.dbt_generated import vn_key  # the same key dbt's vn_key() builds

    return vn_key(text)


def outcome_code(text: str | None) -> str | None:
    """The outcome a written answer means (case, accents and spacing ignored), None if none."""
    if not text:
        return None
    wanted = _key(text)
    return next((o.code for o in OUTCOMES if _key(o.label) == wanted or o.code == wanted), None)


def flag_key(period_key: str, flag_kind: str, source_record_key: str) -> str:
    """The hidden key of a list row: which flag (record, rule) of which period it answers."""
    return f"{period_key}|{flag_kind}|{source_record_key}"


def seed_rows() -> tuple[list[str], list[list]]:
    """The `verification_outcome_kinds` seed (header, rows): the code, the label and its match key."""
    return (["outcome_code", "label", "label_key", "removes"],
            [[o.code, o.label, _key(o.label), o.removes] for o in OUTCOMES])
