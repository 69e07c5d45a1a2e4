"""Reads for the connector pages: health at a glance, freshness against the
schedule, error rates, next runs, run history and what became of each record.

Everything a page shows about many connectors is fetched in a fixed number of
queries, whatever the number of connectors or runs.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_q.models import Schedule

from connectors import cron
from connectors.base import ConnectorKind, get_kind
from connectors.crypto import SecretDecryptionError, mask
from connectors.models import ACTIVE_RUN_STATUSES, Connector, InboundRecord, SyncCursor, SyncRun

ERROR_RATE_RUNS = 10
STALE_AFTER_GAPS = 2  # stale when the last success is older than this many schedule gaps
# Failing first, then retrying; the rest by name.
HEALTH_ORDER = {
    Connector.Health.FAILING: 0,
    Connector.Health.DEGRADED: 1,
    Connector.Health.NEVER_RUN: 2,
    Connector.Health.HEALTHY: 2,
}
# Canonical objects with a page of their own: model name → URL name.
OBJECT_PAGES = {
    "customer": "customer_detail",
    "contract": "contract_detail",
    "invoice": "invoice_detail",
    "payment": "payment_detail",
}
_LABEL_FIELDS = ("number", "sku", "name")


def kind_of(connector: Connector) -> type[ConnectorKind] | None:
    """The connector's kind, or None when no installed kind has its key."""
    try:
        return get_kind(connector.kind)
    except LookupError:
        return None


@dataclass(frozen=True)
class KindInfo:
    """What the pages show of a kind (templates would call a class, so not the class)."""

    key: str
    label: str
    streams: tuple[str, ...]
    supports_webhooks: bool
    default_base_url: str


def kind_info(kind: type[ConnectorKind]) -> KindInfo:
    return KindInfo(kind.key, kind.label, tuple(kind.streams), kind.supports_webhooks, kind.default_base_url)


def kind_label(connector: Connector) -> str:
    kind = kind_of(connector)
    return kind.label if kind else f"{connector.kind} (kind not installed)"


# -- freshness -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    state: str  # "fresh", "stale" or "na"
    label: str
    detail: str


def _minutes(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:g} h" if hours == int(hours) else f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def schedule_gap(connector: Connector, *, now: dt.datetime) -> dt.timedelta | None:
    """How long the schedule waits between runs (the longest wait, for cron); None
    for manual connectors and unreadable cron expressions."""
    if connector.schedule_type == Connector.ScheduleType.INTERVAL and connector.interval_minutes:
        return dt.timedelta(minutes=connector.interval_minutes)
    if connector.schedule_type == Connector.ScheduleType.CRON:
        return cron.longest_gap(connector.cron, timezone.localtime(now))
    return None


def freshness(connector: Connector, *, now: dt.datetime) -> Freshness:
    """Fresh while the last success is within STALE_AFTER_GAPS schedule gaps. A
    connector that never succeeded is measured from when it was created."""
    if connector.schedule_type == Connector.ScheduleType.MANUAL:
        return Freshness("na", "n/a", "Manual only: no schedule to keep up with.")
    if not connector.enabled:
        return Freshness("na", "n/a", "Disabled: the schedule does not run.")
    gap = schedule_gap(connector, now=now)
    if gap is None:
        return Freshness("na", "n/a", f"Cannot tell when {connector.cron!r} runs.")
    limit = gap * STALE_AFTER_GAPS
    since = connector.last_success_at or connector.created_at
    age = now - since
    every = (
        f"runs every {_minutes(gap)}"
        if connector.schedule_type == "interval"
        else f"waits up to {_minutes(gap)} between runs"
    )
    what = "last success" if connector.last_success_at else "no success yet; created"
    detail = f"{what} {_minutes(max(age, dt.timedelta(0)))} ago; the schedule {every}, stale after {_minutes(limit)}."
    if age > limit:
        return Freshness("stale", "Stale", detail[0].upper() + detail[1:])
    return Freshness("fresh", "Fresh", detail[0].upper() + detail[1:])


# -- error rates, next and active runs -----------------------------------------------------------------


@dataclass(frozen=True)
class ErrorRate:
    business_errors: int
    read: int
    runs: int

    @property
    def percent(self) -> float | None:
        return None if not self.read else 100.0 * self.business_errors / self.read

    @property
    def label(self) -> str:
        percent = self.percent
        if percent is None:
            return "n/a"
        if 0 < percent < 0.1:
            return "<0.1%"
        return f"{percent:.1f}%"

    @property
    def detail(self) -> str:
        if not self.runs:
            return "No runs yet."
        return (
            f"{self.business_errors:,} business error{'s' if self.business_errors != 1 else ''} in "
            f"{self.read:,} record{'s' if self.read != 1 else ''} read "
            f"over the last {self.runs} run{'s' if self.runs != 1 else ''}."
        )


