"""A worker killed in the middle of a sync loses and duplicates nothing.

A real `manage.py sync_connector` process syncs from localstripe two records a
page; it is killed with SIGKILL after a few pages are committed. The run is then
resumed the way the next delivery of its task resumes it, and the canonical data
must hold every source object exactly once.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from connectors.models import Connector, SyncRun
from connectors.tasks import run_sync
from revops.models import Customer, ExternalRef
from tests import factories as f
from tests.connectors.stripe.conftest import TEST_KEY
from tests.connectors.stripe.test_client_localstripe import post

ROOT = Path(__file__).resolve().parents[3]
CUSTOMERS = 24


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_killing_the_worker_mid_sync_loses_and_duplicates_nothing(localstripe, stripe_api, settings):
    settings.REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    for i in range(CUSTOMERS):
        post(stripe_api, "/v1/customers", name=f"Kill Test {i:02d} Ltd", email=f"ap{i}@kill.example")
    Connector.objects.create(
        name="stripe-kill",
        kind="stripe",
        legal_entity=f.LegalEntityFactory(),
        base_url=localstripe,
        credentials={"api_key": TEST_KEY},
        object_types=["customer"],
    )
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REVOPS_SYNC_PAGE_SIZE": "2",
        "REVOPS_SYNC_BATCH_RECORDS": "2",  # a transaction per page, so it can be killed between them
        "REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS": "127.0.0.1",
    }
    worker = subprocess.Popen(  # noqa: S603 - the project's own command
        [sys.executable, "manage.py", "sync_connector", "stripe-kill", "--full"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        run = None
        while time.monotonic() < deadline:
            run = SyncRun.objects.filter(connector__name="stripe-kill").first()
            if run is not None and run.pages >= 3:
                break
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.stdout.close()
        worker.stderr.close()
    run.refresh_from_db()
    assert run.status == "running", "the worker finished before it could be killed; make the sync longer"
    assert 6 <= run.read < CUSTOMERS
    committed = Customer.objects.count()
    assert committed == run.created  # nothing half-written: counts and rows moved together

    # The next delivery of the task comes after the task timeout has passed.
    SyncRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(seconds=settings.Q_TIMEOUT + 1)
    )
    outcome = run_sync(run.pk)
    run.refresh_from_db()
    assert outcome == "succeeded", run.error_message
    assert Customer.objects.count() == CUSTOMERS
    assert ExternalRef.objects.filter(system="stripe", object_type="customer").count() == CUSTOMERS
    assert run.created == CUSTOMERS
    assert run.read == run.created + run.updated + run.unchanged + run.skipped + run.business_errors
    for customer in Customer.objects.all():
        assert customer.history.filter(history_type="+").count() == 1
