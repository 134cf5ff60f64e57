"""One ingest step: fetch an organisation's delivery for a day, whatever its connector, and land it."""
from __future__ import annotations

import shutil
from datetime import date

from lienthong.config.organisations import EntityConfig, OrganisationConfig, get_organisation
from lienthong.config.settings import Settings, load_settings
from lienthong.landing.checks import checks_for, prepared
from lienthong.landing.raw import LandingResult, land_delivery
from lienthong.sources import api, database, files
from lienthong.sources.base import Delivery
from lienthong.sources.connections import ConnectionLookup, from_environment
from lienthong.warehouse import connect, resolve_url


def open_delivery(org: OrganisationConfig, entity: EntityConfig, day: date, settings: Settings,
                  lookup: ConnectionLookup) -> Delivery | None:
    connector = entity.connector
    spool = settings.state_dir / "spool" / org.code / entity.kind
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
    delivery = open_delivery(org, entity, delivery_date, settings, lookup)
    if delivery is None:
        return None
    with connect(resolve_url(settings)) as conn:
        result = land_delivery(conn, org, prepared(delivery), delivery_date, checks_for(entity))
    # Fetched pages or rows are kept until their batch has landed, so a retry resumes; now they can go.
    shutil.rmtree(settings.state_dir / "spool" / org.code / entity.kind / delivery_date.isoformat(),
                  ignore_errors=True)
    (settings.state_dir / "spool" / org.code / entity.kind / f"{delivery_date.isoformat()}.jsonl").unlink(
        missing_ok=True)
    return result
