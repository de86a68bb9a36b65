"""Parsing raw emails (as SES stores them) into the fields the CRM links to leads."""

from __future__ import annotations

import hashlib
import random
import textwrap
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from leads_shared.mail_parsing import (
    MAX_MESSAGE_BYTES,
    Attachment,
    MessageRejected,
    html_to_text,
    parse_message,
)

PDF_BYTES = b"%PDF-1.4\n" + bytes(range(256)) * 8  # binary, so it is sent as base64


def message(body: str = "Hello Ann", **headers: str) -> EmailMessage:
    """A plain-text EmailMessage with sensible default headers."""
    msg = EmailMessage()
    defaults = {"From": "Bob Seller <bob@crm.example>", "To": "ann@client.example", "Subject": "Hi"}
    for name, value in {**defaults, **headers}.items():
        msg[name] = value
    msg.set_content(body)
    return msg


def raw_message(headers: str, body: bytes = b"Hello\r\n") -> bytes:
    """Hand-written RFC 5322 bytes: header lines (newline-separated), a blank line, the body."""
    lines = textwrap.dedent(headers).strip("\n").splitlines()
    return "\r\n".join(lines).encode("ascii") + b"\r\n\r\n" + body


# --- body -------------------------------------------------------------------------------------


def test_plain_text_is_preferred_over_html_in_multipart_alternative():
    msg = message("The plain version")
    msg.add_alternative("<p>The <b>HTML</b> version</p>", subtype="html")

    parsed = parse_message(msg.as_bytes())

    assert parsed.body_text == "The plain version"
    assert parsed.attachments == []
    assert not parsed.has_attachments


def test_html_only_body_is_converted_to_text():
    html = (
        "<html><head><style>p { color: red }</style><script>alert('x')</script></head>"
        "<body><h1>Quote</h1><p>Tom &amp; Jerry&nbsp;&lt;3</p><p>Line one<br>Line two</p>"
        "<ul><li>First</li><li>Second</li></ul></body></html>"
    )
    msg = message()
    msg.set_content(html, subtype="html")

    body = parse_message(msg.as_bytes()).body_text

    assert body == "Quote\nTom & Jerry <3\nLine one\nLine two\nFirst\nSecond"
    assert "alert" not in body and "color" not in body


def test_iso_8859_1_body_is_decoded():
    mime = MIMEText("Viele Grüße aus Köln", "plain", "iso-8859-1")
    mime["From"] = "hans@example.de"
    mime["To"] = "ann@client.example"
    raw = mime.as_bytes()
    assert "Grüße".encode() not in raw  # really sent as Latin-1 (quoted-printable)

    assert parse_message(raw).body_text == "Viele Grüße aus Köln"


def test_eight_bit_iso_8859_1_body_is_decoded():
    raw = raw_message(
        """
        From: hans@example.de
        Content-Type: text/plain; charset="ISO-8859-1"
        Content-Transfer-Encoding: 8bit
        """,
        "Grüße\r\n".encode("iso-8859-1"),
    )

    assert parse_message(raw).body_text == "Grüße"


def test_windows_1252_body_is_decoded():
    raw = raw_message(
        """
        From: ann@client.example
        Content-Type: text/plain; charset=windows-1252
        Content-Transfer-Encoding: 8bit
        """,
        b"\x93Quoted\x94 \x96 costs \x80 5\r\n",
    )

    assert parse_message(raw).body_text == "\u201cQuoted\u201d \u2013 costs \u20ac 5"


def test_unknown_charset_falls_back_to_utf8_with_replacement():
    raw = raw_message(
        """
        From: ann@client.example
        Content-Type: text/plain; charset=x-no-such-charset
        Content-Transfer-Encoding: 8bit
        """,
        "héllo ".encode() + b"\xff\r\n",
    )

    assert parse_message(raw).body_text == "héllo \ufffd"


def test_body_is_capped_at_100000_characters():
    parsed = parse_message(message("x" * 150_000).as_bytes())

    assert len(parsed.body_text) == 100_000


