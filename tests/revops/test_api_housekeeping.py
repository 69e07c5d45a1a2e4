"""Idempotency keys are forgotten after their retention by the daily task."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_q.models import Schedule

from revops.api.tasks import forget_idempotency_keys
from revops.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def _record(user, key: str, age: dt.timedelta) -> IdempotencyRecord:
    record = IdempotencyRecord.objects.create(
        user=user, key=key, request_digest="c" * 64, method="POST", path="/api/v1/usage/", status_code=201
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)
    return record


def test_it_forgets_keys_past_the_retention_and_keeps_recent_ones(analyst, settings):
    settings.REVOPS_API_IDEMPOTENCY_HOURS = 24
    _record(analyst, "old", dt.timedelta(hours=25))
    _record(analyst, "new", dt.timedelta(hours=23))
    assert forget_idempotency_keys() == 1
    assert forget_idempotency_keys() == 0
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_the_migrations_schedule_it_daily():
    schedule = Schedule.objects.get(func="revops.api.tasks.forget_idempotency_keys")
    assert (schedule.schedule_type, schedule.repeats) == ("D", -1)
