"""Benchmark `manage.py import_policies` on a synthetic corpus and a fresh PostgreSQL database.

    .venv/bin/python bench/import.py [--companies N [N ...]] [--captures M] [--runs R]
        [--words W] [--seed S] [--database-url URL] [--corpus DIR] [--keep] [--profile PREFIX]

For each corpus size (N companies x M captures; the default 100 and 400 x 20 give 2,000 and
8,000 files) it generates a corpus, then, R times: recreates the benchmark database from a
migrated template, imports the corpus (first pass) and imports it again (re-import: every
capture already present), each in its own `manage.py import_policies --no-progress` process
under `/usr/bin/time -v`. It prints the median of the runs for each pass: outcome counts,
wall seconds, captures per second (and the slowest and fastest run), the import process's CPU
seconds, its backend's CPU seconds (local server only), captures per CPU second of the two
together (the rate to trust on a busy machine), and the import process's peak RSS; then the
memory-flatness ratio between the smallest and largest corpus. A 0-file import gives the fixed
cost of starting Django.

The corpus imitates the Princeton-Leuven one: policies built from sentences, headings, bold
pseudo-headings and list items of sample_data/corpus-sample; sizes log-normal around a median
of 1,300 words (300 to 55,000), or all W words with --words; captures spread over 1997-2019;
70% of consecutive captures identical, 25% with a few sentences changed or inserted, 5%
rewritten. Generation is seeded, so runs compare like with like. With --corpus DIR the corpora
are kept in DIR (one subfolder per size) and reused by later runs.

The database (default postgres://postgres@127.0.0.1:5432/palimpsest_bench) is dropped and
recreated, so its name must contain "bench". --profile PREFIX also runs one extra first pass
and re-import of the smallest corpus under cProfile (PREFIX-first.prof, PREFIX-reimport.prof)
and prints the hotspots.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import dj_database_url  # noqa: E402
import django  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

django.setup()  # only to share the corpus header format with the tests; no database is used

from policies.tests.factories import header_line  # noqa: E402

SAMPLE = ROOT / "sample_data" / "corpus-sample"
MANAGE = ROOT / "manage.py"
TIME = Path("/usr/bin/time")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/palimpsest_bench"

# Bump when the generator changes, so corpora kept with --corpus are regenerated.
GENERATOR_VERSION = 1
STAMP = ".bench-corpus.json"  # hidden: the importer skips dot files

MEDIAN_WORDS = 1300
MIN_WORDS, MAX_WORDS = 300, 55_000
# Spread of the log-normal sizes: with a median of 1,300 words, 1 policy in 20 is over 5,600
# words and 1 in 1,000 over 20,000, roughly the corpus's long tail (live.com is 34,000).
SIZE_SIGMA = 0.9
IDENTICAL_SHARE, REVISED_SHARE = 0.70, 0.25  # the remaining 5% are rewrites
FIRST_CAPTURE = datetime(1997, 1, 1, tzinfo=UTC)
END_OF_CAPTURES = datetime(2020, 1, 1, tzinfo=UTC)

_DOMAIN_WORDS = ("acme", "news", "shop", "cloud", "travel", "bank", "games", "mail", "photo")
_TLDS = ("com", "com", "com", "net", "org", "co.uk", "de", "io")
_TITLES = ("Privacy Policy", "Privacy Statement", "Privacy Notice", "Our Privacy Policy")

_SUMMARY_RE = re.compile(
    r"Files read: (?P<files>\d+), new captures: (?P<new>\d+), unchanged captures: "
    r"(?P<unchanged>\d+), already present: (?P<present>\d+), failed: (?P<failed>\d+)\."
)


# --- vocabulary ------------------------------------------------------------------------------

_HEADING_RE = re.compile(r"^#{1,6}\s+(.*?)[\s#]*$")
_BOLD_LINE_RE = re.compile(r"^\s*\*\*([^*|]{3,80}?)\*\*\s*$")
_LIST_ITEM_RE = re.compile(r"^ {0,6}[*+-]\s+(\S.*?)\s*$")
_RUN_IN_RE = re.compile(r"^\*\*([^*|]{2,40}?:)\*\*\s+(.+)$")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u201c\"(])")


@dataclass(frozen=True)
class Vocabulary:
    """Pieces of real policies to build synthetic ones from."""

    headings: list[str]
    pseudo_headings: list[str]  # text of wholly bold lines
    labels: list[str]  # run-in labels such as "Registration:"
    sentences: list[str]
    items: list[str]


def _is_english_prose(text: str, low: int, high: int) -> bool:
    words = len(text.split())
    ascii_share = sum(ch.isascii() for ch in text) / max(len(text), 1)
    return (
        low <= words <= high
        and ascii_share >= 0.97
        and "|" not in text
        and re.search("[A-Za-z]{3}", text) is not None
    )


def load_vocabulary(folder: Path = SAMPLE) -> Vocabulary:
    """Headings, bold pseudo-headings, run-in labels, sentences and list items of the samples."""
    headings, bold, labels, sentences, items = [], [], [], [], []

    def flush(paragraph: list[str]) -> None:
        text = " ".join(paragraph)
        if run_in := _RUN_IN_RE.match(text):
            labels.append(run_in.group(1))
            text = run_in.group(2)
        sentences.extend(
            s
            for s in _SENTENCE_END_RE.split(text)
            if _is_english_prose(s, 4, 60) and s[-1] in ".!?"
        )
        paragraph.clear()

    for path in sorted(folder.glob("*.md")):
        body = path.read_text(encoding="utf-8").split("\n", 1)[1]
        paragraph: list[str] = []
        for line in [*body.splitlines(), ""]:
            if not line.strip():
                flush(paragraph)
            elif item := _LIST_ITEM_RE.match(line):
                flush(paragraph)
                if _is_english_prose(item.group(1), 2, 40):
                    items.append(item.group(1))
            elif line.startswith(("    ", "\t", "```", ">")) or "|" in line:
                flush(paragraph)  # code, tables and quotes: not prose
            elif heading := _HEADING_RE.match(line):
                flush(paragraph)
                if _is_english_prose(heading.group(1), 1, 12):
                    headings.append(heading.group(1))
            elif pseudo := _BOLD_LINE_RE.match(line):
                flush(paragraph)
                if _is_english_prose(pseudo.group(1), 1, 12):
                    bold.append(pseudo.group(1).strip())
            else:
                paragraph.append(line.strip())

    def unique(values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))

    return Vocabulary(
        unique(headings), unique(bold), unique(labels), unique(sentences), unique(items)
    )


# --- documents -------------------------------------------------------------------------------

# A document is a tuple of blocks (kind, strings); kinds: title, h2, h3, bold, para, list.
# Blocks are immutable, so a revision copies only the blocks it touches.
Block = tuple[str, tuple[str, ...]]


def _render_block(block: Block) -> str:
    kind, parts = block
    if kind == "title":
        return f"# {parts[0]}"
    if kind == "h2":
        return f"## {parts[0]}"
    if kind == "h3":
        return f"### {parts[0]}"
    if kind == "bold":
        return f"**{parts[0]}**"
    if kind == "para":
        return " ".join(parts)
    return "\n".join(f"  * {item}" for item in parts)


def render(document: Sequence[Block]) -> str:
    """The Markdown of a document, laid out as html2text lays out the corpus."""
    return "\n\n".join(_render_block(block) for block in document) + "\n"


def _paragraph(rng: random.Random, vocab: Vocabulary) -> Block:
    sentences = [rng.choice(vocab.sentences) for _ in range(rng.randint(1, 6))]
    if rng.random() < 0.15:
        sentences[0] = f"**{rng.choice(vocab.labels)}** {sentences[0]}"
    return ("para", tuple(sentences))


def new_document(rng: random.Random, vocab: Vocabulary, words: int) -> tuple[Block, ...]:
    """A policy of about `words` words: a title, an introduction, then headed sections."""
    blocks: list[Block] = [("title", (rng.choice(_TITLES),)), _paragraph(rng, vocab)]
    count = sum(len(_render_block(block).split()) for block in blocks)
    while count < words:
        kind = rng.choices(("h2", "h3", "bold"), weights=(55, 20, 25))[0]
        pool = vocab.pseudo_headings if kind == "bold" else vocab.headings
        section: list[Block] = [(kind, (rng.choice(pool),))]
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.25:
                items = tuple(rng.choice(vocab.items) for _ in range(rng.randint(3, 7)))
                section.append(("list", items))
            else:
                section.append(_paragraph(rng, vocab))
        for block in section:
            blocks.append(block)
            count += len(_render_block(block).split())
            if count >= words:
                break
    return tuple(blocks)


def revise(rng: random.Random, vocab: Vocabulary, document: tuple[Block, ...]) -> tuple[Block, ...]:
    """A small revision: one to four sentences or list items changed, inserted or removed."""
    blocks = list(document)
    editable = [i for i, (kind, _) in enumerate(blocks) if kind in ("para", "list")]
    for _ in range(rng.randint(1, 4)):
        index = rng.choice(editable)
        kind, parts = blocks[index]
        changed = list(parts)
        replacement = rng.choice(vocab.sentences if kind == "para" else vocab.items)
        operation = rng.random()
        if operation < 0.55:
            changed[rng.randrange(len(changed))] = replacement
        elif operation < 0.9 or len(changed) == 1:
            changed.insert(rng.randint(0, len(changed)), replacement)
        else:
            del changed[rng.randrange(len(changed))]
        blocks[index] = (kind, tuple(changed))
    return tuple(blocks)


def policy_words(rng: random.Random, fixed: int | None = None) -> int:
    """A policy size: `fixed`, or log-normal around the corpus median, clipped to its range."""
    if fixed:
        return fixed
    words = round(rng.lognormvariate(math.log(MEDIAN_WORDS), SIZE_SIGMA))
    return min(max(words, MIN_WORDS), MAX_WORDS)


# --- corpus ----------------------------------------------------------------------------------


@dataclass
class Corpus:
    """A generated corpus folder and what is in it."""

    path: Path
    companies: int
    captures: int
    files: int = 0
    distinct_bodies: int = 0
    megabytes: float = 0.0
    median_words: int = 0
    mean_words: int = 0

    @property
    def label(self) -> str:
        return f"{self.companies}x{self.captures}"


def _capture_times(rng: random.Random, count: int) -> list[datetime]:
    start, end = int(FIRST_CAPTURE.timestamp()), int(END_OF_CAPTURES.timestamp())
    return [datetime.fromtimestamp(s, UTC) for s in sorted(rng.sample(range(start, end), count))]


def generate_corpus(
    folder: Path,
    vocab: Vocabulary,
    *,
    companies: int,
    captures: int,
    seed: int,
    fixed_words: int | None = None,
) -> Corpus:
    """Write `companies` x `captures` policy files under `folder`, one subfolder per domain.

    Each company has its own generator seeded from (seed, company number), so a company's
    history is the same whatever the corpus size: a larger corpus extends a smaller one.
    """
    corpus = Corpus(folder, companies, captures)
    words_per_file: list[int] = []
    total_bytes = 0
    for number in range(companies):
        rng = random.Random(f"{seed}:{number}")
        domain = f"{rng.choice(_DOMAIN_WORDS)}{number}.{rng.choice(_TLDS)}"
        (folder / domain).mkdir(parents=True, exist_ok=True)
        document = new_document(rng, vocab, policy_words(rng, fixed_words))
        body = render(document)
        corpus.distinct_bodies += 1
        for index, when in enumerate(_capture_times(rng, captures)):
            if index:
                roll = rng.random()
                if roll >= IDENTICAL_SHARE + REVISED_SHARE:
                    document = new_document(rng, vocab, policy_words(rng, fixed_words))
                elif roll >= IDENTICAL_SHARE:
                    document = revise(rng, vocab, document)
                if roll >= IDENTICAL_SHARE:
                    body = render(document)
                    corpus.distinct_bodies += 1
            timestamp = f"{when:%Y%m%d%H%M%S}"
            data = f"{header_line(domain, timestamp)}\n\n{body}".encode()
            (folder / domain / f"{domain}_{timestamp}.md").write_bytes(data)
            total_bytes += len(data)
            words_per_file.append(len(body.split()))
    corpus.files = len(words_per_file)
    corpus.megabytes = total_bytes / 1e6
    corpus.median_words = round(statistics.median(words_per_file))
    corpus.mean_words = round(statistics.fmean(words_per_file))
    return corpus


def prepare_corpus(
    root: Path,
    vocab: Vocabulary,
    *,
    companies: int,
    captures: int,
    seed: int,
    fixed_words: int | None,
) -> Corpus:
    """The corpus for these parameters under `root`: reused if already generated, else made."""
    name = f"{companies}x{captures}-seed{seed}" + (f"-{fixed_words}w" if fixed_words else "")
    folder = root / name
    wanted = {
        "generator": GENERATOR_VERSION,
        "companies": companies,
        "captures": captures,
        "seed": seed,
        "fixed_words": fixed_words,
        "sentences": len(vocab.sentences),
    }
    stamp = folder / STAMP
    if stamp.exists():
        saved = json.loads(stamp.read_text())
        if saved.get("params") == wanted:
            return Corpus(folder, **saved["corpus"])
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    corpus = generate_corpus(
        folder,
        vocab,
        companies=companies,
        captures=captures,
        seed=seed,
        fixed_words=fixed_words,
    )
    print(
        f"generated {corpus.files:,} files ({corpus.megabytes:.0f} MB) in {folder} "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    saved_corpus = {f.name: getattr(corpus, f.name) for f in fields(corpus) if f.name != "path"}
    stamp.write_text(json.dumps({"params": wanted, "corpus": saved_corpus}))
    return corpus


# --- database --------------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


@contextmanager
def _server(url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the server's `postgres` database, for CREATE/DROP DATABASE."""
    config = dj_database_url.parse(url)
    connection = psycopg.connect(
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )
    with connection:
        yield connection


