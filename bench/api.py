"""Benchmark the API's list endpoints at 100,000 captures: server time per request, in process.

    .venv/bin/python bench/api.py [--companies N] [--captures M] [--tags T] [--runs R]
        [--database-url URL] [--keep] [--reuse]

Creates and loads `palimpsest_bench_api` (its name must contain "bench") with bench/search.py's
corpus (N companies x M captures, default 2,000 x 50 = 100,000, built by bench/corpus.py,
loaded with COPY), adds T tags (default 100,000: one on the first section of each capture, in
rotating categories), then times each list endpoint through Django's test client with a
Researcher's token (the token lookup and the rate count included, as a caller pays them):
companies (first page, a name filter, a page deep into the list), a company's captures, tags
(first page, a category filter, a deep page) and the trends. Each URL runs once to warm up,
then R times; p50 and p90 in milliseconds. Goal: list endpoints p50 <= 20 ms. The database
is dropped at the end unless --keep; --reuse uses it as it is (adding the tags if it has none,
so bench/trends.py's database serves too).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/palimpsest_bench_api"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--captures", type=int, default=50, help="per company")
    parser.add_argument("--tags", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the database as it is")
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else None
if ARGS is not None:  # Django must read the benchmark database's URL before it starts
    os.environ["DATABASE_URL"] = ARGS.database_url
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# In-process requests, as bench/pages.py makes them: no HTTPS redirect, the test client's host.
os.environ.update(SECURE_SSL_REDIRECT="0", ALLOWED_HOSTS="testserver")

import django  # noqa: E402

django.setup()

import benchdb as databases  # noqa: E402 (bench/ is the script's folder)
import pages  # noqa: E402 (CPU time of a request)
import search as search_bench  # noqa: E402 (its corpus: generate + COPY)
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from annotations.models import Annotation, Category  # noqa: E402
from annotations.tests.factories import make_user  # noqa: E402
from api.tokens import issue_token  # noqa: E402
from policies.models import Company  # noqa: E402
from policies.permissions import RESEARCHER  # noqa: E402

# One tag per capture on its first section's first 20 characters (start 0), rotating categories.
_TAGS_SQL = """
INSERT INTO annotations_annotation (start, "end", quote, prefix, suffix, attributes, note, kind,
    status, origin_quote, version, created_at, updated_at, annotator_id, section_id,
    snapshot_id, category_id, uuid, layer)
SELECT 0, length(left(s.plain, 20)), left(s.plain, 20), '', '', '{}', '', 'original', 'active',
    '', 1, now(), now(), %(user)s, s.id, sn.id,
    (%(categories)s::bigint[])[1 + sn.id %% cardinality(%(categories)s::bigint[])],
    gen_random_uuid(), 'annotator'
FROM policies_snapshot sn
JOIN policies_section s ON s.text_id = sn.text_id AND s.position = 0
WHERE length(s.plain) > 0
ORDER BY sn.id LIMIT %(tags)s
"""


def add_tags(count: int, user_id: int) -> int:
    categories = list(Category.objects.order_by("pk").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        params = {"user": user_id, "categories": categories, "tags": count}
        cursor.execute(_TAGS_SQL, params)
        added = cursor.rowcount
        cursor.execute("ANALYZE annotations_annotation")
        return added


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(client: Client, url: str, headers: dict, runs: int) -> tuple[int, float, float, float]:
    """Status, p50 and p90 wall milliseconds, and p50 CPU milliseconds (this process and its
    PostgreSQL backend: on a shared, busy machine wall time mostly measures the CPU queue)."""
    status = client.get(url, **headers).status_code  # warm-up
    timings, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), pages.cpu_seconds()
        client.get(url, **headers)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((pages.cpu_seconds() - cpu_started) * 1000)
    return status, statistics.median(timings), _percentile(timings, 0.9), statistics.median(cpu)


def _deep_cursor(client: Client, url: str, headers: dict, pages: int) -> str:
    """The cursor `pages` pages into a list."""
    cursor = ""
    for _ in range(pages):
        body = client.get(f"{url}{'&' if '?' in url else '?'}cursor={cursor}", **headers).json()
        cursor = body["next_cursor"] or cursor
    return cursor


def urls(client: Client, headers: dict) -> dict[str, str]:
    company = Company.objects.order_by("-capture_count", "pk").values_list("slug", flat=True)[0]
    category = Category.objects.order_by("pk").values_list("slug", flat=True)[0]
    deep_companies = _deep_cursor(client, "/api/v1/companies?limit=50", headers, 30)
    deep_tags = _deep_cursor(client, "/api/v1/tags?limit=200", headers, 25)
    return {
        "companies, first page": "/api/v1/companies",
        "companies, name filter": "/api/v1/companies?q=shop",
        "companies, 31st page": f"/api/v1/companies?limit=50&cursor={deep_companies}",
        "a company's captures (50)": f"/api/v1/companies/{company}/captures",
        "tags, first page": "/api/v1/tags",
        "tags, one category": f"/api/v1/tags?category={category}",
        "tags, 26th page of 200": f"/api/v1/tags?limit=200&cursor={deep_tags}",
        "trends, no query": "/api/v1/trends",
    }


def main(args: argparse.Namespace) -> None:
    print(
        f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    if not args.reuse:
        databases.recreate_database(args.database_url, migrate=True)
        tables = search_bench.generate(args.companies, args.captures, args.seed)
        search_bench.load(args.database_url, tables)
        del tables
        Company.objects.refresh_capture_stats(list(Company.objects.values_list("pk", flat=True)))
    user = make_user(f"bench{int(time.time())}", RESEARCHER)
    if not Annotation.objects.exists():
        print(f"Added {add_tags(args.tags, user.pk):,} tags")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user, 'bench')[1]}"}
    client = Client()
    print(f"\n{args.runs} timed requests per URL after a warm-up")
    print("| endpoint | URL | status | p50 ms | p90 ms | CPU p50 ms |")
    print("|---|---|---:|---:|---:|---:|")
    with override_settings(API_RATE_LIMIT=10**9):
        for name, url in urls(client, headers).items():
            status, p50, p90, cpu = measure(client, url, headers, args.runs)
            shown = url if len(url) < 60 else url[:57] + "..."
            print(f"| {name} | `{shown}` | {status} | {p50:.1f} | {p90:.1f} | {cpu:.1f} |")
    if not args.keep:
        connection.close()
        databases.drop_database(args.database_url)


if __name__ == "__main__":
    main(ARGS)
