"""Quoting for the few SQL statements that cannot take parameters (names, ATTACH, COPY ... TO)."""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """A schema, table or column name as a SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A text as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
