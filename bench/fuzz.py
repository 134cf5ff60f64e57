"""Fuzz the landing: mutated deliveries of every format through the real ingest, into a real PostgreSQL.

    uv run python bench/fuzz.py --files 1000 --seed S [--sample DIR]

Seeds are the tiny sample's first-day deliveries (generated, seed 11, unless --sample names one),
cut to their first 200 rows: CSV in UTF-8, TCVN3, VNI and Windows-1258 (comma and semicolon),
XLSX, and the two paged JSON APIs (page and offset paging, served here page by page). Each fuzzed
file is one delivery day of one organisation's entity, mutated one way: byte flips, truncation,
NUL bytes, a wrong delimiter, an unbalanced quote, undecodable bytes, hostile text, a header-only
or empty file; for the APIs also nested and deeply nested values, items that are not objects, NUL
escapes, lone surrogates, an empty page from page N on, a page that is not JSON, a total that
changes mid-way; and a few organisation configs with values that must fail validation.

Each file then counts as one of:
- an error the project means (SourceError, OrganisationConfigError): it must leave no batch for the
  day, and name a position (line, row, page, item, byte, or the header) unless it is about the
  whole file (an empty file, a workbook that cannot be opened);
- a crash: any other exception, counted by type;
- a hang: no outcome within --timeout seconds;
- a landing: rows in (counted here, independently: non-blank physical lines after the header, the
  sheet's non-empty rows, the items the API holds) must equal landed + quarantined (+ held, which
  are landed rows of a held batch), with no row number twice; a delivery short of what it holds
  may only land as held. Truncated files that went live are counted separately.
Prints one line per problem, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import yaml

SEED_ROWS = 200
API_PAGE_SIZE = 50
FIRST_DAY = date(2031, 1, 1)  # fuzzed days: after anything the sample delivers
HOSTILE = [
    '=HYPERLINK("http://example.invalid","x")', "\u202eevil\u202c", "'; drop table raw.batches; --",
    "x" * 5000, "\u0301" * 300, "Nguyễn\u2028Văn", "🙂" * 50, "\\N", "\\.", "\t\t", "NULL",
    "Trần\u00a0Thị", "a\rb", "\ufeffBOM", "%s%s%n", "{date}", "\x1b[31mred",
]
POSITION = re.compile(r"\b(line|lines|row|page|item|byte offset|header)\b", re.IGNORECASE)
WHOLE_FILE = re.compile(r"is empty|not a readable XLSX|no sheet|cannot be read:", re.IGNORECASE)


class Hang(Exception):
    pass


# ---------------------------------------------------------------------------------------- seeds
def seeds(sample: Path, day: date, configs) -> list[dict]:
    """One seed per delivered (organisation, entity) of the day: its format and its content."""
    found = []
    for org in configs:
        for entity in org.entities:
            c = entity.connector
            if c.type == "file":
                path = sample / "deliveries" / c.path.format(date=day.isoformat())
                if not path.exists():
                    continue
                if c.format == "xlsx":
                    from python_calamine import CalamineWorkbook

                    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()[:SEED_ROWS + 1]
                    found.append({"org": org.code, "kind": entity.kind, "format": "xlsx", "rows": rows})
                else:
                    lines = path.read_bytes().splitlines(keepends=True)[:SEED_ROWS + 1]
                    found.append({"org": org.code, "kind": entity.kind, "format": f"csv_{c.encoding}",
                                  "bytes": b"".join(lines), "delimiter": c.delimiter, "encoding": c.encoding})
            elif c.type == "api":
                name = {"doan-vien": "doan_vien", "doan-phi": "doan_phi", "sinh-hoat": "sinh_hoat",
                        "bao-cao": "bao_cao", "members": "members", "dues": "dues", "activities": "activities",
                        "reported-totals": "reported_totals"}[c.resource.rsplit("/", 1)[-1]]
                path = sample / "deliveries" / org.code / day.isoformat() / f"{name}.jsonl"
                if not path.exists():
                    continue
                items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:SEED_ROWS]]
                if items:
                    found.append({"org": org.code, "kind": entity.kind, "format": f"api_{c.paging.style}",
                                  "items": items, "resource": c.resource, "paging": c.paging})
    return found


# ------------------------------------------------------------------------------------ mutations
def mutate_text(rng: random.Random, seed: dict) -> tuple[str, bytes]:
    data = bytearray(seed["bytes"])
    header_end = data.index(b"\n") + 1
    delimiter = seed["delimiter"].encode()
    kind = rng.choice(["byte_flip", "truncate", "nul", "wrong_delimiter", "unbalanced_quote", "bad_bytes",
                       "hostile_text", "header_only", "empty", "crlf_mix", "blank_lines"])
    if kind == "byte_flip":
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == "truncate":
        data = data[:rng.randrange(header_end, len(data))]
    elif kind == "nul":
        for _ in range(rng.randint(1, 3)):
            data.insert(rng.randrange(header_end, len(data)), 0)
    elif kind == "wrong_delimiter":
        data = data.replace(delimiter, rng.choice([b";", b",", b"\t", b"|"]).replace(delimiter, b"\t"))
    elif kind == "unbalanced_quote":
        lines = data.split(b"\n")
        target = rng.randrange(1, max(2, len(lines) - 1))
        cells = lines[target].split(delimiter)
        at = rng.randrange(len(cells))
        cells[at] = b'"' + cells[at]
        lines[target] = delimiter.join(cells)
        data = bytearray(b"\n".join(lines))
    elif kind == "bad_bytes":
        data.insert(rng.randrange(header_end, len(data)), rng.choice([0x81, 0x8d, 0x90, 0xff, 0xc3, 0xe2]))
    elif kind == "hostile_text":
        text = HOSTILE[rng.randrange(len(HOSTILE))]
        encoded = text.encode("utf-8") if seed["encoding"].startswith("utf") else text.encode("cp1252", "replace")
        lines = data.split(b"\n")
        target = rng.randrange(1, max(2, len(lines) - 1))
        cells = lines[target].split(delimiter)
        cells[rng.randrange(len(cells))] = encoded
        lines[target] = delimiter.join(cells)
        data = bytearray(b"\n".join(lines))
    elif kind == "header_only":
        data = data[:header_end]
    elif kind == "empty":
        data = bytearray()
    elif kind == "crlf_mix":
        data = data.replace(b"\n", rng.choice([b"\r\n", b"\r", b"\n\r\n"]), rng.randint(1, 50))
    elif kind == "blank_lines":
        for _ in range(rng.randint(1, 5)):
            data.insert(rng.randrange(header_end, len(data)), 10)
    return kind, bytes(data)


def mutate_xlsx(rng: random.Random, seed: dict, path: Path) -> str:
    import xlsxwriter

    rows = [list(r) for r in seed["rows"]]
    kind = rng.choice(["hostile_text", "nul_text", "header_only", "empty_sheet", "byte_flip", "truncate",
                       "wrong_types"])
    if kind == "hostile_text":
        for _ in range(rng.randint(1, 5)):
            row = rows[rng.randrange(1, len(rows))]
            row[rng.randrange(len(row))] = HOSTILE[rng.randrange(len(HOSTILE))]
    elif kind == "nul_text":
        row = rows[rng.randrange(1, len(rows))]
        row[rng.randrange(len(row))] = "Lê\x00Văn"
    elif kind == "header_only":
        rows = rows[:1]
    elif kind == "empty_sheet":
        rows = []
    elif kind == "wrong_types":
        for _ in range(rng.randint(1, 5)):
            row = rows[rng.randrange(1, len(rows))]
            row[rng.randrange(len(row))] = rng.choice([3.5, -1, 10 ** 15, True, date(1900, 1, 1)])
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, workbook.add_format({"num_format": "yyyy-mm-dd"}))
            elif value not in ("", None):
                sheet.write(r, c, value)
    workbook.close()
    if kind in ("byte_flip", "truncate"):
        data = bytearray(path.read_bytes())
        if kind == "byte_flip":
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            data = data[:rng.randrange(len(data))]
        path.write_bytes(bytes(data))
    return kind


def api_pages(rng: random.Random, seed: dict) -> tuple[str, list[bytes], int]:
    """(mutation, page bodies as served, items the source holds)."""
    items = [dict(i) for i in seed["items"]]
    kind = rng.choice(["byte_flip", "truncate_page", "raw_nul", "nul_escape", "nested_value", "deep_nesting",
                       "not_objects", "empty_page_from_n", "hostile_text", "lone_surrogate", "body_not_object",
                       "total_changes"])

    def some_item():
        return items[rng.randrange(len(items))]

    if kind == "nul_escape":
        item = some_item()
        item[rng.choice(list(item))] = "Lê\x00Văn"
    elif kind == "nested_value":
        item = some_item()
        item[rng.choice(list(item))] = rng.choice([{"a": [1, {"b": 2}]}, [1, 2, 3], {}])
    elif kind == "not_objects":
        for _ in range(rng.randint(1, 3)):
            items[rng.randrange(len(items))] = rng.choice([42, "text", None, [1, 2], True])
    elif kind == "hostile_text":
        for _ in range(rng.randint(1, 5)):
            item = some_item()
            item[rng.choice(list(item))] = HOSTILE[rng.randrange(len(HOSTILE))]
    elif kind in ("deep_nesting", "lone_surrogate"):
        item = some_item()
        item[rng.choice(list(item))] = "@@MARK@@"  # replaced in the JSON text below
    style = seed["paging"].style
    size = API_PAGE_SIZE
    chunks = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
    total = len(items)
    bodies = []
    for number, chunk in enumerate(chunks, start=1):
        declared = total + 7 if kind == "total_changes" and number == 2 else total
        if style == "page":
            body = {"ngay": "x", "trang": number, "so_dong": size, "tong_so": declared,
                    "tong_so_trang": len(chunks), "du_lieu": chunk}
        else:
            body = {"data": chunk, "paging": {"offset": (number - 1) * size, "limit": size, "total": declared,
                                              "next": None}}
        bodies.append(json.dumps(body, ensure_ascii=False).encode("utf-8"))
    target = rng.randrange(len(bodies))
    if kind == "byte_flip":
        page = bytearray(bodies[target])
        for _ in range(rng.randint(1, 6)):
            page[rng.randrange(len(page))] = rng.randrange(256)
        bodies[target] = bytes(page)
    elif kind == "truncate_page":
        bodies[target] = bodies[target][:rng.randrange(len(bodies[target]))]
    elif kind == "raw_nul":
        page = bytearray(bodies[target])
        page.insert(rng.randrange(len(page)), 0)
        bodies[target] = bytes(page)
    elif kind == "deep_nesting":
        depth = rng.choice([2000, 20000, 100000])
        bodies = [b.replace(b'"@@MARK@@"', b"[" * depth + b"1" + b"]" * depth) for b in bodies]
    elif kind == "lone_surrogate":
        bodies = [b.replace(b"@@MARK@@", b"L\\ud800e") for b in bodies]
    elif kind == "empty_page_from_n":
        cut = rng.randrange(len(bodies))
        for number in range(cut, len(bodies)):
            body = json.loads(bodies[number])
            (body.__setitem__("du_lieu", []) if style == "page" else body.__setitem__("data", []))
            bodies[number] = json.dumps(body).encode()
    elif kind == "body_not_object":
        bodies[target] = json.dumps([1, 2, 3]).encode()
    return kind, bodies, len(items)


class PageServer:
    """Serves the current file's page bodies for any resource and day: page N by its number or offset."""

    def __init__(self):
        self.bodies: list[bytes] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                query = {k: v[-1] for k, v in parse_qs(urlparse(self.path).query).items()}
                if "trang" in query:
                    index = int(query["trang"]) - 1
                else:
                    index = int(query.get("offset", 0)) // API_PAGE_SIZE
                if 0 <= index < len(server.bodies):
                    payload = server.bodies[index]
                else:  # past the end: an empty page of the same shape
                    payload = b'{"du_lieu": [], "tong_so": 0, "data": [], "paging": {"total": 0}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


