"""Demo data of the local stack: two tenants, the same on every start.

- ``acme``: teams 1 Inbound, 2 Enterprise; users 1 Alice Admin (admin, team 1), 2 Bob Baker
  (team 1), 3 Carol Chen (team 2); deal stages 1-5; 50 demo leads. The qualified ones were
  qualified through the API's own rules (so contacts, companies and deals exist: ids from 1);
  lead 1 has two notes (ids 1, 2), three tasks (ids 1-3), and two captured emails (ids 1, 2:
  an answer from the lead, and a BCC'd proposal with an attachment), stored in the bucket under
  ``inbound/demo/`` and captured through the ingest code (the queue's copy of their S3 events is
  then a duplicate delivery, a no-op).
- ``globex``: team 1 Sales; users 1 Gina Admin (admin), 2 Hank Hill; the same stages; no leads.
- both: their settings (``GET /tenant``), with a fixed drop-box token, so that each one's
  drop-box address is the same on every start (``demo_dropbox_addresses``).
- acme's lead form 1 "Contact us" (``DEMO_FORM_KEY``: its page is ``/f/<key>``, fixed so that
  ``make dev`` prints the same URL and the sample events under ``events/form_capture/`` find it).
- acme's SCIM token is ``DEMO_SCIM_TOKEN`` (dev only, like the dev JWT secret: the SCIM sample
  events under ``events/scim/`` carry it).

Leads are written through the data layer (same keys and counters as the API writes), with
fixed timestamps so that the data really is the same on every start.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import boto3

from devstack.tokens import mint_token
from leads_shared import (
    dropbox,
    email_capture,
    export_jobs,
    export_worker,
    notes,
    qualify,
    scim_tokens,
    tasks,
    tenants,
)
from leads_shared.auth import Principal
from leads_shared.clock import format_timestamp
from leads_shared.config import get_settings
from leads_shared.data import (
    get_activity_store,
    get_blob_store,
    get_directory_store,
    get_export_queue,
    get_export_store,
    get_form_store,
    get_import_store,
    get_lead_store,
    get_mail_store,
    get_record_store,
    get_scim_token_store,
    get_tenant_store,
)
from leads_shared.directory import DEFAULT_PIPELINE
from leads_shared.keys import ImportKeys
from leads_shared.lead_history import change, user_actor
from leads_shared.lead_listing import LeadFilters
from leads_shared.models.activities import NoteCreate, TaskCreate
from leads_shared.models.directory import DealStage, Team, User
from leads_shared.models.forms import FormField, LeadForm
from leads_shared.models.imports import ImportJob
from leads_shared.models.leads import Lead, LeadCreate
from leads_shared.models.records import QualifyRequest
from leads_shared.models.tenant import TenantSettings

TEAMS = {"acme": {1: "Inbound", 2: "Enterprise"}, "globex": {1: "Sales"}}
USERS = {
    "acme": [
        (1, "Alice Admin", "alice@acme.com", "admin", 1),
        (2, "Bob Baker", "bob@acme.com", "user", 1),
        (3, "Carol Chen", "carol@acme.com", "user", 2),
    ],
    "globex": [
        (1, "Gina Admin", "gina@globex.com", "admin", 1),
        (2, "Hank Hill", "hank@globex.com", "user", 1),
    ],
}
DEMO_LEADS = {"acme": 50, "globex": 0}
TENANT_NAMES = {"acme": "Acme Inc.", "globex": "Globex Corporation"}
# Demo data only (a real tenant's token is random): the drop-box addresses stay the same.
DEMO_INBOUND_TOKENS = {"acme": "acmedemotoken0000001", "globex": "globexdemotoken00001"}
# acme's SCIM token on the local stack only (what `events/scim/` sends).
DEMO_SCIM_TOKEN = "scim_local-dev-acme-token-never-valid-elsewhere"
# acme's demo lead form (a real form's key and secret are random).
DEMO_FORM_KEY = "acmeDemoContactForm00001"
DEMO_FORM_SECRET = "local-dev-form-secret-never-valid-elsewhere"
FIRST = [
    "John",
    "Maria",
    "Wei",
    "Aisha",
    "Lukas",
    "Sofia",
    "Noah",
    "Emma",
    "Ravi",
    "Olivia",
    "Mateo",
    "Hana",
    "Liam",
    "Zara",
    "Ethan",
    "Chloe",
    "Omar",
    "Ines",
    "Kai",
    "Nora",
]
LAST = [
    "Doe",
    "Garcia",
    "Zhang",
    "Khan",
    "Müller",
    "Rossi",
    "Smith",
    "Johnson",
    "Patel",
    "Brown",
    "Silva",
    "Sato",
    "Nguyen",
    "Ali",
    "Martin",
    "Dubois",
    "Kowalski",
    "Berg",
]
COMPANIES = [
    "Doe Industries",
    "Globex Corp",
    "Initech LLC",
    "Umbrella Ltd",
    "Stark GmbH",
    "Wayne Enterprises",
    "Hooli Inc",
    "Vandelay Imports",
    "Soylent Co",
    None,
]
SOURCES = ["Website", "Referral", "LinkedIn", "Trade Show", "Cold Call", "Webinar"]
STATUSES = ["new"] * 5 + ["contacted"] * 3 + ["qualified", "disqualified"]
TITLES = ["CEO", "CTO", "Head of Sales", "Procurement Manager", "Engineer", None]
FIRST_DAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoToken:
    tenant_id: str
    user_id: int
    name: str
    role: str
    token: str


def demo_users(tenant_id: str) -> list[User]:
    return [
        User(tenant_id=tenant_id, id=i, name=n, email=e, role=r, team_id=t)
        for i, n, e, r, t in USERS[tenant_id]
    ]


def demo_user(tenant_id: str, user_id: int) -> User:
    for user in demo_users(tenant_id):
        if user.id == user_id:
            return user
    raise SystemExit(f"no demo user {user_id} in tenant {tenant_id!r}")


def demo_leads(tenant_id: str) -> list[Lead]:
    rng = random.Random(f"leads-{tenant_id}")
    names = {u.id: u.name for u in demo_users(tenant_id)}
    leads = []
    for number in range(1, DEMO_LEADS[tenant_id] + 1):
        first, last, company = rng.choice(FIRST), rng.choice(LAST), rng.choice(COMPANIES)
        domain = (company or "example").split()[0].lower()
        assignee = rng.choice([1, 2, 3, 2, 3, None])
        fields = LeadCreate(
            first_name=first,
            last_name=last,
            email=f"{first}.{last}{number}@{domain}.com".lower().replace("ü", "u"),
            phone=f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            company=company,
            job_title=rng.choice(TITLES),
            source=rng.choice(SOURCES),
            status=rng.choice(STATUSES),
            notes=rng.choice([None, "Asked for a demo.", "Budget approved for Q3."]),
            tags=rng.choice([None, "vip", "inbound,priority", "event"]),
            assigned_to=assignee,
        )
        created = format_timestamp(FIRST_DAY + timedelta(hours=13 * number))
        leads.append(
            Lead(
                tenant_id=tenant_id,
                id=number,
                **fields.model_dump(),
                assigned_to_name=names.get(assignee) if assignee else None,
                created_at=created,
                updated_at=created,
            )
        )
    return leads


def demo_settings(tenant_id: str) -> TenantSettings:
    when = format_timestamp(FIRST_DAY)
    return TenantSettings(
        tenant_id=tenant_id,
        name=TENANT_NAMES[tenant_id],
        inbound_token=DEMO_INBOUND_TOKENS[tenant_id],
        created_at=when,
        updated_at=when,
    )


def demo_dropbox_addresses(inbound_domain: str) -> dict[str, str]:
    """Each demo tenant's drop-box address (what `make dev` prints)."""
    return {t: dropbox.address(t, token, inbound_domain) for t, token in DEMO_INBOUND_TOKENS.items()}


