"""Benchmark of person linkage against the sample's ground truth, with a plain Splink baseline.

    uv run python bench/matching.py --setting demo|demo-hard|untuned-a|untuned-b [--no-baseline] [--keep DIR]
    uv run python bench/matching.py --scale demo|province|tiny [--seed 42] [--sample DIR]
    uv run python bench/matching.py --sample DIR [--org-configs DIR]   # e.g. a bench/xgen.py sample

A setting (bench/matching_settings.yml) is a scale, a seed and overrides of the generator's
noise.yml; ``--scale``/``--seed`` alone mean the default mix. Generates the sample (or reuses the
one cached in .lienthong/bench/sample-<setting or scale-seed>), loads the roster records delivered
up to the day before the last into an embedded PostgreSQL of its own, runs the linker in full, then
the last day's changes incrementally, and the baseline on the full set of records. Scores
(``lienthong.sample.link_scoring``) are pairwise precision / recall / F1, recall on true pairs
sharing no exact ID, per noise kind and per hard-negative kind (households, twins, name-copying
ghosts), ghost records merged into someone, over all records delivered, and where the missed true
pairs went (refused by which rule, scored in the review band or below, never compared). Each engine runs in
its own process so that its peak memory (ru_maxrss, the interpreter included; the PostgreSQL
server is not counted) is its own.
Prints human lines, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import psycopg
import yaml

from lienthong.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Path(__file__).resolve().parent / "matching_settings.yml"
SOURCE = "bench_source.roster_records"


def _in_child(function, *args):
    """Run ``function(*args)`` in a fresh process; return (its result, its peak memory in MB)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_measured, function, *args).result()


def _measured(function, *args):
    result = function(*args)
    return result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load_source(url: str, sample: Path, until: str | None, configs: Path | None) -> int:
    from lienthong.sample.linking_input import latest_records, write_source_table

    rows = latest_records(sample, until, configs)
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists bench_source")
        write_source_table(conn, SOURCE, rows)
    return len(rows)


def _run_linker(url: str, incremental: bool) -> dict:
    from lienthong.linking import link, link_new

    started = time.perf_counter()
    summary = (link_new if incremental else link)(url, f"select * from {SOURCE}")
    summary["wall_seconds"] = round(time.perf_counter() - started, 2)
    with psycopg.connect(url) as conn:
        summary["clusters"] = dict(conn.execute("select record_uid, person_id from identity.record_person").fetchall())
        summary["refusals"] = conn.execute("select uid_a, uid_b, refused_reason from identity.match_pairs "
                                           "where refused_reason is not null").fetchall()
    return summary


def _run_baseline(url: str) -> dict:
    from baseline_linker import link
    from lienthong.linking.records import INPUT_COLUMNS

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        rows = [dict(zip(INPUT_COLUMNS, r)) for r in
                conn.execute(f"select {', '.join(INPUT_COLUMNS)} from {SOURCE}").fetchall()]
    clusters = link(rows)
    return {"clusters": clusters, "wall_seconds": round(time.perf_counter() - started, 2)}


def _ids(url: str) -> dict[str, str | None]:
    """Record uid -> the ID as delivered, digits only."""
    from lienthong.linking.records import record_uid

    with psycopg.connect(url) as conn:
        rows = conn.execute(f"select org_code, source_record_key, id_number from {SOURCE}").fetchall()
    return {record_uid(org, key): re.sub(r"\D", "", number or "") or None for org, key, number in rows}


def _refusals(refusals: list[tuple[str, str, str]], truth: dict) -> dict[str, dict[str, int]]:
    """Per clustering rule: the links it refused between two people (right) and within one (recall lost
    unless linked through other records)."""
    counts: dict[str, dict[str, int]] = {}
    for a, b, reason in refusals:
        if a in truth and b in truth:
            row = counts.setdefault(reason, {"different_people": 0, "same_person": 0})
            row["same_person" if truth[a].person == truth[b].person else "different_people"] += 1
    return dict(sorted(counts.items()))


_SHORT_LABELS = ((re.compile(r"^Exact match"), "same"), (re.compile(r"^Damerau-Levenshtein"), "one edit"),
                 (re.compile(r"^All other comparisons"), "differ"))


