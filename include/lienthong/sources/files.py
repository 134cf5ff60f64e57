"""The file-drop connector: one organisation's CSV or XLSX delivery for one day.

CSV is streamed line by line in any Python codec or the legacy Vietnamese encodings (TCVN3, VNI,
Windows-1258 with combining marks); XLSX is read with calamine (Rust), date cells as ISO dates.
Every value comes out as NFC text.
"""
from __future__ import annotations

import bisect
import codecs
import collections
import contextlib
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path

from lienthong.config.organisations import EntityConfig
from lienthong.sources.base import (CellBlocks, Delivery, LineRun, NumberedRows, SourceError, SourceRow, as_text, nfc_text,
                                    sha256_file)
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
        return Delivery(source=str(path), checksum=checksum, entity=entity, read=lambda: _xlsx_rows(path, entity),
                        cells=lambda: _xlsx_cells(path, entity))
    return Delivery(source=str(path), checksum=checksum, entity=entity,
                    read=lambda: _csv_rows(path, entity, doubts), doubts=doubts,
                    cells=lambda: _csv_cells(path, entity, doubts))


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
    to_row = row_mapper(source, entity, header, cell)
    for number, record, problem in records:
        yield to_row(number, record, problem)


def header_layout(source: str, entity: EntityConfig, header: list) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(position, canonical field) of the mapped columns and (position, header) of the others; an
    error naming the file when a configured header is missing."""
    header = [(nfc_text(h) or "").strip() for h in header]
    columns = entity.mapping
    if missing := missing_headers(entity, header):
        raise SourceFileError(
            # The row shown is not quoted: when the header is missing, it may be a member's row.
            f"{source}: configured header(s) {missing} not in the file's header row ({len(header)} fields; "
            f"no row among the first {HEADER_SEARCH_ROWS} holds every configured header, the first is shown). "
            "Fix the file, the organisation config's `columns`, or list the header under `optional`; "
            "`lienthong config check` shows the file's header."
        )
    mapped = [(i, columns[name]) for i, name in enumerate(header) if name in columns]
    unmapped = [(i, name) for i, name in enumerate(header) if name not in columns]
    return mapped, unmapped


def row_mapper(source: str, entity: EntityConfig, header: list,
               cell: Callable[[object], str | None] = nfc_text) -> Callable[..., SourceRow]:
    """The function making one record (row number, cells, problem) under this header a SourceRow."""
    mapped, unmapped = header_layout(source, entity, header)
    fields = list(dict.fromkeys(entity.mapping.values()))
    width = len(header)

    def to_row(number: int, record: list, problem: tuple[str, str] | None = None) -> SourceRow:
        values: dict[str, str | None] = dict.fromkeys(fields)
        present = len(record)
        for i, field in mapped:
            if i < present:
                values[field] = cell(record[i])
        extra: dict[str, str] = {}
        for i, name in unmapped:
            if i < present and (value := cell(record[i])) is not None:
                extra[name or f"column_{len(extra) + 1}"] = value
        if present > width and (overflow := _overflow(record[width:], cell)):
            extra["_overflow"] = overflow
        return SourceRow(number, values, extra, problem)

    return to_row


def _overflow(cells: list, cell: Callable[[object], str | None]) -> str | None:
    """Cells past the header's width, kept as one text (None when all are blank)."""
    return " | ".join(v for v in map(cell, cells) if v is not None) or None


# A roll exported from a spreadsheet often opens with a title block above the header (the Front's
# heading, the list's name, the unit, the date): the header is the first row, among the first
# HEADER_SEARCH_ROWS, that holds every configured header; the rows above it are not records. A form's
# header may take two rows ("Ngày sinh" over "Nam | Nữ"): when no row holds every header alone, a
# row with the one above it does (see _two_row_header).
HEADER_SEARCH_ROWS = 20


def _header_cells(row: Iterable) -> list[str]:
    """A header row as map_records compares it (NFC, trimmed)."""
    return [(nfc_text(h) or "").strip() for h in row]


def _holds_every_header(entity: EntityConfig, row: Iterable) -> bool:
    return not missing_headers(entity, _header_cells(row))


def _two_row_header(upper: list, lower: list) -> list:
    """A header over two rows as one: each column's lower cell, else the upper one. A cell merged
    down two rows ("Họ và tên") holds its text in the upper row only; the lower row names the
    columns a merged cell spans across ("Nam", "Nữ" under "Ngày sinh")."""
    width = max(len(upper), len(lower))
    upper, lower = [*upper, *[""] * (width - len(upper))], [*lower, *[""] * (width - len(lower))]
    return [low if (nfc_text(low) or "").strip() else up for up, low in zip(upper, lower)]