def recreate_database(server: psycopg.Connection, name: str, template: str | None = None) -> None:
    """Drop `name` (closing its connections) and create it empty or as a copy of `template`."""
    server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    if template:
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    else:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    server.execute(statement)


def drop_database(server: psycopg.Connection, name: str) -> None:
    server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _database_megabytes(server: psycopg.Connection, name: str) -> float:
    row = server.execute("SELECT pg_database_size(%s)", [name]).fetchone()
    return row[0] / 1e6


class BackendCpu:
    """CPU seconds used by the local server processes serving one database, while a run lasts.

    A backend's time is gone from /proc once its connection closes, and the server's totals
    include whatever else runs on it (other people's tests), so a thread samples
    /proc/PID/stat of the database's backends every 50 ms and keeps each one's last reading.
    Time spent in the last 50 ms of a backend's life is missed. `seconds` is None when no
    backend could be read (remote server, or /proc hidden).
    """

    INTERVAL = 0.05

    def __init__(self, database_url: str, database: str) -> None:
        self.database_url, self.database = database_url, database
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.readings: dict[int, int] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> BackendCpu:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def seconds(self) -> float | None:
        return sum(self.readings.values()) / self.ticks if self.readings else None

    def _sample(self) -> None:
        with _server(self.database_url) as server:
            while not self.stop.is_set():
                pids = server.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database]
                ).fetchall()
                for (pid,) in pids:
                    try:
                        raw = Path(f"/proc/{pid}/stat").read_text()
                    except OSError:
                        continue
                    # utime and stime are fields 14 and 15; split after the ")" of the name.
                    values = raw[raw.rindex(")") + 2 :].split()
                    self.readings[pid] = int(values[11]) + int(values[12])
                self.stop.wait(self.INTERVAL)


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Measurement:
    """One `manage.py` run: its counts, its wall and CPU time and its peak memory."""

    files: int = 0
    new: int = 0
    unchanged: int = 0
    present: int = 0
    failed: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    postgres_cpu_seconds: float | None = None
    peak_rss_mb: float = 0.0
    database_mb: float | None = None

    @property
    def per_second(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0

    @property
    def per_cpu_second(self) -> float:
        """Captures per CPU second of the importer and its backend together: what the wall
        rate would be on an idle machine, where the two take turns (little else runs)."""
        cpu = self.cpu_seconds + (self.postgres_cpu_seconds or 0.0)
        return self.files / cpu if cpu else 0.0


def _time_v_fields(report: str) -> tuple[float, float]:
    """(user + system CPU seconds, peak RSS in MB) from `/usr/bin/time -v` output."""
    values = {}
    for line in report.splitlines():
        key, _, value = line.strip().rpartition(": ")
        values[key] = value
    cpu = float(values["User time (seconds)"]) + float(values["System time (seconds)"])
    return cpu, int(values["Maximum resident set size (kbytes)"]) / 1024


def run_measured(command: list[str], env: dict[str, str]) -> tuple[str, float, float, float]:
    """Run a command; return its stdout, wall seconds, CPU seconds and peak RSS in MB.

    Uses `/usr/bin/time -v` when installed, else `os.wait4`, which gives the resource usage of
    that one child (getrusage(RUSAGE_CHILDREN) would give the maximum over all children so far,
    useless for comparing runs made by one process).
    """
    with tempfile.TemporaryDirectory(prefix="palimpsest-bench-") as scratch:
        out, err, report = (Path(scratch) / name for name in ("out", "err", "time"))
        timed = [str(TIME), "-v", "-o", str(report), *command] if TIME.exists() else command
        with out.open("wb") as stdout, err.open("wb") as stderr:
            started = time.perf_counter()
            process = subprocess.Popen(timed, stdout=stdout, stderr=stderr, env=env, cwd=ROOT)
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} exited with {process.returncode}:\n"
                f"{out.read_text(errors='replace')[-2000:]}\n"
                f"{err.read_text(errors='replace')[-2000:]}"
            )
        if TIME.exists():
            cpu, peak_mb = _time_v_fields(report.read_text())
        else:
            cpu, peak_mb = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
        return out.read_text(errors="replace"), seconds, cpu, peak_mb


