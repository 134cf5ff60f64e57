"""Refit the suspicion score's weights (dbt_project/seeds/review_score_weights.csv) on the planted
truth of DEMO-like samples (the demo settings' rates, several seeds and sizes, full and roll-only
deliveries), never on the untuned settings of bench/review_settings.yml.

    uv run python bench/fit_review_weights.py [--method joint|naive-bayes] [--l2 X] [--strength 2]
        [--precision 0.9] [--confidence 0.9] [--reuse | --refit] [--layout-sample all|one|withheld|withheld-bare]

Since the seventh pass the weights are fitted jointly (`--method joint`, the default): an
L2-penalised logistic regression on the rules' booleans (lienthong.sample.score_weights.fit_joint),
so rules that fire together (a missing ID's companions: no phone, one roll, a recent joining date)
share their evidence instead of each adding it; the penalty is the one of L2_GRID whose
leave-one-sample-out folds (each sample predicted by weights fitted on the others) have the least
log-loss, unless `--l2` sets it. `--method naive-bayes` fits the earlier passes' weights (below),
kept to compare against.

Naive-Bayes (Fellegi-Sunter) weights, in two strata: records without a valid ID and records with
one. Per stratum, a rule's weight is the log of how much likelier it fires on a planted ghost than
on a real member, log(P(fires | ghost) / P(fires | real)), each rate an m-estimate (`--strength`
pseudo-records at the stratum's overall rate) so that a rule never seen on a real member gets a
large but finite weight and one seen on few ghosts a weight near 0. Fitting each rule's
weight alone (not jointly, as a logistic regression does) keeps it from depending on how often the
demo's ghosts show several tells at once, which is what other generator settings change; weighting
by stratum is the interaction with the missing ID (a placeholder phone says more beside one).
Dues and attendance rules are fitted only on samples whose deliveries can fire them. The intercept
is the log-odds of a ghost among records with an ID, no_identity's weight the step to the log-odds
among records without one. The samples carry GHOST_BOOST times the demo's rate of ghosts (every
ghost's tells drawn at the demo's rates): the per-rule rates get that many more ghosts to count, and
each ghost counts as 1/GHOST_BOOST of one in the intercept and in the precision below, so both are
the demo's. One intercept per delivery shape: `intercept` where dues or activities are delivered,
`intercept_roll_only` where only the roll is (the fitting samples seen with the dues and attendance
rules off), `intercept_partial` with its own delivery weights (`<term>_partial`) where one of them is
(the third sample's sender of no dues; vars.review.partial_deliveries `own`), and the term `seen_in_deliveries` where dues or activities are delivered and no ghost
rule reading them fired (the person paid or attended: nearly every ghost fires one). Each intercept
is shifted so that the default threshold (vars.review.suspicion_threshold) sits where that shape's
cross-validated threshold lies: each fitting sample scored by weights fitted on the others (a fold),
the lowest threshold at which the folds' mean precision less their spread (a one-sided prediction
bound at `--confidence` for one more sample) keeps `--precision`. Prints the
weights, each shape's threshold before the shift and the F1 maximum, writes the seed, then one
JSON line.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import psycopg
import yaml

sys.path.insert(0, str(Path(__file__).parent))
import review  # noqa: E402  (bench/review.py: building one setting)

WEIGHTS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "review_score_weights.csv"
# (setting of review_settings.yml whose rates and deliveries are used, seed, people, hard cases): demo-like only.
# Full deliveries only: a roll-only sample holds the same records and labels with fewer rules able
# to fire, so it adds nothing to weights fitted per rule where the rule can fire.
# The second and fourth samples also hold the hard cases at their default rates (households, twins,
# ghosts copying a member onto another organisation's roll, blank birth dates: docs/sample_data.md),
# which the demo leaves out and real rolls hold: the weights see real namesakes and copies across rolls.
# Four samples, so that the cross-validated threshold has four folds to estimate its margin from.
# (Two more with a poorer province's record-keeping of real members were tried in the sixth pass:
# they made that margin so wide that recall fell on every tuning setting; docs/review.md.)
# The fifth element is None or (layout, organisations): a roll layout of LAYOUTS written by that many
# of the sample's organisations (None: all), those whose rolls leave the ID out most often (noise.yml
# id_missing; a register kept without phones and birth dates is the one kept without IDs).
# Since the eleventh pass the third is delivered as `demo_dues_withheld` delivers (one sender of its
# roll and activities but no dues: the score's partial sender, whose own `<term>_partial` weights are
# learned on it). The same seed, people and rates as before, so the same rolls: the roll's weights and
# the roll-only threshold are what the four all-full samples gave; only the delivered shape differs.
FIT_ON = (("demo_full", 42, 9000, False, None), ("demo_full", 314, 10000, True, None),
          ("demo_dues_withheld", 1001, 9000, False, None), ("demo_full", 2002, 10000, True, None))
# Roll layouts as noise.yml rates, set for the chosen organisations (over their own rates). "bare":
# what the demo never shows and real senders send (bench/xgen.py's Red Cross roll): no phone, a year
# of birth only, no join date, where a real member who never attends carries every tell a made-up
# name does. `--layout-sample all|one` adds a fifth sample laid out so (every organisation's roll, or
# the one leaving IDs out most often); tried in the ninth pass and not adopted (docs/review.md).
LAYOUTS = {"bare": {"phone_missing": 1.0, "birth_year_only": 1.0, "join_date_missing": 1.0}}
# `withheld`, `withheld-bare` (issue #20's eleventh pass): a fifth sample of `demo_dues_withheld`, one
# sender delivering its roll and activities but no dues (the score's partial sender, whose own
# `<term>_partial` weights the fit learns only from such a sample), its roll as generated or laid out
# bare ("withheld": the organisations the setting withholds entities from).
LAYOUT_SAMPLES = {"all": ("demo_full", 5005, 9000, False, ("bare", None)),
                  "one": ("demo_full", 5005, 9000, False, ("bare", 1)),
                  "withheld": ("demo_dues_withheld", 5005, 9000, False, None),
                  "withheld-bare": ("demo_dues_withheld", 5005, 9000, False, ("bare", "withheld"))}


def laid_out(noise: dict, organisations: list[str], count: int | str | None, setting: dict | None = None) -> list[str]:
    """The organisations a layout applies to: all, the `count` leaving the ID out most often, or
    ("withheld") those the setting withholds deliveries from."""
    from lienthong.sample.noise import rates_for

    if count == "withheld":
        return sorted((setting or {}).get("withheld") or {})
    ranked = sorted(organisations, key=lambda org: (-rates_for(noise, org).get("id_missing", 0.0), org))
    return ranked if count is None else ranked[:count]


# Ghosts planted at this many times the demo's rate in the fitting samples (the demo plants about
# one per 250 records: some fifty ghosts in 30,000 people are too few to weigh a rule firing on a
# fifth of them); the hard cases' ghost copies likewise.
GHOST_BOOST = 5
# Penalties (log-odds², per unit of weight) the joint fit chooses among by held-out log-loss.
L2_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
SCORED_SUGGESTIONS = ("ghost", "ineligible")


def sample_name(setting_name: str, seed: int, people: int, hard_cases: bool, layout: tuple | None) -> str:
    """The fitting sample's folder and database name (bench-review-fit/NAME)."""
    return (f"fit_{setting_name}_{seed}_{people}_x{GHOST_BOOST}" + ("_hard" if hard_cases else "")
            + (f"_{layout[0]}{layout[1] or ''}" if layout else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=("joint", "naive-bayes"), default="joint",
                        help="joint: penalised logistic regression; naive-bayes: each rule weighed alone")
    parser.add_argument("--l2", type=float, help="the joint fit's penalty (default: chosen by held-out log-loss)")
    parser.add_argument("--strength", type=float, default=2.0,
                        help="naive-bayes: pseudo-records of the m-estimate behind each rate")
    parser.add_argument("--precision", type=float, default=0.9,
                        help="the precision the default threshold keeps on samples not fitted on (the goal's)")
    parser.add_argument("--confidence", type=float, default=0.9,
                        help="how sure: the held-out folds' prediction bound on a new sample's precision at this level")
    parser.add_argument("--reuse", action="store_true",
                        help="samples kept by an earlier run: rebuild only their review models, then refit")
    parser.add_argument("--refit", action="store_true",
                        help="refit on the rules' booleans the last run kept (another --strength, in seconds;"
                             " a sample not kept yet is built)")
    parser.add_argument("--layout-sample", choices=tuple(LAYOUT_SAMPLES),
                        help="add a fifth sample whose rolls (all, or one) are laid out bare (LAYOUTS), or one"
                             " whose sender of no dues is (withheld-bare) or is not (withheld)")
    args = parser.parse_args()
    from lienthong.config.settings import load_settings
    from lienthong.sample.deliveries import load_shapes
    from lienthong.sample.noise import load_noise
    from lienthong.sample.score_weights import (best_threshold, calibrate_intercepts, fit, fit_joint, log_loss,
                                                precision_recall_at, scores)
    from lienthong.sample.scoring import ghost_labels
    from lienthong.warehouse import resolve_url

    declared = yaml.safe_load(review.SETTINGS_FILE.read_text(encoding="utf-8"))["settings"]
    project = yaml.safe_load((WEIGHTS.parents[1] / "dbt_project.yml").read_text(encoding="utf-8"))
    kinds = [rule["kind"] for rule in project["vars"]["review_flags"]]
    settings = load_settings()
    base = settings.state_dir / "bench-review-fit"
    base.mkdir(parents=True, exist_ok=True)
    server_url = resolve_url(settings, start=True)
    samples = []
    fit_on = list(FIT_ON) + ([LAYOUT_SAMPLES[args.layout_sample]] if args.layout_sample else [])
    for setting_name, seed, people, hard_cases, layout in fit_on:
        name = sample_name(setting_name, seed, people, hard_cases, layout)
        declared_noise = declared[setting_name].get("noise", {})
        rates = review._merge(load_noise(), declared_noise)
        boosted = {"ghosts": {"fabricated": rates["ghosts"]["fabricated"] * GHOST_BOOST}}
        if hard_cases:
            boosted["hard_cases"] = {"enabled": True, "ghost_copy": rates["hard_cases"]["ghost_copy"] * GHOST_BOOST}
        if layout:
            boosted["organisations"] = {org: LAYOUTS[layout[0]]
                                        for org in laid_out(rates, sorted(load_shapes()), layout[1],
                                                            declared[setting_name])}
        setting = {**declared[setting_name], "seed": seed, "people": people,
                   "noise": review._merge(declared_noise, boosted)}
        # A built sample is kept (its own database and folder), so a refit after a rule change
        # rebuilds only the review models (--reuse) instead of generating, landing and linking again.
        cache = base / f"{name}.json"
        if args.refit and cache.exists():  # a sample no run has kept yet is built below
            cached = json.loads(cache.read_text())
            if cached["kinds"] != kinds:
                raise SystemExit(f"{cache} holds other rules; run with --reuse to rebuild its review models")
            samples.append(cached)
            continue
        if args.reuse and (base / name / "sample" / "manifest.json").exists():
            url, sample, period = review.rescore_setting(name, setting, base, server_url)
        else:
            url, sample, period = review.build_setting(name, setting, base, server_url)
        with psycopg.connect(url) as conn:
            features, labels, partial = ghost_labels(conn, sample, period, kinds)
        samples.append({"kinds": kinds, "features": features, "labels": labels, "partial": partial,
                        "boost": GHOST_BOOST})
        cache.write_text(json.dumps(samples[-1]))
        print(f"  {name}: {len(labels)} records, {sum(labels)} planted ghosts", flush=True)
    # The score weighs what points to a made-up member; duplicates, departures and inactivity are
    # other problems with their own flags (a real member who stopped coming is not a ghost).
    scored = {rule["kind"] for rule in project["vars"]["review_flags"] if rule["suggests"] in SCORED_SUGGESTIONS}
    # The rules that read dues or attendance (`reads: deliveries`): off on a roll-only delivery.
    delivery_rules = tuple(rule["kind"] for rule in project["vars"]["review_flags"] if rule.get("reads") == "deliveries")
    # Of those, the ghost rules: where none fired, rpt_member_flags adds seen_in_deliveries (a record
    # that only stopped paying still paid or attended once); scored here as there.
    tells = tuple(kind for kind in delivery_rules if kind in scored)
    # The fitting samples seen as roll-only deliveries: those rules off, the rest as they are.
    roll_only = [{**s, "roll_only": True, "features": [[0 if kind in delivery_rules else f for kind, f in zip(kinds, x)]
                                                       for x in s["features"]]} for s in samples]
    parameter, held_out_loss = args.strength, {}
    if args.method == "joint":
        # Each penalty's folds: a sample, as delivered and seen as roll-only, predicted by weights
        # fitted on the others; the least log-loss wins (ties to the stronger penalty).
        for l2 in ([args.l2] if args.l2 is not None else L2_GRID):
            folds = [(fit_joint(samples[:i] + samples[i + 1:], kinds, scored, l2, tells), i)
                     for i in range(len(samples))]
            held_out_loss[l2] = sum(log_loss([samples[i], roll_only[i]], kinds, w, tells) for w, i in folds)
            print(f"  l2 {l2}: held-out log-loss {held_out_loss[l2]:.1f}", flush=True)
        parameter = min(held_out_loss, key=lambda l2: (round(held_out_loss[l2], 6), -l2))

    def method(fitting: list[dict]) -> dict:
        return (fit_joint if args.method == "joint" else fit)(fitting, kinds, scored, parameter, tells)

    weights = method(samples)
    # Each shape's threshold from leave-one-sample-out folds: each sample scored by weights fitted on
    # the others, as a setting not fitted on is (in-sample scores flatter the precision).
    held_out = [method(samples[:i] + samples[i + 1:]) for i in range(len(samples))]
    shapes = {term: [(w, [shaped[i]]) for i, w in enumerate(held_out)]
              for term, shaped in (("intercept", samples), ("intercept_roll_only", roll_only))}
    default = float(project["vars"]["review"]["suspicion_threshold"])
    shape_thresholds = calibrate_intercepts(weights, shapes, kinds, args.precision, default, tells,
                                            args.confidence)
    with WEIGHTS.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["term", "weight", "weight_with_id"])
        writer.writerows((term, round(a, 3), round(b, 3)) for term, (a, b) in weights.items())
    scored_records = scores(samples, kinds, weights, tells)
    scored_roll_only = scores(roll_only, kinds, weights, tells)
    threshold, f1 = best_threshold(scored_records)
    precision, recall = precision_recall_at(scored_records, default)
    roll_precision, roll_recall = precision_recall_at(scored_roll_only, default)
    print(f"  {'term':20} {'no ID':>7} {'with ID':>8}")
    for term, (a, b) in weights.items():
        print(f"  {term:20} {a:+7.2f} {b:+8.2f}")
    print(f"  threshold maximising F1 on the fitting data (full deliveries, calibrated): {threshold} (F1 {f1:.3f})")
    print(f"  lowest threshold keeping precision {args.precision} on held-out samples ({args.confidence} prediction"
          f" bound) before calibration: full {shape_thresholds['intercept']:.4f},"
          f" roll-only {shape_thresholds['intercept_roll_only']:.4f}; intercepts shifted so both sit at"
          f" vars.review.suspicion_threshold {default} (full: precision {precision}, recall {recall:.3f};"
          f" roll-only: precision {roll_precision}, recall {roll_recall:.3f})")
    records = sum(len(s["labels"]) for s in samples)
    ghosts = sum(sum(s["labels"]) for s in samples)
    print(json.dumps({"bench": "fit_review_weights", "fitted_on": [list(f) for f in fit_on], "records": records,
                      "ghosts": ghosts, "ghost_boost": GHOST_BOOST, "method": args.method,
                      "l2": parameter if args.method == "joint" else None,
                      "held_out_log_loss": {str(k): round(v, 1) for k, v in held_out_loss.items()},
                      "strength": args.strength if args.method == "naive-bayes" else None,
                      "best_threshold": threshold, "best_f1": round(f1, 3), "precision_target": args.precision,
                      "confidence": args.confidence,
                      "default_threshold": default,
                      "shape_thresholds": {t: round(v, 4) for t, v in shape_thresholds.items()}, "default_precision": precision and round(precision, 3),
                      "default_recall": round(recall, 3), "roll_only_precision": roll_precision and round(roll_precision, 3),
                      "roll_only_recall": round(roll_recall, 3),
                      "weights": {t: [round(a, 3), round(b, 3)] for t, (a, b) in weights.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
