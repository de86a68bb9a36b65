"""CSV import and export of leads, streamed: neither side holds a whole file in memory.

Export: :class:`CsvWriter` and :func:`chunks` write UTF-8 with a BOM, CRLF line ends, RFC 4180
quoting, and every cell escaped against formula injection (:func:`escape_cell`).

Import: :func:`read_rows` reads an iterator of byte chunks (e.g. ``StreamingBody.iter_chunks()``):
UTF-8 with or without a BOM, UTF-16 with its BOM (Excel's "Unicode Text"), else Windows-1252;
``,``, ``;`` or tab as delimiter; header names matched loosely (:func:`normalise_header`).
Problems with the file as a whole raise :class:`CsvFileError`; a cell too long for its field is
the row's problem (the caller validates it), up to :data:`MAX_CELL_CHARS`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _csv import Reader

# fmt: off
IMPORT_COLUMNS = (
    "first_name", "last_name", "email", "phone", "company", "job_title",
    "source", "status", "notes", "tags", "assigned_to",
)
# fmt: on
EXPORT_COLUMNS = ("id", *IMPORT_COLUMNS, "assigned_to_name", "created_at", "updated_at")
S3_MIN_PART_SIZE = 5 * 1024 * 1024
BOM = codecs.BOM_UTF8

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SNIFF_BYTES = 64 * 1024  # the encoding is decided from this much of the file's start
_MAX_LINE_CHARS = 1024 * 1024  # one physical line longer than this is not a CSV line
# A cell may be this long (a quoted one over several lines too): a 200 KB note is a row whose
# notes are too long, not a broken file. The csv module's limit (128 KiB by default) is
# process-wide; only CSV reading uses it in this layer.
MAX_CELL_CHARS = 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_CHARS))
_DELIMITERS = (",", ";", "\t")  # ties go to the first
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_LINE_END = re.compile(r"\r\n|\n|\r")
_IGNORED_CHARS = re.compile(r"[\s_-]+")


class CsvFileError(Exception):
    """The file as a whole cannot be imported; ``reason`` is safe to show to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CsvRow:
    """One data row: its row as a spreadsheet numbers it (each record one row, the header row 1
    when it comes first, a quoted cell's line breaks inside its row), the physical line of the
    file it starts on, and its cells by column."""

    row: int
    line: int
    values: dict[str, str | None]


@dataclass(frozen=True)
class CsvRead:
    """A file being read: header facts, and its data rows as a one-pass iterator."""

    columns: tuple[str, ...]  # the IMPORT_COLUMNS the file has, in file order
    unknown_columns: list[str]  # header names not recognised, as written, each once
    rows: Iterator[CsvRow]

    def __iter__(self) -> Iterator[CsvRow]:
        return self.rows


def normalise_header(name: str) -> str:
    """Lower-cases a header name and drops whitespace, hyphens and underscores."""
    return _IGNORED_CHARS.sub("", name).lower()


_KNOWN = {normalise_header(column): column for column in IMPORT_COLUMNS}
_IGNORABLE = {normalise_header(column) for column in EXPORT_COLUMNS if column not in IMPORT_COLUMNS}


def escape_cell(value: str) -> str:
    """Prefixes ``'`` to a value a spreadsheet would run as a formula, and to one that already
    looks escaped (``'=x``), so that :func:`unescape_cell` gives back exactly the value."""
    return "'" + value if value.lstrip("'").startswith(_FORMULA_STARTS) else value


def unescape_cell(value: str) -> str:
    """Undoes :func:`escape_cell`: drops one leading ``'`` from a value whose first character
    after its leading quotes would start a formula (``'=x`` -> ``=x``, ``''=x`` -> ``'=x``)."""
    if value.startswith("'") and value.lstrip("'").startswith(_FORMULA_STARTS):
        return value[1:]
    return value


def export_filename(at: datetime) -> str:
    """The name an export's download is saved as (``leads_20261127_231500.csv``), at or after
    ``at`` (UTC): the synchronous export's and the export job's."""
    return f"leads_{at:%Y%m%d_%H%M%S}.csv"


def template_csv() -> bytes:
    """The import template: the header row of IMPORT_COLUMNS (UTF-8 BOM, CRLF)."""
    return CsvWriter(IMPORT_COLUMNS).header()


class CsvWriter:
    """Turns rows into CSV bytes one at a time; ``header()`` starts the file with the BOM."""

    def __init__(self, columns: Sequence[str] = EXPORT_COLUMNS) -> None:
        self.columns = tuple(columns)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")

    def _line(self, cells: Iterable[str]) -> bytes:
        self._writer.writerow([escape_cell(cell) for cell in cells])
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")

    def header(self) -> bytes:
        """The BOM and the header row: the first bytes of the file, written once."""
        return BOM + self._line(self.columns)

    def row(self, values: Mapping[str, object]) -> bytes:
        """One data row; missing keys and None are empty cells, other values go through str()."""
        return self._line(
            "" if (value := values.get(column)) is None else str(value) for column in self.columns
        )


def chunks(
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[str] = EXPORT_COLUMNS,
    min_size: int = S3_MIN_PART_SIZE,
) -> Iterator[bytes]:
    """The whole file (header first) in parts of at least ``min_size`` bytes, except the last."""
    writer = CsvWriter(columns)
    parts = [writer.header()]
    size = len(parts[0])
    for row in rows:
        data = writer.row(row)
        parts.append(data)
        size += len(data)
        if size >= min_size:
            yield b"".join(parts)
            parts, size = [], 0
    if parts:
        yield b"".join(parts)