def seed_demo_data() -> None:
    directory, leads = get_directory_store(), get_lead_store()
    for tenant_id, teams in TEAMS.items():
        get_tenant_store().create(demo_settings(tenant_id))
        for team_id, name in teams.items():
            directory.put_team(Team(tenant_id=tenant_id, id=team_id, name=name))
        for user in demo_users(tenant_id):
            directory.put_user(user)
        for position, (name, probability, kind) in enumerate(DEFAULT_PIPELINE, start=1):
            stage = DealStage(
                tenant_id=tenant_id,
                id=position,
                name=name,
                position=position,
                probability=probability,
                kind=kind,
            )
            directory.put_stage(stage)
        admin = Principal(user_id=1, tenant_id=tenant_id, role="admin", name=demo_user(tenant_id, 1).name)
        for lead in demo_leads(tenant_id):
            converted = lead.status == "qualified"
            if converted:
                lead = lead.model_copy(update={"status": "contacted"})
            leads.insert(lead, lead.id - 1, change(None, lead, user_actor(admin)))
            if converted:
                wanted = QualifyRequest(
                    create_company=bool(lead.company), create_deal=True, deal_value=1000 * lead.id
                )
                qualify.qualify_lead(admin, lead.id, wanted, leads, get_record_store(), directory)
        if tenant_id == "acme":
            token_hash = scim_tokens.token_hash(DEMO_SCIM_TOKEN)
            get_scim_token_store().put_token(tenant_id, token_hash, format_timestamp(FIRST_DAY))
            seed_form(tenant_id)
        if DEMO_LEADS[tenant_id]:
            seed_activities(admin)
            seed_import(admin)
            seed_export(admin)
            seed_emails(tenant_id)


