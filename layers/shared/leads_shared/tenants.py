"""Tenant settings: created with their defaults on first use (exactly once, whoever comes first),
changed by an admin without losing a concurrent change, and the drop-box token rotated.

Every function works on the caller's own tenant (the token's ``tenant_id``); there is no way to
name another one.
"""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING

from leads_shared import dropbox
from leads_shared.clock import utc_now
from leads_shared.errors import PreconditionFailed, StoreFailure
from leads_shared.models.tenant import (
    INBOUND_TOKEN_LENGTH,
    RETIRED_TOKENS_KEPT,
    TenantOut,
    TenantSettings,
    TenantUpdate,
)
from leads_shared.versioning import confirmed_write, matches_etag, next_version, without_lost_updates

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.tenant_store import TenantStore

_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
RESOURCE = "tenant's settings"


def new_inbound_token() -> str:
    """A fresh drop-box token: 20 random lower-case letters and digits (103 bits)."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(INBOUND_TOKEN_LENGTH))


def default_settings(tenant_id: str, now: str) -> TenantSettings:
    return TenantSettings(
        tenant_id=tenant_id,
        name=tenant_id,
        inbound_token=new_inbound_token(),
        created_at=now,
        updated_at=now,
    )


def settings_of(tenant_id: str, store: TenantStore) -> TenantSettings:
    """The tenant's settings, created with their defaults on first use. One GetItem; the first
    use adds one conditional PutItem, and when a concurrent first use won that race, one more
    GetItem for the settings it made: all callers get the same token."""
    found = store.settings(tenant_id)
    if found is not None:
        return found
    fresh = default_settings(tenant_id, utc_now())
    if store.create(fresh):
        return fresh
    winner = store.settings(tenant_id)
    if winner is None:  # cannot be: settings are never deleted
        raise StoreFailure("tenant settings: the create's condition failed but there are none")
    return winner


def dropbox_address(settings: TenantSettings, inbound_domain: str) -> str:
    """The tenant's drop-box address: ``leads+<tenant_id>.<inbound_token>@<inbound domain>``."""
    return dropbox.address(settings.tenant_id, settings.inbound_token, inbound_domain)


def described(settings: TenantSettings, inbound_domain: str | None) -> TenantOut:
    """What the routes answer: the settings with the drop-box address, without the token's
    history, the version (the ETag) or anything stored only for the table."""
    address = dropbox_address(settings, inbound_domain) if inbound_domain else None
    return TenantOut.of(settings, address)


def _replace(store: TenantStore, current: TenantSettings, updated: TenantSettings) -> TenantSettings:
    """Write ``updated`` (the next version) over ``current`` (``VersionConflict`` when someone
    else changed them; a lost answer of our own write is recognised)."""
    updated = next_version(current, updated)
    return confirmed_write(
        lambda: store.replace(current, updated), updated, lambda: store.settings(current.tenant_id)
    )


def update_settings(
    principal: Principal, data: TenantUpdate, store: TenantStore, if_match: str | None = None
) -> TenantSettings:
    """Apply the fields sent. Two requests (read, conditional write; no write when nothing
    changes); with ``If-Match`` not the current ETag, a 412. A concurrent change between the read
    and the write is a 412 with ``If-Match``, and without it the change is applied again on the
    fresh settings."""
    changes = data.changes()

    def attempt() -> TenantSettings:
        current = settings_of(principal.tenant_id, store)
        if not matches_etag(if_match, current):
            raise PreconditionFailed()
        updated = current.model_copy(update=changes)
        if updated == current:
            return current
        return _replace(store, current, updated)

    return without_lost_updates(attempt, if_match, RESOURCE)


def rotate_inbound_token(principal: Principal, store: TenantStore) -> TenantSettings:
    """Give the tenant a new drop-box token (two requests). From then on mail to the old address
    is refused as "rotated"; the last tokens are kept only to say so."""

    def attempt() -> TenantSettings:
        current = settings_of(principal.tenant_id, store)
        retired = [current.inbound_token, *current.retired_inbound_tokens][:RETIRED_TOKENS_KEPT]
        updated = current.model_copy(
            update={
                "inbound_token": new_inbound_token(),
                "retired_inbound_tokens": retired,
            }
        )
        return _replace(store, current, updated)

    return without_lost_updates(attempt, None, RESOURCE)
