"""Public capture: what a post to a form's public key does.

In order: the form (404 unknown or inactive), its rate limits (429), then the spam checks (the
honeypot, the time token: spam is recorded and answered as a success, with no lead), the CAPTCHA
when the form has one (422), the form's fields (422), and then exactly once per submission (the
same values within 10 minutes, or the same ``submission_id``: the first answer again) a lead,
made, or an open lead with the email filled in and noted, with where it came from and the
consent given.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from leads_shared import captcha
from leads_shared.clock import utc_now
from leads_shared.data.activity_store import ActivityStore, LeadGone
from leads_shared.errors import Conflict, NotFound, TooManyRequests, ValidationFailed
from leads_shared.form_spam import HONEYPOT, TOKEN_FIELD, token_verdict
from leads_shared.lead_history import change, form_actor
from leads_shared.leads import insert_lead
from leads_shared.models.activities import Note
from leads_shared.models.forms import CaptureAnswer, LeadForm, Submission
from leads_shared.models.leads import Attribution, Consent, Lead, LeadCreate
from leads_shared.observability import logger
from leads_shared.validation_messages import field_errors
from leads_shared.versioning import next_version, without_lost_updates

if TYPE_CHECKING:
    from leads_shared.config import Settings
    from leads_shared.data.capture_store import CaptureStore
    from leads_shared.data.form_store import FormStore
    from leads_shared.data.lead_store import LeadStore
    from leads_shared.data.mail_store import MailStore
    from leads_shared.data.record_store import RecordStore
    from leads_shared.data.secret_store import SecretStore
    from leads_shared.form_posts import Post, Visit

ONCE_SECONDS = 10 * 60
THANK_YOU = "Thank you! We will be in touch."
PUBLIC_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
SUBMISSION_ID = re.compile(r"[A-Za-z0-9_-]{8,100}")
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
MAX_URL_CHARS = 2000
ACCEPTED = frozenset({"true", "on", "1", "yes"})
# Lead fields a submission fills on an open lead with its email, when that lead has none.
FILLABLE = ("phone", "company", "job_title", "notes")
OPEN_STATUSES = frozenset({"new", "contacted"})


@dataclass(frozen=True)
class CaptureStores:
    forms: FormStore
    capture: CaptureStore
    leads: LeadStore
    mail: MailStore
    records: RecordStore
    activities: ActivityStore
    secrets: SecretStore


def find_form(public_key: str, forms: FormStore) -> LeadForm:
    """The active form with this public key (404 otherwise; a malformed key reads nothing)."""
    form = forms.form_of_key(public_key) if PUBLIC_KEY.fullmatch(public_key) else None
    if form is None or not form.active:
        raise NotFound("Form")
    return form


def allows_origin(form: LeadForm, origin: str | None) -> bool:
    return bool(origin) and (origin or "").strip().rstrip("/").lower() in form.allowed_origins


def check_rate(form: LeadForm, ip: str | None, store: CaptureStore, now: float) -> None:
    """Count this request in the form's minute and its IP's (both kept in the table, so they hold
    across Lambda instances); over either limit: 429 until the minute ends."""
    minute = int(now // 60)
    expires_at = (minute + 2) * 60
    retry_after = 60 - int(now) % 60
    if store.count(form.tenant_id, form.id, minute, None, expires_at) > form.rate_limit_per_minute:
        raise TooManyRequests(retry_after)
    if (
        ip
        and store.count(form.tenant_id, form.id, minute, ip, expires_at) > form.rate_limit_per_ip_per_minute
    ):
        raise TooManyRequests(retry_after)


def _clip(value: str | None, limit: int = MAX_URL_CHARS) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None


def attribution_of(form: LeadForm, values: dict[str, str], visit: Visit, submission_id: str) -> Attribution:
    """The page (posted by the script, else the page that posted: the Referer), the referrer, the
    UTM tags (posted, else from the page's query), the IP as API Gateway saw it, the user agent."""
    page_url = _clip(values.get("page_url")) or _clip(visit.referer)
    query = parse_qs(urlsplit(page_url or "").query)
    utm = {name: _clip(values.get(name) or next(iter(query.get(name, [])), None), 255) for name in UTM}
    return Attribution(
        form_id=form.id,
        submission_id=submission_id,
        page_url=page_url,
        referrer=_clip(values.get("referrer")),
        ip=visit.ip,
        user_agent=_clip(visit.user_agent, 512),
        **utm,
    )


def _field_values(form: LeadForm, values: dict[str, str]) -> tuple[dict[str, str], bool]:
    """The form's fields as posted (trimmed, blank left out) and whether consent was given;
    422 with each field's messages, in the words of its label."""
    found: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    consent = False
    for field in form.fields:
        raw = values.get(field.name, "").strip()
        if field.type == "checkbox":
            consent = raw.lower() in ACCEPTED
            if field.required and not consent:
                problems[field.name] = [f"Please tick “{field.label}”."]
            continue
        if not raw:
            if field.required:
                problems[field.name] = [f"The {field.label} field is required."]
            continue
        if field.type == "select" and raw not in field.options:
            problems[field.name] = [f"The selected {field.label} is invalid."]
            continue
        found[field.name] = raw
    if problems:
        raise ValidationFailed(problems)
    return found, consent


def _lead_body(form: LeadForm, fields: dict[str, str], attribution: Attribution) -> LeadCreate:
    try:
        return LeadCreate.model_validate(
            {
                **fields,
                "source": form.source or attribution.utm_source or "Web form",
                "status": form.status,
                "tags": form.tags,
                "assigned_to": form.owner_id,
            }
        )
    except ValidationError as invalid:
        raise ValidationFailed(field_errors(invalid.errors())) from None


def fingerprints(form: LeadForm, fields: dict[str, str], submission_id: str | None) -> list[str]:
    """What makes two posts one submission: the same values (case-insensitive email), and the
    same ``submission_id`` when the post has one."""
    same = {name: value.lower() if name == "email" else value for name, value in fields.items()}
    content = json.dumps({"form": form.id, "values": same}, sort_keys=True, ensure_ascii=False)
    found = [hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()]
    if submission_id:
        found.append(hashlib.sha256(f"id:{submission_id}".encode()).hexdigest())
    return found


def _answer(form: LeadForm, submission_id: str) -> CaptureAnswer:
    return CaptureAnswer(submission_id=submission_id, message=THANK_YOU, redirect_url=form.redirect_url)


def _check_captcha(
    form: LeadForm, values: dict[str, str], visit: Visit, secrets: SecretStore, settings: Settings
) -> None:
    if form.captcha is None:
        return
    provider = form.captcha.provider
    answer = captcha.answer_of(provider, values)
    name = f"/leads/{settings.stage}/captcha/{form.tenant_id}/{form.captcha.secret_parameter}"
    secret = secrets.parameter(name) if answer else None
    if answer and secret is None:
        logger.error("captcha secret missing", extra={"form_id": form.id, "parameter": name})
    if not answer or secret is None or not captcha.verified(provider, secret, answer, visit.ip, settings):
        raise ValidationFailed({"captcha": ["Please confirm that you are not a robot."]})


def capture(
    form: LeadForm,
    post: Post,
    visit: Visit,
    stores: CaptureStores,
    settings: Settings,
    now: float | None = None,
) -> CaptureAnswer:
    """The answer to a post (after ``check_rate``)."""
    now = time.time() if now is None else now
    values = post.values
    posted_id = values.get("submission_id", "").strip()
    given_id = posted_id if SUBMISSION_ID.fullmatch(posted_id) else None
    submission_id = given_id or uuid.uuid4().hex
    attribution = attribution_of(form, values, visit, submission_id)

    reason = "honeypot" if values.get(HONEYPOT, "").strip() else None
    if reason is None and form.timing_check:
        reason = token_verdict(form, values.get(TOKEN_FIELD), now, settings.form_min_fill_seconds)
    if reason is not None:
        kept = {name: value[:255] for name, value in values.items() if name in {f.name for f in form.fields}}
        stores.forms.add_submission(
            Submission(
                tenant_id=form.tenant_id,
                form_id=form.id,
                id=submission_id,
                received_at=utc_now(),
                outcome="spam",
                reason=reason,
                attribution=attribution,
                values=kept,
            )
        )
        logger.info("form spam", extra={"form_id": form.id, "reason": reason})
        return _answer(form, submission_id)

    _check_captcha(form, values, visit, stores.secrets, settings)
    fields, consent_given = _field_values(form, values)
    data = _lead_body(form, {k: v for k, v in fields.items() if k != "consent"}, attribution)

    marks = fingerprints(form, fields, given_id)
    earlier = stores.capture.claim(form.tenant_id, form.id, marks, int(now), int(now) + ONCE_SECONDS)
    if earlier is not None:
        if "answer" in earlier:
            return CaptureAnswer.model_validate(earlier["answer"])
        raise Conflict("This submission is being processed. Please retry shortly.")
    try:
        received_at = utc_now()
        consent = (
            Consent(
                form_id=form.id,
                text=form.consent_text or "",
                text_version=form.consent_version,
                given_at=received_at,
                ip=visit.ip,
            )
            if consent_given and form.consent_text
            else None
        )
        outcome, lead = _write_lead(form, data, attribution, consent, stores)
        stores.forms.add_submission(
            Submission(
                tenant_id=form.tenant_id,
                form_id=form.id,
                id=submission_id,
                received_at=received_at,
                outcome=outcome,
                lead_id=lead.id,
                attribution=attribution,
                values=fields,
                consent=consent,
            )
        )
        answer = _answer(form, submission_id)
        stores.capture.answer(form.tenant_id, form.id, marks, answer.model_dump())
    except BaseException:
        stores.capture.release(form.tenant_id, form.id, marks)
        raise
    logger.info("form submission", extra={"form_id": form.id, "outcome": outcome, "lead_id": lead.id})
    return answer


def _write_lead(
    form: LeadForm, data: LeadCreate, attribution: Attribution, consent: Consent | None, stores: CaptureStores
) -> tuple[str, Lead]:
    """A new lead, or (unless the form always creates) the open lead that has the email."""
    if data.email and not form.always_create:
        found = _open_lead_with(form.tenant_id, data.email, stores)
        if found is not None:
            return _fill_open_lead(form, found, data, attribution, consent, stores)
    recorded: dict[str, Any] = {"attribution": attribution, "consent": consent}
    actor = form_actor(form.id, form.name)
    try:
        return "created", insert_lead(form.tenant_id, data, stores.leads, stores.mail, actor, recorded)
    except ValidationFailed:  # the owner was deactivated since the form was saved: unassigned
        unassigned = data.model_copy(update={"assigned_to": None})
        return "created", insert_lead(form.tenant_id, unassigned, stores.leads, stores.mail, actor, recorded)


def _open_lead_with(tenant_id: str, email: str, stores: CaptureStores) -> Lead | None:
    """The oldest open (new or contacted) lead of the tenant with this email, any case."""
    rows = stores.records.with_email(tenant_id, email, 20)
    ids = sorted(
        int(row["id"]) for row in rows if row.get("entity") == "lead" and row.get("status") in OPEN_STATUSES
    )
    for lead_id in ids:
        lead = stores.leads.get(tenant_id, lead_id)
        if lead is not None and not lead.is_closed:
            return lead
    return None


def _fill_open_lead(
    form: LeadForm,
    found: Lead,
    data: LeadCreate,
    attribution: Attribution,
    consent: Consent | None,
    stores: CaptureStores,
) -> tuple[str, Lead]:
    """Fill the lead's empty fields (and its consent, when given now), then note the submission."""
    filled: list[str] = []

    def attempt() -> Lead:
        current = stores.leads.get(found.tenant_id, found.id) or found
        changes: dict[str, Any] = {
            name: getattr(data, name)
            for name in FILLABLE
            if getattr(data, name) is not None and getattr(current, name) is None
        }
        filled[:] = sorted(changes)
        if consent is not None:
            changes["consent"] = consent
        if current.attribution is None:
            changes["attribution"] = attribution
        if not changes:
            return current
        updated = next_version(current, current.model_copy(update=changes))
        stores.leads.replace(current, updated, change(current, updated, form_actor(form.id, form.name)))
        return updated

    lead = without_lost_updates(attempt, None)
    said = f"; filled {', '.join(filled)}" if filled else ""
    page = f" from {attribution.page_url}" if attribution.page_url else ""
    now = utc_now()
    note = Note(
        tenant_id=lead.tenant_id,
        id=stores.records.reserve(lead.tenant_id, ["note"])["note"],
        lead_id=lead.id,
        content=f"Submitted the web form “{form.name}” again{page}{said}.",
        user_id=0,
        user_name=f"Web form: {form.name}",
        created_at=now,
        updated_at=now,
    )
    try:
        stores.activities.add_note(note)
    except LeadGone:
        logger.warning("lead deleted while a form submission was noted", extra={"lead_id": lead.id})
    return ("updated" if filled else "duplicate"), lead
