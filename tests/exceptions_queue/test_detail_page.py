"""The exception item detail page: what each role sees, each action's effect on
the item and its history, the dry-run check, bad input, closed items, and a
connector item resubmitted through the real pipeline handler."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors import engine
from connectors.models import Connector, InboundRecord
from connectors.resubmit import register_kind_handlers
from exceptions_queue.forms import CorrectionForm
from exceptions_queue.models import ExceptionComment, ExceptionItem
from exceptions_queue.payload_paths import MISSING, ValueTypeError, parse_like, value_at
from exceptions_queue.registry import ResubmitFailed, register_resubmit_handler, unregister_resubmit_handler
from exceptions_queue.services import (
    exception_check_correction,
    exception_open,
    exception_resolve,
    exception_take,
)
from exceptions_queue.templatetags.exception_detail import payload_tree
from revops.actors import Actor
from revops.errors import DomainValidationError
from revops.models import BusinessEvent, Customer, Invoice
from revops.services import tax
from tests import factories as f
from tests.connectors.memory_kind import MemoryKind
from tests.connectors.tax_source_kind import TaxSourceKind

pytestmark = pytest.mark.django_db

register_kind_handlers(MemoryKind)
register_kind_handlers(TaxSourceKind)

SYNC = Actor.for_system("stripe", "connector stripe-eu, run 42")
STEP = "test.detail_invoice"
S = ExceptionItem.Status


class RecordingHandler:
    """A resubmit handler whose behaviour a test sets through `effect`."""

    def __init__(self):
        self.calls = []
        self.effect = None

    def __call__(self, item, correction, actor):
        self.calls.append((item.pk, correction, actor.label))
        return self.effect(item, correction, actor) if self.effect else None


@pytest.fixture
def handler():
    recording = RecordingHandler()
    register_resubmit_handler(STEP, recording)
    yield recording
    unregister_resubmit_handler(STEP)


def open_item(**overrides) -> ExceptionItem:
    values = {
        "code": "AMOUNT_MISMATCH",
        "dedupe_key": "AMOUNT_MISMATCH|stripe:invoice:in_123|total",
        "title": "Invoice in_123: total does not add up",
        "message": "The lines add up to 10800 but the invoice says 18000.",
        "step_key": STEP,
        "actor": SYNC,
        "source_system": "stripe",
        "connector_id": 7,
        "connector_name": "stripe-eu",
        "sync_run_id": 42,
        "inbound_record_id": 1001,
        "external_id": "in_123",
        "payload": {
            "id": "in_123",
            "customer": "cus_9",
            "total": 18000,
            "paid": False,
            "lines": {"data": [{"amount": 10800, "description": "Seats"}]},
        },
        "error_details": [
            {
                "field": "total",
                "path": "total",
                "label": "Invoice total",
                "message": "Total differs from the sum of the lines",
                "expected": 10800,
                "actual": 18000,
            },
            {"field": "", "message": "Checked against 1 line"},
        ],
        "suggested_correction": {
            "summary": "The lines are right; the total is a typo.",
            "options": [
                {
                    "key": "use_lines",
                    "label": "Set the total to the lines' 10800",
                    "description": "Posts the invoice at 108.00.",
                    "correction": {"total": 10800},
                }
            ],
        },
    }
    values.update(overrides)
    return exception_open(**values)[0]


@pytest.fixture
def item():
    return open_item()


def url(name, item):
    return reverse(f"exceptions_queue:{name}", args=[item.pk])


def reasons(item) -> list[str]:
    return list(
        item.history.order_by("history_date", "history_id").values_list("history_change_reason", flat=True)
    )


# -- reading -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["analyst", "integration_admin", "superuser"])
def test_it_shows_editors_the_problem_and_every_action(client, cast, item, handler, role):
    client.force_login(cast[role])
    response = client.get(url("detail", item))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Amount mismatch" in html and item.message in html
    assert item.code_info.meaning in html  # why it matters, in plain language
    for action in ("resubmit", "check", "assign", "dismiss", "comment"):
        assert f'action="{url(action, item)}"' in html
    assert 'name="option" value="use_lines"' in html
    assert "Set the total to the lines&#x27; 10800" in html


def test_it_shows_auditors_everything_but_no_forms(client, auditor, item, handler):
    client.force_login(auditor)
    response = client.get(url("detail", item))
    assert response.status_code == 200
    html = response.content.decode()
    assert item.message in html and "Timeline" in html
    assert html.split('<main id="main"', 1)[1].count("<form") == 0  # the only form is the top bar's log out
    for action in ("resubmit", "check", "assign", "dismiss", "comment"):
        assert url(action, item) not in html


@pytest.mark.parametrize(("role", "status"), [("no_role", 403), ("anonymous", 302)])
def test_it_refuses_the_page_to_users_without_the_view_permission(client, cast, item, role, status):
    if cast[role] is not None:
        client.force_login(cast[role])
    assert client.get(url("detail", item)).status_code == status


def test_an_unknown_item_is_a_404(client, analyst):
    client.force_login(analyst)
    assert client.get(reverse("exceptions_queue:detail", args=[999999])).status_code == 404


def test_it_lays_out_expected_against_actual_and_highlights_the_failing_value(client, analyst, item, handler):
    client.force_login(analyst)
    response = client.get(url("detail", item))
    html = response.content.decode()
    rows = response.context["error_rows"]
    assert (rows[0].label, rows[0].expected, rows[0].actual) == ("Invoice total", "10800", "18000")
    assert 'class="pt-leaf pt-fail" data-path="total"' in html
    assert 'data-path="lines.data.0.amount"' in html
    form = response.context["correction_form"]
    assert [row.path for row in form.rows] == ["total"]  # one input per failing value with a path
    assert form["fix_0"].value() == "18000"


def test_it_shows_an_overdue_item_as_overdue(client, analyst, item):
    item.due_at = timezone.now() - dt.timedelta(hours=3)
    item.save()
    client.force_login(analyst)
    response = client.get(url("detail", item))
    assert response.context["due_state"] == "overdue"
    assert '<dd class="due due-overdue">' in response.content.decode()
    item.due_at = timezone.now() + dt.timedelta(hours=3)
    item.save()
    assert client.get(url("detail", item)).context["due_state"] == "due_soon"


def test_it_links_the_object_the_source_and_the_rest_of_the_flow(client, analyst, handler):
    invoice = f.InvoiceFactory()
    BusinessEvent.objects.create(
        type="invoice.issued",
        subject=invoice,
        subject_label=f"Invoice {invoice.number}",
        source="stripe",
        actor="connector",
        occurred_at=invoice.created_at,
        correlation_id=invoice.correlation_id,
    )
    payment = f.PaymentFactory(customer=invoice.customer)
    BusinessEvent.objects.create(
        type="payment.received",
        subject=payment,
        subject_label=f"Payment {payment.number}",
        source="stripe",
        actor="connector",
        occurred_at=invoice.created_at,
        correlation_id=invoice.correlation_id,
    )
    item = open_item(subject=invoice)
    sibling = open_item(dedupe_key="TAX_MISMATCH|other", code="TAX_MISMATCH", subject=invoice)
    client.force_login(analyst)
    html = client.get(url("detail", item)).content.decode()
    assert f'href="{reverse("invoice_detail", args=[invoice.pk])}"' in html
    assert f'href="{reverse("customer_detail", args=[invoice.customer_id])}"' in html
    assert f'href="{reverse("connectors:detail", args=[7])}"' in html
    assert f'href="{reverse("connectors:run_detail", args=[42])}"' in html
    assert f'href="{reverse("connectors:record_detail", args=[1001])}"' in html
    assert f'href="{url("detail", sibling)}"' in html
    assert f'href="{reverse("payment_detail", args=[payment.pk])}"' in html
    assert "payment.received" in html


# -- assign, comment, dismiss ---------------------------------------------------------


def test_it_assigns_to_me_to_someone_else_and_unassigns(client, analyst, integration_admin, item):
    client.force_login(analyst)
    response = client.post(url("assign", item), {"assignee": "me"})
    assert response.status_code == 302 and response["Location"] == url("detail", item)
    item.refresh_from_db()
    assert (item.assignee, item.status) == (analyst, S.IN_REVIEW)

    client.post(url("assign", item), {"assignee": str(integration_admin.pk)})
    item.refresh_from_db()
    assert item.assignee == integration_admin

    client.post(url("assign", item), {"assignee": ""})
    item.refresh_from_db()
    assert item.assignee is None and item.status == S.IN_REVIEW
    assert reasons(item)[-3:] == ["Assigned to analyst", "Assigned to integrator", "Unassigned"]
    assert item.history.first().history_user == analyst


def test_it_takes_an_item_for_the_person_acting(analyst, item):
    taken = exception_take(item=item, actor=Actor.for_user(analyst))
    assert taken.assignee == analyst and reasons(taken)[-1] == "Taken by analyst"
    with pytest.raises(DomainValidationError):
        exception_take(item=item, actor=SYNC)


def test_it_refuses_to_assign_someone_who_does_not_work_the_queue(client, analyst, auditor, item):
    client.force_login(analyst)
    for value in (str(auditor.pk), "not-a-user", "999999"):
        response = client.post(url("assign", item), {"assignee": value})
        assert response.status_code == 400
        assert "Choose someone who works exception items." in response.content.decode()
    item.refresh_from_db()
    assert item.assignee is None and item.history.count() == 1


def test_an_htmx_assign_swaps_the_item_with_a_message(client, analyst, item):
    client.force_login(analyst)
    response = client.post(
        url("assign", item), {"assignee": "me"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="item"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="item"')
    assert "is assigned to you" in html and "<html" not in html
    item.refresh_from_db()
    assert item.assignee == analyst


def test_it_adds_comments_to_the_timeline_in_order(client, analyst, item):
    client.force_login(analyst)
    client.post(url("assign", item), {"assignee": "me"})
    response = client.post(url("comment", item), {"body": "Asked billing to confirm the total."})
    assert response.status_code == 302
    comment = ExceptionComment.objects.get(item=item)
    assert (comment.author, comment.actor, comment.body) == (
        analyst,
        "analyst",
        "Asked billing to confirm the total.",
    )
    timeline = client.get(url("detail", item)).context["timeline"]
    assert [entry.kind for entry in timeline] == ["created", "changed", "comment"]
    assert timeline[-1].body == "Asked billing to confirm the total."


def test_an_empty_comment_is_a_form_error(client, analyst, item):
    client.force_login(analyst)
    response = client.post(url("comment", item), {"body": "   "})
    assert response.status_code == 400
    assert "Write a comment first." in response.content.decode()
    assert not ExceptionComment.objects.exists()


def test_it_dismisses_with_a_reason_and_only_with_one(client, analyst, item):
    client.force_login(analyst)
    response = client.post(url("dismiss", item), {"reason": " "})
    assert response.status_code == 400
    assert "Dismissing an item needs a reason." in response.content.decode()
    item.refresh_from_db()
    assert item.status == S.NEW

    response = client.post(url("dismiss", item), {"reason": "Test invoice, voided in Stripe"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.dismissed_reason) == (S.DISMISSED, "Test invoice, voided in Stripe")
    row = item.history.first()
    assert (row.history_user, row.history_change_reason) == (
        analyst,
        "Dismissed: Test invoice, voided in Stripe",
    )


# -- resubmit and check ---------------------------------------------------------------


def test_it_resubmits_the_corrected_values_in_their_json_types_and_records_the_diff(
    client, analyst, item, handler
):
    client.force_login(analyst)
    response = client.post(
        url("resubmit", item),
        {
            "fix_0": "10800",
            "extra_path": "paid",
            "extra_value": "true",
            "reason": "Total typed wrong in Stripe",
        },
    )
    assert response.status_code == 302
    assert handler.calls == [(item.pk, {"total": 10800, "paid": True}, "analyst")]
    item.refresh_from_db()
    assert item.status == S.RESOLVED and item.correction == {"total": 10800, "paid": True}
    resubmitted = item.history.filter(status=S.RESUBMITTED).get()
    assert resubmitted.history_user == analyst
    assert (
        resubmitted.history_change_reason
        == "Resubmitted with corrected paid, total: Total typed wrong in Stripe"
    )
    timeline = client.get(url("detail", item)).context["timeline"]
    corrections = [
        (c.field, c.old, c.new) for e in timeline for c in e.changes if c.field.startswith("Correction")
    ]
    assert corrections == [("Correction paid", "", "true"), ("Correction total", "", "10800")]


def test_a_second_resubmission_of_a_resolved_item_is_refused(client, analyst, item, handler):
    client.force_login(analyst)
    data = {"fix_0": "10800", "reason": "Total typed wrong"}
    assert client.post(url("resubmit", item), data).status_code == 302
    again = client.post(url("resubmit", item), data)  # a double click, or a second tab
    assert again.status_code == 400
    assert "This item is resolved; it cannot be resubmitted." in again.content.decode()
    assert len(handler.calls) == 1


def test_an_htmx_action_with_bad_input_swaps_in_the_form_with_its_error(client, analyst, item):
    client.force_login(analyst)
    response = client.post(
        url("dismiss", item), {"reason": ""}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="item"
    )
    assert response.status_code == 200  # htmx swaps only successful responses
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="item"')
    assert '<details class="dismiss" open>' in html and "Dismissing an item needs a reason." in html
    item.refresh_from_db()
    assert item.status == S.NEW


def test_it_resubmits_unchanged_values_as_received(client, analyst, item, handler):
    client.force_login(analyst)
    client.post(url("resubmit", item), {"fix_0": "18000", "reason": "Customer now synced"})
    assert handler.calls == [(item.pk, None, "analyst")]
    item.refresh_from_db()
    assert item.status == S.RESOLVED and item.correction is None
    assert "Resubmitted as received: Customer now synced" in reasons(item)


def test_a_suggested_fix_resubmits_its_own_correction(client, analyst, item, handler):
    client.force_login(analyst)
    response = client.post(url("resubmit", item), {"option": "use_lines", "reason": "Lines are right"})
    assert response.status_code == 302
    assert handler.calls == [(item.pk, {"total": 10800}, "analyst")]
    item.refresh_from_db()
    assert item.status == S.RESOLVED and item.correction == {"total": 10800}


def test_a_resubmission_that_fails_again_reopens_the_item_with_the_new_error(client, analyst, item, handler):
    def fail(item, correction, actor):
        raise ResubmitFailed(
            "Still off by 1", [{"field": "total", "message": "Still off by 1", "expected": 10801}]
        )

    handler.effect = fail
    client.force_login(analyst)
    response = client.post(url("resubmit", item), {"fix_0": "10800", "reason": "try"}, follow=True)
    assert "the step failed again: Still off by 1" in response.content.decode()
    item.refresh_from_db()
    assert (item.status, item.message, item.occurrences) == (S.NEW, "Still off by 1", 2)
    assert item.correction == {"total": 10800}
    # The new error keeps the payload path of the field, and the next form
    # starts from the correction, not from the value received.
    assert item.error_details[0]["path"] == "total"
    assert response.context["correction_form"]["fix_0"].value() == "10800"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"fix_0": "12.5", "reason": "r"}, "fix_0", "Enter a whole number"),
        ({"fix_0": "abc", "reason": "r"}, "fix_0", "Enter a number."),
        (
            {"extra_path": "lines.data.3.amount", "extra_value": "1", "reason": "r"},
            "extra_path",
            "no value at",
        ),
        (
            {"extra_path": "paid", "extra_value": "maybe", "reason": "r"},
            "extra_value",
            "Enter true or false.",
        ),
        ({"extra_path": "lines", "extra_value": "[1", "reason": "r"}, "extra_value", "Enter valid JSON"),
        ({"extra_value": "x", "reason": "r"}, "extra_path", "Say which field"),
        ({"fix_0": "10800", "reason": ""}, "reason", "required"),
    ],
)
def test_bad_correction_input_is_a_form_error_and_changes_nothing(
    client, analyst, item, handler, data, field, message
):
    client.force_login(analyst)
    response = client.post(url("resubmit", item), data)
    assert response.status_code == 400
    form = response.context["correction_form"]
    assert any(message in error for error in form.errors[field])
    assert handler.calls == []
    item.refresh_from_db()
    assert item.status == S.NEW and item.history.count() == 1


def test_an_unknown_suggested_fix_is_a_form_error(client, analyst, item, handler):
    client.force_login(analyst)
    response = client.post(url("resubmit", item), {"option": "made_up", "reason": "r"})
    assert response.status_code == 400
    assert "no longer offered" in response.content.decode()
    assert handler.calls == []


def test_the_check_runs_the_step_and_keeps_nothing(client, analyst, item, handler):
    customer_count = Customer.objects.count()

    def write_then_fail(item, correction, actor):
        f.CustomerFactory(name="Written by the dry run")
        item.save()
        raise ResubmitFailed(
            "Still off", [{"field": "total", "message": "Total still differs", "expected": 10800}]
        )

    handler.effect = write_then_fail
    client.force_login(analyst)
    response = client.post(
        url("check", item), {"fix_0": "10700"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="correction"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="panel" id="correction"')
    assert "The check met 1 problem" in html and "Total still differs" in html
    form = response.context["correction_form"]
    assert form.errors["fix_0"] == ["Total still differs"]  # shown under the input it is about
    assert handler.calls == [(item.pk, {"total": 10700}, "analyst")]
    assert Customer.objects.count() == customer_count
    item.refresh_from_db()
    assert item.status == S.NEW and item.correction is None and item.history.count() == 1


def test_the_check_says_when_a_correction_would_go_through(client, analyst, item, handler):
    client.force_login(analyst)
    response = client.post(url("check", item), {"fix_0": "10800"})
    assert response.status_code == 200
    assert "This correction would go through." in response.content.decode()
    item.refresh_from_db()
    assert item.status == S.NEW and item.history.count() == 1


def test_the_check_service_returns_the_errors_a_resubmission_would_meet(analyst, item, handler):
    handler.effect = lambda *_: (_ for _ in ()).throw(DomainValidationError({"total": ["Too large"]}))
    errors = exception_check_correction(item=item, correction={"total": 1}, actor=Actor.for_user(analyst))
    assert [(e["field"], e["message"]) for e in errors] == [("total", "Too large")]
    handler.effect = None
    assert exception_check_correction(item=item, correction=None, actor=Actor.for_user(analyst)) == []
    with pytest.raises(DomainValidationError):
        exception_check_correction(item=item, correction=["total"], actor=Actor.for_user(analyst))


def test_the_check_reports_a_pipeline_that_opens_the_item_again(analyst, item, handler):
    def reopen(item, correction, actor):
        open_item(
            message="Still does not add up.", error_details=[{"field": "total", "message": "Off by 100"}]
        )

    handler.effect = reopen
    errors = exception_check_correction(item=item, correction={"total": 10700}, actor=Actor.for_user(analyst))
    assert [(e["path"], e["message"]) for e in errors] == [("total", "Off by 100")]
    item.refresh_from_db()
    assert (item.status, item.occurrences, item.message) == (
        S.NEW,
        1,
        "The lines add up to 10800 but the invoice says 18000.",
    )
    assert item.history.count() == 1


def test_an_item_without_a_handler_offers_no_resubmission(client, analyst):
    item = open_item(step_key="nobody.handles_this")
    client.force_login(analyst)
    html = client.get(url("detail", item)).content.decode()
    assert "cannot be resubmitted from here" in html
    response = client.post(url("resubmit", item), {"reason": "try"})
    assert response.status_code == 400
    assert "No resubmit handler is registered" in response.content.decode()
    item.refresh_from_db()
    assert item.status == S.NEW


# -- closed items ---------------------------------------------------------------------


def test_a_closed_item_shows_no_forms_and_refuses_every_action(client, analyst, item, handler):
    exception_resolve(item=item, actor=Actor.for_user(analyst), note="Fixed in Stripe")
    client.force_login(analyst)
    html = client.get(url("detail", item)).content.decode()
    assert "Resolved: this item takes no more actions." in html
    for action in ("resubmit", "check", "assign", "dismiss", "comment"):
        assert f'action="{url(action, item)}"' not in html
    history = item.history.count()
    posts = [
        ("assign", {"assignee": "me"}, "This item is resolved; it cannot be assigned."),
        ("comment", {"body": "late note"}, "This item is resolved; it takes no more comments."),
        ("dismiss", {"reason": "no"}, "This item is resolved; it cannot be dismissed."),
        (
            "resubmit",
            {"fix_0": "10800", "reason": "again"},
            "This item is resolved; it cannot be resubmitted.",
        ),
        (
            "resubmit",
            {"option": "use_lines", "reason": "again"},
            "This item is resolved; it cannot be resubmitted.",
        ),
        ("check", {"fix_0": "10800"}, "This item is resolved; there is nothing to check."),
    ]
    for action, data, message in posts:
        response = client.post(url(action, item), data)
        assert response.status_code == 400, action
        assert message in response.content.decode(), action
    item.refresh_from_db()
    assert item.status == S.RESOLVED and item.assignee is None and item.history.count() == history
    assert handler.calls == [] and not ExceptionComment.objects.exists()


@pytest.mark.parametrize("action", ["assign", "comment", "dismiss", "resubmit", "check"])
def test_auditors_may_not_act_and_actions_answer_post_only(client, auditor, analyst, item, action):
    client.force_login(auditor)
    assert client.post(url(action, item), {"assignee": "me", "body": "x", "reason": "x"}).status_code == 403
    client.force_login(analyst)
    assert client.get(url(action, item)).status_code == 405
    item.refresh_from_db()
    assert item.history.count() == 1


# -- a connector item through the real handler ------------------------------------------


@pytest.fixture
def memory_source():
    MemoryKind.reset()
    yield MemoryKind
    MemoryKind.reset()


@pytest.fixture
def connector():
    return Connector.objects.create(name="mem", kind="memory", legal_entity=f.LegalEntityFactory())


@pytest.fixture
def unknown_customer_item(connector, memory_source, monkeypatch):
    """An invoice naming a customer revops does not know, opened by a sync run."""
    monkeypatch.setattr(MemoryKind, "payload_paths", {"invoice": {"customer_external_id": "customer"}})
    memory_source.source["customer"] = [{"id": "cus_1", "name": "Known Ltd", "currency": "USD"}]
    memory_source.source["invoice"] = [
        {
            "id": "in_1",
            "number": "INV-1",
            "customer": "cus_404",
            "currency": "USD",
            "total": "108.00",
            "tax": "8.00",
        }
    ]
    run = engine.run_create(connector=connector, trigger="manual")
    engine.execute_run(run.pk)
    return ExceptionItem.objects.get(code="UNKNOWN_CUSTOMER")


def test_a_connector_item_corrected_to_a_known_customer_is_written_and_resolved(
    client, analyst, unknown_customer_item
):
    item = unknown_customer_item
    client.force_login(analyst)
    page = client.get(url("detail", item))
    form = page.context["correction_form"]
    assert [(row.path, row.received) for row in form.rows] == [("customer", "cus_404")]

    check = client.post(url("check", item), {"fix_0": "cus_1"})
    assert "This correction would go through." in check.content.decode()
    assert not Invoice.objects.exists()  # the check kept nothing

    response = client.post(
        url("resubmit", item), {"fix_0": "cus_1", "reason": "Stripe merged cus_404 into cus_1"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == S.RESOLVED and item.correction == {"customer": "cus_1"}
    invoice = Invoice.objects.get(number="INV-1")
    assert invoice.customer.name == "Known Ltd"
    latest = invoice.history.first()
    assert latest.history_user == analyst and "resubmitted by analyst" in latest.history_actor
    again = client.post(url("resubmit", item), {"fix_0": "cus_1", "reason": "again"})
    assert again.status_code == 400 and Invoice.objects.count() == 1
    # The page now leads to the invoice written and to its flow.
    page = client.get(url("detail", item))
    related = page.context["related"]
    assert related.written.url == reverse("invoice_detail", args=[invoice.pk])
    assert related.correlation_id == invoice.correlation_id
    assert [event.type for event in related.events] == list(
        BusinessEvent.objects.filter(correlation_id=invoice.correlation_id)
        .order_by("occurred_at", "id")
        .values_list("type", flat=True)
    )
    assert related.events


def test_a_connector_item_corrected_to_another_unknown_customer_reopens_with_the_new_error(
    client, analyst, unknown_customer_item
):
    item = unknown_customer_item
    client.force_login(analyst)
    check = client.post(url("check", item), {"fix_0": "cus_777"})
    assert check.context["correction_form"].errors["fix_0"] == [
        "Customer cus_777 is not known in revops yet; sync or create it first."
    ]
    client.post(url("resubmit", item), {"fix_0": "cus_777", "reason": "Maybe this one"})
    item.refresh_from_db()
    assert item.status == S.NEW and item.occurrences == 2
    assert "cus_777" in item.message
    assert not Invoice.objects.exists()
    assert (
        InboundRecord.objects.get(external_id="in_1").payload["customer"] == "cus_404"
    )  # the raw store is untouched


def test_correction_form_reads_values_back_as_the_received_type(item):
    form = CorrectionForm({"fix_0": "1,080,0", "reason": "r"}, item=item)
    assert form.is_valid(), form.errors
    assert form.correction == {"total": 10800}


# -- payload paths and the payload tree -------------------------------------------------


def test_payload_paths_reach_into_objects_and_lists():
    payload = {"lines": {"data": [{"amount": 100}, {"amount": None}]}, "0": "key"}
    assert value_at(payload, "lines.data.1.amount") is None
    assert value_at(payload, "lines.data.0.amount") == 100
    assert value_at(payload, "0") == "key"
    for missing in ("lines.data.2.amount", "lines.data.x", "lines.data.0.amount.cents", "nope", ""):
        assert value_at(payload, missing) is MISSING


@pytest.mark.parametrize(
    ("text", "original", "value"),
    [
        ("10800", 18000, 10800),
        ("1,080", 18000, 1080),
        ("10.5", 1.25, 10.5),
        ("No", True, False),
        (" cus_1 ", "cus_9", "cus_1"),
        ("42", None, "42"),
        ('{"a": 1}', {"b": 2}, {"a": 1}),
        ("[1, 2]", [], [1, 2]),
    ],
)
def test_typed_text_is_read_as_the_type_of_the_value_it_replaces(text, original, value):
    parsed = parse_like(text, original)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    ("text", "original"), [("1.5", 100), ("NaN", 100), ("maybe", False), ("[1]", {"a": 1})]
)
def test_typed_text_that_cannot_be_of_that_type_is_refused(text, original):
    with pytest.raises(ValueTypeError):
        parse_like(text, original)


def test_a_large_payload_opens_only_along_the_failing_paths():
    payload = {
        "lines": {"data": [{"amount": i, "tax": {"rate": 8}} for i in range(30)]},
        "customer": {"id": "cus_9", "address": {"city": "SF"}},
    }
    html = str(payload_tree(payload, ["lines.data.3.amount"], {"lines.data.3.amount": 7}))
    assert '<li class="pt-leaf pt-fail pt-corrected" data-path="lines.data.3.amount">' in html
    assert '<span class="new" title="Corrected value">7</span>' in html
    assert '<li class="pt-node " data-path="lines.data.3"><details open>' in html
    assert '<li class="pt-node " data-path="lines.data.4"><details>' in html  # collapsed
    assert '<li class="pt-node " data-path="customer"><details>' in html


def test_a_small_payload_is_shown_open_and_escaped():
    html = str(payload_tree({"name": "<b>Acme</b>", "tags": ["a"]}, []))
    assert "&lt;b&gt;Acme&lt;/b&gt;" in html and "<b>Acme" not in html
    assert '<li class="pt-node " data-path="tags"><details open>' in html


# -- a tax mismatch fixed with one click --------------------------------------------------


@pytest.fixture
def tax_item():
    """TAX_MISMATCH opened by the pipeline: 7.25 charged where Irvine's 7.75 % is due."""
    TaxSourceKind.reset()
    entity = f.LegalEntityFactory()
    setup = Actor.for_system("revops", "setup")
    jurisdiction = tax.tax_jurisdiction_create(
        code="US-CA-92615", name="Irvine, CA 92615", country="US", region="CA", actor=setup, reason="Rates"
    )
    tax.tax_component_add(
        jurisdiction=jurisdiction,
        name="CA STATE AND LOCAL",
        authority="CALIFORNIA",
        type="state",
        rate=Decimal("7.75"),
        valid_from=dt.date(2017, 1, 1),
        actor=setup,
        reason="Rates",
    )
    connector = Connector.objects.create(name="billing-us", kind=TaxSourceKind.key, legal_entity=entity)
    TaxSourceKind.source["customer"] = [{"id": "cus_1", "name": "Yarn Shop Irvine", "currency": "USD"}]
    TaxSourceKind.source["invoice"] = [
        {
            "id": "in_T1",
            "number": "T1",
            "customer": "cus_1",
            "currency": "USD",
            "tax_mode": "exclusive",
            "lines": [{"amount": "100.00", "tax": "7.25", "jurisdiction": "US-CA-92615"}],
        }
    ]
    engine.execute_run(engine.run_create(connector=connector, trigger="manual").pk)
    yield ExceptionItem.objects.get(code="TAX_MISMATCH")
    TaxSourceKind.reset()


