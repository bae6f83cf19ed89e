"""Benchmark databases: the one place bench scripts create, copy and drop them.

Every function refuses a database name without "bench", so no script can drop a real database
by mistake. Names are taken from URLs (postgres://user@host:port/NAME).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
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


def backend_cpu(connection) -> float:
    """CPU seconds the PostgreSQL backend serving a Django connection has used so far, read
    from /proc (the server on this machine); 0.0 where it cannot be read. On a shared, busy
    machine wall time mostly measures the queue for a CPU: this and `time.process_time()`
    measure the work."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
