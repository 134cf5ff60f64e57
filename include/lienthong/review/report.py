"""The periodic review, rendered for the people who read it: an HTML report with charts (phones
included) and an Excel workbook with a sheet per view and the flagged members per unit.

Everything is read from the review marts for one period key (YYYY-MM, YYYY-Qn, YYYY), so a past
period renders the same way every time from the same inputs.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from psycopg.rows import namedtuple_row

from lienthong.config.organisations import load_organisations
from lienthong.config.settings import make_private
from lienthong.review import charts
from lienthong.text.numbers import vn_number as _fmt
from lienthong.text.numbers import vn_percent as _pct
from lienthong.warehouse import connect

TEMPLATES = Path(__file__).with_name("templates")
NOT_LIVE_STATUS = {"held": "giữ lại", "rejected": "loại"}  # raw.batches statuses, as the review says them
ACTIVITY_KINDS = {"dues": "hội phí", "activities": "sinh hoạt"}  # rpt_unmatched_activity.entity, as the review says them
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
    # Draws the section's chart (SVG) when the HTML first reads `chart`: the workbook, built from the
    # same sections, shows tables only, so its sections never draw (a chart is 0.1-0.7 s of matplotlib).
    draw: Callable[[], str] | None = None
    table: Table | None = None

    @cached_property
    def chart(self) -> str:
        return self.draw() if self.draw else ""


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


def rows(conn, query: str, params: tuple = ()) -> list:
    """The query's rows as named tuples: the report reads each column by its alias, never by position."""
    with conn.cursor(row_factory=namedtuple_row) as cursor:
        return cursor.execute(query, params).fetchall()


def load_period(conn, period_key: str) -> Period:
    row = conn.execute("select period_key, period_kind, first_month, last_day from review.rpt_review_periods"
                       " where period_key = %s", (period_key,)).fetchone()
    if row is None:
        known = [k for (k,) in conn.execute("select period_key from review.rpt_review_periods"
                                             " order by first_month desc, period_kind limit 8")]
        raise ReviewNotReady(f"no review period {period_key!r} in the warehouse (latest: {', '.join(known)}); "
                             "run the warehouse build first, or pick one of those.")
    return Period(*row)


@dataclass
class ReviewData:
    """Every figure of one period's report, read once: the HTML and the workbook both render it."""
    period: Period
    haves: list
    flags: list
    suspected: list
    weights: list
    overlap: list
    bands: dict
    gathering: list
    trend: list
    inflated: list
    changes: list
    not_live: list
    unmatched: list
    scorecard: list
    loop: object  # lienthong.review.verification.LoopData, or None for quarters and years

    @property
    def people_total(self) -> int:
        """Distinct people on any roll: each falls in exactly one band of organisations belonged to."""
        return sum(self.bands.values())


def load_review(conn, period: Period) -> ReviewData:
    from lienthong.review.verification import load_loop

    key = (period.key,)
    return ReviewData(
        period=period,
        haves=rows(conn, "select org_code, roll_records, people, has_person, has_name, has_unit, has_dues,"
                         " has_attendance, all_five, flagged_records from review.rpt_five_haves"
                         " where period_key = %s order by org_code", key),
        # The rules' order and labels are the declaration's (var('review_flags'), review.rpt_member_flag_rules).
        flags=rows(conn, "select f.org_code, f.flag_kind, r.flag_label, count(*) as records"
                         " from review.rpt_member_flags as f join review.rpt_member_flag_rules as r using (flag_kind)"
                         " where f.period_key = %s group by 1, 2, 3, r.flag_order order by r.flag_order", key),
        suspected=rows(conn, "select org_code, count(*) filter (where suspected) as suspected, count(*) as flagged"
                             " from review.rpt_member_suspicion where period_key = %s group by 1 order by 1", key),
        weights=rows(conn, "select flag_label, severity, weight, weight_with_id, score_intercept,"
                           " score_intercept_roll_only, score_intercept_partial, score_seen_in_deliveries,"
                           " suspicion_threshold"
                           " from review.rpt_member_flag_rules order by flag_order"),
        overlap=rows(conn, "select org_code, other_org_code, people from review.rpt_organisation_overlap"
                           " where period_key = %s", key),
        bands=dict(conn.execute("select organisation_count, people from review.rpt_people_by_organisation_count"
                                " where period_key = %s", key).fetchall()),
        gathering=rows(conn, "select commune_name, sum(members) as members,"
                             " sum(eligible_population) as eligible_population"
                             " from review.rpt_gathering_rate where period_key = %s and eligible_population > 0"
                             " group by 1 order by sum(members)::numeric / sum(eligible_population) desc", key),
        trend=rows(conn, "select org_code, to_char(month_start, 'MM/YYYY') as month, active"
                         " from review.rpt_active_members_trend where month_start <= %s order by month_start",
                   (period.last,)),
        inflated=rows(conn, "select org_code, unit_name, reported_count, verified_people, inflation_ratio"
                            " from review.rpt_reported_vs_verified where period_key = %s and inflation_ratio > 1"
                            " order by inflation_ratio desc, unit_name limit 50", key),
        changes=rows(conn, "select org_code, joined, left_roll, transferred, newly_flagged, resolved"
                           " from review.rpt_changes_since_previous where period_key = %s order by org_code", key),
        not_live=rows(conn, "select org_code, entity, delivery_date, batch_id, status, row_count, note"
                            " from review.rpt_deliveries_not_live"
                            " order by delivery_date desc, org_code, entity limit 50"),
        unmatched=rows(conn, "select org_code, entity, delivered_rows, unmatched_before_first_roll,"
                             " unmatched_since_first_roll, unmatched_members_since_first_roll, last_unmatched_delivery"
                             " from review.rpt_unmatched_activity where unmatched_rows > 0"
                             " order by unmatched_since_first_roll::numeric / delivered_rows desc, org_code, entity"),
        scorecard=rows(conn, "select org_code, round(avg(quality_score), 1) as score, sum(records) as records,"
                             " round(avg(missing_id_rate), 3) as missing_id_rate,"
                             " round(avg(unresolved_commune_rate), 3) as unresolved_commune_rate"
                             " from review.rpt_dq_scorecard group by 1 order by 1"),
        loop=load_loop(conn, period),
    )


