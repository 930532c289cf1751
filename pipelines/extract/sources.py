"""One pull of one configured source: what ``owh extract <source>`` and the extract assets call.

Settings come from the command line first, then ``owh.yml``; credentials from the environment
only. A source is *configured* when its required settings are known (Jira: URL and JQL; GitHub:
the repository; Linear: the team key).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.extract.config import (
    GitHubSource,
    JiraSource,
    LinearSource,
    SourcesConfig,
)
from pipelines.extract.policy import DEFAULT_POLICY, ExtractError, RetryPolicy
from pipelines.extract.pulls import PullResult

SOURCES = ("jira", "github", "linear")
REQUIRED = {"jira": ("url", "jql"), "github": ("repo",), "linear": ("team",)}
_MODELS = {"jira": JiraSource, "github": GitHubSource, "linear": LinearSource}


def source_settings(
    config: SourcesConfig, source: str, overrides: dict[str, Any] | None = None
) -> JiraSource | GitHubSource | LinearSource:
    """The source's settings from ``owh.yml``, with the options given on the command line."""
    settings = getattr(config, source) or _MODELS[source]()
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    return settings.model_copy(update=given) if given else settings


def missing_settings(settings: JiraSource | GitHubSource | LinearSource, source: str) -> list[str]:
    return [name for name in REQUIRED[source] if not getattr(settings, name)]


def is_configured(config: SourcesConfig, source: str) -> bool:
    return getattr(config, source) is not None and not missing_settings(
        source_settings(config, source), source
    )


def pull_source(
    source: str,
    config: SourcesConfig,
    *,
    landing_dir: Path,
    warehouse_dir: Path,
    full: bool = False,
    overrides: dict[str, Any] | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    on_progress: Callable[[int], None] = lambda issues: None,
) -> PullResult:
    """Pull ``source`` with its settings; an ``ExtractError`` names what is missing or wrong."""
    settings = source_settings(config, source, overrides)
    missing = missing_settings(settings, source)
    if missing:
        options = ", ".join(f"--{name.replace('_', '-')}" for name in missing)
        keys = ", ".join(f"{source}.{name}" for name in missing)
        raise ExtractError(f"{source} needs {options} (or {keys} in owh.yml)")
    common = {
        "landing_dir": landing_dir,
        "warehouse_dir": warehouse_dir,
        "full": full,
        "page_size": settings.page_size,
        "policy": policy,
        "on_progress": on_progress,
    }
    if source == "jira":
        from pipelines.extract.jira import credentials_from_env, pull_jira

        return pull_jira(
            url=settings.url,
            jql=settings.jql,
            credentials=credentials_from_env(settings.deployment),
            fields=settings.fields,
            **common,
        )
    if source == "github":
        from pipelines.extract.github import github_token_from_env, pull_github

        return pull_github(
            repo=settings.repo, api_url=settings.api_url, token=github_token_from_env(), **common
        )
    if source == "linear":
        from pipelines.extract.linear import linear_api_key_from_env, pull_linear

        return pull_linear(
            team=settings.team,
            api_url=settings.api_url,
            api_key=linear_api_key_from_env(),
            **common,
        )
    raise ExtractError(f"unknown source {source!r} (known: {', '.join(SOURCES)})")
