"""The organisation configs of a sample of several provinces: one per provincial branch.

Each organisation's branch in a province keeps its own roll (``deliveries/<org>_<province code>/``),
so the pipeline ingests it as an organisation of its own. Its config is the bundled organisation
config with the branch's code, its folder or API path, its province (``province:``, so a record's
commune is looked for there when the address names none) and the organisation's quality rules
inline (the bundled ones are a file next to the bundled config). Nothing here names an
organisation: the configs are derived, as data, from the bundled files.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from lienthong.config.organisations import CONFIG_DIR


def branch_config(config: dict, rules: dict, code: str, province_key: str, province_name: str) -> dict:
    """The bundled ``config`` (as read from its YAML) for its branch ``code`` in one province."""
    org = config["code"]
    entities = []
    for entity in config["entities"]:
        connector = dict(entity["connector"])
        if connector["type"] == "file":
            # The sample's deliveries sit in the branch's folder, in the organisation's layout below it.
            connector["path"] = f"{code}/" + connector["path"].removeprefix(f"{org}/")
        elif connector["type"] == "api":
            # The sample API serves a branch under its code (lienthong.sample.api_server).
            connector["resource"] = f"/{code}{connector['resource']}"
        entities.append({**entity, "connector": connector})
    return {**config, "code": code, "name": f"{config['name']} {province_name}",
            "short_name": f"{config['short_name']} {province_name}", "province": province_key,
            "quality_rules": rules, "entities": entities}


def write_branch_configs(target: Path, orgs: tuple[str, ...], keys: dict[str, str], names: dict[str, str]) -> None:
    """``target/<org>_<code>.yml`` for every organisation of ``orgs`` and every province (``keys``:
    province code -> package key; ``names``: code -> name)."""
    target.mkdir(parents=True, exist_ok=True)
    for org in orgs:
        source = CONFIG_DIR / f"{org}.yml"
        config = yaml.safe_load(source.read_text(encoding="utf-8"))
        rules = config.get("quality_rules") or {}
        if isinstance(rules, str):
            rules = yaml.safe_load((source.parent / rules).read_text(encoding="utf-8")) or {}
        for code, key in sorted(keys.items()):
            branch = f"{org}_{code}"
            text = yaml.safe_dump(branch_config(config, rules, branch, key, names[code]), allow_unicode=True,
                                  sort_keys=False, width=120)
            (target / f"{branch}.yml").write_text(
                f"# Written by lienthong.sample from {source.name}: its branch in {names[code]}.\n" + text,
                encoding="utf-8")
