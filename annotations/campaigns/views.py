"""Campaign pages: the list, a new campaign, progress, an annotator's work, agreement and
adjudication to gold."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations.campaigns.adjudication import (
    UNITS,
    agreement,
    campaign_categories,
    campaign_units,
    decide,
)
from annotations.campaigns.campaigns import (
    CampaignError,
    campaigns_for_list,
    create_campaign,
    edit_campaign,
    mark_done,
    next_capture,
    progress,
)
from annotations.campaigns.forms import CampaignEditForm, CampaignForm
from annotations.campaigns.reports import (
    AGREEMENT_COLUMNS,
    adjudication_rows,
    agreement_record,
    kappa_chart,
)
from annotations.models import Assignment, Campaign
from policies.models import Company
from policies.permissions import can_run_campaigns, permission_required
from policies.reading.views import capture_at


@require_GET
@permission_required("annotate")
def campaign_list(request: HttpRequest) -> HttpResponse:
    context = {"campaigns": campaigns_for_list(), "can_run": can_run_campaigns(request.user)}
    return render(request, "annotations/campaigns/campaign_list.html", context)


@require_http_methods(["GET", "POST"])
@permission_required("run_campaigns")
def campaign_new(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, initial={"blind": True, "per_capture": 3})
    if request.method == "POST" and form.is_valid():
        try:
            campaign = create_campaign(
                form.spec(form.cleaned_data["slug"]), created_by=request.user
            )
        except CampaignError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Campaign “{campaign.name}” created.")
            return redirect("campaign_detail", slug=campaign.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "annotations/campaigns/campaign_new.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@permission_required("run_campaigns")
def campaign_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """Change a campaign, close or reopen it; its assignments are planned again, keeping work."""
    campaign = get_object_or_404(Campaign, slug=slug)
    form = CampaignEditForm(campaign, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            replan = edit_campaign(campaign, form.edit_spec())
        except CampaignError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Campaign “{campaign.name}” saved: {replan.added} assignment(s) added, "
                f"{replan.removed} removed; finished and begun work kept.",
            )
            return redirect("campaign_detail", slug=campaign.slug)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "campaign": campaign}
    return render(request, "annotations/campaigns/campaign_edit.html", context, status=status)


@require_GET
@permission_required("annotate")
def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    mine = Assignment.objects.filter(campaign=campaign, annotator=request.user)
    context = {
        "campaign": campaign,
        "progress": progress(campaign),
        "mine": mine.exists(),
        "next": next_capture(campaign, request.user),
        "can_run": can_run_campaigns(request.user),
    }
    return render(request, "annotations/campaigns/campaign_detail.html", context)


@require_GET
@permission_required("annotate")
def my_work(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    assignments = (
        Assignment.objects.filter(campaign=campaign, annotator=request.user)
        .select_related("snapshot__company")
        .order_by("snapshot__company__slug", "snapshot__captured_at")
    )
    context = {
        "campaign": campaign,
        "assignments": assignments,
        "next": next_capture(campaign, request.user),
    }
    return render(request, "annotations/campaigns/my_work.html", context)


@require_POST
@permission_required("annotate")
def capture_done(request: HttpRequest, slug: str, snapshot_id: int) -> HttpResponse:
    """Mark (or, with undo=1, unmark) the signed-in annotator's work on a capture as done."""
    campaign = get_object_or_404(Campaign, slug=slug, status=Campaign.Status.RUNNING)
    undo = request.POST.get("undo") == "1"
    if not mark_done(campaign, snapshot_id, request.user, done=not undo):
        raise Http404("You have no work on this capture in this campaign.")
    following = next_capture(campaign, request.user)
    if undo or following is None:
        return redirect("campaign_work", slug=campaign.slug)
    messages.success(request, "Marked done. Here is your next capture.")
    return redirect(following.get_absolute_url())


def _unit_param(request: HttpRequest) -> str:
    unit = request.GET.get("unit", "section")
    if unit not in UNITS:
        raise BadRequest(f"unit: expected section or clause (got {unit[:20]!r})")
    return unit


@require_GET
@permission_required("run_campaigns")
def campaign_agreement(request: HttpRequest, slug: str) -> HttpResponse:
    """Agreement per category, a chart of kappa, and the units annotators disagree on most."""
    campaign = get_object_or_404(Campaign, slug=slug)
    unit = _unit_param(request)
    company, category = request.GET.get("company", ""), request.GET.get("category", "")
    rows, units = agreement(campaign, unit=unit, company=company, category=category)
    names = {c.slug: c.name for c in campaign_categories(campaign)} | {"all": "All categories"}
    disputed = sorted((u for u in units if u.disputed), key=lambda u: -u.disputed)[:20]
    context = {
        "campaign": campaign,
        "unit": unit,
        "rows": [(names.get(row.category, row.category), row) for row in rows],
        "chart": kappa_chart(rows, names),
        "names": names,
        "disputed": disputed,
        "company": company,
        "category": category,
        "categories": campaign_categories(campaign),
    }
    return render(request, "annotations/campaigns/agreement.html", context)


@require_GET
@permission_required("run_campaigns")
def campaign_agreement_csv(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    unit = _unit_param(request)
    rows, _ = agreement(campaign, unit=unit)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{campaign.slug}-agreement.csv"'
    writer = csv.writer(response)
    writer.writerow(AGREEMENT_COLUMNS)
    for row in rows:
        writer.writerow(agreement_record(row, unit))
    return response


@require_http_methods(["GET", "POST"])
@permission_required("run_campaigns")
def adjudicate(request: HttpRequest, slug: str, company: str, capture: str) -> HttpResponse:
    """Each unit of one capture with each annotator's categories side by side, disagreements
    first; a curator accepts a category into gold or rejects it."""
    campaign = get_object_or_404(Campaign, slug=slug)
    snapshot = capture_at(get_object_or_404(Company, slug=company), capture)
    units = campaign_units(campaign, snapshot=snapshot)
    categories = {c.slug: c for c in campaign_categories(campaign)}
    if request.method == "POST":
        return _decide(request, campaign, units, categories)
    rows = adjudication_rows(campaign, units, categories.values())
    context = {
        "campaign": campaign,
        "snapshot": snapshot,
        "company": snapshot.company,
        "rows": [row for row in rows if row.choices],
        # Units nobody tagged are named in one line at the end, not a heading each.
        "untagged": sorted((row.unit.section for row in rows if not row.choices), key=_position),
    }
    return render(request, "annotations/campaigns/adjudicate.html", context)


def _position(section) -> int:
    return section.position


def _decide(request: HttpRequest, campaign: Campaign, units, categories) -> HttpResponse:
    # The page's buttons send "accept|reject SECTION CATEGORY" as `choice`; a form of one's
    # own may send `decision`, `section` and `category` apart.
    verdict, section_id, slug = (
        request.POST.get("choice", "").split(" ", 2) + ["", "", ""]
        if "choice" in request.POST
        else [request.POST.get(k, "") for k in ("decision", "section", "category")]
    )[:3]
    unit = next((u for u in units if str(u.section.pk) == section_id), None)
    category = categories.get(slug)
    if unit is None or category is None or verdict not in ("accept", "reject"):
        raise BadRequest("decision: choose a unit of this capture, a category and accept or reject")
    decide(campaign, unit, category, verdict == "accept", request.user)
    messages.success(
        request,
        f"{category.name} {'accepted into' if verdict == 'accept' else 'rejected from'} gold "
        f"in “{unit.section.heading or 'the preamble'}”.",
    )
    return redirect(request.get_full_path() + f"#unit-{unit.section.pk}")