def measure_import(folder: Path, env: dict[str, str]) -> Measurement:
    """Time one `manage.py import_policies --no-progress FOLDER` and read its summary line."""
    database = dj_database_url.parse(env["DATABASE_URL"])["NAME"]
    with BackendCpu(env["DATABASE_URL"], database) as backend:
        output, seconds, cpu, peak_mb = run_measured(
            [sys.executable, str(MANAGE), "import_policies", "--no-progress", str(folder)], env
        )
    summary = _SUMMARY_RE.search(output)
    if summary is None:
        raise RuntimeError(f"no summary line in the import's output:\n{output[-2000:]}")
    counts = {key: int(value) for key, value in summary.groupdict().items()}
    return Measurement(
        **counts,
        seconds=seconds,
        cpu_seconds=cpu,
        postgres_cpu_seconds=backend.seconds,
        peak_rss_mb=peak_mb,
    )


def median_measurement(runs: list[Measurement]) -> Measurement:
    """Field by field median of the runs (counts are equal across runs anyway)."""
    pg = [m.postgres_cpu_seconds for m in runs if m.postgres_cpu_seconds is not None]
    db = [m.database_mb for m in runs if m.database_mb is not None]
    return Measurement(
        files=runs[0].files,
        new=runs[0].new,
        unchanged=runs[0].unchanged,
        present=runs[0].present,
        failed=runs[0].failed,
        seconds=statistics.median(m.seconds for m in runs),
        cpu_seconds=statistics.median(m.cpu_seconds for m in runs),
        postgres_cpu_seconds=statistics.median(pg) if pg else None,
        peak_rss_mb=statistics.median(m.peak_rss_mb for m in runs),
        database_mb=statistics.median(db) if db else None,
    )


