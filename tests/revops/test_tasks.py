import datetime as dt

import pytest
from django.utils import timezone
from django_q.models import Schedule

from revops.models import Contract
from revops.tasks import EXPIRE_CONTRACTS_SCHEDULE, expire_contracts
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_expiry_job_is_scheduled_daily_by_the_migrations():
    schedule = Schedule.objects.get(name=EXPIRE_CONTRACTS_SCHEDULE)
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "revops.tasks.expire_contracts",
        "D",
        -1,
    )


def test_the_expiry_job_expires_only_ended_active_contracts_and_is_idempotent():
    today = timezone.localdate()
    ended = f.ContractFactory(
        status="active",
        activated_at=timezone.now(),
        start_date=today - dt.timedelta(days=400),
        end_date=today - dt.timedelta(days=1),
    )
    running = f.ContractFactory(
        status="active", activated_at=timezone.now(), start_date=today, end_date=today + dt.timedelta(days=30)
    )
    assert expire_contracts() == 1
    assert expire_contracts() == 0
    assert Contract.objects.get(pk=ended.pk).status == "expired"
    assert Contract.objects.get(pk=running.pk).status == "active"
