"""CSV import/export of leads: encoding, delimiter, header matching, limits, escaping, streaming."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator

import pytest

from leads_shared.csv_format import (
    BOM,
    EXPORT_COLUMNS,
    IMPORT_COLUMNS,
    CsvFileError,
    CsvRead,
    CsvRow,
    CsvWriter,
    chunks,
    escape_cell,
    normalise_header,
    read_rows,
    template_csv,
    unescape_cell,
)

FORMULAS = ["=SUM(A1)", "+1 555", "-3", "@foo", "\tx", "\rx"]


def read(data: bytes | str, **limits: int) -> CsvRead:
    """Reads a whole file given as one chunk (text is encoded as UTF-8)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return read_rows([raw], **limits)


def rows(data: bytes | str, **limits: int) -> list[CsvRow]:
    return list(read(data, **limits))


def split(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


def error(data: bytes | str, **limits: int) -> str:
    with pytest.raises(CsvFileError) as caught:
        rows(data, **limits)
    return caught.value.reason


# --- columns and template ----------------------------------------------------------------------


def test_columns_are_the_contract_order():
    assert IMPORT_COLUMNS == (
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "job_title",
        "source",
        "status",
        "notes",
        "tags",
        "assigned_to",
    )
    assert EXPORT_COLUMNS == ("id", *IMPORT_COLUMNS, "assigned_to_name", "created_at", "updated_at")


def test_template_is_bom_then_the_import_header_with_crlf():
    assert template_csv() == BOM + (",".join(IMPORT_COLUMNS) + "\r\n").encode()
    assert template_csv().startswith(b"\xef\xbb\xbf")


def test_template_reads_back_as_all_columns_and_no_rows():
    result = read(template_csv())
    assert result.columns == IMPORT_COLUMNS
    assert result.unknown_columns == []
    assert list(result) == []


# --- formula injection -------------------------------------------------------------------------


@pytest.mark.parametrize("value", FORMULAS)
def test_escape_prefixes_a_quote_to_formula_starts(value):
    assert escape_cell(value) == "'" + value
    assert unescape_cell(escape_cell(value)) == value


@pytest.mark.parametrize("value", ["", "plain", "a=b", "'quoted", "'", "1-2", " =x"])
def test_escape_leaves_other_values_alone(value):
    assert escape_cell(value) == value
    assert unescape_cell(value) == value


def test_unescape_removes_exactly_one_quote():
    assert unescape_cell("''=x") == "'=x"
    assert unescape_cell("'=x") == "=x"
    assert unescape_cell("'-") == "-"
    assert unescape_cell("'O'Brien") == "'O'Brien"


@pytest.mark.parametrize("value", ["'=x", "''+1", "'O'Brien", "=1+1", "'", "''"])
def test_a_value_that_already_looks_escaped_round_trips(value):
    assert unescape_cell(escape_cell(value)) == value


# --- writer ------------------------------------------------------------------------------------


def test_writer_quotes_per_rfc_4180_and_escapes_cells():
    writer = CsvWriter(["a", "b", "c", "d", "e"])
    assert writer.header() == BOM + b"a,b,c,d,e\r\n"
    line = writer.row({"a": 'say "hi"', "b": "x,y", "c": "two\nlines", "d": "=1+1", "e": None})
    assert line == b'"say ""hi""","x,y","two\nlines",\'=1+1,\r\n'


def test_writer_turns_none_missing_and_ints_into_text():
    writer = CsvWriter(["id", "first_name", "assigned_to", "notes"])
    assert writer.row({"id": 42, "first_name": "Ann", "assigned_to": None}) == b"42,Ann,,\r\n"


def test_writer_encodes_utf8_and_writes_the_bom_only_in_the_header():
    writer = CsvWriter(["first_name"])
    output = writer.header() + writer.row({"first_name": "Müller €"}) + writer.row({"first_name": "x"})
    assert output.startswith(BOM)
    assert output.count(BOM) == 1
    assert writer.row({"first_name": "Müller €"}) == "Müller €\r\n".encode()


def test_writer_defaults_to_export_columns():
    assert CsvWriter().header() == BOM + (",".join(EXPORT_COLUMNS) + "\r\n").encode()


def test_writer_output_parses_with_the_csv_module():
    writer = CsvWriter(["a", "b"])
    data = writer.header() + writer.row({"a": 'q"uote', "b": "x\r\ny"}) + writer.row({"a": "; ,", "b": 1})
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert parsed == [["a", "b"], ['q"uote', "x\r\ny"], ["; ,", "1"]]


def lead_rows(count: int) -> Iterator[dict[str, object]]:
    for number in range(count):
        yield {"id": number, "first_name": f"First{number}", "last_name": "Last", "notes": "n" * 30}


def test_chunks_are_at_least_min_size_except_the_last():
    parts = list(chunks(lead_rows(100), EXPORT_COLUMNS, min_size=500))
    assert len(parts) > 3
    assert all(len(part) >= 500 for part in parts[:-1])
    assert 0 < len(parts[-1])
    whole = b"".join(parts)
    writer = CsvWriter(EXPORT_COLUMNS)
    assert whole == writer.header() + b"".join(writer.row(row) for row in lead_rows(100))
    assert whole.count(BOM) == 1 and whole.startswith(BOM)


def test_chunks_parts_are_not_much_larger_than_min_size():
    row_size = len(CsvWriter().row(next(lead_rows(1))))
    parts = list(chunks(lead_rows(100), min_size=500))
    assert all(len(part) < 500 + row_size + 5 for part in parts)


def test_chunks_of_no_rows_is_one_part_with_the_header():
    assert list(chunks([], ["a", "b"], min_size=10)) == [BOM + b"a,b\r\n"]


def test_chunks_is_lazy():
    pulled = 0

    def source() -> Iterator[dict[str, object]]:
        nonlocal pulled
        for row in lead_rows(1000):
            pulled += 1
            yield row

    parts = chunks(source(), min_size=200)
    next(parts)
    assert pulled < 10


def test_export_then_import_round_trips_formulas_and_awkward_text():
    values = [*FORMULAS, 'a "quoted", comma', "two\r\nlines", "Müller café €", "'O'Brien"]
    rows_out = [{"id": n, "first_name": value, "last_name": "L"} for n, value in enumerate(values)]
    data = b"".join(chunks(rows_out, min_size=64))
    result = read(data)
    assert result.unknown_columns == []
    assert [row.values["first_name"] for row in result] == values


# --- reader: encoding --------------------------------------------------------------------------


def test_reads_utf8_with_and_without_bom():
    text = "first_name,last_name\r\nJosé,Müller €\r\n"
    for data in (text.encode(), BOM + text.encode()):
        result = read(data)
        assert result.columns == ("first_name", "last_name")
        assert [row.values for row in result] == [{"first_name": "José", "last_name": "Müller €"}]


def test_falls_back_to_windows_1252():
    data = "first_name,last_name,notes\r\nJürgen,Müller,€ 5\r\nAnn,Lee,café".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert [row.values for row in read(data)] == [
        {"first_name": "Jürgen", "last_name": "Müller", "notes": "€ 5"},
        {"first_name": "Ann", "last_name": "Lee", "notes": "café"},
    ]


def test_windows_1252_in_one_byte_chunks():
    data = "first_name,last_name\r\ncafé,Müller €".encode("cp1252")
    values = [row.values for row in read_rows(split(data, 1))]
    assert values == [{"first_name": "café", "last_name": "Müller €"}]


def test_an_ascii_start_then_windows_1252_switches_encoding():
    head = ("first_name,last_name\r\n" + "Ann,Lee\r\n" * 10_000).encode()
    assert len(head) > 64 * 1024
    rows = list(read_rows([head, "Jürgen,Müller\r\n".encode("cp1252")]))
    assert rows[-1].values == {"first_name": "Jürgen", "last_name": "Müller"}


def test_utf8_text_then_a_byte_that_is_not_utf8_is_a_file_error():
    head = ("first_name,last_name\r\n" + "Zoë,Lee\r\n" * 10_000).encode()
    assert len(head) > 64 * 1024
    result = read_rows([head, "Jürgen,Müller\r\n".encode("cp1252")])
    with pytest.raises(CsvFileError) as caught:
        list(result)
    assert "UTF-8" in caught.value.reason


def test_bytes_neither_utf8_nor_windows_1252_are_a_file_error():
    assert "Windows-1252" in error(b"first_name,last_name\r\na\x81,b\r\n")


# --- reader: delimiter and quoting -------------------------------------------------------------


EXCEL_UNICODE_TEXT = (
    "First Name\tLast Name\tCompany\tNotes\r\n"
    'Jürgen\tMüller\tCafé, Zoë\t"two\r\nlines"\r\n'
    "Łucja\t日本\t🎉; x\t\r\n"
)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_its_bom_tab_delimited_as_excel_unicode_text(encoding):
    bom = codecs.BOM_UTF16_LE if encoding == "utf-16-le" else codecs.BOM_UTF16_BE
    data = bom + EXCEL_UNICODE_TEXT.encode(encoding)
    for size in (len(data), 1, 3, 7):  # chunks that split characters and surrogate pairs
        result = read_rows(split(data, size))
        assert result.unknown_columns == []
        jurgen = {
            "first_name": "Jürgen",
            "last_name": "Müller",
            "company": "Café, Zoë",
            "notes": "two\r\nlines",
        }
        lucja = {"first_name": "Łucja", "last_name": "日本", "company": "🎉; x", "notes": None}
        assert [(row.row, row.line, row.values) for row in result] == [(2, 2, jurgen), (3, 4, lucja)]


def test_utf16_that_breaks_off_is_a_file_error():
    data = (
        codecs.BOM_UTF16_LE + "first_name\tlast_name\r\n".encode("utf-16-le") + b"\x00\xd8"
    )  # lone surrogate
    assert error(data) == "The file is not valid UTF-16 text throughout."


def test_tab_delimiter():
    result = read("first_name\tlast_name\tcompany\r\nAnn\tLee\tAcme, Inc; Ltd\r\n")
    assert [row.values for row in result] == [
        {"first_name": "Ann", "last_name": "Lee", "company": "Acme, Inc; Ltd"}
    ]


def test_semicolon_delimiter():
    result = read("First Name;Last Name;Company\r\nAnn;Lee;Acme, Inc.\r\n")
    assert [row.values for row in result] == [
        {"first_name": "Ann", "last_name": "Lee", "company": "Acme, Inc."}
    ]


def test_delimiter_counts_only_outside_quotes():
    result = read('first_name;last_name;"Notes, a, b, c"\r\nAnn;Lee;x\r\n')  # 2 ; against 3 quoted ,
    assert result.unknown_columns == ["Notes, a, b, c"]
    assert [row.values for row in result] == [{"first_name": "Ann", "last_name": "Lee"}]


def test_delimiter_defaults_to_comma():
    assert [row.values for row in read("first_name,last_name\r\na;b,c\r\n")] == [
        {"first_name": "a;b", "last_name": "c"}
    ]


def test_delimiter_ties_go_to_comma():
    result = read("first_name,last_name,a;b;c\r\n1,2,3;4\r\n")
    assert result.unknown_columns == ["a;b;c"]
    assert [row.values for row in result] == [{"first_name": "1", "last_name": "2"}]


def test_rows_are_numbered_as_a_spreadsheet_shows_them_and_lines_as_the_file_has_them():
    data = (
        "first_name,last_name,notes\r\n"  # row 1, line 1
        'Ann,Lee,"one\r\ntwo\r\nthree"\r\n'  # row 2, lines 2-4
        "\r\n"  # row 3 (blank), line 5
        'Bob,Ray,"x\ny"\r\n'  # row 4, lines 6-7
        "Cy,Doe,plain\r\n"  # row 5, line 8
    )
    assert [(row.row, row.line, row.values["first_name"]) for row in rows(data)] == [
        (2, 2, "Ann"),
        (4, 6, "Bob"),
        (5, 8, "Cy"),
    ]


def test_blank_records_before_the_header_are_rows_too():
    data = "\r\n\r\nfirst_name,last_name\r\nAnn,Lee\r\n"
    assert [(row.row, row.line) for row in rows(data)] == [(4, 4)]


def test_quoted_fields_with_newlines_commas_and_quotes_keep_line_numbers():
    data = (
        "first_name,last_name,notes\r\n"  # line 1
        'Ann,Lee,"one\r\ntwo\r\nthree"\r\n'  # lines 2-4
        'Bob,"O""Neil","a, b"\r\n'  # line 5
        'Cy,Doe,"x\ny"\n'  # lines 6-7
        "Di,Eve,plain\r\n"  # line 8
    )
    result = rows(data)
    assert [(row.line, row.values["first_name"]) for row in result] == [
        (2, "Ann"),
        (5, "Bob"),
        (6, "Cy"),
        (8, "Di"),
    ]
    assert result[0].values["notes"] == "one\r\ntwo\r\nthree"
    assert result[1].values == {"first_name": "Bob", "last_name": 'O"Neil', "notes": "a, b"}
    assert result[2].values["notes"] == "x\ny"


def test_line_ends_lf_cr_and_crlf():
    for end in ("\n", "\r", "\r\n"):
        result = rows(end.join(["first_name,last_name", "a,b", "", "c,d"]) + end)
        assert [(row.line, row.values["first_name"]) for row in result] == [(2, "a"), (4, "c")]


def test_last_row_without_line_end():
    assert [row.values for row in read("first_name,last_name\r\nAnn,Lee")] == [
        {"first_name": "Ann", "last_name": "Lee"}
    ]


def test_blank_and_empty_cell_rows_are_skipped_but_counted_as_lines():
    data = "first_name,last_name\r\n\r\nAnn,Lee\r\n , \r\n,,\r\n\r\nBob,Ray\r\n\r\n"
    assert [(row.line, row.values["first_name"]) for row in rows(data)] == [(3, "Ann"), (7, "Bob")]


def test_blank_lines_before_the_header_are_skipped():
    data = "\r\n\r\nfirst_name;last_name\r\nAnn;Lee\r\n"
    assert [(row.line, row.values) for row in rows(data)] == [(4, {"first_name": "Ann", "last_name": "Lee"})]


# --- reader: cells -----------------------------------------------------------------------------


def test_cells_are_stripped_and_empty_cells_are_none():
    result = rows("first_name,last_name,email,phone\r\n  Ann , Lee,,   \r\n")
    assert result[0].values == {"first_name": "Ann", "last_name": "Lee", "email": None, "phone": None}


def test_short_rows_pad_with_none_and_long_rows_drop_extra_cells():
    result = rows("first_name,last_name,email\r\nAnn\r\nBob,Ray,b@x.io,extra,more\r\n")
    assert result[0].values == {"first_name": "Ann", "last_name": None, "email": None}
    assert result[1].values == {"first_name": "Bob", "last_name": "Ray", "email": "b@x.io"}


def test_values_hold_only_columns_the_file_has():
    result = read("email,last_name,first_name\r\na@b.c,Lee,Ann\r\n")
    assert result.columns == ("email", "last_name", "first_name")
    assert next(iter(result)).values == {"email": "a@b.c", "last_name": "Lee", "first_name": "Ann"}


def test_import_unescapes_formula_cells():
    data = "first_name,last_name,phone,notes\r\n'=SUM(A1),'@foo,'+1 555,'O'Brien\r\n"
    assert rows(data)[0].values == {
        "first_name": "=SUM(A1)",
        "last_name": "@foo",
        "phone": "+1 555",
        "notes": "'O'Brien",
    }


def test_formula_round_trip_through_writer_and_reader():
    writer = CsvWriter(IMPORT_COLUMNS)
    data = writer.header() + b"".join(
        writer.row({"first_name": value, "last_name": value, "notes": value}) for value in FORMULAS
    )
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[1:]
    assert [cells[0] for cells in parsed] == ["'" + value for value in FORMULAS]
    values = [row.values for row in read(data)]
    assert [(row["first_name"], row["last_name"], row["notes"]) for row in values] == [
        (value, value, value) for value in FORMULAS
    ]


# --- reader: header matching -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("first_name", "firstname"),
        ("First Name", "firstname"),
        ("FIRSTNAME", "firstname"),
        ("first-name", "firstname"),
        (" First_ Name ", "firstname"),
        ("Assigned To", "assignedto"),
        ("job\ttitle", "jobtitle"),
    ],
)
def test_normalise_header(name, canonical):
    assert normalise_header(name) == canonical


