"""Benchmark of the sample generator: time, peak memory, output size.

    uv run python bench/generate.py --scale demo [--seed 42] [--out DIR] [--people N]

Prints human lines, then the figures as one JSON line (last line of output).
Peak memory is the process's maximum resident set size (ru_maxrss), which includes the interpreter.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from lienthong.sample import generate


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="keep the output here (default: a temporary dir)")
    args = parser.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix=f"lienthong-bench-{args.scale}-"))
    started = time.perf_counter()
    summary = generate(args.scale, args.seed, out, people=args.people)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = _size(out)
    deliveries = _size(out / "deliveries")
    figures = {
        "bench": "generate",
        "scale": args.scale,
        "seed": args.seed,
        "seconds": round(seconds, 2),
        "people": summary["people"],
        "people_per_s": round(summary["people"] / seconds),
        "roster_records": summary["roster_records"],
        "delivered_rows": summary["rows"],
        "rows_per_s": round(summary["rows"] / seconds),
        "peak_memory_mb": round(peak_mb, 1),
        "output_bytes": total,
        "delivery_bytes": deliveries,
        "files": summary["files"],
        "records": summary["records"],
    }
    print(f"scale {args.scale}: {summary['people']:,} people, {summary['roster_records']:,} roster records, "
          f"{summary['rows']:,} delivered rows in {summary['files']} files")
    print(f"time {seconds:.1f} s ({figures['rows_per_s']:,} rows/s), peak memory {peak_mb:.0f} MB, "
          f"output {total / 1e6:.1f} MB (deliveries {deliveries / 1e6:.1f} MB) in {out}")
    if args.out is None:
        shutil.rmtree(out)
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
