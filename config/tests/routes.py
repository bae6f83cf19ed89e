"""Every route of the site, walked from the URL resolver, and a sample URL for each.

The security-header test, the role table and the CSP browser test all start from `site_routes()`,
so a URL added to any urls.py is picked up by all three. A route with path parameters needs an
entry in `SAMPLE_KWARGS`; `sample_url` fails with a message saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

# The admin is Django's own (every page needs is_staff, checked by the admin site itself); the
# role table keeps one row for its index to prove that, and otherwise skips the namespace.
SKIPPED_NAMESPACES = {"admin"}


@dataclass(frozen=True)
class Route:
    """One named URL pattern: its qualified name ("app:name") and its full pattern text."""

    name: str
    pattern: str


@dataclass(frozen=True)
class SiteData:
    """The rows the sample URLs point at (made by the `site_data` fixture)."""

    company: str
    capture: str
    older_capture: str
    tag: int
    import_run: int
    campaign: str
    capture_id: int
    wording: int  # the wording key of a sentence of the newer capture


# Path parameters for each route that has some, from the sample rows.
SAMPLE_KWARGS: dict[str, Callable[[SiteData], dict[str, object]]] = {
    "company_detail": lambda d: {"slug": d.company},
    "compare_form": lambda d: {"slug": d.company},
    "compare": lambda d: {"slug": d.company, "old": d.older_capture, "new": d.capture},
    "snapshot_detail": lambda d: {"slug": d.company, "capture": d.capture},
    "import_detail": lambda d: {"run_id": d.import_run},
    "import_again": lambda d: {"run_id": d.import_run},
    "import_report_csv": lambda d: {"run_id": d.import_run},
    "tag_detail": lambda d: {"pk": d.tag},
    "tag_edit": lambda d: {"pk": d.tag},
    "tag_delete": lambda d: {"pk": d.tag},
    "review_action": lambda d: {"pk": d.tag},
    "campaign_detail": lambda d: {"slug": d.campaign},
    "campaign_edit": lambda d: {"slug": d.campaign},
    "campaign_work": lambda d: {"slug": d.campaign},
    "campaign_agreement": lambda d: {"slug": d.campaign},
    "campaign_agreement_csv": lambda d: {"slug": d.campaign},
    "campaign_adjudicate": lambda d: {
        "slug": d.campaign,
        "company": d.company,
        "capture": d.capture,
    },
    "campaign_capture_done": lambda d: {"slug": d.campaign, "snapshot_id": d.capture_id},
    "review_undo": lambda d: {"pk": d.tag},
    "shared_wording": lambda d: {"slug": d.company, "capture": d.capture},
    "wording_detail": lambda d: {"key": d.wording},
    "export_annotations": lambda d: {"fmt": "jsonl"},
    "company_feed": lambda d: {"slug": d.company},
    # Nobody in the role table owns a token with this id: revoking says so.
    "api_token_revoke": lambda d: {"pk": d.tag},
    "api:company": lambda d: {"slug": d.company},
    "api:company_captures": lambda d: {"slug": d.company},
    "api:policy": lambda d: {"slug": d.company},
    "api:capture": lambda d: {"slug": d.company, "capture": d.capture},
    "api:comparison": lambda d: {"slug": d.company, "old": d.older_capture, "new": d.capture},
    "api:campaign_agreement": lambda d: {"slug": d.campaign},
    # Any other path under /api/ is a JSON 404.
    "api_not_found": lambda d: {"rest": "v0/nothing-here"},
    # django.contrib.auth's reset link, with a token that is (rightly) refused.
}


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in SKIPPED_NAMESPACES:
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            full = prefix + str(entry.pattern)
            if not entry.name:
                raise AssertionError(f"URL pattern {full!r} has no name: give it one")
            yield Route(f"{namespace}{entry.name}", full)


def site_routes() -> list[Route]:
    """Every named route outside the admin, in urls.py order, once each."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns):
        seen.setdefault(route.name, route)
    return list(seen.values())


def sample_url(route: Route | str, data: SiteData) -> str:
    """A URL of the route that resolves to the sample rows; fails for a route without a sample."""
    name = route.name if isinstance(route, Route) else route
    make_kwargs = SAMPLE_KWARGS.get(name)
    if make_kwargs is not None:
        return reverse(name, kwargs=make_kwargs(data))
    try:
        return reverse(name)
    except NoReverseMatch:
        raise AssertionError(
            f"The URL {name!r} takes parameters but config/tests/routes.py has no sample for "
            f"it: add SAMPLE_KWARGS[{name!r}] built from SiteData (add a field if needed)."
        ) from None