def test_message_without_text_part_has_empty_body():
    msg = message()
    msg.make_mixed()
    msg.get_payload().clear()
    msg.add_attachment(PDF_BYTES, maintype="application", subtype="pdf", filename="a.pdf")

    parsed = parse_message(msg.as_bytes())

    assert parsed.body_text == ""
    assert parsed.snippet == ""
    assert [a.filename for a in parsed.attachments] == ["a.pdf"]


# --- snippet --------------------------------------------------------------------------------


def test_snippet_collapses_whitespace():
    parsed = parse_message(message("  Hello\n\n   there,\t\tAnn\r\n\r\nRegards  ").as_bytes())

    assert parsed.snippet == "Hello there, Ann Regards"


def test_snippet_is_at_most_200_characters():
    parsed = parse_message(message("Hello \n  world " * 100).as_bytes())

    assert parsed.snippet == ("Hello world " * 20)[:200]
    assert len(parsed.snippet) == 200


# --- headers ----------------------------------------------------------------------------------


def test_rfc2047_encoded_subject_and_sender_name_are_decoded():
    raw = raw_message(
        """
        From: =?iso-8859-1?Q?J=FCrgen_M=FCller?= <Juergen@Example.DE>
        To: ann@client.example
        Subject: =?UTF-8?B?R3LDvMOfZSBhdXM=?=
         =?iso-8859-1?Q?_K=F6ln?=
        """
    )

    parsed = parse_message(raw)

    assert parsed.subject == "Grüße aus Köln"
    assert parsed.from_name == "Jürgen Müller"
    assert parsed.from_address == "juergen@example.de"


def test_non_ascii_headers_survive_a_round_trip_through_email_message():
    raw = message(Subject="Angebot für  Müller\t& Co", From="Zoë Ünal <zoe@example.com>").as_bytes()
    assert b"=?utf-8?" in raw.lower()

    parsed = parse_message(raw)

    assert parsed.subject == "Angebot für Müller & Co"
    assert parsed.from_name == "Zoë Ünal"


def test_missing_subject_is_empty_and_sender_without_name_has_no_name():
    parsed = parse_message(raw_message("From: ann@client.example"))

    assert parsed.subject == ""
    assert parsed.from_name is None
    assert parsed.from_address == "ann@client.example"


def test_message_id_is_stripped_of_angle_brackets_and_whitespace():
    raw = raw_message("From: ann@client.example\nMessage-ID:   <CAF+abc.123@mail.example.com>  ")

    assert parse_message(raw).message_id == "CAF+abc.123@mail.example.com"


def test_missing_message_id_gets_a_stable_synthetic_id():
    raw = raw_message("From: ann@client.example\nSubject: No id")
    other = raw_message("From: ann@client.example\nSubject: No id either")

    first, again = parse_message(raw), parse_message(bytes(raw))

    assert first.message_id == f"sha256:{hashlib.sha256(raw).hexdigest()}"
    assert again.message_id == first.message_id
    assert parse_message(other).message_id != first.message_id


def test_addresses_are_lower_cased_and_deduplicated_in_order():
    raw = raw_message(
        """
        From: "Seller, Bob" <Bob@CRM.example>
        To: Carol <Carol@Client.example>, ann@client.example, CAROL@client.example
        To: "Ann A." <ANN@client.example>
        Cc: Team: Dave@Client.example, eve@client.example;, , not-an-address
        Cc: dave@client.example, Bob <bob@crm.example>
        """
    )

    parsed = parse_message(raw)

    assert parsed.from_address == "bob@crm.example"
    assert parsed.from_name == "Seller, Bob"
    assert parsed.to == ["carol@client.example", "ann@client.example"]
    assert parsed.cc == ["dave@client.example", "eve@client.example", "bob@crm.example"]
    assert parsed.participants == {
        "bob@crm.example",
        "carol@client.example",
        "ann@client.example",
        "dave@client.example",
        "eve@client.example",
    }


