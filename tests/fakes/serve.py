"""Serve the fake Jira, GitHub and Linear sites on local ports, to try `owh extract` by hand.

    .venv/bin/python -m tests.fakes.serve --issues 300

prints each site's URL and the credentials to export, then serves until interrupted. Sending the
process SIGUSR1 (``kill -USR1 <pid>``) moves 20 issues of every site on, as a day's work would,
so that the next `owh extract` has something to pull incrementally. Only loopback addresses.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import threading

from pytest_httpserver import HTTPServer

from tests.fakes import github_api, jira_api, linear_api
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jira_api import FakeJira
from tests.fakes.linear_api import FakeLinear
from tests.fakes.tracker_model import change_issues, generate_issues


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=300, help="Issues per site.")
    parser.add_argument("--changes", type=int, default=20, help="Issues moved on per SIGUSR1.")
    arguments = parser.parse_args()

    servers = [HTTPServer(host="127.0.0.1", port=0) for _ in range(3)]
    for server in servers:
        server.start()
    sites = {
        "jira": FakeJira(servers[0], generate_issues(arguments.issues)),
        "github": FakeGitHub(servers[1], generate_issues(arguments.issues), repo="acme/hx"),
        "linear": FakeLinear(servers[2], generate_issues(arguments.issues), team="HX"),
    }
    days = 0

    def move_on(*_: object) -> None:
        nonlocal days
        days += 1
        moment = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(days=days)
        for site in sites.values():
            site.issues = change_issues(site.issues, arguments.changes, moment)
        print(f"moved {arguments.changes} issues of every site on, at {moment}", flush=True)

    signal.signal(signal.SIGUSR1, move_on)
    print(
        f"pid {os.getpid()}\n"
        f"export OWH_JIRA_EMAIL={jira_api.EMAIL} OWH_JIRA_API_TOKEN={jira_api.API_TOKEN}\n"
        f"export OWH_GITHUB_TOKEN={github_api.TOKEN} OWH_LINEAR_API_KEY={linear_api.API_KEY}\n"
        f"owh extract jira --url {sites['jira'].url} --jql 'project = HX'\n"
        f"owh extract github --repo acme/hx --api-url {sites['github'].api_url}\n"
        f"owh extract linear --team HX --api-url {sites['linear'].api_url}",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