# --- report ----------------------------------------------------------------------------------

_COLUMNS = (
    ("corpus", 12, "<"),
    ("pass", 10, "<"),
    ("files", 7, ">"),
    ("new", 7, ">"),
    ("unchanged", 9, ">"),
    ("present", 7, ">"),
    ("seconds", 8, ">"),
    ("captures/s", 10, ">"),
    ("range", 11, ">"),
    ("py CPU s", 8, ">"),
    ("PG CPU s", 8, ">"),
    ("cap/CPU-s", 9, ">"),
    ("peak RSS MB", 11, ">"),
)


def format_row(values: Sequence[str]) -> str:
    return "  ".join(
        f"{value:{align}{width}}" for value, (_, width, align) in zip(values, _COLUMNS, strict=True)
    )


def table_row(corpus: str, label: str, m: Measurement, runs: list[Measurement]) -> str:
    pg = "-" if m.postgres_cpu_seconds is None else f"{m.postgres_cpu_seconds:.1f}"
    rates = [run.per_second for run in runs]
    spread = f"{min(rates):,.0f}-{max(rates):,.0f}" if m.files and len(runs) > 1 else "-"
    return format_row(
        [
            corpus,
            label,
            f"{m.files:,}",
            f"{m.new:,}",
            f"{m.unchanged:,}",
            f"{m.present:,}",
            f"{m.seconds:.2f}",
            f"{m.per_second:,.0f}" if m.files else "-",
            spread,
            f"{m.cpu_seconds:.1f}",
            pg,
            f"{m.per_cpu_second:,.0f}" if m.files else "-",
            f"{m.peak_rss_mb:.0f}",
        ]
    )


