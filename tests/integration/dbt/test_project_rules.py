"""The dbt project follows the structure rules of dbt Labs' project evaluator (dbt_project/project_rules/).

The evaluator itself is a dbt package that would need installing from the dbt hub at run time; its
rules are a few lines over the manifest that `dbt parse` writes, so they are checked here instead.
"""
from __future__ import annotations

import csv
import json
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

RULES_DIR = Path(__file__).parents[3] / "dbt_project" / "project_rules"
LAYERS = ("staging", "intermediate", "marts", "review", "bi")
PREFIXES = {"staging": ("stg_",), "intermediate": ("int_",), "marts": ("dim_", "fct_"), "review": ("rpt_",),
            "bi": ("bi_",)}
# What each layer may not read: the flow is staging → intermediate → marts → review / bi.
FORBIDDEN_PARENTS = {"staging": {"intermediate", "marts", "review", "bi"},
                     "intermediate": {"marts", "review", "bi"}, "marts": {"review", "bi"}}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    """The manifest of the project as `lienthong dbt` runs it (configured organisations rendered)."""
    from lienthong.config.settings import load_settings
    from lienthong.pipeline.dbt_env import dbt_project, run_dbt

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIENTHONG_STATE_DIR", str(tmp_path_factory.mktemp("project_rules")))
        settings = load_settings()
    # No database is reached by `dbt parse`; the profile only has to render.
    run_dbt(settings, "postgresql://parse:parse@127.0.0.1:1/parse", "parse")
    return json.loads((dbt_project(settings) / "target" / "manifest.json").read_text(encoding="utf-8"))


def layer(model: dict) -> str:
    """The top folder under models/ (or generated/models/)."""
    parts = Path(model["original_file_path"]).parts
    return parts[parts.index("models") + 1]


def prefixes(model: dict) -> tuple[str, ...]:
    """A layer's building blocks (a layer's own `intermediate/` folder, as review has) are `int_`."""
    parts = Path(model["original_file_path"]).parts
    inner = parts[parts.index("models") + 2:-1]
    return PREFIXES["intermediate"] if "intermediate" in inner else PREFIXES[layer(model)]


def violations(manifest: dict) -> set[tuple[str, str]]:
    nodes = manifest["nodes"]
    models = {uid: node for uid, node in nodes.items() if node["resource_type"] == "model"}
    tested, keyed = set(), set()
    for node in nodes.values():
        if node["resource_type"] != "test":
            continue
        target = node.get("attached_node") or node["depends_on"]["nodes"][-1]
        tested.add(target)
        if (node.get("test_metadata") or {}).get("name", "").startswith("unique"):
            keyed.add(target)
    found = set()
    for uid, model in models.items():
        name, where, parents = model["name"], layer(model), model["depends_on"]["nodes"]
        relation = model["config"]["materialized"] != "ephemeral"
        constraints = [c["type"] for c in model.get("constraints", [])]
        constraints += [c["type"] for column in model["columns"].values() for c in column.get("constraints", [])]
        contracted = model["config"].get("contract", {}).get("enforced", False)
        checks = {
            "source_outside_staging": where != "staging" and any(p.startswith("source.") for p in parents),
            "staging_reads_model": where == "staging" and any(
                p in models and layer(models[p]) != "staging" for p in parents),
            "layer_direction": any(p in models and layer(models[p]) in FORBIDDEN_PARENTS.get(where, ())
                                   for p in parents),
            "naming": not name.startswith(prefixes(model)),
            "undocumented_model": not model.get("description", "").strip(),
            "untested_model": relation and uid not in tested and not contracted,
            "missing_primary_key_test": relation and uid not in keyed and "primary_key" not in constraints,
            "root_model": not parents,
        }
        found |= {(rule, name) for rule, broken in checks.items() if broken}
    return found