# ------------------------------------------------------------------------------------- counting
def csv_rows_in(data: bytes, delimiter: str) -> int:
    """Non-blank physical lines after the first, split as a text file opened with newline=''."""
    lines = list(io.StringIO(data.decode("latin-1"), newline=""))
    junk = f"{delimiter}\"\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0 "
    return sum(1 for line in lines[1:] if line.strip(junk))


def xlsx_rows_in(path: Path) -> int | None:
    from python_calamine import CalamineWorkbook

    try:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    except BaseException:  # noqa: BLE001 — unreadable: the landing must say so
        return None
    return sum(1 for r in rows[1:] if any(v not in ("", None) for v in r))


# ------------------------------------------------------------------------------------------ run
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--sample", type=Path, help="a generated sample (default: generate tiny, seed 11)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a file counts as a hang")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lienthong-fuzz-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> None:
    from lienthong.config.organisations import CONFIG_DIR, load_organisations
    from lienthong.ports import free_port
    from lienthong.warehouse import connect, ensure_ready
    from lienthong.warehouse.embedded import EmbeddedPostgres

    sample = args.sample
    if sample is None:
        from lienthong.sample import generate

        sample = work / "sample"
        generate(scale="tiny", seed=11, out=sample)
    first = date.fromisoformat(json.loads((sample / "manifest.json").read_text())["deliveries"]["from"])

    # The project's configs with smaller API pages (several pages per delivery), in a folder of our own.
    config_dir = work / "configs"
    config_dir.mkdir()
    for path in sorted(CONFIG_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entity in data["entities"]:
            if entity["connector"]["type"] == "api":
                entity["connector"]["paging"]["page_size"] = API_PAGE_SIZE
                entity["connector"]["max_attempts"] = 1
        (config_dir / path.name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for folder in (p for p in CONFIG_DIR.iterdir() if p.is_dir()):  # files the configs name (quality rules)
        shutil.copytree(folder, config_dir / folder.name)
    os.environ["LIENTHONG_ORG_CONFIG_DIR"] = str(config_dir)
    drop = work / "drop"
    os.environ.update(LIENTHONG_DROP_DIR=str(drop), LIENTHONG_STATE_DIR=str(work / "state"),
                      LIENTHONG_OUTPUT_DIR=str(work / "output"))
    pages = PageServer()
    for conn_id in {e.connector.conn_id for o in load_organisations() for e in o.entities if e.connector.type == "api"}:
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = f"http://:token@127.0.0.1:{pages.http.server_port}"

    server = EmbeddedPostgres(work / "pgdata", free_port())
    url = server.start()
    os.environ["LIENTHONG_WAREHOUSE_URL"] = url
    ensure_ready(url)
    from lienthong.landing.raw import ensure_raw_tables

    with connect(url) as conn:  # so that an error on the first file finds raw.batches to check
        for org in load_organisations():
            ensure_raw_tables(conn, org)
    try:
        figures = fuzz(args, sample, first, config_dir, drop, pages, url, connect)
    finally:
        pages.http.shutdown()
        server.stop()
    print(json.dumps(figures, sort_keys=True))


def fuzz(args, sample, first, config_dir, drop, pages, url, connect) -> dict:
    from lienthong.config.organisations import OrganisationConfigError, load_organisation, load_organisations
    from lienthong.landing.ingest import ingest
    from lienthong.sources.base import SourceError, SourceUnavailableError

    rng = random.Random(args.seed)
    bases = seeds(sample, first, load_organisations())
    crashes: Counter = Counter()
    by_format: Counter = Counter()
    figures = {"seed": args.seed, "files": 0, "landed": 0, "held": 0, "clear_errors": 0, "hangs": 0,
               "accounting_violations": 0, "errors_lacking_a_position": 0, "truncated_made_live": 0,
               "config_files": 0}

    def alarm(*_):
        raise Hang()

    signal.signal(signal.SIGALRM, alarm)
    started = time.monotonic()
    for number in range(args.files):
        day = FIRST_DAY + timedelta(days=number)
        if rng.random() < 0.02:
            figures["config_files"] += 1
            figures["files"] += 1
            problem = config_case(rng, config_dir, load_organisation, OrganisationConfigError)
            if problem:
                crashes[problem] += 1
                print(f"[{number}] config: crash {problem}")
            continue
        seed = bases[rng.randrange(len(bases))]
        fmt = seed["format"]
        entity = next(e for e in load_organisations() if e.code == seed["org"]).entity(seed["kind"])
        rows_in, truncated = None, False
        if fmt.startswith("csv"):
            mutation, data = mutate_text(rng, seed)
            path = drop / entity.connector.path.format(date=day.isoformat())
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            rows_in = csv_rows_in(data, seed["delimiter"]) if data else None
            truncated = mutation == "truncate" and not data.endswith((b"\n", b"\r"))
        elif fmt == "xlsx":
            path = drop / entity.connector.path.format(date=day.isoformat())
            path.parent.mkdir(parents=True, exist_ok=True)
            mutation = mutate_xlsx(rng, seed, path)
            rows_in = xlsx_rows_in(path)
            truncated = mutation == "truncate"
        else:
            mutation, pages.bodies, rows_in = api_pages(rng, seed)
            truncated = mutation == "empty_page_from_n"
        figures["files"] += 1
        by_format[fmt] += 1
        label = f"[{number}] {seed['org']}/{seed['kind']} {fmt} {mutation}"
        signal.setitimer(signal.ITIMER_REAL, args.timeout)
        try:
            result = ingest(seed["org"], seed["kind"], day)
        except Hang:
            figures["hangs"] += 1
            print(f"{label}: hang")
            continue
        except (SourceError, SourceUnavailableError, OrganisationConfigError) as err:
            signal.setitimer(signal.ITIMER_REAL, 0)
            figures["clear_errors"] += 1
            message = str(err)
            if not POSITION.search(message) and not WHOLE_FILE.search(message):
                figures["errors_lacking_a_position"] += 1
                print(f"{label}: error without a position: {message[:200]}")
            with connect(url) as conn:
                left = conn.execute("select count(*) from raw.batches where delivery_date = %s", (day,)).fetchone()[0]
            if left:
                figures["accounting_violations"] += 1
                print(f"{label}: the error left {left} batch(es) behind")
            continue
        except BaseException as err:  # noqa: BLE001 — a crash is what this bench counts
            signal.setitimer(signal.ITIMER_REAL, 0)
            if isinstance(err, KeyboardInterrupt):
                raise
            crashes[type(err).__name__] += 1
            print(f"{label}: crash {type(err).__name__}: {str(err)[:160]}")
            continue
        signal.setitimer(signal.ITIMER_REAL, 0)
        account(figures, label, result, rows_in, truncated, entity, url, connect)
    figures["crashes"] = sum(crashes.values())
    figures["crashes_by_kind"] = dict(crashes)
    figures["files_by_format"] = dict(by_format)
    figures["seconds"] = round(time.monotonic() - started, 1)
    return figures


def account(figures, label, result, rows_in, truncated, entity, url, connect) -> None:
    """Rows in = landed + quarantined (+ held); no row number twice; short deliveries only held."""
    if result is None:
        if rows_in:
            figures["accounting_violations"] += 1
            print(f"{label}: {rows_in} rows in, the landing saw no delivery")
        return
    if result.status == "duplicate":
        return
    with connect(url) as conn:
        status, rows, quarantined = conn.execute(
            "select status, row_count, quarantined_count from raw.batches where batch_id = %s",
            (result.batch_id,)).fetchone()
        table = f'raw."{result.org_code}__{result.entity}"'
        stored = conn.execute(f"select count(*), count(distinct row_number) from {table} where batch_id = %s",
                              (result.batch_id,)).fetchone()
        numbers = conn.execute(
            f"select count(*) from (select row_number from {table} where batch_id = %s union all"
            " select row_number from raw.quarantine where batch_id = %s) n"
            " group by row_number having count(*) > 1 limit 1", (result.batch_id, result.batch_id)).fetchone()
    figures["held" if status == "held" else "landed"] += 1
    problems = []
    if stored[0] != rows:
        problems.append(f"batch says {rows} rows, raw holds {stored[0]}")
    if numbers:
        problems.append("a row number twice")
    if rows_in is None:
        problems.append("an unreadable file landed")
    elif rows + quarantined != rows_in and status != "held":
        problems.append(f"{rows_in} rows in, {rows} landed + {quarantined} quarantined, status {status}")
    if problems:
        figures["accounting_violations"] += 1
        print(f"{label}: " + "; ".join(problems))
    if truncated and status == "loaded":
        figures["truncated_made_live"] += 1
        print(f"{label}: a cut delivery went live ({rows} rows)")


def config_case(rng, config_dir: Path, load_organisation, config_error) -> str | None:
    """A copy of a file organisation's config with a value that must fail validation; the crash kind or None."""
    source = yaml.safe_load((config_dir / "hoi_lhpn.yml").read_text(encoding="utf-8"))
    connector = source["entities"][0]["connector"]
    key, value = rng.choice([("path", "x/{date}/{0}"), ("path", "x/{date}/{nope}"), ("path", "x/{date}/{"),
                             ("delimiter", ";;"), ("delimiter", ""), ("encoding", "rot13"),
                             ("encoding", "no-such-codec"), ("encoding", "base64")])
    connector[key] = value
    folder = Path(tempfile.mkdtemp(dir=config_dir.parent))
    path = folder / "hoi_lhpn.yml"
    path.write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")
    try:
        load_organisation(path)
    except config_error:
        return None
    except Exception as err:  # noqa: BLE001
        return type(err).__name__
    return f"accepted_{key}"


if __name__ == "__main__":
    sys.exit(main())