def code_version() -> str:
    """The commit the benchmark runs against, marked dirty when the working tree differs."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{ROOT} (not a git checkout)"
    return f"{ROOT} at {described}"


def machine_description(server: psycopg.Connection) -> str:
    """One line: cores, CPU model, Python, PostgreSQL version and its relevant settings."""
    model = platform.processor() or "unknown CPU"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            (line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line),
            model,
        )
    except OSError:
        pass
    version = server.execute("SHOW server_version").fetchone()[0]
    settings = ", ".join(
        f"{name}={server.execute(sql.SQL('SHOW {}').format(sql.Identifier(name))).fetchone()[0]}"
        for name in ("shared_buffers", "synchronous_commit", "max_wal_size")
    )
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"PostgreSQL {version} ({settings})"
    )


# --- profile ---------------------------------------------------------------------------------


def print_profile(path: Path, limit: int = 20) -> None:
    """The functions with the most own time, then the project's functions by cumulative time."""
    stats = pstats.Stats(str(path))
    total = stats.total_tt
    rows = [
        (own, cumulative, calls, f"{Path(file).name}:{line}({name})", file)
        for (file, line, name), (_, calls, own, cumulative, _) in stats.stats.items()
    ]
    print(f"\n{path.name}: {total:.1f} s profiled")
    print(f"  {'own s':>7} {'own %':>6} {'cum s':>7} {'calls':>9}  function (by own time)")
    for own, cumulative, calls, name, _ in sorted(rows, reverse=True)[:limit]:
        print(f"  {own:7.2f} {100 * own / total:5.1f}% {cumulative:7.2f} {calls:9,}  {name}")
    project = [row for row in rows if str(ROOT / "policies") in row[4]]
    print(f"  {'cum s':>7} {'cum %':>6} {'own s':>7} {'calls':>9}  policies/ (by cumulative time)")
    for own, cumulative, calls, name, _ in sorted(project, key=lambda r: -r[1])[:limit]:
        print(f"  {cumulative:7.2f} {100 * cumulative / total:5.1f}% {own:7.2f} {calls:9,}  {name}")


