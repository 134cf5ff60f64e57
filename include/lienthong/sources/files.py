"""The file-drop connector: one organisation's CSV or XLSX delivery for one day.

CSV is streamed line by line in any Python codec or the legacy Vietnamese encodings (TCVN3, VNI,
Windows-1258 with combining marks); XLSX is read with calamine (Rust), date cells as ISO dates.
Every value comes out as NFC text.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path

from lienthong.config.organisations import EntityConfig
from lienthong.sources.base import Delivery, SourceError, SourceRow, nfc_text, sha256_file
from lienthong.text.legacy_encodings import decode, is_known_encoding


class SourceFileError(SourceError):
    """A delivery file cannot be read as configured."""


def find_delivery(entity: EntityConfig, drop_dir: Path, delivery_date: date) -> Delivery | None:
    """The delivery for that day, or None when the organisation sent nothing."""
    path = drop_dir / entity.connector.path.format(date=delivery_date.isoformat())
    if not path.exists():
        return None
    return open_file(path, entity)


def open_file(path: Path, entity: EntityConfig) -> Delivery:
    """One file read as the entity's config says (also for `lienthong config check --sample-file`)."""
    try:
        checksum = sha256_file(path)
    except OSError as err:
        raise SourceFileError(f"{path}: cannot be read: {err.strerror or err}") from err
    reader = _xlsx_rows if entity.connector.format == "xlsx" else _csv_rows
    return Delivery(source=str(path), checksum=checksum, entity=entity, read=lambda: reader(path, entity))


def _cell(value: str) -> str | None:
    """A CSV cell from a line already in NFC: empty or blank is None."""
    return value if value and not value.isspace() else None


def map_records(source: str, entity: EntityConfig, header: list[str], records: Iterable[tuple[int, list]],
                cell: Callable[[object], str | None] = nfc_text) -> Iterator[SourceRow]:
    """Rows of native values under a header -> canonical SourceRows; every configured header must be
    in the file unless the config declares it optional (a typo would otherwise land an empty column)."""
    header = [(nfc_text(h) or "").strip() for h in header]
    columns = entity.mapping
    if missing := missing_headers(entity, header):
        raise SourceFileError(
            f"{source}: configured header(s) {missing} not in the file; the header has {header}. "
            "Fix the file, the organisation config's `columns`, or list the header under `optional`."
        )
    fields = list(dict.fromkeys(columns.values()))
    # Positions resolved once per file, not per cell (this loop runs for every delivered row).
    mapped = [(i, columns[name]) for i, name in enumerate(header) if name in columns]
    unmapped = [(i, name) for i, name in enumerate(header) if name not in columns]
    width = len(header)
    for number, record in records:
        values: dict[str, str | None] = dict.fromkeys(fields)
        present = len(record)
        for i, field in mapped:
            if i < present:
                values[field] = cell(record[i])
        extra: dict[str, str] = {}
        for i, name in unmapped:
            if i < present and (value := cell(record[i])) is not None:
                extra[name or f"column_{len(extra) + 1}"] = value
        if present > width:
            overflow = [v for v in (cell(r) for r in record[width:]) if v is not None]
            if overflow:
                extra["_overflow"] = " | ".join(overflow)
        yield SourceRow(number, values, extra)


def file_header(path: Path, entity: EntityConfig) -> list[str]:
    """The header row of a delivery file, as map_records compares it (NFC, trimmed)."""
    if entity.connector.format == "xlsx":
        from python_calamine import CalamineWorkbook

        workbook = CalamineWorkbook.from_path(str(path))
        sheet_name = entity.connector.sheet
        sheet = workbook.get_sheet_by_name(sheet_name) if sheet_name else workbook.get_sheet_by_index(0)
        header = next(iter(sheet.iter_rows()), [])
    else:
        header = next(csv.reader(_text_lines(path, entity.connector.encoding),
                                 delimiter=entity.connector.delimiter), [])
    return [(nfc_text(h) or "").strip() for h in header]


def missing_headers(entity: EntityConfig, header: list[str]) -> list[str]:
    """Configured headers (the record id included) the file lacks, other than the optional ones."""
    return [native for native in entity.mapping if native not in header and native not in entity.optional]


def _text_lines(path: Path, encoding: str) -> Iterator[str]:
    if is_known_encoding(encoding):
        # Legacy encodings are byte-per-character or base+mark within a line: decode per line.
        with path.open("rb") as handle:
            for line in handle:
                yield decode(line, encoding)
    else:
        # NFC per line rather than per cell: the same result (no delimiter or quote composes with a
        # mark) for one call instead of one per cell.
        with path.open(encoding=encoding, newline="") as handle:
            for line in handle:
                yield line if line.isascii() else unicodedata.normalize("NFC", line)


def _csv_rows(path: Path, entity: EntityConfig) -> Iterator[SourceRow]:
    connector = entity.connector
    try:
        reader = csv.reader(_text_lines(path, connector.encoding), delimiter=connector.delimiter)
        header = next(reader, None)
        if header is None:
            raise SourceFileError(f"{path}: the file is empty (no header row).")
        yield from map_records(str(path), entity, header, ((reader.line_num, r) for r in reader if any(r)), _cell)
    except UnicodeDecodeError as err:
        raise SourceFileError(
            f"{path}: bytes {err.start}-{err.end} cannot be decoded as {connector.encoding} ({err.reason}); "
            "check the encoding in the organisation config."
        ) from err
    except csv.Error as err:
        raise SourceFileError(f"{path}: not valid CSV: {err}") from err


def _xlsx_rows(path: Path, entity: EntityConfig) -> Iterator[SourceRow]:
    from python_calamine import CalamineError, CalamineWorkbook

    sheet_name = entity.connector.sheet
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        if sheet_name and sheet_name not in workbook.sheet_names:
            raise SourceFileError(f"{path}: no sheet {sheet_name!r}; the workbook has {workbook.sheet_names}.")
        sheet = workbook.get_sheet_by_name(sheet_name) if sheet_name else workbook.get_sheet_by_index(0)
        rows = iter(sheet.iter_rows())
        header = next(rows, None)
        if header is None:
            raise SourceFileError(f"{path}: the sheet is empty (no header row).")
        numbered = ((n, r) for n, r in enumerate(rows, start=2) if any(v not in ("", None) for v in r))
        yield from map_records(str(path), entity, [str(h) for h in header], numbered)
    except (CalamineError, ValueError, io.UnsupportedOperation) as err:
        raise SourceFileError(f"{path}: not a readable XLSX workbook: {err}") from err