def _overview(data: ReviewData, name) -> Section:
    haves = data.haves
    total_records = sum(r.roll_records for r in haves)
    return Section(
        id="tong-quan", title="Tổng quan",
        note="Số liệu cuối kỳ trên danh sách của từng tổ chức, đối chiếu liên thông giữa các tổ chức.",
        cards=[{"label": "hồ sơ trên danh sách", "value": _fmt(total_records)},
               {"label": "người (không trùng giữa các tổ chức)", "value": _fmt(data.people_total)},
               {"label": "hồ sơ đủ 5 có", "value": _pct(sum(r.all_five for r in haves), total_records)},
               {"label": "hồ sơ bị gắn cờ rà soát", "value": _fmt(sum(r.flagged_records for r in haves))}],
        table=Table(["Tổ chức", "Hồ sơ", "Số người", "Có người thật", "Có tên", "Có đơn vị", "Có đóng phí",
                     "Có sinh hoạt", "Đủ 5 có", "Bị gắn cờ"],
                    [[name(r.org_code), *(NOT_REPORTED if v is None else v for v in (
                        r.roll_records, r.people, r.has_person, r.has_name, r.has_unit, r.has_dues,
                        r.has_attendance, r.all_five, r.flagged_records))] for r in haves]))


def _flags(data: ReviewData, name) -> Section:
    labels = {r.flag_kind: r.flag_label for r in data.flags}
    by_org: dict[str, dict[str, int]] = {}
    for r in data.flags:
        by_org.setdefault(r.org_code, {})[r.flag_kind] = r.records
    return Section(
        id="co-ao", title="Cờ rà soát hội viên, đoàn viên “ảo”",
        note="Mỗi hồ sơ có thể bị nhiều cờ. Danh sách từng người theo đơn vị nằm trong tệp Excel.",
        table=Table(["Tổ chức", *labels.values()],
                    [[name(org), *[counts.get(k, 0) for k in labels]] for org, counts in sorted(by_org.items())]))


def _suspicion(data: ReviewData, name) -> Section:
    rules = data.weights
    return Section(
        id="nghi-ao", title="Hồ sơ nghi “ảo” theo điểm",
        note="Điểm nghi ảo (0–1) của mỗi hồ sơ gộp mọi cờ của hồ sơ đó: 1 / (1 + e^−(hệ số chặn + tổng trọng số các cờ)),"
             f" hệ số chặn {_fmt_weight(rules[0].score_intercept)} ở tổ chức có báo cáo hội phí, sinh hoạt (hồ sơ"
             f" có đóng phí hoặc sinh hoạt thêm {_fmt_weight(rules[0].score_seen_in_deliveries)}),"
             f" {_fmt_weight(rules[0].score_intercept_roll_only)} ở tổ chức chỉ gửi danh sách,"
             f" {_fmt_weight(rules[0].score_intercept_partial)} ở tổ chức chỉ báo cáo một trong hai (hội phí hoặc"
             " sinh hoạt; trọng số các cờ về hội phí, sinh hoạt của tổ chức đó có thể khác);"
             " trọng số của mỗi cờ tùy hồ sơ có hay không có"
             f" số CCCD/CMND hợp lệ. Hồ sơ có điểm từ {_fmt_weight(rules[0].suspicion_threshold, '')} trở lên cần"
             " xác minh trước; danh sách theo đơn vị, xếp theo điểm, nằm trong tệp Excel.",
        cards=[{"label": "hồ sơ nghi ảo cần xác minh", "value": _fmt(sum(r.suspected for r in data.suspected))},
               *({"label": f"nghi ảo — {name(r.org_code)} (trên {_fmt(r.flagged)} hồ sơ có cờ)",
                  "value": _fmt(r.suspected)} for r in data.suspected)],
        table=Table(["Cờ", "Mức độ", "Trọng số (hồ sơ không có CCCD)", "Trọng số (hồ sơ có CCCD)"],
                    [[r.flag_label, SEVERITY[r.severity], _fmt_weight(r.weight), _fmt_weight(r.weight_with_id)]
                     for r in rules]))


