"""Hand-written test factories for the annotations app."""

from __future__ import annotations

from django.contrib.auth.models import Group, User

from annotations.models import Category
from annotations.tagging.tags import TagRequest, create_tag
from policies.models import Snapshot
from policies.reading.reader import rendered_sections

PASSWORD = "a-long-test-password"


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