def _header_in(entity: EntityConfig, row: list, above: list | None) -> list | None:
    """The header this row makes, alone or under the row above it; None when it holds no header."""
    if _holds_every_header(entity, row):
        return row
    if above is not None and _holds_every_header(entity, joined := _two_row_header(above, row)):
        return joined
    return None


def _find_header(entity: EntityConfig, rows: Iterator[list]) -> tuple[list | None, int]:
    """(header row, the number from 1 of its last row) for a sheet's rows: the first row holding
    every configured header (alone or with the row above), else the first row (its missing headers
    are then the error). (None, 0) when empty."""
    first = above = None
    for number, row in enumerate(itertools.islice(rows, HEADER_SEARCH_ROWS), start=1):
        if (header := _header_in(entity, row, above)) is not None:
            return header, number
        first = first if first is not None else row
        above = row
    return first, 1


def file_header(path: Path, entity: EntityConfig) -> list[str]:
    """The header row of a delivery file, as map_records compares it (NFC, trimmed)."""
    if entity.connector.format == "xlsx":
        _, header, _ = _xlsx_open(path, entity)
    else:
        lines = _Lines(path, entity.connector.encoding)
        try:
            reader = csv.reader(lines, delimiter=entity.connector.delimiter)
            with _csv_errors(path, entity, lines):
                header = _csv_header(path, entity, reader)
        finally:
            lines.close()
    return _header_cells(header)


def missing_headers(entity: EntityConfig, header: list[str]) -> list[str]:
    """Configured headers (the record id included) the file lacks, other than the optional ones."""
    return [native for native in entity.mapping if native not in header and native not in entity.optional]


_CHUNK_BYTES = 1 << 20  # lines are decoded and parsed about a megabyte at a time
_BLOCK_ROWS = 5000  # regular rows per CSV block sent to the bulk load


def _text_chunks(path: Path, encoding: str) -> Iterator[list[str]]:
    """The file's text lines (NFC), a list per chunk of about a megabyte."""
    if is_known_encoding(encoding):
        # Legacy encodings are byte-per-character or base+mark within a line: decode per line.
        with path.open("rb") as handle:
            while chunk := handle.readlines(_CHUNK_BYTES):
                yield [decode(line, encoding) for line in chunk]
    else:
        # NFC per line rather than per cell: the same result (no delimiter or quote composes with a
        # mark) for one call instead of one per cell.
        with path.open(encoding=encoding, newline="") as handle:
            while chunk := handle.readlines(_CHUNK_BYTES):
                yield [line if line.isascii() else unicodedata.normalize("NFC", line) for line in chunk]


def _text_lines(path: Path, encoding: str) -> Iterator[str]:
    return itertools.chain.from_iterable(_text_chunks(path, encoding))


class _Lines:
    """The file's text lines for a csv reader. The lines of records not yet done stay reachable by
    number (an unbalanced quote's lines are quarantined one by one), and the number of the last line
    is known, when it has no line break, before the reader reaches it (it may have been cut).

    The bulk path takes regular lines past the reader a chunk at a time (:meth:`regular_run`)."""

    def __init__(self, path: Path, encoding: str):
        self._chunks = self._kept_chunks(_text_chunks(path, encoding))
        self._kept: collections.deque[tuple[int, list[str]]] = collections.deque()
        self.unended = 0  # the last line's number when it ends without a line break
        self._chunk: list[str] = []  # the chunk being read, its first line's number, the next line's index
        self._start = 1
        self._at = 0
        self._checked: list[str] | None = None  # the chunk whose irregular lines are known, and them
        self._irregular: list[int] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        while self._at >= len(self._chunk):
            if not self._next_chunk():
                raise StopIteration
        self._at += 1
        return self._chunk[self._at - 1]

    @property
    def read(self) -> int:
        """The number of the last line handed out (to the reader or as a run)."""
        return self._start + self._at - 1

    def _next_chunk(self) -> bool:
        chunk = next(self._chunks, None)
        if chunk is None:
            return False
        self._start += len(self._chunk)
        self._chunk, self._at = chunk, 0
        return True

    def regular_run(self, irregular: Callable[[list[str]], list[int]]) -> tuple[int, str] | None:
        """(first line number, text) of the next lines up to the next irregular one (``irregular``
        gives a chunk's irregular line indexes, once per chunk), handed out past the reader; None
        when the next line is irregular, or at the end."""
        while self._at >= len(self._chunk):
            if not self._next_chunk():
                return None
        if self._checked is not self._chunk:
            self._checked, self._irregular = self._chunk, irregular(self._chunk)
        at = self._at
        k = bisect.bisect_left(self._irregular, at)
        stop = self._irregular[k] if k < len(self._irregular) else len(self._chunk)
        if stop == at:
            return None
        self._at = stop
        return self._start + at, "".join(self._chunk[at:stop])

    def close(self) -> None:
        self._chunks.close()

    def _kept_chunks(self, chunks: Iterator[list[str]]) -> Iterator[list[str]]:
        start, pending = 1, None
        for chunk in chunks:  # one chunk ahead: the last one is known as such before it is read
            if pending is not None:
                self._kept.append((start, pending))
                yield pending
                start += len(pending)
            pending = chunk
        if pending:
            if not pending[-1].endswith(("\n", "\r")):
                self.unended = start + len(pending) - 1
            self._kept.append((start, pending))
            yield pending

    def text(self, first: int, last: int) -> list[str]:
        """Lines first..last (numbers from 1), all still kept."""
        taken = []
        for start, chunk in self._kept:
            if start + len(chunk) > first and start <= last:
                taken.extend(chunk[max(first - start, 0):last - start + 1])
        return taken

    def forget(self, before: int) -> None:
        """Lines before this number are no longer needed."""
        while self._kept and self._kept[0][0] + len(self._kept[0][1]) <= before:
            self._kept.popleft()


