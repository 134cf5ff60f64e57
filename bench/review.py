"""Benchmark of the periodic review on a built warehouse (e.g. after `make demo`): precision and
recall of each ghost flag against the sample's ground truth, and the time to render the period.

    uv run python bench/review.py [--period 2026-11]

It reads the project's settings (the warehouse, the sample folder) like every `lienthong` command.
Prints human lines, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from lienthong.config.settings import load_settings
from lienthong.review.report import render
from lienthong.sample.scoring import flag_scores
from lienthong.warehouse import connect, resolve_url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", default=None, help="period key (default: the sample's first delivery month)")
    args = parser.parse_args()
    settings = load_settings()
    manifest = json.loads((settings.sample_dir / "manifest.json").read_text())
    period = args.period or manifest["deliveries"]["from"][:7]
    url = resolve_url(settings, start=True)

    started = time.perf_counter()
    paths = render(url, period, Path(tempfile.mkdtemp(prefix="lienthong-bench-review-")))
    render_seconds = time.perf_counter() - started
    with connect(url) as conn:
        scores = flag_scores(conn, settings.sample_dir, period)
        records = conn.execute("select count(*) from intermediate.int_review__records where period_key = %s",
                               (period,)).fetchone()[0]
    for kind, score in scores.items():
        print(f"  {kind:18} flagged {score['flagged']:6}  planted {score['planted']:6}  "
              f"precision {score['precision']}  recall {score['recall']}")
    print(f"rendered {paths['html'].name} and {paths['xlsx'].name} in {render_seconds:.1f} s")
    print(json.dumps({
        "bench": "review", "scale": manifest["scale"], "period": period, "records_reviewed": records,
        "render_seconds": round(render_seconds, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "flags": scores,
    }, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
