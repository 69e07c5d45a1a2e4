"""Reads for the exception item detail page: what went wrong (expected vs
actual), the timeline (field diffs, corrections and comments in one list), and
everything related (the canonical object, the source run and record, and what
shares the correlation id).

Connector and reconciliation pages are linked by URL name only: this app
imports neither package.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import capfirst

from exceptions_queue.models import ExceptionComment, ExceptionItem
from exceptions_queue.payload_paths import MISSING, as_text, value_at
from revops.models import BusinessEvent
from revops.selectors.history import FieldChange, object_history
from revops.selectors.invoices import events_for_correlation
from revops.selectors.refs import find_by_external_id

RELATED_ITEMS_SHOWN = 20
DOCUMENTS_SHOWN = 30
TEXT_SHOWN = 300
# Canonical objects with a page of their own, by "app_label.model".
OBJECT_PAGES = {
    "revops.customer": "customer_detail",
    "revops.contract": "contract_detail",
    "revops.invoice": "invoice_detail",
    "revops.payment": "payment_detail",
    # URL names only: the queue links to other apps' pages without importing them.
    "statements.bankstatement": "statements:detail",
}
# Bulky fields whose every change is shown as "updated", not as before → after.
BULKY_FIELDS = {"Payload", "Error details", "Suggested correction"}
# What the "created" entry lists of a new item; the rest is on the page itself.
CREATED_FIELDS = {"Code", "Severity", "Status", "Priority", "Team", "Assignee", "Due at"}


def item_for_detail(pk: int) -> ExceptionItem:
    """Raises ExceptionItem.DoesNotExist."""
    return ExceptionItem.objects.select_related(
        "assignee", "team", "legal_entity", "customer", "content_type", "routing_rule"
    ).get(pk=pk)


# -- what went wrong ---------------------------------------------------------------


@dataclass(frozen=True)
class ErrorRow:
    label: str
    field: str
    path: str
    message: str
    expected: str
    actual: str
    has_expected: bool
    # What the next resubmission sends instead (from the item's correction).
    corrected: str = ""
    is_corrected: bool = False


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return as_text(value)


def error_rows(item: ExceptionItem) -> list[ErrorRow]:
    """The item's error details as a person reads them, expected vs actual, with
    the corrected value when the item's correction changes that path."""
    correction = item.correction or {}
    rows = []
    for detail in item.error_details or []:
        path = str(detail.get("path") or "")
        actual = detail.get("actual")
        if actual is None and path:
            received = value_at(item.payload, path)
            actual = None if received is MISSING else received
        is_corrected = bool(path) and path in correction
        rows.append(
            ErrorRow(
                label=str(detail.get("label") or "") or field_label(str(detail.get("field") or "")),
                field=str(detail.get("field") or ""),
                path=path,
                message=str(detail.get("message") or ""),
                expected=_shown(detail.get("expected")),
                actual=_shown(actual),
                has_expected=detail.get("expected") is not None,
                corrected=_shown(correction.get(path)) if is_corrected else "",
                is_corrected=is_corrected,
            )
        )
    return rows


def field_label(name: str) -> str:
    """ "customer_external_id" → "Customer external id"."""
    return capfirst(name.replace("_", " ").strip()) if name else ""


def failing_paths(item: ExceptionItem) -> set[str]:
    return {str(d.get("path")) for d in item.error_details or [] if d.get("path")}


# -- timeline ----------------------------------------------------------------------


@dataclass
class TimelineEntry:
    when: dt.datetime
    kind: str  # "created", "changed", "comment"
    actor: str
    user: str
    source: str
    reason: str = ""
    changes: list[FieldChange] = field(default_factory=list)
    body: str = ""
    order: int = 0


def _correction_changes(item: ExceptionItem) -> dict[int, list[FieldChange]]:
    """history_id → the correction's changes in that version, path by path."""
    rows = item.history.order_by("history_date", "history_id").values_list("history_id", "correction")
    changes: dict[int, list[FieldChange]] = {}
    previous: dict[str, Any] = {}
    for history_id, correction in rows:
        current = correction if isinstance(correction, dict) else {}
        diff = [
            FieldChange(
                f"Correction {path}",
                _short(as_text(previous[path])) if path in previous else "",
                _short(as_text(current[path])) if path in current else "",
            )
            for path in sorted(set(previous) | set(current))
            if previous.get(path, MISSING) != current.get(path, MISSING)
        ]
        if diff:
            changes[history_id] = diff
        previous = current
    return changes


def _short(text: str) -> str:
    return text if len(text) <= TEXT_SHOWN else text[: TEXT_SHOWN - 1] + "…"


def timeline(item: ExceptionItem) -> list[TimelineEntry]:
    """Everything that happened to the item, oldest first: its history (with the
    correction shown path by path) and the comments on it."""
    corrections = _correction_changes(item)
    entries = []
    for entry in object_history(item, include_children=False):
        changes = []
        for change in entry.changes:
            if entry.type == "created" and change.field not in CREATED_FIELDS:
                continue
            if change.field == "Correction":
                changes += corrections.get(entry.history_id, [])
            elif change.field in BULKY_FIELDS:
                changes.append(FieldChange(change.field, "", "updated"))
            else:
                changes.append(FieldChange(change.field, _short(change.old), _short(change.new)))
        entries.append(
            TimelineEntry(
                when=entry.when,
                kind=entry.type,
                actor=entry.actor,
                user=entry.user,
                source=entry.source,
                reason=entry.reason,
                changes=changes,
                order=entry.history_id,
            )
        )
    comments = ExceptionComment.objects.filter(item=item).select_related("author")
    for comment in comments:
        entries.append(
            TimelineEntry(
                when=comment.created_at,
                kind="comment",
                actor=comment.actor,
                user=comment.author.get_username() if comment.author else "",
                source="",
                body=comment.body,
                order=comment.pk,
            )
        )
    entries.sort(key=lambda e: (e.when, e.kind == "comment", e.order))
    return entries


