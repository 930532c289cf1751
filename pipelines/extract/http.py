"""The HTTP side of every pull: dlt's REST client with retries, and one-line errors.

dlt's ``RESTClient`` brings the paginators (cursor in the body, ``Link`` header, offset) and its
``requests`` session retries 429 and 5xx answers and dropped connections with exponential backoff,
honouring ``Retry-After`` (DECISIONS "Pulling from tracker APIs"). What this module adds is what a
nightly operator needs when a pull cannot go on: an ``ExtractError`` whose message is one line,
says which tracker refused what and which environment variable or option to check, and never
carries a credential (tokens travel in headers only, and no header is ever printed).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from dlt.sources.helpers.requests.retry import DEFAULT_RETRY_STATUS, Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator, SinglePagePaginator
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from pipelines.extract.policy import DEFAULT_POLICY, ExtractError, RetryPolicy

# Longest part of an error body quoted in a message (Jira's JQL errors are a sentence or two).
ERROR_TEXT_CHARS = 300


RetryCondition = Callable[[requests.Response | None, BaseException | None], bool]


@dataclass(frozen=True)
class Tracker:
    """Who a client talks to, for error messages: a name, the account, and what to check."""

    name: str  # "Jira", "GitHub", "Linear"
    credential_variables: str  # "OWH_JIRA_API_TOKEN", ...
    account: str | None = None  # shown masked: "bar@…"


class ApiClient:
    """A REST client for one tracker site: base URL, authentication, retries, clear errors."""

    def __init__(
        self,
        tracker: Tracker,
        base_url: str,
        *,
        auth: AuthBase | None = None,
        headers: Mapping[str, str] | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        retry_condition: RetryCondition | None = None,
    ):
        self.tracker = tracker
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        session = Client(
            request_timeout=policy.timeout_seconds,
            raise_for_status=False,
            status_codes=DEFAULT_RETRY_STATUS,
            request_max_attempts=policy.attempts,
            request_backoff_factor=policy.backoff_seconds,
            request_max_retry_delay=policy.max_delay_seconds,
            retry_condition=retry_condition,
        ).session
        self.rest = RESTClient(
            base_url=self.base_url,
            headers={"Accept": "application/json", **(headers or {})},
            auth=auth,
            session=session,
        )

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """The JSON body of one GET."""
        with self.errors():
            return self._json(self.rest.get(path, params=dict(params or {}), hooks=self._hooks()))

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """The JSON body of one POST."""
        with self.errors():
            return self._json(self.rest.post(path, json=dict(body), hooks=self._hooks()))

    def pages(
        self,
        path: str,
        *,
        paginator: BasePaginator | None = None,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        data_selector: str = "$",
    ) -> Iterator[tuple[Any, requests.Response]]:
        """Every page of a paginated endpoint: its whole JSON body (as the API sent it) and the
        response. ``data_selector`` only tells dlt where the items are, for paginators that stop
        on an empty page; the body is returned whole."""
        with self.errors():
            for page in self.rest.paginate(
                path,
                method=method,
                params=dict(params) if params is not None else None,
                json=dict(body) if body is not None else None,
                paginator=paginator or SinglePagePaginator(),
                data_selector=data_selector,
                hooks=self._hooks(),
            ):
                yield self._json(page.response), page.response

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Turn what requests and dlt raise into one-line ``ExtractError`` messages."""
        try:
            yield
        except ExtractError:
            raise
        except requests.HTTPError as exc:
            raise ExtractError(self.describe(exc.response)) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ExtractError(
                f"could not reach {self.tracker.name} at {self.base_url} after "
                f"{self.policy.attempts} attempts: {_one_line(_root_cause(exc))}"
            ) from None

    def describe(self, response: requests.Response | None) -> str:
        """What an error answer means for the operator, in one line."""
        tracker = self.tracker
        if response is None:
            return f"{tracker.name} gave no answer"
        request = f"{response.request.method} {urlsplit(response.url).path}"
        status = response.status_code
        detail = api_error_text(response)
        if status in (401, 403):
            who = f" for {mask_account(tracker.account)}" if tracker.account else ""
            what = "refused the credentials" if status == 401 else "refused access"
            return (
                f"{tracker.name} {what}{who} ({status} on {request}): check "
                f"{tracker.credential_variables}" + (f" ({detail})" if detail else "")
            )
        if status == 404:
            return (
                f"{tracker.name} answered 404 Not Found for {request}: check the URL "
                f"({self.base_url}) and that the project or repository exists"
                + (f" ({detail})" if detail else "")
            )
        if status == 429 or status >= 500:
            return (
                f"{tracker.name} kept answering {status} for {request} after "
                f"{self.policy.attempts} attempts" + (f": {detail}" if detail else "")
            )
        return f"{tracker.name} rejected {request} ({status})" + (f": {detail}" if detail else "")

    @staticmethod
    def _hooks() -> dict[str, list]:
        # Raising inside the session's send lets dlt's retry see the status (429, 5xx) and retry.
        return {"response": [_raise_for_status]}

    def _json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ExtractError(
                f"{self.tracker.name} answered {urlsplit(response.url).path} with something "
                f"that is not JSON ({response.headers.get('Content-Type', 'no content type')}): "
                "check the URL"
            ) from None


