"""Benchmark of ingestion: rows/s per connector against a plain COPY ceiling, and peak memory
while landing a 600,000-row CSV and a 600,000-row XLSX (the XLSX also against python-calamine's own
read of the same sheet, its parser's bound).

    uv run python bench/ingest.py --scale demo|province [--sample DIR] [--big-rows 600000]

Each connector lands the sample's first (largest) delivery day into a fresh embedded PostgreSQL.
The ceiling, measured in the same run on the same server, is a plain COPY FROM STDIN of the very
rows that were landed (same tables, same columns, text format sent in blocks) into a temporary
table: what the landing costs above the database; and the same into a permanent table with the
raw table's batch index (WAL and index written, as the landing must): the logged ceiling. The
sample API runs in its own process, as a real source would.
Peak memory of the big-file landings is measured in a child process (ru_maxrss of that child).
Prints human lines, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from lienthong.config.organisations import load_organisations
from lienthong.ports import free_port, port_in_use
from lienthong.sample import generate
from lienthong.sample.api_server import DEFAULT_TOKEN
from lienthong.warehouse import connect, ensure_ready
from lienthong.warehouse.embedded import EmbeddedPostgres

HOI_LHPN_HEADER = "STT,Họ và tên,Ngày sinh,Giới tính,Số CCCD,Số điện thoại,Ấp/Khu phố,Xã/Phường,Chi hội,Ngày vào hội"


def land_all(day: date) -> dict[str, dict]:
    """Land every organisation's deliveries of the day; rows and seconds per connector kind."""
    from lienthong.landing.ingest import ingest

    per_kind: dict[str, dict] = {}
    for org in load_organisations():
        for entity in org.entities:
            c = entity.connector
            kind = c.type if c.type != "file" else (
                "xlsx" if c.format == "xlsx" else f"csv_{c.encoding.replace('-', '_')}")
            started = time.perf_counter()
            result = ingest(org.code, entity.kind, day)
            elapsed = time.perf_counter() - started
            if result is None:
                continue
            stats = per_kind.setdefault(kind, {"rows": 0, "seconds": 0.0})
            stats["rows"] += result.row_count + result.quarantined_count
            stats["seconds"] += elapsed
            print(f"  {result.summary()} in {elapsed:.2f} s")
    for stats in per_kind.values():
        stats["rows_per_s"] = round(stats["rows"] / stats["seconds"]) if stats["seconds"] else None
        stats["seconds"] = round(stats["seconds"], 2)
    return per_kind


def copy_ceiling(url: str, work: Path, ways: tuple[str, ...] = ("server", "row_by_row", "server_logged")) -> dict:
    """Plain COPY FROM STDIN of every landed raw row into a same-shaped table, one stream per table,
    three ways: the server's own intake into a temporary table (the rows exported with COPY TO, not
    timed, and sent back in 1 MB blocks), the same into a permanent table with the raw table's
    batch index, created in an earlier transaction (so written through the WAL and the index, as a
    landing writes the raw table: what a landing cannot beat), and row by row from Python into the
    temporary table (psycopg's write_row of the already-parsed rows, read in chunks through a
    server-side cursor; only the writing is timed). Memory stays bounded."""
    totals = {way: [0, 0.0] for way in ways}
    export = work / "ceiling.copy"
    with connect(url) as conn, connect(url) as reader:
        tables = [t for (t,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
            " and table_name like '%%\\_\\_%%'")]
        for table in tables:
            with export.open("wb") as handle, conn.cursor().copy(f'copy raw."{table}" to stdout') as copy:
                for block in copy:
                    handle.write(block)
            for way in totals:
                if way == "server_logged":
                    conn.execute(f'create table public.ceiling (like raw."{table}" including indexes)')
                    conn.commit()
                else:
                    conn.execute(f'create temp table ceiling (like raw."{table}")')
                seconds = 0.0
                if way in ("server", "server_logged"):
                    started = time.perf_counter()
                    with export.open("rb") as handle, conn.cursor().copy("copy ceiling from stdin") as copy:
                        while block := handle.read(1 << 20):
                            copy.write(block)
                    seconds = time.perf_counter() - started
                else:
                    with reader.transaction(), reader.cursor(name="ceiling_rows") as rows, \
                            conn.cursor().copy("copy ceiling from stdin") as copy:
                        rows.execute(f'select * from raw."{table}"')
                        while chunk := rows.fetchmany(50_000):
                            started = time.perf_counter()
                            for record in chunk:
                                copy.write_row(record)
                            seconds += time.perf_counter() - started
                started = time.perf_counter()
                conn.commit()  # the server finishes the COPY here: part of its cost
                seconds += time.perf_counter() - started
                totals[way][0] += conn.execute("select count(*) from ceiling").fetchone()[0]
                totals[way][1] += seconds
                conn.execute("drop table ceiling")
                conn.commit()
    export.unlink(missing_ok=True)
    return {way: {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds) if seconds else None}
            for way, (rows, seconds) in totals.items()}


