"""Benchmark of the periodic review's ghost detection: for each generator setting of
bench/review_settings.yml, generate the sample, land its first (full-roll) delivery, build the
warehouse with person linking, and score every ghost flag and the suspicion score against the
sample's planted truth: flagged, precision, recall, and the score's precision at recall 0.9.

    uv run python bench/review.py [--only NAME ...] [--keep] [--rescore]
    uv run python bench/review.py --sample DIR [--sample DIR ...] [--keep]   # samples with their own configs

A ``--sample`` folder (bench/xgen.py writes one) brings its senders' organisation configs in
``configs/``; it is landed and scored as it is (full or roll-only as its manifest says), nothing
generated. A setting delivers `full` or `roll_only` for every organisation; its `withheld`
(organisation code: entity kinds) takes entities out of one organisation's deliveries only (e.g. a
sender of its roll and activities but no dues: `demo_dues_withheld`).

Each setting gets its own database on the project's warehouse server (LIENTHONG_PG_PORT) and its
own folder under the state folder (bench-review/NAME), dropped afterwards unless --keep. Prints a
table per setting, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import yaml

SETTINGS_FILE = Path(__file__).with_name("review_settings.yml")
# The rules printed per sender: two of the five haves, judged only where a sender delivers them.
BY_ORG = ("no_dues", "no_attendance")


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(base.get(key, {}), value) if isinstance(value, dict) else value
    return merged


ROLL = ("roster", "roster_changes")


def _shaped_configs(target: Path, setting: dict) -> Path:
    """The package's organisation configs in the setting's delivery shape: with `deliveries: roll_only`
    only the roll (roster, roster changes) of every organisation; `withheld` (organisation code: entity
    kinds, settings data) takes those entities out of that organisation's deliveries only, e.g. a sender
    that delivers its roll and activities but no dues. Entities that are not sent are not delivered."""
    from lienthong.config.organisations import CONFIG_DIR

    withheld = setting.get("withheld") or {}
    shutil.copytree(CONFIG_DIR, target, dirs_exist_ok=True)
    for path in target.glob("*.yml"):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        dropped = set(withheld.get(config.get("code"), ()))
        if setting["deliveries"] == "roll_only":
            dropped |= {e["kind"] for e in config["entities"] if e["kind"] not in ROLL}
        if dropped & set(ROLL):
            raise ValueError(f"{config.get('code')}: the roll is always delivered, not {sorted(dropped & set(ROLL))}")
        config["entities"] = [e for e in config["entities"] if e["kind"] not in dropped]
        path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
        rules = path.parent / config["quality_rules"] if isinstance(config.get("quality_rules"), str) else None
        if rules and rules.exists():  # checks of entities no longer sent would not load
            checks = yaml.safe_load(rules.read_text(encoding="utf-8")) or {}
            rules.write_text(yaml.safe_dump({k: v for k, v in checks.items() if k not in dropped}, allow_unicode=True,
                                            sort_keys=False), encoding="utf-8")
    unknown = set(withheld) - {yaml.safe_load(p.read_text(encoding="utf-8")).get("code") for p in target.glob("*.yml")}
    if unknown:
        raise ValueError(f"withheld names no organisation config: {sorted(unknown)}")
    return target


def _shaped(setting: dict) -> bool:
    """Whether the setting delivers other than every organisation's full deliveries."""
    return setting["deliveries"] == "roll_only" or bool(setting.get("withheld"))


