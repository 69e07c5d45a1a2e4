"""An exception item factory for the queue's read tests: rows made directly
(fast); tests of behaviour open items through the services."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from exceptions_queue.codes import CODES
from exceptions_queue.models import CLOSED_STATUSES, ExceptionItem


class ExceptionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExceptionItem

    code = "TAX_MISMATCH"
    severity = factory.LazyAttribute(lambda o: CODES[o.code].severity)
    status = ExceptionItem.Status.NEW
    title = factory.Sequence(lambda n: f"Problem {n}")
    dedupe_key = factory.Sequence(lambda n: f"TAX_MISMATCH|revops.invoice:{n}|")
    step_key = "stripe.invoice"
    first_seen_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    last_seen_at = factory.LazyAttribute(lambda o: o.first_seen_at)
    resolved_at = factory.LazyAttribute(lambda o: timezone.now() if o.status in CLOSED_STATUSES else None)
    dismissed_reason = factory.LazyAttribute(
        lambda o: "Not a problem" if o.status == ExceptionItem.Status.DISMISSED else ""
    )
