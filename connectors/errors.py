"""The connector error hierarchy the sync engine acts on, and how HTTP failures map onto it.

- `TransientError`: the same request may well succeed later (timeouts, connection
  errors, 429, 5xx). The engine reschedules it with `backoff_delay`, and after the
  attempt limit opens a dead-letter exception carrying `request` and the message.
- `ConfigurationError`: nothing succeeds until a person fixes the connector (401/403,
  a bad certificate, an unsafe URL, missing credentials, an undecryptable secret).
  The connector is marked failing; no retry storm.
- `BusinessError`: this one record is wrong (`code` is a business code of the
  exception taxonomy); it becomes an exception item and the run goes on.

Secrets never reach these objects: messages are scrubbed of bearer tokens and
well-known API-key shapes, and `request` dicts have credential-like headers, query
parameters and keys replaced by "[redacted]" before they are stored.
"""

from __future__ import annotations

import email.utils
import math
import random
import re
import ssl
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

# Business codes of the exception taxonomy (exceptions_queue.codes.ExceptionCode)
# that a connector may raise; dead letters and reconciliation breaks are made
# elsewhere. Kept here so this module stays importable on its own.
BUSINESS_ERROR_CODES = frozenset(
    {
        "VALIDATION_FAILED",
        "UNKNOWN_CUSTOMER",
        "UNKNOWN_PRODUCT",
        "CURRENCY_MISMATCH",
        "AMOUNT_MISMATCH",
        "TAX_MISMATCH",
        "DUPLICATE_DOCUMENT",
        "INVALID_CONTRACT_STATE",
        "OWNERSHIP_CONFLICT",
        "LATE_USAGE",
        "ERP_REJECTED",
        "STATEMENT_UNBALANCED",
    }
)

RETRY_AFTER_CAP = 3600.0  # a server asking for more than an hour is not taken at its word
REDACTED = "[redacted]"

# Names of headers, query parameters and dict keys whose values are credentials.
_SENSITIVE_NAME = re.compile(
    r"authorization|api[-_]?key|access[-_]?key|private[-_]?key|token|secret|passw|cookie|"
    r"signature|credential|session",
    re.IGNORECASE,
)
# Credential shapes that may slip into free text (a vendor echoing a header, an
# exception message quoting a URL).
_SECRET_IN_TEXT = re.compile(
    r"(?P<scheme>\b(?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=-]+"
    r"|\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]+"
    r"|\bwhsec_[A-Za-z0-9+/=]+",
    re.IGNORECASE,
)
_MAX_BODY_SNIPPET = 300


def scrub(text: str) -> str:
    """`text` with bearer/basic credentials and well-known secret-key shapes redacted."""
    return _SECRET_IN_TEXT.sub(lambda m: (m.group("scheme") or "") + REDACTED, text)


def redact_url(url: str | httpx.URL) -> str:
    """The URL without user info and with credential-like query values redacted."""
    parts = urlsplit(str(url))
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if _SENSITIVE_NAME.search(k) else v) for k, v in pairs], safe="[]")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def sanitize(value: Any) -> Any:
    """A copy of `value` (dicts/lists nest) with credential-like keys' values redacted."""
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _SENSITIVE_NAME.search(k) else sanitize(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [sanitize(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value


def describe_request(request: httpx.Request) -> dict[str, Any]:
    """What a dead letter needs to show which request failed, without credentials."""
    return sanitize(
        {
            "method": request.method,
            "url": redact_url(request.url),
            "headers": dict(request.headers),
        }
    )


class ConnectorError(Exception):
    """Base of every error a connector reports; `message` is for a person to read."""

    kind = "error"
    retryable = False

    def __init__(self, message: str):
        self.message = scrub(str(message))
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message}


class TransientError(ConnectorError):
    """A fault that may clear by itself: retry later, honouring `retry_after` seconds."""

    kind = "transient"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, request: dict | None = None):
        super().__init__(message)
        self.retry_after = None if retry_after is None else max(0.0, float(retry_after))
        self.request = sanitize(request) if request else {}
        if "url" in self.request and isinstance(self.request["url"], str):
            self.request["url"] = redact_url(self.request["url"])

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "retry_after": self.retry_after, "request": self.request}


class ConfigurationError(ConnectorError):
    """The connector cannot work until a person changes its configuration."""

    kind = "configuration"


class BusinessError(ConnectorError):
    """One record is wrong; `code` names the problem in the exception taxonomy."""

    kind = "business"

    def __init__(
        self,
        message: str,
        *,
        code: str,
        field: str = "",
        expected: Any = None,
        actual: Any = None,
        details: dict | None = None,
        path: str = "",
        rows: list[dict[str, Any]] | None = None,
        suggested_correction: dict[str, Any] | None = None,
        subject: Any = None,
    ):
        """`path` is the dotted path of the failing value in the vendor payload
        (what a correction edits); `rows` replaces the single field/expected/actual
        row when several values are wrong (e.g. tax per jurisdiction);
        `suggested_correction` offers the analyst one-click fixes
        ({"summary": str, "options": [{"key", "label", "description", "correction"}]});
        `subject` is the canonical object concerned, when one exists."""
        if code not in BUSINESS_ERROR_CODES:
            raise ValueError(
                f"{code!r} is not a business error code; use one of {sorted(BUSINESS_ERROR_CODES)}"
            )
        super().__init__(message)
        self.code = code
        self.field = field
        self.expected = expected
        self.actual = actual
        self.details = sanitize(details) if details else {}
        self.path = path
        self.rows = list(rows or [])
        self.suggested_correction = suggested_correction
        self.subject = subject

    def error_rows(self) -> list[dict[str, Any]]:
        """[{field, path, message, expected, actual}] for the exception item."""
        if self.rows:
            return [{"message": self.message, **row} for row in self.rows]
        return [
            {
                "field": self.field,
                "path": self.path,
                "message": self.message,
                "expected": self.expected,
                "actual": self.actual,
            }
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "code": self.code,
            "field": self.field,
            "expected": self.expected,
            "actual": self.actual,
            "details": self.details,
        }