def _level_labels(model: dict) -> dict[str, dict[int, str]]:
    """Per comparison of a trained model (Splink's JSON): gamma value -> its level's label, shortened
    (the null level is -1, the others count down to 0 in order)."""
    out = {}
    for comparison in model["comparisons"]:
        rest = [lv.get("label_for_charts", "") for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for pattern, short in _SHORT_LABELS:
            rest = [short if pattern.match(label) else label for label in rest]
        out[comparison["output_column_name"]] = {-1: "null", **{len(rest) - 1 - i: lv for i, lv in enumerate(rest)}}
    return out


def _missed(url: str, clusters: dict[str, str], truth: dict, ids: dict[str, str | None]) -> dict[str, dict]:
    """Where the true pairs the linker did not put together went, each pair once: ``refused: <rule>``
    (the pair itself refused), ``linked score, not linked`` (at or above the link threshold with no
    refusal of its own: another pair across the two clusters was refused, or a record fits two), ``review
    band`` (review floor to link threshold), ``below review floor`` (stored: evidence floor to review
    floor), ``blocked, below evidence floor`` (compared, not stored), ``never compared`` (no blocking
    rule holds; ``, a rule would refuse: <rule>`` when a clustering rule refuses the pair on its own,
    so a blocking rule reaching it would not link it). For all missed pairs and for those whose records
    share no exact ID; and, per place a scored pair went, its comparison levels (the most frequent
    profiles: the levels other than agreement on sex, as the model labels them)."""

    from lienthong.linking import engine, load_policy
    from lienthong.linking.conflicts import RecordFacts, corroborated, pair_conflict, year_alone
    from lienthong.linking.run import source_habits

    policy = load_policy()
    by_person: dict[str, list[str]] = {}
    for uid in clusters:
        if uid in truth:
            by_person.setdefault(truth[uid].person, []).append(uid)
    missed = [(a, b) for members in by_person.values() for i, a in enumerate(sorted(members))
              for b in sorted(members)[i + 1:] if clusters[a] != clusters[b]]
    with psycopg.connect(url) as conn:
        scored = {}
        for a_col, b_col in (("uid_a", "uid_b"), ("uid_b", "uid_a")):
            rows = conn.execute(f"select m.{a_col}, m.{b_col}, m.match_probability, m.refused_reason, m.evidence "
                                f"from identity.match_pairs m join unnest(%s::text[], %s::text[]) as t(a, b) "
                                f"on m.{a_col} = t.a and m.{b_col} = t.b",
                                ([a for a, _ in missed], [b for _, b in missed])).fetchall()
            scored |= {(a, b): (p, reason, evidence) for a, b, p, reason, evidence in rows}
        unscored = sorted({u for pair in missed if pair not in scored for u in pair})
        cur = conn.execute("select * from identity.records where record_uid = any(%s)", (unscored,))
        names = [d.name for d in cur.description]
        features = {row[names.index("record_uid")]: dict(zip(names, row)) for row in cur.fetchall()}
        name_counts = dict(conn.execute("select given_key, count(*) from identity.records "
                                        "where given_key is not null group by given_key").fetchall())
        model = conn.execute("select settings from identity.model order by model_id desc limit 1").fetchone()[0]
        habits = source_habits(conn, policy)
    labels = _level_labels(model)

    def unscored_rule(a: str, b: str) -> str | None:
        x, y = RecordFacts.from_features(features[a], habits), RecordFacts.from_features(features[b], habits)
        if reason := pair_conflict(x, y, name_counts, policy):
            return reason
        if not corroborated(x, y, policy):
            return "nothing agrees but name and place"
        return "a bare entry: only the year agrees with a documented record" if year_alone(x, y, policy) else None

    def bucket(a: str, b: str) -> str:
        if (a, b) in scored:
            probability, reason, _ = scored[(a, b)]
            if reason:
                return f"refused: {reason}"
            if probability >= policy.link_threshold:
                return "linked score, not linked"
            return "review band" if probability >= policy.review_floor else "below review floor"
        where = "blocked, below evidence floor" if engine.blocked_by(features[a], features[b]) else "never compared"
        rule = unscored_rule(a, b)
        return f"{where}, a rule would refuse: {rule}" if rule else where

    def profile(evidence: dict) -> str:
        return ", ".join(f"{column.removesuffix('_key')} {labels[column].get(evidence.get(f'gamma_{column}'), '?')}"
                         for column in labels if column != "sex")

    out: dict[str, dict] = {"all": {}, "no_shared_id": {}}
    profiles: dict[str, Counter] = {}
    for a, b in missed:
        where = bucket(a, b)
        out["all"][where] = out["all"].get(where, 0) + 1
        if not ids.get(a) or ids.get(a) != ids.get(b):
            out["no_shared_id"][where] = out["no_shared_id"].get(where, 0) + 1
        if (a, b) in scored:
            profiles.setdefault(where, Counter())[profile(scored[(a, b)][2] or {})] += 1
    result: dict[str, dict] = {k: dict(sorted(v.items(), key=lambda kv: -kv[1])) for k, v in out.items()}
    result["levels"] = {where: dict(counter.most_common(3)) for where, counter in profiles.items()}
    return result


def _merged(base: dict, overrides: dict) -> dict:
    out = dict(base)
    for key, value in overrides.items():
        out[key] = _merged(base.get(key) or {}, value) if isinstance(value, dict) else value
    return out


def _generate(setting: dict, sample: Path) -> None:
    from lienthong.sample import generate
    from lienthong.sample.noise import load_noise

    sample.mkdir(parents=True, exist_ok=True)
    noise = sample.parent / f"{sample.name}-noise.yml"
    noise.write_text(yaml.safe_dump(_merged(load_noise(), setting.get("noise", {})), allow_unicode=True),
                     encoding="utf-8")
    print(f"generating {setting} into {sample} ...", flush=True)
    generate(setting["scale"], setting["seed"], sample, people=setting.get("people"), days=setting.get("days"),
             noise_config=noise)


def _print_scores(label: str, figures: dict) -> None:
    print(f"{label}: precision {figures['precision']}, recall {figures['recall']}, F1 {figures['f1']}, "
          f"recall without shared ID {figures['recall_no_shared_id']} ({figures['true_pairs_no_shared_id']:,} pairs), "
          f"ghosts merged {figures['ghosts_merged']} of {figures['ghost_records']}, "
          f"people {figures['people_found']:,} found vs {figures['people_true']:,} true", flush=True)
    for kind, row in figures["ghosts_merged_per_kind"].items():
        print(f"  {label} ghosts {kind}: {row['merged']} of {row['records']:,} merged", flush=True)
    for kind, row in figures["per_hard_negative"].items():
        print(f"  {label} hard negatives {kind}: {row['merged']} of {row['people_pairs']:,} pairs of people merged; "
              f"precision {row['precision']}, recall {row['recall']} on their records", flush=True)
    for kind, row in figures["per_noise_kind"].items():
        print(f"  {label} noise {kind}: precision {row['precision']}, recall {row['recall']} "
              f"({row['true_pairs']:,} true pairs)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", default=None, help="a setting of bench/matching_settings.yml")
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sample", type=Path, default=None, help="an existing sample folder")
    parser.add_argument("--org-configs", type=Path, default=None,
                        help="read the rolls through these organisation configs (default: the sample's "
                             "configs/ folder when it has one, as bench/xgen.py writes; else the generator's shapes)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the bench's PostgreSQL data (stopped) in this folder, to study the scored pairs")
    args = parser.parse_args()

    if args.setting:
        setting = yaml.safe_load(SETTINGS.read_text(encoding="utf-8"))[args.setting]
        name = args.setting
    else:
        setting, name = {"scale": args.scale, "seed": args.seed}, f"{args.scale}-{args.seed}"
    sample = args.sample or ROOT / ".lienthong" / "bench" / f"sample-{name}"
    configs = args.org_configs or (sample / "configs" if (sample / "configs").is_dir() else None)
    if configs and not args.setting:  # a sample of its own senders: name it by its folder and seed
        manifest = json.loads((sample / "manifest.json").read_text(encoding="utf-8"))
        setting, name = {"scale": manifest.get("generator", "own configs"), "seed": manifest.get("seed")}, sample.name
    if not (sample / "manifest.json").exists():
        _generate(setting, sample)
    from lienthong.sample.linking_input import delivery_dates
    from lienthong.warehouse import ensure_ready
    from lienthong.warehouse.embedded import EmbeddedPostgres

    from lienthong.sample.link_scoring import noise_mix, read_hard_negatives, read_truth, score_linking

    days = delivery_dates(sample)
    truth = read_truth(sample)
    hard_negatives = read_hard_negatives(sample)
    base = args.keep or Path(tempfile.mkdtemp(prefix="lienthong-bench-pg-"))
    server = EmbeddedPostgres(base / "pgdata", free_port())
    url = server.start()
    try:
        ensure_ready(url)
        loaded = _load_source(url, sample, days[-2], configs)
        print(f"{name}: {loaded:,} records delivered up to {days[-2]}", flush=True)
        full, full_mb = _in_child(_run_linker, url, False)
        print(f"full run: {full['wall_seconds']} s, {full_mb:.0f} MB, {full['pairs_scored']:,} pairs scored, "
              f"timings {full['timings']}", flush=True)
        total = _load_source(url, sample, days[-1], configs)
        night, night_mb = _in_child(_run_linker, url, True)
        print(f"incremental run ({days[-1]}): {night['changed']:,} new or changed of {total:,} records in "
              f"{night['wall_seconds']} s, {night_mb:.0f} MB, timings {night['timings']}", flush=True)
        ids = _ids(url)
        ours = score_linking(night["clusters"], truth, ids, hard_negatives)
        _print_scores("linker", ours)
        ours["refused_by_rule"] = _refusals(night["refusals"], truth)
        for reason, row in ours["refused_by_rule"].items():
            print(f"  linker refused ({reason}): {row['different_people']} pairs of two people, "
                  f"{row['same_person']} of one person", flush=True)
        ours["missed_pairs"] = _missed(url, night["clusters"], truth, ids)
        for subset, label in (("all", "true pairs missed"), ("no_shared_id", "true pairs missed, no shared ID")):
            where_went = ours["missed_pairs"][subset].items()
            print(f"  linker {label}: " + ", ".join(f"{where} {n}" for where, n in where_went), flush=True)
        for where, counts in ours["missed_pairs"]["levels"].items():
            for levels, n in counts.items():
                print(f"  linker missed, {where}: {n} x {levels}", flush=True)
        figures = {
            "bench": "matching", "setting": name, "scale": setting["scale"], "seed": setting["seed"],
            "records": total, "noise_mix": noise_mix({u: truth[u] for u in night["clusters"] if u in truth}),
            "linker": {**ours, "seconds": full["wall_seconds"], "peak_memory_mb": round(full_mb, 1),
                       "review_queue": night["review_queue"], "persons": night["persons"]},
            "incremental": {"day": days[-1], "changed": night["changed"], "seconds": night["wall_seconds"],
                            "peak_memory_mb": round(night_mb, 1),
                            "fraction_of_full": round(night["wall_seconds"] / full["wall_seconds"], 3),
                            "events": night["events"]},
        }
        baseline = None
        if not args.no_baseline:
            try:
                baseline, baseline_mb = _in_child(_run_baseline, url)
            except BrokenProcessPool as err:  # killed, e.g. out of memory: report it, keep our figures
                print(f"baseline: failed ({err})", flush=True)
                figures["baseline"] = {"error": str(err)}
        if baseline is not None:
            theirs = score_linking(baseline["clusters"], truth, ids, hard_negatives)
            _print_scores("baseline", theirs)
            print(f"baseline: {baseline['wall_seconds']} s, {baseline_mb:.0f} MB", flush=True)
            figures["baseline"] = {**theirs, "seconds": baseline["wall_seconds"],
                                   "peak_memory_mb": round(baseline_mb, 1)}
            figures["linker_vs_baseline"] = {
                "time": round(full["wall_seconds"] / baseline["wall_seconds"], 2),
                "peak_memory": round(full_mb / baseline_mb, 2)}
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
