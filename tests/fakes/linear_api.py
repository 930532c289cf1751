"""A fake Linear GraphQL API on pytest-httpserver, rendering ``FakeIssue`` ground truth.

``FakeLinear(server, issues)`` answers ``POST /graphql`` for one team (key ``HX`` unless told),
telling the queries apart by their text:

- ``issues(``: the team's issues (the ``team`` variable; another key lists none), those updated
  at or after the ``since`` variable when the query filters on ``updatedAt``, newest first by
  ``createdAt`` or, with ``orderBy: updatedAt``, by ``updatedAt`` (Linear orders newest first),
  ``first`` at a time after the ``after`` cursor. Each issue carries the first ``history(first:
  N)`` entries of its history;
- ``issue(id:``: the rest of one issue's history, ``history(first: N, after: $after)``;
- ``teams(``: the teams whose key is the ``team`` variable.

An issue's history lists, newest first as Linear does, one entry per transition (``fromState`` and
``toState`` named as ``STATUS_NAMES["linear"]`` says) and one per other change (a priority,
assignee or label change: no state). Issues of type Bug carry a label ``Bug``.

A request whose ``Authorization`` is not the bare key gets Linear's authentication error (HTTP
400 unless ``auth_error_status`` says otherwise). A query that declares a variable it does not use,
or uses one it does not declare, or holds doubled braces, gets a validation error, as Linear
would answer. ``fail(...)`` queues answers to give before the real ones (a 429, a 500, an invalid
query), and ``served`` records every request answered, in order. ``issues`` may be replaced
between pulls (``change_issues``), or during one, to play the team's work.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from dataclasses import dataclass, field

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes.tracker_model import DONE, STATUS_NAMES, FakeIssue

API_KEY = "lin_api_FAKE0key0never0real00000000000000000"
TEAM = "HX"
PATH = "/graphql"
MAX_FIRST = 250  # Linear's largest page
DEFAULT_FIRST = 50
PRIORITY_LABELS = ("No priority", "Urgent", "High", "Medium", "Low")
STATE_TYPES = {"todo": "unstarted", "doing": "started", "review": "started", "done": "completed"}
_NAMESPACE = uuid.UUID("6f1c1f0e-2b1a-4c55-9a57-3d1f5b0b7a10")
_HISTORY_FIRST = re.compile(r"history\(\s*first:\s*(\d+)")
_ORDER_BY = re.compile(r"orderBy:\s*(\w+)")
_DOUBLED_BRACES = re.compile(r"\{\{\s|\s\}\}")
_OPERATION = re.compile(r"^\s*query\s+\w*\s*(\((?P<declared>[^)]*)\))?", re.DOTALL)


@dataclass
class Fault:
    """An answer given instead of the real one to the next ``times`` requests of a kind."""

    kind: str  # issues, issue, teams, or any
    status: int
    headers: dict[str, str]
    body: dict
    times: int


@dataclass(frozen=True)
class Served:
    """One request the fake answered."""

    kind: str  # issues, issue, teams, unknown
    query: str
    variables: dict
    headers: dict[str, str]
    status: int
    at: float  # time.monotonic() when answered


@dataclass
class FakeLinear:
    server: HTTPServer
    issues: list[FakeIssue]
    team: str = TEAM
    api_key: str = API_KEY
    auth_error_status: int = 400
    served: list[Served] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self):
        self.server.expect_request(re.compile(r"^/.*")).respond_with_handler(self._handle)

    @property
    def api_url(self) -> str:
        return self.server.url_for(PATH)

    def fail(
        self,
        kind: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: dict | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests of ``kind`` (issues, issue, teams, any) with
        ``status`` (a GraphQL error body unless ``body`` is given)."""
        self.faults.append(
            Fault(
                kind,
                status,
                dict(headers or {}),
                body if body is not None else error_body("Internal server error", "INTERNAL"),
                times,
            )
        )

    def requests_of(self, kind: str) -> list[Served]:
        return [request for request in self.served if request.kind == kind]

    # rendering

    def issue_id(self, issue: FakeIssue) -> str:
        return str(uuid.uuid5(_NAMESPACE, issue.key))

    def history(self, issue: FakeIssue) -> list[dict]:
        """The issue's history entries as Linear lists them: newest first (entries of one
        instant in the reverse of the order written here: transitions, then other changes)."""
        names = STATUS_NAMES["linear"]
        timed: list[tuple[dt.datetime, dict]] = []
        for transition in issue.transitions:
            timed.append(
                (
                    transition.at,
                    {
                        "createdAt": _time(transition.at),
                        "fromState": {"name": names[transition.from_stage]},
                        "toState": {"name": names[transition.to_stage]},
                        "actor": _user(transition.author),
                    },
                )
            )
        for change in issue.other_changes:
            timed.append(
                (
                    change.at,
                    {
                        "createdAt": _time(change.at),
                        "fromState": None,
                        "toState": None,
                        "actor": _user(change.author),
                    },
                )
            )
        timed.sort(key=lambda item: item[0])  # stable: one instant keeps the order written
        return [entry for _, entry in reversed(timed)]

    def render_issue(self, issue: FakeIssue, history_first: int = DEFAULT_FIRST) -> dict:
        stage = issue.stage
        completed = next(
            (t.at for t in reversed(issue.transitions) if t.to_stage == DONE),
            None,
        )
        labels = [*issue.labels, *(("Bug",) if issue.issue_type == "Bug" else ())]
        issue_id = self.issue_id(issue)
        entries = self.history(issue)
        return {
            "id": issue_id,
            "identifier": issue.key,
            "title": issue.title,
            "url": f"https://linear.app/acme/issue/{issue.key}/issue-{issue.number}",
            "createdAt": _time(issue.created),
            "updatedAt": _time(issue.updated),
            "completedAt": _time(completed) if stage == DONE and completed else None,
            "canceledAt": None,
            "estimate": issue.story_points,
            "priority": issue.number % len(PRIORITY_LABELS),
            "priorityLabel": PRIORITY_LABELS[issue.number % len(PRIORITY_LABELS)],
            "state": {"name": issue.status("linear"), "type": STATE_TYPES[stage]},
            "team": {"key": issue.project},
            "project": {"name": "Summer release"} if issue.number % 2 else None,
            "parent": {"identifier": f"{issue.project}-1"} if issue.number % 4 == 0 else None,
            "assignee": _user(issue.assignee) if issue.assignee else None,
            "labels": {"nodes": [{"name": name} for name in labels]},
            "history": _connection(entries, 0, history_first, _history_cursor(issue_id)),
        }

    # serving

    def _handle(self, request: Request) -> Response:
        try:
            payload = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            payload = None
        query = payload.get("query", "") if isinstance(payload, dict) else ""
        variables = (payload.get("variables") or {}) if isinstance(payload, dict) else {}
        kind = _kind(query)
        response = self._answer(request, query, variables, kind)
        self.served.append(
            Served(
                kind,
                query,
                dict(variables),
                dict(request.headers.items()),
                response.status_code,
                time.monotonic(),
            )
        )
        return response

    def _answer(self, request: Request, query: str, variables: dict, kind: str) -> Response:
        for fault in self.faults:
            if fault.times > 0 and fault.kind in (kind, "any"):
                fault.times -= 1
                return _json_response(fault.body, fault.status, fault.headers)
        if request.headers.get("Authorization") != self.api_key:
            return _json_response(authentication_error_body(), self.auth_error_status)
        if request.method != "POST" or request.path != PATH:
            return _json_response({"errors": [{"message": "Not found"}]}, 404)
        problem = _validation_problem(query, variables)
        if problem:
            return _json_response(error_body(problem, "GRAPHQL_VALIDATION_FAILED"), 400)
        if kind == "issues":
            return self._issues(query, variables)
        if kind == "issue":
            return self._history(query, variables)
        if kind == "teams":
            team = {
                "id": str(uuid.uuid5(_NAMESPACE, self.team)),
                "key": self.team,
                "name": f"Team {self.team}",
            }
            nodes = [team] if variables.get("team") == self.team else []
            return _json_response({"data": {"teams": {"nodes": nodes}}}, 200)
        return _json_response(
            error_body("Cannot query this field on type Query", "GRAPHQL_VALIDATION_FAILED"), 400
        )

    def _issues(self, query: str, variables: dict) -> Response:
        listed = [issue for issue in self.issues if variables.get("team") == self.team]
        listed = [issue for issue in listed if issue.project == self.team]
        if "updatedAt: {gte:" in query:
            since = _parse(variables["since"])
            listed = [issue for issue in listed if issue.updated >= since]
        order = _ORDER_BY.search(query)
        by_update = order is not None and order[1] == "updatedAt"
        listed.sort(
            key=lambda issue: (issue.updated if by_update else issue.created, issue.number),
            reverse=True,
        )
        rendered = [self.render_issue(issue, _history_first(query)) for issue in listed]
        start = 0
        after = variables.get("after")
        if after is not None:
            ids = [issue["id"] for issue in rendered]
            if after not in ids:
                return _json_response(error_body("Invalid cursor", "INVALID_INPUT"), 400)
            start = ids.index(after) + 1
        first = min(int(variables.get("first") or DEFAULT_FIRST), MAX_FIRST)
        page = _connection(rendered, start, first, lambda index: rendered[index]["id"])
        return _json_response({"data": {"issues": page}}, 200)

    def _history(self, query: str, variables: dict) -> Response:
        issue = next(
            (issue for issue in self.issues if self.issue_id(issue) == variables.get("id")),
            None,
        )
        if issue is None:
            body = {"data": None, **error_body("Entity not found: Issue", "INVALID_INPUT")}
            return _json_response(body, 200)
        issue_id = self.issue_id(issue)
        entries = self.history(issue)
        cursor = _history_cursor(issue_id)
        start = 0
        after = variables.get("after")
        if after is not None:
            cursors = [cursor(index) for index in range(len(entries))]
            if after not in cursors:
                return _json_response(error_body("Invalid cursor", "INVALID_INPUT"), 400)
            start = cursors.index(after) + 1
        page = _connection(entries, start, _history_first(query), cursor)
        return _json_response({"data": {"issue": {"history": page}}}, 200)


