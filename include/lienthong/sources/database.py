"""The PostgreSQL source connector: rows of an organisation's table whose watermark falls on the day.

Rows are spooled to a JSON-lines file while they stream in (one pass over the source), so the
checksum and the landing read the same snapshot even if the source changes meanwhile.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from lienthong.config.organisations import DatabaseConnector, EntityConfig
from lienthong.config.settings import TIMEZONE
from lienthong.sources.base import Delivery, JsonPages, SourceError, SourceUnavailableError, as_text, map_items

_PAGE_ROWS = 10_000


def fetch_delivery(entity: EntityConfig, source_url: str, day: date, spool_root: Path) -> Delivery | None:
    connector: DatabaseConnector = entity.connector
    schema, table = connector.table.split(".")
    # The day in local time: a watermark is a moment at the organisation, in Vietnam.
    start = datetime.combine(day, time(), ZoneInfo(TIMEZONE))
    query = sql.SQL("select * from {} where {} >= %s and {} < %s order by {}").format(
        sql.Identifier(schema, table), *[sql.Identifier(connector.watermark_column)] * 3)
    spool_root.mkdir(parents=True, exist_ok=True)
    spool = spool_root / f"{day.isoformat()}.jsonl"
    digest = hashlib.sha256()
    count = 0
    try:
        with psycopg.connect(source_url, connect_timeout=15) as conn, \
                conn.cursor(name="lienthong_extract", row_factory=dict_row) as cur, \
                spool.open("w", encoding="utf-8") as out:
            cur.execute(query, (start, start + timedelta(days=1)))
            for row in cur:
                line = json.dumps({k: as_text(v) for k, v in row.items()}, ensure_ascii=False) + "\n"
                digest.update(line.encode("utf-8"))
                out.write(line)
                count += 1
    except psycopg.OperationalError as err:
        raise SourceUnavailableError(f"source database for {connector.table}: {err}".strip()) from err
    except psycopg.Error as err:
        raise SourceError(f"source table {connector.table}: {err.diag.message_primary or err}; "
                          "check the connector's table and watermark_column.") from err
    if count == 0:
        spool.unlink(missing_ok=True)
        return None

    def rows():
        with spool.open(encoding="utf-8") as handle:
            yield from map_items((json.loads(line) for line in handle), entity)

    def pages():  # the spooled lines, a JSON array of up to _PAGE_ROWS rows at a time
        with spool.open(encoding="utf-8") as handle:
            first = 1
            while lines := list(itertools.islice(handle, _PAGE_ROWS)):
                yield first, "[" + ",".join(lines) + "]"
                first += len(lines)

    return Delivery(source=f"{connector.conn_id}:{connector.table} ({day})", checksum=digest.hexdigest(),
                    entity=entity, read=rows, json_pages=JsonPages(None, pages))
