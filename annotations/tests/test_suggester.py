"""The suggestions' category model: training on the project's tags, thresholds, rejections as
negatives, versions that keep serving, company-grouped evaluation, the commands and the page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from annotations.campaigns.campaigns import CampaignSpec, create_campaign, mark_done
from annotations.models import Annotation, SuggesterModel, SuggestionRejection
from annotations.suggesting import classifier
from annotations.suggesting import model as suggester
from annotations.suggesting.classifier import (
    Corpus,
    Head,
    Predictor,
    Vectorizer,
    best_threshold,
    fit_predictor,
)
from annotations.suggesting.evaluation import EvaluationError, cross_validate, grouped_folds
from annotations.suggesting.examples import training_data
from annotations.tests.factories import category, make_user, tag_text
from policies.permissions import CURATOR, RESEARCHER, REVIEWER
from policies.tests.factories import make_company, make_snapshot

pytestmark = pytest.mark.django_db

SHARING = "third-party-sharing-collection"
RETENTION = "data-retention"
SECURITY = "data-security"

# Per company: (sharing, retention, security) sentences, worded a little differently.
WORDING = {
    "alpha.example": (
        "We share your email address with advertisers and marketing partners.",
        "We keep your personal data for two years.",
        "We protect your data with encryption and firewalls.",
    ),
    "bravo.example": (
        "We may share your device identifiers with advertisers and analytics partners.",
        "We retain your account records for three years after you close your account.",
        "We use encryption and secure servers to protect your information.",
    ),
    "charlie.example": (
        "Your email address is shared with our marketing partners and advertisers.",
        "Personal data is kept for five years and then deleted.",
        "Your information is protected by encryption and access controls.",
    ),
    "delta.example": (
        "We share usage data with advertisers and other partners.",
        "We keep records of your purchases for seven years.",
        "Firewalls and encryption protect the data we hold.",
    ),
}


def _body(slug: str) -> str:
    sharing, retention, security = WORDING[slug]
    return (
        f"# Privacy at {slug}\n\nThis policy explains what {slug} does.\n\n"
        f"## Sharing\n\n{sharing}\n\n## Retention\n\n{retention}\n\n"
        f"## Security\n\n{security}\n\n## Contact\n\nWrite to privacy@{slug} with questions.\n"
    )


@pytest.fixture(autouse=True)
def _fresh_cache():
    suggester.forget_loaded_model()
    yield
    suggester.forget_loaded_model()


@pytest.fixture
def tagged():
    """Four companies, one capture each, its sharing, retention and security sentences
    tagged (everyday tags, active and public)."""
    tagger = make_user("tess", REVIEWER)
    captures = {}
    for slug, sentences in WORDING.items():
        capture = make_snapshot(make_company(slug=slug), body=_body(slug))
        for sentence, category_slug in zip(sentences, (SHARING, RETENTION, SECURITY), strict=True):
            tag_text(capture, sentence, tagger, slug=category_slug)
        captures[slug] = capture
    return captures


def test_training_predicts_the_category_of_a_new_sentence(tagged):
    row = suggester.train()

    assert row.status == SuggesterModel.Status.READY, row.error
    assert (row.tags, row.active_captures, row.gold_captures) == (12, 4, 0)
    assert row.positives[SHARING] == {"sections": 4, "clauses": 4}
    predictor = suggester.current_model()
    assert predictor.version == row.version
    scores = predictor.scores(
        ["We share your phone number with advertisers.", "We keep your data for ten years."]
    )
    assert max(scores[0], key=scores[0].get) == SHARING
    assert max(scores[1], key=scores[1].get) == RETENTION
    for pairs in predictor.predict(["We share your phone number with advertisers."]):
        assert [slug for slug, _ in pairs][:1] in ([], [SHARING])
        assert all(0 <= score <= 1 for _, score in pairs)


def test_predict_keeps_only_scores_at_or_above_each_categorys_threshold():
    corpus = Corpus()
    for n in range(3):
        corpus.add_section(
            f"we share data with advertisers {n}. we keep data for years {n}.",
            {SHARING, RETENTION},
            f"c{n}",
            [
                (f"we share data with advertisers {n}.", {SHARING}),
                (f"we keep data for years {n}.", {RETENTION}),
            ],
        )
    fitted = fit_predictor(corpus, [SHARING, RETENTION])
    text = ["we share data with advertisers and keep data for years"]
    scores = fitted.scores(text)[0]
    # Thresholds just above one score and just below the other: only the second is kept.
    fitted.clause.thresholds = {SHARING: scores[SHARING] + 0.01, RETENTION: scores[RETENTION]}
    assert fitted.thresholds is fitted.clause.thresholds

    assert fitted.predict(text) == [[(RETENTION, round(scores[RETENTION], 4))]]


def test_thresholds_are_tuned_per_category(tagged):
    suggester.train()
    predictor = suggester.current_model()
    row = SuggesterModel.objects.get()

    assert set(predictor.thresholds) == {SHARING, RETENTION, SECURITY}
    assert all(0.05 <= t <= 0.95 for t in predictor.thresholds.values())
    assert row.evaluation["clause"]["thresholds"] == predictor.thresholds
    assert set(row.evaluation["clause"]["categories"]) == {SHARING, RETENTION, SECURITY}


def test_best_threshold_maximises_f1():
    scores = np.array([0.9, 0.8, 0.6, 0.4, 0.3, 0.1])
    truth = np.array([True, True, False, True, False, False])
    # >= 0.4 catches all three positives with one false: F1 6/7, the best.
    assert best_threshold(scores, truth) == pytest.approx(0.4)
    assert best_threshold(scores, np.zeros(6, dtype=bool)) == 0.5


def test_evaluation_folds_never_share_a_company():
    companies = [f"company-{n % 7}" for n in range(40)]
    for train, test in grouped_folds(companies, 5):
        assert not {companies[i] for i in train} & {companies[i] for i in test}
    with pytest.raises(EvaluationError):
        grouped_folds(companies[:2], 5)


def test_cross_validation_tests_each_company_once_on_unseen_companies(tagged):
    corpus = training_data().corpus
    evaluation = cross_validate(corpus, [SHARING, RETENTION, SECURITY], folds=4)

    tested = [company for _, test in evaluation.fold_companies for company in test]
    assert sorted(tested) == sorted(WORDING)
    for trained, test in evaluation.fold_companies:
        assert not set(trained) & set(test)
    assert evaluation.model.categories[SHARING]["support"] == 4
    assert evaluation.baseline.macro_f1 is not None


def test_rejections_lower_a_score(tagged):
    suggester.train()
    text = "We share your phone number with advertisers."
    before = suggester.current_model().scores([text])[0][SHARING]
    capture = make_snapshot(make_company(slug="echo.example"), body=f"# Echo\n\n{text}\n")
    section = capture.text.sections.get(plain__contains=text)
    start = section.plain.index(text)
    SuggestionRejection.objects.create(
        section=section,
        start=start,
        end=start + len(text),
        quote=text,
        category=category(SHARING),
        source="model",
        score=before,
    )

    row = suggester.train()

    assert row.negatives == 1
    assert suggester.current_model().scores([text])[0][SHARING] < before


def test_failed_training_keeps_the_previous_version_serving(tagged, monkeypatch):
    first = suggester.train()
    assert suggester.current_model().version == first.version

    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(classifier, "fit_predictor", broken)
    failed = suggester.train()

    assert failed.version == first.version + 1
    assert failed.status == SuggesterModel.Status.FAILED
    assert failed.error == "MemoryError: out of memory"
    assert failed.fitted is None
    assert suggester.current_model().version == first.version


def test_training_without_tags_fails_and_says_why():
    row = suggester.train()

    assert row.status == SuggesterModel.Status.FAILED
    assert "no accepted tags" in row.error
    assert suggester.current_model() is None


def test_a_newer_ready_version_replaces_the_loaded_one(tagged):
    suggester.train()
    first = suggester.current_model()
    assert suggester.current_model() is first  # cached

    suggester.train()

    assert suggester.current_model().version == first.version + 1


def test_blind_campaign_tags_are_not_learnt_until_adjudicated(tagged):
    annotator = make_user("ann", REVIEWER)
    capture = make_snapshot(make_company(slug="blind.example"), body=_body("alpha.example"))
    create_campaign(
        CampaignSpec(slug="blind", annotators=["ann"], companies=["blind.example"], per_capture=1)
    )
    tag_text(capture, "We keep your personal data for two years.", annotator, slug=RETENTION)

    data = training_data()

    assert data.tags == 12  # the running campaign's annotator tag is not among them
    assert "blind.example" not in data.corpus.companies


def test_gold_replaces_other_tags_on_its_capture(tagged):
    capture = tagged["alpha.example"]
    Annotation.objects.filter(snapshot=capture, category__slug=SECURITY).update(
        layer=Annotation.Layer.GOLD
    )

    data = training_data()
    gold_only = training_data("gold")

    assert (data.gold_captures, data.active_captures, data.tags) == (1, 3, 10)
    assert gold_only.tags == 1


def test_maybe_train_enqueues_once_enough_new_tags_exist(
    tagged, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    assert not suggester.maybe_train(threshold=13)

    with django_capture_on_commit_callbacks(execute=True):
        assert suggester.maybe_train(threshold=12)

    assert SuggesterModel.objects.ready().count() == 1
    assert suggester.new_tags_since_last_model() == 0
    assert not suggester.maybe_train(threshold=1)


def test_train_suggester_command(tagged):
    out = StringIO()
    call_command("train_suggester", stdout=out)

    assert out.getvalue().startswith("version 1 ready")
    assert SuggesterModel.objects.ready().count() == 1


def _campaign_of_three_companies():
    people = [make_user(name, REVIEWER) for name in ("ann", "bob", "cy")]
    slugs = list(WORDING)[:3]
    captures = [
        make_snapshot(
            make_company(slug=slug), captured_at=datetime(2016, 1, 1, tzinfo=UTC), body=_body(slug)
        )
        for slug in slugs
    ]
    campaign = create_campaign(
        CampaignSpec(slug="study", annotators=["ann", "bob", "cy"], companies=slugs)
    )
    for capture, slug in zip(captures, slugs, strict=True):
        sharing, retention, _ = WORDING[slug]
        for person in people:
            tag_text(capture, sharing, person, slug=SHARING)
            mark_done(campaign, capture.pk, person)
        tag_text(capture, retention, people[0], slug=RETENTION)  # one vote of three: not a majority
    return campaign


def test_evaluate_suggestions_json():
    _campaign_of_three_companies()
    out = StringIO()

    call_command(
        "evaluate_suggestions",
        "--campaign=study",
        "--labels=majority",
        "--folds=3",
        "--json",
        stdout=out,
    )

    result = json.loads(out.getvalue())
    assert (result["campaign"], result["labels"], result["unit"]) == (
        "study",
        "majority",
        "section",
    )
    assert (result["folds"], result["companies"]) == (3, 3)
    assert result["model"]["categories"][SHARING]["support"] == 3
    assert result["model"]["categories"][RETENTION]["support"] == 0
    assert set(result["baseline"]["categories"][SHARING]) == {
        "precision",
        "recall",
        "f1",
        "support",
    }


def test_evaluate_suggestions_refuses_more_folds_than_companies():
    _campaign_of_three_companies()

    with pytest.raises(Exception, match="need at least 5 companies"):
        call_command("evaluate_suggestions", "--campaign=study", "--folds=5", stdout=StringIO())


def test_predictor_survives_pickling_without_pruned_terms(tagged):
    row = suggester.train()
    predictor = suggester.current_model()

    for _, part in predictor.vectorizer.counts.transformer_list:
        assert part.stop_words_ is None
    assert row.size == len(bytes(SuggesterModel.objects.get().fitted))
    assert isinstance(predictor.vectorizer, Vectorizer)
    assert isinstance(predictor.section, Head)


def test_an_empty_predictor_suggests_nothing():
    corpus = Corpus()
    corpus.add_section("nothing tagged here at all", set(), "a", [("nothing tagged here", set())])
    corpus.add_section("nothing tagged here either", set(), "b", [("nothing here", set())])
    fitted = fit_predictor(corpus, [SHARING])

    assert isinstance(fitted, Predictor)
    assert fitted.predict(["we share data"]) == [[]]
    assert fitted.predict([]) == []


# The page.


def test_suggester_page_shows_the_model_and_its_history(client, tagged):
    suggester.train()
    client.force_login(make_user("rosa", RESEARCHER))

    response = client.get(reverse("suggester"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Version 1" in html
    assert 'role="img"' in html
    assert "Held-out F1 per category" in html
    assert 'id="model-figures"' in html
    assert 'id="model-history"' in html
    assert "Train now" not in html  # researchers read; curators train


@pytest.mark.parametrize("versions", [1, 3])
def test_suggester_page_queries_stay_flat(client, tagged, django_assert_num_queries, versions):
    for _ in range(versions):
        suggester.train()
    client.force_login(make_user("cora", CURATOR))
    # session, user, the user's roles, the versions (with who started them), categories' names,
    # the review count in the header (a Curator reviews)
    with django_assert_num_queries(6):
        response = client.get(reverse("suggester"))
    assert response.status_code == 200


def test_suggester_page_before_any_model(client):
    client.force_login(make_user("rosa", RESEARCHER))

    response = client.get(reverse("suggester"))

    assert "No version is ready yet" in response.content.decode()


def test_suggester_refusals(client):
    assert client.get(reverse("suggester")).status_code == 302  # to sign in
    client.force_login(make_user("nobody"))
    assert client.get(reverse("suggester")).status_code == 403
    client.force_login(make_user("rita", REVIEWER))
    assert client.post(reverse("suggester_train")).status_code == 403
    assert not SuggesterModel.objects.exists()


def test_train_now_runs_the_task(client, tagged, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    curator = make_user("cora", CURATOR)
    client.force_login(curator)

    response = client.post(reverse("suggester_train"), follow=True)

    row = SuggesterModel.objects.get()
    assert (row.status, row.requested_by) == (SuggesterModel.Status.READY, curator)
    assert "Training started" in response.content.decode()
