"""One ingest step: find an organisation's delivery for a day and land it."""
from __future__ import annotations

from datetime import date

from lienthong.config.organisations import get_organisation
from lienthong.config.settings import Settings, load_settings
from lienthong.landing.checks import checks_for
from lienthong.landing.raw import LandingResult, land_delivery
from lienthong.sources.files import find_delivery
from lienthong.warehouse import connect, resolve_url


def ingest(org_code: str, kind: str, delivery_date: date, settings: Settings | None = None) -> LandingResult | None:
    """Land what the organisation sent for that day; None when it sent nothing."""
    settings = settings or load_settings()
    org = get_organisation(org_code)
    entity = org.entity(kind)
    delivery = find_delivery(entity, settings.drop_dir, delivery_date)
    if delivery is None:
        return None
    with connect(resolve_url(settings)) as conn:
        return land_delivery(conn, org, delivery, delivery_date, checks_for(entity))
