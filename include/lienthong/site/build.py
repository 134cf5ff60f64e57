"""Render the public information pages (trang thông tin điện tử) for one month into a folder.

Static HTML and CSS with inline SVG charts, a few lines of plain JavaScript for the offline search:
the folder reads the same opened from disk, from `lienthong site serve` or from any static host.
Every figure comes from ``lienthong.site.data`` (the analyst role's suppressed aggregates); the
organisations' names come from their config files. The same inputs give the same bytes.
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from lienthong.config.organisations import load_organisations
from lienthong.review import charts
from lienthong.site.data import ALL, UNRESOLVED, Commune, SiteData, read_site_data
from lienthong.text.numbers import vn_number, vn_percent
from lienthong.workers import map_in_workers, worker_count

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
HIDDEN_NOTE = "Số liệu được ẩn để không thể nhận ra cá nhân"
# The columns a page may show, in this order, with their Vietnamese headers.
LABELS = {
    "members": "Thành viên",
    "active_members": "Thành viên hoạt động",
    "people_in_several_organisations": "Người tham gia nhiều tổ chức",
    "joined": "Mới vào",
    "left_roll": "Ra khỏi danh sách",
    "sessions_held": "Buổi sinh hoạt",
    "attendances": "Lượt tham dự",
    "gathering_rate": "Tỉ lệ tập hợp",
}
ROW_MEASURES = ("members", "active_members", "people_in_several_organisations", "joined", "left_roll",
                "sessions_held", "attendances", "gathering_rate")


def site_folder(output_dir: Path) -> Path:
    return output_dir / "site"


@dataclass
class Cell:
    text: str
    href: str = ""
    numeric: bool = False
    hidden: bool = False


@dataclass
class Table:
    caption: str
    headers: list[str]
    rows: list[list[Cell]]


@dataclass
class Section:
    id: str
    title: str
    note: str = ""
    charts: list[dict] = field(default_factory=list)  # {"svg": ..., "caption": ...}
    table: Table | None = None


@dataclass
class Page:
    path: str  # relative to the site root, with / separators
    title: str
    heading: str
    lead: str = ""
    cards: list[dict] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    breadcrumb: list[tuple[str, str]] = field(default_factory=list)  # (label, path)
    template: str = "page.html.j2"

    @property
    def root(self) -> str:
        return "../" * self.path.count("/")


def value_cell(measure: str, value, members=0) -> Cell:
    if value is None and measure == "gathering_rate" and members is not None:
        return Cell("", numeric=True)  # no population figure for the commune (e.g. not resolved)
    if value is None:
        return Cell("–", numeric=True, hidden=True)
    if measure == "gathering_rate":
        return Cell(vn_percent(value), numeric=True)
    return Cell(vn_number(value), numeric=True)


def _month(month) -> str:
    return f"{month:%m/%Y}"


def _numbers(values: list) -> list[float]:
    """A chart series: hidden months as gaps (NaN), not zeros."""
    return [math.nan if v is None else float(v) for v in values]


class SiteBuilder:
    def __init__(self, data: SiteData, org_names: dict[str, str], short_names: dict[str, str],
                 chart_cache: charts.ChartCache | None = None):
        self.data = data
        self.chart_cache = chart_cache
        self.orgs = [code for code in org_names if code in data.org_codes] + \
                    [code for code in data.org_codes if code not in org_names]
        self.name = lambda code: org_names.get(code, code)  # noqa: E731
        self.short = lambda code: short_names.get(code, code)  # noqa: E731
        self.period_label = f"tháng {_month(data.month)}"
        self.months = [_month(m) for m in data.months]

    # -- paths -------------------------------------------------------------------------------------
    @staticmethod
    def org_path(code: str) -> str:
        return f"to-chuc/{code}.html"

    @staticmethod
    def commune_path(commune: Commune) -> str:
        return f"xa/{commune.code}.html"

    # -- pieces ------------------------------------------------------------------------------------
    def chart(self, draw, *args, **kwargs) -> str:
        """``draw(*args, **kwargs)`` (a chart function of lienthong.review.charts), through the
        build's chart cache if it keeps one."""
        if self.chart_cache is None:
            return draw(*args, **kwargs)
        return self.chart_cache.chart(draw, *args, **kwargs)

    def cards(self, org: str, commune: str) -> list[dict]:
        cell = self.data.cell(org, commune)
        shown = [("members", "thành viên trên danh sách"), ("people", "người (không trùng giữa các tổ chức)"),
                 ("people_in_several_organisations", "người tham gia từ hai tổ chức trở lên"),
                 ("gathering_rate", "tỉ lệ tập hợp so với dân số thuộc đối tượng"),
                 ("sessions_held", f"buổi sinh hoạt trong {self.period_label}"),
                 ("attendances", f"lượt tham dự sinh hoạt trong {self.period_label}")]
        if org != ALL:
            shown = [s for s in shown if s[0] != "people"]  # one organisation: people = members
        return [{"label": label, "cell": value_cell(m, cell[m], cell["members"])} for m, label in shown]

    def row(self, first: Cell, org: str, commune: str) -> list[Cell]:
        cell = self.data.cell(org, commune)
        return [first, *(value_cell(m, cell[m], cell["members"]) for m in ROW_MEASURES)]

    def trend_section(self, org: str, commune: str) -> Section:
        """Members and active members by month (one organisation), or members by organisation (all)."""
        if org == ALL:
            present = [o for o in self.orgs if (o, commune) in self.data.series]
            members = {self.short(o): _numbers(self.data.series[o, commune]["members"]) for o in present}
            sessions = {self.short(o): _numbers(self.data.series[o, commune]["sessions_held"]) for o in present}
            first = "Thành viên theo tháng, theo tổ chức"
            second = "Buổi sinh hoạt theo tháng, theo tổ chức"
        else:
            series = self.data.series.get((org, commune), {})
            members = {"Thành viên": _numbers(series.get("members", [])),
                       "Thành viên hoạt động": _numbers(series.get("active_members", []))}
            sessions = {"Buổi sinh hoạt": _numbers(series.get("sessions_held", []))}
            first = "Thành viên và thành viên hoạt động theo tháng"
            second = "Buổi sinh hoạt theo tháng"
        measures = ("members", "active_members", "joined", "left_roll", "sessions_held", "attendances")
        # No row at all: no one in that cell in any month.
        values = self.data.series.get((org, commune)) or {m: [0] * len(self.months) for m in measures}
        rows = [[Cell(month), *(value_cell(m, values[m][i]) for m in measures)] for i, month in enumerate(self.months)]
        chart_list = []
        if any(not math.isnan(v) for vs in members.values() for v in vs):
            chart_list.append({"svg": self.chart(charts.lines, "chart-members", first, self.months, members, "người"),
                               "caption": first + " (12 tháng gần nhất; chỗ trống: số liệu được ẩn)."})
        if any(not math.isnan(v) for vs in sessions.values() for v in vs):
            chart_list.append({"svg": self.chart(charts.lines, "chart-sessions", second, self.months, sessions, "buổi"),
                               "caption": second + " (12 tháng gần nhất)."})
        return Section(
            id="xu-huong", title="Xu hướng 12 tháng",
            note="Thành viên hoạt động: có đóng hội phí/đoàn phí hoặc dự sinh hoạt trong tháng. Mới vào, ra khỏi "
                 "danh sách: so với tháng trước (tháng đầu tiên của bảng không có tháng trước để so).",
            charts=chart_list,
            table=Table(f"Số liệu theo tháng ({'mọi tổ chức' if org == ALL else self.name(org)})",
                        ["Tháng", *(LABELS[m] for m in measures)], rows))

    def commune_rows(self, org: str) -> list[list[Cell]]:
        rows = []
        for commune in self.data.communes:
            rows.append(self.row(Cell(commune.name, href=self.commune_path(commune)), org, commune.key))
        if (org, UNRESOLVED) in self.data.cells:
            rows.append(self.row(Cell("(chưa xác định xã, phường)"), org, UNRESOLVED))
        return rows

    # -- pages -------------------------------------------------------------------------------------
    def province(self) -> Page:
        by_org = [self.row(Cell(self.name(o), href=self.org_path(o)), o, ALL) for o in self.orgs]
        rates = [(self.short(o), self.data.cell(o, ALL)["gathering_rate"]) for o in self.orgs]
        rates = [(label, float(rate)) for label, rate in rates if rate is not None]
        organisations = Section(
            id="to-chuc", title="Theo tổ chức",
            note="Một người có thể là thành viên của nhiều tổ chức; mỗi tổ chức tính người đó một lần.",
            charts=[{"svg": self.chart(charts.bars, "chart-gathering", "Tỉ lệ tập hợp theo tổ chức",
                                       [r[0] for r in rates], [r[1] for r in rates], "tỉ lệ", percent=True),
                     "caption": "Tỉ lệ tập hợp: số thành viên trên dân số thuộc đối tượng của từng tổ chức."}]
            if rates else [],
            table=Table(f"Số liệu theo tổ chức, {self.period_label}", ["Tổ chức", *(LABELS[m] for m in ROW_MEASURES)],
                        [*by_org, self.row(Cell("Tất cả các tổ chức"), ALL, ALL)]))
        communes = Section(
            id="xa-phuong", title="Theo xã, phường",
            note="Xã, phường theo đơn vị hành chính mới (từ ngày 01/07/2025). Chọn tên để xem chi tiết.",
            table=Table(f"Số liệu theo xã, phường, {self.period_label}",
                        ["Xã/Phường", *(LABELS[m] for m in ROW_MEASURES)], self.commune_rows(ALL)))
        return Page("index.html", f"Thông tin hoạt động các tổ chức, {self.period_label}",
                    "Hoạt động của Mặt trận và các tổ chức chính trị - xã hội",
                    lead=f"Số liệu toàn tỉnh {self.period_label}, tổng hợp từ danh sách thành viên đã xác minh.",
                    cards=self.cards(ALL, ALL),
                    sections=[organisations, self.trend_section(ALL, ALL), communes])

    def organisation(self, org: str) -> Page:
        path = self.org_path(org)
        communes = Section(
            id="xa-phuong", title="Theo xã, phường",
            table=Table(f"{self.name(org)}: số liệu theo xã, phường, {self.period_label}",
                        ["Xã/Phường", *(LABELS[m] for m in ROW_MEASURES)], self.commune_rows(org)))
        return Page(path, f"{self.name(org)}, {self.period_label}", self.name(org),
                    lead=f"Số liệu toàn tỉnh {self.period_label}.", cards=self.cards(org, ALL),
                    sections=[self.trend_section(org, ALL), communes],
                    breadcrumb=[("Trang chủ", "index.html")])

    def commune(self, commune: Commune) -> Page:
        rows = [self.row(Cell(self.name(o), href=self.org_path(o)), o, commune.key) for o in self.orgs]
        rows.append(self.row(Cell("Tất cả các tổ chức"), ALL, commune.key))
        # No chart of this month by organisation: the trend below ends with it, the table gives it.
        by_org = Section(
            id="to-chuc", title="Theo tổ chức",
            table=Table(f"{commune.name}: số liệu theo tổ chức, {self.period_label}",
                        ["Tổ chức", *(LABELS[m] for m in ROW_MEASURES)], rows))
        lead = (f"Gồm địa bàn trước ngày 01/07/2025 của: {', '.join(commune.old_names)}."
                if commune.old_names else "")
        return Page(self.commune_path(commune), f"{commune.name}, {self.period_label}", commune.name, lead=lead,
                    cards=self.cards(ALL, commune.key),
                    sections=[by_org, self.trend_section(ALL, commune.key)],
                    breadcrumb=[("Trang chủ", "index.html")])

    def search(self) -> Page:
        return Page("tim-kiem.html", "Tìm xã, phường", "Tìm xã, phường",
                    lead="Gõ tên xã, phường mới hoặc tên cũ (trước ngày 01/07/2025); có dấu hay không dấu đều được.",
                    template="search.html.j2", breadcrumb=[("Trang chủ", "index.html")])

    def page_specs(self) -> list[tuple[str, tuple]]:
        """Every page as (method, arguments), in site order: what another process needs to build it."""
        return [("province", ()), *(("organisation", (o,)) for o in self.orgs),
                *(("commune", (c,)) for c in self.data.communes), ("search", ())]

    def search_index(self) -> list[dict]:
        entries = [{"n": c.name, "o": "; ".join(c.old_names), "k": "Xã/Phường", "u": self.commune_path(c)}
                   for c in self.data.communes]
        entries += [{"n": self.name(o), "o": self.short(o), "k": "Tổ chức", "u": self.org_path(o)} for o in self.orgs]
        return entries


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, keep_trailing_newline=True)
    env.globals["hidden_note"] = HIDDEN_NOTE
    return env


