"""Writing many rows at once: PostgreSQL's COPY, where the ORM's INSERT would spend more time
building SQL than the database spends storing the rows (imports, lineage copies, the wording
index)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY `rows` (values in `columns`' order, ready for the database) into `table`, on the
    default connection and inside its transaction. PostgreSQL only. A refusal is raised as
    Django's DatabaseError, as an INSERT's would be."""
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    statement = f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN"  # nosec B608
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(statement) as copy,
    ):
        for row in rows:
            copy.write_row(row)
