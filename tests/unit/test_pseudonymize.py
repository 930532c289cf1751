"""Pseudonymisation and e-mail masking (docs/privacy-and-security.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.lib.duckdb_connection import connect
from pipelines.lib.pseudonymize import (
    DEMO_PSEUDONYM_KEY,
    PSEUDONYM_KEY_ENV,
    MissingPseudonymKeyError,
    mask_emails,
    normalize_identity,
    pseudonym,
    pseudonym_key_from_env,
    pseudonymize,
)
from pipelines.sources.ingest import ingest_definitions, ingest_impact, ingest_task_tracker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
KEY = b"pseudonym-test-key"
# HMAC-SHA256(b"pseudonym-test-key", b"ann@x.com"), first 16 hex digits: pinned, so a change to
# the algorithm (and with it every stored pseudonym) cannot go unnoticed
ANN = "person_4905527cabfb82af"
# The integration suite's pattern: anything@anything.letters
EMAIL_REGEX = r"[^@\s]+@[^@\s]+\.[a-z]+"


def test_one_person_has_one_pseudonym_whatever_the_spelling():
    assert pseudonymize(["Ann@X.com ", "ann@x.com", " ANN@x.COM"], KEY) == [ANN, ANN, ANN]
    expected = hmac.new(KEY, b"ann@x.com", hashlib.sha256).hexdigest()[:16]
    assert f"person_{expected}" == ANN


def test_another_key_gives_another_pseudonym():
    assert pseudonymize(["ann@x.com"], b"another-key") != [ANN]
    assert pseudonym("ann@x.com", b"another-key").startswith("person_")


def test_missing_identities_stay_missing():
    assert pseudonymize([None, "", "   ", "ann@x.com"], KEY) == [None, None, None, ANN]


def test_jira_users_prefer_email_then_account_id_then_display_name():
    assert normalize_identity({"emailAddress": "Ann@X.com ", "accountId": "5b10"}) == "ann@x.com"
    assert normalize_identity({"emailAddress": "", "accountId": "5B10"}) == "5b10"
    assert normalize_identity({"displayName": " Ann Example "}) == "ann example"
    assert normalize_identity({}) is None
    assert pseudonymize([{"emailAddress": "ann@x.com", "displayName": "Ann"}], KEY) == [ANN]


def test_series_keep_their_index_and_each_identity_is_hashed_once(monkeypatch):
    calls = []
    real = pseudonym

    def counting(identity, key):
        calls.append(identity)
        return real(identity, key)

    monkeypatch.setattr("pipelines.lib.pseudonymize.pseudonym", counting)
    values = pd.Series(["ann@x.com", None, "Ann@X.com", "bob@y.org"], index=[10, 11, 12, 13])
    result = pseudonymize(values, KEY)
    assert result.index.tolist() == [10, 11, 12, 13]
    assert result.tolist() == [ANN, None, ANN, real("bob@y.org", KEY)]
    assert sorted(calls) == ["ann@x.com", "bob@y.org"]


def test_key_from_environment(monkeypatch):
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "s3cret-value")
    assert pseudonym_key_from_env(demo=False) == b"s3cret-value"
    assert pseudonym_key_from_env(demo=True) == b"s3cret-value"


def test_demo_runs_fall_back_to_the_documented_demo_key(monkeypatch):
    monkeypatch.delenv(PSEUDONYM_KEY_ENV, raising=False)
    assert pseudonym_key_from_env(demo=True) == DEMO_PSEUDONYM_KEY


@pytest.mark.parametrize("value", [None, ""])
def test_missing_key_outside_demo_raises_naming_the_variable(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(PSEUDONYM_KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(PSEUDONYM_KEY_ENV, value)
    with pytest.raises(MissingPseudonymKeyError, match=f"{PSEUDONYM_KEY_ENV} is not set") as err:
        pseudonym_key_from_env(demo=False)
    assert f"export {PSEUDONYM_KEY_ENV}=" in str(err.value)


def test_mask_emails_in_text():
    assert mask_emails('{"emailAddress": "Ann.Example+x@X.co.uk ", "n": 1}') == (
        '{"emailAddress": "<email> ", "n": 1}'
    )
    assert mask_emails("ask carol@example.com, or dave@example.org.") == (
        "ask <email>, or <email>."
    )
    assert mask_emails("no address @ here") == "no address @ here"
    assert mask_emails(None) is None


def test_no_email_address_reaches_any_raw_table_and_jira_and_csv_agree(tmp_path):
    landing = tmp_path / "landing"
    sources = {
        "jira/page-1.json": FIXTURES / "jira" / "page-1.json",
        "tasks/tasks.csv": FIXTURES / "canonical" / "tasks.csv",
        "task_status_changes/changes.csv": FIXTURES / "canonical" / "task_status_changes.csv",
        "outcomes/outcomes.csv": FIXTURES / "canonical" / "outcomes.csv",
        "confidence_surveys/survey.csv": FIXTURES / "canonical" / "confidence_surveys.csv",
    }
    for relative, source in sources.items():
        (landing / relative).parent.mkdir(parents=True, exist_ok=True)
        (landing / relative).write_bytes(source.read_bytes())
    # a title and an extra column with addresses, in a file that also has a quarantined row
    (landing / "tasks" / "more.csv").write_text(
        "source,task_id,title,task_type,created_at,status,reporter\n"
        "linear,E-1,Call eve@example.com back,task,2026-09-01T00:00:00Z,Open,eve@example.com\n"
        "linear,E-2,Broken,task,yesterday,Open,frank@example.com\n"
    )
    con = connect(allowed_directories=[landing])
    loaded_at = dt.datetime(2026, 10, 1)
    results = [
        ingest_task_tracker(con, landing, run_id="r", loaded_at=loaded_at, pseudonym_key=KEY),
        ingest_definitions(con, landing, run_id="r", loaded_at=loaded_at),
        ingest_impact(con, landing, run_id="r", loaded_at=loaded_at, pseudonym_key=KEY),
    ]
    text_columns = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'raw' and data_type in ('VARCHAR', 'JSON', 'VARCHAR[]')"
    ).fetchall()
    assert len(text_columns) > 40
    for table, column in text_columns:
        text = f'cast("{column}" as varchar)'
        hits = con.execute(
            f"select count(*) from raw.{table} where regexp_matches({text}, ?)", [EMAIL_REGEX]
        ).fetchone()[0]
        assert hits == 0, f"raw.{table}.{column} holds an e-mail address"
    for result in results:
        for text in [*result.warnings, *(f.message or "" for f in result.files)]:
            assert "@" not in text
    # "Ann@X.com " in Jira and in the CSV, "ann@x.com" as author and respondent: one pseudonym
    people = con.execute(
        "select assignee from raw.tasks where task_id in ('OWH-1', 'LIN-1') union all "
        "select author from raw.task_status_changes where task_id in ('OWH-1', 'LIN-1') "
        "union all select respondent from raw.confidence_surveys"
    ).fetchall()
    assert people == [(ANN,)] * 7
    assert con.execute("select title, _extra from raw.tasks where task_id = 'E-1'").fetchall() == [
        ("Call <email> back", '{"reporter":"<email>"}')
    ]


def test_a_demo_manifest_in_a_landing_folder_does_not_switch_on_the_demo_key(tmp_path, monkeypatch):
    """Only `owh demo` uses the public key: a stray demo_manifest.json must not turn real data's
    pseudonyms into ones anybody can recompute."""
    landing = tmp_path / "landing"
    (landing / "tasks").mkdir(parents=True)
    (landing / "demo_manifest.json").write_text("{}")
    monkeypatch.delenv(PSEUDONYM_KEY_ENV, raising=False)
    monkeypatch.chdir(tmp_path)

    for command in ("ingest", "run"):
        result = CliRunner().invoke(
            app, [command, "--landing", str(landing), "--warehouse", str(tmp_path / "w")]
        )
        assert result.exit_code == 2, (command, result.output)
        assert f"{PSEUDONYM_KEY_ENV} is not set" in " ".join(result.output.split())
    assert not (tmp_path / "w").exists()
