"""The importer end to end: real files, real archives, a real git repository, the real database."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from policies.companies import MergeConflict, merge_companies
from policies.importing import deriving
from policies.importing.importer import build_text, import_items, import_paths
from policies.importing.sources import SourceItem
from policies.models import Company, ImportFileResult, ImportRun, PolicyText, Section, Snapshot
from policies.tests.factories import (
    make_company,
    make_snapshot,
    make_text,
    policy_text,
    write_policy,
)

pytestmark = pytest.mark.django_db

BODY = (
    "# Example Privacy\n\nIntro text.\n\n## What we collect\n\nYour name.\n\n## Sharing\n\nNone.\n"
)


def run_command(*args: str) -> tuple[int, str, str]:
    """Run import_policies like a shell would; returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_policies", "--no-progress", *args, stdout=out, stderr=err)
        status = 0
    except CommandError as exc:
        err.write(str(exc))
        status = exc.returncode
    return status, out.getvalue(), err.getvalue()


def test_seeds_import_as_five_captures_of_four_companies(sample_dir):
    status, out, _ = run_command(str(sample_dir / "seeds"))
    assert status == 0, out
    assert Snapshot.objects.count() == 5
    assert Company.objects.count() == 4
    livejournal = Company.objects.get(slug="livejournal.com")
    dates = [s.captured_at for s in livejournal.snapshots.order_by("captured_at")]
    assert dates == [
        datetime(2004, 12, 31, 6, 31, 19, tzinfo=UTC),
        datetime(2005, 6, 22, 4, 34, 45, tzinfo=UTC),
    ]
    first = livejournal.snapshots.earliest()
    assert first.source_url == "http://www.livejournal.com/legal/privacy.bml"
    assert first.archive_url.startswith("https://web.archive.org/web/20041231063119id_/")
    assert "new captures: 5" in out


def test_whole_corpus_sample_imports_without_failure(sample_dir):
    status, out, _ = run_command(str(sample_dir / "corpus-sample"))
    assert status == 0, out
    assert Snapshot.objects.count() == 32
    assert ImportFileResult.objects.filter(outcome="failed").count() == 0
    # live5news.com 2017 repeats 2015 word for word: stored as unchanged, text shared.
    live5 = list(Snapshot.objects.filter(company__slug="live5news.com").order_by("captured_at"))
    assert [s.unchanged for s in live5] == [False, True]
    assert live5[0].text_id == live5[1].text_id
    # The .ru copy of livejournal's policy is another company sharing the same stored text.
    ru = Snapshot.objects.get(company__slug="livejournal.ru")
    com = Snapshot.objects.filter(company__slug="livejournal.com").latest()
    assert ru.text_id == com.text_id
    assert "unchanged captures: 1" in out


def test_texts_derived_in_the_second_process_are_stored_as_derived_in_process(
    sample_dir, monkeypatch
):
    monkeypatch.setattr(deriving, "MIN_TEXTS_TO_START", 1)  # every batch goes to the process
    status, out, _ = run_command(str(sample_dir / "corpus-sample"))
    assert status == 0, out
    fields = ("position", "heading", "level", "body", "anchor", "plain")
    texts = PolicyText.objects.prefetch_related("sections")
    assert len(texts) > 20
    for stored in texts:
        text, sections = build_text(stored.body)
        assert (stored.page_title, stored.word_count, stored.normalized_hash) == (
            text.page_title,
            text.word_count,
            text.normalized_hash,
        )
        stored_sections = sorted(stored.sections.all(), key=lambda s: s.position)
        assert [tuple(getattr(s, f) for f in fields) for s in stored_sections] == [
            tuple(getattr(s, f) for f in fields) for s in sections
        ]


def test_an_error_reading_the_sources_stops_the_run_and_says_so():
    # Files are read by a thread ahead of the writes: its error reaches the importer, in order.
    def items():
        for n in range(3):
            yield SourceItem(
                f"p{n}.md", policy_text("example.com", f"2015010{n + 1}000000", BODY).encode()
            )
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="the disk went away"):
        import_items(items(), source="a disk")
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED
    assert run.message == "stopped: OSError: the disk went away"


