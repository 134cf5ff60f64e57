"""Candidate pairs per prediction blocking rule on a generated sample: which rules grow with the
square of the records (docs/scale.md, "Linking: the measured curve").

    uv run python bench/blocking_pairs.py --sample DIR

Reads the latest record of each roll with the matching bench's reader, prepares the linker's
features (``prepare_frame``), and counts per rule of ``blocking.PREDICTION_KEYS`` the pairs its
key blocks hold (the sum of n(n-1)/2), before Splink drops the pairs an earlier rule already took.
Prints a table, then one JSON line.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from lienthong.linking.blocking import DERIVED_KEYS, PREDICTION_KEYS
from lienthong.linking.records import prepare_frame
from lienthong.sample.linking_input import roster_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, required=True, help="a generated sample folder")
    args = parser.parse_args()
    started = time.perf_counter()
    latest = {(row["org_code"], row["source_record_key"]): row for row in roster_rows(args.sample)}
    frame = prepare_frame(list(latest.values()))
    for key, (_, value) in DERIVED_KEYS.items():
        frame[key] = [value(row) for row in frame.to_dict("records")]
    rules = {}
    for keys in PREDICTION_KEYS:
        blocks = frame[list(keys)].dropna().groupby(list(keys)).size()
        rules["+".join(keys)] = {"pairs": int((blocks * (blocks - 1) // 2).sum()), "largest_block": int(blocks.max())}
        print(f"{'+'.join(keys):40s} {rules['+'.join(keys)]['pairs']:>12,} pairs, largest block "
              f"{rules['+'.join(keys)]['largest_block']:,}")
    print(json.dumps({"bench": "blocking_pairs", "sample": str(args.sample), "records": len(frame),
                      "pairs": sum(r["pairs"] for r in rules.values()), "rules": rules,
                      "seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()
