"""NetSuite error answers → the connector error taxonomy.

The REST record API answers a failure with an RFC 9457 problem document whose
`o:errorDetails` list carries NetSuite's error codes:

    {"type": "...", "title": "Bad Request", "status": 400,
     "o:errorDetails": [{"detail": "Invalid value for the resource or sub-resource field 'entity'.",
                         "o:errorPath": "entity", "o:errorCode": "INVALID_VALUE"}]}

The codes are the same family SuiteTalk SOAP reports in `statusDetail/code` and
in faults, so one table classifies both:
- throttling, concurrency and lock codes (and NetSuite's own "unexpected error")
  are transient: the same request may succeed later;
- login and permission codes are configuration: nothing posts until an admin
  fixes the connector;
- every other code is a business rejection of this one document: it becomes an
  ERP_REJECTED exception item carrying NetSuite's message.
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors.errors import (
    BusinessError,
    ConfigurationError,
    ConnectorError,
    TransientError,
    classify_http,
    describe_request,
    parse_retry_after,
)

TRANSIENT_CODES = frozenset(
    {
        "CONCURRENCY_LIMIT_EXCEEDED",
        "EXCEEDED_CONCURRENCY_LIMIT",
        "EXCEEDED_REQUEST_LIMIT",
        "EXCEEDED_RATE_LIMIT",
        "WS_CONCUR_SESSION_DISALLWD",
        "WS_REQUEST_BLOCKED",
        "SSS_REQUEST_LIMIT_EXCEEDED",
        "RCRD_LOCKED_BY_WF",
        "RECORD_LOCKED",
        "SESSION_TIMED_OUT",
        "UNEXPECTED_ERROR",
        "SERVICE_UNAVAILABLE",
    }
)
CONFIGURATION_CODES = frozenset(
    {
        "INVALID_LOGIN",
        "INVALID_LOGIN_ATTEMPT",
        "INVALID_LOGIN_CREDENTIALS",
        "INSUFFICIENT_PERMISSION",
        "ACCT_TEMP_UNAVAILABLE",
        "FEATURE_DISABLED",
        "INVALID_ACCOUNT",
    }
)

TRANSIENT, CONFIGURATION, BUSINESS = "transient", "configuration", "business"


def classify_code(code: str) -> str:
    """ "transient", "configuration" or "business" for a NetSuite error code."""
    code = (code or "").strip().upper()
    if code in TRANSIENT_CODES:
        return TRANSIENT
    if code in CONFIGURATION_CODES:
        return CONFIGURATION
    return BUSINESS


def error_details(body: Any) -> list[dict[str, str]]:
    """[{code, message, path}] from a NetSuite problem document (empty when it is not one)."""
    if not isinstance(body, dict) or not isinstance(body.get("o:errorDetails"), list):
        return []
    details = []
    for entry in body["o:errorDetails"]:
        if isinstance(entry, dict):
            details.append(
                {
                    "code": str(entry.get("o:errorCode") or ""),
                    "message": str(entry.get("detail") or ""),
                    "path": str(entry.get("o:errorPath") or ""),
                }
            )
    return details


def classify_response(response: httpx.Response) -> ConnectorError:
    """The ConnectorError a failed NetSuite answer stands for."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    details = error_details(body)
    if not details:
        return classify_http(response)  # a proxy, a load balancer, a body that is not NetSuite's
    request = response.request
    where = f"{request.method} {request.url.path}"
    message = "; ".join(f"{d['code']}: {d['message']}" if d["code"] else d["message"] for d in details)
    kinds = {classify_code(d["code"]) for d in details}
    if response.status_code in (401, 403) or CONFIGURATION in kinds:
        return ConfigurationError(f"NetSuite refused {where}: {message}")
    if response.status_code in (408, 429) or response.status_code >= 500 or kinds == {TRANSIENT}:
        return TransientError(
            f"NetSuite answered {where} with {response.status_code}: {message}",
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            request=describe_request(request),
        )
    first = details[0]
    return BusinessError(
        f"NetSuite rejected {where}: {message}",
        code="ERP_REJECTED",
        field=first["path"],
        path=first["path"],
        rows=[
            {
                "field": d["path"],
                "path": d["path"],
                "expected": None,
                "actual": d["code"],
                "message": d["message"],
            }
            for d in details
        ],
        details={"status": response.status_code, "errors": details},
    )
