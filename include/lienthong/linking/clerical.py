"""Clerical review of pairs: the queue of uncertain or refused pairs, reviewers' decisions, and why
any two records were or were not linked (not the periodic membership review, ``lienthong.review``)."""
from __future__ import annotations

import pandas as pd

from lienthong.linking import engine, store
from lienthong.linking.policy import load_policy
from lienthong.linking.records import FEATURE_COLUMNS
from lienthong.warehouse import connect

DECISIONS = ("same", "different")


def ordered(uid_a: str, uid_b: str) -> tuple[str, str]:
    if uid_a == uid_b:
        raise ValueError("a record cannot be compared with itself")
    return (uid_a, uid_b) if uid_a < uid_b else (uid_b, uid_a)


def decide(url: str, uid_a: str, uid_b: str, decision: str, reviewer: str, note: str | None = None) -> None:
    """Record (or replace) a reviewer's decision; the next run applies it and it wins over the model."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    a, b = ordered(uid_a, uid_b)
    with connect(url) as conn:
        store.ensure_schema(conn)
        missing = {a, b} - {r[0] for r in conn.execute(
            "select record_uid from identity.records where record_uid in (%s, %s)", (a, b)).fetchall()}
        if missing:
            raise ValueError(f"unknown record(s): {', '.join(sorted(missing))} (expected org_code|source_record_key)")
        conn.execute(
            """insert into identity.review_decisions (record_key_a, record_key_b, decision, reviewer, note)
               values (%s, %s, %s, %s, %s)
               on conflict (record_key_a, record_key_b) do update set decision = excluded.decision,
                   reviewer = excluded.reviewer, note = excluded.note, decided_at = now()""",
            (a, b, decision, reviewer, note))
        conn.execute("delete from identity.review_queue where uid_a = %s and uid_b = %s", (a, b))


def review_queue(url: str, limit: int = 100) -> list[dict]:
    """Pending pairs, the most uncertain (probability nearest 0.5) first."""
    with connect(url) as conn:
        frame = store.read_frame(conn, """
            select q.uid_a, q.uid_b, round(q.match_probability::numeric, 4) as match_probability, q.reason,
                   q.person_a, q.person_b, ra.name as name_a, rb.name as name_b,
                   ra.birth_date as birth_a, rb.birth_date as birth_b
            from identity.review_queue q
            join identity.records ra on ra.record_uid = q.uid_a join identity.records rb on rb.record_uid = q.uid_b
            order by abs(q.match_probability - 0.5), q.uid_a, q.uid_b limit %s""", (limit,))
    return frame.to_dict("records")


def _levels(model: dict) -> dict[str, dict[int, str]]:
    """Comparison output name -> gamma value -> level label, from the stored model."""
    labels = {}
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        # Splink numbers non-null levels from the most specific (highest gamma) down to 0.
        labels[comparison["output_column_name"]] = {
            len(levels) - 1 - i: lv.get("label_for_charts", lv["sql_condition"]) for i, lv in enumerate(levels)}
        labels[comparison["output_column_name"]][-1] = "missing on one side"
    return labels


def explain(url: str, uid_a: str, uid_b: str) -> dict:
    """Why two records (``org_code|source_record_key``) are or are not the same person.

    Says: their persons, any reviewer decision, whether the pair was a blocking candidate and
    under which rules, its score with each comparison's level and Bayes factor (stored evidence,
    or scored now with the stored model if the pair was never blocked), whether clustering
    refused the link and why, and a one-line verdict, read against the policy of the last run (the
    one whose clustering stands), or the configured policy before any run recorded one.
    """
    a, b = ordered(uid_a, uid_b)
    with connect(url) as conn:
        records = store.read_frame(conn, f"select {', '.join(FEATURE_COLUMNS)} from identity.records "
                                         "where record_uid in (%s, %s) order by record_uid", (a, b))
        if len(records) != 2:
            found = set(records["record_uid"])
            raise ValueError(f"unknown record(s): {', '.join(sorted({a, b} - found))}")
        persons = dict(conn.execute("select record_uid, person_id from identity.record_person "
                                    "where record_uid in (%s, %s)", (a, b)).fetchall())
        decision = conn.execute("select decision, reviewer, decided_at, note from identity.review_decisions "
                                "where record_key_a = %s and record_key_b = %s", (a, b)).fetchone()
        pair = conn.execute("select match_probability, match_weight, evidence, refused_reason "
                            "from identity.match_pairs where uid_a = %s and uid_b = %s", (a, b)).fetchone()
        model = conn.execute("select settings from identity.model order by model_id desc limit 1").fetchone()[0]
        policy_run = conn.execute("select run_id, policy from identity.runs where policy is not null "
                                  "order by run_id desc limit 1").fetchone()
    policy = load_policy()
    threshold = (policy.with_recorded(policy_run[1]) if policy_run else policy).link_threshold
    records["birth_year"] = records["birth_year"].astype("Int64")
    rows = [{k: (None if v is pd.NA or (isinstance(v, float) and v != v) else v) for k, v in r.items()}
            for r in records.to_dict("records")]
    blocking = engine.blocked_by(rows[0], rows[1])
    if pair:
        probability, weight, evidence, refused = pair
    else:
        scored = engine.compare(rows[0], rows[1], model)
        probability, weight, refused = scored["match_probability"], scored["match_weight"], None
        evidence = {k: v for k, v in scored.items() if k.startswith(("gamma_", "bf_"))}
    labels = _levels(model)
    comparisons = {
        name: {"level": labels[name].get(int(evidence[f"gamma_{name}"]), str(evidence[f"gamma_{name}"])),
               "bayes_factor": round(float(evidence[f"bf_{name}"]), 3)}
        for name in labels if f"gamma_{name}" in evidence
    }
    same = persons.get(a) is not None and persons.get(a) == persons.get(b)
    if decision:
        verdict = f"reviewer {decision[1]} decided: {decision[0]} person"
    elif refused:
        verdict = f"not linked: {refused}"
    elif same and probability >= threshold:
        verdict = f"linked directly: match probability {probability:.4f}"
    elif same:
        verdict = f"linked through other records (this pair scores {probability:.4f})"
    elif not blocking:
        verdict = f"not linked: never a candidate pair (no blocking rule shared); would score {probability:.4f}"
    else:
        verdict = f"not linked: match probability {probability:.4f} below {threshold}"
    return {
        "record_a": a, "record_b": b, "person_a": persons.get(a), "person_b": persons.get(b),
        "same_person": same, "verdict": verdict,
        "decision": dict(zip(("decision", "reviewer", "decided_at", "note"), decision)) if decision else None,
        "blocking_rules": blocking, "match_probability": probability, "match_weight": weight,
        "comparisons": comparisons, "records": rows,
        "policy_run_id": policy_run[0] if policy_run else None, "link_threshold": threshold,
    }
