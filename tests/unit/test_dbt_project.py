"""The dbt project's manifest: parsed when stale, and once when several processes ask at once."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from pipelines.lib import dbt_project
from pipelines.lib.dbt_project import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    dbt_command,
    dbt_threads,
    ensure_manifest,
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project_dir = tmp_path / "dbt_project"
    (project_dir / "models").mkdir(parents=True)
    (project_dir / "models" / "a.sql").write_text("select 1 as x\n")
    (project_dir / "dbt_project.yml").write_text("name: p\n")
    (project_dir / "profiles.yml").write_text("p: {}\n")
    return project_dir


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A stand-in for `dbt parse`: it reads the project for a while, then writes the manifest in
    two halves, as a real one writing a large file can be seen half-written."""
    started: list[float] = []

    def fake_run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        started.append(time.monotonic())
        project_dir = Path(command[command.index("--project-dir") + 1])
        manifest = project_dir / command[command.index("--target-path") + 1] / "manifest.json"
        time.sleep(0.3)
        manifest.parent.mkdir(parents=True, exist_ok=True)
        with manifest.open("a") as out:
            out.write('{"nodes": ')
            out.flush()
            time.sleep(0.1)
            out.write("{}}")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(dbt_project.subprocess, "run", fake_run)
    return started


def test_two_callers_at_once_parse_once_and_leave_a_whole_manifest(project, parses):
    threads = [threading.Thread(target=ensure_manifest, args=(project,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(parses) == 1
    assert (project / "target" / "manifest.json").read_text() == '{"nodes": {}}'


def test_a_current_manifest_is_not_parsed_again_and_a_stale_one_is(project, parses):
    ensure_manifest(project)
    ensure_manifest(project)
    assert len(parses) == 1

    manifest = project / "target" / "manifest.json"
    manifest.unlink()
    ensure_manifest(project)
    assert len(parses) == 2

    model = project / "models" / "a.sql"
    later = manifest.stat().st_mtime + 10
    os.utime(model, (later, later))
    manifest.unlink()
    manifest.write_text('{"nodes": {}}')
    os.utime(manifest, (later - 5, later - 5))
    ensure_manifest(project)
    assert len(parses) == 3


def test_dbt_builds_with_the_cores_it_may_use_unless_told(monkeypatch):
    monkeypatch.delenv("OWH_DBT_THREADS", raising=False)
    assert dbt_threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("OWH_DBT_THREADS", "3")
    assert dbt_threads() == 3
    for wrong in ("0", "two", "-1"):
        monkeypatch.setenv("OWH_DBT_THREADS", wrong)
        with pytest.raises(ValueError, match=f"OWH_DBT_THREADS must be .* got '{wrong}'"):
            dbt_threads()


def test_dbt_command_names_the_project_profiles_target_and_log(tmp_path):
    assert dbt_command(
        "test", "--select", "x", target_path=tmp_path / "t", log_path=tmp_path / "l"
    ) == [
        DBT_EXECUTABLE,
        "test",
        "--select",
        "x",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(tmp_path / "t"),
        "--log-path",
        str(tmp_path / "l"),
    ]
    profiles = tmp_path / "profiles"
    command = dbt_command("ls", target_path=tmp_path, log_path=tmp_path, profiles_dir=profiles)
    assert command[command.index("--profiles-dir") + 1] == str(profiles)
