"""Pull GitHub issues with their complete timelines (github.com, or GitHub Enterprise Server).

Authentication is a token from ``OWH_GITHUB_TOKEN`` (a fine-grained token with read access to the
repository's issues, or a classic one), sent as a bearer token. Issues come from
``GET /repos/{owner}/{repo}/issues?state=all&sort=created&direction=asc`` (plus ``since`` on an
incremental pull), page by page along the ``Link`` header; each issue's timeline from
``GET /repos/{owner}/{repo}/issues/{number}/timeline``, every page of it. GitHub Enterprise Server
is the same API under another root: pass ``api_url`` (``https://ghe.example.com/api/v3``).

The issues endpoint lists pull requests too (an item with a ``pull_request`` key). They are kept in
the stored page, as GitHub sent it, but their timelines are not fetched and the adapter skips them.

Each issues page is stored as one landing page holding GitHub's own responses, grouped::

    {
      "issues": [ ...the issues page exactly as received, pull requests included... ],
      "timelines": {
        "<issue number>": [ ...every timeline event of the issue, its pages concatenated in
                            the order GitHub sent them... ]
      }
    }

so the adapter (``pipelines.sources.github``) finds each issue's whole history beside it.

The cursor is the highest ``updated_at`` of every item listed, pull requests included: the list is
one sequence ordered by update time, so everything updated after its last item is still to come,
whatever its kind. Counting only issues would make a repository with busy pull requests list every
pull request since its last issue change again, on every pull.

GitHub signals a rate limit with 429, or with 403 and ``x-ratelimit-remaining: 0`` (the hourly
limit, lifted at ``x-ratelimit-reset``) or a ``Retry-After`` (a secondary limit); those are
retried, waiting as told, while a 403 without them is a permission problem and is not.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

from pipelines.extract.http import (
    ApiClient,
    BearerToken,
    RetryAfterFromReset,
    Tracker,
    api_error_text,
    reset_epoch,
)
from pipelines.extract.policy import DEFAULT_POLICY, ExtractError, RetryPolicy
from pipelines.extract.pulls import Fetched, PullFolder, PullResult, run_pull, updated_time
from pipelines.sources.github import is_pull_request

GITHUB_TOKEN_ENV = "OWH_GITHUB_TOKEN"
SOURCE = "github"
DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
RATE_LIMIT_RESET_HEADER = "x-ratelimit-reset"  # epoch seconds
# The next pull starts this much before the last update seen: what changed while the last pull
# ran, or reached an API replica late, is listed again.
OVERLAP = dt.timedelta(minutes=5)
TIMELINE_PAGE_SIZE = 100  # GitHub's maximum
# GitHub's rules for an owner (a user or organisation) and a repository name.
_REPO = re.compile(r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/(?P<name>[A-Za-z0-9._-]{1,100})")


def github_token_from_env() -> str:
    """The token in ``OWH_GITHUB_TOKEN``; a clear error naming the variable when it is unset."""
    token = os.environ.get(GITHUB_TOKEN_ENV, "").strip()
    if not token:
        raise ExtractError(
            f"GitHub needs a token in {GITHUB_TOKEN_ENV} (not set): a fine-grained token with "
            "read access to the repository's issues, or a classic token"
        )
    return token


def pull_github(
    *,
    repo: str,
    landing_dir: Path,
    warehouse_dir: Path,
    token: str,
    api_url: str = DEFAULT_API_URL,
    full: bool = False,
    page_size: int = 100,
    policy: RetryPolicy = DEFAULT_POLICY,
    on_progress: Callable[[int], None] = lambda issues: None,
    now: dt.datetime | None = None,
) -> PullResult:
    """Pull the issues of ``repo`` (``OWNER/NAME``; all of them, or those updated since the last
    pull) with their timelines into ``<landing>/github/<pull id>/``; see the module doc."""
    repo = checked_repo(repo)
    repository = GitHubRepository(api_url, repo, token, policy)
    repository.check()  # before anything is written: a refused token or unknown repo stops here

    def fetch(since: dt.datetime | None, folder: PullFolder) -> Fetched:
        pulled = 0
        cursor: dt.datetime | None = None
        for issues in repository.issue_pages(since, page_size):
            timelines: dict[str, list[Any]] = {}
            for item in issues:
                updated = updated_time(_field(item, "updated_at"))
                if updated is not None and (cursor is None or updated > cursor):
                    cursor = updated
                if is_pull_request(item):
                    continue
                number = _field(item, "number")
                if isinstance(number, int) and not isinstance(number, bool):
                    timelines[str(number)] = repository.timeline(number)
                pulled += 1
                on_progress(pulled)
            folder.write_page({"issues": issues, "timelines": timelines})
        details = {"repo": repo, "api_url": repository.api_url}
        return Fetched(issues=pulled, cursor=cursor, details=details)

    return run_pull(
        landing_dir,
        warehouse_dir,
        source=SOURCE,
        scope=f"{repository.api_url}|{repo}",
        full=full,
        overlap=OVERLAP,
        fetch=fetch,
        now=now,
    )


def checked_repo(repo: str) -> str:
    """``OWNER/NAME`` as given (surrounding spaces removed); anything else stops the pull."""
    text = repo.strip() if isinstance(repo, str) else ""
    match = _REPO.fullmatch(text)
    if match is None or match["name"] in (".", ".."):
        raise ExtractError(
            f"{repo!r} is not a GitHub repository: expected OWNER/NAME, e.g. octo-org/octo-repo "
            "(--repo, or github.repo in owh.yml)"
        )
    return text


def since_parameter(since: dt.datetime) -> str:
    """``since`` as GitHub reads it: ISO 8601 in UTC with a ``Z``, to the second (rounded down,
    so nothing updated within the second is left out)."""
    return since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_rate_limited(response: requests.Response) -> bool:
    """GitHub's ways of saying "too many requests": 429, or 403 with the hourly limit spent
    (``x-ratelimit-remaining: 0``), a ``Retry-After`` (a secondary limit), or a message saying
    so. A 403 with none of them means the token may not read the repository."""
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    headers = response.headers
    if headers.get("x-ratelimit-remaining") == "0" or "Retry-After" in headers:
        return True
    return "rate limit" in api_error_text(response).lower()


def retry_rate_limited(response: requests.Response | None, exception: BaseException | None) -> bool:
    """The retry condition of the client: a rate-limited 403 is retried like a 429."""
    return response is not None and response.status_code == 403 and is_rate_limited(response)


class GitHubRepository:
    """One repository on one GitHub API root, with the calls a pull makes."""

    def __init__(self, api_url: str, repo: str, token: str, policy: RetryPolicy):
        self.api_url = api_url.strip().rstrip("/")
        self.repo = repo
        self.client = GitHubClient(
            Tracker("GitHub", GITHUB_TOKEN_ENV),
            self.api_url,
            auth=BearerToken(token),
            headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION},
            policy=policy,
            retry_condition=retry_rate_limited,
        )
        # The hourly limit names its end in x-ratelimit-reset only; the retry waits on Retry-After.
        # an hourly limit spent: wait until x-ratelimit-reset rather than back off blindly
        self.client.rest.session.mount(
            self.api_url, RetryAfterFromReset(RATE_LIMIT_RESET_HEADER, _hourly_limit_spent)
        )

    def check(self) -> None:
        """The repository answers to this token (``GET /repos/OWNER/NAME``)."""
        self.client.get(f"/repos/{self.repo}")

    def issue_pages(self, since: dt.datetime | None, page_size: int) -> Iterator[list[Any]]:
        """Every page of the issues list (pull requests included), oldest update first."""
        params: dict[str, Any] = {
            "state": "all",
            # creation order is stable while the pull runs: an issue updated meanwhile keeps its
            # place (sorted by update, it would jump to the end and shift one unseen issue into
            # a page already read); the cursor never passes the pull's start (pulls.run_pull)
            "sort": "created",
            "direction": "asc",
            "per_page": page_size,
        }
        if since is not None:
            params["since"] = since_parameter(since)
        path = f"/repos/{self.repo}/issues"
        for body, _ in self.client.pages(path, paginator=HeaderLinkPaginator(), params=params):
            if not isinstance(body, list):
                raise ExtractError(
                    f"GitHub answered {path} with {type(body).__name__}, not a list of issues: "
                    f"check the API URL ({self.api_url})"
                )
            yield body

    def timeline(self, number: int) -> list[Any]:
        """Every event of one issue's timeline, its pages concatenated as GitHub sent them."""
        path = f"/repos/{self.repo}/issues/{number}/timeline"
        events: list[Any] = []
        for body, _ in self.client.pages(
            path, paginator=HeaderLinkPaginator(), params={"per_page": TIMELINE_PAGE_SIZE}
        ):
            if not isinstance(body, list):
                raise ExtractError(
                    f"GitHub answered {path} with {type(body).__name__}, not a list of events"
                )
            events.extend(body)
        return events


class GitHubClient(ApiClient):
    """The retrying client, with GitHub's rate limits told apart from refused credentials."""

    def describe(self, response: requests.Response | None) -> str:
        if response is None or not is_rate_limited(response):
            return super().describe(response)
        request = f"{response.request.method} {urlsplit(response.url).path}"
        reset = _reset_time(response)
        when = f"; the limit lifts at {reset:%H:%M} UTC" if reset else ""
        return (
            f"GitHub's rate limit still held after {self.policy.attempts} attempts "
            f"({response.status_code} on {request}){when}: pull again later"
        )


def _hourly_limit_spent(response: requests.Response) -> bool:
    return response.status_code in (403, 429) and (
        response.headers.get("x-ratelimit-remaining") == "0"
    )


def _reset_time(response: requests.Response) -> dt.datetime | None:
    reset = reset_epoch(response, RATE_LIMIT_RESET_HEADER)
    return dt.datetime.fromtimestamp(reset, dt.UTC) if reset is not None else None


def _field(item: object, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else None
