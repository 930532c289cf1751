"""Changes to a demo landing folder, as the next night would bring them: a Jira pull of issues
updated since the last run. Used by the incremental-ingestion test and to time it at scale."""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

from pipelines.lib.landing import MANIFEST_NAME, PullManifest

# A demo issue in progress moves on to review when it is updated.
IN_PROGRESS, IN_REVIEW = "In Progress", "In Review"
REVIEW_STATUS_ID = "10006"


def add_jira_pull(landing: Path, *, share: float, updated_at: dt.datetime) -> int:
    """Write ``jira/<pull id>/`` holding ``share`` of the Jira issues exported by hand, updated at
    ``updated_at`` (UTC): each gets a new title, and one in progress moves to review. Returns
    how many issues the pull holds. Deterministic: every n-th issue with a title, in page order."""
    issues = [
        issue
        for page in sorted((landing / "jira").glob("*.json"))
        for issue in json.loads(page.read_text())["issues"]
        if isinstance(issue.get("fields", {}).get("summary"), str)
    ]
    step = max(1, round(1 / share))
    updated = [_updated(issue, updated_at) for issue in issues[::step]]
    pull_id = updated_at.strftime("%Y%m%dT%H%M%SZ")
    folder = landing / "jira" / pull_id
    folder.mkdir()
    page = {"startAt": 0, "maxResults": len(updated), "total": len(updated), "issues": updated}
    (folder / "page-0001.json").write_text(json.dumps(page))
    stamp = updated_at.isoformat() + "+00:00"
    manifest = PullManifest(
        source="jira",
        scope="demo",
        pull_id=pull_id,
        pulled_at=stamp,
        full=False,
        since=None,
        issues=len(updated),
        pages=1,
        cursor=stamp,
    )
    (folder / MANIFEST_NAME).write_text(json.dumps(asdict(manifest)))
    return len(updated)


def _updated(issue: dict, updated_at: dt.datetime) -> dict:
    issue = copy.deepcopy(issue)
    fields = issue["fields"]
    stamp = updated_at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    fields["summary"] += " (revised)"
    fields["updated"] = stamp
    if fields["status"]["name"] == IN_PROGRESS:
        fields["status"] = {"name": IN_REVIEW, "statusCategory": {"key": "indeterminate"}}
        changelog = issue["changelog"]
        changelog["histories"].append(
            {
                "id": f"{issue['id']}-review",
                "author": fields.get("assignee"),
                "created": stamp,
                "items": [
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fromString": IN_PROGRESS,
                        "toString": IN_REVIEW,
                        "to": REVIEW_STATUS_ID,
                    }
                ],
            }
        )
        changelog["total"] = changelog["maxResults"] = len(changelog["histories"])
    return issue