def serve_api(sample: Path) -> tuple[subprocess.Popen, int]:
    """The sample API in its own process, as a real source is: its JSON work is not the landing's."""
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("lienthong")), "serve-sample-api",
                               "--data", str(sample), "--port", str(port)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if port_in_use(port):
            return server, port
        time.sleep(0.2)
    server.kill()
    sys.exit("the sample API did not start within 60 s")


def big_files(sample: Path, drop: Path, day: date, rows: int) -> tuple[Path, Path]:
    """A rows-long Women's Union CSV and a Farmers' XLSX, made by repeating the sample's rows."""
    import csv

    import xlsxwriter
    from python_calamine import CalamineWorkbook

    src_csv = sample / "deliveries" / "hoi_lhpn" / day.isoformat() / "hoi_vien.csv"
    with src_csv.open(encoding="utf-8-sig", newline="") as handle:
        body = list(csv.reader(handle))[1:]
    big_csv = drop / "hoi_lhpn" / day.isoformat() / "hoi_vien.csv"
    big_csv.parent.mkdir(parents=True, exist_ok=True)
    with big_csv.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HOI_LHPN_HEADER.split(","))
        for n in range(rows):
            writer.writerow([n + 1, *body[n % len(body)][1:]])

    src_xlsx = sample / "deliveries" / "hoi_nd" / day.isoformat() / "danh_sach_hoi_vien.xlsx"
    sheet = CalamineWorkbook.from_path(str(src_xlsx)).get_sheet_by_index(0)
    header, *data = sheet.to_python()
    big_xlsx = drop / "hoi_nd" / day.isoformat() / "danh_sach_hoi_vien.xlsx"
    big_xlsx.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(big_xlsx), {"constant_memory": True})
    ws = book.add_worksheet(sheet.name)
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_row(0, 0, header)
    for n in range(rows):
        for col, value in enumerate(data[n % len(data)]):
            if isinstance(value, date):  # calamine gives date cells as dates; keep them date cells
                ws.write_datetime(n + 1, col, datetime(value.year, value.month, value.day), date_format)
            else:
                ws.write(n + 1, col, value)
    book.close()
    return big_csv, big_xlsx


