"""Pull folders, cursors and the sources file: the parts of ``owh extract`` every tracker shares."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pipelines.extract.config import ConfigError, JiraFields, load_config
from pipelines.extract.policy import ExtractError
from pipelines.extract.pulls import CursorStore, Fetched, pull_folder, run_pull
from pipelines.extract.sources import is_configured, pull_source, source_settings
from pipelines.lib.landing import list_tracker_files, readable_pull_folders, unmatched_entries

REPO_ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)


def fetch_writing(pages: list[list[dict]], cursor: dt.datetime | None):
    def fetch(since, folder):
        for issues in pages:
            folder.write_page({"issues": issues})
        return Fetched(issues=sum(map(len, pages)), cursor=cursor, details={"since": str(since)})

    return fetch


def pull(tmp_path: Path, *, at: dt.datetime, cursor: dt.datetime | None, full=False, pages=None):
    return run_pull(
        tmp_path / "landing",
        tmp_path / "warehouse",
        source="jira",
        scope="https://acme.example|project = HX",
        full=full,
        overlap=dt.timedelta(minutes=5),
        fetch=fetch_writing(pages if pages is not None else [[{"key": "HX-1"}]], cursor),
        now=at,
    )


def test_a_pull_is_published_whole_with_its_manifest_and_the_cursor_moves_after(tmp_path):
    result = pull(tmp_path, at=T0, cursor=T0 - dt.timedelta(hours=1), pages=[[{}], [{}, {}]])
    folder = tmp_path / "landing" / "jira" / "20261201T060000Z"
    assert result.folder == folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "page-0001.json",
        "page-0002.json",
    ]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest == {
        "source": "jira",
        "scope": "https://acme.example|project = HX",
        "pull_id": "20261201T060000Z",
        "pulled_at": "2026-12-01T06:00:00+00:00",
        "full": True,
        "since": None,
        "issues": 3,
        "pages": 2,
        "cursor": "2026-12-01T05:00:00+00:00",
        "details": {"since": "None"},
    }
    store = CursorStore(tmp_path / "warehouse")
    assert store.read("jira", "https://acme.example|project = HX") == T0 - dt.timedelta(hours=1)


def test_the_next_pull_starts_at_the_cursor_less_the_overlap(tmp_path):
    pull(tmp_path, at=T0, cursor=T0 - dt.timedelta(hours=1))
    result = pull(tmp_path, at=T0 + dt.timedelta(days=1), cursor=T0 + dt.timedelta(hours=20))
    assert (result.full, result.since) == (False, "2026-12-01T04:55:00+00:00")
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["details"] == {"since": "2026-12-01 04:55:00+00:00"}


def test_a_failed_fetch_leaves_no_folder_and_the_cursor_unchanged(tmp_path):
    pull(tmp_path, at=T0, cursor=T0 - dt.timedelta(hours=1))
    cursor_file = CursorStore(tmp_path / "warehouse").path(
        "jira", "https://acme.example|project = HX"
    )
    before = cursor_file.read_bytes()

    def failing(since, folder):
        folder.write_page({"issues": [{}]})
        raise ExtractError("Jira kept answering 503")

    with pytest.raises(ExtractError):
        run_pull(
            tmp_path / "landing",
            tmp_path / "warehouse",
            source="jira",
            scope="https://acme.example|project = HX",
            full=False,
            overlap=dt.timedelta(minutes=5),
            fetch=failing,
            now=T0 + dt.timedelta(days=1),
        )
    assert sorted(p.name for p in (tmp_path / "landing" / "jira").iterdir()) == [
        "20261201T060000Z",
    ]
    assert cursor_file.read_bytes() == before


def test_a_leftover_partial_folder_is_never_read_and_the_next_pull_removes_it(tmp_path):
    pull(tmp_path, at=T0, cursor=T0)
    leftover = tmp_path / "landing" / "jira" / ".20261201T070000Z.partial"
    leftover.mkdir()
    (leftover / "page-0001.json").write_text('{"issues": []}')
    files = list_tracker_files(tmp_path / "landing", "jira", ("*.json",))
    assert [f.relative_path for f in files] == ["jira/20261201T060000Z/page-0001.json"]
    pull(tmp_path, at=T0 + dt.timedelta(hours=2), cursor=T0 + dt.timedelta(hours=1))
    assert not leftover.exists()


def test_two_pulls_of_one_source_never_run_at_once(tmp_path):
    with (
        pull_folder(tmp_path / "landing", "jira", "20261201T060000Z"),
        pytest.raises(ExtractError, match=r"another pull of jira into .* is running"),
        pull_folder(tmp_path / "landing", "jira", "20261201T060001Z"),
    ):
        pass


def test_a_full_pull_supersedes_the_earlier_pulls_of_its_scope_only(tmp_path):
    pull(tmp_path, at=T0, cursor=T0)  # first pull: full
    pull(tmp_path, at=T0 + dt.timedelta(days=1), cursor=T0 + dt.timedelta(days=1))
    other = run_pull(
        tmp_path / "landing",
        tmp_path / "warehouse",
        source="jira",
        scope="https://acme.example|project = OTHER",
        full=False,
        overlap=dt.timedelta(minutes=5),
        fetch=fetch_writing([[{}]], T0),
        now=T0 + dt.timedelta(days=1, hours=1),
    )
    pull(tmp_path, at=T0 + dt.timedelta(days=2), cursor=T0 + dt.timedelta(days=2), full=True)
    source_dir = tmp_path / "landing" / "jira"
    read, superseded = readable_pull_folders(source_dir)
    assert [p.name for p in superseded] == ["20261201T060000Z", "20261202T060000Z"]
    assert [p.name for p in read] == [other.folder.name, "20261203T060000Z"]
    # pull folders are not reported as ignored entries of the jira folder
    assert unmatched_entries(tmp_path / "landing", "jira", ("*.json",)) == []


def test_the_example_sources_file_is_valid_and_the_demo_needs_none(tmp_path, monkeypatch):
    config = load_config(REPO_ROOT / "owh.example.yml")
    assert config.jira.url == "https://acme.atlassian.net"
    assert config.jira.fields.team is None
    assert config.github.repo == "acme/payments-api"
    assert config.linear.team == "DATA"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OWH_CONFIG", raising=False)
    empty = load_config()
    assert not any(is_configured(empty, source) for source in ("jira", "github", "linear"))


def test_a_broken_sources_file_is_named_with_the_key(tmp_path):
    path = tmp_path / "owh.yml"
    path.write_text("jira:\n  url: https://x.example\n  jqll: project = A\n")
    with pytest.raises(ConfigError, match=r"owh\.yml: jira\.jqll: Extra inputs are not permitted"):
        load_config(path)
    path.write_text("jira: [\n")
    with pytest.raises(ConfigError, match=r"owh\.yml: not valid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match=r"config file .*missing\.yml not found"):
        load_config(tmp_path / "missing.yml")


def test_command_line_options_win_over_the_file_and_missing_ones_are_named(tmp_path):
    path = tmp_path / "owh.yml"
    path.write_text("jira:\n  url: https://file.example\n  fields:\n    team: Squad\n")
    config = load_config(path)
    settings = source_settings(config, "jira", {"url": "https://cli.example", "jql": None})
    assert (settings.url, settings.jql) == ("https://cli.example", None)
    assert settings.fields == JiraFields(team="Squad")
    with pytest.raises(ExtractError, match=r"^jira needs --jql \(or jira\.jql in owh\.yml\)$"):
        pull_source("jira", config, landing_dir=tmp_path, warehouse_dir=tmp_path)
