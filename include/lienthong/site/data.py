"""What the public pages may show, read from the bi aggregates as the analyst role.

The site is public, so it is built only from what every analyst may read (``bi.agg_*``: small cells
suppressed, complementary cells too, see docs/bi.md). Reading under ``set role <prefix>_analyst``
lets PostgreSQL enforce that: a query reaching for anything else fails with "permission denied"
instead of quietly publishing it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import psycopg
from psycopg import sql

from lienthong.access import role_set
from lienthong.access.roles import assume_role
from lienthong.warehouse import connect

ALL = "*"  # org_code of every organisation together; commune_key of the whole province
UNRESOLVED = "?"  # commune_key of people whose commune is not resolved
MEASURES = ("members", "active_members", "joined", "left_roll", "sessions_held", "attendances", "people",
            "people_in_several_organisations", "eligible_population", "gathering_rate")
UNCOUNTED = ("eligible_population", "gathering_rate")  # not counts of people: None is "no figure", not "hidden"
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class SiteDataError(RuntimeError):
    """The warehouse cannot give the site what it needs (no such period, roles not synced...)."""


@dataclass(frozen=True)
class Commune:
    key: str
    code: str
    name: str
    old_names: tuple[str, ...]


@dataclass
class SiteData:
    period_key: str
    month: date
    months: list[date]  # the snapshot window, oldest first, ending with the period's month
    # (org_code, commune_key) -> measure -> value (None when suppressed), for the period's month
    cells: dict[tuple[str, str], dict] = field(default_factory=dict)
    # (org_code, commune_key) -> measure -> one value per month of `months`
    series: dict[tuple[str, str], dict[str, list]] = field(default_factory=dict)
    communes: list[Commune] = field(default_factory=list)
    org_codes: list[str] = field(default_factory=list)  # organisations present in the data

    def cell(self, org_code: str, commune_key: str) -> dict:
        """The month's figures; a cell with no row has no one in it (zeros, no rate)."""
        empty = {m: None if m in UNCOUNTED else 0 for m in MEASURES}
        return self.cells.get((org_code, commune_key), empty)


def analyst_role(prefix: str | None = None) -> str:
    return role_set(prefix).name("analyst")


def read_site_data(url: str, period_key: str, *, role_prefix: str | None = None) -> SiteData:
    """Everything the pages show for one month (YYYY-MM), read as the analyst role."""
    if not PERIOD.match(period_key):
        raise SiteDataError(f"period {period_key!r} is not a month: give it as YYYY-MM, e.g. 2026-11")
    role = analyst_role(role_prefix)
    with connect(url) as conn:
        assume_role(conn, role, SiteDataError, reading="the warehouse", account="building the site")
        try:
            return _read(conn, period_key)
        except psycopg.errors.InsufficientPrivilege as err:
            raise SiteDataError(f"{role!r} may not read what the site needs ({err.diag.message_primary}): "
                                "run `lienthong access sync` after the dbt build") from err
        except psycopg.errors.UndefinedTable as err:
            raise SiteDataError(f"{err.diag.message_primary}: build the bi models first "
                                "(`lienthong dbt build --select path:models/bi`)") from err


def _read(conn: psycopg.Connection, period_key: str) -> SiteData:
    months = [m for (m,) in conn.execute(
        "select distinct month_start from bi.agg_activity_by_commune where month_start <= to_date(%s, 'YYYY-MM')"
        " order by month_start", (period_key,))]
    if not months or months[-1].strftime("%Y-%m") != period_key:
        known = [k for (k,) in conn.execute(
            "select distinct period_key from bi.agg_activity_by_commune order by 1 desc")]
        raise SiteDataError(f"no month {period_key} in bi.agg_activity_by_commune (it holds: "
                            f"{', '.join(known) or 'nothing yet'}); run the warehouse build, or pick one of those")
    data = SiteData(period_key=period_key, month=months[-1], months=months)
    index = {m: i for i, m in enumerate(months)}
    columns = sql.SQL(", ").join(sql.Identifier(m) for m in MEASURES)
    rows = conn.execute(sql.SQL("select month_start, org_code, commune_key, {} from bi.agg_activity_by_commune"
                                " where month_start <= %s order by month_start").format(columns), (data.month,))
    for month, org, commune, *values in rows:
        key = (org, commune)
        series = data.series.setdefault(key, {m: [None] * len(months) for m in MEASURES})
        for measure, value in zip(MEASURES, values):
            series[measure][index[month]] = value
        if month == data.month:
            data.cells[key] = dict(zip(MEASURES, values))
    data.org_codes = sorted({org for org, _ in data.series if org != ALL})
    data.communes = [Commune(key, code, name, tuple(n for n in old.split("; ") if n)) for key, code, name, old in
                     conn.execute("select commune_key, commune_code, commune_name, old_names from bi.agg_communes"
                                  " order by commune_name, commune_code")]
    return data
