"""A fake GitHub REST API on pytest-httpserver, rendering ``FakeIssue`` ground truth.

``FakeGitHub(server, issues)`` answers, for one repository (``acme/hx`` unless told):

- ``GET /repos/{owner}/{repo}/issues``: the issues with pull requests mixed in (every
  ``pull_request_every``-th issue is followed by a pull request updated a minute after it), sorted
  by ``updated_at`` (``sort``/``direction``), filtered by ``since`` (updated at or after it), paged
  by ``per_page``/``page`` with GitHub's ``Link`` header of absolute URLs;
- ``GET /repos/{owner}/{repo}/issues/{number}/timeline``: the issue's events in time order, paged
  the same way (``timeline_page_size`` caps ``per_page`` to force pages): a ``labeled`` event per
  label given at creation; per transition, ``reopened`` (out of done), ``unlabeled``/``labeled``
  of the board labels ``In Progress`` and ``In Review``, ``closed`` with ``state_reason``
  ``completed`` (odd issues keep their board label when closed, even ones lose it); per other
  change, ``commented``, ``assigned``, or ``labeled``/``unlabeled`` of ``needs-info``; and a
  ``committed`` event without ``created_at`` (as GitHub sends them) on every fourth issue.

An issue's labels and state are what its own events leave, so the issue and its timeline agree.
A request without ``Authorization: Bearer <token>`` gets GitHub's 401; an unknown repository or
path gets GitHub's 404. ``fail(...)`` queues answers to give before the real ones (a 500, a rate
limit), and ``served`` records every request answered, in order. ``issues`` may be replaced
between pulls (``change_issues``) to play the next day's work.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes.tracker_model import DOING, DONE, REVIEW, STATUS_NAMES, FakeIssue

TOKEN = "ghp_FAKE0token0never0real0000000000000"
REPO = "acme/hx"
BOARD_LABELS = {DOING: STATUS_NAMES["github"][DOING], REVIEW: STATUS_NAMES["github"][REVIEW]}
OTHER_LABEL = "needs-info"
PULL_REQUEST_OFFSET = 1000  # pull request numbers: the issue's number plus this
DEFAULT_PER_PAGE = 30  # GitHub's
MAX_PER_PAGE = 100
_TIMELINE = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)/timeline$")
_ISSUES = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues$")


@dataclass
class Fault:
    """An answer given instead of the real one to the next ``times`` matching requests."""

    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: dict
    times: int


@dataclass(frozen=True)
class Served:
    """One request the fake answered."""

    path: str  # without the API prefix
    args: dict[str, str]
    headers: dict[str, str]
    status: int
    at: float  # time.monotonic() when answered


@dataclass
class FakeGitHub:
    server: HTTPServer
    issues: list[FakeIssue]
    repo: str = REPO
    token: str = TOKEN
    prefix: str = ""  # "/api/v3" plays GitHub Enterprise Server
    pull_request_every: int = 5
    timeline_page_size: int | None = None
    served: list[Served] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self):
        self.server.expect_request(re.compile(r"^/.*")).respond_with_handler(self._handle)

    @property
    def api_url(self) -> str:
        return self.server.url_for(self.prefix).rstrip("/")

    def fail(
        self,
        path: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: dict | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests whose path matches the regular expression ``path``
        with ``status`` (GitHub's JSON error body unless ``body`` is given)."""
        self.faults.append(
            Fault(
                re.compile(path),
                status,
                dict(headers or {}),
                body if body is not None else _error_body(status, "Server Error"),
                times,
            )
        )

    def timelines_served(self) -> list[int]:
        """The issue numbers whose timeline's first page was served, in order."""
        numbers = []
        for request in self.served:
            match = _TIMELINE.match(request.path)
            if match and request.status == 200 and "page" not in request.args:
                numbers.append(int(match["number"]))
        return numbers

    def list_requests(self) -> list[Served]:
        return [request for request in self.served if _ISSUES.match(request.path)]

    # rendering

    def list_items(self) -> list[dict]:
        """Issues and pull requests as GitHub lists them, in update order."""
        items = []
        for issue in self.issues:
            items.append(self.render_issue(issue))
            if self.pull_request_every and issue.number % self.pull_request_every == 0:
                items.append(self.render_pull_request(issue))
        return sorted(items, key=lambda item: (item["updated_at"], item["number"]))

    def render_issue(self, issue: FakeIssue) -> dict:
        events = self.timeline(issue)
        labels, closed, reopened, closed_at = _replay(events)
        base = f"{self.api_url}/repos/{self.repo}"
        return {
            "url": f"{base}/issues/{issue.number}",
            "repository_url": base,
            "html_url": f"https://github.example/{self.repo}/issues/{issue.number}",
            "id": 500_000 + issue.number,
            "number": issue.number,
            "title": issue.title,
            "user": _user(issue.assignee or "ana@example.com"),
            "labels": [_label(name) for name in labels],
            "state": "closed" if closed else "open",
            "state_reason": "completed" if closed else ("reopened" if reopened else None),
            "assignee": _user(issue.assignee) if issue.assignee else None,
            "assignees": [_user(issue.assignee)] if issue.assignee else [],
            "milestone": {"number": 1, "title": "Summer release"} if issue.number % 2 else None,
            "comments": 0,
            "created_at": _time(issue.created),
            "updated_at": _time(issue.updated),
            "closed_at": _time(closed_at) if closed and closed_at else None,
            "type": None,
        }

    def render_pull_request(self, issue: FakeIssue) -> dict:
        number = issue.number + PULL_REQUEST_OFFSET
        base = f"{self.api_url}/repos/{self.repo}"
        return {
            "url": f"{base}/issues/{number}",
            "repository_url": base,
            "html_url": f"https://github.example/{self.repo}/pull/{number}",
            "id": 900_000 + number,
            "number": number,
            "title": f"Fix for #{issue.number}",
            "user": _user(issue.assignee or "ana@example.com"),
            "labels": [],
            "state": "open",
            "state_reason": None,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "created_at": _time(issue.created),
            "updated_at": _time(issue.updated + dt.timedelta(minutes=1)),
            "closed_at": None,
            "pull_request": {"url": f"{base}/pulls/{number}", "merged_at": None},
        }

    def timeline(self, issue: FakeIssue) -> list[dict]:
        """The issue's timeline events, in time order (events of one instant in the order
        written here; events without a time last)."""
        timed: list[tuple[dt.datetime, dict]] = []
        for name in issue.labels:
            timed.append((issue.created, _event("labeled", issue.created, None, label=name)))
        label_changes = 0
        for change in issue.other_changes:
            if change.field == "labels":
                kind = "labeled" if label_changes % 2 == 0 else "unlabeled"
                label_changes += 1
                event = _event(kind, change.at, change.author, label=OTHER_LABEL)
            elif change.field == "assignee":
                event = _event("assigned", change.at, change.author)
                event["assignee"] = _user(change.author)
            else:
                event = _event("commented", change.at, change.author)
                event["body"] = f"{change.field}: {change.from_value} -> {change.to_value}"
            timed.append((change.at, event))
        board_label: str | None = None  # the board label present
        for transition in issue.transitions:
            at, actor = transition.at, transition.author
            if transition.from_stage == DONE:
                timed.append((at, _event("reopened", at, actor)))
            new_label = BOARD_LABELS.get(transition.to_stage)
            if transition.to_stage == DONE:
                timed.append((at, _event("closed", at, actor, state_reason="completed")))
                if board_label and issue.number % 2 == 0:
                    timed.append((at, _event("unlabeled", at, actor, label=board_label)))
                    board_label = None
                continue
            if board_label and board_label != new_label:
                timed.append((at, _event("unlabeled", at, actor, label=board_label)))
                board_label = None
            if new_label and board_label != new_label:
                timed.append((at, _event("labeled", at, actor, label=new_label)))
                board_label = new_label
        timed.sort(key=lambda item: item[0])  # stable: one instant keeps the order written
        events = [event for _, event in timed]
        if issue.number % 4 == 0:
            events.append(
                {
                    "event": "committed",
                    "sha": f"{issue.number:040x}",
                    "author": {"name": "Ana", "date": _time(issue.created)},
                    "message": f"Work on #{issue.number}",
                }
            )
        for index, event in enumerate(events, start=1):
            event["id"] = issue.number * 10_000 + index
        return events

    # serving

    def _handle(self, request: Request) -> Response:
        path = request.path
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix) :]
        response = self._answer(request, path)
        self.served.append(
            Served(
                path,
                dict(request.args.items()),
                dict(request.headers.items()),
                response.status_code,
                time.monotonic(),
            )
        )
        return response

    def _answer(self, request: Request, path: str) -> Response:
        for fault in self.faults:
            if fault.times > 0 and fault.path.search(path):
                fault.times -= 1
                return _json_response(fault.body, fault.status, fault.headers)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json_response(_error_body(401, "Bad credentials"), 401)
        if request.method != "GET":
            return _json_response(_error_body(404, "Not Found"), 404)
        if path == f"/repos/{self.repo}":
            owner, name = self.repo.split("/")
            return _json_response(
                {"id": 4242, "name": name, "full_name": self.repo, "owner": {"login": owner}},
                200,
            )
        match = _ISSUES.match(path)
        if match and match["repo"] == self.repo:
            return self._page(request, path, self._filtered(request.args))
        match = _TIMELINE.match(path)
        if match and match["repo"] == self.repo:
            number = int(match["number"])
            issue = next((issue for issue in self.issues if issue.number == number), None)
            if issue is not None:
                return self._page(request, path, self.timeline(issue), self.timeline_page_size)
            if number - PULL_REQUEST_OFFSET in {issue.number for issue in self.issues}:
                return self._page(request, path, [])
        return _json_response(_error_body(404, "Not Found"), 404)

    def _filtered(self, args) -> list[dict]:
        items = self.list_items()
        since = args.get("since")
        if since:
            items = [item for item in items if item["updated_at"] >= _time(_parse(since))]
        if args.get("sort", "created") != "updated":
            items.sort(key=lambda item: (item["created_at"], item["number"]))
        if args.get("direction", "desc") == "desc":
            items.reverse()
        return items

    def _page(
        self, request: Request, path: str, items: list[dict], cap: int | None = None
    ) -> Response:
        per_page = min(int(request.args.get("per_page", DEFAULT_PER_PAGE)), MAX_PER_PAGE)
        if cap:
            per_page = min(per_page, cap)
        page = int(request.args.get("page", 1))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        if page < last:
            links.append(f'<{self._url(request, path, page + 1)}>; rel="next"')
            links.append(f'<{self._url(request, path, last)}>; rel="last"')
        if page > 1:
            links.append(f'<{self._url(request, path, page - 1)}>; rel="prev"')
            links.append(f'<{self._url(request, path, 1)}>; rel="first"')
        headers = {"Link": ", ".join(links)} if links else {}
        return _json_response(chunk, 200, headers)

    def _url(self, request: Request, path: str, page: int) -> str:
        args = {key: value for key, value in request.args.items() if key != "page"}
        args["page"] = str(page)
        return f"{self.server.url_for(self.prefix + path)}?{urlencode(args)}"


