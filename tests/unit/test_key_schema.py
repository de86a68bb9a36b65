"""The key schema has one description, docs/data-model.md's table, and one implementation,
leads_shared/keys.py: every row of the table is what keys.py writes, and every entity keys.py
knows has its row."""

from __future__ import annotations

import hashlib
import re

from devstack.template import REPO_ROOT
from leads_shared import keys

DOC = REPO_ROOT / "docs" / "data-model.md"
T, N = "acme", 42
EMAIL, ADDRESS, SUBJECT, MESSAGE_ID, TOKEN = "ann@example.com", "bob@example.com", "idp|7", "<m@x>", "tok"
DAY, BUCKET, OBJECT_KEY = "2026-11-27", "leads-data", "inbound/abc"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# What each placeholder of the table stands for in the keys below.
PLACEHOLDERS = {
    "t": T,
    "id": str(N),
    "email id": str(N),
    "import_id": "imp-1",
    "export_id": "exp-1",
    "lower email": EMAIL,
    "lower address": ADDRESS,
    "sha256 of subject": sha256(SUBJECT),
    "sha256 of Message-ID": sha256(MESSAGE_ID),
    "sha256 of the token": sha256(TOKEN),
    "yyyy-mm-dd": DAY,
    "bucket": BUCKET,
    "key": OBJECT_KEY,
    "public key": "k3y",
    "received_at": "2026-11-27T10:00:00.000000Z",
    "at": "2026-11-27T10:00:00.000000Z",
    "version": str(N),
    "submission id": "s1",
    "sha256": sha256("once"),
    "unix minute": "29000000",
    "ip": "203.0.113.9",
    "field": "email",
    "token": "doe",
    "kind": "phone",
    "merge_id": "m1",
    "sha256 of the key": sha256("15550102030"),
    "erasure id": "e1",
}
# Each row of the table (its entity cell) -> the keys keys.py writes for it, one per SK variant.
# None: the SK is not ours (Powertools' idempotency records), only the PK is checked.
ROWS: dict[str, list[dict[str, str | None]]] = {
    "lead": [keys.LeadKeys.primary(T, N)],
    "lead in the recycle bin": [keys.TrashKeys.primary(T, N)],
    "lead merged into another": [keys.MergeKeys.merged(T, N)],
    "merge record": [keys.MergeKeys.record(T, N, "m1")],
    "lead stats": [keys.LeadStatsKeys.primary(T)],
    "lead match entry": [keys.LeadIndexKeys.match_entry(T, N, "phone")],
    "duplicate claim": [keys.DuplicateClaimKeys.primary(T, "phone", "15550102030")],
    "lead past email": [keys.PastEmailKeys.entry(T, N, ADDRESS)],
    "erasure receipt": [keys.ErasureKeys.receipt(T, "e1")],
    "note / task": [keys.LeadKeys.note(T, N, N), keys.LeadKeys.task(T, N, N)],
    "lead history entry": [keys.LeadHistoryKeys.entry(T, N, "2026-11-27T10:00:00.000000Z", N)],
    "lead order entry / search token entry": [
        keys.LeadIndexKeys.order_entry(T, N, "email"),
        keys.LeadIndexKeys.token_entry(T, N, "doe"),
    ],
    "contact": [keys.ContactKeys.primary(T, N)],
    "company": [keys.CompanyKeys.primary(T, N)],
    "deal": [keys.DealKeys.primary(T, N)],
    "id sequences (notes, tasks, contacts, companies, deals)": [keys.SequenceKeys.primary(T)],
    "CSV import job": [keys.ImportKeys.primary(T, "imp-1")],
    "CSV export job": [keys.ExportKeys.primary(T, "exp-1")],
    "idempotency record (Powertools)": [{"PK": keys.IdempotencyKeys.partition(T), "SK": None}],
    "email (captured or logged)": [keys.MailKeys.primary(T, N)],
    "email link (what the lead's list shows)": [keys.LeadKeys.email_link(T, N, N)],
    "email participant (captured emails of an address)": [keys.MailKeys.participant(T, N, ADDRESS)],
    "Message-ID marker": [keys.MailKeys.message_marker(T, MESSAGE_ID)],
    "rejected inbound message": [keys.MailKeys.rejected(DAY, BUCKET, OBJECT_KEY)],
    "user / team / deal stage": [
        keys.DirectoryKeys.user(T, N),
        keys.DirectoryKeys.team(T, N),
        keys.DirectoryKeys.stage(T, N),
    ],
    "user's email / subject marker, default pipeline marker": [
        keys.DirectoryKeys.user_email(T, EMAIL),
        keys.DirectoryKeys.external_id(T, SUBJECT),
        keys.DirectoryKeys.pipeline(T),
    ],
    "tenant settings": [keys.TenantKeys.settings(T)],
    "SCIM token of a tenant": [keys.ScimTokenKeys.tenant(T)],
    "SCIM token lookup": [keys.ScimTokenKeys.lookup(sha256(TOKEN))],
    "lead form": [keys.FormKeys.form(T, N)],
    "lead form key lookup": [keys.FormKeys.public_key("k3y")],
    "form submission / exactly-once marker / rate counter": [
        keys.FormKeys.submission(T, N, "2026-11-27T10:00:00.000000Z", "s1"),
        keys.FormKeys.once(T, N, sha256("once")),
        keys.FormKeys.rate(T, N, 29000000),
        keys.FormKeys.rate(T, N, 29000000, "203.0.113.9"),
    ],
}
# Every entity class of keys.py that some row above uses (the second test: none is undocumented).
COVERED = {
    keys.DuplicateClaimKeys,
    keys.CompanyKeys,
    keys.ContactKeys,
    keys.DealKeys,
    keys.DirectoryKeys,
    keys.ErasureKeys,
    keys.ExportKeys,
    keys.FormKeys,
    keys.IdempotencyKeys,
    keys.ImportKeys,
    keys.LeadHistoryKeys,
    keys.LeadIndexKeys,
    keys.LeadKeys,
    keys.LeadStatsKeys,
    keys.MailKeys,
    keys.MergeKeys,
    keys.PastEmailKeys,
    keys.ScimTokenKeys,
    keys.SequenceKeys,
    keys.TenantKeys,
    keys.TrashKeys,
}