def test_header_variants_map_to_canonical_columns():
    header = "First Name,LAST-NAME,E-Mail,Phone,company,Job Title,SOURCE,Status,Notes,Tags,assigned to"
    result = read(header + "\r\n" + ",".join(str(n) for n in range(11)) + "\r\n")
    assert result.columns == IMPORT_COLUMNS
    assert result.unknown_columns == []
    assert next(iter(result)).values == {column: str(n) for n, column in enumerate(IMPORT_COLUMNS)}


def test_unknown_columns_are_reported_once_and_ignored():
    data = "Nickname,first_name,Fax,last_name,Nickname,\r\nAnnie,Ann,123,Lee,A,\r\nBo,Bob,4,Ray,B,\r\n"
    result = read(data)
    assert result.unknown_columns == ["Nickname", "Fax"]
    assert [row.values for row in result] == [
        {"first_name": "Ann", "last_name": "Lee"},
        {"first_name": "Bob", "last_name": "Ray"},
    ]


def test_export_only_columns_are_ignored_silently():
    writer = CsvWriter()
    data = writer.header() + writer.row(
        {"id": 7, "first_name": "Ann", "last_name": "Lee", "assigned_to_name": "Sam", "created_at": "2026"}
    )
    result = read(data)
    assert result.unknown_columns == []
    assert result.columns == IMPORT_COLUMNS
    values = next(iter(result)).values
    assert set(values) == set(IMPORT_COLUMNS)
    assert (values["first_name"], values["last_name"], values["assigned_to"]) == ("Ann", "Lee", None)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("last_name,email", "The file has no first_name column."),
        ("first_name,email", "The file has no last_name column."),
        ("email,phone", "The file has no first_name and no last_name column."),
        ("name", "The file has no first_name and no last_name column."),
    ],
)
def test_missing_name_columns_are_a_file_error(header, reason):
    with pytest.raises(CsvFileError) as caught:
        read(header + "\r\na,b\r\n")
    assert caught.value.reason == reason
    assert str(caught.value) == reason


