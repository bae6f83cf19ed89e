"""`/api/v1/`: the read-only JSON API on django-ninja, a thin adapter over the modules that do
the work (history, reader, comparison, export filters, search). Schema at
`/api/v1/openapi.json`, docs at `/api/v1/docs`.

Errors are JSON `{"message": ..., "parameter": ...}`: 400 for a parameter that cannot be
understood (named), 401 for a bad token, 403 without the role, 404, 429 with Retry-After.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Query, Status
from ninja.errors import HttpError, Throttled, ValidationError
from ninja.security import HttpBearer

import policies.urls  # noqa: F401 -- registers the "company" path converter used below
from annotations.campaigns.adjudication import UNITS, agreement, campaign_categories
from annotations.campaigns.agreement import ALL
from annotations.exports.export import ExportFilters, csv_rows_of
from annotations.models import Annotation, Campaign
from api import records, schemas
from api.access import Caller, PerCallerRate, Unauthorized, authenticate
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from policies.comparing.comparison import compare_texts
from policies.filters import FilterError, parse_period
from policies.models import Company, Domain, Snapshot
from policies.permissions import can_export, can_run_campaigns
from policies.reading.reader import rendered_sections
from policies.searching.search import SearchFilters, search_sections
from policies.trends.trends import MAX_QUERIES, TrendFilters, corpus_trends
from policies.urls import CAPTURE


class BearerToken(HttpBearer):
    """Publishes the bearer scheme in the schema; `access.authenticate` decides."""

    def __call__(self, request: HttpRequest) -> Caller:
        return authenticate(request)

    def authenticate(self, request: HttpRequest, token: str) -> Caller:  # pragma: no cover
        return authenticate(request)


api = NinjaAPI(
    title="Palimpsest API",
    version="1",
    description=(
        "Read-only access to archived privacy policies, their changes, tags and search. "
        "Reading is public (unless the site asks readers to sign in); tags need the Researcher "
        "or Curator role. Send a personal token from your account page as "
        "`Authorization: Bearer <token>`. Lists are paged by `cursor` (from `next_cursor`)."
    ),
    urls_namespace="api",
    auth=BearerToken(),
    throttle=[PerCallerRate()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)

ERRORS = {400: schemas.Problem, 401: schemas.Problem, 404: schemas.Problem, 429: schemas.Problem}
Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"rows per page, 1 to {MAX_LIMIT}")
Cursor = Query("", description="`next_cursor` of the previous page")


def _problem(request, status: int, message: str, parameter: str | None = None, **extra):
    body = {"message": message, "parameter": parameter, **extra}
    return api.create_response(request, body, status=status)


@api.exception_handler(FilterError)
def _bad_filter(request: HttpRequest, exc: FilterError) -> HttpResponse:
    return _problem(request, 400, str(exc), exc.parameter)


@api.exception_handler(ValidationError)
def _bad_parameter(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    error = exc.errors[0]
    name = str(error.get("loc", ["", "?"])[-1])
    return _problem(request, 400, f"{name}: {error.get('msg', 'invalid')}", name)


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    limit = settings.API_RATE_LIMIT
    return _problem(request, 429, f"Too many requests: at most {limit} a minute; see Retry-After.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    response = _problem(request, exc.status_code, str(exc))
    if exc.status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="palimpsest"'
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _problem(request, 404, str(exc) or "Not found.")


def _company(slug: str) -> Company:
    return get_object_or_404(Company.objects.prefetch_related("domains"), slug=slug)


def _captures():
    return Snapshot.objects.with_previous().select_related("company", "domain", "text")


@api.get("/companies", response={200: schemas.CompanyPage, **ERRORS}, url_name="companies")
def companies(
    request: HttpRequest,
    q: str = Query("", max_length=200, description="part of a name or domain"),
    domain: str = Query("", max_length=253, description="a domain, exactly"),
    cursor: str = Cursor,
    limit: int = Limit,
):
    """Companies by name, with their domains and capture statistics."""
    found = Company.objects.prefetch_related("domains")
    if q.strip():
        named = Domain.objects.filter(name__icontains=q.strip()).values("company_id")
        found = found.filter(Q(name__icontains=q.strip()) | Q(pk__in=named))
    if domain.strip():
        found = found.filter(domains__name=domain.strip().lower())
    page = paginate(found, ("name", "slug"), cursor, limit)
    return page.as_json(request, [records.company_record(request, c) for c in page.items])


@api.get("/companies/{company:slug}", response={200: schemas.Company, **ERRORS}, url_name="company")
def company(request: HttpRequest, slug: str):
    """One company; its captures are at `captures_url`."""
    return records.company_record(request, _company(slug))


@api.get(
    "/companies/{company:slug}/captures",
    response={200: schemas.CapturePage, **ERRORS},
    url_name="company_captures",
)
def company_captures(request: HttpRequest, slug: str, cursor: str = Cursor, limit: int = Limit):
    """A company's captures, oldest first, each with the change since the previous one."""
    found = _captures().filter(company__slug=slug).defer("text__body")
    page = paginate(found, ("captured_at",), cursor, limit)
    if not page.items:  # the company is looked up only when there is nothing to show
        _company(slug)
    return page.as_json(request, records.capture_records(request, page.items))


