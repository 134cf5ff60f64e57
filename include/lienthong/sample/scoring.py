"""Scoring the review's ghost flags against the sample's ground truth (tests and benchmarks only:
the pipeline never reads truth/)."""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

# Which planted kinds each review flag is meant to find.
FLAG_TO_TRUTH = {
    "no_identity": {"fabricated"},
    "implausible": {"fabricated"},
    "duplicate": {"duplicate"},
    "deceased_or_moved": {"deceased", "moved_away"},
    "ineligible_age": {"ineligible_age"},
    "ineligible_sex": {"ineligible_sex"},
    "no_dues": {"no_dues"},
    "no_attendance": {"never_attends"},
}


def _truth_ghosts(sample: Path) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = defaultdict(set)
    with (sample / "truth" / "ghosts.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            kinds[row["kind"]].add(row["record_id"])
    return kinds


def _row_records(sample: Path) -> dict[tuple[str, str, int], str]:
    """(org, delivery date, data row) -> true record id, for organisations without member codes."""
    rows = {}
    with (sample / "truth" / "delivery_rows.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[(row["org"], row["date"], int(row["row"]))] = row["record_id"]
    return rows


def flag_scores(conn, sample: Path, period_key: str) -> dict[str, dict]:
    """Precision and recall of each flag kind for one review period, by true record."""
    truth = _truth_ghosts(sample)
    by_row = _row_records(sample)
    # A flagged record is known by its member code, or by the file row it was last delivered in.
    flagged = conn.execute("""
        select f.flag_kind, f.org_code, f.member_code, b.delivery_date::text, s.source_row_number
        from review.rpt_member_flags as f
        left join intermediate.int_membership__records as r using (org_code, source_record_key)
        left join raw.batches as b on b.batch_id = r.last_batch_id
        left join staging.stg_hoi_lhpn__roster as s
               on f.org_code = 'hoi_lhpn' and s.batch_id = r.last_batch_id
              and s.member_key = r.member_key
        where f.period_key = %s
    """, (period_key,)).fetchall()
    found: dict[str, set[str]] = defaultdict(set)
    for kind, org, code, day, line in flagged:
        record = code if code else by_row.get((org, day, (line or 0) - 1))
        if record:
            found[kind].add(record)
    scores = {}
    for kind, targets in FLAG_TO_TRUTH.items():
        expected = set().union(*(truth.get(t, set()) for t in targets))
        hits = found[kind] & expected
        scores[kind] = {
            "flagged": len(found[kind]), "planted": len(expected), "hits": len(hits),
            "precision": round(len(hits) / len(found[kind]), 3) if found[kind] else None,
            "recall": round(len(hits) / len(expected), 3) if expected else None,
        }
    return scores