# Each page's charts take most of a build (matplotlib lays out every tick label: ~0.1 s a chart,
# two a commune), so pages are rendered in worker processes from this many pages up.
MIN_PAGES_FOR_WORKERS = 24
_worker: tuple[SiteBuilder, Environment] | None = None


def _start_worker(data: SiteData, org_names: dict[str, str], short_names: dict[str, str],
                  chart_cache: charts.ChartCache | None = None) -> None:
    global _worker
    _worker = (SiteBuilder(data, org_names, short_names, chart_cache), _environment())


def _render_page(spec: tuple[str, tuple]) -> tuple[str, str, int]:
    """One page's path, HTML and charts drawn into the chart cache (0 without one), in the process
    ``_start_worker`` prepared."""
    builder, env = _worker
    method, args = spec
    cache = builder.chart_cache
    before = cache.drawn if cache else 0
    page = getattr(builder, method)(*args)
    html = env.get_template(page.template).render(page=page, root=page.root, period_label=builder.period_label)
    return page.path, html, (cache.drawn if cache else 0) - before


def write_site(data: SiteData, folder: Path, org_names: dict[str, str], short_names: dict[str, str],
               workers: int | None = None, chart_cache: Path | None = None) -> list[Path]:
    """Render every page into `folder` (its content replaced as a whole, so no stale page survives).
    ``workers``: processes rendering pages (default: one per core from MIN_PAGES_FOR_WORKERS pages
    up); ``chart_cache``: a folder keeping the charts between builds (lienthong.review.charts.ChartCache),
    the charts this build did not ask for removed after it. The bytes are the same either way."""
    started = time.time()
    builder = SiteBuilder(data, org_names, short_names)
    specs = builder.page_specs()
    staging = folder.with_name(folder.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(STATIC, staging)
    index = json.dumps(builder.search_index(), ensure_ascii=False, separators=(",", ":"))
    # A script, not a .json fetched at run time: browsers refuse fetch() on pages opened from disk.
    (staging / "search-index.js").write_text(f"window.LIENTHONG_SEARCH = {index};\n", encoding="utf-8")
    rendered: dict[int, tuple[str, str, int]] = {}
    cache = charts.ChartCache(chart_cache) if chart_cache is not None else None
    if cache is not None:
        # The pages whose charts are all kept render here at once (on a night, most of them: under a
        # second for the demo's 103, where starting two workers costs 15 s under load); only the rest
        # go to the workers.
        _start_worker(data, org_names, short_names, charts.ChartCache(chart_cache, draw_missing=False))
        for number, spec in enumerate(specs):
            with contextlib.suppress(charts.NotCached):
                rendered[number] = _render_page(spec)
    to_draw = [number for number in range(len(specs)) if number not in rendered]
    workers = worker_count(len(to_draw), MIN_PAGES_FOR_WORKERS) if workers is None else workers
    if to_draw:
        rendered.update(zip(to_draw, map_in_workers(_render_page, [specs[number] for number in to_draw], workers,
                                                    _start_worker, (data, org_names, short_names, cache))))
    written = []
    for number in range(len(specs)):
        path, html, _drawn = rendered[number]
        target = staging / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        written.append(folder / path)
    drawn = sum(page_drawn for _path, _html, page_drawn in rendered.values())
    if cache is not None:
        removed = cache.prune(started - 2)
        log.info("site: %d pages with every chart kept, %d with charts to draw (%d drawn, in %d process(es)); "
                 "%d charts no longer used removed from %s", len(specs) - len(to_draw), len(to_draw), drawn, workers,
                 removed, chart_cache)
    # Published pages, aggregates only: readable by the web server's account, whatever the umask
    # (the rest of the output folder is the owner's alone).
    for path in [staging, *staging.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    # Swap the content, keep the folder: a web server may have it bind-mounted (docker compose), and
    # a replaced folder would leave it serving the old, deleted one.
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    for old in folder.iterdir():
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()
    for new in staging.iterdir():
        new.rename(folder / new.name)
    staging.rmdir()
    return written


def build_site(url: str, period_key: str, output_dir: Path, chart_cache: Path | None = None) -> list[Path]:
    """Read the month's aggregates as the analyst role and write the site to output_dir/site."""
    organisations = load_organisations()
    data = read_site_data(url, period_key)
    return write_site(data, site_folder(output_dir), {o.code: o.name for o in organisations},
                      {o.code: o.short_name for o in organisations}, chart_cache=chart_cache)
