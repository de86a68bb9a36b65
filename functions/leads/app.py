"""Leads: list, create, read, update, delete (into the recycle bin), the trash and restore,
qualify, disqualify, a lead's timeline, history and duplicates, merge and its undo, and matching
companies and contacts. Routes only; the rules live in the layer."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from pydantic import BaseModel, Field, StringConstraints

from leads_shared import (
    duplicate_check,
    duplicates,
    lead_listing,
    lead_timeline,
    leads,
    matching,
    merges,
    qualify,
    recycle_bin,
)
from leads_shared.api import (
    BODY_ERRORS,
    LeadId,
    api_root,
    caller,
    cors,
    entry_point,
    require_object_body,
    responses,
    use_api_conventions,
)
from leads_shared.config import get_settings
from leads_shared.data import (
    get_directory_store,
    get_lead_store,
    get_mail_store,
    get_merge_store,
    get_record_store,
    get_trash_store,
)
from leads_shared.data.idempotency import HEADER as IDEMPOTENCY_HEADER
from leads_shared.lead_history import HistoryField
from leads_shared.lead_listing import LeadFilters
from leads_shared.list_params import takes_lead_filters
from leads_shared.models.common import BlankMeans, IdempotencyKeyText, SuccessBody
from leads_shared.models.history import HistoryPage, TimelineKindsText, TimelinePage
from leads_shared.models.leads import (
    MAX_PAGE,
    MAX_PER_PAGE,
    DuplicateConflictBody,
    DuplicatePage,
    LeadCreate,
    LeadDetail,
    LeadOut,
    LeadPage,
    LeadUpdate,
    OnDuplicate,
    RequiredSearch,
    TrashedLeadOut,
    TrashPage,
)
from leads_shared.models.merges import MergeList, MergeRequest, MergeResult, UndoResult
from leads_shared.models.records import (
    CompanyMatches,
    ContactMatches,
    DisqualifyRequest,
    QualifyRequest,
    QualifyResult,
)
from leads_shared.observability import logger, metrics, tracer

app = APIGatewayRestResolver(enable_validation=True, cors=cors())
use_api_conventions(app)

IfMatch = Annotated[
    str | None,
    BlankMeans(None),
    Header(
        alias="If-Match",
        description='The lead\'s ETag (`"3"`, `W/"3"` or `3`): the write fails with 412 if it changed.',
    ),
]
IdempotencyKey = Annotated[
    # The constraints belong to the key itself: a blank header is no key (None) and has none.
    IdempotencyKeyText | None,
    BlankMeans(None),
    Header(
        alias=IDEMPOTENCY_HEADER,
        description="Any unique string (a UUID): a retry with the same key and body returns the first "
        "answer without doing it again. Kept 24 hours.",
    ),
]
TAGS = ["Leads"]
MAX_CURSOR_CHARS = 2048
PageSize = Annotated[
    Annotated[int, Field(ge=1, le=MAX_PER_PAGE)], BlankMeans(25), Query(description="Page size.")
]
CursorText = Annotated[str, StringConstraints(max_length=MAX_CURSOR_CHARS)] | None
# The cursor of the trash, a lead's timeline and its history.
NextPageCursor = Annotated[
    CursorText,
    BlankMeans(None),
    Query(
        description="The `next_cursor` of the page before, sent with the same query: the page right "
        "after it. Another query's, altered or expired (an hour): 422."
    ),
]


OnDuplicateParam = Annotated[
    OnDuplicate,
    BlankMeans("allow"),
    Query(
        description="`allow` (default): the write goes on, and its answer says when the lead has likely "
        "duplicates (`X-Possible-Duplicates`). `reject`: a lead that would duplicate others (by the "
        "email, phone or name and company this write puts in place) is not written: 409 naming them."
    ),
]
POSSIBLE_DUPLICATES = "X-Possible-Duplicates"
DUPLICATE_HEADERS: dict[str, OpenAPIResponseHeader] = {
    POSSIBLE_DUPLICATES: {
        "description": "How many of the tenant's leads and contacts look like the same person (at most "
        "50), when any do; absent otherwise, and on a `PUT` that changed no email, phone, name or company.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 50},
    },
    "Link": {
        "description": 'With `X-Possible-Duplicates`: `</leads/{id}/duplicates>; rel="duplicates"`, '
        "the lead's duplicates with their reasons.",
        "schema": {"type": "string"},
    },
}


def checking_duplicates(
    success: tuple[int, type[BaseModel], str], *errors: int
) -> dict[int, OpenAPIResponse]:
    """The answers of a write that looks for the lead's duplicates: its success tells of them
    (headers), its 409 may name them."""
    answers = responses(success, *errors, 409, error_bodies={409: DuplicateConflictBody})
    answers[success[0]]["headers"] = DUPLICATE_HEADERS
    return answers


def _lead_response(
    lead: leads.Lead, status: int = 200, check: duplicate_check.DuplicateCheck | None = None
) -> Response[LeadOut]:
    headers = {"ETag": lead.etag}
    if check is not None and check.found:
        headers[POSSIBLE_DUPLICATES] = str(len(check.found))
        headers["Link"] = f'<{api_root(app)}/leads/{lead.id}/duplicates>; rel="duplicates"'
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=LeadOut.of(lead),
        headers=headers,
    )


@app.get("/leads", summary="List leads", tags=TAGS, responses=responses((200, LeadPage, "A page of leads.")))
@tracer.capture_method
@takes_lead_filters
def list_leads(
    filters: LeadFilters,
    page: Annotated[
        Annotated[int, Field(ge=1, le=MAX_PAGE)], BlankMeans(1), Query(description="Page number.")
    ] = 1,
    per_page: PageSize = 25,
    cursor: Annotated[
        CursorText,
        BlankMeans(None),
        Query(
            description="The `next_cursor` of the page before, sent with the same filters, scope and "
            "sort: the page right after it (no lead repeated or skipped as leads come and go; `page` "
            "is then ignored). Another query's, altered or expired (an hour): 422."
        ),
    ] = None,
) -> LeadPage:
    query = filters.query(page=page, per_page=per_page, cursor=cursor)
    result = lead_listing.list_leads(caller(app), query, get_lead_store(), get_directory_store())
    logger.info("listed leads", extra={"plan": result.plan, "total": result.total, "by_cursor": bool(cursor)})
    return LeadPage(
        data=[LeadOut.of(lead) for lead in result.leads],
        current_page=result.current_page,
        last_page=result.last_page,
        per_page=query.per_page,
        total=result.total,
        next_cursor=result.next_cursor,
        total_capped=result.total_capped,
    )


@app.post(
    "/leads",
    summary="Create lead",
    tags=TAGS,
    description="The answer tells when the tenant has leads or contacts that look like the same person "
    "(`X-Possible-Duplicates`); with `on_duplicate=reject` such a lead is not created (409 naming them).",
    responses=checking_duplicates((201, LeadOut, "The created lead (ETag: its version)."), *BODY_ERRORS),
)
@tracer.capture_method
def create_lead(
    body: Annotated[LeadCreate, Body()], on_duplicate: OnDuplicateParam = "allow"
) -> Response[LeadOut]:
    store = get_lead_store()
    check = duplicate_check.DuplicateCheck(store, on_duplicate)
    lead = leads.create_lead(caller(app), body, store, get_mail_store(), check)
    metrics.add_metric(name="LeadCreated", unit="Count", value=1)
    return _lead_response(lead, status=201, check=check)


@app.get(
    "/leads/<id>",
    summary="Get lead",
    tags=TAGS,
    description="The lead with its notes (`lead_notes`, newest first), read in one DynamoDB query. A "
    "lead merged into another answers 404 with `merged_into` (the surviving lead's id) and `merge_id`.",
    responses=responses((200, LeadDetail, "The lead (ETag: its version)."), 404),
)
@tracer.capture_method
def get_lead(id: LeadId) -> Response[LeadDetail]:
    lead, notes = leads.get_lead(caller(app), id, get_lead_store())
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=LeadDetail.with_notes(lead, notes),
        headers={"ETag": lead.etag},
    )


@app.put(
    "/leads/<id>",
    summary="Update lead",
    tags=TAGS,
    description="Fields left out keep their value; `null` clears an optional field. When the email, "
    "phone, a name or the company changes, the answer tells of the lead's likely duplicates "
    "(`X-Possible-Duplicates`); with `on_duplicate=reject` a change that makes the lead match others "
    "by what it changed is not written (409 naming them).",
    responses=checking_duplicates(
        (200, LeadOut, "The updated lead (ETag: its new version)."), *BODY_ERRORS, 404, 412
    ),
)
@tracer.capture_method
def update_lead(
    id: LeadId,
    body: Annotated[LeadUpdate, Body()],
    if_match: IfMatch = None,
    on_duplicate: OnDuplicateParam = "allow",
) -> Response[LeadOut]:
    store = get_lead_store()
    check = duplicate_check.DuplicateCheck(store, on_duplicate)
    lead = leads.update_lead(caller(app), id, body, store, get_mail_store(), if_match=if_match, check=check)
    return _lead_response(lead, check=check)


@app.delete(
    "/leads/<id>",
    summary="Delete lead",
    tags=TAGS,
    description="Into the recycle bin: the lead leaves every list, search, count and match, and can be "
    "restored (`POST /leads/{id}/restore`) with its notes, tasks and emails for 30 days. With "
    "`permanent=true` (admins only), the lead, in the trash or not, is removed for good at once.",
    responses=responses((200, SuccessBody, "The lead is deleted."), 403, 404, 412),
)
@tracer.capture_method
def delete_lead(
    id: LeadId,
    if_match: IfMatch = None,
    permanent: Annotated[
        bool,
        BlankMeans(False),
        Query(description="`true`: remove it for good, with its notes, tasks and emails (admins only)."),
    ] = False,
) -> SuccessBody:
    recycle_bin.delete_lead(
        caller(app), id, get_lead_store(), get_trash_store(), if_match=if_match, permanent=permanent
    )
    return SuccessBody()


@app.post(
    "/leads/<id>/restore",
    summary="Restore lead",
    tags=TAGS,
    description="Bring a deleted lead back from the recycle bin with its notes, tasks and emails, in "
    "every list and count again. Its deleter or an admin; a lead not in the caller's trash (live, "
    "expired, another user's for a user) is a 404. The answer tells of the live leads and contacts "
    "it duplicates (`X-Possible-Duplicates`); with `on_duplicate=reject` it stays in the trash when "
    "there are any (409 naming them).",
    responses=checking_duplicates((200, LeadOut, "The restored lead (ETag: its new version)."), 404),
)
@tracer.capture_method
def restore_lead(id: LeadId, on_duplicate: OnDuplicateParam = "allow") -> Response[LeadOut]:
    check = duplicate_check.DuplicateCheck(get_lead_store(), on_duplicate)
    lead = recycle_bin.restore_lead(
        caller(app), id, get_trash_store(), get_directory_store(), get_mail_store(), check
    )
    return _lead_response(lead, check=check)


# Static paths are declared before /leads/<id>, which would otherwise take them as an id.
@app.get(
    "/leads/trash",
    summary="List deleted leads",
    tags=TAGS,
    description="The recycle bin, newest deletion first: the leads the caller deleted (an admin: every "
    "deleted lead of the tenant), each restorable until `restorable_until`.",
    responses=responses((200, TrashPage, "A page of deleted leads.")),
)
@tracer.capture_method
def list_trash(
    limit: PageSize = 25,
    cursor: NextPageCursor = None,
) -> TrashPage:
    listing = recycle_bin.list_trash(caller(app), limit, cursor, get_trash_store(), get_settings())
    return TrashPage(
        data=[TrashedLeadOut.of_trashed(t, recycle_bin.restorable_until(t)) for t in listing.leads],
        next_cursor=listing.next_cursor,
    )


@app.get(
    "/leads/match-company",
    summary="Match lead to company",
    tags=TAGS,
    description="Companies of the tenant whose name matches, ignoring case, accents, punctuation, "
    "extra spaces and legal suffixes (Inc, LLC, Ltd, GmbH, ...): exact matches first, then names "
    "that start with it, shortest first. At most 20.",
    responses=responses((200, CompanyMatches, "Matching companies, best first.")),
)
@tracer.capture_method
def match_company(
    company: Annotated[RequiredSearch, Query(description="Company name to search.")],
) -> CompanyMatches:
    return CompanyMatches(data=matching.match_company(caller(app), company, get_record_store()))


@app.get(
    "/leads/match-contact",
    summary="Match lead to contact",
    tags=TAGS,
    description="Contacts, then leads, of the tenant with this email, ignoring case. At most 20.",
    responses=responses((200, ContactMatches, "Contacts and leads with that email.")),
)
@tracer.capture_method
def match_contact(
    email: Annotated[RequiredSearch, Query(description="Email to search.")],
) -> ContactMatches:
    return ContactMatches(data=matching.match_contact(caller(app), email, get_record_store()))


@app.post(
    "/leads/<id>/qualify",
    summary="Qualify lead",
    tags=TAGS,
    description="Convert the lead into a contact (or link `contact_id`), and optionally a company "
    "(`create_company`, or link `company_id`) and a deal, all in one transaction: all of it is "
    "written or nothing. A lead already qualified or disqualified is a 409.",
    responses=responses((200, QualifyResult, "The lead is qualified."), *BODY_ERRORS, 404, 409),
)
@tracer.capture_method
def qualify_lead(
    id: LeadId,
    body: Annotated[QualifyRequest | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> QualifyResult:
    principal = caller(app)
    require_object_body(app)
    return qualify.qualify_once(
        principal,
        id,
        body or QualifyRequest(),
        idempotency_key,
        get_lead_store(),
        get_record_store(),
        get_directory_store(),
        app.lambda_context,
    )


@app.put(
    "/leads/<id>/disqualify",
    summary="Disqualify lead",
    tags=TAGS,
    description="Status `disqualified`, with the reason and time kept on the lead. A qualified lead "
    "is a 409; a disqualified one gets the new reason.",
    responses=responses(
        (200, LeadOut, "The disqualified lead (ETag: its new version)."), *BODY_ERRORS, 404, 409
    ),
)
@tracer.capture_method
def disqualify_lead(
    id: LeadId, body: Annotated[DisqualifyRequest | None, Body()] = None
) -> Response[LeadOut]:
    require_object_body(app)
    data = body or DisqualifyRequest()
    return _lead_response(qualify.disqualify_lead(caller(app), id, data, get_lead_store()))


@app.get(
    "/leads/<id>/timeline",
    summary="Lead timeline",
    tags=TAGS,
    description="Everything that happened to the lead, newest first: its changes (who, when, each "
    "field's old and new value), web form submissions, notes, tasks (created, completed) and linked "
    "emails. Read in one DynamoDB query of the lead's partition.",
    responses=responses((200, TimelinePage, "A page of the lead's timeline."), 404),
)
@tracer.capture_method
def lead_timeline_page(
    id: LeadId,
    kind: Annotated[
        TimelineKindsText | None,
        BlankMeans(None),
        Query(description="Only these kinds, comma-separated: change, note, task, email, form."),
    ] = None,
    limit: PageSize = 25,
    cursor: NextPageCursor = None,
) -> TimelinePage:
    kinds = lead_timeline.parse_kinds(kind)
    page = lead_timeline.timeline(caller(app), id, kinds, limit, cursor, get_lead_store(), get_settings())
    return TimelinePage(data=page.data, next_cursor=page.next_cursor)


@app.get(
    "/leads/<id>/history",
    summary="Lead history",
    tags=TAGS,
    description="The lead's changes, newest first: who made each (a user, an import, a web form, "
    "a merge, the system), when, and each changed field's old and new value; with `field`, only "
    "the changes of that field. Kept two years.",
    responses=responses((200, HistoryPage, "A page of the lead's changes."), 404),
)
@tracer.capture_method
def lead_history_page(
    id: LeadId,
    field: Annotated[
        HistoryField | None,
        BlankMeans(None),
        Query(description="Only the changes of this lead field (`status`, ...)."),
    ] = None,
    limit: PageSize = 25,
    cursor: NextPageCursor = None,
) -> HistoryPage:
    page = lead_timeline.field_history(
        caller(app), id, field, limit, cursor, get_lead_store(), get_settings()
    )
    return HistoryPage(data=page.data, next_cursor=page.next_cursor)


@app.get(
    "/leads/<id>/duplicates",
    summary="Lead duplicates",
    tags=TAGS,
    description="The tenant's leads, and contacts, that look like the same person, best first: the "
    "same email (ignoring case), the same phone (its digits, country code as typed), or the same first "
    "and last name and company (ignoring case, accents, punctuation and legal suffixes), each with "
    "its reasons and a score (email 60, phone 30, name and company 25, at most 100; ties by id). At "
    "most 50; leads in the recycle bin are not duplicates. Found through indexes.",
    responses=responses((200, DuplicatePage, "The lead's likely duplicates, best first."), 404),
)
@tracer.capture_method
def lead_duplicates(id: LeadId) -> DuplicatePage:
    found = duplicates.find_duplicates(caller(app), id, get_lead_store())
    return DuplicatePage(data=found, total=len(found))


MergeIdPath = Annotated[
    str,
    Path(max_length=40, pattern=r"^[0-9]+-[0-9]+$", description="The merge's id (`merge_id`: `7-3`)."),
]


@app.post(
    "/leads/<id>/merge",
    summary="Merge leads",
    tags=TAGS,
    description="Merge 1 to 3 other leads (`merge_ids`) into this one: it takes the values `fields` "
    "chooses (default: its own, else the first non-empty of the others) and their notes, tasks and "
    "email links; the others answer 404 with `merged_into` from then on. All of it happens, even "
    "when interrupted: a retry (or any merge or undo naming these leads) finishes it. A qualified "
    "lead cannot be merged away (409); two merges of the same leads at once: one is a 409. "
    "`dry_run`: what would happen, nothing written. Undo within 30 days.",
    responses=responses((200, MergeResult, "The merge (or what it would do)."), *BODY_ERRORS, 404, 409),
)
@tracer.capture_method
def merge_leads(
    id: LeadId,
    body: Annotated[MergeRequest, Body()],
    idempotency_key: IdempotencyKey = None,
) -> MergeResult:
    result = merges.merge_once(caller(app), id, body, idempotency_key, get_merge_store(), app.lambda_context)
    if not result.dry_run:
        metrics.add_metric(name="LeadsMerged", unit="Count", value=len(result.merged_ids))
    return result


@app.get(
    "/leads/<id>/merges",
    summary="Lead merges",
    tags=TAGS,
    description="The merges into this lead, newest first: each one's `merge_id` (what an undo "
    "names), the leads merged, what moved, and its state.",
    responses=responses((200, MergeList, "The lead's merges."), 404),
)
@tracer.capture_method
def lead_merges(id: LeadId) -> MergeList:
    return merges.list_merges(caller(app), id, get_merge_store())


@app.post(
    "/leads/<id>/merges/<merge_id>/undo",
    summary="Undo merge",
    tags=TAGS,
    description="Within 30 days of a merge: the merged leads come back with their own values, notes, "
    "tasks and emails, and this lead gets its values from before the merge back, except fields "
    "changed since (their newer value is kept: `kept` names them). Undone already, or too late: 409.",
    responses=responses((200, UndoResult, "The merge is undone."), 404, 409),
)
@tracer.capture_method
def undo_merge(id: LeadId, merge_id: MergeIdPath) -> UndoResult:
    return merges.undo_merge(caller(app), id, merge_id, get_merge_store(), get_mail_store())


lambda_handler = entry_point(app)
