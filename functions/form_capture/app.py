"""The public side of lead forms (no token): a form's hosted page, its embed script, the posts it
receives, and the browsers' CORS preflight. Routes only; the rules live in the layer
(``form_capture``, ``form_posts``, ``form_spam``, ``form_pages``).

Only the origins a form allows get CORS headers, on its answers and its preflight; API Gateway's
own preflight answer is not used on these paths (template.yaml declares their OPTIONS method).
"""

import time
from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path

from leads_shared.api import (
    NO_AUTH,
    document_public_routes,
    entry_point,
    metered,
    page_answer,
    public_responses,
    use_api_conventions,
)
from leads_shared.config import get_settings
from leads_shared.data import (
    get_activity_store,
    get_capture_store,
    get_form_store,
    get_lead_store,
    get_mail_store,
    get_record_store,
    get_secret_store,
)
from leads_shared.errors import DomainError, ValidationFailed
from leads_shared.form_capture import UTM, CaptureStores, allows_origin, capture, check_rate, find_form
from leads_shared.form_pages import embed_script, form_page, thank_you_page
from leads_shared.form_posts import Post, Visit, read_post
from leads_shared.form_spam import issue_token
from leads_shared.http_errors import error_response
from leads_shared.models.forms import CaptureAnswer, LeadForm
from leads_shared.observability import metrics, tracer

app = APIGatewayRestResolver(enable_validation=True)
use_api_conventions(app, public=True)
document_public_routes(app)
app.use(middlewares=[metered])

TAGS = ["Public lead forms"]
FormKey = Annotated[str, Path(max_length=64, description="The form's public key.")]
HTML = "text/html; charset=utf-8"
PREFLIGHT_MAX_AGE = "600"


@lru_cache(maxsize=1)
def stores() -> CaptureStores:
    return CaptureStores(
        forms=get_form_store(),
        capture=get_capture_store(),
        leads=get_lead_store(),
        mail=get_mail_store(),
        records=get_record_store(),
        activities=get_activity_store(),
        secrets=get_secret_store(),
    )


def _cors(form: LeadForm, response: Response, preflight: bool = False) -> Response:
    """The CORS headers for the request's Origin, when the form allows it (none otherwise)."""
    origin = app.current_event.headers.get("Origin")
    response.headers["Vary"] = "Origin"
    if allows_origin(form, origin):
        response.headers["Access-Control-Allow-Origin"] = (origin or "").strip()
        if preflight:
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def _visit() -> Visit:
    event = app.current_event
    return Visit(
        ip=event.request_context.identity.source_ip,
        user_agent=event.headers.get("User-Agent"),
        referer=event.headers.get("Referer"),
    )


def _html(status: int, html: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=HTML,
        body=html,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _carried() -> dict[str, str]:
    """What the hosted page carries into its post: the UTM tags it was opened with, and the page
    the visitor came from."""
    query = app.current_event.query_string_parameters or {}
    carried = {name: query[name][:255] for name in UTM if query.get(name)}
    referer = app.current_event.headers.get("Referer")
    if referer:
        carried["referrer"] = referer[:2000]
    return carried


@app.get(
    "/f/<form_key>",
    summary="A lead form's hosted page",
    tags=TAGS,
    description="No token. An accessible HTML page of the form, posting to its own URL; link to it "
    "or put it in an iframe. `utm_*` query parameters are carried into the submission.",
    responses=public_responses({200: page_answer("The form's page.")}, 404),
    security=NO_AUTH,
)
@tracer.capture_method
def hosted_page(form_key: FormKey) -> Response[str]:
    form = find_form(form_key, get_form_store())
    return _html(200, form_page(form, issue_token(form, time.time()), _carried()))


@app.get(
    "/f/<form_key>/embed.js",
    summary="A lead form's embed script",
    tags=TAGS,
    description="No token. A script that renders the form into the page that loads it (into the "
    "element named by its `data-target`, else where the script is) and posts it with `fetch` "
    "(the page's origin must be one of the form's `allowed_origins`).",
    responses=public_responses({200: page_answer("The script.", "application/javascript")}, 404),
    security=NO_AUTH,
)
@tracer.capture_method
def embed(form_key: FormKey) -> Response[str]:
    form = find_form(form_key, get_form_store())
    return _cors(
        form,
        Response(
            status_code=200,
            content_type="application/javascript; charset=utf-8",
            body=embed_script(form, issue_token(form, time.time())),
            headers={"Cache-Control": "no-store"},
        ),
    )


@app.post(
    "/f/<form_key>",
    summary="Submit a lead form",
    tags=TAGS,
    description="No token. JSON (answers 201 JSON), or a browser's form post, urlencoded or "
    "multipart (answers 303 to the form's `redirect_url`, or a thank-you page; a post with invalid "
    "fields gets the page again with the messages, 422). Fields: the form's fields by lead field "
    "name, `_ts` (the time token of the page or script), `submission_id` (the same one again: the "
    "same answer, one lead), `page_url`, `referrer`, `utm_source`/`medium`/`campaign`/`term`/"
    "`content`, the CAPTCHA's answer (`captcha_token` or the widget's field). The same values "
    "within 10 minutes are one submission. Spam is answered as a success. At most 64 KB, 4 KB a "
    "field; over the form's rate limits: 429 with `Retry-After`.",
    responses=public_responses(
        {
            200: page_answer("A browser's post: the thank-you page."),
            303: {"description": "A browser's post: to the form's redirect URL."},
        },
        400,
        404,
        409,
        413,
        415,
        422,
        429,
        json_success=[(201, CaptureAnswer, "Received (also for a repeat: the first answer).")],
    ),
    security=NO_AUTH,
)
@tracer.capture_method
def submit(form_key: FormKey) -> Response[Any]:  # JSON, a page or a redirect
    form = find_form(form_key, get_form_store())
    event = app.current_event
    post: Post | None = None
    try:
        visit = _visit()
        check_rate(form, visit.ip, get_capture_store(), time.time())
        post = read_post(event.body, bool(event.is_base64_encoded), event.headers.get("Content-Type"))
        answer = capture(form, post, visit, stores(), get_settings())
    except ValidationFailed as invalid:
        if post is None or not post.browser:
            return _cors(form, error_response(invalid))
        page = form_page(form, issue_token(form, time.time()), values=post.values, problems=invalid.errors)
        return _html(422, page)
    except DomainError as error:
        return _cors(form, error_response(error))
    metrics.add_metric(name="FormSubmissionReceived", unit="Count", value=1)
    if not post.browser:
        return _cors(
            form, Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=answer)
        )
    if answer.redirect_url:
        return Response(status_code=303, headers={"Location": answer.redirect_url})
    return _html(200, thank_you_page(form, answer.message))


@app.route(
    "/f/<form_key>",
    method="OPTIONS",
    summary="A lead form's CORS preflight",
    tags=TAGS,
    description="No token. Browsers ask before a cross-origin JSON post: the form's "
    "`allowed_origins` get the CORS headers, other origins none (the browser then refuses the post).",
    responses=public_responses(
        {204: {"description": "Answered (with CORS headers for an allowed origin)."}}, 404
    ),
    security=NO_AUTH,
)
def preflight(form_key: FormKey) -> Response[str]:
    """The browsers' CORS preflight of a cross-origin post: allowed for the form's origins only."""
    form = find_form(form_key, get_form_store())
    return _cors(form, Response(status_code=204, body=""), preflight=True)


lambda_handler = entry_point(app)