def test_message_without_sender_but_with_recipients_is_accepted():
    parsed = parse_message(raw_message("To: ann@client.example\nSubject: Draft"))

    assert parsed.from_address is None
    assert parsed.participants == {"ann@client.example"}


def test_unparseable_from_header_counts_as_missing():
    # A lone quote makes the standard library's structured header parser raise.
    parsed = parse_message(raw_message('From: "\nTo: ann@client.example'))

    assert parsed.from_address is None
    assert parsed.to == ["ann@client.example"]


def test_from_header_that_crashes_the_parser_is_read_from_the_raw_text():
    parsed = parse_message(raw_message('From: =?utf-8?q?J=C3=BCrgen?= <j@example.de>, "'))

    assert parsed.from_address == "j@example.de"
    assert parsed.from_name == "Jürgen"


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Thu, 15 Jan 2026 11:30:00 +0200", "2026-01-15T09:30:00.000000Z"),
        ("Wed, 14 Jan 2026 22:15:05 -0500", "2026-01-15T03:15:05.000000Z"),
        ("Thu, 15 Jan 2026 09:30:00 -0000", "2026-01-15T09:30:00.000000Z"),  # no zone: UTC
        ("15 Jan 2026 09:30:00", "2026-01-15T09:30:00.000000Z"),  # no zone: UTC
        ("not a date", None),
        ("Thu, 45 Foo 2026 99:99:99 +0200", None),
    ],
)
def test_date_is_converted_to_utc(date, expected):
    parsed = parse_message(raw_message(f"From: ann@client.example\nDate: {date}"))

    assert parsed.sent_at == expected


def test_missing_date_is_none():
    assert parse_message(raw_message("From: ann@client.example")).sent_at is None


# --- attachments ------------------------------------------------------------------------------


def test_attachments_are_listed_with_names_types_and_decoded_sizes():
    msg = message("See the offer attached.")
    msg.add_attachment(PDF_BYTES, maintype="application", subtype="pdf", filename="Angebot Q1.pdf")
    msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="Übersicht.csv")
    msg.add_attachment(b"\x00" * 10, maintype="application", subtype="octet-stream")  # no filename

    parsed = parse_message(msg.as_bytes())

    assert parsed.body_text == "See the offer attached."
    assert parsed.has_attachments
    assert parsed.attachments == [
        Attachment(filename="Angebot Q1.pdf", content_type="application/pdf", size=len(PDF_BYTES)),
        Attachment(filename="Übersicht.csv", content_type="text/csv", size=8),
        Attachment(filename="", content_type="application/octet-stream", size=10),
    ]


def test_text_attachment_is_not_used_as_body():
    msg = MIMEMultipart("mixed")
    msg["From"] = "bob@crm.example"
    msg["To"] = "ann@client.example"
    notes = MIMEText("SECRET NOTES FILE", "plain", "utf-8")
    notes.add_header("Content-Disposition", "attachment", filename="notes.txt")
    msg.attach(notes)
    msg.attach(MIMEText("<p>The real body</p>", "html", "utf-8"))

    parsed = parse_message(msg.as_bytes())

    assert parsed.body_text == "The real body"
    assert [a.filename for a in parsed.attachments] == ["notes.txt"]
    assert parsed.attachments[0].content_type == "text/plain"


def test_attachments_in_nested_multiparts_and_forwarded_messages_are_found():
    forwarded = message("Original text", Subject="Original")
    msg = message("Plain")
    msg.add_alternative("<p>HTML</p>", subtype="html")  # multipart/alternative ...
    msg.add_attachment(PDF_BYTES, maintype="application", subtype="pdf", filename="x.pdf")  # ... in mixed
    msg.add_attachment(forwarded)  # message/rfc822

    parsed = parse_message(msg.as_bytes())

    assert parsed.body_text == "Plain"
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("x.pdf", "application/pdf"),
        ("", "message/rfc822"),
    ]
    assert parsed.attachments[1].size > len("Original text")