def _blank(cells: list[str]) -> bool:
    return not any(c and not c.isspace() for c in cells)


def _odd_record(lines: _Lines, first: int, last: int, cells: list[str], delimiter: str, doubts: list[str]):
    """(line number, cells, problem) for a record that is not one full line of the header's width.

    A roll's values never span lines, so a record the reader built from several lines (a quote
    left open) is returned line by line, each to quarantine: rows in = rows accounted for. A last
    line without a line break may have been cut: its row is quarantined and the delivery doubted.
    A blank record gives nothing; any other record is returned as it is."""
    if last > first:
        reason = (f"lines {first}-{last} were read as one row: a quote opened on line {first} is closed "
                  f"only on line {last} (or never); fix the quoting of that value")
        for number, text in enumerate(lines.text(first, last), start=first):
            own = next(csv.reader([text], delimiter=delimiter), [])
            if not _blank(own):
                yield number, own, ("unbalanced_quote", reason)
        return
    if _blank(cells):
        return
    if last == lines.unended:
        doubts.append(f"line {first}, the last, ends without a line break: the file may have been cut off there")
        yield first, cells, ("incomplete_last_line",
                             f"line {first} is the last and ends without a line break: it may be cut short")
        return
    yield first, cells, None


@contextlib.contextmanager
def _csv_errors(path: Path, entity: EntityConfig, lines: _Lines):
    """Decoding and CSV errors as a SourceFileError naming the file and the place."""
    connector = entity.connector
    try:
        yield
    except UnicodeDecodeError as err:
        where = locate_undecodable(path, connector.encoding, connector.delimiter)
        raise SourceFileError(
            f"{path}: {where or err.reason} cannot be decoded as {connector.encoding}; "
            "check the encoding in the organisation config, or the file at that place."
        ) from err
    except csv.Error as err:
        raise SourceFileError(f"{path}: line {lines.read}: not valid CSV ({err}).") from err


def _csv_header(path: Path, entity: EntityConfig, reader) -> list[str]:
    """The header record (a title block above it is read past, see HEADER_SEARCH_ROWS); the reader
    is left on its last line (reader.line_num)."""
    first = above = None
    for _ in range(HEADER_SEARCH_ROWS):
        start = reader.line_num + 1
        record = next(reader, None)
        if record is None:
            break
        header = _header_in(entity, record, above)
        if reader.line_num > start and (first is None or header is not None):
            raise SourceFileError(f"{path}: line {start}, the header, opens a quote it does not close; "
                                  "fix the header.")
        if header is not None:
            return header
        first = first if first is not None else record
        above = record
    if first is None:
        raise SourceFileError(f"{path}: the file is empty (no header row).")
    return first


def _csv_rows(path: Path, entity: EntityConfig, doubts: list[str]) -> Iterator[SourceRow]:
    delimiter = entity.connector.delimiter
    lines = _Lines(path, entity.connector.encoding)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        with _csv_errors(path, entity, lines):
            header = _csv_header(path, entity, reader)
            to_row = row_mapper(str(path), entity, header, _cell)
            width, done = len(header), reader.line_num
            for cells in reader:
                last = reader.line_num
                if last - done == 1 and len(cells) == width and last != lines.unended and not _blank(cells):
                    yield to_row(last, cells)
                else:
                    for number, own, problem in _odd_record(lines, done + 1, last, cells, delimiter, doubts):
                        yield to_row(number, own, problem)
                done = last
                lines.forget(done + 1)
    finally:
        lines.close()