def test_duplicate_known_column_is_a_file_error():
    assert error("first_name,last_name,Last Name\r\n") == "The file has more than one last_name column."


@pytest.mark.parametrize("data", [b"", BOM, "\r\n\r\n", "  \n", ",,\r\n", '""\r\n'])
def test_empty_file_has_no_rows_and_no_error(data):
    result = read(data)
    assert (result.columns, result.unknown_columns, list(result)) == ((), [], [])


def test_header_only_file_has_no_rows_and_no_error():
    for data in ("first_name,last_name", "first_name,last_name\r\n", "first_name,last_name\r\n\r\n,\r\n"):
        result = read(data)
        assert result.columns == ("first_name", "last_name")
        assert list(result) == []


# --- reader: limits ----------------------------------------------------------------------------


def test_too_many_columns_is_a_file_error():
    header = "first_name,last_name," + ",".join(f"c{n}" for n in range(4))
    assert read(header + "\r\n", max_columns=6).columns == ("first_name", "last_name")
    with pytest.raises(CsvFileError) as caught:
        read(header + "\r\n", max_columns=5)
    assert caught.value.reason == "The file has 6 columns; the limit is 5."


def test_too_many_rows_is_a_file_error_raised_after_the_allowed_rows():
    data = "first_name,last_name\r\n" + "".join(f"F{n},L\r\n\r\n" for n in range(5))
    assert len(rows(data, max_rows=5)) == 5
    seen: list[int] = []
    with pytest.raises(CsvFileError) as caught:
        for row in read(data, max_rows=3):
            seen.append(row.line)
    assert seen == [2, 4, 6]
    assert caught.value.reason == "The file has more than 3 rows; the limit is 3."


