"""``owh.yml``: which trackers to pull, from where, and what their custom fields are called.

The file is optional (the demo needs none) and holds no secret: credentials come from the
environment only. It is found at ``--config``, else ``$OWH_CONFIG``, else ``owh.yml`` in the
working directory. Every key is optional; a command-line option wins over the file. Custom
fields are named as the Jira UI shows them and resolved to the site's ids at each pull, so one file
works on every site. ``owh.example.yml`` at the top of the repository shows every key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONFIG_ENV = "OWH_CONFIG"
DEFAULT_CONFIG_NAME = "owh.yml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JiraFields(_Strict):
    """Display names of the custom fields the warehouse reads (None: the site has no such
    field). ``Flagged`` is Jira's own name and needs no entry."""

    story_points: str | None = "Story point estimate"
    team: str | None = None
    workstream: str | None = "Workstream"
    found_in: str | None = "Found in"
    epic_link: str | None = "Epic Link"


class JiraSource(_Strict):
    url: str | None = None
    jql: str | None = None
    # cloud: /rest/api/3/search/jql with basic auth; data_center: /rest/api/2/search with a PAT.
    # Unset: cloud when OWH_JIRA_EMAIL is set, data_center when only OWH_JIRA_PAT is.
    deployment: Literal["cloud", "data_center"] | None = None
    fields: JiraFields = Field(default_factory=JiraFields)
    page_size: int = Field(default=100, ge=1, le=5000)


class GitHubSource(_Strict):
    repo: str | None = None  # owner/name
    api_url: str = "https://api.github.com"
    page_size: int = Field(default=100, ge=1, le=100)


class LinearSource(_Strict):
    team: str | None = None  # team key, e.g. DATA
    api_url: str = "https://api.linear.app/graphql"
    # each issue brings up to 50 history entries: 25 a page stays within Linear's query complexity
    page_size: int = Field(default=25, ge=1, le=250)


class SourcesConfig(_Strict):
    jira: JiraSource | None = None
    github: GitHubSource | None = None
    linear: LinearSource | None = None


class ConfigError(ValueError):
    """The config file cannot be used; the message names the file and the key."""


def config_path(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    return Path(from_env) if from_env else Path(DEFAULT_CONFIG_NAME)


def load_config(explicit: Path | None = None) -> SourcesConfig:
    """The sources config; an empty one when no file exists (and none was asked for by name)."""
    path = config_path(explicit)
    if not path.is_file():
        if explicit is not None or os.environ.get(CONFIG_ENV):
            raise ConfigError(f"config file {path} not found")
        return SourcesConfig()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sources (jira, github, linear)")
    try:
        return SourcesConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
