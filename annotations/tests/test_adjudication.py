"""Agreement over a campaign's finished units, adjudication to gold, and consolidation rules."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotations.campaigns.adjudication import (
    agreement,
    campaign_units,
    consolidate,
    decide,
    rule_accepts,
)
from annotations.campaigns.campaigns import CampaignSpec, create_campaign, mark_done
from annotations.models import Annotation, Category, GoldDecision
from annotations.tests.factories import category, make_user, tag_text
from policies.permissions import CURATOR, REVIEWER
from policies.tests.factories import make_company, make_snapshot

BODY = (
    "# Privacy\n\nWe collect your email address.\n\n"
    "## Sharing\n\nWe share it with advertisers. We keep it for a year.\n"
)
SHARING = "third-party-sharing-collection"
RETENTION = "data-retention"
COLLECTION = "first-party-collection-use"

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("rule", "voters", "raters", "accepted"),
    [
        ("majority", 2, 3, True),
        ("majority", 1, 2, False),
        ("majority", 1, 3, False),
        ("union", 1, 3, True),
        ("union", 0, 3, False),
        ("unanimous", 3, 3, True),
        ("unanimous", 2, 3, False),
    ],
)
def test_consolidation_rules(rule, voters, raters, accepted):
    assert rule_accepts(rule, voters, raters) is accepted


@pytest.fixture
def tagged():
    """Three annotators on one capture: all tag sharing, two tag retention, one collection."""
    company = make_company(slug="acme.example")
    capture = make_snapshot(company, captured_at=datetime(2016, 1, 1, tzinfo=UTC), body=BODY)
    people = [make_user(name, REVIEWER) for name in ("ann", "bob", "cy")]
    campaign = create_campaign(
        CampaignSpec(slug="study", annotators=["ann", "bob", "cy"], companies=[company.slug])
    )
    for person in people:
        tag_text(capture, "advertisers", person, slug=SHARING)
    for person in people[:2]:
        tag_text(capture, "We keep it for a year.", person, slug=RETENTION)
    tag_text(capture, "email address", people[2], slug=COLLECTION)
    return campaign, capture, people


def test_units_are_counted_only_once_everyone_is_done(tagged):
    campaign, capture, people = tagged
    for person in people[:2]:
        mark_done(campaign, capture.pk, person)
    assert campaign_units(campaign) == []

    mark_done(campaign, capture.pk, people[2])

    units = campaign_units(campaign)
    assert [u.section.heading for u in units] == ["Preamble", "Sharing"]
    sharing = units[1]
    assert sharing.votes[SHARING] == {"ann", "bob", "cy"}
    assert sharing.votes[RETENTION] == {"ann", "bob"}
    assert sharing.disputed == 1


def test_clause_units_split_a_section_into_its_sentences(tagged):
    campaign, capture, people = tagged
    for person in people:
        mark_done(campaign, capture.pk, person)

    units = [u for u in campaign_units(campaign, unit="clause") if u.section.heading == "Sharing"]

    # The heading, "We share it with advertisers." and "We keep it for a year."
    assert len(units) == 3
    assert units[1].votes[SHARING] == {"ann", "bob", "cy"}
    assert RETENTION not in units[1].votes
    assert units[2].votes[RETENTION] == {"ann", "bob"}


def _finish(tagged):
    campaign, capture, people = tagged
    for person in people:
        mark_done(campaign, capture.pk, person)
    return campaign, capture


def test_agreement_rows_match_the_statistics_on_the_units(tagged):
    campaign, _ = _finish(tagged)
    rows, units = agreement(campaign)
    by_category = {row.category: row for row in rows}
    # Sharing: the Privacy unit has no vote, the Sharing unit three of three: perfect agreement.
    assert by_category[SHARING].percent_agreement == 1.0
    # Retention: Privacy all 0; Sharing 1, 1, 0 -> pairs agreeing 1 of 3; mean (1 + 1/3) / 2.
    assert by_category[RETENTION].percent_agreement == pytest.approx(2 / 3)
    assert by_category["all"].units == 2
    assert len(units) == 2


def test_agreement_csv_and_command_print_the_same_rows(client, tagged):
    campaign, _ = _finish(tagged)
    client.force_login(make_user("cora", CURATOR))

    response = client.get(reverse("campaign_agreement_csv", args=[campaign.slug]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    out = io.StringIO()
    call_command("agreement", campaign.slug, stdout=out)

    assert rows[0] == [
        "category",
        "unit",
        "units",
        "annotators",
        "fleiss_kappa",
        "krippendorff_alpha",
        "percent_agreement",
    ]
    assert rows == list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[-1][0] == "all"
    out = io.StringIO()
    call_command("agreement", campaign.slug, "--json", "--unit", "clause", stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1])["unit"] == "clause"


def test_agreement_page_states_the_unit_and_links_disagreements(client, tagged):
    campaign, capture = _finish(tagged)
    client.force_login(make_user("cora", CURATOR))

    html = client.get(reverse("campaign_agreement", args=[campaign.slug])).content.decode()

    assert "is each section of each capture that all its assigned annotators marked done" in html
    assert "<svg" in html
    assert "Fleiss&#x27; kappa:" in html
    adjudicate = reverse(
        "campaign_adjudicate", args=[campaign.slug, "acme.example", capture.timestamp]
    )
    assert adjudicate in html


def test_curator_accepts_a_category_into_gold_and_rejects_it_again(client, tagged):
    campaign, capture = _finish(tagged)
    cora = make_user("cora", CURATOR)
    client.force_login(cora)
    url = reverse("campaign_adjudicate", args=[campaign.slug, "acme.example", capture.timestamp])
    sharing_section = capture.text.sections.get(heading="Sharing")
    page = client.get(url).content.decode()
    assert "2 of 3: ann, bob" in page

    client.post(url, {"section": sharing_section.pk, "category": RETENTION, "decision": "accept"})

    gold = Annotation.objects.get(layer=Annotation.Layer.GOLD)
    assert (gold.category.slug, gold.quote, gold.campaign) == (
        RETENTION,
        "We keep it for a year.",
        campaign,
    )
    decision = GoldDecision.objects.get()
    assert (decision.accepted, decision.decided_by) == (True, cora)

    client.post(url, {"section": sharing_section.pk, "category": RETENTION, "decision": "reject"})

    assert not Annotation.objects.filter(layer=Annotation.Layer.GOLD).exists()
    assert GoldDecision.objects.get().accepted is False


def test_consolidate_by_majority_leaves_curators_decisions_alone(tagged):
    campaign, capture = _finish(tagged)
    curator = make_user("cora", CURATOR)
    units = campaign_units(campaign)
    from annotations.campaigns.adjudication import decide
    from annotations.models import Category

    decide(campaign, units[1], Category.objects.get(slug=SHARING), False, curator)

    counts = consolidate(campaign, "majority")

    assert counts == {"accepted": 1, "rejected": 1, "already decided": 1}
    gold = set(Annotation.objects.filter(layer="gold").values_list("category__slug", flat=True))
    assert gold == {RETENTION}
    out = io.StringIO()
    call_command("consolidate", campaign.slug, "--rule", "union", stdout=out)
    assert "0 accepted into gold" in out.getvalue()


def _csv(client, **params) -> list[dict]:
    response = client.get(reverse("export_annotations", args=["csv"]), params)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_gold_export_has_the_accepted_category_with_its_campaign_and_layer(client, tagged):
    campaign, capture = _finish(tagged)
    consolidate(campaign, "majority")
    client.force_login(make_user("cora", CURATOR))

    gold = _csv(client, campaign="study", layer="gold")

    assert {(r["category"], r["campaign"], r["layer"]) for r in gold} == {
        (SHARING, "study", "gold"),
        (RETENTION, "study", "gold"),
    }
    annotators = _csv(client, campaign="study", layer="annotators")
    assert {r["layer"] for r in annotators} == {"annotator"}
    assert len(annotators) == 6


def test_running_campaign_layers_are_exported_to_curators_only(client, tagged):
    from policies.permissions import RESEARCHER

    client.force_login(make_user("rosa", RESEARCHER))
    assert _csv(client, campaign="study") == []
    client.force_login(make_user("cora", CURATOR))
    assert len(_csv(client, campaign="study")) == 6


def test_a_bad_layer_is_refused_naming_the_parameter(client, tagged):
    client.force_login(make_user("cora", CURATOR))
    response = client.get(reverse("export_annotations", args=["csv"]), {"layer": "golden"})
    assert response.status_code == 400
    assert "layer:" in response.content.decode()


def test_the_page_buttons_send_decision_unit_and_category_in_one_value(client, tagged):
    campaign, capture = _finish(tagged)
    client.force_login(make_user("cora", CURATOR))
    url = reverse("campaign_adjudicate", args=[campaign.slug, "acme.example", capture.timestamp])
    sharing = capture.text.sections.get(heading="Sharing")
    page = client.get(url).content.decode()
    assert f'name="choice" value="accept {sharing.pk} {RETENTION}"' in page
    assert '<q class="choice-quote">We keep it for a year.</q>' in page  # what was tagged

    response = client.post(url, {"choice": f"accept {sharing.pk} {RETENTION}"})

    assert response.status_code == 302
    assert response.url.endswith(f"#unit-{sharing.pk}")
    assert GoldDecision.objects.get().category.slug == RETENTION
    assert client.post(url, {"choice": f"accept {sharing.pk}"}).status_code == 400


def test_the_page_escapes_what_annotators_and_taxonomies_wrote(client, tagged):
    campaign, capture = _finish(tagged)
    Category.objects.filter(slug=SHARING).update(name="<b>Sharing</b>")
    client.force_login(make_user("cora", CURATOR))
    url = reverse("campaign_adjudicate", args=[campaign.slug, "acme.example", capture.timestamp])
    page = client.get(url).content.decode()
    assert "&lt;b&gt;Sharing&lt;/b&gt;" in page
    assert "<b>Sharing</b>" not in page


@pytest.mark.parametrize("sections", [2, 40])
def test_adjudication_query_count_does_not_grow_with_sections(
    client, django_assert_num_queries, sections
):
    company = make_company(slug="long.example")
    body = "".join(f"## Part {n}\n\nWe share item {n} with partners.\n\n" for n in range(sections))
    capture = make_snapshot(company, captured_at=datetime(2016, 1, 1, tzinfo=UTC), body=body)
    people = [make_user(name, REVIEWER) for name in ("ann", "bob", "cy")]
    campaign = create_campaign(
        CampaignSpec(slug="long", annotators=["ann", "bob", "cy"], companies=[company.slug])
    )
    for n in range(sections):
        for person, slug in zip(people, (SHARING, SHARING, RETENTION), strict=True):
            tag_text(capture, f"item {n} with", person, slug=slug)
    for person in people:
        mark_done(campaign, capture.pk, person)
    cora = make_user("cora", CURATOR)
    unit = campaign_units(campaign, snapshot=capture)[0]
    decide(campaign, unit, category(SHARING), True, cora)
    client.force_login(cora)
    url = reverse("campaign_adjudicate", args=[campaign.slug, company.slug, capture.timestamp])
    # session, user, groups; the campaign, the company, the capture; the finished assignments,
    # their captures, the captures' sections, the annotators' tags, the gold decisions (with
    # who decided); the campaign's categories, and the whole taxonomy as it names none; the
    # review count for the header.
    with django_assert_num_queries(14):
        page = client.get(url).content.decode()
    assert page.count('class="adjudication-unit"') == sections
    assert page.count("in gold by cora") == 1


def test_the_export_page_offers_campaigns_and_layers(client, tagged):
    client.force_login(make_user("cora", CURATOR))
    page = client.get(reverse("export_page"), {"campaign": "study", "layer": "gold"})
    html = page.content.decode()
    assert '<option value="study" selected>study (running)</option>' in html
    assert '<option value="gold" selected>gold (adjudicated)</option>' in html
