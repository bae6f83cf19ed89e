"""Taxonomies from YAML or JSON: validated into a spec, then installed into the database.

The same `install_taxonomy` serves the data migration (with historical models) and the
`load_taxonomy` command, so OPP-115 and a researcher's own scheme go through one path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import transaction

OPP115 = Path(__file__).resolve().parent / "taxonomies" / "opp115.json"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DEFAULT_COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"]


class TaxonomyError(ValueError):
    """A taxonomy file that cannot be used; the message names the file, the field and why."""


@dataclass
class CategorySpec:
    slug: str
    name: str
    description: str = ""
    colour: str = "#1d4e89"
    key: str = ""
    parent: str = ""


@dataclass
class AttributeSpec:
    slug: str
    name: str
    values: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)


@dataclass
class TaxonomySpec:
    name: str
    categories: list[CategorySpec]
    attributes: list[AttributeSpec]


def read_taxonomy(path: Path | str) -> TaxonomySpec:
    """Parse and validate a taxonomy file (.json, .yaml or .yml)."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path}: cannot be read ({exc})") from exc
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise TaxonomyError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {exc}") from exc
    return parse_taxonomy(data, source=str(path))


def parse_taxonomy(data: object, *, source: str = "taxonomy") -> TaxonomySpec:
    """Validate parsed data; every problem is reported with the field it concerns."""
    if not isinstance(data, dict):
        raise TaxonomyError(f"{source}: the top level must be a mapping with 'categories'")
    raw_categories = data.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        raise TaxonomyError(f"{source}: 'categories' must be a non-empty list")
    categories, keys = [], set()
    for n, item in enumerate(raw_categories, start=1):
        where = f"{source}: categories[{n}]"
        if not isinstance(item, dict):
            raise TaxonomyError(f"{where}: must be a mapping with slug and name")
        slug, name = str(item.get("slug", "")).strip(), str(item.get("name", "")).strip()
        if not _SLUG.match(slug):
            raise TaxonomyError(f"{where}: slug {slug!r} must be lowercase words joined by '-'")
        if not name:
            raise TaxonomyError(f"{where} ({slug}): name is missing")
        colour = str(item.get("colour") or item.get("color") or _DEFAULT_COLOURS[n % 6])
        if not _COLOUR.match(colour):
            raise TaxonomyError(f"{where} ({slug}): colour {colour!r} is not #rrggbb")
        key = str(item.get("key") or "").strip()
        if len(key) > 1:
            raise TaxonomyError(f"{where} ({slug}): key {key!r} must be one character")
        if key and key in keys:
            raise TaxonomyError(f"{where} ({slug}): key {key!r} is used twice")
        keys.add(key)
        categories.append(
            CategorySpec(
                slug,
                name,
                str(item.get("description") or ""),
                colour,
                key,
                str(item.get("parent") or ""),
            )
        )
    slugs = [c.slug for c in categories]
    duplicates = {s for s in slugs if slugs.count(s) > 1}
    if duplicates:
        raise TaxonomyError(f"{source}: category slugs used twice: {', '.join(sorted(duplicates))}")
    for c in categories:
        if c.parent and c.parent not in slugs:
            raise TaxonomyError(f"{source}: category {c.slug}: parent {c.parent!r} is not defined")
    attributes = []
    for n, item in enumerate(data.get("attributes") or [], start=1):
        where = f"{source}: attributes[{n}]"
        if not isinstance(item, dict) or not item.get("name"):
            raise TaxonomyError(f"{where}: must be a mapping with a name")
        name = str(item["name"]).strip()
        slug = str(item.get("slug") or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"))
        values = item.get("values") or []
        if not isinstance(values, list) or not all(isinstance(v, str | int) for v in values):
            raise TaxonomyError(f"{where} ({name}): values must be a list of strings")
        used_by = item.get("categories") or []
        unknown = [c for c in used_by if c not in slugs]
        if unknown:
            raise TaxonomyError(f"{where} ({name}): unknown categories {', '.join(unknown)}")
        attributes.append(AttributeSpec(slug, name, [str(v) for v in values], list(used_by)))
    return TaxonomySpec(str(data.get("name") or source), categories, attributes)


def install_taxonomy(spec: TaxonomySpec, category_model, attribute_model, value_model) -> None:
    """Create or update categories and attributes by slug (tags keep their categories)."""
    with transaction.atomic():
        category_model.objects.filter(key__in=[c.key for c in spec.categories if c.key]).exclude(
            slug__in=[c.slug for c in spec.categories]
        ).update(key="")
        by_slug = {}
        for order, c in enumerate(spec.categories):
            by_slug[c.slug], _ = category_model.objects.update_or_create(
                slug=c.slug,
                defaults={
                    "name": c.name,
                    "description": c.description,
                    "colour": c.colour,
                    "key": c.key,
                    "order": order,
                    "parent": None,
                },
            )
        for c in spec.categories:
            if c.parent:
                by_slug[c.slug].parent = by_slug[c.parent]
                by_slug[c.slug].save(update_fields=["parent"])
        for order, a in enumerate(spec.attributes):
            attribute, _ = attribute_model.objects.update_or_create(
                slug=a.slug, defaults={"name": a.name, "order": order}
            )
            attribute.categories.set([by_slug[s] for s in a.categories])
            for value_order, value in enumerate(a.values):
                value_model.objects.update_or_create(
                    attribute=attribute, value=value, defaults={"order": value_order}
                )


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def chip_colour(hex_colour: str, minimum: float = 4.5) -> str:
    """The category's colour, darkened just enough for white text on it to meet WCAG AA
    (contrast >= 4.5:1), so a light category colour still gives a readable chip."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(101):
        factor = 1 - step / 100
        colour = f"#{round(red * factor):02x}{round(green * factor):02x}{round(blue * factor):02x}"
        if 1.05 / (_luminance(colour) + 0.05) >= minimum:
            return colour
    return "#000000"
