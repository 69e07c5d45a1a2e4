"""Business SLAs of the quote-to-cash flow, measured from its business events.

| SLA                | from                                     | to                          |
|--------------------|------------------------------------------|-----------------------------|
| order activation   | deal won (else the contract's creation)  | contract activated          |
| invoice generation | end of the invoice's billing period      | invoice issued              |
| payment posting    | payment received                         | payment applied             |
| ERP sync           | invoice issued                           | invoice posted to the ERP   |

Limits are hours from settings (`REVOPS_SLA_*_HOURS`). A step breaches its SLA when
it was done later than the limit, or is still pending past it. The dashboard
counts, per SLA, the flows whose starting event is in the last 30 days and that
breach (`dashboard_sla_counts`, kept five minutes); each count links to the list
of them (`sla_breaches`).

Every count starts from business events of one type in a time window and looks
up the ending event of the same subject (index `event_subject`), so it reads the
window's events, not the whole table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db.models import (
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast
from django.utils import timezone

from revops.models import BusinessEvent, Contract, Invoice, Payment
from revops.selectors.flow_sources import erp_backlog

WINDOW_DAYS = 30
COUNT_CAP = 1000


@dataclass(frozen=True)
class Sla:
    key: str
    label: str
    setting: str
    starts: str
    ends: str

    @property
    def hours(self) -> int:
        return getattr(settings, self.setting)

    @property
    def limit(self) -> dt.timedelta:
        return dt.timedelta(hours=self.hours)


ORDER_ACTIVATION = Sla(
    "order_activation",
    "Order activation",
    "REVOPS_SLA_ORDER_ACTIVATION_HOURS",
    "deal won",
    "contract active",
)
INVOICE_GENERATION = Sla(
    "invoice_generation",
    "Invoice generation",
    "REVOPS_SLA_INVOICE_GENERATION_HOURS",
    "billing period ended",
    "invoice issued",
)
PAYMENT_POSTING = Sla(
    "payment_posting",
    "Payment posting",
    "REVOPS_SLA_PAYMENT_POSTING_HOURS",
    "payment received",
    "payment applied",
)
ERP_SYNC = Sla("erp_sync", "ERP sync", "REVOPS_SLA_ERP_SYNC_HOURS", "invoice issued", "posted to the ERP")
SLAS = {sla.key: sla for sla in (ORDER_ACTIVATION, INVOICE_GENERATION, PAYMENT_POSTING, ERP_SYNC)}
PAYMENT_HANDLED = ("payment.applied", "payment.reversed")
# The events that end each SLA's clock.
ENDS = {
    "order_activation": ("contract.activated",),
    "invoice_generation": ("invoice.issued",),
    "payment_posting": PAYMENT_HANDLED,
    "erp_sync": ("revenue.handed_off",),
}


@dataclass(frozen=True)
class SlaCheck:
    """One SLA measured on one step: from `started_at` to `done_at` (None: pending)."""

    sla: Sla
    started_at: dt.datetime
    done_at: dt.datetime | None
    now: dt.datetime

    @property
    def elapsed(self) -> dt.timedelta:
        return (self.done_at or self.now) - self.started_at

    @property
    def breached(self) -> bool:
        return self.elapsed > self.sla.limit

    @property
    def due_at(self) -> dt.datetime:
        return self.started_at + self.sla.limit


def period_ended_at(period_end: dt.date) -> dt.datetime:
    """The moment a billing period whose last day is `period_end` is over (UTC)."""
    return dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


# -- the dashboard's counts and the list behind each ------------------------------------------------


def _first(*event_types: str) -> Subquery:
    """When the subject of the outer event first had an event of one of `event_types`."""
    return Subquery(
        BusinessEvent.objects.filter(
            subject_type=OuterRef("subject_type"), subject_id=OuterRef("subject_id"), type__in=event_types
        )
        .order_by("occurred_at", "id")
        .values("occurred_at")[:1]
    )


def _same_subject(*event_types: str) -> QuerySet[BusinessEvent]:
    return BusinessEvent.objects.filter(
        subject_type=OuterRef("subject_type"), subject_id=OuterRef("subject_id"), type__in=event_types
    )


def _window(since: dt.datetime, event_types: list[str], model) -> QuerySet[BusinessEvent]:
    return BusinessEvent.objects.filter(
        type__in=event_types,
        occurred_at__gte=since,
        subject_type=ContentType.objects.get_for_model(model),
    )


def _missed(starts: QuerySet, limit: dt.timedelta, now: dt.datetime, *end_types: str) -> QuerySet:
    """Starts whose end did not come within `limit`: done late or still pending past it.
    One anti-join on the subject's events (index event_subject) rather than looking up
    when each end came."""
    in_time = _same_subject(*end_types).filter(
        occurred_at__lte=ExpressionWrapper(OuterRef("occurred_at") + limit, output_field=DateTimeField())
    )
    return starts.filter(occurred_at__lt=now - limit).exclude(Exists(in_time))


def _breaching(sla: Sla, *, now: dt.datetime, since: dt.datetime) -> QuerySet[BusinessEvent]:
    """The starting events (in the window) of the flows that breach `sla`."""
    limit = sla.limit
    if sla is ORDER_ACTIVATION:
        starts = _window(since, ["deal.won", "contract.created"], Contract).exclude(
            Q(type="contract.created") & Exists(_same_subject("deal.won"))
        )
        return _missed(starts, limit, now, "contract.activated")
    if sla is PAYMENT_POSTING:
        # A payment reversed in time was dealt with, as one applied in time.
        return _missed(_window(since, ["payment.received"], Payment), limit, now, *PAYMENT_HANDLED)
    if sla is INVOICE_GENERATION:
        period_end = Invoice.objects.filter(pk=OuterRef("subject_id")).values("period_end")[:1]
        due_at = ExpressionWrapper(
            Cast(Subquery(period_end), DateTimeField()) + dt.timedelta(days=1) + limit,
            output_field=DateTimeField(),
        )
        # An invoice without a billing period has no due time and is never counted.
        return (
            _window(since, ["invoice.issued"], Invoice)
            .alias(due_at=due_at)
            .filter(occurred_at__gt=F("due_at"))
        )
    if sla is ERP_SYNC:
        late = _missed(_window(since, ["invoice.issued"], Invoice), limit, now, "revenue.handed_off")
        # Not handed off in time: counted once handed off late, or while its posting waits
        # (an invoice no ERP connector posts is not waiting for anything).
        waiting = erp_backlog(since, now - limit)
        return late.filter(Exists(_same_subject("revenue.handed_off")) | Q(subject_id__in=waiting))
    raise ValueError(f"Unknown SLA {sla.key}")


@dataclass(frozen=True)
class SlaCount:
    sla: Sla
    count: int
    capped: bool


def sla_breach_counts(*, now: dt.datetime | None = None) -> list[SlaCount]:
    """Per SLA, how many flows started in the last 30 days breach it (capped at 1,000)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=WINDOW_DAYS)
    counts = []
    for sla in SLAS.values():
        found = _breaching(sla, now=now, since=since).order_by()[: COUNT_CAP + 1].count()
        counts.append(SlaCount(sla, min(found, COUNT_CAP), found > COUNT_CAP))
    return counts


