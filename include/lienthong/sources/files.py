"""The file-drop connector: one organisation's CSV or XLSX delivery for one day.

CSV is streamed line by line in any Python codec or the legacy Vietnamese encodings (TCVN3, VNI,
Windows-1258 with combining marks); XLSX is read with calamine (Rust), date cells as ISO dates.
Every value comes out as NFC text.
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
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
    return open_file(path, entity)


def open_file(path: Path, entity: EntityConfig) -> Delivery:
    """One file read as the entity's config says (also for `lienthong config check --sample-file`)."""
    try:
        checksum = sha256_file(path)
    except OSError as err:
        raise SourceFileError(f"{path}: cannot be read: {err.strerror or err}") from err
    doubts: list[str] = []
    if entity.connector.format == "xlsx":
        return Delivery(source=str(path), checksum=checksum, entity=entity, read=lambda: _xlsx_rows(path, entity))
    return Delivery(source=str(path), checksum=checksum, entity=entity,
                    read=lambda: _csv_rows(path, entity, doubts), doubts=doubts)


def _cell(value: str) -> str | None:
    """A CSV cell from a line already in NFC: empty or blank is None."""
    return value if value and not value.isspace() else None


def map_records(source: str, entity: EntityConfig, header: list[str],
                records: Iterable[tuple[int, list, tuple[str, str] | None]],
                cell: Callable[[object], str | None] = nfc_text) -> Iterator[SourceRow]:
    """Rows of native values under a header -> canonical SourceRows; every configured header must be
    in the file unless the config declares it optional (a typo would otherwise land an empty column).

    Each record is (row number, cells, problem): a problem (reason code, reason) sends the row to
    quarantine with its cells kept."""
    header = [(nfc_text(h) or "").strip() for h in header]
    columns = entity.mapping
    if missing := missing_headers(entity, header):
        raise SourceFileError(
            # The file's first line is not quoted: when the header is missing, it is a member's row.
            f"{source}: configured header(s) {missing} not in the file's first line ({len(header)} fields). "
            "Fix the file, the organisation config's `columns`, or list the header under `optional`; "
            "`lienthong config check` shows the file's header."
        )
    fields = list(dict.fromkeys(columns.values()))
    # Positions resolved once per file, not per cell (this loop runs for every delivered row).
    mapped = [(i, columns[name]) for i, name in enumerate(header) if name in columns]
    unmapped = [(i, name) for i, name in enumerate(header) if name not in columns]
    width = len(header)
    for number, record, problem in records:
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
        yield SourceRow(number, values, extra, problem)


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


class _TakenLines:
    """The file's text lines, remembering which ones the csv reader took for its latest record."""

    def __init__(self, lines: Iterator[str]):
        self._lines = lines
        self.taken: list[str] = []
        self.count = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.count += 1
        self.taken.append(line)
        return line

    def take(self) -> tuple[int, list[str]]:
        """(first line number, lines) of the record just read."""
        taken, self.taken = self.taken, []
        return self.count - len(taken) + 1, taken


def _blank(cells: list[str]) -> bool:
    return not any(c and not c.isspace() for c in cells)


def _csv_records(lines: _TakenLines, delimiter: str, doubts: list[str]):
    """(line number, cells, problem) for every non-blank record after the header.

    A roll's values never span lines, so a record the reader built from several lines (a quote
    left open) is returned line by line, each to quarantine: rows in = rows accounted for. A last
    line without a line break may have been cut: its row is quarantined and the delivery doubted."""
    reader = csv.reader(lines, delimiter=delimiter)
    for cells in reader:
        first, taken = lines.take()
        if len(taken) > 1:
            last = first + len(taken) - 1
            reason = (f"lines {first}-{last} were read as one row: a quote opened on line {first} is closed "
                      f"only on line {last} (or never); fix the quoting of that value")
            for number, text in enumerate(taken, start=first):
                own = next(csv.reader([text], delimiter=delimiter), [])
                if not _blank(own):
                    yield number, own, ("unbalanced_quote", reason)
            continue
        if _blank(cells):
            continue
        if not taken[-1].endswith(("\n", "\r")):
            doubts.append(f"line {first}, the last, ends without a line break: the file may have been cut off there")
            yield first, cells, ("incomplete_last_line",
                                 f"line {first} is the last and ends without a line break: it may be cut short")
            continue
        yield first, cells, None


