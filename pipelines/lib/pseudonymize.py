"""Pseudonymise people before anything about them is stored.

See docs/privacy-and-security.md and DECISIONS "Identities are pseudonymised before they are
stored".

Assignees, authors and survey respondents are replaced by a keyed HMAC-SHA256 of their normalised
identity (trimmed, lower-cased), so the same person gets the same pseudonym in every tracker and the
identity cannot be recovered without the key. The key comes from ``OWH_PSEUDONYM_KEY``; only demo
runs may fall back to the public ``DEMO_PSEUDONYM_KEY``.

E-mail addresses can also hide in free text (a title, a quarantined raw line, a message): the
masking helpers here replace them with ``<email>`` so no address reaches a table or a log.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

PSEUDONYM_KEY_ENV = "OWH_PSEUDONYM_KEY"

# Public on purpose: demo data is generated, so its pseudonyms protect no one. Used only by runs
# that `owh demo` starts (tagged as demo runs), never because of what a landing folder holds.
DEMO_PSEUDONYM_KEY = b"outcome-warehouse-demo-pseudonym-key (public, demo data only)"

PSEUDONYM_PREFIX = "person_"
PSEUDONYM_HEX_LENGTH = 16

# Jira user objects carry several identities; the e-mail address is the one other trackers share.
USER_IDENTITY_FIELDS = ("emailAddress", "accountId", "displayName")

# Written for both Python's ``re`` and DuckDB's RE2. Quotes, brackets and separators end an address,
# so an address inside JSON or CSV text is masked without eating its neighbours.
EMAIL_PATTERN = r"""[^\s@"'<>(),;:\[\]{}]+@[^\s@"'<>(),;:\[\]{}]+\.[A-Za-z]+"""
EMAIL_MASK = "<email>"
_EMAIL = re.compile(EMAIL_PATTERN)


class MissingPseudonymKeyError(RuntimeError):
    """The pseudonymisation key is not configured; identities cannot be stored safely."""


def pseudonym_key_from_env(*, demo: bool) -> bytes:
    """The key from ``OWH_PSEUDONYM_KEY``; the public demo key only when ``demo`` is True."""
    value = os.environ.get(PSEUDONYM_KEY_ENV, "")
    if value:
        return value.encode("utf-8")
    if demo:
        return DEMO_PSEUDONYM_KEY
    raise MissingPseudonymKeyError(
        f"{PSEUDONYM_KEY_ENV} is not set. Assignees, authors and survey respondents are stored "
        "only as keyed pseudonyms, so a secret key is required: set it in the environment, e.g. "
        f"`export {PSEUDONYM_KEY_ENV}="
        "$(python -c 'import secrets; print(secrets.token_hex(32))')`, "
        "and keep it stable (a new key changes every pseudonym). "
        "Only `owh demo` uses the public demo key."
    )


def normalize_identity(value: object) -> str | None:
    """The identity a pseudonym is computed from: trimmed and lower-cased, None when empty.

    A Jira user object (a mapping) is reduced to its e-mail address, else its account id, else its
    display name, so one person exported by two trackers has one identity.
    """
    if value is None:
        return None
    if isinstance(value, str):  # the common case first: this runs once per row
        return value.strip().lower() or None
    if isinstance(value, dict | Mapping):  # dict first: the ABC check is slow, dicts are common
        for field in USER_IDENTITY_FIELDS:
            identity = normalize_identity(value.get(field))
            if identity is not None:
                return identity
        return None
    if isinstance(value, float) and value != value:  # NaN from a pandas column
        return None
    return str(value).strip().lower() or None


def pseudonym(identity: str, key: bytes) -> str:
    """``person_`` + the first 16 hex digits of HMAC-SHA256(key, identity)."""
    digest = hmac.new(key, identity.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_LENGTH]


def pseudonymize(values: pd.Series | Iterable[object], key: bytes) -> pd.Series | list[str | None]:
    """Replace every identity by its pseudonym; None (or an empty identity) stays None.

    Vectorised: the column is factorized, each distinct value normalised once and each distinct
    identity hashed once, then the pseudonyms are mapped back; a column of a million rows with a
    few thousand people costs a few thousand HMACs. A Series comes back as a Series with the same
    index; any other iterable as a list.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    series = series.astype(object)
    try:
        codes, raw_values = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # user objects (dicts) cannot be factorized as they are
        codes, raw_values = pd.factorize(series.map(normalize_identity), use_na_sentinel=True)
    # Spellings of one person ("Ann@X.com ", "ann@x.com") share an identity: hash it once.
    by_identity: dict[str, str] = {}
    hashed = []
    for raw in raw_values:
        identity = normalize_identity(raw)
        if identity is not None and identity not in by_identity:
            by_identity[identity] = pseudonym(identity, key)
        hashed.append(by_identity.get(identity) if identity is not None else None)
    # Missing values have code -1: the None appended last is exactly what they index.
    lookup = np.array([*hashed, None], dtype=object)
    result = lookup[codes]
    if isinstance(values, pd.Series):
        return pd.Series(result, index=values.index, dtype=object, name=values.name)
    return result.tolist()


def mask_emails(text: str | None) -> str | None:
    """Replace every e-mail address in ``text`` with ``<email>``."""
    if text is None or "@" not in text:
        return text
    return _EMAIL.sub(EMAIL_MASK, text)


def mask_emails_sql(expression: str) -> str:
    """A DuckDB expression that masks e-mail addresses in the VARCHAR ``expression``.

    The pattern is this module's constant, never input, so it is written as a literal; the
    ``contains`` guard skips the regex for the vast majority of values that hold no ``@``.
    """
    pattern = EMAIL_PATTERN.replace("'", "''")
    return (
        f"case when contains({expression}, '@') "
        f"then regexp_replace({expression}, '{pattern}', '{EMAIL_MASK}', 'g') "
        f"else {expression} end"
    )