def _decode(byte_chunks: Iterable[bytes]) -> Iterator[str]:
    """Decodes the stream: UTF-16 when it starts with a UTF-16 BOM (Excel's "Unicode Text"),
    else UTF-8 (BOM dropped) if its first 64 KiB are UTF-8, else Windows-1252.

    A file that is plain ASCII up to a later byte that is not UTF-8 switches to Windows-1252
    there (the two agree on ASCII, so nothing read so far changes: a spreadsheet's export whose
    first accent comes late). Any other later byte that is not UTF-8 raises CsvFileError.
    """
    source = iter(byte_chunks)
    head: list[bytes] = []
    size, exhausted = 0, True
    for chunk in source:
        head.append(chunk)
        size += len(chunk)
        if size >= _SNIFF_BYTES:
            exhausted = False
            break
    start = b"".join(head)
    if start.startswith(_UTF16_BOMS):
        yield from _decode_utf16(start, source)
        return
    start = start.removeprefix(BOM)
    encoding = "utf-8"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(start, final=exhausted)
    except UnicodeDecodeError:
        encoding = "cp1252"
    decoder = codecs.getincrementaldecoder(encoding)()
    ascii_so_far = start.isascii()
    try:
        yield decoder.decode(start)
        for chunk in source:
            try:
                yield decoder.decode(chunk)
            except UnicodeDecodeError:
                if encoding != "utf-8" or not ascii_so_far:
                    raise
                encoding, decoder = "cp1252", codecs.getincrementaldecoder("cp1252")()
                yield decoder.decode(chunk)
            ascii_so_far = ascii_so_far and chunk.isascii()
        yield decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        if encoding == "utf-8":
            raise CsvFileError("The file is not valid UTF-8 text throughout; save it as CSV UTF-8.") from None
        raise CsvFileError("The file is not UTF-8 or Windows-1252 text.") from None


def _decode_utf16(start: bytes, rest: Iterable[bytes]) -> Iterator[str]:
    """UTF-16 of the byte order its BOM gives (the codec reads the BOM and drops it)."""
    decoder = codecs.getincrementaldecoder("utf-16")()
    try:
        for chunk in chain([start], rest):
            yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise CsvFileError("The file is not valid UTF-16 text throughout.") from None


def _lines(texts: Iterable[str]) -> Iterator[str]:
    """Splits text into physical lines (``\\r\\n``, ``\\n`` or ``\\r``), keeping their ends."""
    pending = ""
    for text in texts:
        pending += text
        start = 0
        for match in _LINE_END.finditer(pending):
            if match.end() == len(pending) and match.group() == "\r":
                break  # may be the first half of "\r\n"
            yield pending[start : match.end()]
            start = match.end()
        pending = pending[start:]
        if len(pending) > _MAX_LINE_CHARS:
            raise CsvFileError("The file has a line longer than 1 MiB; it is not a CSV file.")
    if pending:
        yield pending


def _delimiter(line: str) -> str:
    """The one of ``,``, ``;`` and tab the line has most of outside quotes (a tie: the first)."""
    outside = line.split('"')[::2]
    return max(_DELIMITERS, key=lambda delimiter: sum(part.count(delimiter) for part in outside))


def read_rows(byte_chunks: Iterable[bytes], *, max_rows: int = 100_000, max_columns: int = 50) -> CsvRead:
    """Reads the header now and returns the data rows as a lazy iterator.

    Header problems (and an undecodable start) raise CsvFileError here. Too many rows, a bad
    encoding later on, or malformed CSV raise CsvFileError from the row iterator, after the rows
    before it were yielded: a caller that must import all or nothing validates every row first.
    An empty or blank file gives no columns and no rows. Only recognised columns are in ``values``.
    """
    lines = _lines(_decode(byte_chunks))
    skipped: list[str] = []
    first = ""  # the first non-blank line, which decides the delimiter
    for line in lines:
        if line.strip():
            first = line
            break
        skipped.append(line)
    reader = csv.reader(chain(skipped, [first], lines), delimiter=_delimiter(first))
    header: list[str] | None = None
    records = 0  # every record a spreadsheet shows as a row, the blank ones before the header too
    try:
        for cells in reader:
            records += 1
            if any(cell.strip() for cell in cells):
                header = cells
                break
    except csv.Error:
        raise CsvFileError("The file's header row is not valid CSV.") from None
    if header is None:  # an empty or blank file
        return CsvRead((), [], iter(()))
    if len(header) > max_columns:
        raise CsvFileError(f"The file has {len(header)} columns; the limit is {max_columns}.")
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for position, raw in enumerate(header):
        name = raw.strip()
        key = normalise_header(name)
        if key in _KNOWN:
            if _KNOWN[key] in positions:
                raise CsvFileError(f"The file has more than one {_KNOWN[key]} column.")
            positions[_KNOWN[key]] = position
        elif key and key not in _IGNORABLE and name not in unknown:
            unknown.append(name)
    missing = [column for column in ("first_name", "last_name") if column not in positions]
    if missing:
        raise CsvFileError(f"The file has no {' and no '.join(missing)} column.")
    return CsvRead(tuple(positions), unknown, _rows(reader, positions, max_rows, records))


def _rows(reader: Reader, positions: dict[str, int], max_rows: int, header_row: int) -> Iterator[CsvRow]:
    """The data rows after the header; blank rows are skipped (but numbered), cells stripped and
    unescaped."""
    count = 0
    row = header_row
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise CsvFileError(f"The file is not valid CSV at line {line}.") from None
        row += 1
        stripped = [cell.strip() for cell in cells]
        if not any(stripped):
            continue
        count += 1
        if count > max_rows:
            raise CsvFileError(f"The file has more than {max_rows:,} rows; the limit is {max_rows:,}.")
        values = {
            column: unescape_cell(stripped[index]) if index < len(stripped) and stripped[index] else None
            for column, index in positions.items()
        }
        yield CsvRow(row, line, values)
