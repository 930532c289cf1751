"""The preloaded dbt and its launcher (pipelines.lib.dbt_preload, pipelines.lib.dbt_launch).

The launcher must behave as the dbt executable would: same output, same exit code, the caller's
folder and environment, signals passed on, and dbt itself whenever nothing preloaded answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipelines.lib.dbt_launch import (
    EXECUTABLE_VARIABLE,
    SOCKET_VARIABLE,
    UNHANDLED_ERROR,
    abstract_address,
    connect,
)
from pipelines.lib.dbt_preload import PreloadedDbt, launcher_command, launcher_waiting
from pipelines.lib.dbt_project import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    DBT_TARGET_PATH,
    PARTIAL_PARSE_FILE,
    build_environment,
    dbt_command,
    reuse_parse,
)
from tests.processes import running, wait_until_ended

pytestmark = pytest.mark.xdist_group("demo_run")


@pytest.fixture
def refusing_dbt(tmp_path: Path) -> str:
    """A stand-in for the dbt executable that says it ran, with its arguments, and exits 97."""
    script = tmp_path / "fallback-dbt"
    script.write_text('#!/bin/sh\necho "fallback dbt: $*"\nexit 97\n')
    script.chmod(0o755)
    return str(script)


def launch(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*launcher_command(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def preloaded() -> PreloadedDbt:
    process = PreloadedDbt()
    process.start()
    yield process
    process.stop()


def test_without_a_socket_the_launcher_becomes_dbt(refusing_dbt: str) -> None:
    env = {**os.environ, EXECUTABLE_VARIABLE: refusing_dbt}
    env.pop(SOCKET_VARIABLE, None)
    result = launch("build", "--threads", "2", env=env)
    assert (result.returncode, result.stdout) == (97, "fallback dbt: build --threads 2\n")


def test_a_socket_nobody_listens_on_falls_back_to_dbt(refusing_dbt: str) -> None:
    env = {**os.environ, EXECUTABLE_VARIABLE: refusing_dbt, SOCKET_VARIABLE: "owh-dbt-nobody"}
    result = launch("debug", env=env)
    assert (result.returncode, result.stdout) == (97, "fallback dbt: debug\n")


@pytest.mark.parametrize("args", [["--version"], ["no-such-command"], ["parse", "--no-such-flag"]])
def test_preloaded_dbt_answers_as_dbt_does(
    preloaded: PreloadedDbt, refusing_dbt: str, args: list[str]
) -> None:
    """Same output and exit code as the dbt executable, from the preloaded process (the
    stand-in executable would exit 97)."""
    plain = subprocess.run(
        [DBT_EXECUTABLE, *args], capture_output=True, text=True, timeout=120, check=False
    )
    env = {**os.environ, **preloaded.environment(), EXECUTABLE_VARIABLE: refusing_dbt}
    forked = launch(*args, env=env)
    assert forked.returncode == plain.returncode != 97
    assert forked.stdout == plain.stdout
    assert forked.stderr == plain.stderr


def test_a_preloaded_and_warmed_dbt_logs_a_command_as_dbt_does(
    refusing_dbt: str, tmp_path: Path
) -> None:
    """``dbt ls`` of the project, JSON lines at info as a build logs them: the same events with
    the same messages, in the same order, from a process that warmed up on the project's kept
    parse and skips the events nobody logs (pipelines.lib.dbt_tuning)."""
    process = PreloadedDbt(kept_parse=DBT_PROJECT_DIR / DBT_TARGET_PATH / PARTIAL_PARSE_FILE)
    process.start()
    try:
        events = {}
        for way in ("plain", "forked"):
            target = tmp_path / way
            reuse_parse(target)
            command = dbt_command(
                "ls",
                "--resource-type",
                "model",
                "--log-format",
                "json",
                target_path=target,
                log_path=target,
            )
            env = {**os.environ, **build_environment(tmp_path / "warehouse.duckdb")}
            if way == "plain":
                done = subprocess.run(
                    command, env=env, capture_output=True, text=True, timeout=120, check=False
                )
            else:
                env.update({**process.environment(), EXECUTABLE_VARIABLE: refusing_dbt})
                done = launch(*command[1:], env=env)
            assert done.returncode == 0, done.stdout + done.stderr
            lines = [json.loads(line)["info"] for line in done.stdout.splitlines()]
            events[way] = [(line["name"], line["level"], line["msg"]) for line in lines]
    finally:
        process.stop()
    assert events["forked"] == events["plain"]
    listed = [msg for name, _level, msg in events["plain"] if name == "PrintEvent"]
    assert "outcome_warehouse.marts.flow.fct_tasks" in listed
    # the kept parse was reused, not parsed again: the build's case
    assert not any(name == "UnableToPartialParse" for name, _level, _msg in events["plain"])


def test_a_launcher_that_connected_is_seen_waiting() -> None:
    """The preloaded process compiles templates only while no launcher waits: a connection not
    yet accepted is seen at once, and an accepted one no longer waits."""
    name = "owh-test-" + secrets.token_hex(8)
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as listener:
        listener.bind(abstract_address(name))
        listener.listen(1)
        assert launcher_waiting(listener) is False
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as launcher:
            launcher.connect(abstract_address(name))
            assert launcher_waiting(listener) is True
            accepted, _ = listener.accept()
            accepted.close()
            assert launcher_waiting(listener) is False


def test_a_stopped_preloaded_dbt_leaves_nothing_for_the_resource_tracker() -> None:
    """The preloaded process is killed when the run ends. The manifest it keeps must not hold a
    named semaphore then: multiprocessing's resource tracker would remove it and print
    "leaked semaphore objects" at the end of every run's output. Here a process starts a
    preloaded dbt on the kept parse, runs one command through it (so the kept parse has been
    read), stops it, and writes nothing to its standard error (the tracker's, inherited)."""
    script = f"""
import os, subprocess
from pipelines.lib.dbt_launch import EXECUTABLE_VARIABLE
from pipelines.lib.dbt_preload import PreloadedDbt, launcher_command
process = PreloadedDbt(kept_parse={str(DBT_PROJECT_DIR / DBT_TARGET_PATH / PARTIAL_PARSE_FILE)!r})
process.start()
env = {{**os.environ, **process.environment(), EXECUTABLE_VARIABLE: "/bin/false"}}
done = subprocess.run([*launcher_command(), "--version"], env=env, stdout=subprocess.PIPE)
process.stop()
print(done.returncode)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "0\n", "")


def test_dbt_runs_in_the_launchers_folder_and_environment(
    preloaded: PreloadedDbt, refusing_dbt: str, tmp_path: Path
) -> None:
    """dbt reads DBT_PROFILES_DIR from the environment and looks for the project in the working
    folder: both are the launcher's, not the preloaded process's."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    env = {
        **os.environ,
        **preloaded.environment(),
        EXECUTABLE_VARIABLE: refusing_dbt,
        "DBT_PROFILES_DIR": str(profiles),
    }
    shown = launch("debug", "--config-dir", env=env, cwd=tmp_path)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert shown.stdout.splitlines()[-1] == f"xdg-open {profiles}"
    parsed = launch("parse", env=env, cwd=tmp_path)
    assert parsed.returncode == 2
    assert f"No dbt_project.yml found at expected path {tmp_path}/dbt_project.yml" in parsed.stdout


