"""Campaigns: sharing captures out, annotators' work, and who sees campaign tags while it runs."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from annotations.campaigns.campaigns import (
    CampaignError,
    CampaignSpec,
    create_campaign,
    mark_done,
    plan_assignments,
)
from annotations.models import Assignment, Campaign
from annotations.tests.factories import make_user, tag_text
from policies.permissions import CURATOR, RESEARCHER, REVIEWER
from policies.tests.factories import make_company, make_snapshot

BODY = (
    "# Privacy\n\nWe collect your email address.\n\n## Sharing\n\nWe share it with advertisers.\n"
)

pytestmark = pytest.mark.django_db


def test_plan_gives_each_capture_n_different_annotators_and_loads_differ_by_one():
    pairs = plan_assignments(list(range(10)), [1, 2, 3, 4], 3)

    per_capture = {s: {a for c, a in pairs if c == s} for s in range(10)}
    assert all(len(people) == 3 for people in per_capture.values())
    loads = [sum(1 for _, a in pairs if a == annotator) for annotator in (1, 2, 3, 4)]
    assert sorted(loads) == [7, 7, 8, 8]


def test_plan_refuses_more_annotators_per_capture_than_named():
    with pytest.raises(CampaignError, match="per capture"):
        plan_assignments([1], [1, 2], 3)


@pytest.fixture
def study():
    company = make_company(slug="acme.example")
    captures = [
        make_snapshot(company, captured_at=datetime(2015 + n, 1, 1, tzinfo=UTC), body=BODY)
        for n in range(3)
    ]
    rita, rosa = make_user("rita", REVIEWER), make_user("rosa", REVIEWER)
    campaign = create_campaign(
        CampaignSpec(
            slug="study",
            annotators=["rita", "rosa"],
            companies=["acme.example"],
            captured_from=datetime(2016, 1, 1, tzinfo=UTC),
            per_capture=2,
        )
    )
    return campaign, captures, rita, rosa


def test_create_campaign_selects_captures_by_company_and_date(study):
    campaign, captures, _, _ = study
    assigned = set(Assignment.objects.filter(campaign=campaign).values_list("snapshot", flat=True))
    assert assigned == {captures[1].pk, captures[2].pk}
    assert Assignment.objects.filter(campaign=campaign).count() == 4
    assert campaign.blind


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"annotators": ["nobody"], "companies": ["acme.example"]}, "annotators"),
        ({"annotators": ["rita"], "companies": ["nowhere.example"]}, "companies"),
        (
            {"annotators": ["rita"], "companies": ["acme.example"], "categories": ["x"]},
            "categories",
        ),
    ],
)
def test_a_bad_campaign_names_the_field(study, spec, field):
    with pytest.raises(CampaignError, match=f"^{field}:"):
        create_campaign(CampaignSpec(slug="other", per_capture=1, **spec))
    assert not Campaign.objects.filter(slug="other").exists()


def test_command_creates_an_open_campaign_and_reports_bad_input(study):
    out = StringIO()
    call_command(
        "create_campaign",
        "open-one",
        "--annotators",
        "rita,rosa",
        "--companies",
        "acme.example",
        "--per-capture",
        "1",
        "--open",
        stdout=out,
    )
    assert "3 capture(s), 1 annotator(s) each, open" in out.getvalue()
    assert not Campaign.objects.get(slug="open-one").blind
    with pytest.raises(CommandError, match="--from"):
        call_command("create_campaign", "x", "--annotators", "rita", "--from", "20xx")


def _tag_ids_seen(user, snapshot) -> set[int]:
    import re

    client = Client()
    if user is not None:
        client.force_login(user)
    html = client.get(snapshot.get_absolute_url()).content.decode()
    return {int(n) for n in re.findall(r'id="tag-(\d+)"', html)}


def test_blind_campaign_tags_are_seen_by_their_author_and_curators_only(study):
    campaign, captures, rita, rosa = study
    capture = captures[1]
    mine = tag_text(capture, "advertisers", rita, slug="third-party-sharing-collection")
    theirs = tag_text(capture, "email address", rosa, slug="first-party-collection-use")
    assert mine.campaign == theirs.campaign == campaign
    outsider = make_user("otto", REVIEWER)
    curator = make_user("cora", CURATOR)

    assert _tag_ids_seen(None, capture) == set()
    assert _tag_ids_seen(outsider, capture) == set()
    assert _tag_ids_seen(rita, capture) == {mine.pk}
    assert _tag_ids_seen(rosa, capture) == {theirs.pk}
    assert _tag_ids_seen(curator, capture) == {mine.pk, theirs.pk}


def test_after_marking_done_an_annotator_sees_the_others(study):
    campaign, captures, rita, rosa = study
    capture = captures[1]
    mine = tag_text(capture, "advertisers", rita, slug="third-party-sharing-collection")
    theirs = tag_text(capture, "email address", rosa, slug="first-party-collection-use")

    assert mark_done(campaign, capture.pk, rita)

    assert _tag_ids_seen(rita, capture) == {mine.pk, theirs.pk}
    assert _tag_ids_seen(rosa, capture) == {theirs.pk}


def test_closing_the_campaign_shows_its_tags_to_everyone(study):
    campaign, captures, rita, _ = study
    tag = tag_text(captures[1], "advertisers", rita, slug="third-party-sharing-collection")
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CLOSED)

    assert tag.pk in _tag_ids_seen(None, captures[1])


def test_tags_outside_campaigns_are_seen_as_before(study):
    _, captures, _, _ = study
    tag = tag_text(captures[0], "advertisers", make_user("otto", REVIEWER))
    assert tag.campaign is None
    assert _tag_ids_seen(None, captures[0]) >= {tag.pk}


def test_running_campaign_tags_stay_out_of_search_filters(study):
    _, captures, rita, _ = study
    tag_text(captures[1], "advertisers", rita, slug="third-party-sharing-collection")
    from policies.extensions import overlay

    assert overlay().tagged_captures("third-party-sharing-collection") == []


def test_mark_done_takes_the_annotator_to_the_next_capture(client, study):
    campaign, captures, rita, _ = study
    client.force_login(rita)
    work = client.get(reverse("campaign_work", args=[campaign.slug])).content.decode()
    assert captures[1].get_absolute_url() in work

    response = client.post(reverse("campaign_capture_done", args=[campaign.slug, captures[1].pk]))

    assert response.status_code == 302
    assert response.url == captures[2].get_absolute_url()
    page = client.get(captures[2].get_absolute_url()).content.decode()
    assert 'id="campaign-bar"' in page


def test_curator_creates_a_campaign_in_the_browser(client, study):
    client.force_login(make_user("cora", CURATOR))
    company = study[1][0].company
    response = client.post(
        reverse("campaign_new"),
        {
            "slug": "web-study",
            "name": "Web study",
            "annotators": [study[2].pk, study[3].pk],
            "companies": [company.pk],
            "captured_from": "",
            "captured_to": "2016",
            "per_capture": 2,
            "blind": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get(slug="web-study")
    assert Assignment.objects.filter(campaign=campaign).count() == 4
    assert (
        company.name in client.get(reverse("campaign_detail", args=["web-study"])).content.decode()
    )


@pytest.mark.parametrize("extra", [0, 6])
def test_campaign_pages_query_count_is_flat(client, django_assert_num_queries, study, extra):
    campaign, _, rita, _ = study
    company = make_company(slug="more.example")
    for n in range(extra):
        make_snapshot(company, captured_at=datetime(2010 + n, 1, 1, tzinfo=UTC), body=BODY)
    if extra:
        create_campaign(
            CampaignSpec(slug="more", annotators=["rita"], companies=[company.slug], per_capture=1)
        )
    client.force_login(rita)
    # session, user, groups, the campaigns with their counts, the review count for the header
    with django_assert_num_queries(5):
        assert client.get(reverse("campaign_list")).status_code == 200
    # session, user, groups, the campaign, the assignments with captures and annotators, does
    # the user have work here, the next capture, the review count for the header
    with django_assert_num_queries(8):
        assert client.get(reverse("campaign_detail", args=["study"])).status_code == 200


def test_plan_keeps_work_in_place_and_gives_new_work_to_the_least_loaded():
    kept = [(1, 10), (1, 11), (2, 10)]

    pairs = plan_assignments([1, 2, 3], [10, 11, 12], 2, kept)

    assert (1, 10) not in pairs
    assert (2, 10) not in pairs
    per_capture = {s: {a for c, a in kept + pairs if c == s} for s in (1, 2, 3)}
    assert per_capture[1] == {10, 11}
    assert len(per_capture[2]) == len(per_capture[3]) == 2
    loads = [sum(1 for _, a in kept + pairs if a == annotator) for annotator in (10, 11, 12)]
    assert sorted(loads) == [2, 2, 2]


def _edit_form(campaign, **changes) -> dict:
    """The edit form as the page fills it in, with `changes`."""
    data = {
        "name": campaign.name,
        "description": campaign.description,
        "instructions": campaign.instructions,
        "status": campaign.status,
        "annotators": [u.pk for u in campaign.annotators.all()],
        "per_capture": campaign.per_capture,
        "rule": campaign.rule,
        "captures": list(campaign.assignments.values_list("snapshot_id", flat=True).distinct()),
        "captured_from": "",
        "captured_to": "",
    }
    if campaign.blind:
        data["blind"] = "on"
    data.update(changes)
    return data


def _assigned(campaign) -> set[tuple[int, str]]:
    return set(campaign.assignments.values_list("snapshot_id", "annotator__username"))


def test_curator_reaches_the_edit_page_from_the_campaign_page(client, study):
    campaign = study[0]
    detail = reverse("campaign_detail", args=[campaign.slug])
    edit = reverse("campaign_edit", args=[campaign.slug])
    client.force_login(study[2])
    assert edit not in client.get(detail).content.decode()  # an annotator: no edit link
    assert client.get(edit).status_code == 403
    assert client.post(edit, _edit_form(campaign, name="Hijacked")).status_code == 403

    client.force_login(make_user("cora", CURATOR))
    assert f'href="{edit}"' in client.get(detail).content.decode()
    page = client.get(edit).content.decode()
    assert 'value="running"' in page
    assert "Captures to keep" in page

    campaign.refresh_from_db()
    assert campaign.name != "Hijacked"


def test_anonymous_visitors_are_sent_to_sign_in_and_nothing_changes(study):
    campaign = study[0]
    response = Client().post(
        reverse("campaign_edit", args=[campaign.slug]), _edit_form(campaign, status="closed")
    )
    assert response.status_code == 302
    assert "/accounts/login/" in response.url
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING


def test_editing_the_text_fields_and_closing_opens_the_tags_and_exports(client, study):
    campaign, captures, rita, _ = study
    tag = tag_text(captures[1], "advertisers", rita, slug="third-party-sharing-collection")
    before = _assigned(campaign)
    client.force_login(make_user("cora", CURATOR))

    response = client.post(
        reverse("campaign_edit", args=[campaign.slug]),
        _edit_form(campaign, name="Renamed", instructions="Tag sharing.", status="closed"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    campaign.refresh_from_db()
    assert (campaign.name, campaign.instructions, campaign.status) == (
        "Renamed",
        "Tag sharing.",
        Campaign.Status.CLOSED,
    )
    assert _assigned(campaign) == before  # nothing to plan again
    assert tag.pk in _tag_ids_seen(None, captures[1])
    researcher = Client()
    researcher.force_login(make_user("rhea", RESEARCHER))
    export = researcher.get(
        reverse("export_annotations", args=["csv"]), {"campaign": "study", "layer": "annotators"}
    )
    assert "advertisers" in b"".join(export.streaming_content).decode()


def test_a_new_annotator_takes_untouched_work_and_finished_work_stays(client, study):
    campaign, captures, rita, rosa = study
    make_user("otto", REVIEWER)
    assert mark_done(campaign, captures[1].pk, rita)  # finished
    client.force_login(make_user("cora", CURATOR))
    annotators = [u.pk for u in get_user_model().objects.filter(username__in=["rita", "otto"])]

    response = client.post(
        reverse("campaign_edit", args=[campaign.slug]),
        _edit_form(campaign, annotators=annotators, per_capture=1),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    # Rita's finished capture stays hers; the other capture's one annotator is the least
    # loaded named one, Otto. Rosa is no longer named: her unfinished work goes.
    assert _assigned(campaign) == {(captures[1].pk, "rita"), (captures[2].pk, "otto")}
    assert Assignment.objects.get(snapshot=captures[1], annotator=rita).done_at is not None


def test_begun_work_of_a_named_annotator_is_kept_when_the_work_is_shared_again(client, study):
    campaign, captures, rita, rosa = study
    otto = make_user("otto", REVIEWER)
    tag_text(captures[2], "advertisers", rosa, slug="third-party-sharing-collection")
    client.force_login(make_user("cora", CURATOR))

    response = client.post(
        reverse("campaign_edit", args=[campaign.slug]),
        _edit_form(campaign, annotators=[rita.pk, rosa.pk, otto.pk]),
    )

    assert response.status_code == 302
    assigned = _assigned(campaign)
    assert (captures[2].pk, "rosa") in assigned
    assert any(name == "otto" for _, name in assigned)  # the newcomer gets untouched work
    assert all(len({n for s, n in assigned if s == c.pk}) == 2 for c in captures[1:])


def test_more_annotators_per_capture_than_named_is_refused_naming_the_field(client, study):
    campaign = study[0]
    before = _assigned(campaign)
    client.force_login(make_user("cora", CURATOR))

    response = client.post(
        reverse("campaign_edit", args=[campaign.slug]), _edit_form(campaign, per_capture=3)
    )

    assert response.status_code == 400
    assert "per capture: 3 annotators per capture" in response.content.decode()
    assert _assigned(campaign) == before


def test_a_capture_with_finished_work_cannot_be_taken_out(client, study):
    campaign, captures, rita, _ = study
    mark_done(campaign, captures[1].pk, rita)
    client.force_login(make_user("cora", CURATOR))

    response = client.post(
        reverse("campaign_edit", args=[campaign.slug]),
        _edit_form(campaign, captures=[captures[2].pk]),
    )

    assert response.status_code == 400
    assert "finished work cannot be taken out: acme.example 2016-01-01" in (
        response.content.decode()
    )
    assert (captures[1].pk, "rita") in _assigned(campaign)


def test_captures_are_added_by_company_and_taken_out_when_untouched(client, study):
    campaign, captures, _, _ = study
    client.force_login(make_user("cora", CURATOR))
    company = captures[0].company

    response = client.post(
        reverse("campaign_edit", args=[campaign.slug]),
        _edit_form(campaign, captures=[captures[2].pk], companies=[company.pk], captured_to="2015"),
    )

    assert response.status_code == 302
    assert {s for s, _ in _assigned(campaign)} == {captures[0].pk, captures[2].pk}