def _csv_cells(path: Path, entity: EntityConfig, doubts: list[str]) -> CellBlocks | None:
    """The CSV's rows as positional blocks (see CellBlocks); None when its header needs the general path."""
    delimiter = entity.connector.delimiter
    lines = _Lines(path, entity.connector.encoding)
    reader = csv.reader(lines, delimiter=delimiter)
    with _csv_errors(path, entity, lines):
        header = _csv_header(path, entity, reader)
    columns = _positional_columns(str(path), entity, header)
    if columns is None:
        lines.close()
        return None
    return CellBlocks(columns, _csv_blocks(path, entity, header, lines, reader, doubts))


def _positional_columns(source: str, entity: EntityConfig, header: list) -> list[tuple[str, str]] | None:
    """What each position holds (CellBlocks.columns); None when the header needs the general path:
    an unnamed column (named by its rank among a row's unmapped values) or two columns for one field
    (the later one wins only where a row has it)."""
    mapped, unmapped = header_layout(source, entity, header)
    fields = [field for _, field in mapped]
    if any(not name for _, name in unmapped) or len(set(fields)) < len(fields):
        return None
    named = {**{i: ("field", f) for i, f in mapped}, **{i: ("extra", name) for i, name in unmapped}}
    return [named[i] for i in range(len(header))]


class _BlockWriter:
    """Rows of cells (then row number and overflow) as CSV text for COPY."""

    def __init__(self):
        self._out = io.StringIO()
        self._writer = csv.writer(self._out, lineterminator="\r\n")  # CRLF: a lone CR in a value gets quoted

    def text(self, block: list[list]) -> str:
        self._writer.writerows(block)
        text = self._out.getvalue()
        self._out.seek(0)
        self._out.truncate()
        return text


def _csv_blocks(path, entity, header, lines: _Lines, reader, doubts) -> Iterator[str | LineRun | SourceRow]:
    delimiter = entity.connector.delimiter
    to_row = row_mapper(str(path), entity, header, _cell)
    width, done = len(header), lines.read
    writer = _BlockWriter()
    irregular = _irregular_lines(delimiter, width)

    def flush(block: list[list]) -> Iterator[str | SourceRow]:
        text = writer.text(block)
        if "\x00" not in text:
            yield text
            return
        # PostgreSQL text holds no NUL: such rows take the general path (to quarantine, named).
        kept = []
        for row in block:
            if any(v and "\x00" in v for v in (*row[:width], row[-1])):
                source_row = to_row(row[width], row[:width])
                if row[-1]:
                    source_row.extra["_overflow"] = row[-1]
                yield source_row
            else:
                kept.append(row)
        if kept:
            yield writer.text(kept)

    try:
        with _csv_errors(path, entity, lines):
            block: list[list] = []
            while True:
                # Regular lines (one row of the header's width each, quoted as PostgreSQL reads
                # them too) go as they are; the reader takes each irregular one, and the lines
                # its record spans.
                while run := lines.regular_run(irregular):
                    yield LineRun(*run, delimiter)
                    done = lines.read
                    lines.forget(done + 1)
                cells = next(reader, None)
                if cells is None:
                    break
                last = lines.read
                if last - done == 1 and len(cells) == width and last != lines.unended:
                    cells.append(last)
                    cells.append(None)
                    block.append(cells)
                else:
                    for number, own, problem in _odd_record(lines, done + 1, last, cells, delimiter, doubts):
                        if problem:
                            yield to_row(number, own, problem)
                        else:  # a row of another width than the header's: padded, or its overflow kept
                            block.append([*own[:width], *[None] * (width - len(own)), number,
                                          _overflow(own[width:], _cell)])
                done = last
                if len(block) >= _BLOCK_ROWS:
                    yield from flush(block)
                    block = []
                lines.forget(done + 1)
            if block:
                yield from flush(block)
    finally:
        lines.close()


