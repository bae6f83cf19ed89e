"""Benchmark databases: the one place bench scripts create, copy and drop them, and what every
script on one shares: its database arguments, setting Django up on it, and timing a request in
wall and CPU time (the process's and its PostgreSQL backend's).

Every function refuses a database name without "bench", so no script can drop a real database
by mistake. Names are taken from URLs (postgres://user@host:port/NAME).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"


def named(name: str) -> str:
    """A bench database's name with `$BENCH_DB_SUFFIX` appended: people (and CI) running the
    same bench at once on one server each set their own suffix, so no run drops another's."""
    return name + os.environ.get("BENCH_DB_SUFFIX", "")


def default_url(name: str) -> str:
    """The local server's URL for the bench database `name` (suffixed, see `named`)."""
    return f"{SERVER}/{named(name)}"


def database_name(url: str) -> str:
    """The database a URL names, refused unless it is a bench database."""
    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to touch {name!r}: bench databases have 'bench' in the name")
    return name


def with_database(url: str, name: str) -> str:
    """The same server's URL for another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def admin_connection(url: str):
    """An autocommit connection to the server's `postgres` database, for CREATE/DROP DATABASE."""
    import psycopg

    return psycopg.connect(with_database(url, "postgres"), autocommit=True)


def recreate_on(admin, name: str, template: str | None = None) -> None:
    """On an admin connection: drop `name` (closing its connections) and create it empty or as
    a copy of `template`."""
    from psycopg import sql

    if "bench" not in name:
        raise SystemExit(f"refusing to touch {name!r}: bench databases have 'bench' in the name")
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    admin.execute(create)


def drop_on(admin, name: str) -> None:
    """On an admin connection: drop the bench database `name`."""
    from psycopg import sql

    if "bench" not in name:
        raise SystemExit(f"refusing to touch {name!r}: bench databases have 'bench' in the name")
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def megabytes_on(admin, name: str) -> float:
    """The database's size on disk."""
    return admin.execute("SELECT pg_database_size(%s)", [name]).fetchone()[0] / 1e6


def recreate_database(
    base_url: str, name: str | None = None, *, template: str | None = None, migrate: bool = False
) -> str:
    """Drop and create database `name` (suffixed, see `named`; default: the one `base_url`
    names), empty or as a copy of `template`, migrated if asked; return its URL."""
    url = with_database(base_url, named(name)) if name else base_url
    if migrate and template is None:
        template = migrated_template(url)
    with admin_connection(url) as admin:
        recreate_on(admin, database_name(url), template)
    return url


def _migrations_stamp() -> str:
    """A digest of every migration file: the migrated template is rebuilt when it changes."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def migrated_template(url: str) -> str:
    """The name of a migrated, empty database on `url`'s server to copy from, migrated once per
    set of migration files (its comment holds their digest): CREATE DATABASE ... TEMPLATE takes
    well under a second where running the migrations takes several (every bench script starts
    from an empty migrated database, and CI runs them all)."""
    from psycopg import sql

    name, stamp = named("palimpsest_bench_template"), _migrations_stamp()
    with admin_connection(url) as admin:
        found = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
        if found and found[0] == stamp:
            return name
        recreate_on(admin, name)
    env = {**os.environ, "DATABASE_URL": with_database(url, name)}
    manage = [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"]
    subprocess.run(manage, env=env, check=True)
    with admin_connection(url) as admin:
        admin.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(stamp))
        )
    return name


def drop_database(url: str) -> None:
    """Drop the bench database `url` names (closing its connections)."""
    with admin_connection(url) as admin:
        drop_on(admin, database_name(url))


# --- what every bench script on a database shares: arguments, Django, timing -----------------


def database_arguments(parser: argparse.ArgumentParser, name: str, *, reuse: bool = False) -> None:
    """Add `--database-url` (default: bench database `name` on the local server, suffixed, see
    `named`) and `--keep`; with `reuse`, also `--reuse` (use the database as it is)."""
    parser.add_argument("--database-url", default=default_url(name), help="a bench database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    if reuse:
        parser.add_argument("--reuse", action="store_true", help="use the database as it is")


def use_database(url: str, *, test_client: bool = False, **environ: str) -> None:
    """Set Django up on `url` (call before importing models). `test_client`: requests made in
    process through Django's test client, so no HTTPS redirect and the test client's host.
    `environ`: more settings, e.g. STORED_PAGES="0"."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if test_client:
        os.environ.update(SECURE_SSL_REDIRECT="0", ALLOWED_HOSTS="testserver")
    # One process: no connection listening for other processes' changes (dropping the bench
    # database at the end would cut it off, with a traceback).
    os.environ.setdefault("STORED_PAGES_LISTEN", "0")
    os.environ.update(environ)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def machine() -> str:
    """The machine line every report starts with: CPUs, platform, Python, load average."""
    return (
        f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )


def backend_cpu() -> float:
    """CPU seconds the PostgreSQL backend serving Django's connection has used (read from
    /proc: the server must run on this machine). From /proc/PID/schedstat, in nanoseconds:
    /proc/PID/stat counts clock ticks (10 ms), as coarse as a whole API request."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except OSError:  # a kernel without scheduler statistics
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """CPU seconds of this process and of the PostgreSQL backend serving its Django connection:
    on a shared, busy machine wall time mostly measures the queue for a CPU, this the work."""
    return time.process_time() + backend_cpu()


def percentile(values: list[float], share: float) -> float:
    """The value at `share` (0..1) of the sorted values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Timings:
    """Milliseconds of each timed run: wall clock, and CPU of this process and its PostgreSQL
    backend (on a shared, busy machine wall time mostly measures the queue for a CPU)."""

    wall: list[float]
    cpu: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.wall)

    @property
    def p90(self) -> float:
        return percentile(self.wall, 0.9)

    @property
    def worst(self) -> float:
        return max(self.wall)

    @property
    def cpu_p50(self) -> float:
        return statistics.median(self.cpu)


def timed(action: Callable[[], object], runs: int) -> Timings:
    """`action` once to warm up, then `runs` times, each timed in wall and CPU milliseconds."""
    action()
    wall, cpu = [], []
    for _ in range(runs):
        cpu_started = cpu_seconds()  # its query before the wall clock starts
        started = time.perf_counter()
        action()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((cpu_seconds() - cpu_started) * 1000)
    return Timings(wall, cpu)
