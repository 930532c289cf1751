"""Pull Jira issues with their complete changelogs: Jira Cloud (API v3) and Data Center (API v2).

- **Cloud**: basic auth from ``OWH_JIRA_EMAIL`` + ``OWH_JIRA_API_TOKEN``; issues from
  ``GET /rest/api/3/search/jql`` (``nextPageToken`` / ``isLast``) with ``expand=changelog``.
  Search results carry only part of a long changelog (``total`` above the histories present):
  those changelogs are completed with ``POST /rest/api/3/changelog/bulkfetch``.
- **Data Center / Server**: a bearer personal access token from ``OWH_JIRA_PAT``; issues from
  ``GET /rest/api/2/search`` (``startAt`` / ``maxResults`` / ``total``); a changelog cut short is
  completed from ``GET /rest/api/2/issue/{key}?expand=changelog``.

Each search page is stored as Jira sent it, except that a changelog Jira cut short is replaced by
the complete one in the same shape (``startAt`` 0, ``total`` = ``maxResults`` = the histories, in
time order), so the Jira adapter reads a pulled page like a page exported by hand, and finds every
transition. Custom fields are named in ``owh.yml`` as the Jira UI shows them and resolved to this
site's ids through ``GET /rest/api/{2,3}/field``; the ids go into the pull's manifest for the
adapter.

Incremental pulls ask for ``updated >= "<cursor less the overlap>"``: JQL compares to the minute,
in the time zone of the user the credentials belong to (``/myself``), so the lower bound is
written in that zone and rounded down to the minute.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dlt.sources.helpers.rest_client.paginators import (
    JSONResponseCursorPaginator,
    OffsetPaginator,
)
from requests.auth import HTTPBasicAuth

from pipelines.extract.config import JiraFields
from pipelines.extract.http import ApiClient, BearerToken, Tracker
from pipelines.extract.policy import DEFAULT_POLICY, ExtractError, RetryPolicy
from pipelines.extract.pulls import Fetched, PullFolder, PullResult, run_pull, updated_time
from pipelines.sources.jira import FIELD_ROLES, changelog_is_truncated, parse_jira_timestamp

EMAIL_ENV = "OWH_JIRA_EMAIL"
API_TOKEN_ENV = "OWH_JIRA_API_TOKEN"
PAT_ENV = "OWH_JIRA_PAT"
SOURCE = "jira"
# JQL compares to the minute: the next pull starts this much before the last update seen.
OVERLAP = dt.timedelta(minutes=5)
# Fields the adapter reads, besides the custom ones of ``owh.yml``.
SYSTEM_FIELDS = (
    "summary",
    "issuetype",
    "status",
    "created",
    "updated",
    "project",
    "parent",
    "labels",
    "assignee",
    "priority",
    "resolution",
)
CHANGELOG_BATCH = 1000  # issues per bulkfetch request, Jira's maximum
_ORDER_BY = re.compile(r"\border\s+by\b.*$", re.IGNORECASE | re.DOTALL)

Deployment = Literal["cloud", "data_center"]


@dataclass(frozen=True)
class JiraCredentials:
    deployment: Deployment
    email: str | None = None
    api_token: str | None = None
    personal_access_token: str | None = None

    def __repr__(self) -> str:  # never print a secret, even by accident
        return f"JiraCredentials(deployment={self.deployment!r}, email={self.email!r})"


def credentials_from_env(deployment: Deployment | None = None) -> JiraCredentials:
    """Cloud: ``OWH_JIRA_EMAIL`` + ``OWH_JIRA_API_TOKEN``; Data Center: ``OWH_JIRA_PAT``.

    Without an explicit deployment, an e-mail and API token mean Cloud and a personal access
    token alone means Data Center.
    """
    email = os.environ.get(EMAIL_ENV, "").strip()
    token = os.environ.get(API_TOKEN_ENV, "").strip()
    pat = os.environ.get(PAT_ENV, "").strip()
    if deployment is None:
        deployment = "data_center" if pat and not (email and token) else "cloud"
    if deployment == "cloud":
        if not (email and token):
            missing = [
                name for name, value in ((EMAIL_ENV, email), (API_TOKEN_ENV, token)) if not value
            ]
            raise ExtractError(
                f"Jira Cloud needs {EMAIL_ENV} and {API_TOKEN_ENV} in the environment "
                f"({', '.join(missing)} not set); Jira Data Center needs {PAT_ENV}"
            )
        return JiraCredentials("cloud", email=email, api_token=token)
    if not pat:
        raise ExtractError(f"Jira Data Center needs {PAT_ENV} in the environment (not set)")
    return JiraCredentials("data_center", personal_access_token=pat)


def pull_jira(
    *,
    url: str,
    jql: str,
    landing_dir: Path,
    warehouse_dir: Path,
    credentials: JiraCredentials,
    fields: JiraFields | None = None,
    full: bool = False,
    page_size: int = 100,
    policy: RetryPolicy = DEFAULT_POLICY,
    on_progress: Callable[[int], None] = lambda issues: None,
    now: dt.datetime | None = None,
) -> PullResult:
    """Pull the issues ``jql`` selects (all of them, or those updated since the last pull) into
    ``<landing>/jira/<pull id>/``; see the module doc."""
    if not jql.strip():
        raise ExtractError("a JQL query is needed (--jql, or jira.jql in owh.yml)")
    fields = fields or JiraFields()
    site = JiraSite(url, credentials, policy)
    scope = f"{site.base_url}|{jql.strip()}"
    # before anything is written: refused credentials, a wrong URL or an unknown field stop here
    time_zone = site.user_time_zone()
    field_ids = site.resolve_fields(fields)

    def fetch(since: dt.datetime | None, folder: PullFolder) -> Fetched:
        query = incremental_jql(jql, since, time_zone)
        pulled = 0
        cursor: dt.datetime | None = None
        for page in site.search(
            query, [*SYSTEM_FIELDS, *filter(None, field_ids.values())], page_size
        ):
            site.complete_changelogs(page.get("issues") or [])
            folder.write_page(page)
            for issue in page.get("issues") or []:
                updated = updated_time((issue.get("fields") or {}).get("updated"))
                if updated is not None and (cursor is None or updated > cursor):
                    cursor = updated
            pulled += len(page.get("issues") or [])
            on_progress(pulled)
        details = {
            "deployment": credentials.deployment,
            "url": site.base_url,
            "jql": query,
            "time_zone": str(time_zone),
            "fields": field_ids,
            "changelogs_completed": site.changelogs_completed,
        }
        return Fetched(issues=pulled, cursor=cursor, details=details)

    return run_pull(
        landing_dir,
        warehouse_dir,
        source=SOURCE,
        scope=scope,
        full=full,
        overlap=OVERLAP,
        fetch=fetch,
        now=now,
    )


def incremental_jql(jql: str, since: dt.datetime | None, time_zone: dt.tzinfo) -> str:
    """The user's query restricted to issues updated at or after ``since`` (rounded down to the
    minute in the user's time zone), in creation order: unlike update order, it does not move an
    issue updated while the pull pages through, which would shift an unseen issue into a page
    already read (and the cursor never passes the pull's start, see ``run_pull``)."""
    where = _ORDER_BY.sub("", jql).strip()
    if since is not None:
        local = since.astimezone(time_zone).strftime("%Y-%m-%d %H:%M")
        where = f'({where}) AND updated >= "{local}"'
    return f"{where} ORDER BY created ASC, key ASC"


class JiraSite:
    """One Jira site, Cloud or Data Center, with the calls a pull makes."""

    def __init__(self, url: str, credentials: JiraCredentials, policy: RetryPolicy):
        self.base_url = url.rstrip("/")
        self.credentials = credentials
        self.cloud = credentials.deployment == "cloud"
        self.api = "/rest/api/3" if self.cloud else "/rest/api/2"
        if self.cloud:
            tracker = Tracker("Jira", API_TOKEN_ENV, account=credentials.email)
            auth = HTTPBasicAuth(credentials.email or "", credentials.api_token or "")
            headers: dict[str, str] = {}
        else:
            tracker = Tracker("Jira", PAT_ENV, account=None)
            # through auth, not headers: the token stays out of every logged header
            auth = BearerToken(credentials.personal_access_token or "")
            headers = {}
        self.client = ApiClient(tracker, self.base_url, auth=auth, headers=headers, policy=policy)
        self.changelogs_completed = 0

    def user_time_zone(self) -> dt.tzinfo:
        """The time zone JQL dates are read in: the user's own (``/myself``). Also the first
        call of a pull, so wrong credentials stop it before anything is written."""
        me = self.client.get(f"{self.api}/myself")
        name = me.get("timeZone") if isinstance(me, dict) else None
        try:
            return ZoneInfo(name) if name else dt.UTC
        except (ZoneInfoNotFoundError, ValueError):
            return dt.UTC

    def resolve_fields(self, fields: JiraFields) -> dict[str, str | None]:
        """Each role's field id on this site, from the display names in ``owh.yml``.

        A name set in ``owh.yml`` that the site does not have, or has twice, stops the pull with
        the names it does have; a default name the site lacks just leaves the role empty.
        """
        catalogue = self.client.get(f"{self.api}/field")
        by_name: dict[str, list[str]] = {}
        for entry in catalogue if isinstance(catalogue, list) else []:
            name, field_id = entry.get("name"), entry.get("id")
            if isinstance(name, str) and isinstance(field_id, str):
                by_name.setdefault(name.strip().lower(), []).append(field_id)
        chosen = fields.model_fields_set
        resolved: dict[str, str | None] = {}
        for role in FIELD_ROLES:
            name = getattr(fields, role)
            if not name:
                resolved[role] = None
                continue
            ids = by_name.get(name.strip().lower(), [])
            if len(ids) == 1:
                resolved[role] = ids[0]
            elif len(ids) > 1:
                raise ExtractError(
                    f"Jira has {len(ids)} fields named {name!r} ({', '.join(ids)}): name the one "
                    f"for jira.fields.{role} in owh.yml by a name no other field has"
                )
            elif role in chosen:
                custom = sorted(
                    entry["name"]
                    for entry in catalogue
                    if isinstance(entry, dict) and entry.get("custom") and entry.get("name")
                )
                raise ExtractError(
                    f"Jira has no field named {name!r} (jira.fields.{role} in owh.yml); its "
                    f"custom fields are: {', '.join(custom[:30]) or 'none'}"
                )
            else:
                resolved[role] = None
        return resolved

    def search(self, jql: str, fields: list[str], page_size: int):
        """Every search page of ``jql``, as Jira sent it."""
        params = {
            "jql": jql,
            "fields": ",".join(fields),
            "expand": "changelog",
            "maxResults": page_size,
        }
        if self.cloud:
            paginator = JSONResponseCursorPaginator(
                cursor_path="nextPageToken", cursor_param="nextPageToken"
            )
            path = f"{self.api}/search/jql"
        else:
            paginator = OffsetPaginator(
                limit=page_size,
                offset_param="startAt",
                limit_param="maxResults",
                total_path="total",
            )
            path = f"{self.api}/search"
        for body, _ in self.client.pages(
            path, paginator=paginator, params=params, data_selector="issues"
        ):
            if not isinstance(body, dict) or not isinstance(body.get("issues"), list):
                raise ExtractError(f"Jira answered {path} with a page without an issues array")
            yield body

    def complete_changelogs(self, issues: list[dict[str, Any]]) -> None:
        """Replace every changelog Jira cut short by the complete one, in place."""
        short = [issue for issue in issues if changelog_is_truncated(issue.get("changelog"))]
        if not short:
            return
        if self.cloud:
            histories = self._bulk_changelogs([str(issue["id"]) for issue in short])
        else:
            histories = {str(issue["id"]): self._issue_changelog(issue["key"]) for issue in short}
        for issue in short:
            complete = sorted(
                histories.get(str(issue["id"]), []),
                key=lambda history: (
                    parse_jira_timestamp(history.get("created")) or dt.datetime.min,
                    _numeric_id(history.get("id")),
                ),
            )
            issue["changelog"] = {
                "startAt": 0,
                "maxResults": len(complete),
                "total": len(complete),
                "histories": complete,
            }
            self.changelogs_completed += 1

    def _bulk_changelogs(self, issue_ids: list[str]) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        for start in range(0, len(issue_ids), CHANGELOG_BATCH):
            batch = issue_ids[start : start + CHANGELOG_BATCH]
            for body, _ in self.client.pages(
                f"{self.api}/changelog/bulkfetch",
                method="POST",
                body={"issueIdsOrKeys": batch, "maxResults": 1000},
                paginator=JSONResponseCursorPaginator(
                    cursor_path="nextPageToken", cursor_body_path="nextPageToken"
                ),
                data_selector="issueChangeLogs",
            ):
                for changelog in body.get("issueChangeLogs") or []:
                    found.setdefault(str(changelog.get("issueId")), []).extend(
                        changelog.get("changeHistories") or []
                    )
        return found

    def _issue_changelog(self, key: str) -> list[dict]:
        issue = self.client.get(
            f"{self.api}/issue/{key}", {"expand": "changelog", "fields": "status"}
        )
        changelog = issue.get("changelog") if isinstance(issue, dict) else None
        return list((changelog or {}).get("histories") or [])


def _numeric_id(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0