def demo_form(tenant_id: str, form_id: int) -> LeadForm:
    created = format_timestamp(FIRST_DAY)
    fields = [
        FormField(name="first_name", label="First name", required=True),
        FormField(name="last_name", label="Last name", required=True),
        FormField(name="email", label="Work email", type="email", required=True),
        FormField(name="company", label="Company"),
        FormField(name="phone", label="Phone", type="phone"),
        FormField(
            name="job_title", label="Role", type="select", options=["Founder", "CTO", "Sales", "Other"]
        ),
        FormField(name="notes", label="How can we help?", type="textarea"),
        FormField(
            name="consent",
            label="I agree to be contacted about Acme's products",
            type="checkbox",
            required=True,
        ),
    ]
    return LeadForm(
        tenant_id=tenant_id,
        id=form_id,
        name="Contact us",
        fields=fields,
        source="Website",
        owner_id=2,
        allowed_origins=["http://127.0.0.1:3000", "http://localhost:3000"],
        consent_text="Acme may contact you by email and phone about its products. You can unsubscribe "
        "at any time.",
        public_key=DEMO_FORM_KEY,
        token_secret=DEMO_FORM_SECRET,
        consent_version=1,
        created_at=created,
        updated_at=created,
    )


def seed_form(tenant_id: str) -> None:
    forms = get_form_store()
    forms.insert(demo_form(tenant_id, forms.reserve(tenant_id, ["form"])["form"]))


DEMO_IMPORT_ID = "0123456789abcdef0123456789abcdef"


def seed_import(admin: Principal) -> None:
    """A finished import job (its sample events read it)."""
    when = format_timestamp(FIRST_DAY)
    job = ImportJob(
        tenant_id=admin.tenant_id, import_id=DEMO_IMPORT_ID, status="completed", filename="trade-show.csv",
        key=ImportKeys.upload(admin.tenant_id, DEMO_IMPORT_ID), created_by=admin.user_id, created_at=when,
        started_at=when, finished_at=when, total_rows=0,
    )  # fmt: skip
    get_import_store().create(job)


DEMO_EXPORT_ID = "fedcba9876543210fedcba9876543210"


def seed_export(admin: Principal) -> None:
    """A finished export job of every lead (its sample events read it), written by the worker's
    own code: the job, then its run."""
    job = export_jobs.new_job(admin, LeadFilters(), DEMO_EXPORT_ID)
    store = get_export_store()
    store.create(job)
    message = export_worker.ExportRequest(job.tenant_id, job.export_id).message()
    done = export_worker.run_message(
        message, store, get_lead_store(), get_directory_store(), get_blob_store(), get_export_queue(),
        lambda: 900_000,
    )  # fmt: skip
    if done is None or done.status != "done":
        raise RuntimeError(f"the demo export did not finish: {done!r}")


