"""Organisation configs: one YAML file per organisation under ``config/organisations/``.

Everything that differs between organisations (where their files are, their headers, encodings,
schedule) lives in those files, so adding an organisation is adding a file. Each file is validated
on load; errors name the file, the key and what is wrong.
"""
from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from lienthong.text.addresses import DEFAULT_PROVINCES, national_provinces

CONFIG_DIR = Path(__file__).with_name("organisations")
# Codes become schema-object names and DAG ids: keep them to plain identifiers.
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
# roster: the full roll as of the day; roster_changes: joins, transfers and departures since the
# last delivery (some systems send both kinds of row in one feed, marked by change_type).
# verification_outcomes: what the units answered on the verification lists (lienthong.review.verification).
EntityKind = Literal["roster", "roster_changes", "dues", "activities", "reported_totals", "verification_outcomes"]
# Value clean-up steps a config may ask for, per canonical field (applied before a row is checked
# and landed): Excel's leading apostrophe text marker, thousands separators, surrounding quotes.
CleanStep = Literal["excel_text_marker", "thousands_separators", "surrounding_quotes"]
Sex = Literal["F", "M"]
ChangeKind = Literal["snapshot", "join", "transfer", "leave"]
# Where a day/month order cannot be told from the value (03/04/1990), which the organisation means.
DateOrder = Literal["dmy", "mdy"]
# The canonical fields a delivered column can map to, with their meaning (docs/onboarding.md and
# `lienthong config check` list them from here).
CANONICAL_FIELDS: dict[str, str] = {
    "member_code": "The organisation's own id of the member record (set it with `record_id`).",
    "source_row_no": "The row number the organisation printed (kept, not used).",
    "full_name": "Full name as written (family, middle and given names).",
    "family_name": "Family name, when the name is split over columns (with given_names).",
    "middle_name": "Middle name (tên đệm, chữ lót), when the name is split over three columns.",
    "given_names": "Given name (with the middle name when there is no middle_name column).",
    "birth_date": "Date of birth (ISO, dd/mm/yyyy, dd.mm.yyyy, Excel serial; a year alone gives the year).",
    "birth_year": "Year of birth, for rolls that keep only the year (or with birth_day and birth_month).",
    "birth_day": "Day of birth, when the date is split over three columns (with birth_month, birth_year).",
    "birth_month": "Month of birth, when the date is split over three columns (with birth_day, birth_year).",
    "birth_date_male": "Date or year of birth written in the men's column of a form that splits it by sex "
                       "('Ngày sinh: Nam | Nữ'): gives birth_date, and sex M.",
    "birth_date_female": "Date or year of birth written in the women's column of such a form: gives "
                         "birth_date, and sex F.",
    "sex": "Sex as the organisation writes it; mapped to F/M by `sex_codes`.",
    "id_number": "Citizen ID (12-digit CCCD) or old 9-digit CMND.",
    "phone": "Phone number.",
    "address": "One address text: 'hamlet, commune[, district]'.",
    "hamlet": "Hamlet / neighbourhood (ấp, khu phố), when the address is split.",
    "commune": "Commune / ward (xã, phường), when the address is split.",
    "unit_code": "Code of the member's branch (chi hội, chi đoàn).",
    "unit_name": "Name of the member's branch.",
    "employer": "Workplace.",
    "joined_on": "Date the member joined.",
    "change_type": "Kind of change (join, transfer, leave, current) as written; mapped by `change_kinds`.",
    "changed_on": "Date of the change.",
    "end_reason": "Why the member left (death, move away, ...).",
    "period": "Dues period paid: a month (10/2026, 2026-10, tháng 10/2026), a quarter (Quý 4/2026) or a year.",
    "amount": "Dues amount in đồng.",
    "paid_on": "Date the dues were paid.",
    "session_on": "Date of an activity session.",
    "session_title": "Title of an activity session.",
    "month": "Month a reported total is about (written as a dues period's month).",
    "reported_count": "Member count a unit reports.",
    "flag_key": "Verification outcomes: the hidden key of a verification list row (period|rule|record).",
    "outcome": "Verification outcomes: the answer chosen in the list (one of lienthong.review.outcomes).",
    "corrected_id_number": "Verification outcomes: the ID number the unit found to be right.",
    "corrected_birth_date": "Verification outcomes: the birth date the unit found to be right.",
    "note": "Verification outcomes: the unit's note.",
    "verified_by": "Verification outcomes: who verified.",
    "verified_on": "Verification outcomes: the day it was verified.",
}


