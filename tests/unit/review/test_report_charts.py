"""The report's charts are drawn only where shown: the HTML draws each once, the workbook (tables only,
built from the same sections) never."""
from datetime import date
from pathlib import Path

from lienthong.review.report import Period, Section, Table, render_html
from lienthong.review.workbook import write_workbook


class _NoRows:
    """A connection whose every query gives no row, with its row count as psycopg's cursor gives it."""

    class _Cursor(list):
        rowcount = 0

    def execute(self, *_args):
        return self._Cursor()


def test_a_chart_is_drawn_once_for_the_html_and_never_for_the_workbook(tmp_path: Path):
    drawn = []

    def draw():
        drawn.append(1)
        return '<svg id="chart-x"></svg>'

    period = Period("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30))
    sections = [Section(id="x", title="Tiêu đề", draw=draw, table=Table(["Tổ chức"], [["org_a"]]))]
    write_workbook(_NoRows(), period, sections, {}, tmp_path / "review.xlsx")
    assert drawn == []
    html = render_html(sections, period, period.last) + render_html(sections, period, period.last)
    assert html.count('<svg id="chart-x">') == 2 and drawn == [1]