class BearerToken(AuthBase):
    """``Authorization: Bearer <token>``, added when the request is sent: the token is in no
    header dlt logs and in no repr."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerToken(<hidden>)"


class RetryAfterFromReset(HTTPAdapter):
    """Gives a rate-limited answer that names when its limit lifts (``header``, seconds since
    the epoch divided by ``scale``) but no ``Retry-After`` one, so the retry waits for the limit
    to lift (at most the policy's longest delay) instead of backing off blindly."""

    def __init__(
        self,
        header: str,
        is_rate_limited: Callable[[requests.Response], bool],
        *,
        scale: float = 1.0,
    ):
        super().__init__()
        self.header = header
        self.is_rate_limited = is_rate_limited
        self.scale = scale

    def build_response(self, req, resp) -> requests.Response:
        response = super().build_response(req, resp)
        headers = response.headers
        if "Retry-After" in headers or not self.is_rate_limited(response):
            return response
        reset = reset_epoch(response, self.header, scale=self.scale)
        if reset is not None:
            headers["Retry-After"] = str(max(1, math.ceil(reset - time.time())))
        return response


def reset_epoch(response: requests.Response, header: str, *, scale: float = 1.0) -> float | None:
    """When a rate limit lifts, in seconds since the epoch, from a header giving it in
    seconds (``scale`` 1) or milliseconds (``scale`` 1000); None when absent or unreadable."""
    try:
        return float(response.headers.get(header, "")) / scale
    except ValueError:
        return None


def _raise_for_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    if response.status_code >= 400:
        raise requests.HTTPError(f"{response.status_code}", response=response)


def api_error_text(response: requests.Response) -> str:
    """The error a tracker put in its body: Jira's ``errorMessages``/``errors``, GitHub's
    ``message``, GraphQL's ``errors[].message``; else the start of the text."""
    try:
        body = response.json()
    except ValueError:
        return _one_line(response.text or "")[:ERROR_TEXT_CHARS]
    messages: list[str] = []
    if isinstance(body, dict):
        for message in body.get("errorMessages") or []:
            messages.append(str(message))
        errors = body.get("errors")
        if isinstance(errors, dict):
            messages += [f"{key}: {value}" for key, value in errors.items()]
        elif isinstance(errors, list):
            messages += [str(error.get("message")) for error in errors if isinstance(error, dict)]
        if isinstance(body.get("message"), str):
            messages.append(body["message"])
    text = "; ".join(messages) if messages else json.dumps(body)
    return _one_line(text)[:ERROR_TEXT_CHARS]


def mask_account(account: str) -> str:
    """An account shown without its domain: ``bar@example.com`` → ``bar@…``."""
    local, at, _ = account.partition("@")
    return f"{local}@…" if at else account


def _root_cause(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__
    return exc


def _one_line(value: object) -> str:
    """Any text on one line: an error message must fit one line of a terminal or a log."""
    return " ".join(str(value).split())