def _overlap(data: ReviewData, name) -> Section:
    people = {(r.org_code, r.other_org_code): r.people for r in data.overlap}
    codes = sorted({r.org_code for r in data.overlap})
    matrix = [[people.get((x, y), 0) for y in codes] for x in codes]
    return Section(
        id="trung-lap", title="Người tham gia nhiều tổ chức",
        note="Đường chéo: số người của từng tổ chức; ô khác: số người cùng có tên ở hai tổ chức.",
        cards=[{"label": f"người tham gia {band} tổ chức", "value": _fmt(data.bands.get(band, 0))}
               for band in ("1", "2", "3+")],
        draw=(lambda: charts.heatmap("chart-overlap", "Số người trùng giữa các tổ chức", [name(c) for c in codes],
                                     matrix)) if codes else None)


def _gathering(data: ReviewData, name) -> Section | None:
    gathering = data.gathering
    if not gathering:
        return None
    return Section(
        id="tap-hop", title="Tỉ lệ tập hợp theo xã, phường",
        note="Số thành viên (mọi tổ chức) trên dân số thuộc đối tượng của các tổ chức, theo xã/phường mới.",
        draw=lambda: charts.bars("chart-gathering", "Tỉ lệ tập hợp", [g.commune_name for g in gathering],
                                 [g.members / g.eligible_population for g in gathering], "tỉ lệ", percent=True),
        table=Table(["Xã/Phường", "Thành viên", "Dân số thuộc đối tượng", "Tỉ lệ"],
                    [[g.commune_name, g.members, g.eligible_population, _pct(g.members, g.eligible_population)]
                     for g in gathering]))


def _trend(data: ReviewData, name) -> Section | None:
    months = list(dict.fromkeys(t.month for t in data.trend))
    if not months:
        return None
    active = {(t.org_code, t.month): t.active for t in data.trend}
    series = {name(org): [active.get((org, m), 0) for m in months] for org in sorted({t.org_code for t in data.trend})}
    return Section(
        id="xu-huong", title="Xu hướng thành viên hoạt động",
        note="Thành viên trên danh sách có đóng phí hoặc sinh hoạt trong tháng.",
        draw=lambda: charts.lines("chart-trend", "Thành viên hoạt động theo tháng", months, series, "người"))


def _reported(data: ReviewData, name) -> Section:
    return Section(
        id="bao-cao", title="Số báo cáo so với số xác minh",
        note="Đơn vị báo cáo số lượng cao hơn số người xác minh được trên danh sách (50 đơn vị chênh nhiều nhất).",
        table=Table(["Tổ chức", "Đơn vị", "Số báo cáo", "Số xác minh", "Tỉ lệ"],
                    [[name(r.org_code), r.unit_name, r.reported_count, r.verified_people, r.inflation_ratio]
                     for r in data.inflated]))


def _changes(data: ReviewData, name) -> Section:
    return Section(
        id="bien-dong", title="Biến động so với kỳ trước",
        table=Table(["Tổ chức", "Mới vào", "Ra khỏi danh sách", "Chuyển sinh hoạt", "Cờ mới", "Cờ đã xử lý"],
                    [[name(r.org_code), r.joined, r.left_roll, r.transferred, r.newly_flagged, r.resolved]
                     for r in data.changes]))


def _not_live(data: ReviewData, name) -> Section | None:
    if not data.not_live:
        return None
    return Section(
        id="chua-dua-vao", title="Dữ liệu nhận được nhưng chưa đưa vào",
        note="Lần gửi bị giữ lại chờ kiểm tra (thiếu dòng, không có dòng, hoặc danh sách giảm quá ngưỡng) hoặc bị "
             "loại; số liệu trong báo cáo này không tính các lần gửi đó (lienthong batch release|reject).",
        table=Table(["Tổ chức", "Loại dữ liệu", "Ngày gửi", "Lô", "Trạng thái", "Số dòng", "Lý do"],
                    [[name(r.org_code), r.entity, r.delivery_date.strftime("%d/%m/%Y"), r.batch_id,
                      NOT_LIVE_STATUS[r.status], r.row_count, r.note] for r in data.not_live]))


