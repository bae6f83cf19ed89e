"""Hand-written test factories for the annotations app."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.models import Group, User

from annotations.lineage.evaluation import Cases
from annotations.models import Category
from annotations.tagging.tags import TagRequest, create_tag
from policies.importing.corpus import parse_header
from policies.models import Snapshot
from policies.reading.reader import rendered_sections

PASSWORD = "a-long-test-password"
SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"


def make_user(username: str = "rita", *roles: str, **overrides) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, **overrides)
    if roles:
        user.groups.add(*Group.objects.filter(name__in=roles))
    return user


def category(slug: str = "third-party-sharing-collection") -> Category:
    return Category.objects.get(slug=slug)


def tag_text(snapshot: Snapshot, needle: str, user: User, slug: str = "data-retention", **extra):
    """Tag the first occurrence of `needle` in the capture (rendering it first if needed)."""
    for section in rendered_sections(snapshot.text):
        at = section.plain.find(needle)
        if at >= 0:
            request = TagRequest(
                snapshot=snapshot,
                section=section,
                start=at,
                end=at + len(needle),
                quote=needle,
                category=category(slug),
                attributes=extra.pop("attributes", {}),
                note=extra.pop("note", ""),
            )
            return create_tag(request, user)[0]
    raise AssertionError(f"{needle!r} is not in {snapshot}")


def sample_captures(cases: Cases, root: Path = SAMPLE_DATA) -> list[Path]:
    """The files under sample_data/ (corpus sample and seeds) that hold the captures a lineage
    evaluation file names, tagged or expected: found by their header lines, the way the importer
    names a capture's company and date (the seeds' file names say neither)."""
    wanted = {(tag.company, tag.on) for tag in cases.tags}
    wanted |= {(tag.company, date) for tag in cases.tags for date in tag.expect}
    files = []
    for path in sorted([*root.glob("corpus-sample/*.md"), *root.glob("seeds/*.txt")]):
        with path.open(encoding="utf-8", errors="replace") as f:
            header = parse_header(f.readline().strip())
        if (header.domain, f"{header.captured_at:%Y-%m-%d}") in wanted:
            files.append(path)
    return files