def _with_sections(request: HttpRequest, snapshot: Snapshot, html: bool) -> dict:
    record = records.capture_records(request, [snapshot])[0]
    sections = rendered_sections(snapshot.text) if html else list(snapshot.sections)
    return {**record, "sections": records.section_records(sections, html=html)}


@api.get(
    "/companies/{company:slug}/policy",
    response={**ERRORS, 200: schemas.Policy, 404: schemas.PolicyNotFound},
    url_name="policy",
)
def policy(
    request: HttpRequest,
    slug: str,
    at: str = Query("", description="a day (YYYY-MM-DD; also YYYY-MM or YYYY); default today"),
    html: bool = Query(False, description="include each section's HTML"),
):
    """The capture in force at the end of day `at`: the latest captured on or before it."""
    company = _company(slug)
    end = parse_period(at, "at")[1] if at else datetime.now(UTC)
    snapshot = _captures().filter(company=company).in_force_at(end)
    if snapshot is None:
        first = company.first_capture.date() if company.first_capture else None
        message = f"{company.slug} has no capture on or before {at or 'today'}"
        message += f"; its first is {first}." if first else "; it has no captures."
        return Status(404, {"message": message, "parameter": "at", "first_capture": first})
    # The last day the answer covers (`at` may name a month or a year).
    day = (end - timedelta(days=1)).date() if at else end.date()
    return {**_with_sections(request, snapshot, html), "at": day}


def _capture_at(company: Company, token: str, parameter: str) -> Snapshot:
    if not re.fullmatch(CAPTURE, token):
        raise FilterError(f"{parameter}: a 14-digit timestamp or a date YYYY-MM-DD")
    found = _captures().filter(company=company).at_capture(token).order_by("captured_at").last()
    if found is None:
        raise Http404(f"{company.slug} has no capture at {token}")
    return found


@api.get(
    "/companies/{company:slug}/captures/{capture}",
    response={200: schemas.CaptureWithSections, **ERRORS},
    url_name="capture",
)
def capture(
    request: HttpRequest,
    slug: str,
    capture: str,
    html: bool = Query(False, description="include each section's HTML"),
):
    """One capture (a 14-digit timestamp, or a date: that day's last) with its sections."""
    snapshot = _capture_at(_company(slug), capture, "capture")
    return _with_sections(request, snapshot, html)


@api.get(
    "/companies/{company:slug}/compare/{old}/{new}",
    response={200: schemas.Comparison, **ERRORS},
    url_name="comparison",
)
def comparison(request: HttpRequest, slug: str, old: str, new: str):
    """Two captures aligned section by section, with word-level operations (the compare
    page's engine): each row's parts are equal/delete (old) and equal/insert (new)."""
    company = _company(slug)
    older, newer = _capture_at(company, old, "old"), _capture_at(company, new, "new")
    result = records.comparison_record(compare_texts(older.text, newer.text))
    old_record, new_record = records.capture_records(request, [older, newer])
    return {**result, "old": old_record, "new": new_record}