def _irregular_lines(delimiter: str, width: int) -> Callable[[list[str]], list[int]]:
    """The indexes of a chunk's lines that may not go to PostgreSQL's CSV COPY as they are: all but
    full lines of exactly the header's width whose quoting the csv module and COPY read alike (a
    quote only around a whole value), without NUL, with one line end (LF, or CRLF) throughout."""
    if width < 2 or len(delimiter) != 1 or not delimiter.isascii() or delimiter in '"\r\n':
        return lambda chunk: list(range(len(chunk)))  # (a one-column line "\." would end COPY's data)
    d = re.escape(delimiter)
    value = f'(?:[^"{d}\\r\\n]*|"(?:[^"\\r\\n]|"")*")'
    quoted = {end: re.compile(f"{value}(?:{d}{value}){{{width - 1}}}{end}") for end in ("\\n", "\\r\\n")}

    def irregular(chunk: list[str]) -> list[int]:
        text = "".join(chunk)
        count = len(chunk)
        returns = text.count("\r")
        if "\x00" in text or returns not in (0, count) or (returns and text.count("\r\n") != count):
            return list(range(count))  # rare: every line to the reader
        if '"' in text:
            matches = map(quoted["\\r\\n" if returns else "\\n"].fullmatch, chunk)
            found = [i for i, match in enumerate(matches) if match is None]
        else:
            found = [i for i, n in enumerate(map(str.count, chunk, itertools.repeat(delimiter))) if n != width - 1]
            if text.count("\n") != count and (not found or found[-1] != count - 1):
                found.append(count - 1)  # the last line has no line end: it may be cut
        return found

    return irregular


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


@contextlib.contextmanager
def _xlsx_errors(path: Path):
    """calamine's errors as a SourceFileError naming the file."""
    from python_calamine import CalamineError

    try:
        yield
    except (CalamineError, ValueError, io.UnsupportedOperation) as err:
        raise SourceFileError(f"{path}: not a readable XLSX workbook: {err}") from err


def _xlsx_open(path: Path, entity: EntityConfig) -> tuple[Iterator[list], list[str], int]:
    """The configured sheet's rows after the header, the header, and the number of the first row
    after it (a title block above the header is read past, see HEADER_SEARCH_ROWS)."""
    from python_calamine import CalamineWorkbook

    sheet_name = entity.connector.sheet
    with _xlsx_errors(path):
        workbook = CalamineWorkbook.from_path(str(path))
        if sheet_name and sheet_name not in workbook.sheet_names:
            raise SourceFileError(f"{path}: no sheet {sheet_name!r}; the workbook has {workbook.sheet_names}.")
        sheet = workbook.get_sheet_by_name(sheet_name) if sheet_name else workbook.get_sheet_by_index(0)
        rows = iter(sheet.iter_rows())
        header, number = _find_header(entity, rows)
    if header is None:
        raise SourceFileError(f"{path}: the sheet is empty (no header row).")
    return rows, [str(h) for h in header], number + 1


def _xlsx_rows(path: Path, entity: EntityConfig) -> Iterator[SourceRow]:
    rows, header, start = _xlsx_open(path, entity)
    with _xlsx_errors(path):
        numbered = ((n, r, None) for n, r in enumerate(rows, start=start) if any(v not in ("", None) for v in r))
        yield from map_records(str(path), entity, header, numbered)


def _xlsx_cells(path: Path, entity: EntityConfig) -> CellBlocks | None:
    """The sheet's rows as positional blocks (see CellBlocks); None when its header needs the general path."""
    rows, header, start = _xlsx_open(path, entity)
    columns = _positional_columns(str(path), entity, header)
    return None if columns is None else CellBlocks(columns, _xlsx_blocks(path, rows, len(header), start))


def _xlsx_blocks(path: Path, rows: Iterator[list], width: int, start: int) -> Iterator[str | NumberedRows]:
    writer = _BlockWriter()

    def text(block: list[list]) -> str:
        # NFC over the block is NFC per cell: no delimiter, quote or line end composes with a mark.
        written = writer.text(block)
        return written if written.isascii() else unicodedata.normalize("NFC", written)

    with _xlsx_errors(path):
        block: list[list] = []
        others: list[list] = []  # rows of another width: padded, or their overflow kept
        # A row of empty cells only is left out by the load (no value remains once blanks are removed).
        for number, row in enumerate(rows, start=start):
            # Text cells as they are, date cells (most of the others) in ISO form.
            cells = [v if (kind := type(v)) is str else v.isoformat() if kind is date else as_text(v) for v in row]
            if len(cells) == width:
                cells.append(number)
                block.append(cells)
            else:
                others.append([*cells[:width], *[None] * (width - len(cells)), number,
                               _overflow(cells[width:], nfc_text)])
            if len(block) >= _BLOCK_ROWS:
                yield NumberedRows(text(block))
                block = []
            if len(others) >= _BLOCK_ROWS:
                yield text(others)
                others = []
        if block:
            yield NumberedRows(text(block))
        if others:
            yield text(others)