QualityRules = dict[EntityKind, list[dict]]
# Canonical fields a landing derives from fields a form splits them into (lienthong.landing.checks
# derives them): a birth date from its day, month and year; a birth date and the sex from the two
# columns of a form that writes the birth under "Nam" or under "Nữ".
BIRTH_PARTS = ("birth_day", "birth_month", "birth_year")
BIRTH_BY_SEX = ("birth_date_male", "birth_date_female")


class OrganisationConfigError(ValueError):
    """An organisation config is missing or invalid; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileConnector(_Strict):
    """A file dropped in the drop folder each day."""

    type: Literal["file"]
    path: str = Field(description="Path under the drop folder; {date} is the delivery date, YYYY-MM-DD.")
    format: Literal["csv", "xlsx"]
    encoding: str = Field("utf-8-sig", description="Any Python codec, or tcvn3 / vni / cp1258 (legacy Vietnamese).")
    delimiter: str = ","
    sheet: str | None = Field(None, description="XLSX sheet name (default: the first sheet).")

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        from lienthong.text.legacy_encodings import is_known_encoding

        if is_known_encoding(value):
            return value
        try:
            text_encoding = codecs.lookup(value)._is_text_encoding
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        if not text_encoding:  # rot13, base64, zlib... are codecs, but no text file is written in them
            raise ValueError(f"{value!r} is not a text encoding")
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1 or value in "\r\n\"":
            raise ValueError("must be one character other than a quote or a line break")
        return value

    @field_validator("path")
    @classmethod
    def _path_has_date(cls, value: str) -> str:
        if "{date}" not in value:
            raise ValueError("must contain {date} so each run reads only its own day's delivery")
        if value.startswith("/") or ".." in Path(value).parts:
            raise ValueError("must be relative to the drop folder and stay inside it")
        try:
            value.format(date="2026-01-01")
        except (IndexError, KeyError, ValueError) as err:
            raise ValueError("{date} is the only placeholder a path may have (write other braces as "
                             f"{{{{ and }}}}); got {type(err).__name__}: {err}") from None
        return value


class ApiPaging(_Strict):
    style: Literal["page", "offset"]
    page_param: str = Field(description="Page number (page style, from 1) or row offset (offset style, from 0).")
    size_param: str
    page_size: int = Field(500, gt=0)
    items_key: str = Field(description="Key of the list of rows in each response.")
    total_key: str | None = Field(None, description="Key (dotted for a nested one) of the total number of rows "
                                  "the source says the day has: the delivery is checked against it.")


class ApiConnector(_Strict):
    """A paged JSON HTTP API; base URL and bearer token come from an Airflow connection."""

    type: Literal["api"]
    conn_id: str = Field(description="Airflow connection: host/port/schema give the base URL, password the token.")
    resource: str = Field(description="Path of the resource, e.g. /api/v1/members (relative to the connection URL).")
    date_param: str = Field(description="Query parameter selecting the delivery day (YYYY-MM-DD).")
    paging: ApiPaging
    timeout_seconds: float = 30
    max_attempts: int = Field(5, ge=1)


class DatabaseConnector(_Strict):
    """A PostgreSQL table at the organisation, read incrementally by a watermark column."""

    type: Literal["database"]
    conn_id: str = Field(description="Airflow connection (postgres) of the source database.")
    table: str = Field(description="schema.table")
    watermark_column: str = Field(description="Timestamp or date column: a run reads rows whose value is on its day.")

    @field_validator("table")
    @classmethod
    def _qualified(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) != 2 or not all(CODE_PATTERN.match(p) for p in parts):
            raise ValueError("must be schema.table in lower_snake_case")
        return value


Connector = Annotated[FileConnector | ApiConnector | DatabaseConnector, Field(discriminator="type")]


class EntityConfig(_Strict):
    kind: EntityKind
    connector: Connector
    columns: dict[str, str] = Field(description="Native header -> canonical field (see docs/onboarding.md).")
    record_id: str | None = Field(
        None, description="Native header of the organisation's own record id (lands as member_code). Without "
                          "it, records are keyed by name, birth date and unit.")
    optional: tuple[str, ...] = Field(
        (), description="Native headers of `columns` that a delivered file may lack (the field lands empty). "
                        "Any other configured header missing from a file is an error.")
    constants: dict[str, str] = Field(
        {}, description="Canonical field -> value every row gets, for what the file does not say "
                        "(e.g. sex: F for an organisation of women).")
    clean: dict[str, tuple[CleanStep, ...]] = Field(
        {}, description="Canonical field -> clean-up steps applied to its values before checks and landing.")
    date_order: DateOrder = Field("dmy", description="Day/month order of slash or dot dates (dmy or mdy).")
    required: tuple[str, ...] = ()

    @field_validator("columns")
    @classmethod
    def _canonical_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [field for field in value.values() if not CODE_PATTERN.match(field)]
        if bad:
            raise ValueError(f"canonical field names must be lower_snake_case identifiers, got {bad}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EntityConfig:
        if self.record_id is not None and self.record_id in self.columns:
            raise ValueError(f"record_id {self.record_id!r} is also in columns: name it once")
        if self.record_id is not None and "member_code" in self.columns.values():
            raise ValueError("record_id is set and a column also maps to member_code: keep one")
        unknown = [h for h in self.optional if h not in self.columns]
        if unknown:
            raise ValueError(f"optional headers {unknown} are not in columns")
        clash = [f for f in self.constants if f in self.columns.values()]
        if clash:
            raise ValueError(f"constant field(s) {clash} are also mapped from a column: keep one")
        bad = [f for f in [*self.constants, *self.clean] if not CODE_PATTERN.match(f)]
        if bad:
            raise ValueError(f"canonical field names must be lower_snake_case identifiers, got {bad}")
        unmapped = [f for f in self.clean if f not in self.fields]
        if unmapped:
            raise ValueError(f"clean names field(s) {unmapped} that no column maps to")
        given = self.given
        for parts in (BIRTH_PARTS[:2], BIRTH_BY_SEX):
            named = [f for f in parts if f in given]
            if named and len(named) < len(parts):
                raise ValueError(f"{', '.join(named)} needs {', '.join(f for f in parts if f not in named)} too")
        if BIRTH_PARTS[0] in given and BIRTH_PARTS[2] not in given:
            raise ValueError("birth_day and birth_month need birth_year too")
        clash = sorted(set(self.derived) & given)
        if clash:
            raise ValueError(f"{', '.join(clash)} is derived from {', '.join(self.derived[clash[0]])} here: "
                             "do not map or set it as well")
        if BIRTH_PARTS[0] in given and BIRTH_BY_SEX[0] in given:
            raise ValueError("a birth split by day, month and year and by sex: map one of the two")
        return self

    @property
    def given(self) -> set[str]:
        """The canonical fields the delivery carries: mapped from a column or set as a constant."""
        return set(self.columns.values()) | set(self.constants)

    @property
    def derived(self) -> dict[str, tuple[str, ...]]:
        """Canonical field -> the fields the landing derives it from (see BIRTH_PARTS, BIRTH_BY_SEX)."""
        if BIRTH_PARTS[0] in self.given:
            return {"birth_date": BIRTH_PARTS}
        if BIRTH_BY_SEX[0] in self.given:
            return {"birth_date": BIRTH_BY_SEX, "sex": BIRTH_BY_SEX}
        return {}

    @property
    def mapping(self) -> dict[str, str]:
        """Native header -> canonical field, the record id included."""
        return {**self.columns, **({self.record_id: "member_code"} if self.record_id else {})}

    @property
    def fields(self) -> tuple[str, ...]:
        """The canonical fields this entity lands, in order: mapped columns, constants, derived ones."""
        return tuple(dict.fromkeys([*self.mapping.values(), *self.constants, *self.derived]))


class Eligibility(_Strict):
    """Who may be a member: ages reached in the month (null = no bound) and sex (null = either)."""

    min_age: int | None = Field(None, ge=0, le=120)
    max_age: int | None = Field(None, ge=0, le=120)
    sex: Sex | None = None


class OrganisationConfig(_Strict):
    code: str
    name: str
    short_name: str
    member_word: str
    owner: str
    schedule: str = "0 2 * * *"
    entities: tuple[EntityConfig, ...]
    sex_codes: dict[str, Sex] = Field(
        {"Nữ": "F", "Nam": "M"}, description="How the organisation writes sex -> F/M (case and accents ignored; F and M "
                                 "themselves are always understood).")
    change_kinds: dict[str, ChangeKind] = Field(
        {}, description="How the organisation writes a change type -> snapshot / join / transfer / leave "
                        "(case and accents ignored).")
    eligibility: Eligibility = Field(Eligibility(), description="Age and sex rules of membership.")
    quality_rules: str | QualityRules = Field(
        {}, description="Great Expectations rules per entity for this organisation's landed batches, or the "
                        "path of a YAML file of them (relative to this config file).")
    # A full roll smaller than the previous one by more than this share is held for review, not made live.
    roll_shrink_limit: float = Field(0.10, ge=0, le=1)
    province: str | None = Field(
        None, description="The new province (2025) whose members the roll holds, a key of vietnamadminunits "
                          "(tinhtayninh): a record's commune is looked for there when its address names no "
                          "province. None: a roll of several provinces, or of the deployment's only one.")

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE_PATTERN.match(value):
            raise ValueError("must be lower_snake_case letters/digits, 2-31 characters, starting with a letter")
        return value

    @field_validator("province")
    @classmethod
    def _known_province(cls, value: str | None) -> str | None:
        if value is not None and value not in national_provinces():
            raise ValueError(f"must be a new province's key in vietnamadminunits, one of {', '.join(national_provinces())}")
        return value

    @field_validator("entities")
    @classmethod
    def _one_per_kind(cls, value: tuple[EntityConfig, ...]) -> tuple[EntityConfig, ...]:
        kinds = [e.kind for e in value]
        if "roster" not in kinds:
            raise ValueError("every organisation sends a roster")
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"each entity kind once, got {kinds}")
        return value

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(e.kind for e in self.entities)

    def sends(self, kind: str) -> bool:
        return kind in self.kinds

    def entity(self, kind: str) -> EntityConfig:
        for entity in self.entities:
            if entity.kind == kind:
                return entity
        raise KeyError(f"organisation {self.code} has no {kind!r} entity")


def _yaml(text: str):
    """YAML with the safe loader, libyaml's when PyYAML has it (the pure-Python one took a
    noticeable part of every ingest process's start on a loaded machine)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_organisation(path: Path) -> OrganisationConfig:
    try:
        data = _yaml(path.read_text(encoding="utf-8"))
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
    if isinstance(config.quality_rules, str):
        config = config.model_copy(update={"quality_rules": _load_rules(path, config.quality_rules)})
    unsent = sorted(set(config.quality_rules) - set(config.kinds))
    if unsent:
        raise OrganisationConfigError(f"{path}: quality_rules name entities the organisation does not send: {unsent}")
    return config


