import datetime as dt

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from connectors.models import Connector, SyncRun, WebhookDelivery
from connectors.tasks import resume_stale_runs
from connectors.webhooks import forget_old_deliveries
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def connector():
    return Connector.objects.create(name="mem", kind="memory", legal_entity=f.LegalEntityFactory())


def test_the_migrations_schedule_the_housekeeping():
    funcs = set(Schedule.objects.values_list("func", flat=True))
    assert {"connectors.tasks.resume_stale_runs", "connectors.webhooks.forget_old_deliveries"} <= funcs


def test_only_runs_whose_worker_stopped_are_handed_back(connector, settings):
    old = timezone.now() - dt.timedelta(seconds=settings.Q_TIMEOUT + 5)
    stale = SyncRun.objects.create(connector=connector, trigger="manual", status="running", heartbeat_at=old)
    other = Connector.objects.create(name="mem2", kind="memory", legal_entity=connector.legal_entity)
    SyncRun.objects.create(connector=other, trigger="manual", status="running", heartbeat_at=timezone.now())
    assert resume_stale_runs() == 1
    assert OrmQ.objects.count() == 1
    assert OrmQ.objects.get().task["args"] == (stale.pk,)


def test_webhook_event_ids_are_kept_for_the_retention_period(connector, settings):
    settings.REVOPS_WEBHOOK_RETENTION_DAYS = 30

    def delivery(event_id, days_ago, status="processed"):
        row = WebhookDelivery.objects.create(
            connector=connector, event_id=event_id, payload={}, status=status
        )
        WebhookDelivery.objects.filter(pk=row.pk).update(
            received_at=timezone.now() - dt.timedelta(days=days_ago)
        )

    delivery("evt_recent", 29)
    delivery("evt_old", 31)
    delivery("evt_old_unprocessed", 40, status="received")
    assert forget_old_deliveries() == 1
    assert set(WebhookDelivery.objects.values_list("event_id", flat=True)) == {
        "evt_recent",
        "evt_old_unprocessed",
    }
