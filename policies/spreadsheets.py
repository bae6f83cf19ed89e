"""Spreadsheet-safe CSV cells: the one rule against formula injection, in Python and in SQL.

A cell that starts with = + - @ tab or carriage return would run as a formula when a CSV file is
opened in a spreadsheet; such a cell gets a leading apostrophe (OWASP's advice). The import
report writes cells in Python (`csv_safe`); the tag export has the database escape them as it
reads them (`FormulaSafe`). Both read `FORMULA_START`.
"""

from __future__ import annotations

from django.db.models import F, Func, TextField

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """The cell as text, with a leading apostrophe if it would start a spreadsheet formula."""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def _sql_characters(char_function: str) -> str:
    return ", ".join(
        f"{char_function}({ord(c)})" if not c.isprintable() else f"'{c}'" for c in FORMULA_START
    )


class FormulaSafe(Func):
    """`csv_safe` as an SQL expression on a text column, computed by the database."""

    output_field = TextField()
    _TEMPLATE = (
        "CASE WHEN substr(%(expressions)s, 1, 1) IN ({starts}) "
        "THEN '''' || %(expressions)s ELSE %(expressions)s END"
    )

    def __init__(self, expression: str) -> None:
        super().__init__(F(expression))

    def as_sql(self, compiler, connection, **extra):
        template = self._TEMPLATE.format(starts=_sql_characters("char"))
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = self._TEMPLATE.format(starts=_sql_characters("chr"))
        return super().as_sql(compiler, connection, template=template, **extra)
