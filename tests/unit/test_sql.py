"""Quoting of names and texts that reach SQL without parameters."""

from __future__ import annotations

import duckdb

from pipelines.lib.sql import quote_identifier, quote_literal

ODD_NAME = 'odd "name" x'
HOSTILE_TEXT = "it's'; drop table x; --"


def test_a_name_with_quotes_and_spaces_is_one_identifier():
    assert quote_identifier(ODD_NAME) == '"odd ""name"" x"'
    with duckdb.connect() as con:
        con.execute(f"create table {quote_identifier(ODD_NAME)} (v integer)")
        tables = con.execute("select table_name from information_schema.tables").fetchall()
    assert tables == [(ODD_NAME,)]


def test_a_text_with_quotes_is_one_literal():
    assert quote_literal(HOSTILE_TEXT) == "'it''s''; drop table x; --'"
    with duckdb.connect() as con:
        assert con.execute(f"select {quote_literal(HOSTILE_TEXT)}").fetchone() == (HOSTILE_TEXT,)