def profile_import(
    corpus: Corpus,
    prefix: str,
    env: dict[str, str],
    server: psycopg.Connection,
    name: str,
    template: str,
) -> None:
    """A first pass and a re-import of `corpus` under cProfile, on a fresh database."""
    recreate_database(server, name, template)
    for label in ("first", "reimport"):
        output = Path(f"{prefix}-{label}.prof").resolve()
        command = [sys.executable, "-m", "cProfile", "-o", str(output), str(MANAGE)]
        command += ["import_policies", "--no-progress", str(corpus.path)]
        subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        print_profile(output)


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--companies",
        type=int,
        nargs="+",
        default=[100, 400],
        metavar="N",
        help="companies per corpus; several values compare corpus sizes (default: 100 400)",
    )
    parser.add_argument("--captures", type=int, default=20, metavar="M", help="per company")
    parser.add_argument("--runs", type=int, default=1, help="repetitions; medians are reported")
    parser.add_argument("--words", type=int, help="make every policy this many words long")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database to drop and recreate; its name must contain 'bench'",
    )
    parser.add_argument("--corpus", type=Path, help="keep generated corpora here and reuse them")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and the temporary corpus"
    )
    parser.add_argument("--profile", metavar="PREFIX", help="also profile the smallest corpus")
    args = parser.parse_args(argv)
    if args.captures < 1 or min(args.companies) < 1 or args.runs < 1:
        parser.error("--companies, --captures and --runs must be positive")
    config = dj_database_url.parse(args.database_url)
    if not config["ENGINE"].endswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL")
    if "bench" not in config["NAME"]:
        parser.error(f"refusing to drop {config['NAME']!r}: use a database named *bench*")
    return args


