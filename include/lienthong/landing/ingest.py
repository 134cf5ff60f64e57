"""One ingest step: fetch an organisation's delivery for a day, whatever its connector, and land it."""
from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import psycopg

from lienthong.config.organisations import EntityConfig, OrganisationConfig, get_organisation
from lienthong.config.settings import Settings, load_settings
from lienthong.landing.raw import LandingResult, WarehouseGoneError, land_delivery
from lienthong.sources import api, database, files
from lienthong.sources.base import Delivery
from lienthong.sources.connections import ConnectionLookup, from_environment
from lienthong.warehouse import connect, resolve_url


def open_delivery(org: OrganisationConfig, entity: EntityConfig, day: date, settings: Settings,
                  lookup: ConnectionLookup, spool: Path) -> Delivery | None:
    """The day's delivery; API pages and database rows are spooled under ``spool`` (this attempt's)."""
    connector = entity.connector
    if connector.type == "file":
        return files.find_delivery(entity, settings.drop_dir, day)
    info = lookup(connector.conn_id)
    if connector.type == "api":
        return api.fetch_delivery(entity, api.ApiEndpoint(info.base_url(), info.password), day, spool)
    return database.fetch_delivery(entity, info.postgres_url(), day, spool)


def ingest(org_code: str, kind: str, delivery_date: date, settings: Settings | None = None,
           lookup: ConnectionLookup = from_environment) -> LandingResult | None:
    """Land what the organisation sent for that day; None when it sent nothing."""
    settings = settings or load_settings()
    org = get_organisation(org_code)
    entity = org.entity(kind)
    # Spooled pages and rows belong to this attempt alone: a later attempt may see another state of
    # the source, so it fetches again rather than mixing old pages with new ones.
    spool_root = settings.state_dir / "spool" / org.code / entity.kind
    spool_root.mkdir(parents=True, exist_ok=True)
    spool = Path(tempfile.mkdtemp(prefix=f"{delivery_date.isoformat()}-", dir=spool_root))
    try:
        delivery = open_delivery(org, entity, delivery_date, settings, lookup, spool)
        if delivery is None:
            return None
        url = resolve_url(settings)
        try:
            with connect(url) as conn:
                return land_delivery(conn, org, delivery, delivery_date)
        except psycopg.OperationalError as err:
            raise WarehouseGoneError(
                f"{org.code}/{entity.kind} {delivery_date}: the warehouse went away during the load "
                f"({type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else 'no message'}); "
                "the load left nothing (its transaction was never committed). Check the server "
                "(`lienthong db status`) and run the day again.") from err
    finally:
        shutil.rmtree(spool, ignore_errors=True)
