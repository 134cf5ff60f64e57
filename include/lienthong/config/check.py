"""`lienthong config check DIR [--sample-file FILE]`: validate a folder of organisation configs and
dry-run one delivered file through its mapping, before anything lands.

For the file: headers not mapped, mapped headers missing (an error unless declared optional), each
canonical field's fill rate with a few values as the warehouse reads them, and the rows that would
be quarantined and why. Values that identify a person (names, IDs, phones, addresses) are shown by
their shape only, never as written.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from lienthong.config.organisations import (
    CANONICAL_FIELDS,
    EntityConfig,
    OrganisationConfig,
    load_organisations,
)

# Shown by shape only: these identify a person.
PERSONAL = {"full_name", "family_name", "middle_name", "given_names", "id_number", "phone", "address", "hamlet", "member_code"}
EXAMPLES = 3


@dataclass
class FileReport:
    org_code: str
    entity: str
    path: Path
    header: list[str]
    unmapped: list[str]
    missing: list[str]  # configured, not optional, not in the file: an error
    missing_optional: list[str]
    rows: int = 0
    fill: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    quarantined: Counter = field(default_factory=Counter)
    quarantined_rows: dict[str, list[int]] = field(default_factory=dict)
    ids_set_aside: int = 0

    @property
    def ok(self) -> bool:
        return not self.missing

    def lines(self) -> list[str]:
        out = [f"{self.path}: {self.org_code} {self.entity}, {self.rows} rows"]
        if self.missing:
            out.append(f"  ERROR configured header(s) not in the file: {self.missing} "
                       "(fix the file or the config, or list them under `optional`)")
        if self.missing_optional:
            out.append(f"  optional header(s) not in the file (those fields land empty): {self.missing_optional}")
        out.append(f"  headers not mapped (kept in `extra`): {self.unmapped or 'none'}")
        out.append("  canonical field      filled   values as read")
        for name, filled in self.fill.items():
            rate = f"{100 * filled / self.rows:5.1f} %" if self.rows else "    - "
            out.append(f"  {name:<20} {rate}  {', '.join(self.examples.get(name, [])) or '-'}")
        if self.ids_set_aside:
            out.append(f"  {self.ids_set_aside} row(s) land with an unreadable ID set aside (matched by name, birth, place)")
        if self.quarantined:
            for reason, count in self.quarantined.most_common():
                shown = ", ".join(str(n) for n in self.quarantined_rows[reason][:5])
                out.append(f"  would quarantine {count} row(s): {reason} (lines {shown}{', …' if count > 5 else ''})")
        else:
            out.append("  no row would be quarantined")
        return out


def _shape(value: str) -> str:
    """A personal value by its shape: digits count, or words and letters."""
    compact = value.replace(" ", "")
    if compact.isdigit():
        return f"<{len(compact)} digits>"
    words = len(value.split())
    return f"<{words} word{'s' if words > 1 else ''}>"


def _reader(org: OrganisationConfig, name: str) -> Callable[[str], str]:
    """How the warehouse will read a field's value (dates parsed, codes mapped), for the examples."""
    from lienthong.landing.checks import DATE_FIELDS, PERIOD_FIELDS
    from lienthong.pipeline.dbt_generated import vn_key
    from lienthong.text.dates import parse_birth_date
    from lienthong.text.errors import ParseError
    from lienthong.text.periods import parse_period

    if name in PERSONAL:
        return _shape
    def parsed_as(parse, shown) -> Callable[[str], str]:
        def read(value: str) -> str:
            try:
                return f"{value!r} -> {shown(parse(value))}"
            except ParseError as err:
                return f"{value!r} -> unreadable ({err.code})"
        return read

    if name in DATE_FIELDS:
        return parsed_as(parse_birth_date, lambda d: d.date.isoformat() if d.date else f"year {d.year}")
    if name in PERIOD_FIELDS:
        return parsed_as(parse_period, lambda p: f"{p.start:%Y-%m}" + (f" ({p.months} months)" if p.months > 1 else ""))
    if name == "sex":
        codes = {"f": "F", "m": "M", **{vn_key(k): v for k, v in org.sex_codes.items()}}
        return lambda value: f"{value!r} -> {codes.get(vn_key(value), 'unknown (add it to sex_codes)')}"
    if name == "change_type":
        kinds = {vn_key(k): v for k, v in org.change_kinds.items()}
        return lambda value: f"{value!r} -> {kinds.get(vn_key(value), 'unknown (add it to change_kinds)')}"
    return repr


def find_entity(orgs: tuple[OrganisationConfig, ...], path: Path) -> tuple[OrganisationConfig, EntityConfig]:
    """The file entity whose configured path ({date} as any folder) matches the file's path."""
    matches = [(org, entity) for org in orgs for entity in org.entities
               if entity.connector.type == "file"
               and PurePath(path).match(entity.connector.path.replace("{date}", "*"))]
    if len(matches) != 1:
        found = ", ".join(f"{o.code}/{e.kind}" for o, e in matches) or "none"
        raise ValueError(f"{path}: matches {len(matches)} configured file paths ({found}); "
                         "name it with --org and --entity")
    return matches[0]


def check_file(org: OrganisationConfig, entity: EntityConfig, path: Path) -> FileReport:
    """Dry-run one file through the entity's mapping, clean-up and landing checks (nothing lands)."""
    from lienthong.landing.checks import ID_SET_ASIDE, checks_for, prepared
    from lienthong.sources.files import file_header, missing_headers, open_file

    header = file_header(path, entity)
    report = FileReport(
        org.code, entity.kind, path, header,
        unmapped=[h for h in header if h not in entity.mapping],
        missing=missing_headers(entity, header),
        missing_optional=[h for h in entity.optional if h not in header])
    if report.missing:
        return report
    readers = {name: _reader(org, name) for name in entity.fields}
    report.fill = dict.fromkeys(entity.fields, 0)
    checks = checks_for(entity)
    for row in prepared(open_file(path, entity)).rows():
        report.rows += 1
        report.ids_set_aside += ID_SET_ASIDE in row.extra
        rejection = next((r for check in checks if (r := check(row)) is not None), None)
        if rejection:
            report.quarantined[rejection.reason_code] += 1
            report.quarantined_rows.setdefault(rejection.reason_code, []).append(row.row_number)
        for name, value in row.values.items():
            if value is None:
                continue
            report.fill[name] += 1
            shown = report.examples.setdefault(name, [])
            if len(shown) < EXAMPLES and (text := readers[name](value)) not in shown:
                shown.append(text)
    return report


def describe(org: OrganisationConfig) -> list[str]:
    lines = [f"{org.code}: {org.name} — sends {', '.join(org.kinds)}"]
    for entity in org.entities:
        unknown = sorted(set(entity.fields) - set(CANONICAL_FIELDS))
        note = f" (not canonical, kept but unused: {unknown})" if unknown else ""
        lines.append(f"  {entity.kind}: {len(entity.mapping)} mapped header(s), fields {', '.join(entity.fields)}{note}")
    return lines
