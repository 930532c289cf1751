"""Pull the issues of one Linear team with their complete histories (Linear's GraphQL API).

Authentication is a personal API key from ``OWH_LINEAR_API_KEY``, sent the way Linear reads
personal keys: the bare key in ``Authorization`` (``Bearer`` is for OAuth tokens only). Every
request is a ``POST`` of a GraphQL query to the API URL (``https://api.linear.app/graphql``).

Issues come from the ``issues`` query, filtered on the team's key (``DATA``) and, on an
incremental pull, on ``updatedAt >= since``, ``page_size`` at a time along
``pageInfo.endCursor`` while ``pageInfo.hasNextPage`` holds. They are listed in creation order:
unlike update order, it does not move an issue updated while the pull pages through, which would
carry it into a page already read and leave it out of the pull (the cursor never passes the pull's
start, see ``run_pull``, so the next pull asks for it again). Archived issues are included: Linear
archives closed issues on its own after a while, and a full pull without them would drop
finished work from the warehouse.

Each issue comes with the first 50 entries of its ``history``. An issue with more
(``history.pageInfo.hasNextPage``) gets the rest from the ``issue(id:)`` query, 50 at a time,
appended to its ``history.nodes`` in the order Linear sent them; its ``pageInfo`` then says
``hasNextPage: false`` with the ``endCursor`` of the last page. Each stored page is therefore
Linear's own response to the ``issues`` query, in Linear's own shape, with every history complete,
and the adapter (``pipelines.sources.linear``) reads nothing else.

GraphQL answers errors in the body, with HTTP 200 or 400: ``{"errors": [{"message": ...,
"extensions": {"code": ...}}]}``. An ``AUTHENTICATION_ERROR`` stops the pull with a line naming
``OWH_LINEAR_API_KEY``; any other error stops it quoting Linear's message. Rate limits (HTTP 429,
or the error code ``RATELIMITED``) are retried: after ``Retry-After``, else when
``X-RateLimit-Requests-Reset`` (epoch milliseconds) says the limit lifts. The key travels in the
``Authorization`` header only and is never part of a message, a file or a log line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator
from requests.auth import AuthBase

from pipelines.extract.http import (
    ApiClient,
    RetryAfterFromReset,
    Tracker,
    api_error_text,
    reset_epoch,
)
from pipelines.extract.policy import DEFAULT_POLICY, ExtractError, RetryPolicy
from pipelines.extract.pulls import Fetched, PullFolder, PullResult, run_pull, updated_time

LINEAR_API_KEY_ENV = "OWH_LINEAR_API_KEY"
SOURCE = "linear"
DEFAULT_API_URL = "https://api.linear.app/graphql"
# The next pull starts this much before the last update seen: what changed while the last pull
# ran, or reached an API replica late, is listed again.
OVERLAP = dt.timedelta(minutes=5)
HISTORY_PAGE_SIZE = 50
AUTHENTICATION_ERROR = "AUTHENTICATION_ERROR"
RATELIMITED = "RATELIMITED"
FORBIDDEN = "FORBIDDEN"
RATE_LIMIT_RESET_HEADER = "X-RateLimit-Requests-Reset"  # epoch milliseconds

HISTORY_FIELDS = """
fragment HistoryEntry on IssueHistory {
  createdAt
  fromState { name }
  toState { name }
  actor { email name }
}
"""
ISSUE_FIELDS = f"""
fragment IssueFields on Issue {{
  id
  identifier
  title
  url
  createdAt
  updatedAt
  completedAt
  canceledAt
  estimate
  priority
  priorityLabel
  state {{ name type }}
  team {{ key }}
  project {{ name }}
  parent {{ identifier }}
  assignee {{ email name }}
  labels {{ nodes {{ name }} }}
  history(first: {HISTORY_PAGE_SIZE}) {{
    nodes {{ ...HistoryEntry }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
TEAM_ISSUES_QUERY = (
    """
query TeamIssues($team: String!, $first: Int!, $after: String) {
  issues(
    first: $first
    after: $after
    filter: {team: {key: {eq: $team}}}
    orderBy: createdAt
    includeArchived: true
  ) {
    nodes { ...IssueFields }
    pageInfo { hasNextPage endCursor }
  }
}
"""
    + ISSUE_FIELDS
    + HISTORY_FIELDS
)
TEAM_ISSUES_UPDATED_SINCE_QUERY = (
    """
query TeamIssuesUpdatedSince(
  $team: String!, $first: Int!, $after: String, $since: DateTimeOrDuration!
) {
  issues(
    first: $first
    after: $after
    filter: {team: {key: {eq: $team}}, updatedAt: {gte: $since}}
    orderBy: createdAt
    includeArchived: true
  ) {
    nodes { ...IssueFields }
    pageInfo { hasNextPage endCursor }
  }
}
"""
    + ISSUE_FIELDS
    + HISTORY_FIELDS
)
ISSUE_HISTORY_QUERY = (
    f"""
query IssueHistory($id: String!, $after: String) {{
  issue(id: $id) {{
    history(first: {HISTORY_PAGE_SIZE}, after: $after) {{
      nodes {{ ...HistoryEntry }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""
    + HISTORY_FIELDS
)
TEAM_QUERY = """
query TeamByKey($team: String!) {
  teams(filter: {key: {eq: $team}}) {
    nodes { id key name }
  }
}
"""


def linear_api_key_from_env() -> str:
    """The key in ``OWH_LINEAR_API_KEY``; a clear error naming the variable when it is unset."""
    key = os.environ.get(LINEAR_API_KEY_ENV, "").strip()
    if not key:
        raise ExtractError(
            f"Linear needs a personal API key in {LINEAR_API_KEY_ENV} (not set): create one "
            "among the personal API keys of Linear's settings, with read access"
        )
    return key


def pull_linear(
    *,
    team: str,
    landing_dir: Path,
    warehouse_dir: Path,
    api_key: str,
    api_url: str = DEFAULT_API_URL,
    full: bool = False,
    page_size: int = 50,
    policy: RetryPolicy = DEFAULT_POLICY,
    on_progress: Callable[[int], None] = lambda issues: None,
    now: dt.datetime | None = None,
) -> PullResult:
    """Pull the issues of the Linear team ``team`` (its key; all issues, or those updated since
    the last pull) with their histories into ``<landing>/linear/<pull id>/``; see the module
    doc."""
    team = checked_team(team)
    linear_team = LinearTeam(api_url, team, api_key, policy)

    def fetch(since: dt.datetime | None, folder: PullFolder) -> Fetched:
        pulled = 0
        cursor: dt.datetime | None = None
        for page in linear_team.issue_pages(since, page_size):
            issues = page["data"]["issues"]["nodes"]
            for issue in issues:
                linear_team.complete_history(issue)
                updated = updated_time(_field(issue, "updatedAt"))
                if updated is not None and (cursor is None or updated > cursor):
                    cursor = updated
                pulled += 1
                on_progress(pulled)
            folder.write_page(page)
        details = {"team": team, "api_url": linear_team.api_url}
        return Fetched(issues=pulled, cursor=cursor, details=details)

    try:
        # before anything is written: a refused key or an unknown team stops here
        linear_team.check_team_exists()
        return run_pull(
            landing_dir,
            warehouse_dir,
            source=SOURCE,
            scope=f"{linear_team.api_url}|{team}",
            full=full,
            overlap=OVERLAP,
            fetch=fetch,
            now=now,
        )
    except ExtractError as exc:
        message = str(exc)
        if api_key and api_key in message:  # never shown, whatever an answer quoted
            raise ExtractError(message.replace(api_key, "<hidden>")) from None
        raise


def checked_team(team: str) -> str:
    """The team key as given (surrounding spaces removed); an empty one stops the pull."""
    text = team.strip() if isinstance(team, str) else ""
    if not text:
        raise ExtractError(
            "a Linear team key is needed, e.g. DATA (--team, or linear.team in owh.yml)"
        )
    return text


def since_variable(since: dt.datetime) -> str:
    """``since`` as a GraphQL ``DateTime``: ISO 8601 in UTC, to the millisecond (rounded down,
    so nothing updated within it is left out)."""
    return since.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class LinearTeam:
    """One team on one Linear API, with the queries a pull makes."""

    def __init__(self, api_url: str, team: str, api_key: str, policy: RetryPolicy):
        self.api_url = api_url.strip().rstrip("/")
        self.team = team
        self.client = LinearClient(
            Tracker("Linear", LINEAR_API_KEY_ENV),
            self.api_url,
            auth=LinearApiKey(api_key),
            policy=policy,
            retry_condition=retry_rate_limited,
        )
        # A rate limit names its end in X-RateLimit-Requests-Reset only; the retry waits on
        # Retry-After.
        # rate limited without a Retry-After: wait until the limit's reset time
        self.client.rest.session.mount(
            self.api_url,
            RetryAfterFromReset(RATE_LIMIT_RESET_HEADER, _rate_limited, scale=1000),
        )

    def issue_pages(self, since: dt.datetime | None, page_size: int) -> Iterator[dict[str, Any]]:
        """Every response of the ``issues`` query, whole, as Linear sent it."""
        variables: dict[str, Any] = {"team": self.team, "first": page_size, "after": None}
        query = TEAM_ISSUES_QUERY
        if since is not None:
            query = TEAM_ISSUES_UPDATED_SINCE_QUERY
            variables["since"] = since_variable(since)
        paginator = JSONResponseCursorPaginator(
            cursor_path="data.issues.pageInfo.endCursor",
            cursor_body_path="variables.after",
            has_more_path="data.issues.pageInfo.hasNextPage",
        )
        for body, _ in self.client.pages(
            "",
            method="POST",
            body={"query": query, "variables": variables},
            paginator=paginator,
            data_selector="data.issues.nodes",
        ):
            nodes = _path(body, "data", "issues", "nodes")
            if not isinstance(nodes, list):
                raise ExtractError(
                    f"Linear answered the issues query without data.issues.nodes: check the API "
                    f"URL ({self.api_url})"
                )
            yield body

    def complete_history(self, issue: object) -> None:
        """Fetch the rest of an issue's history when Linear sent only its first page, and append
        it in place (``pageInfo`` then says there is no more)."""
        history = _field(issue, "history")
        page_info = _field(history, "pageInfo")
        if not (isinstance(history, dict) and _field(page_info, "hasNextPage") is True):
            return
        issue_id = _field(issue, "id")
        if not isinstance(issue_id, str):
            raise ExtractError(
                f"Linear listed issue {_field(issue, 'identifier')} with more history but "
                "without an id to fetch it by"
            )
        nodes = history.get("nodes")
        if not isinstance(nodes, list):
            nodes = history["nodes"] = []
        end_cursor = page_info.get("endCursor")
        paginator = JSONResponseCursorPaginator(
            cursor_path="data.issue.history.pageInfo.endCursor",
            cursor_body_path="variables.after",
            has_more_path="data.issue.history.pageInfo.hasNextPage",
        )
        for body, _ in self.client.pages(
            "",
            method="POST",
            body={
                "query": ISSUE_HISTORY_QUERY,
                "variables": {"id": issue_id, "after": end_cursor},
            },
            paginator=paginator,
            data_selector="data.issue.history.nodes",
        ):
            more = _path(body, "data", "issue", "history")
            if not isinstance(more, dict) or not isinstance(more.get("nodes"), list):
                raise ExtractError(
                    f"Linear answered the history query of issue {issue.get('identifier')} "
                    "without data.issue.history.nodes"
                )
            nodes.extend(more["nodes"])
            end_cursor = _field(more.get("pageInfo"), "endCursor") or end_cursor
        history["pageInfo"] = {"hasNextPage": False, "endCursor": end_cursor}

    def check_team_exists(self) -> None:
        """Stop the pull when no team of the workspace has the key (an unknown key lists no
        issues, which would otherwise read as a team without any), or the key is refused."""
        body = self.client.post("", {"query": TEAM_QUERY, "variables": {"team": self.team}})
        nodes = _path(body, "data", "teams", "nodes")
        if isinstance(nodes, list) and nodes:
            return
        raise ExtractError(
            f"Linear has no team with key {self.team!r} that this API key can read: check the key "
            "(--team, or linear.team in owh.yml; it is the prefix of the team's issue "
            "identifiers, e.g. DATA in DATA-12)"
        )


class LinearClient(ApiClient):
    """The retrying client, reading GraphQL's errors in the body as failed requests."""

    @staticmethod
    def _hooks() -> dict[str, list]:
        return {"response": [_raise_for_status_or_graphql_errors]}

    def describe(self, response: requests.Response | None) -> str:
        if response is None:
            return super().describe(response)
        codes = graphql_error_codes(response)
        request = f"{response.request.method} {urlsplit(response.url).path}"
        status = response.status_code
        if AUTHENTICATION_ERROR in codes or status == 401:
            return f"Linear refused the credentials: check {LINEAR_API_KEY_ENV}"
        if RATELIMITED in codes or status == 429:
            reset = _reset_time(response)
            when = f"; the limit lifts at {reset:%H:%M} UTC" if reset else ""
            return (
                f"Linear's rate limit still held after {self.policy.attempts} attempts "
                f"({status} on {request}){when}: pull again later"
            )
        if status >= 500 or status == 404:
            return super().describe(response)
        detail = api_error_text(response)
        if FORBIDDEN in codes:
            return (
                f"Linear refused access ({status} on {request}): check that the user of "
                f"{LINEAR_API_KEY_ENV} may read the team" + (f" ({detail})" if detail else "")
            )
        if codes or status == 400:
            return f"Linear rejected the query ({status} on {request})" + (
                f": {detail}" if detail else ""
            )
        return super().describe(response)


class LinearApiKey(AuthBase):
    """``Authorization: <key>``, added when the request is sent: the key is in no header dlt
    logs and in no repr."""

    def __init__(self, key: str):
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._key
        return request

    def __repr__(self) -> str:
        return "LinearApiKey(<hidden>)"


def graphql_errors(response: requests.Response) -> list[dict[str, Any]]:
    """The ``errors`` of a GraphQL answer (none when the body holds none or is not JSON)."""
    if b'"errors"' not in (response.content or b""):
        return []
    try:
        body = json.loads(response.content)
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return []
    return [error for error in errors if isinstance(error, dict)] or [{"message": str(errors)}]


def graphql_error_codes(response: requests.Response) -> set[str]:
    codes = set()
    for error in graphql_errors(response):
        code = _field(error.get("extensions"), "code")
        if isinstance(code, str):
            codes.add(code.upper())
    return codes


def retry_rate_limited(response: requests.Response | None, exception: BaseException | None) -> bool:
    """The retry condition of the client: a ``RATELIMITED`` error is retried like a 429,
    whatever its HTTP status."""
    return response is not None and RATELIMITED in graphql_error_codes(response)


def _raise_for_status_or_graphql_errors(
    response: requests.Response, *args: Any, **kwargs: Any
) -> None:
    # Raised inside the session's send, so the retry sees the answer (429, 5xx, RATELIMITED).
    if response.status_code >= 400 or graphql_errors(response):
        raise requests.HTTPError(f"{response.status_code}", response=response)


def _rate_limited(response: requests.Response) -> bool:
    return response.status_code == 429 or RATELIMITED in graphql_error_codes(response)


def _reset_time(response: requests.Response) -> dt.datetime | None:
    reset = reset_epoch(response, RATE_LIMIT_RESET_HEADER, scale=1000)
    return dt.datetime.fromtimestamp(reset, dt.UTC) if reset is not None else None


def _path(value: object, *names: str) -> Any:
    for name in names:
        value = _field(value, name)
    return value


def _field(item: object, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else None
