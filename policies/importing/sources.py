"""Paths given to the importer, turned into a stream of named byte blobs, safely.

A path can be a policy file, a folder, a zip or tar archive, or a git clone of the
Princeton-Leuven corpus (every historical version of every file). Whatever the input,
the importer sees the same thing: `SourceItem`s, each either bytes to decode or a
plain-language reason why there are none. Nothing here raises for bad input; one bad
file or archive member must not stop an import of thousands.

Archives come from people we do not control, so: member paths that could escape a
folder, links and device files are refused; every size limit is enforced on bytes
actually produced while reading, never on what a header claims; and memory stays
bounded by one member (at most `max_file_bytes`) whatever the archive holds.

Pure: no ORM, no settings; limits come in as arguments.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import re
import shutil
import stat
import subprocess
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, BinaryIO

__all__ = ["SourceItem", "iter_sources"]

_CHUNK_BYTES = 64 * 1024
_POLICY_SUFFIXES = (".md", ".txt")
_ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
# Files that describe a collection rather than being a policy in it (the corpus has a
# README.md at its root). Full names only: "readme.com.md" is a real domain's policy.
_README_RE = re.compile(
    r"^(readme|license|licence|changelog|changes|contributing|notice|copying|authors)"
    r"(\.(md|markdown|txt|rst))?$",
    re.IGNORECASE,
)
# macOS puts resource forks under __MACOSX/ in zips it creates; never policies.
_JUNK_DIRS = frozenset({"__MACOSX"})
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_CONTROL_CHAR_RE = re.compile(r"[\x00-\x1f\x7f]")

_GIT_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class SourceItem:
    """One blob to import, or the reason a path or archive member could not be read."""

    name: str
    data: bytes | None
    error: str | None = None
    commit_time: datetime | None = None


@dataclass(frozen=True)
class _Limits:
    max_file_bytes: int
    max_archive_bytes: int


class _ArchiveTooLarge(Exception):
    """Decompressing went past `max_archive_bytes`."""


class _CorruptTar(Exception):
    """A tar header after the first one is truncated or garbage."""


def iter_sources(
    paths: Iterable[str | Path], *, max_file_bytes: int, max_archive_bytes: int
) -> Iterator[SourceItem]:
    """Yield a `SourceItem` for every policy file found under `paths`, in a stable order.

    Each path may be a file (read whatever its extension), a folder (recursive, sorted;
    only `*.md`, `*.txt` and archives; hidden entries skipped; symlinks reported, not
    followed), a zip/tar archive, or a git clone of the corpus (a folder with `.git`:
    every committed version of every `.md` file, oldest first, with its commit time).
    Problems become items with `error` set and `data` None; iteration always goes on.
    `max_file_bytes` caps each file or member, `max_archive_bytes` the total bytes
    decompressed from one archive.
    """
    if max_file_bytes <= 0 or max_archive_bytes <= 0:
        raise ValueError("size limits must be positive")
    limits = _Limits(max_file_bytes, max_archive_bytes)
    for raw_path in paths:
        path = Path(raw_path)
        name = str(raw_path)
        try:
            # A path named explicitly is followed even if it is a symlink: the person
            # asked for it. Only links found inside folders and archives are refused.
            info = path.stat()
        except FileNotFoundError:
            yield _error(name, "no such file or directory")
            continue
        except OSError as exc:
            yield _error(name, f"cannot read: {_os_reason(exc)}")
            continue
        if stat.S_ISDIR(info.st_mode):
            if (path / ".git").exists():
                yield from _iter_git_clone(path, limits)
            else:
                yield from _iter_folder(path, limits)
        elif not stat.S_ISREG(info.st_mode):
            yield _error(name, "not a regular file (device, pipe or socket)")
        else:
            kind = _archive_kind(path)
            if _has_suffix(path.name, _ARCHIVE_SUFFIXES) or (
                kind is not None and not _has_suffix(path.name, _POLICY_SUFFIXES)
            ):
                yield from _iter_archive(path, name, kind, limits)
            else:
                yield _read_file(path, name, limits)


# --- plain files and folders ----------------------------------------------------------


def _read_file(path: Path, name: str, limits: _Limits) -> SourceItem:
    """Read one file, refusing it from its size before reading anything big."""
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            return _error(name, _too_big(size, limits.max_file_bytes))
        with path.open("rb") as fh:
            # The file may grow between stat() and read(): read one byte past the limit
            # so that growth is noticed instead of silently truncated.
            data = fh.read(limits.max_file_bytes + 1)
    except OSError as exc:
        return _error(name, f"cannot read file: {_os_reason(exc)}")
    if len(data) > limits.max_file_bytes:
        return _error(name, _too_big_unknown(limits.max_file_bytes))
    return SourceItem(name=name, data=data)


def _iter_folder(root: Path, limits: _Limits) -> Iterator[SourceItem]:
    """Walk a folder depth-first in name order, one directory listing in memory at a time."""
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError as exc:
        yield _error(str(root), f"cannot list folder: {_os_reason(exc)}")
        return
    for entry in entries:
        entry_path = root / entry.name
        name = str(entry_path)
        if entry.name.startswith(".") or entry.name in _JUNK_DIRS:
            continue
        try:
            if entry.is_symlink():
                # Following links could read outside the folder (or loop forever).
                yield _error(name, "symlink skipped")
            elif entry.is_dir(follow_symlinks=False):
                if (entry_path / ".git").exists():
                    yield from _iter_git_clone(entry_path, limits)
                else:
                    yield from _iter_folder(entry_path, limits)
            elif not entry.is_file(follow_symlinks=False) or _README_RE.match(entry.name):
                continue
            elif _has_suffix(entry.name, _ARCHIVE_SUFFIXES):
                yield from _iter_archive(entry_path, name, _archive_kind(entry_path), limits)
            elif _has_suffix(entry.name, _POLICY_SUFFIXES):
                yield _read_file(entry_path, name, limits)
        except OSError as exc:
            yield _error(name, f"cannot read: {_os_reason(exc)}")


# --- archives ----------------------------------------------------------------------------


def _archive_kind(path: Path) -> str | None:
    """'zip' or 'tar' from the file's first bytes (the name can lie), else None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return None
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")) or head[257:262] == b"ustar":
        return "tar"
    return None


