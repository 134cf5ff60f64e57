"""Fault fixtures: deliveries written or served for whichever sample organisation has the shape a
case needs (a CSV full roll, a paged API with a declared total), from its config, never by name."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from lienthong.config.organisations import load_organisations
from lienthong.landing.checks import DATE_FIELDS
from lienthong.landing.raw import is_full_roll
from lienthong.warehouse import connect

# A plausible value per canonical field: required fields filled, dates and IDs readable.
VALUES = {"full_name": "Nguyễn Thị Hồng {n}", "birth_date": "05/03/1990", "sex": "Nữ", "id_number": "{id}",
          "commune": "Xã Tân Lập", "hamlet": "Ấp 1", "unit_name": "Chi hội Ấp 1", "unit_code": "U1",
          "joined_on": "01/01/2015", "source_row_no": "{n}", "member_code": "M{n}", "phone": "0912345678"}


def value(field: str, n: int) -> str:
    if field in DATE_FIELDS:
        return VALUES.get(field, "01/01/2015")
    return VALUES.get(field, "x").format(n=n, id=f"{72190000000 + n:012d}")


@pytest.fixture
def csv_roll(project_env):
    """(organisation, roster entity, write(day, rows or lines) -> path) for a UTF-8 CSV full roll."""
    org, entity = next((o, e) for o in load_organisations() for e in o.entities
                       if is_full_roll(e) and e.connector.type == "file" and e.connector.format == "csv"
                       and e.connector.encoding.startswith("utf"))
    connector = entity.connector
    header = connector.delimiter.join(entity.columns)

    def line(n: int) -> str:
        return connector.delimiter.join(value(field, n) for field in entity.columns.values())

    def write(day, rows: int | list[str], *, end: str = "\n") -> Path:
        lines = [line(n) for n in range(1, rows + 1)] if isinstance(rows, int) else rows
        path = project_env / "drop" / connector.path.format(date=day.isoformat())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(("\n".join([header, *lines]) + end).encode(connector.encoding))
        return path

    write.line = line
    return org, entity, write


class FakeSource:
    """A paged JSON API answering like the organisation's connector expects (page style), whose
    content and faults the test sets: items, an empty page from page N on, a failing page."""

    def __init__(self, entity):
        self.entity = entity
        self.items: list = []
        self.empty_from: int | None = None
        self.failing_page: int | None = None
        self.raw_pages: dict[int, bytes] = {}
        self.requested: list[int] = []
        paging = entity.connector.paging
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                query = {k: v[-1] for k, v in parse_qs(urlparse(self.path).query).items()}
                page, size = int(query[paging.page_param]), int(query[paging.size_param])
                source.requested.append(page)
                status, payload = 200, source.page(page, size)
                if page == source.failing_page:
                    status, payload = 404, b'{"error": "gone"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def page(self, number: int, size: int) -> bytes:
        if number in self.raw_pages:
            return self.raw_pages[number]
        paging = self.entity.connector.paging
        chunk = [] if self.empty_from and number >= self.empty_from else self.items[(number - 1) * size:number * size]
        body = {paging.items_key: chunk, paging.page_param: number}
        body[paging.total_key] = len(self.items)
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    def item(self, n: int) -> dict:
        return {native: value(field, n) for native, field in self.entity.columns.items()}


@pytest.fixture
def api_roster(project_env, monkeypatch):
    """(organisation, roster entity, FakeSource) for a paged API roster with a declared total."""
    org, entity = next((o, e) for o in load_organisations() for e in o.entities if e.kind == "roster"
                       and e.connector.type == "api" and e.connector.paging.style == "page"
                       and e.connector.paging.total_key and "." not in e.connector.paging.total_key)
    source = FakeSource(entity)
    monkeypatch.setenv(f"AIRFLOW_CONN_{entity.connector.conn_id.upper()}",
                       f"http://:token@127.0.0.1:{source.http.server_port}")
    yield org, entity, source
    source.http.shutdown()


def batches(url, org_code: str, kind: str) -> list[tuple]:
    """(delivery_date, status, row_count, quarantined_count) of every batch, oldest first."""
    with connect(url) as conn:
        return conn.execute("select delivery_date, status, row_count, quarantined_count from raw.batches"
                            " where org_code = %s and entity = %s order by batch_id", (org_code, kind)).fetchall()


def live_rows(url, org_code: str, kind: str) -> list[tuple]:
    """(delivery_date, row_number) of the rows staging reads (live batches only)."""
    with connect(url) as conn:
        return conn.execute(
            f'select r.delivery_date, r.row_number from raw."{org_code}__{kind}" r join raw.batches b'
            " on b.batch_id = r.batch_id and b.status = 'loaded' order by 1, 2").fetchall()


def accounted(url, batch_id: int) -> tuple[int, int, int]:
    """(rows in the raw table, quarantined rows, distinct row numbers over both) of one batch."""
    with connect(url) as conn:
        kind = conn.execute("select org_code || '__' || entity from raw.batches where batch_id = %s",
                            (batch_id,)).fetchone()[0]
        rows = conn.execute(f'select count(*) from raw."{kind}" where batch_id = %s', (batch_id,)).fetchone()[0]
        quarantined = conn.execute("select count(*) from raw.quarantine where batch_id = %s", (batch_id,)).fetchone()[0]
        distinct = conn.execute(
            f'select count(distinct row_number) from (select row_number from raw."{kind}" where batch_id = %s'
            " union all select row_number from raw.quarantine where batch_id = %s) n",
            (batch_id, batch_id)).fetchone()[0]
    return rows, quarantined, distinct
