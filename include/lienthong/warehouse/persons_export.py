"""The file an organisation gets back from the warehouse (the liên thông feedback): for each record
of its current roll, the record as it delivered it, the person id linking gave it, and the other
organisations whose current rolls have the same person. Also how a data engineer checks linking.

The organisation's own values only (its record id, name, birth date and unit as delivered); of the
other organisations, only their codes.
"""
from __future__ import annotations

import csv
from pathlib import Path

import psycopg

from lienthong.warehouse.connection import WarehouseError, connect

HEADER = ("record_id", "full_name", "birth_date", "unit_name", "person_id", "other_organisations",
          "other_organisation_count", "source_record_key")
QUERY = """
    with roll as (
        select f.source_record_key, f.person_id, m.member_code, m.full_name_raw, m.birth_date_raw, f.unit_name
        from marts.fct_membership as f
        join intermediate.int_members__current as m using (source_record_key)
        where f.org_code = %(org)s
    ),
    others as (
        select person_id, string_agg(distinct org_code, ';' order by org_code) as codes,
               count(distinct org_code) as n
        from marts.fct_membership
        where org_code <> %(org)s and person_id in (select person_id from roll)
        group by person_id
    )
    select r.member_code, r.full_name_raw, r.birth_date_raw, r.unit_name, r.person_id,
           coalesce(o.codes, ''), coalesce(o.n, 0), r.source_record_key
    from roll as r
    left join others as o using (person_id)
    order by r.source_record_key
"""


def export_persons(url: str, org_code: str, out: Path) -> int:
    """Write the organisation's current roll with person ids and other organisations; returns rows."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    count = 0
    with connect(url) as conn:
        try:
            cursor = conn.execute(QUERY, {"org": org_code})
        except psycopg.errors.UndefinedTable as err:
            raise WarehouseError("the warehouse has no current rolls yet: run `lienthong run` "
                                 "(or the warehouse_build DAG) first") from err
        # utf-8-sig: Excel, which most organisations open it with, then reads the Vietnamese right.
        with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for row in cursor:
                writer.writerow(row)
                count += 1
    tmp.replace(out)
    return count