def documented_rows() -> dict[str, tuple[str, list[str]]]:
    """The first table of the page: entity -> (PK, [SK variants]), placeholders filled in (what a
    cell says in parentheses is a remark, not a key)."""
    table = DOC.read_text(encoding="utf-8").split("| entity | PK | SK |", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        entity, pk_cell, sk_cell = (cell.strip() for cell in line.strip("|").split(" | ")[:3])
        pk, *_ = codes(pk_cell)
        rows[entity] = (pk, codes(sk_cell))
    return rows


def codes(cell: str) -> list[str]:
    return [fill(code) for code in re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", cell))]


def fill(pattern: str) -> str:
    return re.sub(r"<([^>]+)>", lambda match: PLACEHOLDERS.get(match.group(1), match.group(0)), pattern)


def unpadded(value: str) -> str:
    """Ids as the table shows them: keys zero-pad ids in sort keys (so that they sort)."""
    return re.sub(r"(?<=#)0+(?=\d)", "", value)


def test_every_documented_key_is_what_keys_py_writes() -> None:
    documented = documented_rows()
    assert set(documented) == set(ROWS), "rows of docs/data-model.md without keys here, or the reverse"
    for entity, written in ROWS.items():
        pk, sks = documented[entity]
        assert [unpadded(str(key["PK"])) for key in written] == [pk] * len(written), entity
        expected_sks = [sk for sk, key in zip(sks, written, strict=True) if key["SK"] is not None]
        assert [unpadded(str(key["SK"])) for key in written if key["SK"] is not None] == expected_sks, entity


def test_every_entity_of_keys_py_is_documented() -> None:
    defined = {
        value for name, value in vars(keys).items() if name.endswith("Keys") and isinstance(value, type)
    }
    assert defined == COVERED, f"entities of keys.py missing from docs/data-model.md: {defined - COVERED}"