def authentication_error_body() -> dict:
    return {
        "errors": [
            {
                "message": "Authentication required, not authenticated",
                "extensions": {
                    "type": "authentication error",
                    "code": "AUTHENTICATION_ERROR",
                    "userError": True,
                    "userPresentableMessage": "You need to authenticate to access this operation.",
                },
            }
        ]
    }


def rate_limited_body() -> dict:
    return error_body("Rate limit exceeded", "RATELIMITED")


def error_body(message: str, code: str) -> dict:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def rate_limit_headers(*, reset_in: float = 1.0) -> dict[str, str]:
    """What Linear sends with a rate-limited answer: the limit, what is left, when it lifts."""
    return {
        "X-RateLimit-Requests-Limit": "1500",
        "X-RateLimit-Requests-Remaining": "0",
        "X-RateLimit-Requests-Reset": str(int((time.time() + reset_in) * 1000)),
    }


def _kind(query: str) -> str:
    if "issue(id:" in query:
        return "issue"
    if "issues(" in query:
        return "issues"
    if "teams(" in query:
        return "teams"
    return "unknown"


def _validation_problem(query: str, variables: dict) -> str | None:
    if _DOUBLED_BRACES.search(query):  # a format string's braces, left doubled
        return 'Syntax Error: Expected Name, found "{".'
    operation = _OPERATION.match(query)
    if operation is None:
        return "Syntax Error: Unexpected Name."
    declared = re.findall(r"\$(\w+)\s*:", operation["declared"] or "")
    used = set(re.findall(r"\$(\w+)", query[operation.end() :]))
    for name in declared:
        if name not in used:
            return f'Variable "${name}" is never used in operation.'
    for name in sorted(used):
        if name not in declared:
            return f'Variable "${name}" is not defined.'
    for name in variables:
        if name not in declared:
            return f'Variable "${name}" is not defined by the operation.'
    return None


def _history_first(query: str) -> int:
    match = _HISTORY_FIRST.search(query)
    return min(int(match[1]), MAX_FIRST) if match else DEFAULT_FIRST


def _history_cursor(issue_id: str):
    return lambda index: f"{issue_id}:history:{index}"


def _connection(items: list, start: int, first: int, cursor) -> dict:
    chunk = items[start : start + first]
    end = start + len(chunk)
    return {
        "nodes": chunk,
        "pageInfo": {
            "hasNextPage": end < len(items),
            "endCursor": cursor(end - 1) if chunk else None,
        },
    }


def _user(email: str) -> dict:
    return {"email": email, "name": email.split("@", 1)[0].title()}


def _time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _json_response(body: object, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        headers=headers or {},
        content_type="application/json; charset=utf-8",
    )
