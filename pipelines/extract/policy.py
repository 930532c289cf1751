"""How a pull retries a request, and how it says it cannot go on.

Every layer of a pull shares these two names: the HTTP client (``pipelines.extract.http``), the
tracker clients, the pull folders, the extract assets and ``owh extract``. They live apart from
the HTTP client, which imports dlt and requests, so that loading the definitions (every run, the
Dagster UI) does not import an HTTP stack that only a pull uses.
"""

from __future__ import annotations

from dataclasses import dataclass


class ExtractError(RuntimeError):
    """A pull that cannot go on; the message is one line, fit for a terminal and a log."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a pull tries before it gives up on one request."""

    attempts: int = 6
    backoff_seconds: float = 1.0  # exponential: 1, 2, 4, ... seconds unless Retry-After says
    max_delay_seconds: float = 120.0  # also the longest Retry-After honoured
    timeout_seconds: float = 60.0


DEFAULT_POLICY = RetryPolicy()
