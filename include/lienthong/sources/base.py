"""What every connector yields: a delivery (one organisation, entity and day) and its rows."""
from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from lienthong.config.organisations import EntityConfig


class SourceError(RuntimeError):
    """A delivery cannot be read and retrying will not help; the message names the source and the problem."""


class SourceUnavailableError(RuntimeError):
    """The source did not answer (down, timing out, rate-limiting); a later retry may succeed."""


@dataclass(frozen=True)
class SourceRow:
    row_number: int  # the line in the file (header = 1) or the position in the feed, so people can find it
    values: dict[str, str | None]  # canonical field -> text as sent (NFC)
    extra: dict[str, str]  # fields the config does not map, kept rather than dropped


@dataclass(frozen=True)
class Delivery:
    source: str  # a file path or a URL, for batch records and messages
    checksum: str  # sha256 of the content: the same content twice is recognised
    entity: EntityConfig
    read: Callable[[], Iterator[SourceRow]]

    def rows(self) -> Iterator[SourceRow]:
        return self.read()


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def as_text(value: Any) -> str | None:
    """A delivered value as text, None when empty. Whole numbers lose Excel's ".0"."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text if text.strip() else None


def nfc_text(raw: Any) -> str | None:
    """A delivered value as NFC text, None when empty (every connector's cells and values)."""
    if type(raw) is str:  # nearly every value: skip the general path (it runs per value)
        if not raw or raw.isspace():
            return None
        return raw if raw.isascii() else unicodedata.normalize("NFC", raw)
    text = as_text(raw)
    return unicodedata.normalize("NFC", text) if text is not None else None


def map_items(items: Iterable[dict], entity: EntityConfig) -> Iterator[SourceRow]:
    """Keyed records (JSON objects, database rows) -> canonical SourceRows, numbered from 1."""
    columns = entity.mapping
    fields = list(dict.fromkeys(columns.values()))
    for number, item in enumerate(items, start=1):
        values: dict[str, str | None] = dict.fromkeys(fields)
        extra: dict[str, str] = {}
        for key, raw in item.items():
            text = nfc_text(raw)
            field = columns.get(key)
            if field:
                values[field] = text
            elif text is not None:
                extra[key] = text
        yield SourceRow(number, values, extra)
