"""The sync engine against an in-memory source: accounting, idempotency,
ordering, error classes, resumption and replay."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.models import Schedule

from connectors import engine
from connectors.errors import ConfigurationError, TransientError
from connectors.models import Connector, InboundRecord, SyncCursor, SyncRun
from connectors.resubmit import register_kind_handlers
from exceptions_queue.models import ExceptionItem
from exceptions_queue.services import exception_resubmit
from revops.actors import Actor
from revops.models import BusinessEvent, Customer, ExternalRef, Invoice
from tests import factories as f
from tests.connectors.memory_kind import MemoryKind

pytestmark = pytest.mark.django_db

register_kind_handlers(MemoryKind)


class Killed(BaseException):
    """Stands for the worker process dying: nothing in the engine catches it."""


@pytest.fixture
def connector():
    return Connector.objects.create(name="mem", kind="memory", legal_entity=f.LegalEntityFactory())


def _customers(n, start=1):
    return [
        {"id": f"cus_{i}", "name": f"Customer {i}", "currency": "USD", "version": "001"}
        for i in range(start, start + n)
    ]


def _run(connector, **kwargs):
    run = engine.run_create(connector=connector, trigger="manual", **kwargs)
    return engine.execute_run(run.pk)


def _assert_counts_add_up(run):
    assert run.read == run.created + run.updated + run.unchanged + run.skipped + run.business_errors


def test_it_syncs_every_record_and_accounts_for_each(connector, memory_source):
    memory_source.source["customer"] = _customers(5)
    memory_source.source["invoice"] = [
        {
            "id": "in_1",
            "number": "INV-1",
            "customer": "cus_1",
            "currency": "USD",
            "total": "108.00",
            "tax": "8.00",
        }
    ]
    run = _run(connector)
    assert run.status == "succeeded"
    assert (run.read, run.created, run.pages) == (6, 6, 4)
    _assert_counts_add_up(run)
    assert Customer.objects.count() == 5 and Invoice.objects.get().total == Decimal("108.00")
    history = Customer.objects.get(number="cus_1").history.first()
    assert history.history_source == "memory"
    assert history.history_actor == f"connector mem, run {run.pk}"
    assert SyncCursor.objects.get(connector=connector, stream="customer").value == {"offset": 5}
    assert ExternalRef.objects.filter(system="memory", object_type="customer").count() == 5
    connector.refresh_from_db()
    assert connector.health == "healthy" and connector.last_success_at is not None


def test_the_same_records_again_change_nothing(connector, memory_source):
    memory_source.source["customer"] = _customers(3)
    _run(connector)
    history_rows = Customer.history.count()
    again = _run(connector, full=True)
    assert (again.read, again.unchanged, again.created) == (3, 3, 0)
    assert Customer.objects.count() == 3 and Customer.history.count() == history_rows
    assert InboundRecord.objects.count() == 3


def test_an_incremental_run_starts_from_the_stored_cursor(connector, memory_source):
    memory_source.source["customer"] = _customers(3)
    _run(connector)
    memory_source.source["customer"] += _customers(2, start=4)
    run = _run(connector)
    assert (run.read, run.created) == (2, 2)
    assert ("customer", {"offset": 3}) in memory_source.fetches


def test_a_business_error_opens_an_item_and_the_run_goes_on(connector, memory_source):
    memory_source.source["customer"] = _customers(1)
    memory_source.source["invoice"] = [
        {"id": "in_1", "number": "INV-1", "customer": "cus_404", "currency": "USD", "total": "10"},
        {"id": "in_2", "number": "INV-2", "customer": "cus_1", "currency": "USD", "total": "20"},
    ]
    run = _run(connector)
    assert run.status == "succeeded"
    assert (run.read, run.created, run.business_errors) == (3, 2, 1)
    item = ExceptionItem.objects.get()
    assert item.code == "UNKNOWN_CUSTOMER" and item.step_key == "memory.invoice"
    assert item.sync_run_id == run.pk and item.connector_name == "mem"
    assert item.inbound_record_id == InboundRecord.objects.get(external_id="in_1").pk
    assert "cus_404" in item.message


def test_a_repeat_bumps_the_item_and_a_later_fix_resolves_it(connector, memory_source):
    memory_source.source["invoice"] = [
        {"id": "in_1", "number": "INV-1", "customer": "cus_9", "currency": "USD", "total": "10"}
    ]
    _run(connector)
    _run(connector, full=True)
    item = ExceptionItem.objects.get()
    assert item.occurrences == 2 and item.status == "new"
    memory_source.source["customer"] = [{"id": "cus_9", "name": "Late Customer", "currency": "USD"}]
    run = _run(connector, full=True)
    assert run.business_errors == 0 and Invoice.objects.filter(number="INV-1").exists()
    item.refresh_from_db()
    assert item.status == "resolved" and f"run {run.pk}" in item.resolution_note


def test_an_unmappable_record_is_a_validation_item(connector, memory_source):
    memory_source.source["customer"] = [{"id": "cus_x", "name": "", "currency": "USD"}]
    run = _run(connector)
    assert run.business_errors == 1
    item = ExceptionItem.objects.get()
    assert item.code == "VALIDATION_FAILED" and item.error_details[0]["field"] == "name"


def test_an_older_version_never_regresses_canonical_data(connector, memory_source):
    memory_source.source["customer"] = [
        {"id": "cus_1", "name": "Newer Name", "currency": "USD", "version": "002"}
    ]
    _run(connector)
    memory_source.source["customer"] = [
        {"id": "cus_1", "name": "Older Name", "currency": "USD", "version": "001"}
    ]
    run = _run(connector, full=True)
    assert (run.read, run.unchanged) == (1, 1)
    assert Customer.objects.get().name == "Newer Name"
    assert InboundRecord.objects.get(version="001").outcome == "stale"


def test_a_transient_fault_reschedules_the_run_then_it_resumes(
    connector, memory_source, django_capture_on_commit_callbacks
):
    memory_source.source["customer"] = _customers(4)
    run = engine.run_create(connector=connector, trigger="manual")
    original = MemoryKind.fetch
    calls = {"n": 0}

    def flaky(self, stream, cursor, *, full):
        calls["n"] += 1
        if calls["n"] == 2:
            raise TransientError("Stripe answered 503", retry_after=30)
        return original(self, stream, cursor, full=full)

    with pytest.MonkeyPatch.context() as mp, django_capture_on_commit_callbacks(execute=True):
        mp.setattr(MemoryKind, "fetch", flaky)
        result = engine.execute_run(run.pk)
    assert result.status == "retrying" and result.error_class == "transient"
    assert result.next_retry_at >= timezone.now() + dt.timedelta(seconds=29)
    assert result.read == 2  # the first page is committed
    schedule = Schedule.objects.get(func="connectors.tasks.run_sync")
    assert schedule.schedule_type == Schedule.ONCE and schedule.args == str(run.pk)
    assert schedule.next_run == result.next_retry_at
    connector.refresh_from_db()
    assert connector.health == "degraded"
    finished = engine.execute_run(run.pk)
    assert finished.status == "succeeded" and (finished.read, finished.created) == (4, 4)
    assert Customer.objects.count() == 4


def test_exhausted_retries_become_a_dead_letter(connector, memory_source, settings):
    settings.REVOPS_SYNC_MAX_ATTEMPTS = 2
    memory_source.failures = [TransientError("timeout"), TransientError("timeout again")]
    run = engine.run_create(connector=connector, trigger="manual")
    assert engine.execute_run(run.pk).status == "retrying"
    final = engine.execute_run(run.pk)
    assert final.status == "failed"
    item = ExceptionItem.objects.get(code="DEAD_LETTER")
    assert item.sync_run_id == run.pk and "Gave up after 2 attempts" in item.message
    connector.refresh_from_db()
    assert connector.health == "failing"


def test_a_configuration_error_fails_the_connector_without_retrying(connector, memory_source):
    memory_source.failures = [ConfigurationError("Stripe refused the API key (401)")]
    run = _run(connector)
    assert run.status == "failed" and run.error_class == "configuration"
    assert not Schedule.objects.filter(func="connectors.tasks.run_sync").exists()
    connector.refresh_from_db()
    assert connector.health == "failing" and "401" in connector.failing_reason


def test_one_active_run_per_connector(connector):
    first = engine.run_create(connector=connector, trigger="manual")
    with pytest.raises(engine.RunInProgress) as excinfo:
        engine.run_create(connector=connector, trigger="schedule")
    assert excinfo.value.run == first
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.create(connector=connector, trigger="webhook")


def test_counts_that_do_not_add_up_are_refused_by_the_database(connector):
    run = SyncRun.objects.create(connector=connector, trigger="manual", status="succeeded")
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.filter(pk=run.pk).update(read=5, created=4)


def test_consecutive_pages_are_written_together_up_to_the_batch_size(
    connector, memory_source, settings, monkeypatch
):
    settings.REVOPS_SYNC_BATCH_RECORDS = 4
    memory_source.source["customer"] = _customers(7)
    written = []
    process = engine.process_records

    def spy(raws, **kwargs):
        written.append([raw.external_id for raw in raws])
        return process(raws, **kwargs)

    monkeypatch.setattr(engine, "process_records", spy)
    run = _run(connector)
    # Pages of two: the first two pages in one transaction, the last two in another.
    assert written == [["cus_1", "cus_2", "cus_3", "cus_4"], ["cus_5", "cus_6", "cus_7"], []]
    assert (run.read, run.created, run.pages) == (7, 7, 5)
    _assert_counts_add_up(run)


def test_a_slow_source_commits_its_pages_without_waiting_for_a_full_batch(
    connector, memory_source, monkeypatch
):
    memory_source.source["customer"] = _customers(5)
    monkeypatch.setattr(engine, "BATCH_SECONDS", 0.0)  # every page is already slow enough
    written = []
    process = engine.process_records

    def spy(raws, **kwargs):
        written.append(len(raws))
        return process(raws, **kwargs)

    monkeypatch.setattr(engine, "process_records", spy)
    run = _run(connector)
    assert written == [2, 2, 1, 0] and (run.read, run.created) == (5, 5)


def test_a_run_whose_worker_died_resumes_from_the_last_committed_page(connector, memory_source, settings):
    settings.REVOPS_SYNC_BATCH_RECORDS = 4  # the first two pages of two commit together
    memory_source.source["customer"] = _customers(7)
    run = engine.run_create(connector=connector, trigger="manual")
    original = MemoryKind.fetch
    calls = {"n": 0}

    def dies_on_third_page(self, stream, cursor, *, full):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Killed()
        return original(self, stream, cursor, full=full)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(MemoryKind, "fetch", dies_on_third_page)
        with pytest.raises(Killed):
            engine.execute_run(run.pk)
    run.refresh_from_db()
    assert run.status == "running" and run.read == 4
    assert engine.execute_run(run.pk) is None  # a live worker's run is not taken over
    SyncRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(seconds=settings.Q_TIMEOUT + 1)
    )
    resumed = engine.execute_run(run.pk)
    assert resumed.status == "succeeded"
    assert (resumed.read, resumed.created) == (7, 7)
    assert Customer.objects.count() == 7 and InboundRecord.objects.count() == 7
    assert ("customer", {"offset": 4}) in memory_source.fetches


def test_resubmitting_a_corrected_record_writes_it_and_resolves_the_item(connector, memory_source, analyst):
    memory_source.source["customer"] = _customers(1)
    memory_source.source["invoice"] = [
        {
            "id": "in_7",
            "number": "INV-7",
            "customer": "cus_1",
            "currency": "USD",
            "total": "108.00",
            "tax": "8.00",
            "stated_total": "180.00",
        }
    ]
    _run(connector)
    item = ExceptionItem.objects.get()
    assert item.code == "AMOUNT_MISMATCH"
    exception_resubmit(
        item=item,
        correction={"stated_total": "108.00"},
        actor=Actor.for_user(analyst),
        reason="Typo in source total",
    )
    item.refresh_from_db()
    assert item.status == "resolved"
    invoice = Invoice.objects.get(number="INV-7")
    latest = invoice.history.first()
    assert latest.history_user == analyst and "resubmitted by analyst" in latest.history_actor
    assert BusinessEvent.objects.filter(type="invoice.issued", subject_id=invoice.pk).exists()


def test_replaying_a_run_changes_nothing(connector, memory_source):
    memory_source.source["customer"] = _customers(3)
    first = _run(connector)
    replay = engine.run_create(connector=connector, trigger="replay", replay_of=first)
    done = engine.execute_run(replay.pk)
    assert done.status == "succeeded"
    assert (done.read, done.unchanged, done.created) == (3, 3, 0)
    assert Customer.objects.count() == 3


def test_a_correction_that_makes_the_record_one_revops_does_not_import_resolves_the_item(
    connector, memory_source, analyst, monkeypatch
):
    memory_source.source["invoice"] = [
        {"id": "in_8", "number": "INV-8", "customer": "cus_404", "currency": "USD", "total": "10.00"}
    ]
    _run(connector)
    item = ExceptionItem.objects.get()
    original = MemoryKind.map

    def map_or_skip(self, raw):
        return None if raw.payload.get("status") == "draft_only" else original(self, raw)

    monkeypatch.setattr(MemoryKind, "map", map_or_skip)
    done = exception_resubmit(
        item=item, correction={"status": "draft_only"}, actor=Actor.for_user(analyst), reason="Not billable"
    )
    assert done.status == "resolved" and not Invoice.objects.exists()
