"""Reads behind the connector pages: freshness against the schedule, error
rates, next and active runs, ordering by health, masked secrets, run records
and their links."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import NoReverseMatch, reverse
from django_q.models import Schedule

from connectors import cron, selectors
from connectors.base import register_kind
from connectors.models import Connector, InboundRecord, SyncRun
from revops.models import Customer, Product
from tests import factories as f
from tests.connectors.memory_kind import MemoryKind

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)  # a Wednesday


@register_kind
class HookedMemoryKind(MemoryKind):
    """The memory kind with an API key and webhooks, for what the pages show of them."""

    key = "memory_hooked"
    label = "In-memory source with webhooks (tests)"
    credential_fields = {"api_key": "Secret key"}
    supports_webhooks = True


def _connector(name="mem", **kwargs):
    kwargs.setdefault("legal_entity", f.LegalEntityFactory())
    return Connector.objects.create(name=name, kind=kwargs.pop("kind", "memory"), **kwargs)


def _run(connector, *, read=0, errors=0, status="succeeded", **kwargs):
    return SyncRun.objects.create(
        connector=connector,
        trigger="manual",
        status=status,
        read=read,
        created=read - errors,
        business_errors=errors,
        **kwargs,
    )


# -- freshness --------------------------------------------------------------------------------------


def test_it_calls_an_interval_connector_fresh_until_twice_its_interval_has_passed():
    connector = _connector(schedule_type="interval", interval_minutes=15)
    connector.last_success_at = NOW - dt.timedelta(minutes=30)
    assert selectors.freshness(connector, now=NOW).state == "fresh"
    connector.last_success_at = NOW - dt.timedelta(minutes=31)
    stale = selectors.freshness(connector, now=NOW)
    assert (stale.state, stale.label) == ("stale", "Stale")
    assert "stale after 30 min" in stale.detail


def test_it_measures_a_connector_that_never_succeeded_from_its_creation():
    connector = _connector(schedule_type="interval", interval_minutes=60)
    created = connector.created_at
    assert selectors.freshness(connector, now=created + dt.timedelta(minutes=90)).state == "fresh"
    late = selectors.freshness(connector, now=created + dt.timedelta(hours=3))
    assert late.state == "stale" and late.detail.startswith("No success yet; created 3 h ago")


def test_it_has_no_freshness_for_manual_or_disabled_connectors():
    manual = _connector("manual")
    disabled = _connector("off", schedule_type="interval", interval_minutes=5, enabled=False)
    assert selectors.freshness(manual, now=NOW).state == "na"
    assert selectors.freshness(disabled, now=NOW).state == "na"
    assert "Disabled" in selectors.freshness(disabled, now=NOW).detail


def test_it_judges_a_cron_connector_by_twice_the_gap_between_its_runs():
    hourly = _connector(schedule_type="cron", cron="0 * * * *")
    hourly.last_success_at = NOW - dt.timedelta(minutes=119)
    assert selectors.freshness(hourly, now=NOW).state == "fresh"
    hourly.last_success_at = NOW - dt.timedelta(minutes=121)
    assert selectors.freshness(hourly, now=NOW).state == "stale"


def test_it_gives_a_weekday_schedule_the_weekend_gap():
    assert cron.longest_gap("0 9 * * 1-5", NOW) == dt.timedelta(days=3)
    weekdays = _connector(schedule_type="cron", cron="0 9 * * mon-fri")
    weekdays.last_success_at = NOW - dt.timedelta(days=5)
    assert selectors.freshness(weekdays, now=NOW).state == "fresh"
    weekdays.last_success_at = NOW - dt.timedelta(days=6, minutes=1)
    assert selectors.freshness(weekdays, now=NOW).state == "stale"


@pytest.mark.parametrize(
    ("expression", "gap"),
    [
        ("*/15 * * * *", dt.timedelta(minutes=15)),
        ("0 */6 * * *", dt.timedelta(hours=6)),
        ("30 2 * * *", dt.timedelta(days=1)),
        ("0 0 1 * *", dt.timedelta(days=31)),  # March → April → ... the longest month gap ahead
        ("0 0 1,15 * *", dt.timedelta(days=17)),
        ("0 0 * * 7", dt.timedelta(days=7)),  # 7 is Sunday too
    ],
)
def test_it_reads_the_gap_of_common_cron_expressions(expression, gap):
    assert cron.longest_gap(expression, NOW) == gap


def test_it_matches_either_day_field_when_both_are_restricted():
    # The 1st of the month OR any Monday (Vixie cron): from Wed 4 March, Monday 9th comes first.
    first = next(cron.upcoming("0 0 1 * mon", NOW))
    assert first == dt.datetime(2026, 3, 9, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("expression", ["", "* * * *", "61 * * * *", "* * * * funday", "*/0 * * * *"])
def test_it_reports_no_gap_for_an_unreadable_cron_expression(expression):
    assert cron.longest_gap(expression, NOW) is None


# -- error rates, next and active runs, ordering ---------------------------------------------------------


def test_it_computes_the_error_rate_over_the_last_ten_runs_only():
    connector = _connector()
    for _ in range(2):
        _run(connector, read=10, errors=10)  # older than the last ten: left out
    for _ in range(10):
        _run(connector, read=100, errors=1)
    rate = selectors.error_rates([connector.pk])[connector.pk]
    assert (rate.business_errors, rate.read, rate.runs) == (10, 1000, 10)
    assert rate.label == "1.0%"
    assert rate.detail == "10 business errors in 1,000 records read over the last 10 runs."


def test_it_says_na_when_nothing_was_read():
    connector = _connector()
    assert selectors.error_rates([connector.pk])[connector.pk].label == "n/a"
    _run(connector, read=0)
    assert selectors.error_rates([connector.pk])[connector.pk].label == "n/a"


def test_it_lists_failing_connectors_first_with_next_and_active_runs(django_assert_max_num_queries):
    entity = f.LegalEntityFactory()
    healthy = _connector("a-healthy", legal_entity=entity, health="healthy", last_success_at=NOW)
    retrying = _connector("b-retrying", legal_entity=entity, health="degraded", failing_reason="429")
    failing = _connector(
        "c-failing", legal_entity=entity, health="failing", failing_reason="401 Unauthorized"
    )
    never = _connector("d-never", legal_entity=entity)
    schedule = Schedule.objects.create(
        func="connectors.tasks.scheduled_sync", schedule_type=Schedule.MINUTES, minutes=15, next_run=NOW
    )
    Connector.objects.filter(pk=healthy.pk).update(
        schedule_type="interval", interval_minutes=15, q_schedule_id=schedule.pk
    )
    active = _run(retrying, status="retrying")
    for connector in (healthy, failing, never):
        _run(connector, read=4, errors=1)
    with django_assert_max_num_queries(4):
        rows = selectors.connector_list(now=NOW)
    assert [row.connector.name for row in rows] == ["c-failing", "b-retrying", "a-healthy", "d-never"]
    by_name = {row.connector.name: row for row in rows}
    assert by_name["a-healthy"].next_run == NOW
    assert by_name["c-failing"].next_run is None
    assert by_name["b-retrying"].active_run == active
    assert by_name["a-healthy"].active_run is None
    assert by_name["a-healthy"].error_rate.label == "25.0%"
    assert by_name["a-healthy"].freshness.state == "fresh"


def test_it_does_not_show_a_next_run_for_a_disabled_connector():
    schedule = Schedule.objects.create(func="x", schedule_type=Schedule.MINUTES, minutes=5, next_run=NOW)
    connector = _connector(enabled=False, q_schedule_id=schedule.pk)
    assert selectors.next_runs([connector]) == {connector.pk: None}


# -- secrets ----------------------------------------------------------------------------------------------


def test_it_masks_every_credential_and_says_which_are_not_set():
    connector = _connector(
        kind="memory_hooked", credentials={"api_key": "sk_test_SECRETVALUE123", "extra": "x" * 20}
    )
    connector.refresh_from_db()
    detail = selectors.connector_detail(connector.pk)
    assert [(s.label, s.state) for s in detail.credentials] == [
        ("Secret key", "sk_…E123"),
        ("extra", "…xxxx"),
    ]
    assert detail.webhook_secret == selectors.SecretSummary("Webhook signing secret", "not set")
    bare = _connector("bare", kind="memory_hooked")
    assert [s.state for s in selectors.connector_detail(bare.pk).credentials] == ["not set"]


def test_it_gives_the_webhook_path_only_for_kinds_that_take_webhooks():
    assert selectors.webhook_url(_connector("hooked", kind="memory_hooked")) == "/webhooks/hooked/"
    assert selectors.webhook_url(_connector("plain")) is None
    assert selectors.webhook_url(_connector("gone", kind="not-installed")) is None


def test_it_survives_a_connector_whose_kind_is_not_installed():
    connector = _connector("orphan", kind="not-installed")
    detail = selectors.connector_detail(connector.pk)
    assert detail.kind is None and detail.streams == []
    assert detail.row.kind_label == "not-installed (kind not installed)"


# -- runs and records --------------------------------------------------------------------------------------


def _record(connector, run, external_id, outcome, *, last_run=None, **kwargs):
    return InboundRecord.objects.create(
        connector=connector,
        object_type=kwargs.pop("object_type", "customer"),
        external_id=external_id,
        content_hash=external_id.ljust(64, "0"),
        payload={"id": external_id},
        run=run,
        last_run=last_run or run,
        outcome=outcome,
        **kwargs,
    )


def test_it_lists_the_records_a_run_read_or_last_applied_filtered_by_outcome():
    connector = _connector()
    first = _run(connector, read=2)
    second = _run(connector, read=1)
    read_first = _record(connector, first, "cus_1", "created")
    applied_again = _record(connector, first, "cus_2", "updated", last_run=second)
    _record(connector, second, "cus_3", "business_error")
    assert list(selectors.run_records(first)) == [read_first, applied_again]
    assert [r.external_id for r in selectors.run_records(second)] == ["cus_2", "cus_3"]
    assert [r.external_id for r in selectors.run_records(second, outcome="business_error")] == ["cus_3"]


def test_run_detail_counts_outcomes_and_checks_the_identity():
    connector = _connector()
    run = SyncRun.objects.create(
        connector=connector,
        trigger="manual",
        status="succeeded",
        read=5,
        created=2,
        updated=1,
        unchanged=1,
        business_errors=1,
        cursor_after={"customer": {"offset": 5, "_done": True}},
    )
    _record(connector, run, "cus_1", "created")
    _record(connector, run, "cus_2", "business_error")
    detail = selectors.run_detail(run.pk)
    assert detail.adds_up and detail.accounted == 5
    assert detail.outcome_counts["created"] == 1 and detail.outcome_counts["business_error"] == 1
    assert detail.total_records == 2
    assert '"offset": 5' in detail.cursor_after and detail.cursor_before == ""


def test_it_links_records_to_canonical_pages_and_exception_items():
    connector = _connector()
    run = _run(connector, read=3)
    customer = f.CustomerFactory(number="C-LINKED")
    product = f.ProductFactory(sku="SKU-LINK")
    with_customer = _record(
        connector,
        run,
        "cus_1",
        "created",
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=customer.pk,
    )
    with_product = _record(
        connector,
        run,
        "prod_1",
        "created",
        object_type="product",
        content_type=ContentType.objects.get_for_model(Product),
        object_id=product.pk,
    )
    with_exception = _record(connector, run, "cus_2", "business_error", exception_item_id=987)
    rows = {
        row.record.pk: row
        for row in selectors.describe_records([with_customer, with_product, with_exception])
    }
    assert rows[with_customer.pk].object_label == "customer C-LINKED"
    assert rows[with_customer.pk].object_url == f"/customers/{customer.pk}/"
    assert rows[with_product.pk].object_label == "product SKU-LINK"
    assert rows[with_product.pk].object_url == ""  # products have no page of their own
    assert rows[with_exception.pk].exception_label == "#987"
    try:
        expected = reverse("exceptions_queue:detail", args=[987])
    except NoReverseMatch:  # the queue's pages are not installed: the id is shown unlinked
        expected = ""
    assert rows[with_exception.pk].exception_url == expected


def test_record_detail_pretty_prints_the_payload_and_lists_other_versions():
    connector = _connector()
    run = _run(connector, read=2)
    older = _record(connector, run, "cus_1", "updated")
    newer = InboundRecord.objects.create(
        connector=connector,
        object_type="customer",
        external_id="cus_1",
        content_hash="f" * 64,
        payload={"id": "cus_1", "name": "<b>New</b>"},
        run=run,
        outcome="updated",
    )
    detail = selectors.record_detail(newer.pk)
    assert detail.payload == '{\n  "id": "cus_1",\n  "name": "<b>New</b>"\n}'
    assert detail.versions == [older]