# --- classifying HTTP outcomes ----------------------------------------------------------


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date),
    capped at RETRY_AFTER_CAP; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # an HTTP date is always GMT
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _ssl_error_in(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _request_of(source: httpx.HTTPError | httpx.Response) -> httpx.Request | None:
    try:
        return source.request
    except RuntimeError:  # httpx raises it when no request is attached
        return None


def _where(request: httpx.Request | None) -> str:
    return f"{request.method} {redact_url(request.url)}" if request is not None else "the request"


def _classify_exception(exc: BaseException) -> ConnectorError:
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, httpx.HTTPStatusError):
        return _classify_response(exc.response)
    if not isinstance(exc, httpx.HTTPError | OSError):
        raise TypeError(f"classify_http cannot classify {type(exc).__name__}")
    request = _request_of(exc) if isinstance(exc, httpx.HTTPError) else None
    where = _where(request)
    described = describe_request(request) if request is not None else None
    ssl_error = _ssl_error_in(exc)
    if ssl_error is not None:
        if isinstance(ssl_error, ssl.SSLCertVerificationError):
            reason = ssl_error.verify_message or ssl_error.reason or "verification failed"
            return ConfigurationError(f"{where}: the server's TLS certificate was refused ({reason})")
        if not isinstance(ssl_error, ssl.SSLEOFError | ssl.SSLZeroReturnError | ssl.SSLSyscallError):
            return ConfigurationError(f"{where}: the TLS handshake failed ({ssl_error.reason or ssl_error})")
    if isinstance(exc, httpx.TimeoutException):
        return TransientError(f"{where} timed out ({type(exc).__name__})", request=described)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL | httpx.LocalProtocolError):
        return ConfigurationError(f"{where} could not be sent: {exc}")
    if isinstance(exc, httpx.TransportError | httpx.DecodingError | OSError):
        return TransientError(f"{where} failed: {type(exc).__name__}: {exc}", request=described)
    return ConfigurationError(f"{where} failed: {type(exc).__name__}: {exc}")


def _json_error(response: httpx.Response) -> tuple[str, str, dict]:
    """(message, field, error object) from the common JSON error shapes."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return "", "", {}
    error = body
    if isinstance(body, dict):
        if isinstance(body.get("error"), dict):  # {"error": {"message": ..., "param": ...}} (Stripe)
            error = body["error"]
        elif isinstance(body.get("errors"), list) and body["errors"] and isinstance(body["errors"][0], dict):
            error = body["errors"][0]
    if not isinstance(error, dict):
        return "", "", {}
    message = ""
    for key in ("message", "error_description", "detail", "error", "title", "description"):
        if isinstance(error.get(key), str) and error[key].strip():
            message = error[key].strip()
            break
    field = next((error[k] for k in ("param", "field", "pointer") if isinstance(error.get(k), str)), "")
    return message, field, error


def _classify_response(response: httpx.Response) -> ConnectorError:
    status = response.status_code
    request = _request_of(response)
    where = _where(request)
    label = f"{status} {response.reason_phrase}".strip()
    if status < 300:
        raise ValueError(f"{where} answered {label}, which is not an error")
    if status < 400:
        location = response.headers.get("location")
        target = f" to {redact_url(location)}" if location else ""
        return ConfigurationError(
            f"{where} answered {label}{target}; redirects are not followed, so correct the base URL"
        )
    described = describe_request(request) if request is not None else None
    if status in (408, 425, 429) or status >= 500:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return TransientError(f"{where} answered {label}", retry_after=retry_after, request=described)
    if status in (401, 403, 407):
        return ConfigurationError(
            f"{where} answered {label}: check the connector's credentials and permissions"
        )
    message, field, error = _json_error(response)
    if not message and response.headers.get("content-type", "").startswith("text/plain"):
        message = response.text.strip()[:_MAX_BODY_SNIPPET]
    text = f"{where} answered {label}" + (f": {message}" if message else "")
    details = {"status": status}
    if error:
        details["error"] = error
    return BusinessError(text, code="VALIDATION_FAILED", field=field, details=details)


def classify_http(response_or_exc: httpx.Response | BaseException) -> ConnectorError:
    """The ConnectorError an httpx response (3xx/4xx/5xx) or exception stands for."""
    if isinstance(response_or_exc, httpx.Response):
        return _classify_response(response_or_exc)
    if isinstance(response_or_exc, BaseException):
        return _classify_exception(response_or_exc)
    raise TypeError(f"classify_http cannot classify {type(response_or_exc).__name__}")


def backoff_delay(
    attempt: int,
    *,
    base: float = 2.0,
    cap: float = 300.0,
    retry_after: float | None = None,
    rng: Any = random,
) -> float:
    """Seconds to wait before retry number `attempt` (0 for the first retry): capped
    exponential backoff with full jitter, uniform(0, min(cap, base * 2**attempt)),
    but never sooner than `retry_after` (itself capped at RETRY_AFTER_CAP)."""
    if attempt < 0:
        raise ValueError("attempt must be 0 or more")
    # 2**attempt overflows a float long before it matters: past the cap it is the cap.
    ceiling = cap if attempt >= 64 else min(cap, base * 2.0**attempt)
    delay = rng.uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, min(max(float(retry_after), 0.0), RETRY_AFTER_CAP))
    return delay
