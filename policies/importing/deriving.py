"""What the importer derives from a new text, worked out in a second process while it writes.

Deriving a text (`policies.reading.text.derive_policy`: its sections and each one's readable
text, which means parsing its Markdown) is most of an import's Python time. The importer hands
each batch's bodies that are not stored yet to `Deriver.submit` as soon as the batch is read and
takes the results when it writes that batch, one batch later; meanwhile it reads the next batch
and writes the one before, and its PostgreSQL backend computes search vectors. On two cores the
derivation then runs beside the rest instead of before it.

The second process is this module run as `python -m policies.importing.deriving`: no Django,
one JSON line per body in on stdin, one JSON line per derived text out on stdout. It exits when
its stdin closes, which also happens when the importer dies (even by SIGKILL), so it never
outlives the import; it holds none of the importer's files or connections. Whatever goes wrong
with it (it cannot start, it dies, a body fails), the importer derives that text itself with
the same function: the result is the same, only slower.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess  # nosec B404 -- starts this project's own module with fixed arguments
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

from policies.reading.sectioning import SectionPart
from policies.reading.text import DerivedPolicy, derive_policy

# A batch with fewer bodies to derive than this does not start the second process (starting it
# costs about 0.2 s of CPU): small uploads and single files are derived in-process.
MIN_TEXTS_TO_START = 20

_ROOT = Path(__file__).resolve().parents[2]
_STOP = None


class Deriver:
    """Derives texts in a second process ahead of their use; `derived(sha, body)` gives each
    one's result, from the second process when it was submitted (waiting for it if need be),
    otherwise derived in-process. Use as a context manager: leaving it ends the process."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._failed = False  # the process could not start or died: derive in-process
        self._submitted: set[str] = set()
        self._results: dict[str, DerivedPolicy | None] = {}  # None: the process could not derive it
        self._arrived = threading.Condition()
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Deriver:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        self.close(kill=exc_type is not None)

    @property
    def pid(self) -> int | None:
        """The second process's id while it runs, else None."""
        return self._process.pid if self._process is not None and not self._failed else None

    def submit(self, bodies: dict[str, str]) -> None:
        """Start deriving these bodies (by SHA-256) in the second process, skipping those
        already submitted; the process starts with the first batch worth it."""
        fresh = {sha: body for sha, body in bodies.items() if sha not in self._submitted}
        if not fresh or self._failed:
            return
        if self._process is None:
            if len(fresh) < MIN_TEXTS_TO_START:
                return
            self._start()
            if self._failed:
                return
        with self._arrived:
            self._submitted.update(fresh)
        for sha, body in fresh.items():
            self._outbox.put((sha, body))

    def derived(self, sha: str, body: str) -> DerivedPolicy:
        """The derivation of `body`: the second process's if submitted, else made here."""
        if sha in self._submitted:
            with self._arrived:
                while sha not in self._results and not self._failed:
                    process = self._process
                    if not self._arrived.wait(timeout=1) and (
                        process is None or process.poll() is not None
                    ):
                        self._failed = True  # died without a word (its pipe may linger)
                result = self._results.get(sha)
            if result is not None:
                return result
        return derive_policy(body)

    def forget(self, shas: Iterable[str]) -> None:
        """Drop these results (their batch is written), so memory stays bounded by a batch."""
        with self._arrived:
            for sha in shas:
                self._submitted.discard(sha)
                self._results.pop(sha, None)

    def close(self, *, kill: bool = False) -> None:
        """End the second process: at once with `kill`, else once it has read what it was sent."""
        process, self._process = self._process, None
        if process is None:
            return
        self._outbox.put(_STOP)
        try:
            if kill:
                process.kill()
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for thread in self._threads:
            thread.join(timeout=5)

    def _start(self) -> None:
        path = [str(_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        try:
            self._process = subprocess.Popen(  # nosec B603 -- fixed arguments, no shell
                [sys.executable, "-m", "policies.importing.deriving"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=environment,
                cwd=_ROOT,
            )
        except OSError:
            self._failed = True
            return
        for target in (self._send, self._receive):
            thread = threading.Thread(target=target, args=(self._process,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _send(self, process: subprocess.Popen) -> None:
        try:
            while (entry := self._outbox.get()) is not _STOP:
                line = json.dumps(entry, ensure_ascii=False) + "\n"
                process.stdin.write(line.encode("utf-8"))
                if self._outbox.empty():
                    process.stdin.flush()
        except (OSError, ValueError):
            self._give_up()
        finally:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the second process's signal to finish

    def _receive(self, process: subprocess.Popen) -> None:
        try:
            for line in process.stdout:
                sha, title, sections, words, wording = json.loads(line)
                result = None
                if sections is not None:
                    parts = [(SectionPart(*part), plain) for *part, plain in sections]
                    result = DerivedPolicy(title, parts, words, wording)
                with self._arrived:
                    if sha in self._submitted:  # else its batch was written without it
                        self._results[sha] = result
                        self._arrived.notify_all()
        except (OSError, ValueError):
            pass
        process.stdout.close()
        self._give_up()

    def _give_up(self) -> None:
        """The process ended (or broke its pipe): whatever it has not derived is derived here."""
        with self._arrived:
            self._failed = True
            self._arrived.notify_all()


def _serve(lines: Iterable[str], out) -> None:
    """The second process: derive each body read, write its result, until the input ends."""
    for line in lines:
        sha, body = json.loads(line)
        try:
            derived = derive_policy(body)
        except Exception:  # the importer derives it itself and reports what goes wrong there
            out.write(json.dumps([sha, "", None, 0, ""]) + "\n")
        else:
            sections = [
                [part.heading, part.level, part.text, part.anchor, plain]
                for part, plain in derived.sections
            ]
            row = [sha, derived.title, sections, derived.word_count, derived.wording_hash]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()


if __name__ == "__main__":
    stdin = open(sys.stdin.fileno(), encoding="utf-8", closefd=False)  # noqa: SIM115
    stdout = open(sys.stdout.fileno(), "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):  # the importer ended first
        _serve(stdin, stdout)
