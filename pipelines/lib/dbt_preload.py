"""A dbt that a run imports once, while its first steps run, and forks for each dbt command.

Every ``dbt build`` of the nightly is a process that dagster-dbt starts and reads events from.
Such a process spends about 1.6 s importing dbt and registering its adapter before it reads the
project, on a machine where dbt's nodes themselves take a few seconds; the nightly starts two.

``PreloadedDbt`` starts one process when the run begins (the dbt resource's set-up): it imports
dbt, then waits on a Unix socket in a private folder. dagster-dbt is given ``dbt_launch.py`` as
its dbt executable; that launcher hands its arguments, working folder, environment and standard
streams to the preloaded process, which forks a child that runs the dbt command exactly as the
``dbt`` executable would, with those streams, and reports its exit code. The import thus happens
on the second core while the run ingests, and each build starts where dbt reads the project.

Nothing else changes: dagster-dbt reads the child's events on the launcher's stdout, the child
sees the environment the launcher was started with, and signals sent to the launcher reach the
child. Whenever the preloaded process does not answer (a resource that was not set up, a process
that ended, a request too large for the socket), the launcher runs ``dbt`` itself. The preloaded
process ends with the run's resources, or by itself once the process that started it has ended.

The process forks before dbt opens a file or starts a thread: importing dbt's command line does
neither (importing DuckDB would start a thread, so the adapter is left to each child).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from pipelines.lib.dbt_launch import (
    EXECUTABLE_VARIABLE,
    MESSAGE_BYTES,
    SOCKET_VARIABLE,
    UNHANDLED_ERROR,
)

LAUNCHER = Path(__file__).with_name("dbt_launch.py")
SOCKET_NAME = "dbt.sock"
# launchers that may wait while the process imports dbt (a run starts one at a time)
BACKLOG = 8
# how often the waiting process looks whether the process that started it still runs
PARENT_CHECK_SECONDS = 1.0

# In a forked child: the connection to its launcher, and the exit code to report there.
_launcher: socket.socket | None = None
_exit_code: int | None = None


def launcher_command() -> list[str]:
    """The dbt executable dagster-dbt is given: the launcher, on this interpreter, isolated."""
    return [sys.executable, "-I", "-S", str(LAUNCHER)]


class PreloadedDbt:
    """The preloaded dbt process of one run, and the environment that points launchers at it."""

    def __init__(self, dbt_executable: str):
        self.dbt_executable = dbt_executable
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path | None:
        return self.folder / SOCKET_NAME if self.folder else None

    def start(self) -> None:
        """Start the process on a socket bound here: a launcher may connect as soon as this
        returns, and waits there while the process imports dbt."""
        self.folder = Path(tempfile.mkdtemp(prefix="owh-dbt-"))  # mode 0700: this user only
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as listener:
            listener.bind(str(self.socket_path))
            listener.listen(BACKLOG)
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pipelines.lib.dbt_preload",
                    str(self.socket_path),
                    str(listener.fileno()),
                    str(os.getpid()),
                ],
                stdin=subprocess.DEVNULL,
                pass_fds=[listener.fileno()],
            )

    def environment(self) -> dict[str, str]:
        """What a launcher needs: the socket (when the process runs) and the dbt to run without."""
        values = {EXECUTABLE_VARIABLE: self.dbt_executable}
        if self.process is not None and self.process.poll() is None:
            values[SOCKET_VARIABLE] = str(self.socket_path)
        return values

    def stop(self) -> None:
        """End the waiting process (it holds nothing but its socket: killed, not asked) and
        remove its folder. A dbt command forked from it runs on until it ends."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def serve(listener: socket.socket, parent: int) -> None:
    """Import dbt, then fork a child for each launcher that connects to the listening socket,
    as long as the process ``parent`` runs (it is this process's parent until it ends)."""
    # registered before dbt's own exit handlers, so that a child runs it after them: its exit
    # code reaches the launcher once dbt has closed its database
    atexit.register(_report_exit)
    # dbt's command line and everything it imports; not an adapter: importing duckdb starts a
    # thread, and this process forks while it has no other thread than this one
    import dbt.cli.main  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped without waiting on them
    # a Ctrl-C of the run reaches the whole process group: the dbt command forked from here
    # handles it as dbt does; this process ends with the run's resources
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    listener.settimeout(PARENT_CHECK_SECONDS)
    while os.getppid() == parent:
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        if os.fork() == 0:
            listener.close()
            _run_request(connection)  # never returns
        connection.close()


def _run_request(connection: socket.socket) -> None:
    """In the forked child: take the launcher's streams, folder and environment, run dbt."""
    global _launcher, _exit_code
    _launcher = connection
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    connection.settimeout(None)
    data, fds, flags, _address = socket.recv_fds(connection, MESSAGE_BYTES, 3)
    if flags & socket.MSG_TRUNC or len(fds) != 3:
        os._exit(UNHANDLED_ERROR)  # before its pid: the launcher runs dbt itself
    request = json.loads(data)
    for fd, standard in zip(fds, (0, 1, 2), strict=True):
        os.dup2(fd, standard)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    # the streams were opened before the launcher's pipe replaced them: lines reach it as written
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    connection.send(json.dumps({"pid": os.getpid()}).encode())
    from dbt.cli.main import cli

    sys.argv = ["dbt", *request["args"]]
    try:
        # as the dbt executable runs it, named as it is (click would name this module); it
        # always ends with SystemExit
        cli(args=request["args"], prog_name="dbt")
    except SystemExit as exit:
        _exit_code = _code_of(exit.code)
    except BaseException:
        import traceback

        traceback.print_exc()
        _exit_code = UNHANDLED_ERROR
    else:
        _exit_code = 0
    sys.exit(_exit_code)


def _code_of(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _report_exit() -> None:
    if _launcher is None or _exit_code is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    with contextlib.suppress(OSError):  # the launcher was killed: nobody waits for the code
        _launcher.send(json.dumps({"exit": _exit_code}).encode())


def main() -> None:
    socket_path, listener_fd, parent = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    try:
        serve(socket.socket(fileno=listener_fd), parent)
    finally:
        if _launcher is None:  # the preloaded process itself, not a child ending
            socket_path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # its private folder, when nothing else is there
                socket_path.parent.rmdir()


if __name__ == "__main__":
    main()