def test_a_tax_mismatch_is_corrected_to_the_expected_tax_with_one_click(client, analyst, tax_item):
    client.force_login(analyst)
    page = client.get(url("detail", tax_item))
    html = page.content.decode()
    assert 'name="option" value="use_expected"' in html and 'name="option" value="accept_source"' in html
    assert [row.expected for row in page.context["error_rows"]][-1] == "7.75"

    response = client.post(
        url("resubmit", tax_item), {"option": "use_expected", "reason": "District tax missing"}
    )
    assert response.status_code == 302
    tax_item.refresh_from_db()
    assert tax_item.status == S.RESOLVED and tax_item.correction == {"_tax": "use_expected"}
    invoice = Invoice.objects.get(number="T1")
    assert (invoice.tax_total, invoice.total) == (Decimal("7.75"), Decimal("107.75"))
    timeline = client.get(url("detail", tax_item)).context["timeline"]
    assert ("Correction _tax", "", "use_expected") in [
        (c.field, c.old, c.new) for e in timeline for c in e.changes
    ]


# -- other kinds of items -----------------------------------------------------------------


def test_a_dead_letter_without_failing_paths_offers_a_retry_as_received(client, analyst, handler):
    item = open_item(
        code="DEAD_LETTER",
        dedupe_key="DEAD_LETTER|stripe|run 9",
        title="stripe-eu: run 9 gave up after 5 attempts",
        message="GET https://api.stripe.com/v1/invoices timed out (ReadTimeout)",
        payload={"request": {"method": "GET", "url": "https://api.stripe.com/v1/invoices"}, "attempts": 5},
        error_details=["GET https://api.stripe.com/v1/invoices timed out"],
        suggested_correction=None,
    )
    client.force_login(analyst)
    page = client.get(url("detail", item))
    html = page.content.decode()
    assert page.context["correction_form"].rows == []
    assert '<details class="extra-field" open>' in html  # the free row is the only one
    assert "Dead letter" in html and 'name="option"' not in html
    client.post(url("resubmit", item), {"reason": "Stripe is back up"})
    assert handler.calls == [(item.pk, None, "analyst")]
    item.refresh_from_db()
    assert item.status == S.RESOLVED


def test_a_fault_in_the_step_is_reported_and_changes_nothing(client, analyst, item, handler):
    def crash(item, correction, actor):
        raise RuntimeError("database of the ERP is on fire")

    handler.effect = crash
    client.force_login(analyst)
    response = client.post(url("resubmit", item), {"fix_0": "10800", "reason": "try"})
    assert response.status_code == 400
    assert "The resubmission failed unexpectedly; nothing was changed." in response.content.decode()
    response = client.post(url("check", item), {"fix_0": "10800"})
    assert response.status_code == 400
    assert "The check failed unexpectedly; nothing was changed." in response.content.decode()
    item.refresh_from_db()
    assert item.status == S.NEW and item.correction is None and item.history.count() == 1