def _iter_archive(path: Path, name: str, kind: str | None, limits: _Limits) -> Iterator[SourceItem]:
    if kind is None:
        # Unrecognised content: let the reader the name asks for explain what is wrong.
        kind = "zip" if path.name.lower().endswith(".zip") else "tar"
    if kind == "zip":
        yield from _iter_zip(path, name, limits)
    else:
        yield from _iter_tar(path, name, limits)


def _iter_zip(path: Path, name: str, limits: _Limits) -> Iterator[SourceItem]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        yield _error(name, f"not a valid zip archive: {exc}")
        return
    with archive:
        decompressed = 0
        for info in archive.infolist():
            member_name = f"{name}:{info.filename}"
            if info.is_dir():
                continue
            problem = _unsafe_member_reason(info.filename) or _zip_member_type_problem(info)
            if problem:
                yield _error(member_name, problem)
                continue
            if _skip_member(info.filename):
                continue
            if _has_suffix(info.filename, _ARCHIVE_SUFFIXES):
                yield _error(member_name, "nested archive skipped")
                continue
            if info.flag_bits & 0x1:
                yield _error(member_name, "archive member is encrypted")
                continue
            # Declared sizes only ever refuse early; what is accepted is counted below.
            if info.file_size > limits.max_file_bytes:
                yield _error(member_name, _too_big(info.file_size, limits.max_file_bytes))
                continue
            budget = limits.max_archive_bytes - decompressed
            if info.file_size > budget:
                yield _archive_cap_error(name, info.filename, limits)
                return
            cap = min(limits.max_file_bytes, budget)
            try:
                with archive.open(info) as member:
                    data, produced = _read_capped(member, cap)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, lzma.LZMAError) as exc:
                # Covers bad CRCs and Python's overlapping-entry (zip bomb) detection.
                # The central directory makes other members independent: go on.
                yield _error(member_name, f"corrupt archive member: {exc}")
                continue
            except (NotImplementedError, RuntimeError) as exc:
                yield _error(member_name, f"cannot read archive member: {exc}")
                continue
            decompressed += produced
            if data is not None:
                yield SourceItem(name=member_name, data=data)
            elif cap < limits.max_file_bytes:
                yield _archive_cap_error(name, info.filename, limits)
                return
            else:
                yield _error(member_name, _too_big_unknown(limits.max_file_bytes))


def _zip_member_type_problem(info: zipfile.ZipInfo) -> str | None:
    # Only archives made on Unix carry file types in the high bits of external_attr.
    if info.create_system != 3:
        return None
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "archive member is a symlink"
    # Many writers store permission bits only (no file type): that is a regular file.
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        return "archive member is a device or other special file"
    return None