def test_reimport_adds_nothing(sample_dir):
    run_command(str(sample_dir / "seeds"))
    counts = (Snapshot.objects.count(), PolicyText.objects.count(), Section.objects.count())
    status, out, _ = run_command(str(sample_dir / "seeds"))
    assert status == 0
    assert (Snapshot.objects.count(), PolicyText.objects.count(), Section.objects.count()) == counts
    assert "already present: 5" in out
    assert "new captures: 0" in out


def test_unchanged_capture_stores_no_second_text(tmp_path):
    write_policy(tmp_path, "example.com", "20150101000000", BODY)
    write_policy(tmp_path, "example.com", "20160101000000", BODY)
    summary = import_paths([tmp_path])
    assert (summary.new, summary.unchanged) == (1, 1)
    assert PolicyText.objects.count() == 1
    snapshots = list(Snapshot.objects.order_by("captured_at"))
    assert [s.unchanged for s in snapshots] == [False, True]
    assert [s.heading for s in snapshots[1].sections] == ["Preamble", "What we collect", "Sharing"]
    assert "".join(s.body for s in snapshots[1].sections) == BODY


def test_out_of_order_import_recomputes_unchanged_flags(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_policy(tmp_path / "a", "example.com", "20160101000000", BODY)
    import_paths([tmp_path / "a"])
    write_policy(tmp_path / "b", "example.com", "20150101000000", BODY)
    import_paths([tmp_path / "b"])
    flags = list(Snapshot.objects.order_by("captured_at").values_list("unchanged", flat=True))
    assert flags == [False, True]


def test_body_is_stored_exactly_and_header_is_parsed(tmp_path):
    body = "Line one  \nwith a hard break\r\n\n**Bold heading**\n\ntext\n"
    (tmp_path / "p.md").write_text(policy_text("example.org", "20100203040506", body))
    import_paths([tmp_path / "p.md"])
    snapshot = Snapshot.objects.get()
    assert snapshot.body == body.replace("\r\n", "\n")
    assert snapshot.captured_at == datetime(2010, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert snapshot.word_count == len(body.split())
    assert len(snapshot.body_hash) == 64


@pytest.mark.parametrize(
    ("filename", "content", "reason"),
    [
        ("empty.md", b"", "empty"),
        ("blank.md", b"  \n\n ", "empty"),
        ("image.md", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "binary"),
        ("noheader.md", b"# Privacy\n\nWe collect.\n", "header"),
        ("undecodable.md", b"\x81\x8d\x8f\x90\x9d" * 40, "UTF-8"),
    ],
)
def test_bad_file_is_reported_by_name_and_the_rest_imports(tmp_path, filename, content, reason):
    write_policy(tmp_path, "good.example", "20150101000000", BODY)
    (tmp_path / filename).write_bytes(content)
    status, out, _ = run_command(str(tmp_path))
    assert status == 1
    assert Snapshot.objects.count() == 1
    failure = ImportFileResult.objects.get(outcome="failed")
    assert failure.name.endswith(filename)
    assert reason.lower() in failure.reason.lower()
    assert f"FAILED {failure.name}" in out
    assert "Traceback" not in out


def test_impossible_date_in_header_is_refused(tmp_path):
    text = policy_text("example.com", "20150101000000", BODY).replace(
        "20150101000000", "20150230000000"
    )
    (tmp_path / "bad.md").write_text(text)
    status, out, _ = run_command(str(tmp_path))
    assert status == 1
    assert Snapshot.objects.count() == 0
    assert "bad.md" in out


def test_cp1252_file_imports_with_a_recorded_warning(tmp_path):
    text = policy_text("example.com", "20150101000000", "Caf\u00e9 \u201cquoted\u201d text.\n")
    (tmp_path / "legacy.md").write_bytes(text.encode("cp1252"))
    status, _, _ = run_command(str(tmp_path))
    assert status == 0
    assert Snapshot.objects.get().body == "Caf\u00e9 \u201cquoted\u201d text.\n"
    assert "1252" in ImportFileResult.objects.get().warnings


def test_utf8_bom_is_accepted(tmp_path):
    text = policy_text("example.com", "20150101000000", BODY)
    (tmp_path / "bom.md").write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert run_command(str(tmp_path))[0] == 0
    assert Snapshot.objects.get().body == BODY


def test_nul_bytes_are_stripped_with_a_warning(tmp_path):
    text = policy_text("example.com", "20150101000000", "We\x00 collect.\n")
    (tmp_path / "nul.md").write_bytes(text.encode())
    assert run_command(str(tmp_path))[0] == 0
    assert Snapshot.objects.get().body == "We collect.\n"
    assert "NUL" in ImportFileResult.objects.get().warnings


def test_overrides_import_a_file_without_header(tmp_path):
    (tmp_path / "plain.md").write_text(BODY)
    status, out, _ = run_command(
        str(tmp_path), "--domain", "Example.com", "--captured-at", "2012-05-06"
    )
    assert status == 0, out
    snapshot = Snapshot.objects.get()
    assert snapshot.company.slug == "example.com"
    assert snapshot.captured_at == datetime(2012, 5, 6, tzinfo=UTC)
    assert snapshot.body == BODY


def test_file_over_the_size_cap_is_refused(tmp_path):
    write_policy(tmp_path, "example.com", "20150101000000", BODY + "word " * 3000)
    status, out, _ = run_command(str(tmp_path), "--max-file-size", "10KB")
    assert status == 1
    assert Snapshot.objects.count() == 0
    assert "limit" in ImportFileResult.objects.get().reason


def test_usage_errors_exit_with_status_2(tmp_path):
    assert run_command(str(tmp_path), "--captured-at", "2015-02-30")[0] == 2
    assert run_command(str(tmp_path), "--max-file-size", "lots")[0] == 2


def test_missing_path_is_a_failure_not_a_traceback(tmp_path):
    status, out, _ = run_command(str(tmp_path / "nope"))
    assert status == 1
    assert "nope" in out


def test_conflicting_capture_at_same_time_fails_alone(tmp_path):
    write_policy(tmp_path, "example.com", "20150101000000", BODY)
    import_paths([tmp_path])
    other = tmp_path / "other"
    other.mkdir()
    write_policy(other, "example.com", "20150101000000", BODY + "\nA new clause.\n")
    write_policy(other, "example.com", "20160101000000", BODY + "\nAnother.\n")
    summary = import_paths([other])
    assert (summary.new, summary.failed) == (1, 1)
    assert "already stored" in summary.failures[0].reason
    assert PolicyText.objects.count() == 2  # no orphan text for the refused capture


@pytest.mark.postgres
def test_capture_refused_by_the_database_fails_alone_and_leaves_nothing(tmp_path):
    # PostgreSQL enforces the 2000-character archive URL limit; the batch falls back to one
    # transaction per capture so only the offending file fails.
    write_policy(tmp_path, "good.example", "20150101000000", BODY)
    long_source = "http://bad.example/" + "x" * 2100
    bad = policy_text("bad.example", "20150101000000", BODY).replace(
        "http%3A%2F%2Fwww.bad.example%2Fprivacy", long_source
    )
    (tmp_path / "z_bad.md").write_text(bad)
    summary = import_paths([tmp_path])
    assert (summary.new, summary.failed) == (1, 1)
    assert "database refused" in summary.failures[0].reason
    assert not Snapshot.objects.filter(company__slug="bad.example").exists()
    assert ImportFileResult.objects.count() == 2


def test_dry_run_writes_nothing_and_reports_what_would_happen(sample_dir):
    status, out, _ = run_command(str(sample_dir / "seeds"), "--dry-run")
    assert status == 0
    assert "Dry run" in out
    assert "new captures: 5" in out
    assert Snapshot.objects.count() == 0
    assert ImportRun.objects.count() == 0
    assert Company.objects.count() == 0


def test_json_prints_one_line_per_file(sample_dir):
    status, out, err = run_command(str(sample_dir / "seeds"), "--json")
    assert status == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 5
    assert {line["outcome"] for line in lines} == {"new"}
    assert all(line["file"].endswith(".txt") for line in lines)
    assert "Files read: 5" in err


def test_run_is_recorded_with_per_file_outcomes(tmp_path):
    write_policy(tmp_path, "example.com", "20150101000000", BODY)
    write_policy(tmp_path, "example.com", "20160101000000", BODY)
    (tmp_path / "zz.md").write_bytes(b"")
    import_paths([tmp_path])
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.COMPLETED_WITH_ERRORS
    assert (run.files_read, run.new_count, run.unchanged_count, run.failed_count) == (3, 1, 1, 1)
    outcomes = list(run.results.values_list("outcome", flat=True))
    assert outcomes == ["new", "unchanged", "failed"]
    assert run.finished_at is not None


def test_zip_archive_imports_and_hostile_members_are_reported(tmp_path, sample_dir):
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for seed in sorted((sample_dir / "seeds").iterdir()):
            zf.write(seed, f"seeds/{seed.name}")
        zf.writestr("../escape.md", policy_text("evil.example", "20150101000000", BODY))
        zf.writestr("/abs.md", policy_text("evil.example", "20160101000000", BODY))
    status, out, _ = run_command(str(archive))
    assert status == 1
    assert Snapshot.objects.count() == 5
    assert not Company.objects.filter(slug="evil.example").exists()
    failed = sorted(
        ImportFileResult.objects.filter(outcome="failed").values_list("name", flat=True)
    )
    assert len(failed) == 2
    assert failed[0].endswith(":../escape.md")
    assert failed[1].endswith(":/abs.md")
    assert all(name.startswith(str(archive)) for name in failed)


def test_zip_bomb_is_stopped_at_the_cap(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.md", b"0" * (30 * 1024 * 1024))
    status, out, _ = run_command(str(archive), "--max-archive-size", "1MB")
    assert status == 1
    assert Snapshot.objects.count() == 0
    assert "limit" in ImportFileResult.objects.get().reason


def test_tar_gz_archive_imports(tmp_path, sample_dir):
    archive = tmp_path / "seeds.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(sample_dir / "seeds", arcname="seeds")
    assert run_command(str(archive))[0] == 0
    assert Snapshot.objects.count() == 5


def _git(repo: Path, *args: str, when: str | None = None) -> None:
    env = {**os.environ}
    if when:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    subprocess.run(
        ["git", "-c", "user.name=Corpus", "-c", "user.email=corpus@example.org", *args],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )


def test_git_clone_in_corpus_layout_imports_every_version(tmp_path):
    repo = tmp_path / "corpus"
    repo.mkdir()
    _git(repo, "init", "-q")
    path = repo / "e" / "ex" / "exa" / "example.com.md"
    path.parent.mkdir(parents=True)
    other = repo / "o" / "ot" / "oth" / "other.org.md"
    other.parent.mkdir(parents=True)
    versions = [
        ("example.com", path, "20150101120000", BODY),
        ("other.org", other, "20150601000000", BODY),
        ("example.com", path, "20160101120000", BODY),
        ("example.com", path, "20170101120000", BODY + "\n## Retention\n\nA year.\n"),
    ]
    for domain, file, ts, body in versions:
        file.write_text(policy_text(domain, ts, body))
        _git(repo, "add", "-A")
        _git(
            repo,
            "commit",
            "-q",
            "-m",
            f"{domain} {ts}",
            when=f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}T12:00:00Z",
        )
    status, out, _ = run_command(str(repo))
    assert status == 0, out
    example = Company.objects.get(slug="example.com")
    assert list(example.snapshots.order_by("captured_at").values_list("unchanged", flat=True)) == [
        False,
        True,
        False,
    ]
    assert Company.objects.get(slug="other.org").snapshots.count() == 1
    assert run_command(str(repo))[0] == 0
    assert Snapshot.objects.count() == 4


def test_merge_companies_moves_domains_and_captures():
    a = make_company(slug="psiphon3.com")
    b = make_company(slug="psiphon3.net")
    make_snapshot(a, captured_at=datetime(2018, 1, 1, tzinfo=UTC))
    make_snapshot(b, captured_at=datetime(2019, 1, 1, tzinfo=UTC))
    moved = merge_companies(a, [b])
    assert moved == 1
    assert sorted(a.domains.values_list("name", flat=True)) == ["psiphon3.com", "psiphon3.net"]
    assert a.snapshots.count() == 2
    assert not Company.objects.filter(slug="psiphon3.net").exists()
    assert list(a.snapshots.order_by("captured_at").values_list("unchanged", flat=True)) == [
        False,
        True,
    ]


def test_merge_refuses_to_lose_a_capture():
    a = make_company(slug="a.example")
    b = make_company(slug="b.example")
    when = datetime(2018, 1, 1, tzinfo=UTC)
    make_snapshot(a, captured_at=when)
    make_snapshot(b, captured_at=when, body="Different text.\n")
    with pytest.raises(MergeConflict):
        merge_companies(a, [b])
    assert Company.objects.filter(slug="b.example").exists()
    assert b.snapshots.count() == 1


def test_one_capture_per_company_and_time_is_a_database_constraint():
    snapshot = make_snapshot()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_snapshot(snapshot.company, captured_at=snapshot.captured_at)


def test_section_positions_are_unique_within_a_text():
    text = make_text()
    with pytest.raises(IntegrityError), transaction.atomic():
        text.sections.create(position=0, heading="x", level=2, body="x", anchor="other")


def test_section_level_is_checked_by_the_database():
    text = make_text()
    with pytest.raises(IntegrityError), transaction.atomic():
        text.sections.create(position=99, heading="x", level=9, body="x", anchor="lvl")


def test_import_keeps_company_capture_stats(sample_dir):
    run_command(str(sample_dir / "seeds"))
    livejournal = Company.objects.get(slug="livejournal.com")
    assert livejournal.capture_count == 2
    assert livejournal.first_capture == datetime(2004, 12, 31, 6, 31, 19, tzinfo=UTC)
    assert livejournal.last_capture == datetime(2005, 6, 22, 4, 34, 45, tzinfo=UTC)
    run_command(str(sample_dir / "corpus-sample"))
    livejournal.refresh_from_db()
    assert livejournal.capture_count == 4
    assert livejournal.last_capture.year == 2017


def test_merge_recounts_the_target_company():
    a = make_company(slug="one.example")
    b = make_company(slug="two.example")
    make_snapshot(a, captured_at=datetime(2018, 1, 1, tzinfo=UTC))
    make_snapshot(b, captured_at=datetime(2019, 1, 1, tzinfo=UTC))
    merge_companies(a, [b])
    a.refresh_from_db()
    assert (a.capture_count, a.last_capture.year) == (2, 2019)


def test_deleting_a_capture_in_the_admin_recounts_its_company(admin_client):
    company = make_company(slug="gone.example")
    first = make_snapshot(company, captured_at=datetime(2018, 1, 1, tzinfo=UTC))
    make_snapshot(company, captured_at=datetime(2019, 1, 1, tzinfo=UTC))
    response = admin_client.post(f"/admin/policies/snapshot/{first.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    company.refresh_from_db()
    assert (company.capture_count, company.first_capture.year) == (1, 2019)
    assert Snapshot.objects.get(company=company).unchanged is False


@pytest.mark.postgres
def test_a_bulk_import_analyzes_the_tables_it_grew(tmp_path, monkeypatch):
    # Statistics from before a bulk import make the planner sort every section by md5(body)
    # instead of using its index (searches take seconds), and autovacuum may be off.
    from django.db import connection

    from policies.importing import importer

    monkeypatch.setattr(importer, "ANALYZE_MIN_CAPTURES", 3)
    for day in range(1, 5):
        write_policy(tmp_path, "example.com", f"2015010{day}000000", BODY + f"\nDay {day}.\n")
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        started = cursor.fetchone()[0]
    import_paths([tmp_path])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE last_analyze >= %s", [started]
        )
        analysed = {name for (name,) in cursor.fetchall()}
    assert {"policies_section", "policies_policytext", "policies_snapshot"} <= analysed
    # and what the trends read, rebuilt for the companies imported
    assert {"policies_seasonpolicy", "policies_trendtext"} <= analysed


def test_a_small_import_analyzes_nothing(django_assert_max_num_queries):
    from policies.importing.importer import analyze_after_import

    # Below autovacuum's 50-row threshold an import asks nothing of the database.
    with django_assert_max_num_queries(0):
        assert analyze_after_import(49) == []
