"""A small local HTTP server for the organisations that deliver through an API (shapes with
``transport: api``): paged JSON behind a bearer token, filtered by delivery date, served on
127.0.0.1 from the JSON-lines files of a generated sample.

Routes, for an organisation whose shape says ``api: {prefix: P, paging: page|offset}``:
- ``GET P/dates`` -> the delivery dates available;
- ``GET P/<resource>?<date>=YYYY-MM-DD&...`` -> one page of that day's rows. ``page`` paging uses
  ``ngay``, ``trang``, ``so_dong`` and answers ``{ngay, trang, so_dong, tong_so, tong_so_trang, du_lieu}``;
  ``offset`` paging uses ``date``, ``offset``, ``limit`` and answers ``{data, paging: {offset, limit,
  total, next}}``. Without a date, every day's rows in date order.
A missing or wrong token gets 401; an unknown route 404; a bad parameter 400. In a sample of several
provinces each provincial branch's roll is served under its code: ``/<org>_<code>P/...``.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

from lienthong.sample.deliveries import load_shapes

DEFAULT_TOKEN = "lienthong-sample-token"
DEFAULT_PORT = 8765
_PAGING = {
    "page": {"date": "ngay", "page": "trang", "size": "so_dong", "default_size": 500, "max_size": 5000},
    "offset": {"date": "date", "page": "offset", "size": "limit", "default_size": 1000, "max_size": 10000},
}


class SampleApi:
    """Routing and paging over a generated sample directory (no HTTP here, so tests can call it)."""

    def __init__(self, data: Path, token: str = DEFAULT_TOKEN):
        self.data = Path(data)
        self.token = token
        self.routes: dict[str, tuple[str, str, dict]] = {}  # path -> (roll, org of its shape, file spec)
        self.prefixes: dict[str, str] = {}
        for roll, org in _rolls(self.data):
            shape = load_shapes()[org]
            if shape.get("transport") != "api":
                continue
            # A provincial branch's roll is served under its code, before the organisation's prefix.
            prefix = ("" if roll == org else f"/{roll}") + shape["api"]["prefix"].rstrip("/")
            self.prefixes[prefix] = roll
            for spec in shape["files"].values():
                self.routes[f"{prefix}/{spec['resource']}"] = (roll, org, spec)

    def dates(self, org: str) -> list[str]:
        folder = self.data / "deliveries" / org
        return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    @lru_cache(maxsize=8)
    def _lines(self, org: str, day: str, name: str) -> list[str]:
        """The day's rows as the JSON text they are stored in, served without parsing (a province day is
        millions of rows)."""
        path = self.data / "deliveries" / org / day / name
        if not path.exists():
            return []
        with path.open(encoding="utf-8") as handle:
            return handle.readlines()

    def handle(self, url: str, authorization: str | None) -> tuple[int, dict]:
        if authorization != f"Bearer {self.token}":
            return HTTPStatus.UNAUTHORIZED, {"error": "missing or invalid bearer token"}
        parsed = urlparse(url)
        path = parsed.path.rstrip("/")
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        if path.endswith("/dates") and path[: -len("/dates")] in self.prefixes:
            return HTTPStatus.OK, {"dates": self.dates(self.prefixes[path[: -len("/dates")]])}
        if path not in self.routes:
            return HTTPStatus.NOT_FOUND, {"error": f"no such resource: {path}"}
        roll, org, spec = self.routes[path]
        paging = _PAGING[load_shapes()[org]["api"]["paging"]]
        try:
            start_or_page = int(query.get(paging["page"], 1 if paging["page"] == "trang" else 0))
            size = int(query.get(paging["size"], paging["default_size"]))
        except ValueError:
            return HTTPStatus.BAD_REQUEST, {"error": "paging parameters must be integers"}
        if size < 1 or size > paging["max_size"] or start_or_page < (1 if paging["page"] == "trang" else 0):
            return HTTPStatus.BAD_REQUEST, {"error": "paging parameters out of range"}
        day = query.get(paging["date"])
        available = self.dates(roll)
        if day is not None and day not in available and not _is_date(day):
            return HTTPStatus.BAD_REQUEST, {"error": f"{paging['date']} must be YYYY-MM-DD"}
        days = [day] if day else available
        # One day (the usual request) pages its cached lines directly; copying them per page made
        # paging a province day quadratic.
        lines = self._lines(roll, days[0], spec["name"]) if len(days) == 1 else [
            line for d in days for line in self._lines(roll, d, spec["name"])]
        first = (start_or_page - 1) * size if paging["page"] == "trang" else start_or_page
        page = RawItems(lines[first:first + size])
        if paging["page"] == "trang":
            return HTTPStatus.OK, {
                "ngay": day, "trang": start_or_page, "so_dong": size, "tong_so": len(lines),
                "tong_so_trang": (len(lines) + size - 1) // size, "du_lieu": page}
        following = None
        if start_or_page + size < len(lines):
            following = f"{path}?{urlencode({**query, 'offset': start_or_page + size, 'limit': size})}"
        return HTTPStatus.OK, {"data": page,
                               "paging": {"offset": start_or_page, "limit": size, "total": len(lines), "next": following}}


class RawItems(tuple):
    """A page's items as the JSON lines the sample stores them in: served as they are (parsing and
    re-encoding every item made the sample source, not the landing, most of an API ingest's time)."""


def encode(body: dict) -> bytes:
    """The answer's JSON; RawItems spliced in as they are."""
    return ("{" + ", ".join(
        f"{json.dumps(key)}: " + ("[" + ",".join(line.rstrip("\r\n") for line in value) + "]"
                                  if isinstance(value, RawItems) else json.dumps(value, ensure_ascii=False))
        for key, value in body.items()) + "}").encode("utf-8")


def _rolls(data: Path) -> list[tuple[str, str]]:
    """(roll, organisation whose shape it sends): one per shape, or in a sample of several
    provinces one per provincial branch (the manifest names their organisation)."""
    manifest = data / "manifest.json"
    entries = json.loads(manifest.read_text(encoding="utf-8")) if manifest.exists() else {}
    if "provinces" not in entries:
        return [(org, org) for org in load_shapes()]
    return [(roll, entry["organisation"]) for roll, entry in entries["organisations"].items()]


def _is_date(text: str) -> bool:
    parts = text.split("-")
    return len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[0]) == 4


def make_server(data: Path, port: int = DEFAULT_PORT, token: str = DEFAULT_TOKEN) -> ThreadingHTTPServer:
    """A server bound to 127.0.0.1 (port 0 picks a free port: read ``server.server_port``)."""
    api = SampleApi(data, token)

    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as any real API: HTTP/1.0 made every page a new connection. The headers and the
        # body are two writes: without TCP_NODELAY the second waits for the client's delayed ACK (40 ms).
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self):  # noqa: N802 (http.server's naming)
            status, body = api.handle(self.path, self.headers.get("Authorization"))
            payload = encode(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format, *args):  # quiet in tests; the CLI prints its own line
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def serve_in_background(data: Path, port: int = 0, token: str = DEFAULT_TOKEN) -> ThreadingHTTPServer:
    """Start a server on a thread (a test fixture); stop it with ``server.shutdown()``."""
    server = make_server(data, port, token)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
