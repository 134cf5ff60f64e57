"""The periodic review, rendered for the people who read it: an HTML report with charts (phones
included) and an Excel workbook with a sheet per view and the flagged members per unit.

Everything is read from the review marts for one period key (YYYY-MM, YYYY-Qn, YYYY), so a past
period renders the same way every time from the same inputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from lienthong.config.organisations import load_organisations
from lienthong.config.settings import make_private
from lienthong.review import charts
from lienthong.text.numbers import vn_number as _fmt
from lienthong.text.numbers import vn_percent as _pct
from lienthong.warehouse import connect

TEMPLATES = Path(__file__).with_name("templates")
NOT_LIVE_STATUS = {"held": "giữ lại", "rejected": "loại"}  # raw.batches statuses, as the review says them
# What the five haves show for dues or attendance where the organisation does not report them.
NOT_REPORTED = "chưa báo cáo"
SEVERITY = {"high": "cao", "medium": "trung bình", "low": "thấp"}  # rpt_member_flag_rules.severity


def _fmt_weight(weight, sign: str = "+") -> str:
    """A score weight (or threshold, sign="") as the review shows it: two decimals, decimal comma."""
    return f"{float(weight):{sign}.2f}".replace(".", ",").replace("-", "−")


@dataclass
class Table:
    headers: list[str]
    rows: list[list]


@dataclass
class Section:
    id: str
    title: str
    note: str = ""
    cards: list[dict] = field(default_factory=list)
    chart: str = ""
    table: Table | None = None


@dataclass
class Period:
    key: str
    kind: str
    first: date
    last: date

    @property
    def label(self) -> str:
        kind = {"month": "tháng", "quarter": "quý", "year": "năm"}[self.kind]
        if self.kind == "month":
            return f"{kind} {self.first:%m/%Y}"
        if self.kind == "quarter":
            return f"{kind} {self.key[-1]}/{self.key[:4]}"
        return f"{kind} {self.key}"


class ReviewNotReady(RuntimeError):
    """The review marts have no such period yet."""


def output_folder(output_dir: Path, period_key: str) -> Path:
    return output_dir / "reviews" / period_key


def _rows(conn, query: str, params: tuple = ()) -> list[tuple]:
    return conn.execute(query, params).fetchall()


def load_period(conn, period_key: str) -> Period:
    row = conn.execute("select period_key, period_kind, first_month, last_day from intermediate.int_review__periods"
                       " where period_key = %s", (period_key,)).fetchone()
    if row is None:
        known = [k for (k,) in conn.execute("select period_key from intermediate.int_review__periods"
                                             " order by first_month desc, period_kind limit 8")]
        raise ReviewNotReady(f"no review period {period_key!r} in the warehouse (latest: {', '.join(known)}); "
                             "run the warehouse build first, or pick one of those.")
    return Period(*row)


def build_sections(conn, period: Period, org_names: dict[str, str]) -> list[Section]:
    name = lambda code: org_names.get(code, code)  # noqa: E731
    key = (period.key,)
    sections: list[Section] = []

    haves = _rows(conn, "select org_code, roll_records, people, has_person, has_name, has_unit, has_dues,"
                        " has_attendance, all_five, flagged_records from review.rpt_five_haves"
                        " where period_key = %s order by org_code", key)
    total_records = sum(r[1] for r in haves)
    people_total = conn.execute("select count(distinct person_id) from intermediate.int_review__member_status"
                                " where period_key = %s", key).fetchone()[0]
    sections.append(Section(
        id="tong-quan", title="Tổng quan",
        note="Số liệu cuối kỳ trên danh sách của từng tổ chức, đối chiếu liên thông giữa các tổ chức.",
        cards=[{"label": "hồ sơ trên danh sách", "value": _fmt(total_records)},
               {"label": "người (không trùng giữa các tổ chức)", "value": _fmt(people_total)},
               {"label": "hồ sơ đủ 5 có", "value": _pct(sum(r[8] for r in haves), total_records)},
               {"label": "hồ sơ bị gắn cờ rà soát", "value": _fmt(sum(r[9] for r in haves))}],
        table=Table(["Tổ chức", "Hồ sơ", "Số người", "Có người thật", "Có tên", "Có đơn vị", "Có đóng phí",
                     "Có sinh hoạt", "Đủ 5 có", "Bị gắn cờ"],
                    [[name(r[0]), *(NOT_REPORTED if v is None else v for v in r[1:])] for r in haves])))

    # The rules' order and labels are the declaration's (var('review_flags'), review.rpt_member_flag_rules).
    flags = _rows(conn, "select f.org_code, f.flag_kind, r.flag_label, count(*) from review.rpt_member_flags as f"
                        " join review.rpt_member_flag_rules as r using (flag_kind)"
                        " where f.period_key = %s group by 1, 2, 3, r.flag_order order by r.flag_order", key)
    labels = {kind: label for _, kind, label, _ in flags}
    kinds = list(labels)
    by_org: dict[str, dict[str, int]] = {}
    for org, kind, _, count in flags:
        by_org.setdefault(org, {})[kind] = count
    sections.append(Section(
        id="co-ao", title="Cờ rà soát hội viên, đoàn viên “ảo”",
        note="Mỗi hồ sơ có thể bị nhiều cờ. Danh sách từng người theo đơn vị nằm trong tệp Excel.",
        table=Table(["Tổ chức", *[labels[k] for k in kinds]],
                    [[name(org), *[counts.get(k, 0) for k in kinds]] for org, counts in sorted(by_org.items())])))

    suspected = _rows(conn, "select org_code, count(*) filter (where suspected), count(*)"
                            " from review.rpt_member_suspicion where period_key = %s group by 1 order by 1", key)
    weights = _rows(conn, "select flag_label, severity, weight, weight_with_id, score_intercept, suspicion_threshold"
                          " from review.rpt_member_flag_rules order by flag_order")
    sections.append(Section(
        id="nghi-ao", title="Hồ sơ nghi “ảo” theo điểm",
        note="Điểm nghi ảo (0–1) của mỗi hồ sơ gộp mọi cờ của hồ sơ đó: 1 / (1 + e^−(hệ số chặn + tổng trọng số các cờ)),"
             f" hệ số chặn {_fmt_weight(weights[0][4])}; trọng số của mỗi cờ tùy hồ sơ có hay không có số CCCD/CMND"
             f" hợp lệ. Hồ sơ có điểm từ {_fmt_weight(weights[0][5], '')} trở lên cần"
             " xác minh trước; danh sách theo đơn vị, xếp theo điểm, nằm trong tệp Excel.",
        cards=[{"label": "hồ sơ nghi ảo cần xác minh", "value": _fmt(sum(r[1] for r in suspected))},
               *({"label": f"nghi ảo — {name(org)} (trên {_fmt(flagged)} hồ sơ có cờ)", "value": _fmt(count)}
                 for org, count, flagged in suspected)],
        table=Table(["Cờ", "Mức độ", "Trọng số (hồ sơ không có CCCD)", "Trọng số (hồ sơ có CCCD)"],
                    [[label, SEVERITY[severity], _fmt_weight(weight), _fmt_weight(with_id)]
                     for label, severity, weight, with_id, _, _ in weights])))

    overlap = _rows(conn, "select org_code, other_org_code, people from review.rpt_organisation_overlap"
                          " where period_key = %s", key)
    codes = sorted({r[0] for r in overlap})
    matrix = [[next((p for a, b, p in overlap if a == x and b == y), 0) for y in codes] for x in codes]
    bands = dict(_rows(conn, "select organisation_count, people from review.rpt_people_by_organisation_count"
                             " where period_key = %s", key))
    sections.append(Section(
        id="trung-lap", title="Người tham gia nhiều tổ chức",
        note="Đường chéo: số người của từng tổ chức; ô khác: số người cùng có tên ở hai tổ chức.",
        cards=[{"label": f"người tham gia {band} tổ chức", "value": _fmt(bands.get(band, 0))} for band in ("1", "2", "3+")],
        chart=charts.heatmap("chart-overlap", "Số người trùng giữa các tổ chức",
                             [org_names.get(c, c) for c in codes], matrix) if codes else ""))

    gathering = _rows(conn, "select commune_name, sum(members), sum(eligible_population)"
                            " from review.rpt_gathering_rate where period_key = %s and eligible_population > 0"
                            " group by 1 order by sum(members)::numeric / sum(eligible_population) desc", key)
    if gathering:
        sections.append(Section(
            id="tap-hop", title="Tỉ lệ tập hợp theo xã, phường",
            note="Số thành viên (mọi tổ chức) trên dân số thuộc đối tượng của các tổ chức, theo xã/phường mới.",
            chart=charts.bars("chart-gathering", "Tỉ lệ tập hợp", [g[0] for g in gathering],
                              [g[1] / g[2] for g in gathering], "tỉ lệ", percent=True),
            table=Table(["Xã/Phường", "Thành viên", "Dân số thuộc đối tượng", "Tỉ lệ"],
                        [[g[0], g[1], g[2], _pct(g[1], g[2])] for g in gathering])))

    trend = _rows(conn, "select org_code, to_char(month_start, 'MM/YYYY'), active from review.rpt_active_members_trend"
                        " where month_start <= %s order by month_start", (period.last,))
    months = list(dict.fromkeys(t[1] for t in trend))
    series = {name(org): [next((t[2] for t in trend if t[0] == org and t[1] == m), 0) for m in months]
              for org in sorted({t[0] for t in trend})}
    if months:
        sections.append(Section(
            id="xu-huong", title="Xu hướng thành viên hoạt động",
            note="Thành viên trên danh sách có đóng phí hoặc sinh hoạt trong tháng.",
            chart=charts.lines("chart-trend", "Thành viên hoạt động theo tháng", months, series, "người")))

    inflated = _rows(conn, "select org_code, unit_name, reported_count, verified_people, inflation_ratio"
                           " from review.rpt_reported_vs_verified where period_key = %s and inflation_ratio > 1"
                           " order by inflation_ratio desc, unit_name limit 50", key)
    sections.append(Section(
        id="bao-cao", title="Số báo cáo so với số xác minh",
        note="Đơn vị báo cáo số lượng cao hơn số người xác minh được trên danh sách (50 đơn vị chênh nhiều nhất).",
        table=Table(["Tổ chức", "Đơn vị", "Số báo cáo", "Số xác minh", "Tỉ lệ"],
                    [[name(r[0]), r[1], r[2], r[3], r[4]] for r in inflated])))

    changes = _rows(conn, "select org_code, joined, left_roll, transferred, newly_flagged, resolved"
                          " from review.rpt_changes_since_previous where period_key = %s order by org_code", key)
    sections.append(Section(
        id="bien-dong", title="Biến động so với kỳ trước",
        table=Table(["Tổ chức", "Mới vào", "Ra khỏi danh sách", "Chuyển sinh hoạt", "Cờ mới", "Cờ đã xử lý"],
                    [[name(r[0]), *r[1:]] for r in changes])))

    not_live = _rows(conn, "select org_code, entity, delivery_date, batch_id, status, row_count, note"
                           " from review.rpt_deliveries_not_live order by delivery_date desc, org_code, entity limit 50")
    if not_live:
        sections.append(Section(
            id="chua-dua-vao", title="Dữ liệu nhận được nhưng chưa đưa vào",
            note="Lần gửi bị giữ lại chờ kiểm tra (thiếu dòng, không có dòng, hoặc danh sách giảm quá ngưỡng) hoặc bị "
                 "loại; số liệu trong báo cáo này không tính các lần gửi đó (lienthong batch release|reject).",
            table=Table(["Tổ chức", "Loại dữ liệu", "Ngày gửi", "Lô", "Trạng thái", "Số dòng", "Lý do"],
                        [[name(r[0]), r[1], r[2].strftime("%d/%m/%Y"), r[3], NOT_LIVE_STATUS[r[4]], r[5], r[6]]
                         for r in not_live])))

    scorecard = _rows(conn, "select org_code, round(avg(quality_score), 1), sum(records),"
                            " round(avg(missing_id_rate), 3), round(avg(unresolved_commune_rate), 3)"
                            " from review.rpt_dq_scorecard group by 1 order by 1")
    if scorecard:
        sections.append(Section(
            id="chat-luong", title="Chất lượng dữ liệu",
            note="Điểm 0–100 theo đơn vị (100 = không có lỗi), trung bình theo tổ chức.",
            chart=charts.bars("chart-quality", "Điểm chất lượng dữ liệu", [name(s[0]) for s in scorecard],
                              [float(s[1]) for s in scorecard], "điểm"),
            table=Table(["Tổ chức", "Điểm", "Hồ sơ", "Tỉ lệ thiếu CCCD", "Tỉ lệ chưa xác định xã"],
                        [[name(s[0]), *s[1:]] for s in scorecard])))
    from lienthong.review.verification import loop_sections

    sections += loop_sections(conn, period, name)
    return sections


def render_html(sections: list[Section], period: Period, as_of: date) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["vn_number"] = _fmt
    env.filters["vn_date"] = lambda d: d.strftime("%d/%m/%Y")
    return env.get_template("review.html.j2").render(sections=sections, period=period, as_of=as_of)


def render(url: str, period_key: str, output_dir: Path) -> dict[str, Path]:
    """Write the period's HTML report and Excel workbook; return their paths."""
    from lienthong.review.verification import write_verification_lists
    from lienthong.review.workbook import write_workbook

    org_names = {org.code: org.name for org in load_organisations()}
    short_names = {org.code: org.short_name for org in load_organisations()}
    make_private(output_dir)  # reviews name members: output folder and files are the owner's alone
    folder = make_private(output_folder(output_dir, period_key))
    with connect(url) as conn:
        period = load_period(conn, period_key)
        html_path = folder / f"bao_cao_ra_soat_{period_key}.html"
        tmp = html_path.with_suffix(".tmp")
        # Short names fit a phone screen; the workbook, read at a desk, spells them out.
        tmp.write_text(render_html(build_sections(conn, period, short_names), period, period.last), encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(html_path)
        workbook = write_workbook(conn, period, build_sections(conn, period, org_names), org_names,
                                  folder / f"bao_cao_ra_soat_{period_key}.xlsx")
        lists = write_verification_lists(conn, period, org_names, folder / "xac_minh")
    return {"html": html_path, "xlsx": workbook, **({"verification_lists": folder / "xac_minh"} if lists else {})}
