"""Suggestions on PostgreSQL: indexing the corpus's clauses by wording, the index catching up
with a new tag, and the suggestions a tagger is offered on a 2,000-word capture.

    .venv/bin/python bench/suggestions.py [--database-url postgres://...] [--companies 300]
        [--captures 10] [--tags 300] [--runs 15]

Creates (and drops) its own database, `palimpsest_bench_suggest`, imports a synthetic corpus
(bench/corpus.py: policies built from the sample corpus's own sentences, so companies share
wording the way template policies do), indexes it, tags `--tags` random clauses, then times:

- indexing: captures per second, and the time that rate gives for 100,000 captures
  (goal <= 5 minutes);
- a new tag reaching the index (`index_new_tags`, which every path that makes tags runs in its
  transaction; timed here on a tag left unindexed; goal <= 1 s);
- `suggestions_for` on the capture nearest 2,000 words, warm, as the reader calls it (goal
  <= 50 ms server time).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchdb  # noqa: E402 (bench/ is the script's folder)
from corpus import load_vocabulary, prepare_corpus  # noqa: E402

DB_NAME = "palimpsest_bench_suggest"


def _goal(value: float, limit: float, unit: str) -> str:
    return f"goal <= {limit:g} {unit} ({'meets' if value <= limit else 'MISSES'})"


def _setup(args) -> None:
    benchdb.recreate_database(args.database_url, migrate=True)
    benchdb.use_database(args.database_url, test_client=True)


def _import(args, root: Path) -> int:
    from policies.importing.importer import import_paths
    from policies.models import Snapshot

    corpus = prepare_corpus(
        root, load_vocabulary(), companies=args.companies, captures=args.captures,
        seed=7, fixed_words=None,
    )  # fmt: skip
    import_paths([corpus.path])
    return Snapshot.objects.count()


def _index(captures: int) -> None:
    from annotations.suggesting import index

    started = time.perf_counter()
    clauses = index.index_pending()
    seconds = time.perf_counter() - started
    rate = captures / seconds
    projected = 100_000 / rate
    print(
        f"indexed {clauses:,} clauses of {captures:,} captures in {seconds:.1f} s: "
        f"{rate:,.0f} captures/s"
    )
    goal = _goal(projected, 300, "s")
    print(f"  100,000 captures at that rate: {projected / 60:.1f} min  {goal}")


def _tag_random(count: int, seed: int = 11):
    from annotations.models import Category
    from annotations.suggesting.wording import is_indexed, sentence_spans
    from annotations.tagging.tags import TagRequest, create_tag
    from annotations.tests.factories import make_user
    from policies.models import Snapshot
    from policies.permissions import REVIEWER
    from policies.reading.reader import rendered_sections

    rng = random.Random(seed)
    user = make_user("bench", REVIEWER)
    categories = list(Category.objects.all())
    snapshots = list(Snapshot.objects.select_related("text").order_by("?")[: count * 2])
    made = 0
    for snapshot in snapshots:
        sections = [s for s in rendered_sections(snapshot.text) if s.plain]
        section = rng.choice(sections)
        spans = [(a, b) for a, b in sentence_spans(section.plain) if is_indexed(section.plain[a:b])]
        if not spans:
            continue
        a, b = rng.choice(spans)
        category = rng.choice(categories)
        create_tag(TagRequest(snapshot, section, a, b, section.plain[a:b], category, {}), user)
        made += 1
        if made == count:
            break
    return user


def _timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def _suggestions(user, runs: int) -> None:
    from django.db.models import F, Func

    from annotations.models import Category, TaggedWording
    from annotations.suggesting import index
    from annotations.suggesting.suggestions import suggestions_for
    from annotations.tagging.tags import TagRequest, create_tag
    from policies.models import Snapshot
    from policies.reading.reader import rendered_sections

    snapshot = (
        Snapshot.objects.select_related("text", "company")
        .annotate(distance=Func(F("text__word_count") - 2000, function="ABS"))
        .order_by("distance")
        .first()
    )
    sections = rendered_sections(snapshot.text)
    suggestions_for(snapshot, sections, user)  # warm: the clause cut and the model are cached
    times = _timed(lambda: suggestions_for(snapshot, sections, user), runs)
    found = sum(len(v) for v in suggestions_for(snapshot, sections, user).values())
    p50 = statistics.median(times)
    print(
        f"suggestions_for a {snapshot.text.word_count:,}-word capture ({found} offered): "
        f"p50 {p50:.1f} ms  p90 {times[int(len(times) * 0.9) - 1]:.1f} ms  {_goal(p50, 50, 'ms')}"
    )
    section = next(s for s in sections if len(s.plain) > 60)
    first_line = section.plain.split("\n")[0]
    category = Category.objects.first()
    tag = create_tag(
        TagRequest(snapshot, section, 0, len(first_line), first_line, category, {}), user
    ).tag
    TaggedWording.objects.filter(tag=tag).delete()  # as a path that did not index it leaves it
    started = time.perf_counter()
    assert index.index_new_tags() <= 1
    ms = (time.perf_counter() - started) * 1000
    print(f"a new tag reaches the index in {ms:.1f} ms  {_goal(ms, 1000, 'ms')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchdb.database_arguments(parser, DB_NAME)
    parser.add_argument("--companies", type=int, default=300)
    parser.add_argument("--captures", type=int, default=10)
    parser.add_argument("--tags", type=int, default=300)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--corpus", type=Path, help="folder to keep generated corpora in")
    args = parser.parse_args()
    _setup(args)
    with tempfile.TemporaryDirectory() as tmp:
        captures = _import(args, args.corpus or Path(tmp))
        print(f"load {os.getloadavg()[0]:.1f}; {captures:,} captures imported")
        _index(captures)
        user = _tag_random(args.tags)
        _suggestions(user, args.runs)
    if not args.keep:
        from django.db import connection

        connection.close()
        benchdb.drop_database(args.database_url)


if __name__ == "__main__":
    main()
