"""The JSON Schema of an organisation config, generated from the pydantic model, for editors and
reviewers (`# yaml-language-server: $schema=…` in a config file gives completion and checks).

    uv run lienthong config schema          # rewrite include/lienthong/config/organisation.schema.json
    uv run lienthong config schema --check  # fail when it is stale (a test runs this)
"""
from __future__ import annotations

import json
from pathlib import Path

from lienthong.config.organisations import OrganisationConfig

SCHEMA_PATH = Path(__file__).with_name("organisation.schema.json")


def render_schema() -> str:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              **OrganisationConfig.model_json_schema(), "title": "Liên Thông organisation config"}
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def schema_is_current(path: Path = SCHEMA_PATH) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == render_schema()