@api.get("/tags", response={**ERRORS, 200: schemas.TagPage, 403: schemas.Problem}, url_name="tags")
def tags(
    request: HttpRequest,
    company: list[str] = Query(None, description="slugs (repeatable or comma-separated)"),
    domain: list[str] = Query(None),
    category: list[str] = Query(None),
    status: list[str] = Query(None, description="active|pending|dismissed|merged|any"),
    annotator: str = Query(""),
    date_from: str = Query("", alias="from", description="capture date: day, month or year"),
    date_to: str = Query("", alias="to"),
    origin: str = Query("", description="original|carried"),
    latest: bool = Query(False),
    campaign: str = Query(""),
    layer: str = Query("", description="gold|annotators|all"),
    cursor: str = Cursor,
    limit: int = Limit,
):
    """Tags with the export's filters and the CSV's columns (raw text), in id order."""
    user = request.auth.user
    if not user.is_authenticated:
        raise Unauthorized("Tags need a token (or a session) of a Researcher or Curator.")
    if not can_export(user):
        return Status(403, {"message": "Tags need the Researcher or Curator role."})
    # The declared parameters document the filters; the export's parser reads them.
    filters = ExportFilters.from_params(request.GET, running_campaigns=can_run_campaigns(user))
    # The export's rule (running campaigns' annotator tags for curators only) and the site's
    # rule for what a user may see of tags, which agree for everyone who may export.
    # The page's ids, then their columns: PostgreSQL plans the two in 12 ms of CPU at 100,000
    # tags, the filters and the eight tables of the columns in one statement in 17.
    visible = Annotation.objects.visible_to(user).filter(filters.q()).values_list("pk", flat=True)
    page = paginate(visible, ("pk",), cursor, limit, key=lambda pk: [pk])
    rows = csv_rows_of(page.items, raw=True)
    return page.as_json(request, [records.tag_record(row) for row in rows])


@api.get("/search", response={200: schemas.SearchResults, **ERRORS}, url_name="search")
def search(
    request: HttpRequest,
    q: str = Query("", description='words, "a phrase", -excluded, or'),
    company: list[str] = Query(None),
    date_from: str = Query("", alias="from"),
    date_to: str = Query("", alias="to"),
    category: str = Query(""),
    latest: bool = Query(False),
):
    """The site's search: section wordings per company, best first (at most 50)."""
    if not q.strip():
        raise FilterError("q: give one or more words to search for")
    results = search_sections(q, SearchFilters.from_params(request.GET))
    return records.search_record(request, results)


@api.get("/trends", response={200: schemas.Trends, **ERRORS}, url_name="trends")
def trends(
    request: HttpRequest,
    company: list[str] = Query(None, description="slugs (repeatable or comma-separated)"),
    date_from: str = Query("", alias="from", description="the half-year holding this day"),
    date_to: str = Query("", alias="to"),
    q: list[str] = Query(None, description=f"search queries (repeatable, at most {MAX_QUERIES})"),
):
    """Per half-year (2016-A: January-June): captures, companies, the quartiles of the
    policies' word counts (a company's policy in a half-year is its latest capture in it),
    the share of policies matching each query (the site's search), and the share of tagged
    policies carrying each category (gold where adjudicated). The trends page's figures."""
    # The declared parameters document the filters; the page's parser reads them.
    return records.trends_record(request, corpus_trends(TrendFilters.from_params(request.GET)))


@api.get(
    "/campaigns/{slug}/agreement",
    response={**ERRORS, 200: schemas.Agreement, 403: schemas.Problem},
    url_name="campaign_agreement",
)
def campaign_agreement(
    request: HttpRequest,
    slug: str,
    unit: str = Query("section", description="section|clause"),
    company: str = Query("", description="one company's units only (a slug)"),
    category: str = Query("", description="one category only (a slug)"),
):
    """Agreement between a campaign's annotators per category and for all (Fleiss' kappa,
    Krippendorff's alpha, percent agreement): the campaign's agreement page, as JSON. Needs
    the Curator role, as the page does."""
    user = request.auth.user
    if not user.is_authenticated:
        raise Unauthorized("Agreement needs a token (or a session) of a Curator.")
    if not can_run_campaigns(user):
        return Status(403, {"message": "Agreement figures need the Curator role."})
    if unit not in UNITS:
        raise FilterError(f"unit: expected {' or '.join(UNITS)} (got {unit[:20]!r})")
    campaign = get_object_or_404(Campaign, slug=slug)
    rows, _ = agreement(campaign, unit=unit, company=company, category=category)
    names = {c.slug: c.name for c in campaign_categories(campaign)} | {ALL: "All categories"}
    return records.agreement_figures(request, campaign, unit, rows, names)
