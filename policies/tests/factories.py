"""Hand-written test factories for the policies app."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from policies.importing.corpus import header_line
from policies.importing.importer import build_text
from policies.models import Company, Domain, PolicyText, Section, Snapshot


def policy_text(domain: str, timestamp: str, body: str) -> str:
    return f"{header_line(domain, timestamp)}\n\n{body}"


def write_policy(folder: Path, domain: str, timestamp: str, body: str) -> Path:
    path = folder / f"{domain}_{timestamp}.md"
    path.write_text(policy_text(domain, timestamp, body), encoding="utf-8")
    return path


def make_company(**overrides) -> Company:
    slug = overrides.pop("slug", "example.com")
    company = Company.objects.create(slug=slug, name=overrides.pop("name", slug), **overrides)
    Domain.objects.create(name=slug, company=company)
    return company


def make_text(body: str = "# Title\n\nWe collect data.\n\n## Sharing\n\nWe share it.\n"):
    """The stored text for `body`, made as the importer makes it (once per body)."""
    text, sections = build_text(body)
    existing = PolicyText.objects.filter(sha256=text.sha256).first()
    if existing is not None:
        return existing
    text.save()
    for section in sections:
        section.text = text
    Section.objects.bulk_create(sections)
    return text


def make_snapshot(company: Company | None = None, **overrides) -> Snapshot:
    company = company or make_company()
    when = overrides.pop("captured_at", datetime(2015, 6, 1, 12, 0, tzinfo=UTC))
    body = overrides.pop("body", None)
    text = overrides.pop("text", None) or (make_text(body) if body else make_text())
    snapshot = Snapshot.objects.create(
        company=company,
        domain=overrides.pop("domain", None) or company.domains.first(),
        captured_at=when,
        archive_url=overrides.pop(
            "archive_url", f"https://web.archive.org/web/{when:%Y%m%d%H%M%S}id_/http://x/"
        ),
        source_url=overrides.pop("source_url", f"http://{company.slug}/privacy"),
        text=text,
        **overrides,
    )
    Company.objects.refresh_capture_stats([company.pk])
    return snapshot
