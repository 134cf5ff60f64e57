"""Scoring the review's ghost flags against the sample's ground truth (tests and benchmarks only:
the pipeline never reads truth/)."""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

# Which planted kinds a flag is meant to find, by what its rule says the flag suggests
# (review.rpt_member_flag_rules); a rule named after a planted kind is scored against that kind alone.
TRUTH_BY_SUGGESTION = {
    "ghost": {"fabricated"},
    "duplicate": {"duplicate"},
    "departed": {"deceased", "moved_away"},
    "ineligible": {"ineligible_age", "ineligible_sex"},
    "inactive": {"no_dues", "never_attends"},
}
TRUTH_BY_KIND = {"ineligible_age": {"ineligible_age"}, "ineligible_sex": {"ineligible_sex"},
                 "no_dues": {"no_dues"}, "no_attendance": {"never_attends"}}
# The planted ghosts the suspicion score is meant to find: records no real member stands behind.
SCORE_TRUTH = {"fabricated"}


def truth_ghosts(sample: Path, org: str | None = None) -> dict[str, set[str]]:
    """Planted kind -> true record ids on a roll at the sample's end (truth/ghosts.csv), of one
    organisation if given."""
    kinds: dict[str, set[str]] = defaultdict(set)
    with (sample / "truth" / "ghosts.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if org is None or row["org"] == org:
                kinds[row["kind"]].add(row["record_id"])
    return kinds


def _row_records(sample: Path) -> dict[tuple[str, str, int], str]:
    """(org, delivery date, data row) -> true record id, for organisations without member codes."""
    rows = {}
    with (sample / "truth" / "delivery_rows.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[(row["org"], row["date"], int(row["row"]))] = row["record_id"]
    return rows


def true_records(conn, sample: Path, period_key: str) -> dict[str, str]:
    """source_record_key -> true record id of every record reviewed in the period: its member code,
    or the file row it was last delivered in."""
    by_row = _row_records(sample)
    rows = conn.execute("""
        select f.source_record_key, f.org_code, f.member_code, b.delivery_date::text, e.source_row_number
        from intermediate.int_review__record_flags as f
        left join intermediate.int_membership__records as r using (org_code, source_record_key)
        left join raw.batches as b on b.batch_id = r.last_batch_id
        left join intermediate.int_roster__events as e
               on e.batch_id = r.last_batch_id and e.source_record_key = r.source_record_key
        where f.period_key = %s
    """, (period_key,)).fetchall()
    found = {}
    for key, org, code, day, line in rows:
        record = code if code else by_row.get((org, day, (line or 0) - 1))
        if record:
            found[key] = record
    return found


def precision_recall(found: set[str], expected: set[str]) -> dict:
    hits = found & expected
    return {
        "flagged": len(found), "planted": len(expected), "hits": len(hits),
        "precision": round(len(hits) / len(found), 3) if found else None,
        "recall": round(len(hits) / len(expected), 3) if expected else None,
    }


def flag_scores(conn, sample: Path, period_key: str, org: str | None = None) -> dict[str, dict]:
    """Precision and recall of each flag kind (in the rules' order) for one review period, by true
    record; of one organisation's roll if given."""
    truth = truth_ghosts(sample, org)
    records = true_records(conn, sample, period_key)
    found: dict[str, set[str]] = defaultdict(set)
    for kind, key in conn.execute("select flag_kind, source_record_key from review.rpt_member_flags"
                                  " where period_key = %s and org_code = coalesce(%s, org_code)",
                                  (period_key, org)):
        if key in records:
            found[kind].add(records[key])
    scores = {}
    for kind, suggests in conn.execute("select flag_kind, suggests from review.rpt_member_flag_rules"
                                       " order by flag_order"):
        targets = TRUTH_BY_KIND.get(kind, TRUTH_BY_SUGGESTION[suggests])
        scores[kind] = precision_recall(found[kind], set().union(*(truth.get(t, set()) for t in targets)))
    return scores


def suspicion_scores(conn, sample: Path, period_key: str, org: str | None = None) -> dict:
    """The suspicion score against the planted ghosts (SCORE_TRUTH): flagged, precision and recall at
    the threshold (records `suspected`), and the precision at the first rank reaching recall 0.9; of
    one organisation's roll if given."""
    expected = set().union(*(truth_ghosts(sample, org).get(t, set()) for t in SCORE_TRUTH))
    records = true_records(conn, sample, period_key)
    expected &= set(records.values())  # ghosts on a roll in the period (the review's records)
    scored = conn.execute("select source_record_key, suspicion_score, suspected from review.rpt_member_suspicion"
                          " where period_key = %s and org_code = coalesce(%s, org_code)"
                          " order by suspicion_score desc, source_record_key", (period_key, org)).fetchall()
    suspected = {records[key] for key, _, flag in scored if flag and key in records}
    threshold = conn.execute("select min(suspicion_threshold) from review.rpt_member_flag_rules").fetchone()[0]
    result = {**precision_recall(suspected, expected), "precision_at_recall_0_9": None,
              "threshold": float(threshold) if threshold is not None else None}
    hits = 0
    for rank, (key, _, _) in enumerate(scored, start=1):
        hits += records.get(key) in expected
        if expected and hits >= 0.9 * len(expected):
            result["precision_at_recall_0_9"] = round(hits / rank, 3)
            break
    return result


def ghost_labels(conn, sample: Path, period_key: str, kinds: list[str]) -> tuple[list[list[int]], list[int], list[int]]:
    """For fitting the score: each reviewed record's rule booleans (in ``kinds`` order), whether it is
    a planted ghost (SCORE_TRUTH), and whether its organisation delivers dues or activities but not
    both (1: the score's partial sender)."""
    expected = set().union(*(truth_ghosts(sample).get(t, set()) for t in SCORE_TRUTH))
    records = true_records(conn, sample, period_key)
    columns = ", ".join(f"coalesce({kind}, false)::int" for kind in kinds)
    features, labels, partial = [], [], []
    for key, shape, *row in conn.execute(
            f"select source_record_key, ((has_dues is null) <> (has_attendance is null))::int, {columns}"
            " from intermediate.int_review__record_flags where period_key = %s", (period_key,)):
        if key in records:
            features.append(row)
            labels.append(int(records[key] in expected))
            partial.append(shape)
    return features, labels, partial
