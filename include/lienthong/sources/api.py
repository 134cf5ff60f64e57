"""The paged JSON HTTP API connector (the Youth Union's and the Trade Union's national systems).

Pages are fetched with retries and exponential backoff (honouring Retry-After on 429/503) and
spooled to disk as they arrive, in a folder of this attempt only (the caller's): pages from an
earlier attempt may describe another state of the source, so they are never reused. Rows are read
from the spool once complete. When the source states its total (``paging.total_key``), the pages
are counted against it: a total that changes while paging fails the attempt (retried later), and a
delivery short of its total is marked as doubtful, which holds its batch for review.
"""
from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import msgspec

from lienthong.config.organisations import ApiConnector, EntityConfig
from lienthong.sources.base import (Delivery, JsonPages, SourceError, SourceRow, SourceUnavailableError,
                                    map_items)

log = logging.getLogger(__name__)
_TRANSIENT = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class ApiEndpoint:
    base_url: str
    token: str


def fetch_delivery(entity: EntityConfig, endpoint: ApiEndpoint, day: date, spool: Path,
                   *, sleep=time.sleep) -> Delivery | None:
    """Fetch the day's rows of one resource into ``spool`` (a folder for this attempt alone);
    None when the source has none for that day."""
    connector: ApiConnector = entity.connector
    url = endpoint.base_url.rstrip("/") + connector.resource
    spool.mkdir(parents=True, exist_ok=True)
    with httpx.Client(headers={"Authorization": f"Bearer {endpoint.token}"},
                      timeout=connector.timeout_seconds) as client, PageSpool(spool / "pages.json") as pages:
        counts, total = _fetch_pages(client, url, connector, day, pages, sleep)
    received = sum(counts)
    if not counts and not total:
        return None
    doubts = []
    if total is not None and received != total:
        doubts.append(f"the source declares {total} rows ({connector.paging.total_key}) but {received} arrived "
                      f"in {len(counts)} page(s): a page came back empty or short")
    source = f"{url}?{connector.date_param}={day.isoformat()}"
    return Delivery(source=source, checksum=pages.digest.hexdigest(), entity=entity,
                    read=lambda: _spooled_rows(pages, counts, entity), declared_rows=total, doubts=doubts,
                    json_pages=spooled_pages(pages, counts, connector.paging.items_key))


class PageSpool:
    """An attempt's pages, appended as received to one file and read back in order: each page's
    content exactly as it came (no re-encoding). One file rather than one per page: creating a file
    cost about a millisecond, a third of the client's time on a province day's 4,000 pages. ``digest``
    hashes the pages as they are added (the delivery's checksum)."""

    def __init__(self, path: Path):
        self.path = path
        self.digest = hashlib.sha256()
        self._spans: list[tuple[int, int]] = []
        self._file = path.open("wb")

    def add(self, content: bytes) -> None:
        self._spans.append((self._file.tell(), len(content)))
        self._file.write(content)
        self.digest.update(content)

    def __iter__(self) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            for offset, length in self._spans:
                handle.seek(offset)
                yield handle.read(length)

    def __enter__(self) -> PageSpool:
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()


def spooled_pages(pages: Iterable[bytes], counts: list[int], items_key: str) -> JsonPages:
    """The spooled pages as they were received, for a bulk load."""
    firsts = [1 + before for before in [0, *itertools.accumulate(counts)]]
    return JsonPages(items_key, lambda: zip(firsts, pages))


def _declared_total(body: dict, key: str | None, where: str) -> int | None:
    if key is None:
        return None
    value = body
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SourceError(f"{where}: no row count under {key!r} (paging.total_key); check the connector.")
    return value


def _fetch_pages(client, url, connector: ApiConnector, day, pages: PageSpool, sleep
                 ) -> tuple[list[int], int | None]:
    """The day's pages into ``pages``; the items on each, and the total the source declares."""
    paging = connector.paging
    position = 1 if paging.style == "page" else 0
    counts: list[int] = []
    received = 0
    total: int | None = None
    while True:
        where = f"{url} page {len(counts) + 1}"
        params = {connector.date_param: day.isoformat(), paging.page_param: position,
                  paging.size_param: paging.page_size}
        body, content = _get(client, url, params, connector, sleep, where)
        items = body.get(paging.items_key)
        if not isinstance(items, list):
            raise SourceError(f"{where}: the response has no list under {paging.items_key!r}; "
                              f"keys are {sorted(map(str, body))}. Check the connector's paging.items_key.")
        declared = _declared_total(body, paging.total_key, where)
        if total is not None and declared != total:
            raise SourceUnavailableError(
                f"{where}: the source's total changed from {total} to {declared} while its pages were fetched "
                "(it is being updated); nothing was landed, the next try fetches every page again.")
        total = declared
        if not items:
            return counts, total
        pages.add(content)
        counts.append(len(items))
        received += len(items)
        done = received >= total if total is not None else len(items) < paging.page_size
        if done:
            return counts, total
        position += 1 if paging.style == "page" else len(items)


def _get(client, url, params, connector: ApiConnector, sleep, where: str) -> tuple[dict, bytes]:
    delay = 1.0
    for attempt in range(1, connector.max_attempts + 1):
        try:
            response = client.get(url, params=params)
        except httpx.TransportError as err:
            problem = f"{type(err).__name__}: {err}"
        else:
            if response.status_code == 200:
                try:
                    body = _decode(response.content)
                except ValueError as err:
                    raise SourceError(f"{where}: the answer is not JSON ({err}).") from err
                except RecursionError as err:
                    raise SourceError(f"{where}: the answer nests JSON too deeply to be read.") from err
                if not isinstance(body, dict):
                    raise SourceError(f"{where}: the answer is a JSON {type(body).__name__}, not an object "
                                      "with the page's rows.")
                return body, response.content
            if response.status_code in (401, 403):
                raise SourceError(f"{url}: refused with HTTP {response.status_code}; check the token in the "
                                  f"Airflow connection {connector.conn_id!r}.")
            if response.status_code not in _TRANSIENT:
                raise SourceError(f"{where}: HTTP {response.status_code}: {response.text[:300]}")
            problem = f"HTTP {response.status_code}"
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                delay = max(delay, float(retry_after))
        if attempt == connector.max_attempts:
            raise SourceUnavailableError(
                f"{where}: no answer after {attempt} attempts (last: {problem}); nothing was landed, the next "
                "try fetches every page again.")
        log.warning("%s: %s; retrying in %.0f s (attempt %d of %d)", url, problem, delay, attempt,
                    connector.max_attempts)
        sleep(delay)
        delay = min(delay * 2, 60)
    raise AssertionError("unreachable")


def _decode(content: bytes):
    """A page's JSON: msgspec's decoder (twice json's speed on a page of items: the client's largest
    cost on a province day after the spool), json's where msgspec refuses (NaN, Infinity, a lone
    surrogate), so that the same answers pass and fail, with json's message (both raise RecursionError
    on nesting too deep to read)."""
    try:
        return msgspec.json.decode(content)
    except msgspec.DecodeError:
        return json.loads(content)


def _spooled_rows(pages: Iterable[bytes], counts: list[int], entity: EntityConfig) -> Iterator[SourceRow]:
    items_key = entity.connector.paging.items_key
    items = (item for page in pages for item in json.loads(page)[items_key])
    ends = list(itertools.accumulate(counts))

    def where(number: int) -> str:
        page = bisect.bisect_left(ends, number)
        return f"page {page + 1}, item {number - (ends[page - 1] if page else 0)}"

    return map_items(items, entity, where)
