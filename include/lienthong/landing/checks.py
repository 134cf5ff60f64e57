"""Row checks: why a delivered row goes to quarantine instead of the raw table."""
from __future__ import annotations

from lienthong.config.organisations import EntityConfig
from lienthong.landing.raw import Rejection, RowCheck
from lienthong.sources.base import SourceRow


def required_fields(entity: EntityConfig) -> RowCheck:
    required = tuple(entity.required)

    def check(row: SourceRow) -> Rejection | None:
        missing = [field for field in required if not row.values.get(field)]
        if missing:
            return Rejection("missing_required", f"required value(s) empty: {', '.join(missing)}")
        return None

    return check


def checks_for(entity: EntityConfig) -> tuple[RowCheck, ...]:
    """The checks every row of this entity passes before it lands."""
    return (required_fields(entity),)
