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
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import benchdb  # noqa: E402 (bench/ is the script's folder)
import corpus  # noqa: E402 (the synthetic corpus, loaded with COPY)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    corpus.corpus_arguments(parser)
    parser.add_argument("--tags", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=21)
    benchdb.database_arguments(parser, "palimpsest_bench_api", reuse=True)
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else None
if ARGS is not None:  # Django must read the benchmark database's URL before it starts
    benchdb.use_database(ARGS.database_url, test_client=True)

import goals  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from annotations.models import Annotation, Category  # noqa: E402
from annotations.tests.factories import make_user  # noqa: E402
from api.tokens import issue_token  # noqa: E402
from policies.models import Company, Snapshot  # noqa: E402
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


def measure(client: Client, url: str, headers: dict, runs: int) -> tuple[int, benchdb.Timings]:
    """The status of `url` and its timings (wall, and CPU of this process and its backend)."""
    status = client.get(url, **headers).status_code
    return status, benchdb.timed(lambda: client.get(url, **headers), runs)


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
    print(benchdb.machine())
    if not args.reuse:
        corpus.build_database(args.database_url, args)
    user = make_user(f"bench{int(time.time())}", RESEARCHER)
    if not Annotation.objects.exists():
        print(f"Added {add_tags(args.tags, user.pk):,} tags")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user, 'bench')[1]}"}
    client = Client()
    print(f"\n{args.runs} timed requests per URL after a warm-up")
    print("| endpoint | URL | status | p50 ms | p90 ms | CPU p50 ms |")
    print("|---|---|---:|---:|---:|---:|")
    measured = {}
    with override_settings(API_RATE_LIMIT=10**9):
        for name, url in urls(client, headers).items():
            status, timings = measure(client, url, headers, args.runs)
            measured[name] = timings
            shown = url if len(url) < 60 else url[:57] + "..."
            print(
                f"| {name} | `{shown}` | {status} | {timings.p50:.1f} | {timings.p90:.1f} | "
                f"{timings.cpu_p50:.1f} |"
            )
    captures = Snapshot.objects.count()
    for name, timings in measured.items():
        if not name.startswith("trends"):  # the goal is the lists'
            goals.check(f"API {name}, {captures:,} captures, p50", timings.p50, 20, "ms")
            goals.check(f"API {name}, {captures:,} captures, CPU p50", timings.cpu_p50, 20, "ms")
    if not args.keep:
        connection.close()
        benchdb.drop_database(args.database_url)


if __name__ == "__main__":
    main(ARGS)
