"""``owh`` ends its process without tearing the interpreter down (pipelines.cli.main), and keeps
everything a normal exit gives: the exit status, the output, the exit handlers."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_owh(*args: str, before: str = "") -> subprocess.CompletedProcess:
    code = textwrap.dedent(before) + textwrap.dedent(
        f"""
        import sys
        from pipelines.cli import main
        sys.argv = ["owh", *{list(args)!r}]
        main()
        print("main returned")
        """
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_the_exit_status_and_the_output_are_the_commands():
    helped = run_owh("--help")
    assert helped.returncode == 0
    assert "Usage: owh" in helped.stdout
    assert "main returned" not in helped.stdout

    wrong = run_owh("no-such-command")
    assert wrong.returncode == 2
    assert "No such command 'no-such-command'" in wrong.stderr


def test_exit_handlers_run_and_threads_finish_first():
    ran = run_owh(
        "--help",
        before="""
        import atexit, threading, time
        atexit.register(lambda: print("exit handler ran"))
        threading.Thread(target=lambda: (time.sleep(0.5), print("thread finished"))).start()
        """,
    )
    assert ran.returncode == 0
    assert ran.stdout.splitlines()[-2:] == ["thread finished", "exit handler ran"]


def test_the_interpreter_is_not_torn_down():
    # a normal exit clears the main module, and this object's finalizer prints
    ran = run_owh(
        "--help",
        before="""
        class Finalized:
            def __del__(self):
                print("torn down")
        kept = Finalized()
        """,
    )
    assert ran.returncode == 0
    assert "torn down" not in ran.stdout
