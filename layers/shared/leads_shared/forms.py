"""Lead form rules for admins: create, read, replace (and rotate the public key), delete, and
read what a form received. Public capture is ``form_capture``."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from leads_shared.clock import utc_now
from leads_shared.data.form_store import FormStore, KeyTaken
from leads_shared.data.writes import VersionConflict
from leads_shared.directory import check_assignable
from leads_shared.errors import Conflict, NotFound
from leads_shared.models.forms import FormCreate, FormUpdate, LeadForm, Submission
from leads_shared.versioning import confirmed_write, next_version

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.directory_store import DirectoryStore

# 18 random bytes: 24 URL-safe characters, 144 bits (never guessed, never collides).
PUBLIC_KEY_BYTES = 18
KEY_ATTEMPTS = 3


def new_public_key() -> str:
    return secrets.token_urlsafe(PUBLIC_KEY_BYTES)


def new_token_secret() -> str:
    return secrets.token_hex(32)


def _check_owner(principal: Principal, owner_id: int | None, directory: DirectoryStore) -> None:
    if owner_id is not None:
        check_assignable(directory.user(principal.tenant_id, owner_id), owner_id, "owner_id")


def create_form(
    principal: Principal, data: FormCreate, forms: FormStore, directory: DirectoryStore
) -> LeadForm:
    """Check the owner, take a form id, write the form with its key's lookup item."""
    _check_owner(principal, data.owner_id, directory)
    now = utc_now()
    form_id = forms.reserve(principal.tenant_id, ["form"])["form"]
    for _ in range(KEY_ATTEMPTS):
        form = LeadForm(
            **data.model_dump(),
            tenant_id=principal.tenant_id,
            id=form_id,
            public_key=new_public_key(),
            token_secret=new_token_secret(),
            consent_version=1 if data.consent_text else 0,
            created_at=now,
            updated_at=now,
        )
        try:
            forms.insert(form)
            return form
        except KeyTaken:
            continue
    raise Conflict("The form could not be given a key. Please retry.")


def get_form(principal: Principal, form_id: int, forms: FormStore) -> LeadForm:
    form = forms.form(principal.tenant_id, form_id)
    if form is None:
        raise NotFound("Form")
    return form


def list_forms(principal: Principal, forms: FormStore) -> list[LeadForm]:
    return forms.forms(principal.tenant_id)


def update_form(
    principal: Principal, form_id: int, data: FormUpdate, forms: FormStore, directory: DirectoryStore
) -> LeadForm:
    """Replace the form's settings. A changed consent text is a new consent version; with
    ``rotate_key``, a new public key (and a new secret for its time tokens)."""
    current = get_form(principal, form_id, forms)
    if data.owner_id != current.owner_id:  # a deactivated owner may stay the owner
        _check_owner(principal, data.owner_id, directory)
    consent_version = current.consent_version
    if data.consent_text and data.consent_text != current.consent_text:
        consent_version += 1
    changes: dict[str, object] = {
        **data.model_dump(exclude={"rotate_key"}),
        "consent_version": consent_version,
    }
    if data.rotate_key:
        changes.update(public_key=new_public_key(), token_secret=new_token_secret())
    updated = next_version(current, LeadForm.model_validate({**current.model_dump(), **changes}))
    try:
        # A lost answer of our own write (the SDK retried it) is recognised, not a 409.
        confirmed_write(
            lambda: forms.replace(current, updated), updated, lambda: forms.form(principal.tenant_id, form_id)
        )
    except VersionConflict:
        raise Conflict("The form was changed by someone else. Please retry.") from None
    except KeyTaken:
        raise Conflict("The form could not be given a new key. Please retry.") from None
    return updated


def delete_form(principal: Principal, form_id: int, forms: FormStore) -> None:
    current = get_form(principal, form_id, forms)
    try:
        forms.delete(current)
    except VersionConflict:
        raise Conflict("The form was changed by someone else. Please retry.") from None


def list_submissions(principal: Principal, form_id: int, forms: FormStore) -> list[Submission]:
    """The form's newest submissions (404 for a form the tenant does not have)."""
    get_form(principal, form_id, forms)
    return forms.submissions(principal.tenant_id, form_id)