def _csv_rows(path: Path, entity: EntityConfig, doubts: list[str]) -> Iterator[SourceRow]:
    connector = entity.connector
    lines = _TakenLines(_text_lines(path, connector.encoding))
    try:
        header = next(csv.reader(lines, delimiter=connector.delimiter), None)
        if header is None:
            raise SourceFileError(f"{path}: the file is empty (no header row).")
        if len(lines.take()[1]) > 1:
            raise SourceFileError(f"{path}: line 1, the header, opens a quote it does not close; fix the header.")
        yield from map_records(str(path), entity, header,
                               _csv_records(lines, connector.delimiter, doubts), _cell)
    except UnicodeDecodeError as err:
        where = locate_undecodable(path, connector.encoding, connector.delimiter)
        raise SourceFileError(
            f"{path}: {where or err.reason} cannot be decoded as {connector.encoding}; "
            "check the encoding in the organisation config, or the file at that place."
        ) from err
    except csv.Error as err:
        raise SourceFileError(f"{path}: line {lines.count}: not valid CSV ({err}).") from err


# The byte codec under each legacy encoding (each is one byte per character before re-composing).
_LEGACY_BYTE_CODECS = {"tcvn3": "latin-1", "vni": "cp1252", "cp1258": "cp1258", "windows-1258": "cp1258"}
_LINE_ENDS = re.compile(r"\r\n|\r|\n")


def locate_undecodable(path: Path, encoding: str, delimiter: str = ",") -> str | None:
    """Where the first undecodable bytes of a text file are: line, column, field and the bytes in hex.

    Decodes the file again in binary lines with an incremental decoder, so the offsets are the
    file's own (a text stream's error offsets are relative to its internal buffer)."""
    codec = _LEGACY_BYTE_CODECS.get(encoding.lower(), encoding)
    decoder = codecs.getincrementaldecoder(codec)()
    offset = 0  # bytes of the file fed to the decoder so far
    position = {"line": 1, "text": "", "header": None}

    def feed(text: str) -> None:
        pieces = _LINE_ENDS.split(text)
        for ended in pieces[:-1]:
            line = position["text"] + ended
            if position["header"] is None:
                position["header"] = next(csv.reader([line], delimiter=delimiter), [])
            position["line"] += 1
            position["text"] = ""
        position["text"] += pieces[-1]

    with path.open("rb") as handle:
        for chunk in itertools.chain(handle, [None]):  # None: the end, where a cut character shows
            pending = len(decoder.getstate()[0])
            try:
                feed(decoder.decode(b"", final=True) if chunk is None else decoder.decode(chunk))
            except UnicodeDecodeError as err:
                # utf-8-sig strips its BOM before decoding: offsets in the first chunk start after it.
                bom = 3 if offset == 0 and chunk and codec.lower().replace("_", "-") == "utf-8-sig" \
                    and chunk.startswith(codecs.BOM_UTF8) else 0
                feed(err.object[:err.start].decode(codec, errors="replace"))
                at = offset - pending + bom + err.start
                bad = err.object[err.start:max(err.end, err.start + 1)][:8]
                cells = next(csv.reader([position["text"]], delimiter=delimiter), None) or [""]
                header = position["header"] or []
                field = f"field {len(cells)}"
                if len(cells) <= len(header):
                    field += f" ({header[len(cells) - 1]!r})"
                return (f"line {position['line']}, column {len(position['text']) + 1}, {field}: byte(s) "
                        f"{' '.join(f'0x{b:02x}' for b in bad)} at byte offset {at}")
            offset += len(chunk or b"")
    return None


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
        numbered = ((n, r, None) for n, r in enumerate(rows, start=2) if any(v not in ("", None) for v in r))
        yield from map_records(str(path), entity, [str(h) for h in header], numbered)
    except (CalamineError, ValueError, io.UnsupportedOperation) as err:
        raise SourceFileError(f"{path}: not a readable XLSX workbook: {err}") from err
