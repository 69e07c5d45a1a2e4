"""The correlation id of the document whose work is running, for logs and outbound calls.

One quote-to-cash flow shares one correlation id (a contract's, handed to its
invoices and the payments applied to them). While work runs on behalf of such a
document (a posting task, a pipeline write, a web request that names one), the id
sits in a context variable: every log record carries it (`CorrelationIdFilter`,
installed on the handlers in settings.LOGGING) and every request a connector's
HTTP client sends carries it in the `X-Correlation-ID` header, so the other
system's logs can be joined with ours.

A context variable rather than a thread local: each thread and each asyncio task
sees its own value, and leaving the scope restores the outer one.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import uuid
from collections.abc import Iterator

HEADER = "X-Correlation-ID"
NONE = "-"  # what a log line shows outside any document's work

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("revops_correlation_id", default=None)


def parse_correlation_id(value) -> str | None:
    """The id in canonical form, or None when `value` is not a UUID (a header
    from outside is never trusted as free text: it ends up in logs and headers)."""
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value).strip()))
    except ValueError:
        return None


def current_correlation_id() -> str | None:
    return _current.get()


@contextlib.contextmanager
def correlation_scope(correlation_id) -> Iterator[str | None]:
    """Run the block on behalf of the flow `correlation_id`. None (or a value that
    is not a UUID) keeps the id of the enclosing scope."""
    parsed = parse_correlation_id(correlation_id)
    if parsed is None:
        yield _current.get()
        return
    token = _current.set(parsed)
    try:
        yield parsed
    finally:
        _current.reset(token)


class CorrelationIdFilter(logging.Filter):
    """Adds `correlation_id` to every record (the id in scope, or "-"); never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "correlation_id", None):
            record.correlation_id = _current.get() or NONE
        return True


def add_header(request) -> None:
    """httpx request hook: the id in scope travels with every outbound request."""
    correlation_id = _current.get()
    if correlation_id and HEADER not in request.headers:
        request.headers[HEADER] = correlation_id