COUNTS_CACHE_KEY = "revops:dashboard:sla-counts"
COUNTS_MAX_AGE = 300


def dashboard_sla_counts(*, max_age: int = COUNTS_MAX_AGE) -> tuple[list[SlaCount], dt.datetime]:
    """The counts and when they were made, kept for `max_age` seconds.

    Counting checks every flow started in the 30 days (one index probe each: about a
    third of a second per SLA at a million business events), so, like the money
    totals, the dashboard shows counts up to five minutes old and says how old; the
    breach lists always count afresh. Changed limits are counted afresh at once."""
    key = f"{COUNTS_CACHE_KEY}:" + ":".join(str(sla.hours) for sla in SLAS.values())
    cached = cache.get(key) if max_age else None
    if cached is not None:
        return cached
    now = timezone.now()
    result = (sla_breach_counts(now=now), now)
    if max_age:
        cache.set(key, result, max_age)
    return result


@dataclass(frozen=True)
class Breach:
    sla: Sla
    subject_label: str
    subject_type: str  # model name: contract, invoice, payment
    subject_id: int
    correlation_id: object
    started_at: dt.datetime
    done_at: dt.datetime | None
    due_at: dt.datetime
    now: dt.datetime

    @property
    def elapsed(self) -> dt.timedelta:
        return (self.done_at or self.now) - self.started_at

    @property
    def over_by(self) -> dt.timedelta:
        return self.elapsed - self.sla.limit


def sla_breaches(sla: Sla, *, now: dt.datetime | None = None) -> QuerySet[BusinessEvent]:
    """The starting events of the flows breaching `sla`, most recent first (to paginate)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=WINDOW_DAYS)
    qs = _breaching(sla, now=now, since=since)
    if sla is INVOICE_GENERATION:
        period_end = Invoice.objects.filter(pk=OuterRef("subject_id")).values("period_end")[:1]
        qs = qs.annotate(done_at=F("occurred_at"), period_end=Subquery(period_end))
    else:
        qs = qs.annotate(done_at=_first(*ENDS[sla.key]))
    return qs.select_related("subject_type").order_by("-occurred_at", "-id")


def breach_rows(sla: Sla, events: list[BusinessEvent], *, now: dt.datetime | None = None) -> list[Breach]:
    """One page of `sla_breaches` as rows: each names the flow it belongs to today
    (a payment joins its invoice's flow when it is applied)."""
    now = now or timezone.now()
    payment_flows = dict(
        Payment.objects.filter(
            pk__in=[e.subject_id for e in events if e.subject_type.model == "payment"]
        ).values_list("pk", "correlation_id")
    )
    rows = []
    for event in events:
        model = event.subject_type.model
        if sla is INVOICE_GENERATION:
            started, done = period_ended_at(event.period_end), event.occurred_at
        else:
            started, done = event.occurred_at, event.done_at
        rows.append(
            Breach(
                sla=sla,
                subject_label=event.subject_label,
                subject_type=model,
                subject_id=event.subject_id,
                correlation_id=payment_flows.get(event.subject_id)
                if model == "payment"
                else event.correlation_id,
                started_at=started,
                done_at=done,
                due_at=started + sla.limit,
                now=now,
            )
        )
    return rows
