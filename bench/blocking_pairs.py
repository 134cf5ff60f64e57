"""Candidate pairs per prediction blocking rule on a generated sample: which rules grow with the
square of the records (docs/scale.md, "Linking: the measured curve").

    uv run python bench/blocking_pairs.py --sample DIR

Reads the latest record of each roll with the matching bench's reader, prepares the linker's
features (``prepare_frame``), and counts per rule of ``blocking.PREDICTION_KEYS`` the pairs its
key blocks hold (the sum of n(n-1)/2; for a rule with a crossed key, the ordered pairs it joins, the
largest block being the most of them on one value), before Splink drops the pairs an earlier rule
already took.
Prints a table, then one JSON line.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from lienthong.linking.blocking import DERIVED_KEYS, PREDICTION_KEYS, rule_label, sides
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
        if all(isinstance(k, str) for k in keys):
            blocks = frame[list(keys)].dropna().groupby(list(keys)).size()
            pairs, largest = int((blocks * (blocks - 1) // 2).sum()), int(blocks.max())
        else:  # a crossed key (the left record's a is the right one's b): the ordered pairs it joins
            left, right = ([sides(k)[i] for k in keys] for i in (0, 1))
            joined = frame[left].dropna().set_axis(right, axis=1).merge(frame[right].dropna(), on=right)
            pairs, largest = len(joined), int(joined.groupby(right).size().max()) if len(joined) else 0
        rules[rule_label(keys)] = {"pairs": pairs, "largest_block": largest}
        print(f"{rule_label(keys):60s} {pairs:>12,} pairs, largest block {largest:,}")
    print(json.dumps({"bench": "blocking_pairs", "sample": str(args.sample), "records": len(frame),
                      "pairs": sum(r["pairs"] for r in rules.values()), "rules": rules,
                      "seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()
