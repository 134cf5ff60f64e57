"""bench/workbook.py: both writers write the generated month, and the figures come last, as one JSON line."""
from __future__ import annotations

import json
import subprocess
import sys

from .conftest import BENCH


def test_the_bench_writes_every_flag_row_and_prints_its_figures_last():
    run = subprocess.run([sys.executable, str(BENCH / "workbook.py"), "--rows", "3000"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["flag_rows"] == figures["flag_rows_read_back"] == 3000
    for writer in ("project", "baseline"):
        assert figures[writer]["seconds"] > 0 and figures[writer]["peak_mb"] > 0 and figures[writer]["file_mb"] > 0