def error_rates(connector_ids: list[int], *, runs: int = ERROR_RATE_RUNS) -> dict[int, ErrorRate]:
    """Business errors / records read over each connector's last `runs` runs (one query)."""
    recent = (
        SyncRun.objects.filter(connector_id__in=connector_ids)
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("connector_id")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .filter(position__lte=runs)
        .values_list("connector_id", "read", "business_errors")
    )
    totals: dict[int, list[int]] = {pk: [0, 0, 0] for pk in connector_ids}
    for connector_id, read, errors in recent:
        total = totals[connector_id]
        total[0] += errors
        total[1] += read
        total[2] += 1
    return {pk: ErrorRate(*total) for pk, total in totals.items()}


def next_runs(connectors: list[Connector]) -> dict[int, dt.datetime | None]:
    """When each connector's Django-Q2 schedule fires next (one query)."""
    scheduled = {c.pk: c.q_schedule_id for c in connectors if c.q_schedule_id and c.enabled}
    found = dict(Schedule.objects.filter(pk__in=scheduled.values()).values_list("pk", "next_run"))
    return {c.pk: found.get(scheduled[c.pk]) if c.pk in scheduled else None for c in connectors}


def active_runs(connector_ids: list[int]) -> dict[int, SyncRun]:
    """The queued, running or retrying run of each connector (at most one each)."""
    runs = SyncRun.objects.filter(connector_id__in=connector_ids, status__in=ACTIVE_RUN_STATUSES)
    return {run.connector_id: run for run in runs}


# -- connectors ------------------------------------------------------------------------------------------


@dataclass
class ConnectorRow:
    connector: Connector
    kind_label: str
    freshness: Freshness
    error_rate: ErrorRate
    next_run: dt.datetime | None
    active_run: SyncRun | None


def _rows(connectors: list[Connector], *, now: dt.datetime) -> list[ConnectorRow]:
    ids = [c.pk for c in connectors]
    rates, nexts, active = error_rates(ids), next_runs(connectors), active_runs(ids)
    return [
        ConnectorRow(
            connector=c,
            kind_label=kind_label(c),
            freshness=freshness(c, now=now),
            error_rate=rates[c.pk],
            next_run=nexts[c.pk],
            active_run=active.get(c.pk),
        )
        for c in connectors
    ]


def connector_list(*, now: dt.datetime | None = None) -> list[ConnectorRow]:
    """Every connector with its health at a glance: failing first, then retrying."""
    now = now or timezone.now()
    connectors = list(Connector.objects.select_related("legal_entity").order_by("name"))
    rows = _rows(connectors, now=now)
    rows.sort(key=lambda row: (HEALTH_ORDER.get(row.connector.health, 2), row.connector.name))
    return rows


@dataclass(frozen=True)
class SecretSummary:
    label: str
    state: str  # "sk_…abcd", "not set", or why it cannot be read


@dataclass
class ConnectorDetail:
    row: ConnectorRow
    kind: KindInfo | None
    credentials: list[SecretSummary]
    webhook_secret: SecretSummary | None
    cursors: list[SyncCursor]
    streams: list[str]

    @property
    def connector(self) -> Connector:
        return self.row.connector


def credential_summary(connector: Connector, kind: type[ConnectorKind] | None) -> list[SecretSummary]:
    """Each credential the kind asks for (and any other stored key), masked."""
    try:
        stored = dict((connector.credentials.reveal() if connector.credentials is not None else None) or {})
    except SecretDecryptionError:
        return [SecretSummary("Credentials", mask(connector.credentials))]
    fields = dict(kind.credential_fields) if kind else {}
    fields.update({key: key for key in sorted(stored) if key not in fields})
    return [SecretSummary(label, mask(stored.get(name)) or "not set") for name, label in fields.items()]


def webhook_secret_summary(connector: Connector, kind: type[ConnectorKind] | None) -> SecretSummary | None:
    masked = mask(connector.webhook_secret)
    if not (kind and kind.supports_webhooks) and not masked:
        return None
    return SecretSummary("Webhook signing secret", masked or "not set")


def connector_detail(pk: int, *, now: dt.datetime | None = None) -> ConnectorDetail:
    """Raises Connector.DoesNotExist."""
    now = now or timezone.now()
    connector = Connector.objects.select_related("legal_entity").get(pk=pk)
    kind = kind_of(connector)
    streams = [s for s in kind.streams if s in set(connector.object_types or kind.streams)] if kind else []
    return ConnectorDetail(
        row=_rows([connector], now=now)[0],
        kind=kind_info(kind) if kind else None,
        credentials=credential_summary(connector, kind),
        webhook_secret=webhook_secret_summary(connector, kind),
        cursors=list(connector.cursors.order_by("stream")),
        streams=streams,
    )


