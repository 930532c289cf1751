"""A dbt that a run imports once, while its first steps run, and forks for each dbt command.

Every ``dbt build`` of the nightly is a process that dagster-dbt starts and reads events from.
Such a process spends about 1.6 s importing dbt and registering its adapter before it reads the
project, on a machine where dbt's nodes themselves take a few seconds; the nightly starts two.

``PreloadedDbt`` starts one process when the run begins (the dbt resource's set-up): it imports
dbt, then waits on a Unix socket. dagster-dbt is given ``dbt_launch.py`` as its dbt executable;
that launcher hands its arguments, working folder, environment and standard streams to the
preloaded process, which forks a child that runs the dbt command exactly as the ``dbt``
executable would, with those streams, and reports its exit code. The import thus happens on the
second core while the run ingests, and each build starts where dbt reads the project. Before
it forks, the process also does what would cost every command again (``pipelines.lib.dbt_tuning``:
generating dbt's (de)serialisers and schemas, importing pandas, not building or rendering
events that no logger writes, making an event's message only when it is used, reading the kept
parse once, naming behaviour flags' modules without reading source lines, building each node's
macro namespace from a plan, finding where a unit test's fixtures go without parsing the whole
statement, and freezing its objects out of the garbage collector's reach).
While it waits for a launcher, it compiles the project's Jinja templates, one at a time, for
the commands it forks next (``dbt_tuning.templates_ahead``).

Nothing else changes: dagster-dbt reads the child's events on the launcher's stdout, the child
sees the environment the launcher was started with, and signals sent to the launcher reach the
child. Whenever the preloaded process does not answer (a resource that was not set up, a process
that ended, a request too large for the socket), the launcher runs ``dbt`` itself. The preloaded
process ends with the run's resources, or by itself once the process that started it has ended.

The socket is in Linux's abstract namespace, under a random name: it has no file, so nothing is
left behind when a run is killed, and it vanishes with the process. Any local process could
connect to such a name, so the preloaded process serves only processes of its own user (the
peer's credentials, which the kernel gives). Elsewhere than on Linux no process is started and
every build runs ``dbt`` itself.

The process forks before dbt opens a file or starts a thread: importing dbt's command line does
neither (importing DuckDB would start a thread, so the adapter is left to each child).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys
from pathlib import Path

from pipelines.lib.dbt_launch import (
    EXECUTABLE_VARIABLE,
    MESSAGE_BYTES,
    SOCKET_VARIABLE,
    UNHANDLED_ERROR,
    abstract_address,
)
from pipelines.lib.dbt_project import DBT_EXECUTABLE

LAUNCHER = Path(__file__).with_name("dbt_launch.py")
SOCKET_PREFIX = "owh-dbt-"
# launchers that may wait while the process imports dbt (a run starts one at a time)
BACKLOG = 8
# how often the waiting process looks whether the process that started it still runs
PARENT_CHECK_SECONDS = 1.0
# struct ucred of SO_PEERCRED: pid, uid, gid
PEER_CREDENTIALS = struct.Struct("3i")

# In a forked child: the connection to its launcher, and the exit code to report there.
_launcher: socket.socket | None = None
_exit_code: int | None = None


def launcher_command() -> list[str]:
    """The dbt executable dagster-dbt is given: the launcher, on this interpreter, isolated."""
    return [sys.executable, "-I", "-S", str(LAUNCHER)]


def launcher_environment(preloaded: PreloadedDbt | None) -> dict[str, str]:
    """What a launcher of ``launcher_command`` is started with: the dbt it becomes when no
    preloaded process answers, and the socket of ``preloaded`` while it runs."""
    return {EXECUTABLE_VARIABLE: DBT_EXECUTABLE, **(preloaded.environment() if preloaded else {})}


def supported() -> bool:
    """Abstract Unix sockets, sequenced packets and peer credentials are Linux's."""
    return sys.platform == "linux"