def test_too_many_rows_message_formats_the_limit():
    data = "first_name,last_name\r\n" + "a,b\r\n" * 3
    with pytest.raises(CsvFileError, match=r"more than 2 rows"):
        rows(data, max_rows=2)


def test_a_very_long_line_is_a_file_error():
    data = "first_name,last_name\r\n" + "x" * (1024 * 1024 + 10)
    assert "longer than" in error(data)


def test_malformed_csv_is_a_file_error_with_its_line():
    # An unterminated quote swallows the file, line after line, past the longest cell.
    huge = '"' + ("x" * 1000 + "\r\n") * 1100
    reason = error("first_name,last_name\r\na,b\r\n" + huge + "y\r\n" * 10)
    assert reason == "The file is not valid CSV at line 3."


def test_a_cell_of_200_kb_is_read_for_its_row_to_refuse():
    data = "first_name,last_name,notes\r\nAnn,Lee," + "n" * 200_000 + "\r\nBob,Ray,short\r\n"
    result = rows(data)
    assert [(row.row, len(row.values["notes"] or "")) for row in result] == [(2, 200_000), (3, 5)]


def test_a_quoted_cell_of_200_kb_over_many_lines_is_one_row():
    notes = "\r\n".join(["n" * 999] * 200)
    data = f'first_name,last_name,notes\r\nAnn,Lee,"{notes}"\r\nBob,Ray,x\r\n'
    ann, bob = rows(data)
    assert ann.values["notes"] == notes and (ann.row, ann.line) == (2, 2)
    assert (bob.row, bob.line) == (3, 202)


