"""The paged JSON HTTP API connector (the Youth Union's and the Trade Union's national systems).

Pages are fetched with retries and exponential backoff (honouring Retry-After on 429/503) and
spooled to disk as they arrive, so a task retried after a failed page resumes where it stopped
instead of asking the source for everything again. Rows are read from the spool once complete.
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

from lienthong.config.organisations import ApiConnector, EntityConfig
from lienthong.sources.base import Delivery, SourceError, SourceRow, SourceUnavailableError, map_items

log = logging.getLogger(__name__)
_TRANSIENT = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class ApiEndpoint:
    base_url: str
    token: str


def fetch_delivery(entity: EntityConfig, endpoint: ApiEndpoint, day: date, spool_root: Path,
                   *, sleep=time.sleep) -> Delivery | None:
    """Fetch the day's rows of one resource; None when the source has none for that day."""
    connector: ApiConnector = entity.connector
    url = endpoint.base_url.rstrip("/") + connector.resource
    spool = spool_root / day.isoformat()
    spool.mkdir(parents=True, exist_ok=True)
    with httpx.Client(headers={"Authorization": f"Bearer {endpoint.token}"},
                      timeout=connector.timeout_seconds) as client:
        pages = _fetch_pages(client, url, connector, day, spool, sleep)
    if not pages:
        shutil.rmtree(spool, ignore_errors=True)
        return None
    digest = hashlib.sha256()
    for page in pages:
        digest.update(page.read_bytes())
    source = f"{url}?{connector.date_param}={day.isoformat()}"
    return Delivery(source=source, checksum=digest.hexdigest(), entity=entity,
                    read=lambda: _spooled_rows(pages, entity))


def _fetch_pages(client, url, connector: ApiConnector, day, spool: Path, sleep) -> list[Path]:
    paging = connector.paging
    position = 1 if paging.style == "page" else 0
    pages: list[Path] = []
    while True:
        page_file = spool / f"page-{len(pages) + 1:06d}.json"
        if page_file.exists():  # fetched by an earlier attempt of this task
            items = _page_items(page_file, paging.items_key)
        else:
            params = {connector.date_param: day.isoformat(), paging.page_param: position,
                      paging.size_param: paging.page_size}
            body, content = _get(client, url, params, connector, sleep)
            items = body.get(paging.items_key)
            if not isinstance(items, list):
                raise SourceError(f"{url}: the response has no list under {paging.items_key!r}; "
                                  f"keys are {sorted(body)}. Check the connector's paging.items_key.")
            # The answer is spooled as received (no re-encoding): its items are read back from it.
            tmp = page_file.with_suffix(".tmp")
            tmp.write_bytes(content)
            tmp.replace(page_file)
        if not items:
            page_file.unlink(missing_ok=True)
            return pages
        pages.append(page_file)
        if len(items) < paging.page_size:
            return pages
        position += 1 if paging.style == "page" else len(items)


def _get(client, url, params, connector: ApiConnector, sleep) -> tuple[dict, bytes]:
    delay = 1.0
    for attempt in range(1, connector.max_attempts + 1):
        try:
            response = client.get(url, params=params)
        except httpx.TransportError as err:
            problem = f"{type(err).__name__}: {err}"
        else:
            if response.status_code == 200:
                try:
                    return response.json(), response.content
                except ValueError as err:
                    raise SourceError(f"{response.url}: the answer is not JSON ({err}).") from err
            if response.status_code in (401, 403):
                raise SourceError(f"{url}: refused with HTTP {response.status_code}; check the token in the "
                                  f"Airflow connection {connector.conn_id!r}.")
            if response.status_code not in _TRANSIENT:
                raise SourceError(f"{response.url}: HTTP {response.status_code}: {response.text[:300]}")
            problem = f"HTTP {response.status_code}"
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                delay = max(delay, float(retry_after))
        if attempt == connector.max_attempts:
            raise SourceUnavailableError(
                f"{url}: no answer after {attempt} attempts (last: {problem}); the pages already fetched are "
                "kept and the next try resumes from the failed page.")
        log.warning("%s: %s; retrying in %.0f s (attempt %d of %d)", url, problem, delay, attempt,
                    connector.max_attempts)
        sleep(delay)
        delay = min(delay * 2, 60)
    raise AssertionError("unreachable")


def _page_items(page: Path, items_key: str) -> list:
    return json.loads(page.read_bytes())[items_key]


def _spooled_rows(pages: list[Path], entity: EntityConfig) -> Iterator[SourceRow]:
    items_key = entity.connector.paging.items_key
    items = (item for page in pages for item in _page_items(page, items_key))
    return map_items(items, entity)

