"""What every connector yields: a delivery (one organisation, entity and day) and its rows."""
from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterable, Iterator
import json
from dataclasses import dataclass, field
from typing import Any

from lienthong.config.organisations import EntityConfig


class SourceError(RuntimeError):
    """A delivery cannot be read and retrying will not help; the message names the source and the problem."""


class SourceUnavailableError(RuntimeError):
    """The source did not answer (down, timing out, rate-limiting); a later retry may succeed."""


# Every character Python counts as whitespace (str.isspace): a cell of only these is empty.
SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


@dataclass(frozen=True)
class SourceRow:
    row_number: int  # the line in the file (header = 1) or the position in the feed, so people can find it
    values: dict[str, str | None]  # canonical field -> text as sent (NFC)
    extra: dict[str, str]  # fields the config does not map, kept rather than dropped
    # (reason_code, reason) when the connector already knows the row cannot be used as sent (a line
    # cut short, an item that is no object): it goes to quarantine, never silently dropped.
    problem: tuple[str, str] | None = None


@dataclass(frozen=True)
class LineRun:
    """Consecutive lines of a CSV file as sent, each one row of exactly the header's width, LF or
    CRLF ended, a quote only around a whole value (so that PostgreSQL's CSV COPY reads every value
    as the csv module does): loaded as they are, without parsing them in Python."""
    first: int  # the first line's number (header = 1 when it is the first line)
    text: str
    delimiter: str


@dataclass(frozen=True)
class NumberedRows:
    """CSV text (comma-separated, CRLF line ends) of rows of exactly the header's width, each its
    cells as sent (blank ones not yet made empty) then its row number."""
    text: str


@dataclass(frozen=True)
class CellBlocks:
    """A delivery's rows as positional cells, for a bulk load (lienthong.landing.stage).

    ``columns`` says what each position holds: ("field", canonical name) or, for a column the
    config does not map, ("extra", the file's header). ``blocks`` yields, in file order, either CSV
    text (comma-separated, CRLF line ends) of regular rows, each its cells as sent (blank ones not
    yet made empty) then its row number and the overflow (cells past the header, joined by " | "),
    NumberedRows (rows of the header's width, without the overflow), a LineRun of the file's own
    lines (their cells only), or a SourceRow for a row that needs the general path (the connector
    found a problem, or it holds a NUL byte)."""
    columns: list[tuple[str, str]]
    blocks: Iterator[str | NumberedRows | LineRun | SourceRow]


@dataclass(frozen=True)
class JsonPages:
    """A delivery's items as JSON text, for a bulk load (lienthong.landing.stage): each page is
    (the number of its first item, counted from 1 over the delivery; its JSON text), the items a
    list under ``items_key`` of each page's object, or the page itself when None. The load maps
    them in SQL as :func:`map_items` does, or, when a page holds what only map_items handles
    alike (an item that is no object, a nested value, text PostgreSQL cannot hold), gives way to
    the delivery's rows()."""
    items_key: str | None
    pages: Callable[[], Iterator[tuple[int, bytes | str]]]


@dataclass(frozen=True)
class Delivery:
    source: str  # a file path or a URL, for batch records and messages
    checksum: str  # sha256 of the content: the same content twice is recognised
    entity: EntityConfig
    read: Callable[[], Iterator[SourceRow]]
    # How many rows the source itself says it sent (an API's total), when it says so.
    declared_rows: int | None = None
    # Why the delivery may be incomplete, found by the connector while reading (a file cut
    # mid-line): the landing holds such a batch for review instead of making it live.
    doubts: list[str] = field(default_factory=list)
    # The same rows as positional cells when the connector can give them so (a bulk load, no
    # per-row Python); None, or a call that returns None, means: use rows().
    cells: Callable[[], CellBlocks | None] | None = None
    # The same rows as pages of JSON items (the API and database connectors), see JsonPages.
    json_pages: JsonPages | None = None

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


def map_items(items: Iterable[Any], entity: EntityConfig,
              where: Callable[[int], str] = lambda number: f"item {number}") -> Iterator[SourceRow]:
    """Keyed records (JSON objects, database rows) -> canonical SourceRows, numbered from 1.

    An item that is no object, or a mapped field holding a list or object, is quarantined (with
    ``where(number)`` saying where it was); an unmapped nested value is kept as JSON text."""
    columns = entity.mapping
    fields = list(dict.fromkeys(columns.values()))
    for number, item in enumerate(items, start=1):
        values: dict[str, str | None] = dict.fromkeys(fields)
        extra: dict[str, str] = {}
        if not isinstance(item, dict):
            extra["_item"] = _json_text(item)
            yield SourceRow(number, values, extra, ("not_an_object", f"{where(number)} is a JSON "
                            f"{type(item).__name__.replace('NoneType', 'null')}, not an object of fields"))
            continue
        nested = []
        for key, raw in item.items():
            if isinstance(raw, (dict, list)):
                text = _json_text(raw)
                if key in columns:
                    nested.append(str(key))
            else:
                text = nfc_text(raw)
            field_name = columns.get(key)
            if field_name:
                values[field_name] = text
            elif text is not None:
                extra[str(key)] = text
        problem = None
        if nested:
            problem = ("nested_value", f"{where(number)}: field(s) {', '.join(nested)} hold a JSON list or "
                                       "object, not a single value")
        yield SourceRow(number, values, extra, problem)


def _json_text(value: Any) -> str:
    """A nested JSON value kept as JSON text (arbitrarily deep ones are not re-serialised)."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except RecursionError:
        return "(JSON nested too deeply to keep)"
