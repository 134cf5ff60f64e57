"""bench/model.py's digest of a rebuilt model: what it says about two builds' rows."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

from lienthong.warehouse import connect

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_digest_is_the_rows_in_any_order_and_changes_with_one_value(warehouse_url):
    sys.path.insert(0, str(BENCH))
    try:
        model = importlib.import_module("model")
    finally:
        sys.path.remove(str(BENCH))
    rows = [(n, f"người {n}", None if n % 7 else n * 2) for n in range(500)]
    with connect(warehouse_url) as conn:
        for name, order in (("a", rows), ("b", rows[::-1]), ("c", rows[:-1] + [(499, "người 499", 1)])):
            conn.execute(f"create table {name} (k int, name text, v int)")
            with conn.cursor().copy(f"copy {name} from stdin") as copy:
                for row in order:
                    copy.write_row(row)
    a, b, c = (model.rows_and_digest(warehouse_url, name) for name in "abc")
    assert a == b and a[0] == 500
    assert c[0] == 500 and c != a
