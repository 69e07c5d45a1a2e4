"""What other apps tell the Flow page: ERP postings and exception items.

revops imports none of the other apps, yet a flow shows the postings of its
documents (connectors) and the exception items sharing its correlation id
(exceptions_queue). Each of those apps registers a source here in its
`AppConfig.ready`, the way it registers resubmit handlers and dashboard tiles;
a source only reads.

- "postings": fn(invoice_ids, application_ids) -> list[FlowPosting], the ERP
  postings of those invoices and payment applications;
- "erp_backlog": fn(since, before) -> list[int], invoices whose ERP posting was
  created in [since, before) and is still not posted (nor cancelled): the
  pending side of the ERP sync SLA;
- "exceptions": fn(correlation_id) -> list[FlowException].

With no source registered the flow simply shows no postings or items.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SOURCE_NAMES = ("postings", "erp_backlog", "exceptions")


@dataclass(frozen=True)
class FlowPosting:
    document_type: str  # "invoice", "payment_application", "credit_note"
    document_id: int
    invoice_id: int | None  # the invoice the document belongs to
    system: str  # the ERP connector's name
    record_type: str
    action: str
    status: str  # OutboundPosting status value
    status_label: str
    created_at: dt.datetime
    posted_at: dt.datetime | None
    url: str
    exception_item_id: int | None = None
    exception_url: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "rejected")

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"


@dataclass(frozen=True)
class FlowException:
    id: int
    code: str
    title: str
    status: str
    status_label: str
    is_open: bool
    opened_at: dt.datetime
    url: str


_sources: dict[str, Callable[..., Any]] = {}


def register_flow_source(name: str, source: Callable[..., Any]) -> None:
    """Register `source` under `name`; registering it again is a no-op (ready() may run twice)."""
    if name not in SOURCE_NAMES:
        raise ValueError(f"Unknown flow source {name!r}; expected one of {', '.join(SOURCE_NAMES)}.")
    _sources[name] = source


def unregister_flow_source(name: str) -> None:
    _sources.pop(name, None)


def flow_postings(invoice_ids: list[int], application_ids: list[int]) -> list[FlowPosting]:
    source = _sources.get("postings")
    if source is None or not (invoice_ids or application_ids):
        return []
    return list(source(invoice_ids, application_ids))


def erp_backlog(since: dt.datetime, before: dt.datetime) -> list[int]:
    source = _sources.get("erp_backlog")
    return [] if source is None else list(source(since, before))


def flow_exceptions(correlation_id) -> list[FlowException]:
    source = _sources.get("exceptions")
    if source is None or correlation_id is None:
        return []
    return list(source(correlation_id))