def run_benchmark(
    server: psycopg.Connection,
    corpora: list[Corpus],
    empty: Path,
    env: dict[str, str],
    runs: int,
) -> tuple[list[Measurement], dict[str, dict[str, list[Measurement]]]]:
    """Measure a 0-file import, then a first pass and a re-import of each corpus, `runs` times.

    Every first pass starts from a copy of the migrated template, so each sees an empty
    database. Runs interleave the sizes, so a noisy minute spreads over all of them.
    """
    name = dj_database_url.parse(env["DATABASE_URL"])["NAME"]
    template = f"{name}_template"
    startup: list[Measurement] = []
    results: dict[str, dict[str, list[Measurement]]] = {
        c.label: {"first": [], "re-import": []} for c in corpora
    }
    for run in range(runs):
        recreate_database(server, name, template)
        startup.append(measure_import(empty, env))
        for corpus in corpora:
            recreate_database(server, name, template)
            first = measure_import(corpus.path, env)
            first.database_mb = _database_megabytes(server, name)
            again = measure_import(corpus.path, env)
            results[corpus.label]["first"].append(first)
            results[corpus.label]["re-import"].append(again)
            print(
                f"run {run + 1}/{runs} {corpus.label}: "
                f"{first.per_second:,.0f} then {again.per_second:,.0f} captures/s",
                file=sys.stderr,
            )
    return startup, results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    name = dj_database_url.parse(args.database_url)["NAME"]
    template = f"{name}_template"
    vocab = load_vocabulary()
    scratch = Path(tempfile.mkdtemp(prefix="palimpsest-bench-"))
    corpus_root = args.corpus.resolve() if args.corpus else scratch
    corpora = [
        prepare_corpus(
            corpus_root,
            vocab,
            companies=n,
            captures=args.captures,
            seed=args.seed,
            fixed_words=args.words,
        )
        for n in sorted(set(args.companies))
    ]
    empty = scratch / "empty"
    empty.mkdir()
    # DEBUG off whatever the caller's environment says: with DEBUG on, Django keeps every query.
    env = {**os.environ, "DATABASE_URL": args.database_url, "DEBUG": "0"}

    try:
        with _server(args.database_url) as server:
            print(machine_description(server))
            print(f"code: {code_version()}")
            try:
                recreate_database(server, template)
                subprocess.run(
                    [sys.executable, str(MANAGE), "migrate", "--no-input", "-v", "0"],
                    env={**env, "DATABASE_URL": _with_database(args.database_url, template)},
                    cwd=ROOT,
                    check=True,
                )
                load_before = os.getloadavg()[0]
                startup, results = run_benchmark(server, corpora, empty, env, args.runs)
                load = (load_before, os.getloadavg()[0])
                print_report(corpora, startup, results, args.runs, load)
                if args.profile:
                    profile_import(corpora[0], args.profile, env, server, name, template)
            finally:
                drop_database(server, template)
                if not args.keep:
                    drop_database(server, name)
    finally:
        if args.keep:
            print(f"kept: database {name}, files in {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


def print_report(
    corpora: list[Corpus],
    startup: list[Measurement],
    results: dict[str, dict[str, list[Measurement]]],
    runs: int,
    load: tuple[float, float],
) -> None:
    """The results table, then the corpus facts and the memory-flatness comparison."""
    print(
        f"\nmedian of {runs} run(s) (range: slowest-fastest run); "
        "captures/s = files / wall seconds, startup included; "
        "cap/CPU-s = files / (py CPU s + PG CPU s)\n"
        f"load average (1 min) {load[0]:.1f} before, {load[1]:.1f} after, on {os.cpu_count()} "
        "CPUs: above about 1, other work shared the machine and wall times are inflated"
    )
    print(format_row([title for title, _, _ in _COLUMNS]))
    base = median_measurement(startup)
    print(table_row("(none)", "startup", base, startup))
    medians: dict[str, Measurement] = {}
    for corpus in corpora:
        for label, measurements in results[corpus.label].items():
            m = median_measurement(measurements)
            medians[f"{corpus.label} {label}"] = m
            print(table_row(corpus.label, label, m, measurements))
    print()
    for corpus in corpora:
        first = medians[f"{corpus.label} first"]
        net = first.files / max(first.seconds - base.seconds, 1e-9)
        print(
            f"{corpus.label}: {corpus.files:,} files, {corpus.megabytes:.0f} MB, "
            f"{corpus.distinct_bodies:,} distinct bodies, words median {corpus.median_words:,} "
            f"mean {corpus.mean_words:,}; first pass {net:,.0f} captures/s without startup, "
            f"database {first.database_mb:.0f} MB"
        )
    if len(corpora) > 1:
        small, large = corpora[0], corpora[-1]
        for label in ("first", "re-import"):
            a, b = medians[f"{small.label} {label}"], medians[f"{large.label} {label}"]
            print(
                f"memory, {label}: {a.peak_rss_mb:.0f} MB for {small.files:,} files, "
                f"{b.peak_rss_mb:.0f} MB for {large.files:,} ({large.files / small.files:.0f}x "
                f"the files, {b.peak_rss_mb / a.peak_rss_mb:.2f}x the peak RSS; "
                f"{base.peak_rss_mb:.0f} MB is Django's own)"
            )


if __name__ == "__main__":
    raise SystemExit(main())
