"""The file-drop connector: one organisation's CSV or XLSX delivery for one day."""
from __future__ import annotations

import csv
import hashlib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lienthong.config.organisations import EntityConfig


class SourceFileError(RuntimeError):
    """A delivery file cannot be read as configured; the message names the file and the problem."""


@dataclass(frozen=True)
class SourceRow:
    row_number: int  # the line in the file (the header is line 1), so people can find it
    values: dict[str, str | None]  # canonical field -> text as sent (NFC)
    extra: dict[str, str]  # columns the config does not map, kept rather than dropped


@dataclass(frozen=True)
class Delivery:
    path: Path
    checksum: str
    entity: EntityConfig

    def rows(self) -> Iterator[SourceRow]:
        if self.entity.connector.format == "csv":
            return _csv_rows(self.path, self.entity)
        raise SourceFileError(f"{self.path}: format {self.entity.connector.format!r} is not supported yet")


def find_delivery(entity: EntityConfig, drop_dir: Path, delivery_date: date) -> Delivery | None:
    """The delivery for that day, or None when the organisation sent nothing."""
    path = drop_dir / entity.connector.path.format(date=delivery_date.isoformat())
    if not path.exists():
        return None
    try:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as err:
        raise SourceFileError(f"{path}: cannot be read: {err.strerror or err}") from err
    return Delivery(path=path, checksum=digest.hexdigest(), entity=entity)


def _nfc(text: str) -> str | None:
    text = unicodedata.normalize("NFC", text)
    return text if text.strip() else None


def _csv_rows(path: Path, entity: EntityConfig) -> Iterator[SourceRow]:
    connector = entity.connector
    try:
        with path.open(encoding=connector.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=connector.delimiter)
            header = [_nfc(h) or "" for h in next(reader, [])]
            header = [h.strip() for h in header]
            missing = [native for native, field in entity.columns.items()
                       if field in entity.required and native not in header]
            if missing:
                raise SourceFileError(
                    f"{path}: required column(s) {missing} missing; the header has {header}. "
                    "Fix the file or the organisation config's `columns`."
                )
            mapping = [entity.columns.get(h) for h in header]
            for line, record in enumerate(reader, start=2):
                values: dict[str, str | None] = dict.fromkeys(entity.columns.values())
                extra: dict[str, str] = {}
                for name, field, raw in zip(header, mapping, record):
                    if field:
                        values[field] = _nfc(raw)
                    elif raw.strip():
                        extra[name or f"column_{len(extra) + 1}"] = unicodedata.normalize("NFC", raw)
                if len(record) > len(header):
                    extra["_overflow"] = connector.delimiter.join(record[len(header):])
                yield SourceRow(line, values, extra)
    except UnicodeDecodeError as err:
        raise SourceFileError(
            f"{path}: bytes {err.start}-{err.end} cannot be decoded as {connector.encoding} ({err.reason}); "
            "check the encoding in the organisation config."
        ) from err
    except csv.Error as err:
        raise SourceFileError(f"{path}: not valid CSV: {err}") from err
