"""Exports (CSV, JSON Lines, JSON-LD) and the JSON Lines round trip through import_annotations."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.exports.export import (
    CSV_COLUMNS,
    ExportFilters,
    annotation_rows,
    copy_csv_chunks,
    csv_chunks,
    csv_fields,
    csv_rows,
    csv_rows_of,
    export_chunks,
)
from annotations.models import Annotation, Category, LineageEvent
from annotations.tagging.tags import review_tag
from annotations.tests.factories import make_user, tag_text
from policies.importing.importer import import_paths
from policies.models import Snapshot
from policies.permissions import CURATOR, IMPORTER, RESEARCHER, REVIEWER
from policies.tests.factories import make_company, make_snapshot

pytestmark = pytest.mark.django_db

CSV_URL = "/export/annotations.csv"

V1 = """# Acme privacy

## Sharing

We never sell your data. We share data with e.g. Google Inc. and other U.S. firms.

## Retention

We keep logs for 30 days.
"""
V2 = """# Acme privacy

## Sharing

We never sell your data. We share data with e.g. Google Inc. and other U.S. firms.

## Retention

We keep server logs for 30 days.
"""


def _acme() -> list[Snapshot]:
    company = make_company(slug="acme.example")
    return [
        make_snapshot(company, captured_at=datetime(2010 + n, 1, 1, tzinfo=UTC), body=body)
        for n, body in enumerate((V1, V1, V2))
    ]


@pytest.fixture
def rita() -> User:
    return make_user("rita", REVIEWER)


@pytest.fixture
def acme(rita) -> list[Snapshot]:
    """Three captures; a tag on the first is carried to the second (same text) and proposed on
    the third (clause changed)."""
    snapshots = _acme()
    tag_text(snapshots[0], "We keep logs for 30 days.", rita, "data-retention", note="short")
    return snapshots


@pytest.fixture
def researcher(client) -> User:
    user = make_user("rosa", RESEARCHER)
    client.force_login(user)
    return user


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


def _download(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode("utf-8")


# --- CSV -------------------------------------------------------------------------------------


def test_csv_has_the_columns_in_order_and_one_row_per_tag_per_capture(client, researcher, acme):
    rows = _csv(client.get(CSV_URL, {"status": "any"}))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 4  # the original, its carried copy, its proposed copy
    by_origin = {row[15].split(" ")[0]: row for row in rows[1:]}
    original = Annotation.objects.get(kind="original")
    row = dict(zip(CSV_COLUMNS, by_origin["original"], strict=True))
    assert row["annotation_id"] == str(original.pk)
    assert row["company"] == "acme.example"
    assert row["domain"] == "acme.example"
    assert row["snapshot_date"] == "2010-01-01"
    assert row["capture_timestamp"] == "20100101000000"
    assert row["archive_url"].startswith("https://web.archive.org/web/20100101000000")
    assert row["section"] == "retention"
    assert row["quote"] == "We keep logs for 30 days."
    assert (int(row["start"]), int(row["end"])) == (original.start, original.end)
    assert row["category"] == "data-retention"
    assert json.loads(row["attributes"]) == {}
    assert (row["note"], row["annotator"], row["status"]) == ("short", "rita", "active")
    assert row["created_at"].endswith("Z")
    assert datetime.fromisoformat(row["updated_at"]) == original.updated_at
    copies = [r for r in rows[1:] if r[15] != "original"]
    assert {r[15] for r in copies} == {f"carried from {original.pk}"}
    assert {r[14] for r in copies} == {"active", "pending"}


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_start_a_formula_get_an_apostrophe(client, researcher, rita, prefix):
    snapshot = _acme()[0]
    note = f'{prefix}HYPERLINK("http://evil.example","x")'
    tag_text(snapshot, "We never sell your data.", rita, "data-retention", note=note)
    rows = _csv(client.get(CSV_URL, {"origin": "original"}))
    assert rows[1][CSV_COLUMNS.index("note")] == "'" + note


def test_csv_raw_writes_the_exact_text(client, researcher, rita):
    snapshot = _acme()[0]
    tag_text(snapshot, "We never sell your data.", rita, "data-retention", note="=1+1")
    rows = _csv(client.get(CSV_URL, {"origin": "original", "raw": "1"}))
    assert rows[1][CSV_COLUMNS.index("note")] == "=1+1"


def test_csv_safe_cells_are_untouched(client, researcher, rita):
    snapshot = _acme()[0]
    tag_text(snapshot, "We never sell your data.", rita, "data-retention", note="a = b - c")
    rows = _csv(client.get(CSV_URL, {"origin": "original"}))
    assert rows[1][CSV_COLUMNS.index("note")] == "a = b - c"


def test_csv_for_excel_starts_with_a_byte_order_mark(client, researcher, acme):
    assert _download(client, CSV_URL, excel="1").startswith("\ufeffannotation_id,")
    assert _download(client, CSV_URL).startswith("annotation_id,")


def test_download_streams_as_an_attachment(client, researcher, acme):
    response = client.get(CSV_URL)
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="palimpsest-tags-')


def test_download_query_count_does_not_grow_with_rows(
    client, researcher, rita, django_assert_num_queries
):
    snapshots = _acme()
    tag_text(snapshots[0], "We never sell your data.", rita, "data-retention")

    def consume() -> int:
        response = client.get(CSV_URL)
        return len(b"".join(response.streaming_content).splitlines())

    # session, user, the user's groups (role check); the running campaigns (whose annotators'
    # tags a researcher does not get); a savepoint (the export runs in a transaction, so its
    # cursor streams), the export itself, the savepoint's release. On PostgreSQL the export is
    # SET LOCAL enable_sort = off, then a COPY through the driver, which Django's query log
    # does not see: the same count.
    with django_assert_num_queries(7):
        few = consume()
    tag_text(snapshots[0], "We keep logs for 30 days.", rita, "data-retention")
    tag_text(snapshots[2], "We keep server logs for 30 days.", rita, "first-party-collection-use")
    with django_assert_num_queries(7):
        many = consume()
    assert many > few


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/export/", CSV_URL, "/export/annotations.jsonld"])
def test_anonymous_users_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("role", [REVIEWER, IMPORTER])
@pytest.mark.parametrize("url", ["/export/", CSV_URL, "/export/annotations.jsonl"])
def test_other_roles_may_not_export(client, role, url):
    client.force_login(make_user("someone", role))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    ("roles", "staff"),
    [((RESEARCHER,), False), ((CURATOR,), False), ((), True)],
    ids=["researcher", "curator", "staff"],
)
@pytest.mark.parametrize("url", ["/export/", CSV_URL, "/export/annotations.jsonld"])
def test_researchers_curators_and_staff_may_export(client, roles, staff, url):
    client.force_login(make_user("someone", *roles, is_staff=staff))
    assert client.get(url).status_code == 200


# --- filters ---------------------------------------------------------------------------------


@pytest.fixture
def two_companies(rita, acme) -> None:
    other = make_company(slug="other.example")
    snapshot = make_snapshot(other, captured_at=datetime(2016, 5, 1, tzinfo=UTC), body=V1)
    tag_text(snapshot, "We never sell your data.", rita, "first-party-collection-use")
    curator = make_user("carl", CURATOR)
    tag_text(snapshot, "We keep logs for 30 days.", curator, "data-retention")


def _column(client, name: str, **params) -> list[str]:
    rows = _csv(client.get(CSV_URL, {"status": "any", **params}))
    return [row[CSV_COLUMNS.index(name)] for row in rows[1:]]


@pytest.mark.parametrize(
    ("params", "column", "expected"),
    [
        ({"company": "other.example"}, "company", ["other.example", "other.example"]),
        ({"company": ["other.example", "acme.example"]}, "company", None),
        ({"company": "acme.example,other.example"}, "company", None),
        ({"domain": "OTHER.example"}, "domain", ["other.example", "other.example"]),
        ({"category": "first-party-collection-use"}, "quote", ["We never sell your data."]),
        ({"status": "pending"}, "quote", ["We keep server logs for 30 days."]),
        ({"annotator": "carl"}, "company", ["other.example"]),
        ({"from": "2011", "to": "2012-01"}, "snapshot_date", ["2011-01-01", "2012-01-01"]),
        ({"to": "2010-01-01"}, "snapshot_date", ["2010-01-01"]),
        ({"origin": "original"}, "origin", ["original"] * 3),
        ({"origin": "carried"}, "capture_timestamp", ["20110101000000", "20120101000000"]),
        ({"latest": "1", "company": "acme.example"}, "snapshot_date", ["2012-01-01"]),
    ],
)
def test_filters(client, researcher, two_companies, params, column, expected):
    values = _column(client, column, **params)
    if expected is None:  # every tag of both companies
        assert len(values) == Annotation.objects.count()
    else:
        assert values == expected


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "yesterday"}, b"from: expected a date"),
        ({"status": "lost"}, b"status: one of"),
        ({"origin": "borrowed"}, b"origin: original or carried"),
        ({"from": "2015", "to": "2014"}, b"from: must be on or before to"),
    ],
)
def test_bad_filters_are_a_400_that_says_why(client, researcher, params, message):
    response = client.get(CSV_URL, params)
    assert response.status_code == 400
    assert message in response.content


def test_export_page_counts_and_redirects_to_the_stable_url(client, researcher, two_companies):
    response = client.get("/export/", {"company": "other.example"})
    assert b"<strong>2</strong> tags match" in response.content
    assert b"/export/annotations.jsonld?company=other.example" in response.content
    response = client.get("/export/", {"company": "other.example", "format": "jsonl"})
    assert response.status_code == 302
    assert response["Location"] == "/export/annotations.jsonl?company=other.example"


def test_export_page_shows_a_bad_filter(client, researcher):
    response = client.get("/export/", {"from": "<script>"})
    assert response.status_code == 400
    assert b"&lt;script&gt;" in response.content
    assert b"<script>'" not in response.content


# --- JSON Lines and JSON-LD ------------------------------------------------------------------


def test_jsonld_is_an_annotation_collection_of_web_annotations(client, researcher, acme):
    document = json.loads(_download(client, "/export/annotations.jsonld", status="any"))
    assert document["@context"][0] == "http://www.w3.org/ns/anno.jsonld"
    assert document["type"] == "AnnotationCollection"
    assert len(document["items"]) == 3
    original = Annotation.objects.select_related("snapshot").get(kind="original")
    item = next(i for i in document["items"] if i["pal:kind"] == "original")
    assert item["id"] == f"urn:uuid:{original.uuid}"
    assert item["type"] == "Annotation"
    assert item["motivation"] == "classifying"
    assert item["body"] == [
        {
            "type": "SpecificResource",
            "purpose": "classifying",
            "source": "urn:palimpsest:category:data-retention",
        },
        {"type": "TextualBody", "purpose": "commenting", "value": "short"},
    ]
    target = item["target"]
    assert target["source"] == f"{original.snapshot.archive_url}#retention"
    quote, position = target["selector"]
    assert quote["type"] == "TextQuoteSelector"
    assert quote["exact"] == "We keep logs for 30 days."
    assert quote["prefix"].endswith("Retention\n")
    assert position == {
        "type": "TextPositionSelector",
        "start": original.start,
        "end": original.end,
    }
    assert target["state"] == {
        "type": "TimeState",
        "sourceDate": "2010-01-01T00:00:00Z",
        "cached": original.snapshot.archive_url,
    }
    assert item["creator"] == {"type": "Person", "nickname": "rita"}
    assert item["created"].endswith("Z")
    assert item["modified"].endswith("Z")
    carried = [i for i in document["items"] if i["pal:kind"] != "original"]
    assert {i["pal:origin"] for i in carried} == {item["id"]}


def test_jsonl_is_one_standalone_web_annotation_per_line(client, researcher, acme):
    lines = _download(client, "/export/annotations.jsonl", status="any").splitlines()
    assert len(lines) == 3
    for line in lines:
        annotation = json.loads(line)
        assert annotation["@context"][0] == "http://www.w3.org/ns/anno.jsonld"
        assert annotation["type"] == "Annotation"
        assert str(Annotation.objects.count()) not in annotation["id"][:9]


def test_empty_exports_are_well_formed(client, researcher):
    assert json.loads(_download(client, "/export/annotations.jsonld"))["items"] == []
    assert _download(client, "/export/annotations.jsonl") == ""
    assert _download(client, CSV_URL).strip() == ",".join(CSV_COLUMNS)


# --- commands and the round trip -------------------------------------------------------------


def _export(tmp_path, name: str, *args: str) -> str:
    path = tmp_path / name
    call_command("export_annotations", *args, "--output", str(path), stderr=io.StringIO())
    return path.read_text(encoding="utf-8")


@pytest.fixture
def tagged_sample(sample_dir, rita):
    """The sample corpus with a few clauses tagged: copies carried along two histories, one
    proposed copy confirmed and one dismissed by a curator, notes and attributes."""
    import_paths([sample_dir / "corpus-sample"])
    snapshots = {
        s.company.slug + s.timestamp[:4]: s for s in Snapshot.objects.select_related("company")
    }
    tag_text(
        snapshots["psiphon3.com2018"],
        "Our advertising partners' use of cookies enable them",
        rita,
        "third-party-sharing-collection",
        attributes={"personal-information-type": "Cookies and tracking elements"},
    )
    tag_text(
        snapshots["mullvad.net2018"],
        "Instead, a random account number is generated",
        rita,
        "data-security",
        note='Says "anonymous"; =formula-looking note',
    )
    tag_text(snapshots["psiphon3.com2019"], "Google Analytics", rita, "first-party-collection-use")
    acme = _acme()
    tag_text(acme[0], "We keep logs for 30 days.", rita, "data-retention")
    tag_text(acme[0], "We never sell your data.", rita, "first-party-collection-use")
    beta = make_company(slug="beta.example")
    changed = V1.replace("never sell your data", "never sell your personal data")
    first = make_snapshot(beta, captured_at=datetime(2013, 1, 1, tzinfo=UTC), body=V1)
    make_snapshot(beta, captured_at=datetime(2014, 1, 1, tzinfo=UTC), body=changed)
    tag_text(first, "We never sell your data.", rita, "first-party-collection-use")
    curator = make_user("carl", CURATOR)
    for proposed in Annotation.objects.filter(status="pending"):
        action = "confirm" if proposed.category.slug == "data-retention" else "dismiss"
        review_tag(proposed.pk, curator, proposed.version, action)


def test_round_trip_gives_the_same_file(tmp_path, tagged_sample):
    first = _export(tmp_path, "first.jsonl", "--format", "jsonl", "--status", "any")
    tags = Annotation.objects.count()
    kinds = set(Annotation.objects.values_list("kind", "status"))
    assert tags > 5
    assert kinds == {
        ("original", "active"),
        ("carried", "active"),
        ("proposed", "active"),  # confirmed by the curator
        ("proposed", "dismissed"),
    }
    events = LineageEvent.objects.count()
    Annotation.objects.all().delete()

    out = io.StringIO()
    call_command("import_annotations", str(tmp_path / "first.jsonl"), "--no-progress", stdout=out)
    assert f"Tags created: {tags}, already present: 0" in out.getvalue()
    assert Annotation.objects.count() == tags
    assert LineageEvent.objects.count() == events

    second = _export(tmp_path, "second.jsonl", "--format", "jsonl", "--status", "any")
    assert second == first


def test_importing_the_same_file_twice_adds_nothing(tmp_path, tagged_sample):
    _export(tmp_path, "tags.jsonl", "--format", "jsonl", "--status", "any")
    tags = Annotation.objects.count()
    out = io.StringIO()
    call_command("import_annotations", str(tmp_path / "tags.jsonl"), "--no-progress", stdout=out)
    assert f"Tags created: 0, already present: {tags}" in out.getvalue()
    assert Annotation.objects.count() == tags


def test_import_reports_each_bad_line_and_imports_the_rest(tmp_path, acme):
    lines = _export(tmp_path, "tags.jsonl", "--format", "jsonl", "--origin", "original")
    good = json.loads(lines)
    Annotation.objects.all().delete()
    wrong_quote = {**good, "id": "urn:uuid:00000000-0000-4000-8000-000000000001"}
    wrong_quote["target"] = json.loads(json.dumps(good["target"]))
    wrong_quote["target"]["selector"][0]["exact"] = "We keep logs for 31 days."
    missing_capture = {**good, "id": "urn:uuid:00000000-0000-4000-8000-000000000002"}
    missing_capture["pal:capture"] = "19990101000000"
    unknown_category = {**good, "id": "urn:uuid:00000000-0000-4000-8000-000000000003"}
    unknown_category["body"] = [{**good["body"][0], "source": "urn:palimpsest:category:nope"}]
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps(wrong_quote),
                "{not json",
                json.dumps(missing_capture),
                json.dumps(good),
                json.dumps(unknown_category),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command(
            "import_annotations", str(path), "--no-progress", stdout=io.StringIO(), stderr=err
        )
    assert failed.value.returncode == 1
    report = err.getvalue()
    assert "line 1: FAILED: section #retention: quote does not match" in report
    assert "line 2: FAILED: not JSON" in report
    assert "line 3: FAILED: no capture of acme.example at 19990101000000" in report
    assert "line 5: FAILED: no category 'nope'" in report
    assert "line 4" not in report
    assert Annotation.objects.filter(kind="original").count() == 1


def test_import_needs_the_annotators_unless_told(tmp_path, acme):
    _export(tmp_path, "tags.jsonl", "--format", "jsonl")
    Annotation.objects.all().delete()
    User.objects.filter(username="rita").delete()
    with pytest.raises(CommandError):
        call_command(
            "import_annotations",
            str(tmp_path / "tags.jsonl"),
            "--no-progress",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert not Annotation.objects.exists()
    call_command(
        "import_annotations",
        str(tmp_path / "tags.jsonl"),
        "--no-progress",
        "--allow-unknown-annotators",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert Annotation.objects.count() == 3
    assert not Annotation.objects.filter(annotator__isnull=False).exists()


def test_export_command_writes_every_format_and_filters(tmp_path, two_companies):
    csv_text = _export(tmp_path, "tags.csv", "--company", "other.example", "--excel")
    assert csv_text.startswith("\ufeffannotation_id,")
    assert len(csv_text.strip().splitlines()) == 3
    document = json.loads(
        _export(tmp_path, "tags.jsonld", "--format", "jsonld", "--latest", "--status", "any")
    )
    assert {item["pal:capture"] for item in document["items"]} == {
        "20120101000000",
        "20160501000000",
    }
    out = io.StringIO()
    call_command("export_annotations", "--format", "jsonl", "--annotator", "carl", stdout=out)
    assert [json.loads(line)["pal:company"] for line in out.getvalue().splitlines()] == [
        "other.example"
    ]


def test_export_command_rejects_bad_filters():
    with pytest.raises(CommandError, match="from: expected a date"):
        call_command("export_annotations", "--from", "soon", stdout=io.StringIO())


@pytest.mark.postgres
@pytest.mark.parametrize("raw", [False, True])
def test_copy_writes_the_same_csv_as_python(rita, raw):
    snapshot = _acme()[0]
    notes = ["=1", "+1", "-1", "@1", "\t1", "\r1", "", 'say "hi",\nthen go']
    slugs = Category.objects.values_list("slug", flat=True)[: len(notes)]
    for note, slug in zip(notes, slugs, strict=True):
        tag_text(snapshot, "We never sell your data.", rita, slug, note=note)
    filters = ExportFilters()
    python = "".join(text for text, _ in csv_chunks(annotation_rows(filters, csv_fields(raw))))
    rows = filters.queryset().values_list(*csv_fields(raw))
    database = "".join(text for text, _ in copy_csv_chunks(rows))
    assert list(csv.reader(io.StringIO(database))) == list(csv.reader(io.StringIO(python)))


def test_one_function_serves_every_adapter(acme):
    """The view and the command both stream `export_chunks`; row counts come with each chunk."""
    seen = []
    text = "".join(export_chunks(ExportFilters(), "csv", on_rows=seen.append))
    assert sum(seen) == 2  # active tags: the original and its carried copy, not the proposal
    assert len(text.splitlines()) == 3


# --- what an export holds by default, and companies that do not exist ------------------------


def test_exports_hold_active_tags_unless_pending_is_asked_for(client, researcher, acme):
    default = [row[CSV_COLUMNS.index("status")] for row in _csv(client.get(CSV_URL))[1:]]
    assert default == ["active", "active"]
    both = _csv(client.get(CSV_URL, {"status": ["active", "pending"]}))[1:]
    assert sorted(row[CSV_COLUMNS.index("status")] for row in both) == [
        "active",
        "active",
        "pending",
    ]


def test_the_command_has_the_same_default(tmp_path, acme):
    assert len(_export(tmp_path, "default.csv").strip().splitlines()) == 3
    pending = _export(tmp_path, "pending.csv", "--status", "pending")
    assert len(pending.strip().splitlines()) == 2


def test_export_page_says_what_is_included(client, researcher, acme):
    html = client.get("/export/").content.decode()
    assert "<strong>2</strong> tags match these filters." in html
    assert (
        "Included: active (2). Not included: pending review (1), dismissed (0), "
        "merged into the same tag (0)."
    ) in html
    assert 'id="export-status-active" type="checkbox" name="status" value="active" ' in html
    assert 'value="pending" aria-describedby' in html  # offered, not ticked
    html = client.get("/export/", {"status": ["active", "pending"]}).content.decode()
    assert (
        "Included: active (2), pending review (1). Not included: dismissed (0), "
        "merged into the same tag (0)."
    ) in html


def test_categories_are_checkboxes(client, researcher, acme):
    html = client.get("/export/", {"category": "data-retention"}).content.decode()
    assert (
        'type="checkbox" name="category" value="data-retention" checked> '
        '<label for="export-category-data-retention">Data Retention</label>'
    ) in html
    assert 'name="category" value="data-security">' in html
    assert 'name="category" multiple' not in html


def test_an_unknown_company_is_refused_with_close_matches(client, researcher, acme):
    response = client.get("/export/", {"company": "acme.exampel", "category": "data-retention"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "company: no company called &#x27;acme.exampel&#x27; (did you mean acme.example?)" in (
        html
    )
    assert '<a href="?company=acme.example&amp;category=data-retention">acme.example</a>' in html
    assert 'value="acme.exampel"' in html  # what was typed stays in the field
    assert 'value="data-retention" checked' in html  # and so do the other filters
    download = client.get(CSV_URL, {"company": ["acme.example", "nothing.example"]})
    assert download.status_code == 400
    assert b"no company called 'nothing.example'." in download.content
    with pytest.raises(CommandError, match="no company called 'acme.exampel'"):
        call_command("export_annotations", "--company", "acme.exampel", stdout=io.StringIO())


def test_company_picker_suggests_as_you_type(client, researcher, two_companies):
    html = client.get("/export/").content.decode()
    assert 'list="company-options"' in html
    assert '<option value="acme.example"></option>' in html
    response = client.get(
        reverse("export_companies"),
        {"company": "acme.example, oth"},
        headers={"HX-Request": "true"},
    )
    assert response.content.decode().strip() == (
        '<datalist id="company-options"><option value="acme.example, other.example"></option>'
        "</datalist>"
    )


@pytest.mark.parametrize("tags", [1, 6])
def test_export_page_query_count_is_flat(client, researcher, rita, django_assert_num_queries, tags):
    snapshots = _acme()
    for n in range(tags):
        tag_text(
            snapshots[n % 3], "We never sell your data.", rita, f"{Category.objects.all()[n].slug}"
        )
    # session, user, the user's groups; the named companies exist; the running campaigns;
    # tags per status; the companies for the picker; the categories; the campaigns
    with django_assert_num_queries(9):
        response = client.get("/export/", {"company": "acme.example"})
    assert response.status_code == 200


def test_rows_of_a_page_of_tags_are_the_querysets_rows(acme, rita):
    """The API's compiled-once statement gives what the ORM gives, for any page of ids."""
    original = Annotation.objects.get(kind=Annotation.Kind.ORIGINAL)
    original.suggestion = {"source": "wording", "score": 1.0, "tag": "x", "company": "a.example"}
    original.save()
    tag_text(acme[2], "We never sell your data.", rita, "data-security", note="=cmd")
    ids = list(Annotation.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) >= 4

    for page in (ids, ids[1:3], ids[-1:], [10**9]):
        expected = list(csv_rows(raw=True).filter(pk__in=page).order_by("pk"))
        assert csv_rows_of(page, raw=True) == expected
        assert csv_rows_of(page, raw=False) == list(
            csv_rows(raw=False).filter(pk__in=page).order_by("pk")
        )
    assert csv_rows_of([], raw=True) == []
