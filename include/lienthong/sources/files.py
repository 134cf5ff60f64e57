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


def safe_drop_path(drop_dir: Path, relative: str) -> Path | None:
    """The delivery file at ``relative`` under the drop folder, None when there is none.

    A symbolic link anywhere below the drop folder, or anything else than a regular file, is refused:
    a link to /etc/passwd or to another organisation's roll must not be read as a delivery, and a FIFO
    would hang the reader. Only the path is named, never the content."""
    root = drop_dir.resolve()
    path = root / relative
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        if current.is_symlink():
            raise SourceFileError(
                f"{current}: is a symbolic link; deliveries must be regular files inside the drop folder "
                f"{root}. Copy the file there instead of linking it.")
    if not path.exists():
        return None
    if not path.resolve().is_relative_to(root):
        raise SourceFileError(f"{path}: resolves outside the drop folder {root}; move the delivery inside it.")
    if not path.is_file():
        raise SourceFileError(f"{path}: is not a regular file; deliveries must be regular files.")
    return path


def find_delivery(entity: EntityConfig, drop_dir: Path, delivery_date: date) -> Delivery | None:
    """The delivery for that day, or None when the organisation sent nothing."""
    path = safe_drop_path(drop_dir, entity.connector.path.format(date=delivery_date.isoformat()))
    if path is None:
        return None
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
    """Rows of native values under a header -> canonical SourceRows; checks required columns."""
    header = [(nfc_text(h) or "").strip() for h in header]
    missing = [native for native, field in entity.columns.items() if field in entity.required and native not in header]
    if missing:
        raise SourceFileError(
            f"{source}: required column(s) {missing} missing; the header has {header}. "
            "Fix the file or the organisation config's `columns`."
        )
    fields = list(dict.fromkeys(entity.columns.values()))
    # Positions resolved once per file, not per cell (this loop runs for every delivered row).
    mapped = [(i, entity.columns[name]) for i, name in enumerate(header) if name in entity.columns]
    unmapped = [(i, name) for i, name in enumerate(header) if name not in entity.columns]
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