_RULES = TypeAdapter(QualityRules)


def _load_rules(config_path: Path, relative: str) -> dict[str, list[dict]]:
    """A quality rule file named by a config: YAML, entity -> list of expectations."""
    rules_path = (config_path.parent / relative).resolve()
    try:
        data = _yaml(rules_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise OrganisationConfigError(f"{config_path}: quality_rules {relative!r}: cannot read {rules_path}: {err}") from err
    try:
        return _RULES.validate_python(data)
    except ValidationError as err:
        raise OrganisationConfigError(f"{config_path}: quality_rules {relative!r} ({rules_path}): {err}") from err


def load_organisations(config_dir: Path | None = None) -> tuple[OrganisationConfig, ...]:
    """All organisation configs, sorted by code: from LIENTHONG_ORG_CONFIG_DIR, else the package's."""
    return _load_dir(Path(config_dir or os.environ.get("LIENTHONG_ORG_CONFIG_DIR") or CONFIG_DIR).resolve())


@cache
def _load_dir(config_dir: Path) -> tuple[OrganisationConfig, ...]:
    configs = tuple(load_organisation(path) for path in sorted(config_dir.glob("*.yml")))
    if not configs:
        raise OrganisationConfigError(f"{config_dir}: no organisation configs (*.yml) found")
    return configs


def deployed_provinces(orgs: tuple[OrganisationConfig, ...] | None = None) -> tuple[str, ...]:
    """The new provinces the deployment serves (package keys): those its organisation configs say
    (``province:``), else Tây Ninh when none says one. The one source for the linker's
    ``provinces`` (``lienthong.linking.policy``) and dbt's (the admin seeds, rendered for them:
    ``lienthong.pipeline.dbt_generated``). Any of ``national_provinces()``, in its order."""
    named = {o.province for o in (load_organisations() if orgs is None else orgs) if o.province}
    return tuple(p for p in national_provinces() if p in named) or DEFAULT_PROVINCES


def get_organisation(code: str) -> OrganisationConfig:
    for config in load_organisations():
        if config.code == code:
            return config
    known = ", ".join(c.code for c in load_organisations())
    raise OrganisationConfigError(f"no organisation config for {code!r}; known: {known}")