def webhook_url(connector: Connector) -> str | None:
    """The path to give the vendor for webhooks, when the kind takes them and the
    webhook endpoint is installed."""
    kind = kind_of(connector)
    if kind is None or not kind.supports_webhooks:
        return None
    try:
        return reverse("webhook", args=[connector.name])
    except NoReverseMatch:
        return None


# -- runs ------------------------------------------------------------------------------------------------


def run_list(connector: Connector) -> QuerySet[SyncRun]:
    """The connector's runs, newest first (index sync_run_connector_recent)."""
    return SyncRun.objects.filter(connector=connector).order_by("-created_at", "-id")


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False)


@dataclass
class RunDetail:
    run: SyncRun
    accounted: int
    outcome_counts: dict[str, int]
    total_records: int
    replays: list[SyncRun] = field(default_factory=list)

    @property
    def adds_up(self) -> bool:
        return self.run.read == self.accounted

    @property
    def cursor_before(self) -> str:
        return pretty_json(self.run.cursor_before) if self.run.cursor_before else ""

    @property
    def cursor_after(self) -> str:
        return pretty_json(self.run.cursor_after) if self.run.cursor_after else ""


def run_records(run: SyncRun, *, outcome: str = "") -> QuerySet[InboundRecord]:
    """The records this run read first or last applied, in the order they were read."""
    records = InboundRecord.objects.filter(Q(run=run) | Q(last_run=run))
    if outcome:
        records = records.filter(outcome=outcome)
    return records.select_related("content_type").order_by("id")


def run_detail(pk: int) -> RunDetail:
    """Raises SyncRun.DoesNotExist."""
    run = SyncRun.objects.select_related("connector__legal_entity", "replay_of").get(pk=pk)
    counts = dict(
        run_records(run).order_by().values("outcome").annotate(n=Count("id")).values_list("outcome", "n")
    )
    accounted = run.created + run.updated + run.unchanged + run.skipped + run.business_errors
    return RunDetail(
        run=run,
        accounted=accounted,
        outcome_counts={key: counts.get(key, 0) for key, _ in InboundRecord.Outcome.choices},
        total_records=sum(counts.values()),
        replays=list(run.replays.order_by("-created_at", "-id")[:20]),
    )


# -- records ---------------------------------------------------------------------------------------------


@dataclass
class RecordRow:
    record: InboundRecord
    object_label: str = ""
    object_url: str = ""
    exception_label: str = ""
    exception_url: str = ""


def _exception_url(item_id: int) -> str:
    try:
        return reverse("exceptions_queue:detail", args=[item_id])
    except NoReverseMatch:
        return ""


def describe_records(records: list[InboundRecord]) -> list[RecordRow]:
    """Rows with a label and link for the canonical object each record wrote and
    the exception item it opened: one query per kind of object on the page."""
    wanted: dict[Any, set[int]] = {}
    for record in records:
        if record.content_type_id and record.object_id:
            wanted.setdefault(record.content_type, set()).add(record.object_id)
    labels: dict[tuple[int, int], str] = {}
    for content_type, ids in wanted.items():
        model = content_type.model_class()
        if model is None:
            continue
        names = {f.name for f in model._meta.get_fields()}
        label_field = next((name for name in _LABEL_FIELDS if name in names), None)
        if label_field:
            for pk, label in model._default_manager.filter(pk__in=ids).values_list("pk", label_field):
                labels[(content_type.pk, pk)] = str(label)
    rows = []
    for record in records:
        row = RecordRow(record)
        if record.content_type_id and record.object_id:
            content_type = record.content_type
            name = content_type.model
            found = labels.get((content_type.pk, record.object_id))
            row.object_label = f"{name} {found}" if found else f"{name} #{record.object_id}"
            if content_type.app_label == "revops" and name in OBJECT_PAGES and found is not None:
                row.object_url = reverse(OBJECT_PAGES[name], args=[record.object_id])
        if record.exception_item_id:
            row.exception_label = f"#{record.exception_item_id}"
            row.exception_url = _exception_url(record.exception_item_id)
        rows.append(row)
    return rows


@dataclass
class RecordDetail:
    row: RecordRow
    payload: str
    versions: list[InboundRecord]

    @property
    def record(self) -> InboundRecord:
        return self.row.record


def record_detail(pk: int) -> RecordDetail:
    """Raises InboundRecord.DoesNotExist."""
    record = InboundRecord.objects.select_related(
        "connector__legal_entity", "content_type", "run", "last_run"
    ).get(pk=pk)
    versions = list(
        InboundRecord.objects.filter(
            connector_id=record.connector_id, object_type=record.object_type, external_id=record.external_id
        )
        .exclude(pk=record.pk)
        .order_by("-received_at", "-id")[:20]
    )
    return RecordDetail(
        row=describe_records([record])[0], payload=pretty_json(record.payload), versions=versions
    )