class _CheckedTarInfo(tarfile.TarInfo):
    """TarInfo that reports a damaged header instead of treating it as the archive's end.

    `tarfile` silently ends iteration at a truncated or invalid header after the first,
    which would make a damaged archive look complete.
    """

    @classmethod
    def fromtarfile(cls, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        try:
            return super().fromtarfile(tarfile_)
        except (tarfile.TruncatedHeaderError, tarfile.InvalidHeaderError) as exc:
            raise _CorruptTar(str(exc)) from None


def _iter_tar(path: Path, name: str, limits: _Limits) -> Iterator[SourceItem]:
    try:
        raw = path.open("rb")
    except OSError as exc:
        yield _error(name, f"cannot read file: {_os_reason(exc)}")
        return
    with raw, _decompressing(raw) as decompressed:
        # Counting under tarfile measures every decompressed byte, including data that
        # tarfile skips over between members, so the archive cap cannot be sidestepped.
        stream = _CountingReader(decompressed, limits.max_archive_bytes)
        opened = False
        done = 0
        current = ""  # the member being read, for error messages
        last_seen = ""  # the last member tarfile reached, even if it was skipped
        try:
            with tarfile.open(
                fileobj=stream,  # type: ignore[arg-type]
                mode="r|",
                tarinfo=_CheckedTarInfo,
            ) as archive:
                opened = True
                while (member := archive.next()) is not None:
                    current = last_seen = member.name
                    budget = limits.max_archive_bytes - stream.count
                    item = _read_tar_member(archive, member, name, budget, limits)
                    current = ""
                    done += 1
                    if item is not None:
                        yield item
        except _ArchiveTooLarge:
            yield _archive_cap_error(name, current or last_seen, limits)
        except (
            tarfile.TarError,
            _CorruptTar,
            EOFError,
            OSError,
            zlib.error,
            lzma.LZMAError,
        ) as exc:
            if not opened:
                yield _error(name, f"not a valid tar archive: {exc}")
            else:
                where = f"after {_count(done, 'member')}"
                if current:
                    where += f" (at {current!r})"
                yield _error(name, f"archive is truncated or corrupt {where}: {exc}")


def _decompressing(raw: BinaryIO) -> AbstractContextManager[IO[bytes]]:
    """The decompressed view of a (possibly gzip/bzip2/xz compressed) tar file."""
    magic = raw.read(6)
    raw.seek(0)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw)
    if magic.startswith(b"BZh"):
        return bz2.BZ2File(raw)
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw)
    return nullcontext(raw)


def _read_tar_member(
    archive: tarfile.TarFile,
    member: tarfile.TarInfo,
    name: str,
    budget: int,
    limits: _Limits,
) -> SourceItem | None:
    """The item for one tar member, or None for members that are silently skipped."""
    member_name = f"{name}:{member.name.removeprefix('./')}"
    if member.isdir():
        return None
    problem = _unsafe_member_reason(member.name)
    if problem:
        return _error(member_name, problem)
    if member.issym():
        return _error(member_name, "archive member is a symlink")
    if member.islnk():
        return _error(member_name, "archive member is a hard link")
    if not member.isreg():
        return _error(member_name, "archive member is a device or other special file")
    if _skip_member(member.name):
        return None
    if _has_suffix(member.name, _ARCHIVE_SUFFIXES):
        return _error(member_name, "nested archive skipped")
    if member.size > limits.max_file_bytes:
        return _error(member_name, _too_big(member.size, limits.max_file_bytes))
    if member.size > budget:
        raise _ArchiveTooLarge
    fh = archive.extractfile(member)
    if fh is None:
        return _error(member_name, "archive member has no readable content")
    with fh:
        data, _ = _read_capped(fh, limits.max_file_bytes)
    if data is None:
        return _error(member_name, _too_big_unknown(limits.max_file_bytes))
    return SourceItem(name=member_name, data=data)


class _CountingReader:
    """A read-only file wrapper that raises `_ArchiveTooLarge` past `limit` bytes."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self._raw = raw
        self._limit = limit
        self.count = 0

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            # Never "read everything": one byte past the limit is enough to know.
            size = self._limit - self.count + 1
        data = self._raw.read(size)
        self.count += len(data)
        if self.count > self._limit:
            raise _ArchiveTooLarge
        return data


def _read_capped(fh: IO[bytes], cap: int) -> tuple[bytes | None, int]:
    """Read at most `cap` bytes: (data, bytes produced), data None when there was more."""
    buffer = bytearray()
    while True:
        chunk = fh.read(min(_CHUNK_BYTES, cap + 1 - len(buffer)))
        if not chunk:
            return bytes(buffer), len(buffer)
        buffer += chunk
        if len(buffer) > cap:
            return None, len(buffer)


def _unsafe_member_reason(member_name: str) -> str | None:
    """Why an archive member's path is refused, or None if it is safe."""
    if _CONTROL_CHAR_RE.search(member_name):
        return "archive member name contains control characters"
    if member_name.startswith(("/", "\\")):
        return "archive member has an absolute path"
    if _DRIVE_RE.match(member_name):
        return "archive member has a drive letter"
    # Backslashes count as separators: they do on Windows, where the archive came from.
    if ".." in re.split(r"[/\\]", member_name):
        return "archive member path contains '..'"
    return None