def seed_activities(admin: Principal) -> None:
    """Lead 1's notes and tasks."""
    activities, records, directory = get_activity_store(), get_record_store(), get_directory_store()
    bob = Principal(user_id=2, tenant_id=admin.tenant_id, name=demo_user(admin.tenant_id, 2).name)
    for author, text in ((admin, "Called: wants a demo next week."), (bob, "Sent the pricing sheet.")):
        notes.add_note(author, 1, NoteCreate(content=text), activities, records, directory)
    for title, due, priority in (
        ("Book the demo", "2026-02-02", "high"),
        ("Send the proposal", "2026-02-09", "medium"),
        ("Check in after the trial", None, "low"),
    ):
        task = TaskCreate(title=title, due_date=due, priority=priority, assigned_to=2)
        tasks.add_task(admin, 1, task, activities, records)


def dropbox_address(tenant_id: str) -> str:
    """The tenant's drop-box address (its settings are made on first use, as the API does)."""
    domain = get_settings().inbound_domain
    assert domain, "INBOUND_DOMAIN is not set"
    return tenants.dropbox_address(tenants.settings_of(tenant_id, get_tenant_store()), domain)


def demo_emails(tenant_id: str) -> list[tuple[str, bytes]]:
    """Lead 1's two emails as raw messages (object key, bytes)."""
    lead = demo_leads(tenant_id)[0]
    bob = demo_user(tenant_id, 2)
    reply = EmailMessage()
    reply["From"] = f"{lead.first_name} {lead.last_name} <{lead.email}>"
    reply["To"] = f"{bob.name} <{bob.email}>"
    reply["Cc"] = dropbox_address(tenant_id)
    reply["Subject"] = "Re: A demo next week?"
    reply["Date"] = "Tue, 20 Jan 2026 10:15:00 +0100"
    reply["Message-ID"] = f"<demo-reply-1@{tenant_id}.example>"
    reply.set_content("Hi Bob,\n\nThursday 2pm works for us. Our CTO will join.\n\nBest,\n" + lead.first_name)
    proposal = EmailMessage()
    # Bcc'd to the drop-box: only the delivery header names it, as SES writes it.
    proposal["Received"] = (
        f"from mail.acme.com by inbound-smtp.us-east-1.amazonaws.com with SMTP id demo2 "
        f"for {dropbox_address(tenant_id)}; Wed, 21 Jan 2026 16:00:05 +0000"
    )
    proposal["From"] = f"{bob.name} <{bob.email}>"
    proposal["To"] = f"{lead.first_name} {lead.last_name} <{lead.email}>"
    proposal["Subject"] = "Our proposal"
    proposal["Date"] = "Wed, 21 Jan 2026 16:00:00 +0000"
    proposal["Message-ID"] = f"<demo-proposal-1@{tenant_id}.example>"
    proposal.set_content("Hello,\n\nplease find our proposal attached.\n\nBob")
    proposal.add_attachment(
        b"%PDF-1.4 demo proposal", maintype="application", subtype="pdf", filename="proposal.pdf"
    )
    return [
        (f"inbound/demo/{tenant_id}-reply-1.eml", reply.as_bytes()),
        (f"inbound/demo/{tenant_id}-proposal-1.eml", proposal.as_bytes()),
    ]


def seed_emails(tenant_id: str) -> None:
    """Store lead 1's emails in the bucket and capture them, as the ingest function does."""
    settings = get_settings()
    if not settings.bucket_name or not settings.inbound_domain:
        return
    inbox = email_capture.Inbox(
        settings.inbound_domain, get_blob_store(), get_mail_store(), get_record_store(), get_tenant_store()
    )
    s3 = boto3.client("s3")
    for key, raw in demo_emails(tenant_id):
        s3.put_object(Bucket=settings.bucket_name, Key=key, Body=raw)
        email_capture.ingest_object(settings.bucket_name, key, len(raw), inbox)


def demo_tokens() -> list[DemoToken]:
    return [
        DemoToken(
            user.tenant_id,
            user.id,
            user.name,
            user.role,
            mint_token(
                user.id,
                user.tenant_id,
                role=user.role,
                team_id=user.team_id,
                name=user.name,
                email=user.email,
            ),
        )
        for tenant_id in USERS
        for user in demo_users(tenant_id)
    ]
