"""The adjudication page of a 200-section capture on PostgreSQL (issue #11: <= 150 ms).

    .venv/bin/python bench/adjudicate.py [--database-url postgres://...] [--runs 21]
        [--sections 200] [--annotators 3] [--decided 50]

Creates (and drops) its own database, `palimpsest_bench_adjudicate`. One capture of
`--sections` sections, each of three sentences; a campaign with `--annotators` annotators on
it, all done; each annotator tags one to three of the ten OPP-115 categories in each section
(a fixed seed, so about half the sections are disputed); a curator has decided `--decided`
categories already. Prints the page's server time (Django's test client, production settings,
no network: median and p90 after one warm-up request, and the process's CPU time, which a
busy shared machine inflates less) and its number of queries.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchdb  # noqa: E402 (bench/ is the script's folder)

DB_NAME = "palimpsest_bench_adjudicate"


def _setup_django(database_url: str) -> None:
    benchdb.recreate_database(database_url, migrate=True)
    benchdb.use_database(database_url, test_client=True)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True
    )


def build(sections: int, annotators: int, decided: int, seed: int = 11):
    """The capture, its campaign (everyone done) and the annotators' tags; returns the URL."""
    from django.urls import reverse

    from annotations.campaigns.adjudication import campaign_units, decide
    from annotations.campaigns.campaigns import CampaignSpec, create_campaign, mark_done
    from annotations.campaigns.opp115 import CATEGORY_SLUGS
    from annotations.models import Category
    from annotations.tagging.tags import TagRequest, create_tag
    from annotations.tests.factories import make_user
    from policies.permissions import CURATOR, REVIEWER
    from policies.reading.reader import rendered_sections
    from policies.tests.factories import make_company, make_snapshot

    rng = random.Random(seed)
    body = "".join(
        f"## Part {n}\n\nWe collect item {n}. We share item {n} with partners. "
        f"We keep item {n} for a year.\n\n"
        for n in range(sections)
    )
    company = make_company(slug="adjudicate.example")
    capture = make_snapshot(company, captured_at=datetime(2020, 1, 1, tzinfo=UTC), body=body)
    people = [make_user(f"annotator{n}", REVIEWER) for n in range(annotators)]
    campaign = create_campaign(
        CampaignSpec(
            slug="bench",
            annotators=[p.username for p in people],
            companies=[company.slug],
            per_capture=annotators,
        )
    )
    categories = list(Category.objects.filter(slug__in=CATEGORY_SLUGS.values()))
    tags = 0
    for section in rendered_sections(capture.text):
        sentences = [s + "." for s in section.plain.split(".") if s.strip()]
        for person in people:
            for category in rng.sample(categories, rng.randint(1, 3)):
                sentence = rng.choice(sentences).strip()
                start = section.plain.find(sentence)
                request = TagRequest(
                    capture, section, start, start + len(sentence), sentence, category, {}
                )
                tags += create_tag(request, person)[1]
    for person in people:
        mark_done(campaign, capture.pk, person)
    curator = make_user("curator", CURATOR)
    units = campaign_units(campaign, snapshot=capture)
    for unit in units[:decided]:
        slug = next(iter(unit.votes))
        decide(campaign, unit, next(c for c in categories if c.slug == slug), True, curator)
    url = reverse("campaign_adjudicate", args=[campaign.slug, company.slug, capture.timestamp])
    disputed = sum(1 for u in units if u.disputed)
    return url, curator, tags, disputed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchdb.database_arguments(parser, DB_NAME)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--sections", type=int, default=200)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--decided", type=int, default=50)
    args = parser.parse_args()
    _setup_django(args.database_url)
    from django.db import connection
    from django.test import Client

    started = time.perf_counter()
    url, curator, tags, disputed = build(args.sections, args.annotators, args.decided)
    print(
        f"{args.sections} sections, {args.annotators} annotators, {tags} tags, "
        f"{disputed} disputed units, {args.decided} decided (built in "
        f"{time.perf_counter() - started:.1f} s)"
    )
    client = Client()
    client.force_login(curator)
    first = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    print(f"first request {(time.perf_counter() - first) * 1000:.1f} ms")
    queries: list[str] = []

    def counted(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        client.get(url)
    times, cpu = [], []
    for _ in range(args.runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    times.sort()
    p50 = statistics.median(times)
    p90 = times[max(0, int(len(times) * 0.9) - 1)]
    verdict = "meets" if p50 <= 150 else "MISSES"
    print(
        f"adjudication page: p50 {p50:.1f} ms, p90 {p90:.1f} ms (this process's CPU: p50 "
        f"{statistics.median(cpu):.1f} ms), {len(queries)} queries, "
        f"{len(response.content) // 1024} KiB  (goal 150 ms: {verdict})"
    )
    if not args.keep:
        connection.close()
        benchdb.drop_database(args.database_url)


if __name__ == "__main__":
    main()
