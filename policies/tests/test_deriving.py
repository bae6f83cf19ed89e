"""The second process that derives new texts for the importer: it derives what the importer would
derive itself, the import goes on without it, and it never outlives the importer."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess  # nosec B404 -- runs this project's code with fixed arguments
import sys
import time
from pathlib import Path

from policies.importing.deriving import Deriver
from policies.reading.text import derive_policy

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data" / "corpus-sample"
ROOT = Path(__file__).resolve().parents[2]


def _sample_bodies() -> dict[str, str]:
    bodies = (path.read_text(encoding="utf-8") for path in sorted(SAMPLE_DIR.glob("*.md")))
    return {hashlib.sha256(body.encode()).hexdigest(): body for body in bodies}


def test_the_second_process_derives_what_the_importer_would():
    bodies = _sample_bodies()
    with Deriver() as deriver:
        deriver.submit(bodies)
        derived = {sha: deriver.derived(sha, body) for sha, body in bodies.items()}
        assert deriver.pid is not None  # still running: every result came from it
    assert derived == {sha: derive_policy(body) for sha, body in bodies.items()}


def test_a_killed_second_process_leaves_its_texts_to_the_importer():
    bodies = _sample_bodies()
    with Deriver() as deriver:
        deriver.submit(bodies)
        os.kill(deriver.pid, signal.SIGKILL)
        derived = {sha: deriver.derived(sha, body) for sha, body in bodies.items()}
        assert deriver.pid is None
    assert derived == {sha: derive_policy(body) for sha, body in bodies.items()}


def test_a_few_texts_start_no_second_process():
    bodies = dict(list(_sample_bodies().items())[:3])
    with Deriver() as deriver:
        deriver.submit(bodies)
        assert deriver.pid is None
        assert [deriver.derived(sha, body) for sha, body in bodies.items()] == [
            derive_policy(body) for body in bodies.values()
        ]


def _state(pid: int) -> str | None:
    """The process's state letter ("Z" for a zombie), or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2]


def test_the_second_process_ends_when_the_importer_is_killed():
    script = (
        "import sys, time\n"
        "from policies.importing.deriving import Deriver\n"
        "deriver = Deriver()\n"
        "deriver.submit({str(n): '# P\\n\\nWe collect data.\\n' * n for n in range(1, 40)})\n"
        "print(deriver.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    with subprocess.Popen(  # nosec B603 -- fixed arguments
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as importer:
        child = int(importer.stdout.readline())
        assert _state(child) not in (None, "Z")
        importer.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _state(child) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _state(child) in (None, "Z")
