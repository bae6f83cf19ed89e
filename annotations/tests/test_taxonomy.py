"""The default taxonomy and loading another one from YAML or JSON."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotations.models import Attribute, Category

pytestmark = pytest.mark.django_db

OPP115_ORDER = [
    "first-party-collection-use",
    "third-party-sharing-collection",
    "user-choice-control",
    "user-access-edit-deletion",
    "data-retention",
    "data-security",
    "policy-change",
    "do-not-track",
    "international-specific-audiences",
    "other",
]


def test_migration_installs_opp115_in_order_with_keys():
    assert list(Category.objects.values_list("slug", flat=True)) == OPP115_ORDER
    assert list(Category.objects.values_list("key", flat=True)) == [*"1234567890"]
    retention = Category.objects.get(slug="data-retention")
    assert "how long" in retention.description
    assert set(retention.attributes.values_list("name", flat=True)) == {
        "Retention Period",
        "Retention Purpose",
        "Personal Information Type",
    }
    period = Attribute.objects.get(name="Retention Period")
    assert list(period.values.values_list("value", flat=True)) == [
        "Stated period",
        "Limited",
        "Indefinitely",
        "Other",
        "Unspecified",
    ]


GDPR_YAML = """
name: GDPR bases
categories:
  - slug: consent
    name: Consent
    key: c
    colour: "#336699"
  - slug: legitimate-interest
    name: Legitimate interest
    parent: consent
attributes:
  - name: Article
    values: [6(1)(a), 6(1)(f)]
    categories: [consent, legitimate-interest]
"""


def _load(tmp_path, name: str, content: str) -> tuple[int, str]:
    path = tmp_path / name
    path.write_text(content)
    out = io.StringIO()
    try:
        call_command("load_taxonomy", str(path), stdout=out)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue()


def test_load_taxonomy_from_yaml_adds_categories_and_attributes(tmp_path):
    status, out = _load(tmp_path, "gdpr.yaml", GDPR_YAML)
    assert status == 0, out
    assert "2 categories" in out
    consent = Category.objects.get(slug="consent")
    assert (consent.key, consent.colour) == ("c", "#336699")
    assert Category.objects.get(slug="legitimate-interest").parent == consent
    assert list(Attribute.objects.get(slug="article").values.values_list("value", flat=True)) == [
        "6(1)(a)",
        "6(1)(f)",
    ]


def test_load_taxonomy_from_json_is_idempotent(tmp_path):
    json_text = '{"categories": [{"slug": "x-practice", "name": "X"}]}'
    assert _load(tmp_path, "x.json", json_text)[0] == 0
    assert _load(tmp_path, "x.json", json_text)[0] == 0
    assert Category.objects.filter(slug="x-practice").count() == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", "{not json", "not valid JSON"),
        ("bad.yaml", "categories: [unclosed", "not valid YAML"),
        ("empty.yaml", "name: nothing\n", "'categories' must be a non-empty list"),
        ("slug.yaml", "categories:\n  - slug: Bad Slug\n    name: B\n", "categories[1]: slug"),
        ("noname.yaml", "categories:\n  - slug: ok\n", "name is missing"),
        ("colour.yaml", "categories:\n  - {slug: a, name: A, colour: red}\n", "colour 'red'"),
        ("key.yaml", "categories:\n  - {slug: a, name: A, key: ab}\n", "one character"),
        (
            "dupkey.yaml",
            "categories:\n  - {slug: a, name: A, key: x}\n  - {slug: b, name: B, key: x}\n",
            "used twice",
        ),
        ("parent.yaml", "categories:\n  - {slug: a, name: A, parent: zz}\n", "parent 'zz'"),
        (
            "attr.yaml",
            "categories:\n  - {slug: a, name: A}\nattributes:\n  - {name: T, categories: [q]}\n",
            "unknown categories q",
        ),
    ],
)
def test_malformed_taxonomy_is_refused_with_the_file_and_field(tmp_path, name, content, message):
    before = Category.objects.count()
    status, error = _load(tmp_path, name, content)
    assert status == 2
    assert name in error
    assert message in error
    assert Category.objects.count() == before


def test_missing_taxonomy_file_is_a_clear_error(tmp_path):
    out = io.StringIO()
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("load_taxonomy", str(tmp_path / "nope.yaml"), stdout=out)


def test_chip_colours_are_dark_enough_for_white_text():
    from annotations.taxonomy import _luminance, chip_colour

    def contrast(colour: str) -> float:
        return 1.05 / (_luminance(colour) + 0.05)

    # A green whose contrast with white is 3.3:1 is darkened to at least 4.5:1 ...
    assert contrast("#16a34a") < 4.5
    assert contrast(chip_colour("#16a34a")) >= 4.5
    # ... just enough (one step lighter would fail), and a dark blue is kept as it is.
    assert chip_colour("#1d4e89") == "#1d4e89"
    # White itself becomes dark enough too.
    assert contrast(chip_colour("#ffffff")) >= 4.5