# --- reader: streaming -------------------------------------------------------------------------

AWKWARD = (
    "first_name;last_name;notes;company\r\n"
    'José;Müller;"multi\r\nline; with ""quotes"" and €";\'=1+2\r\n'
    "\r\n"
    'Zoë;"Ørsted";"日本語 🎉";"a\nb"\n'
    "Ann;Lee;;Acme\r"
    "Bob;Ray;;\r\n"
)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_any_chunk_boundaries_parse_like_one_chunk(size):
    for data in (AWKWARD.encode(), BOM + AWKWARD.encode()):
        whole = read(data)
        expected = [(row.line, row.values) for row in whole]
        split_read = read_rows(split(data, size))
        assert [(row.line, row.values) for row in split_read] == expected
        assert split_read.columns == whole.columns


def test_awkward_file_values():
    result = rows(AWKWARD)
    assert [row.line for row in result] == [2, 5, 7, 8]
    assert result[0].values == {
        "first_name": "José",
        "last_name": "Müller",
        "notes": 'multi\r\nline; with "quotes" and €',
        "company": "=1+2",
    }
    assert result[1].values == {
        "first_name": "Zoë",
        "last_name": "Ørsted",
        "notes": "日本語 🎉",
        "company": "a\nb",
    }


def test_reading_is_lazy():
    pulled = 0
    line = ("Ann,Lee," + "n" * 1000 + "\r\n").encode()

    def source() -> Iterable[bytes]:
        nonlocal pulled
        yield b"first_name,last_name,notes\r\n"
        for _ in range(10_000):  # about 10 MB if it were all read
            pulled += 1
            if pulled > 200:
                raise AssertionError("read too far ahead")
            yield line

    result = read_rows(source())
    first_two = [next(iter(result)), next(iter(result))]
    assert [row.line for row in first_two] == [2, 3]
    assert pulled <= 70  # the first 64 KiB decide the encoding; nothing more is read ahead


def test_rows_arrive_before_the_input_ends():
    pulled = 0

    def source() -> Iterator[bytes]:
        nonlocal pulled
        yield b"first_name,last_name\r\n"
        while True:  # endless: only a lazy reader can return rows from it
            pulled += 1
            yield b"a,b\r\n"

    rows_iter = iter(read_rows(source(), max_rows=10**9))
    for _ in range(1000):
        next(rows_iter)
    assert pulled < 15_000  # 64 KiB of 5-byte chunks to decide the encoding, then one chunk a row
