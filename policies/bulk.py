"""Writing many rows at once: PostgreSQL's COPY, where the ORM's INSERT would spend more time
building SQL than the database spends storing the rows (imports, lineage copies, the wording
index)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

# Fields whose values psycopg takes as Python holds them (what `get_db_prep_save` would return
# for values of the right type): read straight from each object, not prepared field by field.
_TAKEN_AS_THEY_ARE = frozenset(
    {
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "FloatField",
        "ForeignKey",
        "IntegerField",
        "OneToOneField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallIntegerField",
        "TextField",
    }
)


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


def copy_models(
    model: type[models.Model], objects: Iterable[object], fields: Sequence[str] | None = None
) -> None:
    """COPY new rows of `model` (primary keys from the database, not read back) into its table.
    PostgreSQL only, inside the caller's transaction; refusals raise DatabaseError.

    `objects` are unsaved model instances, or any objects that carry `fields` as attributes
    under the model's attribute names (`category_id`); by default every concrete field but the
    primary key. Each field left out takes its default, prepared once for all rows (per row
    for a unique one, such as a uuid). Numbers, text and foreign keys go as the objects hold
    them; other values (JSON, dates, uuids) are prepared by their field as `save()` would,
    `auto_now` included.
    """
    concrete = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = concrete if fields is None else [model._meta.get_field(name) for name in fields]
    plain = [f for f in given if f.get_internal_type() in _TAKEN_AS_THEY_ARE]
    prepared = [f for f in given if f not in plain]
    rest = [f for f in concrete if f not in given]
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: its proxy costs a lookup a use
    template = model()
    defaults = [
        None if f.unique else f.get_db_prep_save(f.pre_save(template, True), db) for f in rest
    ]
    fresh = [(n, f) for n, f in enumerate(rest, len(plain) + len(prepared)) if f.unique]
    read = _reader([f.attname for f in plain])

    def rows():
        for item in objects:
            row = [
                *read(item),
                *[f.get_db_prep_save(f.pre_save(item, True), db) for f in prepared],
                *defaults,
            ]
            for n, f in fresh:
                row[n] = f.get_db_prep_save(f.get_default(), db)
            yield row

    copy_rows(model._meta.db_table, [f.column for f in (*plain, *prepared, *rest)], rows())


def _reader(names: list[str]) -> Callable[[object], tuple]:
    """A function returning the attributes `names` of an object, as a tuple."""
    if len(names) == 1:
        name = names[0]
        return lambda item: (getattr(item, name),)
    return attrgetter(*names) if names else lambda item: ()
