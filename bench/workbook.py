"""Benchmark of the review workbook's writer: the flag list of a month written as the night's
`render_review` writes it, by the project's writer (lienthong.review.workbook, rustpy-xlsxwriter) and,
as the baseline in the same run, by xlsxwriter's constant-memory `write_row`, the writer it replaced.

    uv run python bench/workbook.py --scale demo|400k|province [--seed 42]
    uv run python bench/workbook.py --rows 250000

The rows are generated (names, units and communes drawn from small Vietnamese word lists, no
real person), in the shape of `review.rpt_member_flags`: a flag list of `--rows` rows (a province's
is about a million: a second sheet then holds the rest), with the units', suspects' and communes'
lists in proportion. Each writer runs in a process of its own, which measures its seconds and its
peak resident memory; the project's workbook is read back (python-calamine) to count its flag rows.
Prints a line per writer, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

# Flag rows of one month: demo and 400k as their e2e runs' open months held, province about
# eight times 400k's (docs/warehouse.md).
SCALES = {"demo": 6_000, "400k": 132_593, "province": 1_060_000}
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Quốc", "Thu"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hạnh", "Lan", "Linh", "Mai", "Nam", "Phúc", "Tâm", "Thảo", "Yến"]
FLAGS = [("Không đóng hội phí", "no_dues", "0 tháng đóng hội phí trong 12 tháng"),
         ("Không sinh hoạt", "no_attendance", "0 buổi sinh hoạt trong 12 tháng"),
         ("Không có CCCD", "missing_id", "Hồ sơ không có số CCCD"),
         ("Trùng tên và ngày sinh", "duplicate_name_birth", "2 hồ sơ cùng tên và ngày sinh trong chi hội")]
ORGS = ["org_a", "org_b", "org_c", "org_d", "org_e"]


class _Result(list):
    """A client-side cursor's result, as psycopg gives it: the rows, and their count."""

    @property
    def rowcount(self) -> int:
        return len(self)


class _Month:
    """Answers the workbook's four queries with generated rows."""

    def __init__(self, rows: int, seed: int):
        from lienthong.review import workbook

        rng = random.Random(seed)
        communes = [f"Xã {rng.choice(GIVEN)} {n}" for n in range(max(20, rows // 2_000))]
        units = [(rng.choice(ORGS), rng.choice(communes), f"Chi hội ấp {n}") for n in range(max(50, rows // 60))]
        start = date(2026, 1, 1)
        self.flags = _Result(
            (*unit, f"HV{n:08d}", f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}", *flag,
             start + timedelta(days=rng.randrange(330)), round(rng.uniform(0, 12), 2), round(rng.uniform(0.2, 3), 2))
            for n, (unit, flag) in enumerate((rng.choice(units), rng.choice(FLAGS)) for _ in range(rows)))
        self.suspected = _Result((*row[:3], n % 50 + 1, row[3], row[4], row[9], "no_dues 1.2; no_attendance 0.9")
                                 for n, row in enumerate(self.flags[::20]))
        self.units = _Result((*unit, 120, 118, 117, 120, 120, 90, None, 80, 12) for unit in units)
        self.communes = _Result((org, commune, 900, 870, date(2026, 11, 30)) for org in ORGS for commune in communes)
        self.answers = {workbook.FLAGGED_QUERY: self.flags, workbook.SUSPECTED_QUERY: self.suspected,
                        workbook.UNITS_QUERY: self.units, workbook.COMMUNES_QUERY: self.communes}

    def execute(self, query, *_args):
        return self.answers[query]


def _project(month: _Month, path: Path) -> None:
    from lienthong.review.report import Period
    from lienthong.review.workbook import write_workbook

    period = Period("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30))
    write_workbook(month, period, [], {org: f"Hội {org}" for org in ORGS}, path)


def _baseline(month: _Month, path: Path) -> None:
    """xlsxwriter in constant-memory mode, row by row: the writer of lienthong.review.workbook until
    2026-12-07, on the flag list alone (the other lists are a few per cent of the cells)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "default_date_format": "dd/mm/yyyy",
                                           "strings_to_formulas": False, "strings_to_urls": False})
    sheet, first = book.add_worksheet("Danh sách gắn cờ"), 3
    for n, row in enumerate(month.flags[:1_048_576 - first]):
        sheet.write_row(first + n, 0, row)
    book.close()


def _timed(writer, rows: int, seed: int, path: Path, out) -> None:
    month = _Month(rows, seed)
    started = time.perf_counter()
    writer(month, path)
    seconds = time.perf_counter() - started
    out.put({"seconds": round(seconds, 2), "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
             "file_mb": round(path.stat().st_size / 2**20, 1)})


def _run(writer, rows: int, seed: int, path: Path) -> dict:
    # A fresh process each: its peak memory is the writer's (plus the generated month, the same for both).
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_timed, args=(writer, rows, seed, path, out))
    process.start()
    figures = out.get()
    process.join()
    if process.exitcode:
        raise SystemExit(f"{writer.__name__} failed (exit code {process.exitcode})")
    return figures


def _flag_rows(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    sheets = [name for name in book.sheet_names if name.startswith("Danh sách gắn cờ")]
    return sum(len(book.get_sheet_by_name(name).to_python(skip_empty_area=False)) - 3 for name in sheets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--scale", choices=sorted(SCALES), default="400k")
    size.add_argument("--rows", type=int, help="flag rows of the month, instead of a scale's")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rows = args.rows or SCALES[args.scale]
    cells = rows * 11
    with tempfile.TemporaryDirectory(prefix="bench-workbook-") as folder:
        project = Path(folder) / "project.xlsx"
        figures = {"scale": None if args.rows else args.scale, "flag_rows": rows, "flag_cells": cells}
        for name, writer, path in (("project", _project, project), ("baseline", _baseline, Path(folder) / "base.xlsx")):
            result = _run(writer, rows, args.seed, path)
            result["cells_per_s"] = round(cells / result["seconds"])
            print(f"{name:>8}: {rows:,} flag rows in {result['seconds']} s ({result['cells_per_s']:,} cells/s),"
                  f" peak {result['peak_mb']:,} MB, file {result['file_mb']} MB", flush=True)
            figures[name] = result
        written = _flag_rows(project)
        if written != rows:
            raise SystemExit(f"the project's workbook holds {written:,} flag rows, not {rows:,}")
    figures["flag_rows_read_back"] = written
    figures["speedup"] = round(figures["baseline"]["seconds"] / figures["project"]["seconds"], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