class PreloadedDbt:
    """The preloaded dbt process of one run, and the environment that points launchers at it."""

    def __init__(self, kept_parse: Path | None = None) -> None:
        self.kept_parse = kept_parse
        self.name: str | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process on a socket bound here: a launcher may connect as soon as this
        returns, and waits there while the process imports dbt. Does nothing off Linux."""
        if not supported():
            return
        self.name = SOCKET_PREFIX + secrets.token_hex(16)
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as listener:
            listener.bind(abstract_address(self.name))
            listener.listen(BACKLOG)
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pipelines.lib.dbt_preload",
                    str(listener.fileno()),
                    str(os.getpid()),
                    *([str(self.kept_parse)] if self.kept_parse else []),
                ],
                stdin=subprocess.DEVNULL,
                pass_fds=[listener.fileno()],
            )

    def environment(self) -> dict[str, str]:
        """What points a launcher at the process: its socket's name, while it runs."""
        if self.process is not None and self.process.poll() is None:
            return {SOCKET_VARIABLE: self.name}
        return {}

    def stop(self) -> None:
        """End the waiting process (it holds nothing but its socket: killed, not asked). A dbt
        command forked from it runs on until it ends."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None
        self.name = None


# Set to 1 in a process that runs many nightlies one after another (the test session): their dbt
# resources then share one preloaded process, started by the first and ended with the process,
# instead of each starting and ending its own.
SHARED_VARIABLE = "OWH_DBT_PRELOAD_SHARED"
_shared: PreloadedDbt | None = None


def shared(kept_parse: Path | None) -> PreloadedDbt:
    """This process's shared preloaded dbt, started (again, if its process ended) on first use
    and stopped when this process exits."""
    global _shared
    if _shared is None:
        _shared = PreloadedDbt(kept_parse)
        atexit.register(_shared.stop)
    if _shared.process is None or _shared.process.poll() is not None:
        _shared.stop()
        _shared.start()
    return _shared


def sharing() -> bool:
    """Whether this process's nightlies share one preloaded dbt (``SHARED_VARIABLE``)."""
    return os.environ.get(SHARED_VARIABLE) == "1"


def serve(listener: socket.socket, parent: int, kept_parse: Path | None = None) -> None:
    """Import dbt and prepare it (``pipelines.lib.dbt_tuning``, from the project's
    ``kept_parse``), then fork a child for each launcher of this user that connects to the
    listening socket, as long as the process ``parent`` runs (this process's parent until it
    ends)."""
    # registered before dbt's own exit handlers, so that a child runs it after them: its exit
    # code reaches the launcher once dbt has closed its database
    atexit.register(_report_exit)
    # dbt's command line and everything it imports; not an adapter: importing duckdb starts a
    # thread, and this process forks while it has no other thread than this one
    import dbt.cli.main  # noqa: F401

    from pipelines.lib import dbt_tuning

    dbt_tuning.skip_unlogged_events()
    dbt_tuning.build_events_lazily()
    dbt_tuning.name_behavior_sources_cheaply()
    dbt_tuning.build_macro_namespaces_quickly()
    dbt_tuning.inject_ctes_cheaply()
    dbt_tuning.reuse_type_testers()
    ahead = dbt_tuning.warm_up(kept_parse)
    dbt_tuning.keep_parse(kept_parse)
    dbt_tuning.freeze_heap()

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped without waiting on them
    # a Ctrl-C of the run reaches the whole process group: the dbt command forked from here
    # handles it as dbt does; this process ends with the run's resources
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    listener.settimeout(PARENT_CHECK_SECONDS)
    while os.getppid() == parent:
        # the project's templates are compiled while no launcher waits, one at a time
        for _compiled in ahead:
            if launcher_waiting(listener):
                break
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        if not same_user(connection):
            connection.close()
            continue
        gc.freeze()  # what was compiled since freeze_heap, as the rest
        if os.fork() == 0:
            listener.close()
            _run_request(connection)  # never returns
        connection.close()


def launcher_waiting(listener: socket.socket) -> bool:
    """Whether a launcher has connected and waits to be accepted."""
    return bool(select.select([listener], [], [], 0)[0])


def same_user(connection: socket.socket) -> bool:
    """Whether the process at the other end runs as this process's user."""
    credentials = connection.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, PEER_CREDENTIALS.size
    )
    _pid, uid, _gid = PEER_CREDENTIALS.unpack(credentials)
    return uid == os.getuid()


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

    sys.argv = ["dbt", *request["args"]]  # what dbt records as its invocation
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
    listener_fd, parent = int(sys.argv[1]), int(sys.argv[2])
    kept_parse = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    serve(socket.socket(fileno=listener_fd), parent, kept_parse)


if __name__ == "__main__":
    main()