@contextlib.contextmanager
def stand_in_preloaded(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A stand-in for the preloaded process that serves one launcher: it reads the request,
    closes the launcher's streams it was given, and lets ``answer`` reply on the connection.
    Yields the socket's name."""
    name = f"owh-dbt-test-{os.getpid()}-{secrets.token_hex(4)}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(abstract_address(name))
    listener.listen(1)

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            _data, fds, _flags, _address = socket.recv_fds(connection, 1 << 20, 3)
            for fd in fds:
                os.close(fd)
            answer(connection)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield name
    finally:
        server.join(timeout=30)
        listener.close()


def test_a_signal_sent_while_dbt_forks_reaches_the_dbt_process() -> None:
    """SIGTERM reaches the launcher after it sent its request and before it knows the dbt
    process (a `sleep` here): it is passed on once the pid arrives, `sleep` ends by it, and the
    launcher exits with the code then reported."""
    request_read, signalled = threading.Event(), threading.Event()
    outcome: dict[str, int] = {}

    def answer(connection: socket.socket) -> None:
        request_read.set()
        signalled.wait(timeout=30)
        sleeper = subprocess.Popen(["sleep", "60"])
        connection.send(json.dumps({"pid": sleeper.pid}).encode())
        outcome["sleep"] = sleeper.wait(timeout=30)
        connection.send(json.dumps({"exit": 130}).encode())

    with stand_in_preloaded(answer) as name:
        env = {**os.environ, SOCKET_VARIABLE: name, EXECUTABLE_VARIABLE: "/bin/false"}
        launcher = subprocess.Popen([*launcher_command(), "build"], env=env)
        assert request_read.wait(timeout=30)
        launcher.send_signal(signal.SIGTERM)
        signalled.set()
        returncode = launcher.wait(timeout=30)
    assert outcome["sleep"] == -signal.SIGTERM
    assert returncode == 130


def test_a_signal_sent_before_a_failed_fork_ends_the_launcher_not_dbt(refusing_dbt: str) -> None:
    """The preloaded process closes the connection without forking, after a SIGTERM reached the
    launcher: the launcher ends by that signal instead of running dbt itself."""
    request_read, signalled = threading.Event(), threading.Event()

    def answer(_connection: socket.socket) -> None:
        request_read.set()
        signalled.wait(timeout=30)

    with stand_in_preloaded(answer) as name:
        env = {**os.environ, SOCKET_VARIABLE: name, EXECUTABLE_VARIABLE: refusing_dbt}
        launcher = subprocess.Popen(
            [*launcher_command(), "build"], env=env, stdout=subprocess.PIPE, text=True
        )
        assert request_read.wait(timeout=30)
        launcher.send_signal(signal.SIGTERM)
        signalled.set()
        stdout, _ = launcher.communicate(timeout=30)
    assert (launcher.returncode, stdout) == (-signal.SIGTERM, "")


def test_a_dbt_process_that_ends_without_a_code_is_an_error() -> None:
    def answer(connection: socket.socket) -> None:
        connection.send(json.dumps({"pid": 4242}).encode())

    with stand_in_preloaded(answer) as name:
        env = {**os.environ, SOCKET_VARIABLE: name, EXECUTABLE_VARIABLE: "/bin/false"}
        result = launch("build", env=env)
    assert result.returncode == UNHANDLED_ERROR
    assert result.stderr == "dbt (process 4242) ended without an exit code\n"


def test_the_preloaded_process_ends_with_the_process_that_started_it() -> None:
    """A run that dies without tearing its resources down leaves no process behind, and its
    socket (which has no file) is gone: a launcher then runs dbt itself."""
    starter = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pipelines.lib.dbt_preload import PreloadedDbt;"
            "p = PreloadedDbt(); p.start(); print(p.process.pid, p.name, flush=True)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid, name = starter.stdout.split()
    assert wait_until_ended(pid, seconds=20)
    assert connect(name) is None


def test_stop_ends_the_process_and_later_launchers_run_dbt() -> None:
    process = PreloadedDbt()
    process.start()
    name, pid = process.name, process.process.pid
    assert process.environment() == {SOCKET_VARIABLE: name}
    process.stop()
    assert not running(str(pid))
    assert connect(name) is None
    assert process.environment() == {}


def test_a_process_of_another_user_is_not_served(preloaded: PreloadedDbt) -> None:
    """The socket's name could be found and connected to by any local user; the preloaded
    process closes such a connection before reading it, and nothing runs. The other user sees
    its request refused: the connection closed or reset before it could send (the process was
    waiting) or while it waited for an answer (the process was still importing dbt)."""
    if os.getuid() != 0:
        pytest.skip("only root can connect as another user")
    request = {"args": ["--version"], "cwd": "/", "env": {}}
    script = f"""
import os, socket
os.setgid(65534)
os.setuid(65534)
client = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
client.connect({abstract_address(preloaded.name)!r})
try:
    socket.send_fds(client, [{json.dumps(request).encode()!r}], [0, 1, 2])
    answer = client.recv(1024)
except (BrokenPipeError, ConnectionResetError):
    answer = b""
print(repr(answer) if answer else "refused")
"""
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "refused\n"), result.stderr