def test_every_model_sits_in_a_known_layer(manifest):
    unknown = sorted(m["original_file_path"] for m in manifest["nodes"].values()
                     if m["resource_type"] == "model" and layer(m) not in LAYERS)
    assert not unknown, f"models outside {LAYERS}: {unknown}"


def test_each_bi_folder_declares_its_sensitivity_and_the_relation_names_follow_it(manifest):
    """The access sync grants bi.agg_* to every analyst: only the aggregates folder may publish such names."""
    wrong = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or layer(node) != "bi" or node["config"]["materialized"] == "ephemeral":
            continue
        sensitivity = node["config"].get("meta", {}).get("sensitivity")
        relation = node["alias"] or node["name"]
        published = node["schema"] == "bi"
        expected = {"aggregate": published and relation.startswith("agg_"),
                    "pseudonymised": published and not relation.startswith("agg_"),
                    "restricted": not published}.get(sensitivity, False)
        if not expected:
            wrong.append((node["original_file_path"], sensitivity, f'{node["schema"]}.{relation}'))
    assert not wrong, f"BI models whose folder sensitivity and relation disagree: {wrong}"


def test_the_project_follows_its_rules_but_for_the_documented_exceptions(manifest):
    with (RULES_DIR / "exceptions.csv").open(encoding="utf-8", newline="") as handle:
        exceptions = [(row["rule"], row["model"], row["reason"]) for row in csv.DictReader(handle)]
    assert all(reason.strip() for _, _, reason in exceptions), "every exception says why"
    found = violations(manifest)
    excused = {v for v in found if any(v[0] == rule and fnmatchcase(v[1], glob) for rule, glob, _ in exceptions)}
    unexcused = sorted(found - excused)
    assert not unexcused, (
        "dbt project rules broken (dbt_project/project_rules/README.md says what each asks; fix the model,"
        f" or add a line with its reason to exceptions.csv): {unexcused}")
    stale = [(rule, glob) for rule, glob, _ in exceptions
             if not any(v[0] == rule and fnmatchcase(v[1], glob) for v in found)]
    assert not stale, f"exceptions.csv lists violations that are fixed now; remove them: {stale}"


def test_the_reviews_watermark_is_built_after_every_incremental_review_model(manifest):
    """int_review__built advances the review's watermark: built before an incremental review model that
    then fails, it would leave that model's late periods stale until a full refresh (docs/review.md)."""
    nodes = manifest["nodes"]
    built = next(n for n in nodes.values() if n["resource_type"] == "model" and n["name"] == "int_review__built")
    incremental = {uid for uid, n in nodes.items() if n["resource_type"] == "model" and layer(n) == "review"
                   and n["config"]["materialized"] == "incremental"}
    assert incremental
    missing = sorted(nodes[uid]["name"] for uid in incremental - set(built["depends_on"]["nodes"]))
    assert not missing, f"add a `-- depends_on: {{{{ ref(...) }}}}` line to int_review__built.sql for {missing}"


# The review's tables with a row per record and review month (dbt_project.yml, data_tests).
PER_PERIOD = {"int_review__records", "int_review__record_flags", "int_review__member_status"}


def test_only_the_reviews_per_period_tables_test_weekly(manifest):
    """A night's build leaves the tests tagged weekly out (lienthong.pipeline.dbt_in_airflow): none may
    guard what BI reads, the marts' keys or a night's own rows (staging, verification answers, corrections)."""
    nodes = manifest["nodes"]
    tests = [n for n in nodes.values() if n["resource_type"] == "test"]
    weekly = [t for t in tests if "weekly" in t["tags"]]
    assert weekly
    for test in tests:
        models = [nodes[d] for d in test["depends_on"]["nodes"] if d.startswith("model.")]
        per_period = bool(models) and all(
            m["original_file_path"].startswith("models/review/periodic/") or m["name"] in PER_PERIOD for m in models)
        assert ("weekly" in test["tags"]) == per_period, test["name"]
