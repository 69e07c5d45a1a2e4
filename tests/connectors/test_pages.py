"""The connector pages as each role uses them: configuration with write-only
secrets, health, Sync now, Test connection, run and record detail, replays."""

from __future__ import annotations

import logging
import time

import pytest
from django.urls import reverse
from django_q.models import Schedule

from connectors import engine
from connectors.errors import ConfigurationError
from connectors.models import Connector, InboundRecord, SyncRun
from connectors.views import actions
from exceptions_queue.models import ExceptionItem
from revops.models import Customer
from tests import factories as f
from tests.connectors.memory_kind import MemoryKind
from tests.connectors.test_selectors import HookedMemoryKind

pytestmark = pytest.mark.django_db

SECRET = "sk_test_SECRETVALUE123"
HOOK_SECRET = "whsec_SECRETVALUE456"


@pytest.fixture
def entity():
    return f.LegalEntityFactory()


@pytest.fixture
def connector(entity):
    return Connector.objects.create(
        name="mem", kind="memory", legal_entity=entity, credentials={"api_key": SECRET}
    )


@pytest.fixture
def hooked(entity):
    """A kind with an API key field and webhooks, holding both secrets."""
    return Connector.objects.create(
        name="hooked",
        kind=HookedMemoryKind.key,
        legal_entity=entity,
        credentials={"api_key": SECRET},
        webhook_secret=HOOK_SECRET,
    )


@pytest.fixture
def synced(connector, memory_source):
    """The memory connector after one real run: two customers, one without a name."""
    memory_source.source["customer"] = [
        {"id": "cus_1", "name": "Acme Ltd", "currency": "USD"},
        {"id": "cus_2", "name": "", "currency": "USD"},
    ]
    run = engine.run_create(connector=connector, trigger="manual")
    return engine.execute_run(run.pk)