# -- related -----------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    label: str
    url: str = ""


def object_url(content_type_label: str, object_id: int | None) -> str:
    name = OBJECT_PAGES.get(content_type_label)
    if name is None or object_id is None:
        return ""
    try:
        return reverse(name, args=[object_id])
    except NoReverseMatch:
        return ""


def subject_link(item: ExceptionItem) -> Link | None:
    if item.content_type_id is None:
        return None
    label = item.object_label or f"{item.content_type.name} #{item.object_id}"
    ct = item.content_type
    return Link(label, object_url(f"{ct.app_label}.{ct.model}", item.object_id))


def written_object(item: ExceptionItem):
    """The canonical object the source record maps to now (e.g. the invoice a
    resubmission wrote), found by the record's id in its system."""
    object_type = item.step_key.rpartition(".")[2]
    if not (item.source_system and item.external_id and object_type):
        return None
    return find_by_external_id(
        system=item.source_system, object_type=object_type, external_id=item.external_id
    )


def _url(name: str, pk: int | None) -> str:
    if pk is None:
        return ""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


@dataclass
class Related:
    subject: Link | None
    written: Link | None
    correlation_id: Any
    customer: Link | None
    connector: Link | None
    run: Link | None
    record: Link | None
    items: list[ExceptionItem]
    events: list[BusinessEvent]
    documents: list[Link]


def related(item: ExceptionItem) -> Related:
    customer = None
    if item.customer_id is not None:
        customer = Link(str(item.customer), object_url("revops.customer", item.customer_id))
    connector = None
    if item.connector_id is not None:
        connector = Link(
            item.connector_name or f"#{item.connector_id}", _url("connectors:detail", item.connector_id)
        )
    run = (
        Link(f"run {item.sync_run_id}", _url("connectors:run_detail", item.sync_run_id))
        if item.sync_run_id
        else None
    )
    record = (
        Link(
            f"record {item.inbound_record_id}" + (f" ({item.external_id})" if item.external_id else ""),
            _url("connectors:record_detail", item.inbound_record_id),
        )
        if item.inbound_record_id
        else None
    )
    subject = subject_link(item)
    obj = written_object(item)
    written = None
    if obj is not None:
        written = Link(f"{capfirst(obj._meta.verbose_name)} {obj}", object_url(obj._meta.label_lower, obj.pk))
    if subject is not None and written is not None and written.url == subject.url:
        written = None
    # The flow: the item's own correlation id, else that of the object written.
    correlation_id = item.correlation_id or getattr(obj, "correlation_id", None)
    items: list[ExceptionItem] = []
    events: list[BusinessEvent] = []
    documents: list[Link] = []
    if correlation_id is not None:
        items = list(
            ExceptionItem.objects.filter(correlation_id=correlation_id)
            .exclude(pk=item.pk)
            .order_by("-last_seen_at", "-id")[:RELATED_ITEMS_SHOWN]
        )
        events = events_for_correlation(correlation_id)
        shown = {(item.content_type_id, item.object_id)}
        if obj is not None:
            shown.add((ContentType.objects.get_for_model(obj).pk, obj.pk))
        documents = _documents(events, exclude=shown)
    return Related(
        subject=subject,
        written=written,
        correlation_id=correlation_id,
        customer=customer,
        connector=connector,
        run=run,
        record=record,
        items=items,
        events=events,
        documents=documents,
    )


def _documents(events: list[BusinessEvent], *, exclude: set[tuple]) -> list[Link]:
    """The canonical objects the events name, once each, in order of first mention
    (those already linked on the page left out)."""
    seen: set[tuple[int, int]] = set()
    links = []
    for event in events:
        key = (event.subject_type_id, event.subject_id)
        if key in seen or key in exclude:
            continue
        seen.add(key)
        ct = ContentType.objects.get_for_id(event.subject_type_id)
        links.append(Link(event.subject_label, object_url(f"{ct.app_label}.{ct.model}", event.subject_id)))
        if len(links) >= DOCUMENTS_SHOWN:
            break
    return links


# -- due state ---------------------------------------------------------------------


def due_state(item: ExceptionItem, now: dt.datetime | None = None) -> str:
    """ "overdue", "due_soon" (within a day), "on_track", or "" (no SLA / closed)."""
    if item.due_at is None or not item.is_open:
        return ""
    now = now or timezone.now()
    if item.due_at < now:
        return "overdue"
    if item.due_at - now <= dt.timedelta(hours=24):
        return "due_soon"
    return "on_track"


def payload_json(item: ExceptionItem) -> str:
    return json.dumps(item.payload, indent=2, ensure_ascii=False, sort_keys=False)
