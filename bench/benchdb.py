"""A fresh PostgreSQL database for one bench run (shared by the bench scripts)."""

from __future__ import annotations


def recreate_database(base_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `base_url`; return its URL.

    Refuses names without "bench", so no script can drop a real database by mistake.
    """
    import psycopg
    from psycopg import sql

    if "bench" not in name:
        raise ValueError(f"refusing to recreate {name!r}: bench databases have 'bench' in the name")
    server = base_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"{server}/{name}"
