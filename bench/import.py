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
import os
import platform
import pstats
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import benchdb  # noqa: E402 (bench/ is the script's folder)
import dj_database_url  # noqa: E402
import goals  # noqa: E402
import psycopg  # noqa: E402
from corpus import IDENTICAL_SHARE, Corpus, load_vocabulary, prepare_corpus  # noqa: E402
from psycopg import sql  # noqa: E402

SAMPLE = ROOT / "sample_data" / "corpus-sample"
MANAGE = ROOT / "manage.py"
TIME = Path("/usr/bin/time")
DEFAULT_DATABASE_URL = benchdb.default_url("palimpsest_bench")

_SUMMARY_RE = re.compile(
    r"Files read: (?P<files>\d+), new captures: (?P<new>\d+), unchanged captures: "
    r"(?P<unchanged>\d+), already present: (?P<present>\d+), failed: (?P<failed>\d+)\."
)


# --- database --------------------------------------------------------------------------------


@contextmanager
def _server(url: str) -> Iterator[psycopg.Connection]:
    with benchdb.admin_connection(url) as connection:
        yield connection


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
    benchdb.recreate_on(server, name, template)
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
        "--identical",
        type=float,
        default=IDENTICAL_SHARE,
        help="share of consecutive captures identical (0.70; the PLL has about 0.15)",
    )
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
    template = benchdb.migrated_template(env["DATABASE_URL"])
    startup: list[Measurement] = []
    results: dict[str, dict[str, list[Measurement]]] = {
        c.label: {"first": [], "re-import": []} for c in corpora
    }
    for run in range(runs):
        benchdb.recreate_on(server, name, template)
        startup.append(measure_import(empty, env))
        for corpus in corpora:
            benchdb.recreate_on(server, name, template)
            first = measure_import(corpus.path, env)
            first.database_mb = benchdb.megabytes_on(server, name)
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
    template = benchdb.migrated_template(args.database_url)
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
            identical=args.identical,
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
                load_before = os.getloadavg()[0]
                startup, results = run_benchmark(server, corpora, empty, env, args.runs)
                load = (load_before, os.getloadavg()[0])
                print_report(corpora, startup, results, args.runs, load)
                if args.profile:
                    profile_import(corpora[0], args.profile, env, server, name, template)
            finally:
                if not args.keep:
                    benchdb.drop_on(server, name)
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
        goals.check(
            f"import first pass end to end, {corpus.label} ({corpus.files:,} files)",
            first.per_second,
            1000,
            "captures/s",
            at_least=True,
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
            goals.check(
                f"import peak RSS, {label}, {large.files / small.files:.0f}x the files",
                b.peak_rss_mb / a.peak_rss_mb,
                1.25,
                "x",
            )


if __name__ == "__main__":
    raise SystemExit(main())