def calamine_read(path: Path) -> dict:
    """python-calamine's own read of the sheet (every row as Python values): what an XLSX landing
    cannot beat, measured in a fresh process as the landing is."""
    code = (
        "import json, time; from python_calamine import CalamineWorkbook;"
        f"t = time.perf_counter(); rows = sum(1 for _ in CalamineWorkbook.from_path({str(path)!r})"
        ".get_sheet_by_index(0).iter_rows()) - 1;"
        "print(json.dumps({'rows': rows, 'seconds': round(time.perf_counter() - t, 2)}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    read = json.loads(done.stdout.strip().splitlines()[-1])
    return {**read, "rows_per_s": round(read["rows"] / read["seconds"])}


def land_in_child(org: str, kind: str, day: date, env: dict) -> dict:
    """Land one delivery in a fresh process; its peak RSS is the landing's memory (VmHWM: the child's
    own, where ru_maxrss would carry over the bench process's high-water mark through fork and exec)."""
    code = (
        "import json, resource, time; from datetime import date; from lienthong.landing.ingest import ingest;"
        f"t = time.perf_counter(); r = ingest({org!r}, {kind!r}, date.fromisoformat({day.isoformat()!r}));"
        "hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'));"
        "print(json.dumps({'rows': r.row_count + r.quarantined_count, 'seconds': round(time.perf_counter() - t, 2),"
        " 'peak_mb': round(hwm / 1024)}))"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sample", type=Path, default=None, help="reuse a generated sample here")
    parser.add_argument("--big-rows", type=int, default=600_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lienthong-bench-ingest-"))
    sample = args.sample or work / "sample"
    if not (sample / "manifest.json").exists():
        print(f"generating the {args.scale} sample in {sample} …")
        generate(args.scale, args.seed, sample)
    day = date.fromisoformat(json.loads((sample / "manifest.json").read_text())["deliveries"]["from"])
    server = EmbeddedPostgres(work / "pgdata", free_port())
    url = server.start()
    ensure_ready(url)
    api, api_port = serve_api(sample)
    conn_uri = f"http://:{DEFAULT_TOKEN}@127.0.0.1:{api_port}"
    os.environ.update({
        "LIENTHONG_WAREHOUSE_URL": url, "LIENTHONG_STATE_DIR": str(work / "state"),
        "LIENTHONG_DROP_DIR": str(sample / "deliveries"),
        "AIRFLOW_CONN_DOAN_TN_API": conn_uri, "AIRFLOW_CONN_CONG_DOAN_API": conn_uri,
    })
    try:
        print(f"landing every organisation's deliveries of {day} ({args.scale} scale) …")
        started = time.perf_counter()
        connectors = land_all(day)
        total_seconds = time.perf_counter() - started
        total_rows = sum(s["rows"] for s in connectors.values())
        print("ceiling: plain COPY of the same rows …")
        ceiling = copy_ceiling(url, work)

        print(f"building a {args.big_rows:,}-row CSV and XLSX …")
        drop = work / "big"
        _big_csv_path, big_xlsx_path = big_files(sample, drop, day, args.big_rows)
        env = {**os.environ, "LIENTHONG_DROP_DIR": str(drop)}
        big_csv = land_in_child("hoi_lhpn", "roster", day, env)
        print(f"  {args.big_rows:,}-row CSV: {big_csv}")
        big_xlsx = land_in_child("hoi_nd", "roster", day, env)
        print(f"  {args.big_rows:,}-row XLSX: {big_xlsx}")
        calamine = calamine_read(big_xlsx_path)
        print(f"  python-calamine's own read of that sheet: {calamine}")
    finally:
        api.terminate()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    overall = round(total_rows / total_seconds)
    figures = {
        "bench": "ingest", "scale": args.scale, "day": day.isoformat(),
        "rows": total_rows, "seconds": round(total_seconds, 2), "rows_per_s": overall,
        "connectors": connectors,
        "ceiling_copy": ceiling,
        "ratio_to_ceiling": {way: round(overall / c["rows_per_s"], 3) if c["rows_per_s"] else None
                             for way, c in ceiling.items()},
        "connector_ratio_to_ceiling": {kind: round(c["rows_per_s"] / ceiling["server"]["rows_per_s"], 3)
                                       for kind, c in connectors.items() if c["rows_per_s"]},
        "connector_ratio_to_logged_ceiling": {
            kind: round(c["rows_per_s"] / ceiling["server_logged"]["rows_per_s"], 3)
            for kind, c in connectors.items() if c["rows_per_s"]},
        "big_csv": {**big_csv, "rows_per_s": round(big_csv["rows"] / big_csv["seconds"])},
        "big_xlsx": {**big_xlsx, "rows_per_s": round(big_xlsx["rows"] / big_xlsx["seconds"])},
        "calamine_read": calamine,
        "big_xlsx_ratio_to_calamine": round(big_xlsx["rows"] / big_xlsx["seconds"] / calamine["rows_per_s"], 3),
        "big_csv_ratio_to_ceiling": round(big_csv["rows"] / big_csv["seconds"] / ceiling["server"]["rows_per_s"], 3),
        "big_csv_ratio_to_logged_ceiling": round(
            big_csv["rows"] / big_csv["seconds"] / ceiling["server_logged"]["rows_per_s"], 3),
        "peak_mb_bench_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