def rate_limit_headers(*, reset_in: int = 1) -> dict[str, str]:
    """What GitHub sends with a 403 once the hourly limit is spent."""
    return {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-used": "5000",
        "x-ratelimit-reset": str(int(time.time()) + reset_in),
    }


def rate_limit_body() -> dict:
    return {
        "message": "API rate limit exceeded for user ID 1.",
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        "status": "403",
    }


def _replay(events: list[dict]) -> tuple[list[str], bool, bool, dt.datetime | None]:
    """Labels present, closed or not, reopened ever, and the last close time, after ``events``."""
    labels: list[str] = []
    closed = reopened = False
    closed_at = None
    for event in events:
        kind = event.get("event")
        if kind == "labeled" and event["label"]["name"] not in labels:
            labels.append(event["label"]["name"])
        elif kind == "unlabeled" and event["label"]["name"] in labels:
            labels.remove(event["label"]["name"])
        elif kind == "closed":
            closed, closed_at = True, _parse(event["created_at"])
        elif kind == "reopened":
            closed, reopened = False, True
    return labels, closed, reopened, closed_at


def _event(
    kind: str,
    at: dt.datetime,
    actor: str | None,
    *,
    label: str | None = None,
    state_reason: str | None = None,
) -> dict:
    event: dict = {
        "event": kind,
        "actor": _user(actor or "ana@example.com"),
        "created_at": _time(at),
    }
    if label is not None:
        event["label"] = _label(label)
    if kind == "closed":
        event["state_reason"] = state_reason
    return event


def _user(email: str) -> dict:
    login = email.split("@", 1)[0]
    return {"login": login, "id": sum(map(ord, login)), "type": "User", "site_admin": False}


def _label(name: str) -> dict:
    return {"id": sum(map(ord, name)), "name": name, "color": "ededed", "default": False}


def _time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _error_body(status: int, message: str) -> dict:
    return {
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": str(status),
    }


def _json_response(body: object, status: int, headers: dict[str, str] | None = None) -> Response:
    all_headers = {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4999",
        "x-ratelimit-reset": str(int(time.time()) + 3600),
        "X-GitHub-Media-Type": "github.v3; format=json",
        **(headers or {}),
    }
    return Response(
        json.dumps(body),
        status=status,
        headers=all_headers,
        content_type="application/json; charset=utf-8",
    )
