"""Organisation configs: one YAML file per organisation under ``config/organisations/``.

Everything that differs between organisations (where their files are, their headers, encodings,
schedule) lives in those files, so adding an organisation is adding a file. Each file is validated
on load; errors name the file, the key and what is wrong.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONFIG_DIR = Path(__file__).with_name("organisations")
# Codes become schema-object names and DAG ids: keep them to plain identifiers.
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
ENTITY_KINDS = ("roster", "dues", "activities", "reported_totals")
# The canonical roster fields staging understands; headers map onto these.
ROSTER_FIELDS = (
    "source_row_no", "member_code", "full_name", "birth_date", "sex", "id_number", "phone",
    "hamlet", "commune", "district", "unit_name", "joined_on", "left_on", "status",
)


class OrganisationConfigError(ValueError):
    """An organisation config is missing or invalid; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileConnector(_Strict):
    type: Literal["file"]
    path: str = Field(description="Path under the drop folder; {date} is the delivery date, YYYY-MM-DD.")
    format: Literal["csv", "xlsx"]
    encoding: str = "utf-8-sig"
    delimiter: str = ","

    @field_validator("path")
    @classmethod
    def _path_has_date(cls, value: str) -> str:
        if "{date}" not in value:
            raise ValueError("must contain {date} so each run reads only its own day's delivery")
        if value.startswith("/") or ".." in Path(value).parts:
            raise ValueError("must be relative to the drop folder and stay inside it")
        return value


class EntityConfig(_Strict):
    kind: Literal["roster", "dues", "activities", "reported_totals"]
    connector: FileConnector
    columns: dict[str, str] = Field(description="Native header -> canonical field.")
    required: tuple[str, ...] = ()

    @field_validator("columns")
    @classmethod
    def _canonical_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [field for field in value.values() if not CODE_PATTERN.match(field)]
        if bad:
            raise ValueError(f"canonical field names must be lower_snake_case identifiers, got {bad}")
        return value


class OrganisationConfig(_Strict):
    code: str
    name: str
    short_name: str
    member_word: str
    owner: str
    schedule: str = "0 2 * * *"
    entities: tuple[EntityConfig, ...]

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE_PATTERN.match(value):
            raise ValueError("must be lower_snake_case letters/digits, 2-31 characters, starting with a letter")
        return value

    def entity(self, kind: str) -> EntityConfig:
        for entity in self.entities:
            if entity.kind == kind:
                return entity
        raise KeyError(f"organisation {self.code} has no {kind!r} entity")


def load_organisation(path: Path) -> OrganisationConfig:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise OrganisationConfigError(f"{path}: cannot read the config: {err}") from err
    try:
        config = OrganisationConfig.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in err.errors()
        )
        raise OrganisationConfigError(f"{path}: {problems}") from err
    if config.code != path.stem:
        raise OrganisationConfigError(f"{path}: code {config.code!r} must equal the file name {path.stem!r}")
    return config


@cache
def load_organisations(config_dir: Path = CONFIG_DIR) -> tuple[OrganisationConfig, ...]:
    """All organisation configs, sorted by code."""
    return tuple(load_organisation(path) for path in sorted(config_dir.glob("*.yml")))


def get_organisation(code: str) -> OrganisationConfig:
    for config in load_organisations():
        if config.code == code:
            return config
    known = ", ".join(c.code for c in load_organisations())
    raise OrganisationConfigError(f"no organisation config for {code!r}; known: {known}")