def _skip_member(member_name: str) -> bool:
    """True for archive members that are not policies: hidden, junk, READMEs, other types."""
    parts = [part for part in re.split(r"[/\\]", member_name) if part not in ("", ".")]
    if not parts:
        return True
    if any(part.startswith(".") or part in _JUNK_DIRS for part in parts):
        return True
    filename = parts[-1]
    if _README_RE.match(filename):
        return True
    return not _has_suffix(filename, _POLICY_SUFFIXES + _ARCHIVE_SUFFIXES)


# --- git clones of the corpus --------------------------------------------------------


# Settings that could make git print extra text or run programs are pinned off: the output is
# parsed, and the repository may not be ours.
_GIT_SAFE_OPTIONS = ("--no-pager", "-c", "core.fsmonitor=false", "-c", "log.showSignature=false")
# Which blob each commit gave each Markdown file, oldest commit first, NUL-separated.
_GIT_LOG_ARGUMENTS = (
    "log",
    "-z",
    "--reverse",
    "--no-renames",
    "--raw",
    "--no-abbrev",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--format=commit %H %ct",
    "--",
    "*.md",
)


def _clone_problem(base: list[str], env: dict[str, str]) -> str | None:
    """Why the folder cannot be read as a clone (not a repository, no commits), or None."""
    try:
        check = subprocess.run(
            [*base, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
            capture_output=True,
            env=env,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
        if check.returncode == 0:
            return None
        inside = subprocess.run(
            [*base, "rev-parse", "--git-dir"],
            capture_output=True,
            env=env,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot run git: {exc}"
    if inside.returncode == 0:
        return "git repository has no commits"
    reason = _git_reason(inside.stderr)
    return (
        reason if reason.startswith("not a git repository") else f"not a git repository: {reason}"
    )


def _stop(*processes: subprocess.Popen) -> None:
    """Close the processes' pipes and make sure they have ended."""
    for process in processes:
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
        if process.poll() is None:
            process.kill()
        process.wait()


def _iter_git_clone(repo: Path, limits: _Limits) -> Iterator[SourceItem]:
    """Every committed version of every `.md` file in `repo`, oldest commit first.

    Two git processes for the whole history, whatever its size: `git log` streams which
    blob each commit gave each file, and one long-lived `git cat-file --batch` returns
    the blobs' contents over a pipe.
    """
    label = f"clone:{repo}"
    git = shutil.which("git")
    if git is None:
        yield _error(label, "git is not installed, so the clone cannot be read")
        return
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat"}
    base = [git, *_GIT_SAFE_OPTIONS, "-C", str(repo)]
    problem = _clone_problem(base, env)
    if problem:
        yield _error(label, problem)
        return

    log_command = [*base, *_GIT_LOG_ARGUMENTS]
    with (
        tempfile.TemporaryFile() as log_errors,
        tempfile.TemporaryFile() as cat_errors,
    ):
        # stderr goes to files, not pipes: an unread stderr pipe that fills up would
        # block git while we wait on its stdout.
        log = subprocess.Popen(log_command, stdout=subprocess.PIPE, stderr=log_errors, env=env)
        cat = subprocess.Popen(
            [*base, "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=cat_errors,
            env=env,
        )
        assert log.stdout is not None
        assert cat.stdin is not None
        assert cat.stdout is not None
        log_status: int | None = None
        try:
            for path, blob, commit, commit_time in _parse_git_log(log.stdout):  # type: ignore[arg-type]
                if _skip_member(path) or not path.lower().endswith(".md"):
                    continue
                name = f"clone:{path}@{commit[:12]}"
                yield _read_blob(cat.stdin, cat.stdout, blob, name, commit_time, limits)
            log_status = log.wait(timeout=_GIT_TIMEOUT_SECONDS)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            cat_errors.seek(0)
            reason = _git_reason(cat_errors.read()) if cat.poll() else str(exc)
            yield _error(label, f"reading the clone failed: {reason}")
        finally:
            # Also runs when the consumer stops early: leave no git process behind.
            _stop(log, cat)
        if log_status:
            log_errors.seek(0)
            yield _error(label, f"git log failed: {_git_reason(log_errors.read())}")


def _parse_git_log(stdout: io.BufferedReader) -> Iterator[tuple[str, str, str, datetime]]:
    """(path, blob id, commit id, commit time) per added or modified file, streaming.

    `git log -z --raw` output is NUL-separated: "commit <sha> <unix time>", then for
    each changed file ":<modes> <old blob> <new blob> <status>" followed by its path.
    """
    commit = ""
    commit_time = datetime.fromtimestamp(0, UTC)
    pending: tuple[str, str] | None = None  # (new blob, status) waiting for its path
    for token in _split_nul(stdout):
        token = token.lstrip(b"\n")
        if pending is not None:
            blob, status = pending
            pending = None
            # Deleted files have no content to import.
            if status in ("A", "M", "T"):
                # Paths are display names here; "replace" keeps them storable as text.
                yield token.decode("utf-8", errors="replace"), blob, commit, commit_time
        elif token.startswith(b":"):
            fields = token.decode("ascii").split()
            pending = (fields[3], fields[4][:1])
        elif token.startswith(b"commit "):
            _, commit, timestamp = token.decode("ascii").split()
            commit_time = datetime.fromtimestamp(int(timestamp), UTC)


def _split_nul(stream: io.BufferedReader) -> Iterator[bytes]:
    buffered = b""
    # read1 returns what the pipe has now, so items flow while git is still writing.
    while chunk := stream.read1(_CHUNK_BYTES):
        buffered += chunk
        *tokens, buffered = buffered.split(b"\0")
        yield from tokens
    if buffered:
        yield buffered


def _read_blob(
    requests: IO[bytes],
    replies: IO[bytes],
    blob: str,
    name: str,
    commit_time: datetime,
    limits: _Limits,
) -> SourceItem:
    """Ask the running `git cat-file --batch` for one blob and read its reply."""
    requests.write(blob.encode("ascii") + b"\n")
    requests.flush()
    header = replies.readline().decode("ascii", errors="replace").split()
    if len(header) != 3 or header[1] != "blob":
        if not header:
            raise ValueError("git cat-file stopped answering")
        return _error(name, f"git has no blob {blob}", commit_time=commit_time)
    size = int(header[2])
    if size > limits.max_file_bytes:
        # The reply must still be consumed to keep the pipe in step; in chunks, so a
        # huge blob never sits in memory.
        remaining = size + 1
        while remaining > 0:
            chunk = replies.read(min(_CHUNK_BYTES, remaining))
            if not chunk:
                raise ValueError("git cat-file output ended early")
            remaining -= len(chunk)
        return _error(name, _too_big(size, limits.max_file_bytes), commit_time=commit_time)
    data = replies.read(size)
    replies.read(1)  # the newline git puts after every blob
    if len(data) != size:
        raise ValueError("git cat-file output ended early")
    return SourceItem(name=name, data=data, commit_time=commit_time)


def _git_reason(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line.removeprefix("fatal: ").removeprefix("error: ") for line in lines if line]
    return lines[-1] if lines else "unknown error"


# --- messages ------------------------------------------------------------------------------


def _error(name: str, reason: str, *, commit_time: datetime | None = None) -> SourceItem:
    return SourceItem(name=name, data=None, error=reason, commit_time=commit_time)


def _archive_cap_error(name: str, member: str, limits: _Limits) -> SourceItem:
    at = f" (stopped at {member!r})" if member else ""
    return _error(
        name,
        f"archive would decompress past the {_format_size(limits.max_archive_bytes)} limit"
        f"{at}; the remaining members were not read",
    )


def _too_big(size: int, limit: int) -> str:
    shown, shown_limit = _format_size(size), _format_size(limit)
    if shown == shown_limit:
        # Rounding would print "5 MB, over the 5 MB limit": show the bytes instead.
        shown, shown_limit = f"{size:,} bytes", f"{limit:,}-byte"
    return f"file is {shown}, over the {shown_limit} limit"


def _too_big_unknown(limit: int) -> str:
    return f"file is larger than the {_format_size(limit)} limit"


def _format_size(size: int) -> str:
    """Human size with binary units, e.g. 6.2 MB; whole numbers without a decimal."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            break
        value /= 1024
    if unit == "bytes":
        return _count(size, "byte")
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n:,} {noun}s"


def _has_suffix(filename: str, suffixes: tuple[str, ...]) -> bool:
    return filename.lower().endswith(suffixes)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