@contextmanager
def _environment(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _sample_dir(folder: Path, setting: dict) -> Path:
    """A given sample (--sample), else the one generated into the setting's folder."""
    return Path(setting["sample"]) if "sample" in setting else folder / "sample"


def _setting_env(folder: Path, sample: Path, url: str, setting: dict) -> dict[str, str]:
    env = {"LIENTHONG_WAREHOUSE_URL": url, "LIENTHONG_STATE_DIR": str(folder / "state"),
           "LIENTHONG_SAMPLE_DIR": str(sample), "LIENTHONG_DROP_DIR": str(sample / "deliveries"),
           "LIENTHONG_REFERENCE_DIR": str(sample / "reference")}
    if "sample" in setting:
        env["LIENTHONG_ORG_CONFIG_DIR"] = str(sample / "configs")
    elif _shaped(setting):
        env["LIENTHONG_ORG_CONFIG_DIR"] = str(folder / "configs")
    return env


def _database_url(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + "/" + f"bench_review_{name}".replace("-", "_")


def rescore_setting(name: str, setting: dict, base: Path, server_url: str) -> tuple[str, Path, str]:
    """Rebuild only the review's flags and score of a setting kept by --keep (new rules or weights)."""
    from lienthong.config.settings import load_settings
    from lienthong.pipeline.dbt_env import run_dbt

    folder, url = base / name, _database_url(server_url, name)
    sample = _sample_dir(folder, setting)
    manifest = json.loads((sample / "manifest.json").read_text())
    with _environment(_setting_env(folder, sample, url, setting)):
        settings = load_settings()
        # The weights seed and what reads it (rpt_member_flag_rules, not downstream of the records),
        # and the review from the member status on (how long since dues and attendance); in full: a
        # build keeps closed periods as issued, and new rules or weights must reach every period.
        run_dbt(settings, url, "build", "--full-refresh", "--select", "review_score_weights+",
                "int_review__member_status+")
    return url, sample, manifest["deliveries"]["from"][:7]


def build_setting(name: str, setting: dict, base: Path, server_url: str) -> tuple[str, Path, str]:
    """Generate, land, link and build one setting; return its database URL, sample folder and period."""
    from lienthong.sample.generator import generate
    from lienthong.sample.noise import load_noise

    folder = base / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    sample = _sample_dir(folder, setting)
    if "sample" not in setting:
        noise_path = folder / "noise.yml"
        noise_path.write_text(yaml.safe_dump(_merge(load_noise(), setting.get("noise", {})), allow_unicode=True),
                              encoding="utf-8")
        generate(setting.get("scale", "custom"), setting["seed"], sample, people=setting.get("people"),
                 noise_config=noise_path)
    manifest = json.loads((sample / "manifest.json").read_text())
    day = dt.date.fromisoformat(manifest["deliveries"]["from"])

    url = _database_url(server_url, name)
    with psycopg.connect(server_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{url.rsplit("/", 1)[1]}" with (force)')
        conn.execute(f'create database "{url.rsplit("/", 1)[1]}"')
    if _shaped(setting) and "sample" not in setting:
        _shaped_configs(folder / "configs", setting)
    with _environment(_setting_env(folder, sample, url, setting)):
        from lienthong.config.organisations import load_organisations
        from lienthong.config.settings import load_settings
        from lienthong.landing.ingest import ingest
        from lienthong.pipeline.dbt_env import build_warehouse
        from lienthong.pipeline.sample_sources import sample_api_connections
        from lienthong.warehouse import ensure_ready

        settings = load_settings()
        ensure_ready(url)
        with sample_api_connections(settings, dict(os.environ)) as served, _environment(served):
            for org in load_organisations():
                for entity in org.entities:
                    ingest(org.code, entity.kind, day, settings=settings)
        build_warehouse(settings, url)
    return url, sample, day.strftime("%Y-%m")


def score_setting(url: str, sample: Path, period: str) -> dict:
    from lienthong.sample.scoring import flag_scores, suspicion_scores

    with psycopg.connect(url) as conn:
        records = conn.execute("select count(*) from intermediate.int_review__record_flags where period_key = %s",
                               (period,)).fetchone()[0]
        orgs = [org for (org,) in conn.execute("select distinct org_code from intermediate.int_review__record_flags"
                                               " where period_key = %s order by 1", (period,))]
        # Per sender (organisation): senders differ in what they deliver (join dates, dues, a phone column).
        by_org = {org: {"flags": flag_scores(conn, sample, period, org),
                        "score": suspicion_scores(conn, sample, period, org)} for org in orgs}
        return {"records": records, "flags": flag_scores(conn, sample, period),
                "score": suspicion_scores(conn, sample, period), "by_org": by_org}


def _print(name: str, setting: dict, result: dict) -> None:
    print(f"\n{name} (seed {setting['seed']}, {setting['deliveries']}, {result['records']} records reviewed)")
    print(f"  {'flag':26} {'flagged':>8} {'planted':>8} {'precision':>9} {'recall':>7}")
    rows = [*result["flags"].items(), ("SCORE >= threshold", result["score"])]
    for kind, s in rows:
        print(f"  {kind:26} {s['flagged']:8} {s['planted']:8} {s['precision']!s:>9} {s['recall']!s:>7}")
    score = result["score"]
    print(f"  score: threshold {score['threshold']}, precision at recall 0.9: {score['precision_at_recall_0_9']}")
    print(f"  per sender (flagged / planted / precision / recall; every rule in the JSON line):"
          f" {', '.join(BY_ORG)}, score")
    for org, scores in result["by_org"].items():
        cells = [scores["flags"].get(kind) for kind in BY_ORG] + [scores["score"]]
        print(f"  {org:26} " + "   ".join(f"{s['flagged']} / {s['planted']} / {s['precision']} / {s['recall']}"
                                            for s in cells if s))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="run only this setting (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and folders")
    parser.add_argument("--rescore", action="store_true",
                        help="settings kept by an earlier --keep run: rebuild only the review models and score")
    parser.add_argument("--sample", action="append", type=Path,
                        help="a sample folder with its own configs/ (bench/xgen.py) instead of the settings")
    args = parser.parse_args()
    from lienthong.config.settings import load_settings
    from lienthong.warehouse import resolve_url

    declared = yaml.safe_load(SETTINGS_FILE.read_text(encoding="utf-8"))["settings"]
    if args.sample:
        declared = {}
        for path in args.sample:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
            declared[path.name] = {"sample": str(path.resolve()), "seed": manifest["seed"],
                                   "deliveries": "roll_only" if manifest.get("roll_only") else "full"}
    chosen = {n: s for n, s in declared.items() if not args.only or n in args.only}
    settings = load_settings()
    server_url = resolve_url(settings, start=True)
    base = settings.state_dir / "bench-review"
    results, started = {}, time.perf_counter()
    for name, setting in chosen.items():
        began = time.perf_counter()
        build = rescore_setting if args.rescore else build_setting
        url, sample, period = build(name, setting, base, server_url)
        results[name] = {**score_setting(url, sample, period), "period": period,
                         "deliveries": setting["deliveries"], "seed": setting["seed"],
                         "seconds": round(time.perf_counter() - began, 1)}
        _print(name, setting, results[name])
        if not (args.keep or args.rescore):
            with psycopg.connect(server_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
                conn.execute(f'drop database if exists "{url.rsplit("/", 1)[1]}" with (force)')
            shutil.rmtree(base / name, ignore_errors=True)
    print(json.dumps({"bench": "review", "seconds": round(time.perf_counter() - started, 1),
                      "settings": results}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