def test_rfc2231_filename_is_decoded_and_path_dropped():
    raw = raw_message(
        """
        From: ann@client.example
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="b1"
        """,
        b"--b1\r\nContent-Type: text/plain\r\n\r\nBody\r\n"
        b"--b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''%C3%9Cbersicht%20%E2%82%AC.pdf\r\n\r\n"
        b"aGVsbG8=\r\n"
        b"--b1\r\nContent-Type: image/png\r\n"
        b'Content-Disposition: attachment; filename="=?UTF-8?Q?B=C3=BCro.png?="\r\n\r\n'
        b"png\r\n"
        b"--b1\r\nContent-Type: text/plain\r\n"
        b'Content-Disposition: attachment; filename="C:\\\\Users\\\\ann\\\\notes.txt"\r\n\r\n'
        b"text\r\n--b1--\r\n",
    )

    parsed = parse_message(raw)

    assert parsed.body_text == "Body"
    assert parsed.attachments[0] == Attachment("Übersicht €.pdf", "application/pdf", 5)
    assert parsed.attachments[1].filename == "Büro.png"
    assert parsed.attachments[2].filename == "notes.txt"


# --- rejected messages ------------------------------------------------------------------------


def test_message_over_10_mb_is_rejected():
    head = b"From: ann@client.example\r\n\r\n"
    raw = head + b"x" * (MAX_MESSAGE_BYTES - len(head) + 1)

    with pytest.raises(MessageRejected) as caught:
        parse_message(raw)

    assert caught.value.reason == "The message is larger than 10 MB."


def test_message_of_exactly_10_mb_is_accepted():
    head = b"From: ann@client.example\r\n\r\n"
    raw = head + b"x" * (MAX_MESSAGE_BYTES - len(head))

    parsed = parse_message(raw)

    assert parsed.size == MAX_MESSAGE_BYTES
    assert len(parsed.body_text) == 100_000


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b" \r\n\r\n\t", id="whitespace"),
        pytest.param(random.Random(7).randbytes(4096), id="random-binary"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), id="png"),
        pytest.param(b"Dear Ann,\nthis is just text.\n", id="prose"),
        pytest.param(b"Subject: hi\r\nX-Mailer: x\r\n\r\nbody", id="no-addresses"),
        pytest.param(b"From: nobody\r\nTo: undisclosed-recipients:;\r\n\r\nbody", id="unusable-addresses"),
        pytest.param(b"From: ann@client.example\r\nContent-Type: ;utf-8*\r\n\r\nx", id="parser-crash"),
    ],
)
def test_input_that_is_not_an_email_is_rejected(raw):
    with pytest.raises(MessageRejected) as caught:
        parse_message(raw)

    assert caught.value.reason
    assert str(caught.value) == caught.value.reason


# --- html_to_text -----------------------------------------------------------------------------


def test_html_to_text_collapses_blank_lines_and_source_whitespace():
    html = "<div>One\n   two</div><br><br><br><br><p>Three</p><table><tr><td>a</td><td>b</td></tr></table>"

    assert html_to_text(html) == "One two\n\nThree\na b"


def test_html_to_text_unescapes_entities_and_drops_nested_script():
    html = "<p>&eacute;&#233;&#x20AC; &quot;q&quot;</p><script>var s = '<p>no</p>';</script><p>end</p>"

    assert html_to_text(html) == 'éé€ "q"\nend'


def test_html_to_text_with_max_chars_stops_reading_long_html_early():
    html = "<p>Hello there</p>" * 200_000

    text = html_to_text(html, max_chars=1_000)

    assert 1_000 <= len(text) < 200_000
    assert text.startswith("Hello there\nHello there")


def test_long_html_body_is_capped_at_100000_characters():
    msg = message()
    msg.set_content("<p>Paragraph of text</p>" * 50_000, subtype="html")

    assert len(parse_message(msg.as_bytes()).body_text) == 100_000