def _unmatched(data: ReviewData, name) -> Section | None:
    if not data.unmatched:
        return None
    return Section(
        id="khong-khop", title="Hội phí, sinh hoạt không khớp hội viên nào trên danh sách",
        note="Các dòng này không được tính cho ai trong “5 có”. Dòng có ngày trước danh sách hội viên đầu tiên "
             "tổ chức gửi thường là của người đã ra khỏi tổ chức trước đó: không cần xử lý. Dòng từ danh sách đầu "
             "tiên trở đi là của người không có trên danh sách nào: danh sách hội phí, sinh hoạt ghi mã hội viên "
             "hoặc tên khác với danh sách hội viên, hoặc danh sách hội viên thiếu người; cần tổ chức kiểm tra, gửi "
             "lại cho khớp.",
        table=Table(["Tổ chức", "Loại dữ liệu", "Số dòng", "Không khớp, trước danh sách đầu tiên",
                     "Không khớp, từ danh sách đầu tiên", "Mã hội viên không khớp (từ danh sách đầu tiên)",
                     "Lần gửi gần nhất có dòng không khớp"],
                    [[name(r.org_code), ACTIVITY_KINDS[r.entity], r.delivered_rows, r.unmatched_before_first_roll,
                      r.unmatched_since_first_roll, r.unmatched_members_since_first_roll,
                      r.last_unmatched_delivery.strftime("%d/%m/%Y")] for r in data.unmatched]))


def _quality(data: ReviewData, name) -> Section | None:
    scorecard = data.scorecard
    if not scorecard:
        return None
    return Section(
        id="chat-luong", title="Chất lượng dữ liệu",
        note="Điểm 0–100 theo đơn vị (100 = không có lỗi), trung bình theo tổ chức.",
        draw=lambda: charts.bars("chart-quality", "Điểm chất lượng dữ liệu", [name(s.org_code) for s in scorecard],
                                 [float(s.score) for s in scorecard], "điểm"),
        table=Table(["Tổ chức", "Điểm", "Hồ sơ", "Tỉ lệ thiếu CCCD", "Tỉ lệ chưa xác định xã"],
                    [[name(s.org_code), s.score, s.records, s.missing_id_rate, s.unresolved_commune_rate]
                     for s in scorecard]))


# The report's sections in reading order; each returns None when its period has nothing to show.
SECTIONS = (_overview, _flags, _suspicion, _overlap, _gathering, _trend, _reported, _changes, _not_live, _unmatched,
            _quality)


def build_sections(data: ReviewData, org_names: dict[str, str]) -> list[Section]:
    from lienthong.review.verification import loop_sections

    name = lambda code: org_names.get(code, code)  # noqa: E731
    sections = [section for build in SECTIONS if (section := build(data, name)) is not None]
    return sections + loop_sections(data.loop, name)


def render_html(sections: list[Section], period: Period, as_of: date) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["vn_number"] = _fmt
    env.filters["vn_date"] = lambda d: d.strftime("%d/%m/%Y")
    return env.get_template("review.html.j2").render(sections=sections, period=period, as_of=as_of)


def render(url: str, period_key: str, output_dir: Path) -> dict[str, Path]:
    """Write the period's HTML report and Excel workbook; return their paths."""
    from lienthong.review.verification import load_unit_lists, write_unit_lists
    from lienthong.review.workbook import write_workbook

    org_names = {org.code: org.name for org in load_organisations()}
    short_names = {org.code: org.short_name for org in load_organisations()}
    make_private(output_dir)  # reviews name members: output folder and files are the owner's alone
    folder = make_private(output_folder(output_dir, period_key))
    with connect(url) as conn:
        period = load_period(conn, period_key)
        data = load_review(conn, period)
        html_path = folder / f"bao_cao_ra_soat_{period_key}.html"
        tmp = html_path.with_suffix(".tmp")
        # Short names fit a phone screen; the workbook, read at a desk, spells them out.
        tmp.write_text(render_html(build_sections(data, short_names), period, period.last), encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(html_path)
        units = load_unit_lists(conn, period)
        # The units' lists are written beside the workbook (both are mostly xlsxwriter's Python): on
        # a first review, every unit's list, in worker processes (write_unit_lists).
        with ThreadPoolExecutor(1) as beside:
            writing_lists = beside.submit(write_unit_lists, units, period, org_names, folder / "xac_minh")
            workbook = write_workbook(conn, period, build_sections(data, org_names), org_names,
                                      folder / f"bao_cao_ra_soat_{period_key}.xlsx")
            lists = writing_lists.result()
    return {"html": html_path, "xlsx": workbook, **({"verification_lists": folder / "xac_minh"} if lists else {})}
