"""A fake Jira site on a local HTTP server: Cloud (API v3) or Data Center (API v2).

It renders ``FakeIssue`` objects (tests/fakes/tracker_model.py) the way Jira does:

- Cloud: ``/rest/api/3/myself``, ``/field``, ``/search/jql`` (``nextPageToken`` / ``isLast``; a
  changelog longer than ``CHANGELOG_IN_SEARCH`` histories is cut to its first ones, with the real
  ``total``), ``POST /changelog/bulkfetch`` (paged by ``nextPageToken``); basic auth;
- Data Center: ``/rest/api/2/myself``, ``/field``, ``/search`` (``startAt`` / ``total``),
  ``/issue/{key}?expand=changelog``; bearer token.

JQL is understood as far as the pulls use it: ``project = KEY`` (an unknown project answers 400 with
Jira's message) and ``updated >= "yyyy-MM-dd HH:mm"`` in the user's time zone. The rich-text
custom field "Workstream" comes as an ADF document in API v3 and as plain text in API v2.

``faults`` is a queue of ``(path fragment, status, headers)`` answered once each before the real
answer; ``served`` records every request (path, query) for the tests to count.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes.tracker_model import STATUS_NAMES, FakeIssue, OtherChange, Transition

EMAIL = "bar@example.com"
API_TOKEN = "jira-token-7f3a-sentinel"
PAT = "jira-pat-9c1e-sentinel"
USER_TIME_ZONE = "Europe/London"
CHANGELOG_IN_SEARCH = 40
BULK_PAGE_HISTORIES = 100
FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False},
    {"id": "status", "name": "Status", "custom": False},
    {"id": "customfield_10016", "name": "Story point estimate", "custom": True},
    {"id": "customfield_10021", "name": "Flagged", "custom": True},
    {"id": "customfield_10300", "name": "Workstream", "custom": True},
    {"id": "customfield_10200", "name": "Found in", "custom": True},
    {"id": "customfield_10014", "name": "Epic Link", "custom": True},
]
_UPDATED_SINCE = re.compile(r'updated\s*>=\s*"(\d{4}-\d\d-\d\d \d\d:\d\d)"')
_PROJECT = re.compile(r"project\s*=\s*([A-Za-z0-9_]+)")


@dataclass
class FakeJira:
    """A Jira site holding ``issues``; ``api`` 3 (Cloud) or 2 (Data Center)."""

    server: HTTPServer
    issues: list[FakeIssue]
    api: int = 3
    faults: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)
    served: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    on_request: Callable[[Request], None] | None = None

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def search_requests(self) -> list[dict[str, str]]:
        return [query for path, query in self.served if "/search" in path]

    # --- dispatch -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        self.served.append((request.path, dict(request.args)))
        if self.on_request is not None:
            self.on_request(request)
        for index, (fragment, status, headers) in enumerate(self.faults):
            if fragment in request.path:
                del self.faults[index]
                return _json({"errorMessages": [f"fault {status}"], "errors": {}}, status, headers)
        if not self._authorised(request):
            return _json(
                {"errorMessages": ["Client must be authenticated to access this resource."]},
                401,
            )
        prefix = f"/rest/api/{self.api}"
        path = request.path
        if not path.startswith(prefix):
            return Response("<html>Not Found</html>", status=404, content_type="text/html")
        if path == f"{prefix}/myself":
            return _json({"accountId": "5b10a", "emailAddress": EMAIL, "timeZone": USER_TIME_ZONE})
        if path == f"{prefix}/field":
            return _json(FIELDS)
        if path == f"{prefix}/search/jql" and self.api == 3:
            return self._search_cloud(request)
        if path == f"{prefix}/search" and self.api == 2:
            return self._search_data_center(request)
        if path == f"{prefix}/changelog/bulkfetch" and self.api == 3:
            return self._bulkfetch(request)
        match = re.fullmatch(rf"{prefix}/issue/([A-Z]+-\d+)", path)
        if match and self.api == 2:
            issue = self._by_key(match.group(1))
            if issue is None:
                return _json({"errorMessages": ["Issue does not exist"]}, 404)
            return _json({**self.render(issue, None), "changelog": self._changelog(issue, None)})
        return _json({"errorMessages": [f"no route for {path}"]}, 404)

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.api == 2:
            return header == f"Bearer {PAT}"
        expected = base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()
        return header == f"Basic {expected}"

    # --- search ---------------------------------------------------------------------------

    def _selected(self, jql: str) -> list[FakeIssue] | Response:
        project = _PROJECT.search(jql)
        known = {issue.project for issue in self.issues}
        if project is None or project.group(1) not in known:
            value = project.group(1) if project else jql
            return _json(
                {
                    "errorMessages": [
                        f"The value '{value}' does not exist for the field 'project'."
                    ],
                    "errors": {},
                },
                400,
            )
        selected = [issue for issue in self.issues if issue.project == project.group(1)]
        since = _UPDATED_SINCE.search(jql)
        if since:
            local = dt.datetime.strptime(since.group(1), "%Y-%m-%d %H:%M")
            bound = local.replace(tzinfo=ZoneInfo(USER_TIME_ZONE)).astimezone(dt.UTC)
            selected = [issue for issue in selected if issue.updated >= bound]
        if "order by updated" in jql.lower():
            selected.sort(key=lambda issue: (issue.updated, issue.number))
        return selected

    def _search_cloud(self, request: Request) -> Response:
        selected = self._selected(request.args.get("jql", ""))
        if isinstance(selected, Response):
            return selected
        size = int(request.args.get("maxResults", 50))
        start = int(request.args.get("nextPageToken") or 0)
        fields = request.args.get("fields", "").split(",")
        page = selected[start : start + size]
        body: dict = {
            "issues": [self._with_short_changelog(issue, fields) for issue in page],
            "isLast": start + size >= len(selected),
        }
        if not body["isLast"]:
            body["nextPageToken"] = str(start + size)
        return _json(body)

    def _search_data_center(self, request: Request) -> Response:
        selected = self._selected(request.args.get("jql", ""))
        if isinstance(selected, Response):
            return selected
        size = int(request.args.get("maxResults", 50))
        start = int(request.args.get("startAt", 0))
        fields = request.args.get("fields", "").split(",")
        page = selected[start : start + size]
        return _json(
            {
                "startAt": start,
                "maxResults": size,
                "total": len(selected),
                "issues": [self._with_short_changelog(issue, fields) for issue in page],
            }
        )

    def _with_short_changelog(self, issue: FakeIssue, fields: list[str]) -> dict:
        rendered = self.render(issue, fields)
        histories = self.histories(issue)
        rendered["changelog"] = {
            "startAt": 0,
            "maxResults": CHANGELOG_IN_SEARCH,
            "total": len(histories),
            "histories": histories[:CHANGELOG_IN_SEARCH],
        }
        return rendered

    def _bulkfetch(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"{}")
        keys = [str(key) for key in body.get("issueIdsOrKeys", [])]
        start = int(body.get("nextPageToken") or 0)
        entries = []
        for key in keys:
            issue = self._by_id(key) or self._by_key(key)
            if issue is not None:
                entries += [(issue, history) for history in self.histories(issue)]
        page = entries[start : start + BULK_PAGE_HISTORIES]
        grouped: dict[str, list[dict]] = {}
        for issue, history in page:
            grouped.setdefault(_issue_id(issue), []).append(history)
        answer: dict = {
            "issueChangeLogs": [
                {"issueId": issue_id, "changeHistories": histories}
                for issue_id, histories in grouped.items()
            ]
        }
        if start + BULK_PAGE_HISTORIES < len(entries):
            answer["nextPageToken"] = str(start + BULK_PAGE_HISTORIES)
        return _json(answer)

    # --- rendering ------------------------------------------------------------------------

    def render(self, issue: FakeIssue, fields: list[str] | None) -> dict:
        """An issue as Jira returns it, with the requested fields only."""
        status = issue.status("jira")
        workstream = f"WS-{issue.number % 4 + 1}"
        values = {
            "summary": issue.title,
            "issuetype": {"name": issue.issue_type, "subtask": False},
            "status": {"name": status, "statusCategory": {"key": "new"}},
            "created": _jira_time(issue.created),
            "updated": _jira_time(issue.updated),
            "project": {"key": issue.project, "name": f"Project {issue.project}"},
            "labels": list(issue.labels),
            "assignee": _user(issue.assignee) if issue.assignee else None,
            "priority": {"name": "Medium"},
            "resolution": {"name": "Done"} if status == "Done" else None,
            "parent": None,
            "customfield_10016": issue.story_points,
            "customfield_10300": _adf(workstream) if self.api == 3 else workstream,
            "customfield_10200": None,
            "customfield_10014": None,
            "description": _adf(f"About {issue.title}") if self.api == 3 else issue.title,
        }
        chosen = values if fields is None else {k: v for k, v in values.items() if k in fields}
        return {
            "id": _issue_id(issue),
            "key": issue.key,
            "self": f"{self.url}/rest/api/{self.api}/issue/{_issue_id(issue)}",
            "fields": chosen,
        }

    def histories(self, issue: FakeIssue) -> list[dict]:
        """Every history of the issue in time order, ids rising with time."""
        events: list[Transition | OtherChange] = [*issue.transitions, *issue.other_changes]
        events.sort(key=lambda event: event.at)
        histories = []
        for index, event in enumerate(events, start=1):
            if isinstance(event, Transition):
                item = {
                    "field": "status",
                    "fieldtype": "jira",
                    "fromString": issue_status_name(event.from_stage),
                    "toString": issue_status_name(event.to_stage),
                }
            else:
                item = {
                    "field": event.field,
                    "fieldtype": "jira",
                    "fromString": event.from_value,
                    "toString": event.to_value,
                }
            histories.append(
                {
                    "id": str(issue.number * 1000 + index),
                    "author": _user(event.author),
                    "created": _jira_time(event.at),
                    "items": [item],
                }
            )
        return histories

    def _changelog(self, issue: FakeIssue, limit: int | None) -> dict:
        histories = self.histories(issue)
        shown = histories if limit is None else histories[:limit]
        return {"startAt": 0, "maxResults": len(shown), "total": len(histories), "histories": shown}

    def _by_key(self, key: str) -> FakeIssue | None:
        return next((issue for issue in self.issues if issue.key == key), None)

    def _by_id(self, issue_id: str) -> FakeIssue | None:
        return next((issue for issue in self.issues if _issue_id(issue) == issue_id), None)


def issue_status_name(stage: str) -> str:
    return STATUS_NAMES["jira"][stage]


def _issue_id(issue: FakeIssue) -> str:
    return str(10_000 + issue.number)


def _user(email: str) -> dict:
    return {
        "accountId": f"acc-{email.split('@')[0]}",
        "emailAddress": email,
        "displayName": email.split("@")[0].title(),
    }


def _adf(text: str) -> dict:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def _jira_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers or {}, content_type="application/json"
    )
