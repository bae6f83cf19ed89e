"""Tests for policies.importing.sources: files, folders, hostile archives and git clones as blobs.

Everything runs on real files built in tmp_path: archives are written with zipfile and
tarfile (then damaged byte by byte where a test needs it), clones with the git CLI.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import struct
import subprocess
import tarfile
import tracemalloc
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policies.importing.sources import SourceItem, iter_sources

MB = 1024 * 1024
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git CLI")


def collect(*paths: str | Path, max_file_bytes: int = MB, max_archive_bytes: int = 10 * MB):
    """All items for `paths`, with generous limits unless a test tightens them."""
    return list(
        iter_sources(paths, max_file_bytes=max_file_bytes, max_archive_bytes=max_archive_bytes)
    )


def by_name(items: list[SourceItem]) -> dict[str, SourceItem]:
    return {item.name: item for item in items}


def make_zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in members:
            archive.writestr(member, data)
    return path


def zip_symlink(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so the mode bits below mean something
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def tar_member(name: str, data: bytes = b"", *, kind: bytes = tarfile.REGTYPE, **fields):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    for field, value in fields.items():
        setattr(info, field, value)
    return info, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def make_tar(path: Path, members: list[tuple[tarfile.TarInfo, io.BytesIO | None]], mode="w:gz"):
    with tarfile.open(path, mode) as archive:
        for info, data in members:
            archive.addfile(info, data)
    return path


def write_zeros_member(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """Stream `size` zero bytes into a zip member without holding them in memory."""
    with archive.open(name, "w", force_zip64=True) as member:
        block = bytes(MB)
        for _ in range(size // MB):
            member.write(block)


# --- plain files and folders ----------------------------------------------------------


def test_plain_file_is_read_whatever_its_extension(tmp_path):
    policy = tmp_path / "policy.html"
    policy.write_bytes(b"# Privacy\n")

    assert collect(policy) == [SourceItem(name=str(policy), data=b"# Privacy\n")]


def test_missing_path_is_reported_and_iteration_goes_on(tmp_path):
    real = tmp_path / "a.md"
    real.write_bytes(b"text")

    items = collect(tmp_path / "nope.md", real)

    assert items[0] == SourceItem(
        name=str(tmp_path / "nope.md"), data=None, error="no such file or directory"
    )
    assert items[1].data == b"text"


def test_oversize_file_is_refused_from_its_size(tmp_path):
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * int(6.2 * MB))

    [item] = collect(big, max_file_bytes=5 * MB)

    assert item.data is None
    assert item.error == "file is 6.2 MB, over the 5 MB limit"


def test_file_one_byte_over_the_limit_shows_exact_sizes(tmp_path):
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * (MB + 1))

    [item] = collect(big, max_file_bytes=MB)

    assert item.error == "file is 1,048,577 bytes, over the 1,048,576-byte limit"


def test_file_exactly_at_the_limit_is_read(tmp_path):
    exact = tmp_path / "exact.md"
    exact.write_bytes(b"x" * 1000)

    [item] = collect(exact, max_file_bytes=1000)

    assert item.data == b"x" * 1000


def test_device_is_not_read(tmp_path):
    [item] = collect("/dev/zero")

    assert item.error == "not a regular file (device, pipe or socket)"


def test_folder_is_walked_in_sorted_order_skipping_hidden_and_other_files(tmp_path):
    root = tmp_path / "corpus"
    for relative in [
        "b/bb/second.md",
        "a/aa/first.txt",
        "a/aa/zz.md",
        "c.md",
        ".git-like/hidden.md",
        "a/.hidden/secret.md",
        "a/._resource-fork.md",
        "README.md",
        "a/aa/image.png",
        "notes.rst",
    ]:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(relative.encode())

    items = collect(root)

    assert [Path(item.name).relative_to(root).as_posix() for item in items] == [
        "a/aa/first.txt",
        "a/aa/zz.md",
        "b/bb/second.md",
        "c.md",
    ]
    assert [item.data for item in items] == [
        b"a/aa/first.txt",
        b"a/aa/zz.md",
        b"b/bb/second.md",
        b"c.md",
    ]


def test_folder_symlinks_are_reported_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_bytes(b"secret")
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "a.md").write_bytes(b"a")
    (root / "link.md").symlink_to(outside / "secret.md")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)

    items = collect(root)

    assert items == [
        SourceItem(name=str(root / "a.md"), data=b"a"),
        SourceItem(name=str(root / "link.md"), data=None, error="symlink skipped"),
        SourceItem(name=str(root / "linkdir"), data=None, error="symlink skipped"),
    ]


def test_folder_oversize_file_does_not_stop_the_walk(tmp_path):
    (tmp_path / "a.md").write_bytes(b"x" * 2000)
    (tmp_path / "b.md").write_bytes(b"ok")

    items = collect(tmp_path, max_file_bytes=1024)

    assert items[0].error == "file is 2 KB, over the 1 KB limit"
    assert items[1].data == b"ok"


def test_archives_inside_folders_are_opened(tmp_path):
    make_zip(tmp_path / "batch.zip", [("x/one.md", b"one")])

    [item] = collect(tmp_path)

    assert item == SourceItem(name=f"{tmp_path / 'batch.zip'}:x/one.md", data=b"one")


# --- zip archives --------------------------------------------------------------------------


def test_zip_hostile_members_are_refused_and_good_ones_read(tmp_path):
    archive = make_zip(
        tmp_path / "upload.zip",
        [
            ("good/a.md", b"policy a"),
            ("../evil.md", b"escape"),
            ("/abs.md", b"absolute"),
            ("C:/windows.md", b"drive"),
            ("good\\..\\..\\evil2.md", b"backslash escape"),
            (zip_symlink("link.md", "/etc/passwd"), b"/etc/passwd"),
            ("big.md", b"x" * 3000),
            ("inner.zip", b"PK\x05\x06" + bytes(18)),
            ("good/dir/", b""),
            ("__MACOSX/good/._a.md", b"\x00\x05\x16\x07"),
            ("good/b.txt", b"policy b"),
        ],
    )

    items = by_name(collect(archive, max_file_bytes=2048))
    errors = {name.split(":", 1)[1]: item.error for name, item in items.items() if item.error}

    assert errors == {
        "../evil.md": "archive member path contains '..'",
        "/abs.md": "archive member has an absolute path",
        "C:/windows.md": "archive member has a drive letter",
        "good\\..\\..\\evil2.md": "archive member path contains '..'",
        "link.md": "archive member is a symlink",
        "big.md": "file is 2.9 KB, over the 2 KB limit",
        "inner.zip": "nested archive skipped",
    }
    assert items[f"{archive}:good/a.md"].data == b"policy a"
    assert items[f"{archive}:good/b.txt"].data == b"policy b"
    assert len(items) == 9


def test_zip_bomb_stops_at_the_archive_limit_with_bounded_memory(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("first.md", b"fine")
        write_zeros_member(archive, "zeros.md", 50 * MB)
        archive.writestr("after.md", b"never read")
    assert path.stat().st_size < MB

    tracemalloc.start()
    try:
        items = collect(path, max_file_bytes=100 * MB, max_archive_bytes=10 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert [item.name for item in items] == [f"{path}:first.md", str(path)]
    assert items[0].data == b"fine"
    assert items[1].error == (
        "archive would decompress past the 10 MB limit (stopped at 'zeros.md'); "
        "the remaining members were not read"
    )
    assert peak < 20 * MB


def test_zip_member_lying_about_its_size_is_not_trusted(tmp_path):
    # The headers say 100 bytes; the data inflates to 50 MB of zeros.
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        write_zeros_member(archive, "liar.md", 50 * MB)
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    # zipfile trusts the central directory's size (no zip64 extra there under 4 GB).
    assert struct.unpack_from("<H", data, central + 30)[0] == 0
    struct.pack_into("<I", data, central + 24, 100)
    path.write_bytes(bytes(data))

    tracemalloc.start()
    try:
        items = collect(path, max_file_bytes=5 * MB, max_archive_bytes=10 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    [item] = items
    assert item.data is None
    assert item.error.startswith("corrupt archive member: ")
    assert peak < 20 * MB


def test_zip_members_add_up_to_the_archive_limit(tmp_path):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n in range(4):
            write_zeros_member(archive, f"m{n}.md", 4 * MB)

    items = collect(path, max_file_bytes=5 * MB, max_archive_bytes=10 * MB)

    assert [len(item.data) for item in items[:2]] == [4 * MB, 4 * MB]
    assert items[2].name == str(path)
    assert items[2].error.startswith("archive would decompress past the 10 MB limit")
    assert len(items) == 3


def test_zip_overlapping_entries_are_reported(tmp_path):
    path = make_zip(tmp_path / "overlap.zip", [("a.md", b"a" * 100), ("b.md", b"b" * 100)])
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    # Stretch a.md's compressed size over b.md's entry, as overlapping-entry bombs do.
    compressed = struct.unpack_from("<I", data, central + 20)[0]
    struct.pack_into("<I", data, central + 20, compressed + 60)
    path.write_bytes(bytes(data))

    items = collect(path)

    assert items[0].name == f"{path}:a.md"
    assert "Overlapped entries" in items[0].error
    assert items[1].data == b"b" * 100


def test_truncated_zip_is_one_error(tmp_path):
    path = make_zip(tmp_path / "cut.zip", [("a.md", os.urandom(5000)), ("b.md", b"b")])
    path.write_bytes(path.read_bytes()[:3000])

    [item] = collect(path)

    assert item.name == str(path)
    assert item.error.startswith("not a valid zip archive: ")


def test_corrupt_zip_member_is_reported_and_the_others_stand(tmp_path):
    path = tmp_path / "flipped.zip"
    with zipfile.ZipFile(path, "w") as archive:  # stored: the bytes are the content
        archive.writestr("a.md", b"first")
        archive.writestr("b.md", b"second member")
        archive.writestr("c.md", b"third")
    data = path.read_bytes()
    path.write_bytes(data.replace(b"second member", b"SECOND member"))

    items = collect(path)

    assert [item.data for item in items] == [b"first", None, b"third"]
    assert items[1].error == "corrupt archive member: Bad CRC-32 for file 'b.md'"


def test_file_named_zip_that_is_not_an_archive(tmp_path):
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"# Just a policy\n")

    [item] = collect(fake)

    assert item == SourceItem(
        name=str(fake), data=None, error="not a valid zip archive: File is not a zip file"
    )


def test_archive_type_comes_from_content_not_name(tmp_path):
    tar_named_zip = make_tar(tmp_path / "really-a-tar.zip", [tar_member("a.md", b"from tar")])
    zip_named_tgz = make_zip(tmp_path / "really-a-zip.tgz", [("b.md", b"from zip")])
    zip_without_suffix = make_zip(tmp_path / "download", [("c.md", b"from zip")])

    items = collect(tar_named_zip, zip_named_tgz, zip_without_suffix)

    assert [item.data for item in items] == [b"from tar", b"from zip", b"from zip"]


# --- tar archives --------------------------------------------------------------------------


def test_tar_hostile_members_are_refused_and_good_ones_read(tmp_path):
    path = make_tar(
        tmp_path / "upload.tar.gz",
        [
            tar_member("./good/a.md", b"policy a"),
            tar_member("../evil.md", b"escape"),
            tar_member("/abs.md", b"absolute"),
            tar_member("link.md", kind=tarfile.SYMTYPE, linkname="/etc/passwd"),
            tar_member("hard.md", kind=tarfile.LNKTYPE, linkname="good/a.md"),
            tar_member("dev.md", kind=tarfile.CHRTYPE, devmajor=1, devminor=5),
            tar_member("fifo.md", kind=tarfile.FIFOTYPE),
            tar_member("big.md", b"x" * 3000),
            tar_member("inner.tar.gz", b"\x1f\x8b"),
            tar_member("good", kind=tarfile.DIRTYPE),
            tar_member("good/.hidden.md", b"hidden"),
            tar_member("good/b.txt", b"policy b"),
        ],
    )

    items = collect(path, max_file_bytes=2048)

    assert [(item.name.split(":", 1)[1], item.error or item.data) for item in items] == [
        ("good/a.md", b"policy a"),
        ("../evil.md", "archive member path contains '..'"),
        ("/abs.md", "archive member has an absolute path"),
        ("link.md", "archive member is a symlink"),
        ("hard.md", "archive member is a hard link"),
        ("dev.md", "archive member is a device or other special file"),
        ("fifo.md", "archive member is a device or other special file"),
        ("big.md", "file is 2.9 KB, over the 2 KB limit"),
        ("inner.tar.gz", "nested archive skipped"),
        ("good/b.txt", b"policy b"),
    ]


@pytest.mark.parametrize("mode", ["w", "w:bz2", "w:xz"])
def test_tar_compressions_are_read(tmp_path, mode):
    path = make_tar(tmp_path / "batch.tar", [tar_member("a.md", b"policy")], mode=mode)

    assert collect(path) == [SourceItem(name=f"{path}:a.md", data=b"policy")]


def test_tar_bomb_stops_at_the_archive_limit_with_bounded_memory(tmp_path):
    path = tmp_path / "bomb.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.addfile(*tar_member("first.md", b"fine"))
        info = tarfile.TarInfo("zeros.md")
        info.size = 50 * MB
        archive.addfile(info, io.BufferedReader(_Zeros(info.size)))

    tracemalloc.start()
    try:
        items = collect(path, max_file_bytes=100 * MB, max_archive_bytes=10 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert [item.data for item in items] == [b"fine", None]
    assert items[1].error.startswith("archive would decompress past the 10 MB limit")
    assert peak < 20 * MB


def test_tar_limit_counts_bytes_skipped_between_members(tmp_path):
    # The .png is never read (not a policy), but tarfile still inflates it to move on.
    path = tmp_path / "skip.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("huge.png")
        info.size = 30 * MB
        archive.addfile(info, io.BufferedReader(_Zeros(info.size)))
        archive.addfile(*tar_member("after.md", b"late"))

    items = collect(path, max_file_bytes=MB, max_archive_bytes=10 * MB)

    assert [item.name for item in items] == [str(path)]
    assert items[0].error.startswith("archive would decompress past the 10 MB limit")


def test_truncated_tar_gz_keeps_the_items_already_read(tmp_path):
    path = make_tar(
        tmp_path / "cut.tar.gz",
        [tar_member(f"m{n}.md", os.urandom(20_000)) for n in range(3)],
    )
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])

    items = collect(path)

    assert items[0].name == f"{path}:m0.md"
    assert len(items[0].data) == 20_000
    assert items[-1].name == str(path)
    assert items[-1].error.startswith("archive is truncated or corrupt after ")


def test_plain_tar_cut_inside_a_header_is_reported(tmp_path):
    path = make_tar(tmp_path / "cut.tar", [tar_member("a.md", b"a" * 600)], mode="w")
    data = path.read_bytes()
    # Member a.md: 512-byte header + 1024 bytes of data; cut 100 bytes into the next one.
    path.write_bytes(data[:1536] + b"b.md".ljust(100, b"\0"))

    items = collect(path)

    assert items[0].data == b"a" * 600
    assert items[1].name == str(path)
    assert items[1].error.startswith("archive is truncated or corrupt after 1 member")


def test_tar_with_a_garbage_header_is_reported(tmp_path):
    path = make_tar(
        tmp_path / "junk.tar", [tar_member("a.md", b"a"), tar_member("b.md", b"b")], mode="w"
    )
    data = bytearray(path.read_bytes())
    data[1024:1536] = b"garbage!" * 64
    path.write_bytes(bytes(data))

    items = collect(path)

    assert items[0].data == b"a"
    assert items[1].error.startswith("archive is truncated or corrupt after 1 member")


@pytest.mark.parametrize("content", [b"", b"# Just a policy\n" * 100])
def test_file_named_tar_gz_that_is_not_an_archive(tmp_path, content):
    fake = tmp_path / "fake.tar.gz"
    fake.write_bytes(content)

    [item] = collect(fake)

    assert item.name == str(fake)
    assert item.error.startswith("not a valid tar archive: ")


class _Zeros(io.RawIOBase):
    """`size` zero bytes as a stream, so tests can archive 50 MB without holding it."""

    def __init__(self, size: int) -> None:
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self._left)
        buffer[:n] = bytes(n)
        self._left -= n
        return n


# --- git clones ----------------------------------------------------------------------------


def git(repo: Path, *args: str, when: str | None = None) -> None:
    """Run git in `repo`, isolated from the user's config, committing at `when`."""
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    if when:
        env |= {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(
        ["git", "-c", "user.name=Corpus", "-c", "user.email=corpus@example.com", *args],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )


def commit_files(repo: Path, files: dict[str, bytes | None], when: str) -> None:
    """One commit at `when` writing (or, for None, deleting) the given files."""
    for relative, content in files.items():
        path = repo / relative
        if content is None:
            git(repo, "rm", "-q", relative)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        git(repo, "add", relative)
    git(repo, "commit", "-q", "-m", f"snapshot {when}", when=when)


@pytest.fixture
def corpus_clone(tmp_path) -> Path:
    repo = tmp_path / "privacy-policy-historical"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    lj = "l/li/liv/livejournal.com.md"
    ex = "e/ex/exa/example.com.md"
    commit_files(repo, {lj: b"lj 2004", "README.md": b"# Corpus"}, "2004-12-31T06:31:19Z")
    commit_files(repo, {lj: b"lj 2005", ex: b"ex 2005"}, "2005-06-22T04:34:45Z")
    commit_files(repo, {ex: b"ex 2006", "README.md": b"# Corpus v2"}, "2006-01-02T03:04:05Z")
    commit_files(repo, {"notes.txt": b"not markdown"}, "2006-02-01T00:00:00Z")
    commit_files(repo, {ex: None}, "2007-01-01T00:00:00Z")
    return repo


@needs_git
def test_clone_yields_every_version_oldest_first(corpus_clone):
    items = collect(corpus_clone)

    assert [(item.name.split("@")[0], item.data, item.commit_time) for item in items] == [
        (
            "clone:l/li/liv/livejournal.com.md",
            b"lj 2004",
            datetime(2004, 12, 31, 6, 31, 19, tzinfo=UTC),
        ),
        ("clone:e/ex/exa/example.com.md", b"ex 2005", datetime(2005, 6, 22, 4, 34, 45, tzinfo=UTC)),
        (
            "clone:l/li/liv/livejournal.com.md",
            b"lj 2005",
            datetime(2005, 6, 22, 4, 34, 45, tzinfo=UTC),
        ),
        ("clone:e/ex/exa/example.com.md", b"ex 2006", datetime(2006, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ]
    assert all(item.error is None for item in items)


@needs_git
def test_clone_item_names_carry_the_short_commit(corpus_clone):
    head = subprocess.run(
        ["git", "-C", str(corpus_clone), "rev-parse", "HEAD~2"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()

    items = collect(corpus_clone)

    assert items[-1].name == f"clone:e/ex/exa/example.com.md@{head[:12]}"


@needs_git
def test_clone_reads_history_not_the_working_tree(corpus_clone):
    (corpus_clone / "l/li/liv/livejournal.com.md").write_bytes(b"uncommitted edit")
    (corpus_clone / "untracked.md").write_bytes(b"untracked")

    items = collect(corpus_clone)

    assert b"uncommitted edit" not in [item.data for item in items]
    assert b"untracked" not in [item.data for item in items]


@needs_git
def test_clone_oversize_blob_is_refused_and_the_rest_still_lines_up(corpus_clone):
    commit_files(corpus_clone, {"b/bi/big/big.com.md": b"x" * 5000}, "2008-01-01T00:00:00Z")
    commit_files(corpus_clone, {"a/af/aft/after.com.md": b"after"}, "2008-02-01T00:00:00Z")

    items = collect(corpus_clone, max_file_bytes=1024)

    assert items[-2].error == "file is 4.9 KB, over the 1 KB limit"
    assert items[-2].commit_time == datetime(2008, 1, 1, tzinfo=UTC)
    assert items[-1].data == b"after"


@needs_git
def test_clone_stopped_early_leaves_no_git_running(corpus_clone):
    stream = iter_sources([corpus_clone], max_file_bytes=MB, max_archive_bytes=MB)

    first = next(stream)
    stream.close()

    assert first.data == b"lj 2004"
    assert _child_processes_named("git") == []


def _child_processes_named(command: str) -> list[int]:
    """Pids of this process's children running `command` (Linux /proc; [] elsewhere)."""
    pids = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)
            name = fields[0].split("(", 1)[1]
            parent = int(fields[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and name == command:
            pids.append(int(stat_file.parent.name))
    return pids


@needs_git
def test_empty_repository_is_reported(tmp_path):
    git(tmp_path, "init", "-q")

    [item] = collect(tmp_path)

    assert item == SourceItem(
        name=f"clone:{tmp_path}", data=None, error="git repository has no commits"
    )


@needs_git
def test_broken_git_folder_is_reported(tmp_path):
    (tmp_path / ".git").write_text("gitdir: /nowhere\n")

    [item] = collect(tmp_path)

    assert item.name == f"clone:{tmp_path}"
    assert item.error.startswith("not a git repository: ")
