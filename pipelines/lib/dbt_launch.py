"""Run one dbt command in a process forked from the run's preloaded dbt, else in dbt itself.

dagster-dbt starts this file as its dbt executable (``pipelines.lib.dbt_preload`` says why), with
dbt's arguments. When ``OWH_DBT_PRELOAD`` names the (abstract) socket of a preloaded dbt, the
command runs in a process forked from it, on this process's standard streams, working folder and
environment, and this process exits with its exit code; signals sent here (dagster-dbt stops a
cancelled build with SIGINT) reach that process. When no preloaded dbt answers before running
anything, this process becomes the dbt of ``OWH_DBT_EXECUTABLE`` instead, with the same
arguments.

Only the standard library is imported, and Python starts with ``-I -S``: this process starts in
about 20 ms.
"""

import contextlib
import json
import os
import signal
import socket
import sys

SOCKET_VARIABLE = "OWH_DBT_PRELOAD"
EXECUTABLE_VARIABLE = "OWH_DBT_EXECUTABLE"
# dbt's exit code for an error it did not handle: also this launcher's when the forked dbt ended
# without reporting how
UNHANDLED_ERROR = 2
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# the largest request: arguments, folder and environment (a larger one is refused by the socket,
# and the launcher runs dbt itself)
MESSAGE_BYTES = 1 << 20


def abstract_address(name: str) -> str:
    """The address of a socket named ``name`` in Linux's abstract namespace (no file)."""
    return "\0" + name


def connect(name: str) -> socket.socket | None:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        client.connect(abstract_address(name))
    except OSError:
        client.close()
        return None
    return client


def receive(client: socket.socket) -> dict | None:
    """The next message from the preloaded dbt, None when it closed the connection."""
    data = client.recv(MESSAGE_BYTES)
    return json.loads(data) if data else None


def run_dbt(args: list[str]) -> None:
    """Become dbt itself, with these arguments."""
    executable = os.environ[EXECUTABLE_VARIABLE]
    os.execv(executable, [executable, *args])


class Forwarder:
    """The launcher's handler of the forwarded signals: each reaches the dbt process once its
    pid is known; one that arrives before is kept until then, so that no signal is lost while
    the preloaded dbt forks."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.pending: list[int] = []
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, self)

    def __call__(self, signum: int, _frame: object) -> None:
        if self.pid is None:
            self.pending.append(signum)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def started(self, pid: int) -> None:
        self.pid = pid
        for signum in self.pending:
            self(signum, None)

    def run_dbt_instead(self, args: list[str]) -> None:
        """Nothing was forked: this process becomes dbt, or first ends as a signal it was sent
        asks (the default action, as dbt starting would have met it)."""
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        for signum in self.pending:
            os.kill(os.getpid(), signum)
        run_dbt(args)


def main() -> int:
    args = sys.argv[1:]
    name = os.environ.get(SOCKET_VARIABLE)
    client = connect(name) if name else None
    if client is None:
        run_dbt(args)
    forwarder = Forwarder()
    request = {"args": args, "cwd": os.getcwd(), "env": dict(os.environ)}
    with client:
        try:
            socket.send_fds(client, [json.dumps(request).encode()], [0, 1, 2])
            started = receive(client)
        except OSError:
            started = None
        if started is None:
            # the preloaded dbt ended before it forked: nothing ran, dbt itself runs the command
            client.close()
            forwarder.run_dbt_instead(args)
        forwarder.started(started["pid"])
        ended = receive(client)
    if ended is None:
        print(f"dbt (process {forwarder.pid}) ended without an exit code", file=sys.stderr)
        return UNHANDLED_ERROR
    return ended["exit"]


if __name__ == "__main__":
    sys.exit(main())
