"""Benchmark of the staging views per row: each organisation's view of one entity (roster by default)
read whole with EXPLAIN ANALYZE (no per-node timing), and an md5 of its rows in a fixed order, so a
change to the staging macros can be shown to keep the outputs.

    uv run python bench/staging.py [--entity roster] [--runs 2]

Reads the configured warehouse (lienthong db url); build it first (`lienthong run`). Prints one human
line per view, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import json
import os

from lienthong.warehouse import connect, resolve_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entity", default="roster")
    parser.add_argument("--runs", type=int, default=2, help="reads per view; the fastest is kept")
    args = parser.parse_args()
    figures = {"load": os.getloadavg()[0], "views": {}}
    with connect(resolve_url(start=True), autocommit=True) as conn:
        views = [name for (name,) in conn.execute(
            "select table_name from information_schema.views where table_schema = 'staging'"
            " and table_name like %s order by 1", (f"stg\\_%\\_\\_{args.entity}",))]
        for view in views:
            plans = [conn.execute(f"explain (analyze, timing off, format json) select * from staging.{view}")
                     .fetchone()[0][0] for _ in range(args.runs)]
            rows = int(plans[0]["Plan"]["Actual Rows"])
            ms = min(plan["Execution Time"] for plan in plans)
            (digest,) = conn.execute(
                f"select md5(string_agg(v::text, E'\\n' order by v::text)) from staging.{view} as v").fetchone()
            figures["views"][view] = {"rows": rows, "ms": round(ms, 1),
                                      "us_per_row": round(1000 * ms / max(rows, 1), 1), "md5": digest}
            print(f"{view}: {rows} rows, {ms:.0f} ms, {1000 * ms / max(rows, 1):.1f} us/row, md5 {digest}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