def _form(entity, **changes):
    data = {
        "name": "mem-new",
        "legal_entity": entity.pk,
        "enabled": "on",
        "base_url": "",
        "direction": "pull",
        "schedule_type": "interval",
        "interval_minutes": "30",
        "cron": "",
        "credential_api_key": "",
        "webhook_secret": "",
        "reason": "Onboarding the test source (ticket 42)",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# -- list -----------------------------------------------------------------------------------------------------


def test_the_list_shows_health_with_its_reason_failing_first(client, analyst, entity):
    Connector.objects.create(name="a-fine", kind="memory", legal_entity=entity, health="healthy")
    Connector.objects.create(
        name="z-broken",
        kind="memory",
        legal_entity=entity,
        health="failing",
        failing_reason="GET https://api.example.com/v1/balance answered 401 Unauthorized",
    )
    client.force_login(analyst)
    response = client.get(reverse("connectors:list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("z-broken") < html.index("a-fine")
    assert 'title="GET https://api.example.com/v1/balance answered 401 Unauthorized"' in html
    assert (
        '<span class="health-reason">GET https://api.example.com/v1/balance answered 401 Unauthorized</span>'
        in html
    )
    assert "Add connector" not in html


def test_admins_see_add_connector_and_the_nav_link(client, integration_admin):
    client.force_login(integration_admin)
    html = client.get(reverse("connectors:list")).content.decode()
    assert f'href="{reverse("connectors:add")}"' in html
    assert f'<a href="{reverse("connectors:list")}" aria-current="page">Connectors</a>' in html


# -- add / edit / delete ----------------------------------------------------------------------------------------


def test_adding_a_connector_saves_it_with_its_reason_and_schedule_and_no_secret_in_history(
    client, integration_admin, entity
):
    client.force_login(integration_admin)
    url = reverse("connectors:add") + f"?kind={HookedMemoryKind.key}"
    response = client.post(
        url, _form(entity, credential_api_key=SECRET, webhook_secret=HOOK_SECRET, object_types=["customer"])
    )
    connector = Connector.objects.get(name="mem-new")
    assert response.status_code == 302 and response["Location"] == reverse(
        "connectors:detail", args=[connector.pk]
    )
    assert connector.kind == HookedMemoryKind.key
    assert connector.credentials.reveal() == {"api_key": SECRET}
    assert connector.webhook_secret.reveal() == HOOK_SECRET
    assert connector.object_types == ["customer"] and connector.interval_minutes == 30
    assert Schedule.objects.get(pk=connector.q_schedule_id).minutes == 30
    row = connector.history.get()
    assert (row.history_type, row.history_change_reason, row.history_user) == (
        "+",
        "Onboarding the test source (ticket 42)",
        integration_admin,
    )
    history_fields = {field.name for field in Connector.history.model._meta.get_fields()}
    assert not {"credentials", "webhook_secret"} & history_fields
    assert not hasattr(row, "credentials") and not hasattr(row, "webhook_secret")


def test_the_add_page_first_asks_for_a_kind(client, integration_admin):
    client.force_login(integration_admin)
    html = client.get(reverse("connectors:add")).content.decode()
    assert f'href="{reverse("connectors:add")}?kind=memory"' in html
    unknown = client.get(reverse("connectors:add") + "?kind=nope")
    assert "There is no connector kind “nope”" in unknown.content.decode()


def test_editing_with_a_blank_credential_keeps_the_stored_one(client, integration_admin, hooked, entity):
    client.force_login(integration_admin)
    form = client.get(reverse("connectors:edit", args=[hooked.pk])).context["form"]
    assert form["credential_api_key"].value() in (None, "")
    response = client.post(
        reverse("connectors:edit", args=[hooked.pk]),
        _form(
            entity,
            name="hooked",
            schedule_type="manual",
            interval_minutes="",
            reason="Rename nothing, go manual",
        ),
    )
    assert response.status_code == 302
    hooked.refresh_from_db()
    assert hooked.credentials.reveal() == {"api_key": SECRET}
    assert hooked.webhook_secret.reveal() == HOOK_SECRET
    assert hooked.schedule_type == "manual"
    assert hooked.history.first().history_change_reason == "Rename nothing, go manual"


def test_editing_with_a_new_credential_replaces_it(client, integration_admin, hooked, entity):
    client.force_login(integration_admin)
    client.post(
        reverse("connectors:edit", args=[hooked.pk]),
        _form(entity, name="hooked", credential_api_key="sk_test_REPLACED999", reason="Key rotated"),
    )
    hooked.refresh_from_db()
    assert hooked.credentials.reveal() == {"api_key": "sk_test_REPLACED999"}


def test_an_unsafe_base_url_shows_the_precise_refusal_and_saves_nothing(
    client, integration_admin, hooked, entity
):
    client.force_login(integration_admin)
    history_rows = hooked.history.count()
    response = client.post(
        reverse("connectors:edit", args=[hooked.pk]),
        _form(
            entity,
            name="hooked",
            base_url="https://169.254.169.254/latest/meta-data",
            credential_api_key="sk_test_TYPEDSECRET777",
            reason="Point at the metadata service",
        ),
    )
    assert response.status_code == 400
    assert response.context["form"].errors["base_url"] == [
        "169.254.169.254 is a link-local address; connectors may only reach public addresses unless "
        "REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS allows it"
    ]
    html = response.content.decode()
    assert "169.254.169.254 is a link-local address" in html
    assert "TYPEDSECRET" not in html  # a typed secret is not echoed back
    hooked.refresh_from_db()
    assert hooked.base_url == "" and hooked.credentials.reveal() == {"api_key": SECRET}
    assert hooked.history.count() == history_rows


def test_a_change_needs_a_reason(client, integration_admin, hooked, entity):
    client.force_login(integration_admin)
    response = client.post(
        reverse("connectors:edit", args=[hooked.pk]), _form(entity, name="renamed", reason=" ")
    )
    assert response.status_code == 400
    assert "Say why you are making this change" in response.content.decode()
    assert Connector.objects.filter(name="hooked").exists()


def test_an_interval_schedule_needs_its_minutes(client, integration_admin, entity):
    client.force_login(integration_admin)
    response = client.post(reverse("connectors:add") + "?kind=memory", _form(entity, interval_minutes=""))
    assert response.status_code == 400
    assert response.context["form"].errors["interval_minutes"] == [
        "Give the interval in whole minutes (at least 1)."
    ]
    assert not Connector.objects.filter(name="mem-new").exists()


def test_deleting_needs_a_reason_and_removes_the_connector_and_its_schedule(
    client, integration_admin, entity
):
    client.force_login(integration_admin)
    client.post(reverse("connectors:add") + "?kind=memory", _form(entity))
    connector = Connector.objects.get(name="mem-new")
    schedule_id = connector.q_schedule_id
    url = reverse("connectors:delete", args=[connector.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": "Source retired"})
    assert response.status_code == 302
    assert not Connector.objects.filter(pk=connector.pk).exists()
    assert not Schedule.objects.filter(pk=schedule_id).exists()
    deleted = Connector.history.filter(id=connector.pk, history_type="-").get()
    assert deleted.history_change_reason == "Source retired"


# -- secrets never leave --------------------------------------------------------------------------------------


def test_no_page_ever_contains_a_secret(client, integration_admin, auditor, hooked, connector, synced):
    record = InboundRecord.objects.filter(connector=connector).first()
    pages = [
        reverse("connectors:list"),
        reverse("connectors:detail", args=[hooked.pk]),
        reverse("connectors:detail", args=[connector.pk]),
        reverse("connectors:run_detail", args=[synced.pk]),
        reverse("connectors:record_detail", args=[record.pk]),
    ]
    admin_pages = [
        reverse("connectors:edit", args=[hooked.pk]),
        reverse("connectors:edit", args=[connector.pk]),
        reverse("connectors:delete", args=[hooked.pk]),
        reverse("connectors:add") + f"?kind={HookedMemoryKind.key}",
        reverse("admin:connectors_connector_change", args=[hooked.pk]),
        reverse("admin:connectors_connector_history", args=[hooked.pk]),
        reverse("admin:connectors_connector_changelist"),
    ]
    integration_admin.is_staff = integration_admin.is_superuser = True
    integration_admin.save()
    for user, urls in ((auditor, pages), (integration_admin, pages + admin_pages)):
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert "SECRETVALUE" not in html, f"{url} shows a secret to {user}"
    detail = client.get(reverse("connectors:detail", args=[hooked.pk])).content.decode()
    assert "key set: sk_…E123" in detail and "key set: whsec_…E456" in detail
    assert "http://testserver/webhooks/hooked/" in detail


# -- Sync now -------------------------------------------------------------------------------------------------


def test_sync_now_queues_one_run_and_a_second_click_names_the_active_run(
    client, integration_admin, connector, django_capture_on_commit_callbacks
):
    client.force_login(integration_admin)
    url = reverse("connectors:sync", args=[connector.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url, {"full": "0"}, follow=True)
    run = SyncRun.objects.get(connector=connector)
    assert (run.status, run.trigger, run.full, run.requested_by) == ("queued", "manual", False, "integrator")
    assert len(callbacks) == 1  # handed to the workers once the run is committed
    run_url = reverse("connectors:run_detail", args=[run.pk])
    assert f'Incremental sync of mem queued as <a href="{run_url}">run {run.pk}</a>.' in _messages(response)

    again = client.post(url, {"full": "1"}, follow=True)
    assert SyncRun.objects.filter(connector=connector).count() == 1
    assert _messages(again) == [
        f'mem already has <a href="{run_url}">run {run.pk}</a> queued; wait for it to finish before starting another.'
    ]
    assert f'<a href="{run_url}">run {run.pk}</a> queued' in again.content.decode()


def test_full_sync_asks_for_a_full_run(client, integration_admin, connector):
    client.force_login(integration_admin)
    client.post(reverse("connectors:sync", args=[connector.pk]), {"full": "1"})
    assert SyncRun.objects.get(connector=connector).full is True


def test_a_disabled_connector_does_not_sync(client, integration_admin, connector):
    Connector.objects.filter(pk=connector.pk).update(enabled=False)
    client.force_login(integration_admin)
    response = client.post(reverse("connectors:sync", args=[connector.pk]), follow=True)
    assert not SyncRun.objects.exists()
    assert _messages(response) == ["mem is disabled; enable it before syncing."]


def test_readers_see_runs_but_no_action_buttons(client, analyst, connector, synced):
    client.force_login(analyst)
    html = client.get(reverse("connectors:detail", args=[connector.pk])).content.decode()
    assert f'href="{reverse("connectors:run_detail", args=[synced.pk])}"' in html
    for action in ("Sync now", "Full sync", "Test connection", "Edit configuration"):
        assert action not in html
    run_html = client.get(reverse("connectors:run_detail", args=[synced.pk])).content.decode()
    assert "Replay this run" not in run_html and ">Replay<" not in run_html


@pytest.mark.parametrize("role", ["auditor", "analyst"])
def test_readers_posting_actions_change_nothing(client, cast, role, hooked, connector, synced, entity):
    client.force_login(cast[role])
    record = InboundRecord.objects.filter(connector=connector, outcome="created").get()
    before = (
        SyncRun.objects.count(),
        Connector.history.count(),
        Connector.objects.count(),
        ExceptionItem.objects.count(),
        Customer.history.count(),
    )
    posts = [
        (reverse("connectors:sync", args=[connector.pk]), {"full": "1"}),
        (reverse("connectors:test", args=[connector.pk]), {}),
        (reverse("connectors:run_replay", args=[synced.pk]), {}),
        (reverse("connectors:record_replay", args=[record.pk]), {}),
        (
            reverse("connectors:edit", args=[hooked.pk]),
            _form(entity, name="hijacked", credential_api_key="sk_test_X"),
        ),
        (reverse("connectors:delete", args=[hooked.pk]), {"reason": "nope"}),
        (reverse("connectors:add") + "?kind=memory", _form(entity)),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    after = (
        SyncRun.objects.count(),
        Connector.history.count(),
        Connector.objects.count(),
        ExceptionItem.objects.count(),
        Customer.history.count(),
    )
    assert after == before
    hooked.refresh_from_db()
    assert hooked.name == "hooked" and hooked.credentials.reveal() == {"api_key": SECRET}
    record.refresh_from_db()
    assert record.outcome == "created"


def test_actions_answer_post_only(client, integration_admin, connector):
    client.force_login(integration_admin)
    assert client.get(reverse("connectors:sync", args=[connector.pk])).status_code == 405
    assert not SyncRun.objects.exists()


# -- Test connection ------------------------------------------------------------------------------------------


def test_test_connection_reports_what_answered(client, integration_admin, connector):
    client.force_login(integration_admin)
    response = client.post(reverse("connectors:test", args=[connector.pk]), follow=True)
    assert _messages(response) == ["Connection test passed: memory source answers"]


def test_test_connection_reports_the_precise_failure(client, integration_admin, connector, monkeypatch):
    def refuse(self):
        raise ConfigurationError(
            "GET https://api.example.com/v1/balance answered 401 Unauthorized: check the credentials"
        )

    monkeypatch.setattr(MemoryKind, "test_connection", refuse)
    client.force_login(integration_admin)
    response = client.post(reverse("connectors:test", args=[connector.pk]), follow=True)
    assert _messages(response) == [
        "Connection test failed: GET https://api.example.com/v1/balance answered 401 Unauthorized: check the credentials"
    ]


def test_test_connection_answers_htmx_with_the_result_alone(client, integration_admin, connector):
    client.force_login(integration_admin)
    response = client.post(
        reverse("connectors:test", args=[connector.pk]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="test-result"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith('<div id="test-result" class="test-result test-ok"')
    assert "<strong>Connection works:</strong> memory source answers" in html
    assert "<html" not in html


def test_an_unexpected_error_in_test_connection_is_logged_not_shown(
    client, integration_admin, connector, monkeypatch, caplog
):
    def crash(self):
        raise RuntimeError("internal detail with sk_live_leakme")

    monkeypatch.setattr(MemoryKind, "test_connection", crash)
    client.force_login(integration_admin)
    with caplog.at_level(logging.ERROR, logger="connectors.views.actions"):
        response = client.post(reverse("connectors:test", args=[connector.pk]), follow=True)
    assert response.status_code == 200
    assert _messages(response) == [f"Connection test failed: {actions.GENERIC_FAILURE}"]
    assert "leakme" not in response.content.decode()
    assert any("connection test of connector" in r.getMessage() for r in caplog.records)


def test_a_connection_test_that_hangs_gives_up(client, integration_admin, connector, monkeypatch):
    monkeypatch.setattr(MemoryKind, "test_connection", lambda self: time.sleep(2) or "late")
    monkeypatch.setattr(actions, "TEST_TIMEOUT_SECONDS", 0.2)
    client.force_login(integration_admin)
    response = client.post(reverse("connectors:test", args=[connector.pk]), follow=True)
    assert _messages(response) == [
        "Connection test failed: No answer within 0.2 seconds; check the base URL and that the system is up."
    ]


# -- run and record detail, replays ---------------------------------------------------------------------------


def test_run_detail_shows_counts_and_each_record_linked(client, auditor, connector, synced):
    client.force_login(auditor)
    response = client.get(reverse("connectors:run_detail", args=[synced.pk]))
    html = response.content.decode()
    customer = Customer.objects.get(name="Acme Ltd")
    failed = InboundRecord.objects.get(external_id="cus_2")
    assert "2 = 1 + 0 + 0 + 0 + 1" in html and "every record read is accounted for" in html
    assert (
        f'<a href="{reverse("customer_detail", args=[customer.pk])}">customer {customer.number}</a>' in html
    )
    assert failed.exception_item_id and f"#{failed.exception_item_id}" in html
    assert "Customer cus_2 has no name." in html


def test_run_detail_filters_records_by_outcome_with_an_htmx_fragment(client, auditor, connector, synced):
    client.force_login(auditor)
    url = reverse("connectors:run_detail", args=[synced.pk]) + "?outcome=business_error"
    response = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    html = response.content.decode()
    assert html.strip().startswith('<div id="results"')
    assert "cus_2" in html and "cus_1" not in html
    assert [row.record.external_id for row in response.context["page"].items] == ["cus_2"]


def test_record_detail_shows_the_payload_escaped(client, auditor, connector, synced):
    record = InboundRecord.objects.get(external_id="cus_1")
    InboundRecord.objects.filter(pk=record.pk).update(
        payload={"id": "cus_1", "name": "<script>alert(1)</script>"}
    )
    client.force_login(auditor)
    html = client.get(reverse("connectors:record_detail", args=[record.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert f'<a href="{reverse("connectors:run_detail", args=[synced.pk])}">run {synced.pk}</a>' in html


def test_replaying_a_record_applies_it_again_and_says_how_it_went(
    client, integration_admin, connector, synced
):
    record = InboundRecord.objects.get(external_id="cus_1")
    client.force_login(integration_admin)
    back = reverse("connectors:run_detail", args=[synced.pk])
    response = client.post(reverse("connectors:record_replay", args=[record.pk]), {"next": back}, follow=True)
    assert response.redirect_chain[-1][0] == back
    record.refresh_from_db()
    assert record.outcome == "unchanged"
    assert _messages(response) == ["Replayed customer cus_1: unchanged."]
    assert Customer.objects.filter(name="Acme Ltd").count() == 1


def test_replaying_a_bad_record_reports_the_business_error(client, integration_admin, connector, synced):
    record = InboundRecord.objects.get(external_id="cus_2")
    client.force_login(integration_admin)
    response = client.post(
        reverse("connectors:record_replay", args=[record.pk]), {"next": "https://evil.example/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("connectors:record_detail", args=[record.pk])
    assert _messages(response) == ["Replayed customer cus_2: business error — Customer cus_2 has no name."]
    assert ExceptionItem.objects.filter(pk=record.exception_item_id).exists()


def test_replaying_a_run_queues_a_replay_that_reapplies_its_records(
    client, integration_admin, connector, synced
):
    client.force_login(integration_admin)
    response = client.post(reverse("connectors:run_replay", args=[synced.pk]), follow=True)
    replay = SyncRun.objects.get(replay_of=synced)
    assert response.redirect_chain[-1][0] == reverse("connectors:run_detail", args=[replay.pk])
    assert _messages(response) == [f"Replay of run {synced.pk} queued as run {replay.pk}."]
    assert (replay.trigger, replay.status, replay.requested_by) == ("replay", "queued", "integrator")
    again = client.post(reverse("connectors:run_replay", args=[synced.pk]), follow=True)
    assert SyncRun.objects.filter(replay_of=synced).count() == 1
    assert _messages(again) == [
        f'mem already has <a href="{reverse("connectors:run_detail", args=[replay.pk])}">run {replay.pk}</a> '
        "queued; wait for it to finish before starting another."
    ]
    finished = engine.execute_run(replay.pk)
    assert (finished.status, finished.read, finished.business_errors) == ("succeeded", 2, 1)
    html = client.get(reverse("connectors:run_detail", args=[replay.pk])).content.decode()
    assert "cus_1" in html and "cus_2" in html
    assert (
        f'replay of <a href="{reverse("connectors:run_detail", args=[synced.pk])}">run {synced.pk}</a>'
        in html
    )


def test_a_connector_of_an_uninstalled_kind_still_shows(client, auditor, entity):
    orphan = Connector.objects.create(name="orphan", kind="gone", legal_entity=entity)
    client.force_login(auditor)
    response = client.get(reverse("connectors:detail", args=[orphan.pk]))
    assert response.status_code == 200
    assert "gone (kind not installed)" in response.content.decode()


# -- display helpers ------------------------------------------------------------------------------------------


def test_times_and_durations_read_plainly():
    import datetime as dt

    from django.utils import timezone

    from connectors.templatetags import connectors_tags as tags

    now = timezone.now()
    assert tags.relative(now - dt.timedelta(minutes=5), now) == "5 min ago"
    assert tags.relative(now + dt.timedelta(hours=3), now) == "in 3 h"
    assert tags.relative(now, now) == "just now"
    assert tags.duration(dt.timedelta(seconds=4.24)) == "4.2 s"
    assert tags.duration(dt.timedelta(minutes=3, seconds=7)) == "3 min 07 s"
    assert tags.duration(dt.timedelta(hours=2, minutes=5)) == "2 h 05 min"
    assert tags.duration(None) == ""
    assert "overdue by 1 h" in tags.due(now - dt.timedelta(hours=1, minutes=1))
    assert tags.due(now - dt.timedelta(seconds=30)).startswith("due now")
    assert "in 9 min" in tags.due(now + dt.timedelta(minutes=9, seconds=30))
