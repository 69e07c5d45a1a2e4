"""End to end in a real browser: an analyst opens an item a sync run opened for
an invoice naming a customer revops does not know, checks a correction,
resubmits it, and sees the item resolved with the correction in its timeline."""

from __future__ import annotations

import pytest

from connectors import engine
from connectors.models import Connector
from connectors.resubmit import register_kind_handlers
from exceptions_queue.models import ExceptionItem
from revops.models import Invoice
from tests import factories as f
from tests.connectors.memory_kind import MemoryKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

register_kind_handlers(MemoryKind)


@pytest.fixture
def item(monkeypatch):
    """UNKNOWN_CUSTOMER for invoice INV-77: it names cus_404, which was never
    synced; the customer it should name, cus_1, is known."""
    MemoryKind.reset()
    # Like the Stripe kind, say where the customer is in the payload.
    monkeypatch.setattr(MemoryKind, "payload_paths", {"invoice": {"customer_external_id": "customer"}})
    MemoryKind.source["customer"] = [{"id": "cus_1", "name": "Known Ltd", "currency": "USD"}]
    MemoryKind.source["invoice"] = [
        {
            "id": "in_77",
            "number": "INV-77",
            "customer": "cus_404",
            "currency": "USD",
            "total": "54.00",
            "tax": "4.00",
        }
    ]
    connector = Connector.objects.create(name="mem", kind="memory", legal_entity=f.LegalEntityFactory())
    engine.execute_run(engine.run_create(connector=connector, trigger="manual").pk)
    yield ExceptionItem.objects.get(code="UNKNOWN_CUSTOMER")
    MemoryKind.reset()


# The data is made before the browser starts: Playwright's sync API runs its
# own event loop, and ORM calls made inside it would open a second connection.
def test_an_analyst_corrects_the_customer_and_resubmits(live_server, analyst, item, page):
    page.goto(f"{live_server.url}/exceptions/{item.pk}/")
    assert "/login/" in page.url
    page.fill("#id_username", "analyst")
    page.fill("#id_password", f.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/exceptions/{item.pk}/")

    # What is wrong, and where: the customer value is highlighted in the payload.
    assert "Unknown customer" in page.locator("h1").inner_text()
    assert "cus_404" in page.locator(".problem").inner_text()
    assert page.locator('.payload-tree li.pt-fail[data-path="customer"]').count() == 1

    # A customer that does not exist either: the check says so under the input.
    field = page.locator('#correction input[data-path="customer"]')
    assert field.input_value() == "cus_404"
    field.fill("cus_999")
    page.click("#correction button:has-text('Check')")
    page.wait_for_selector("#correction .check-failed")
    assert "Customer cus_999 is not known" in page.locator("#correction tr.has-error").inner_text()

    # The right one goes through; the check kept nothing.
    page.locator('#correction input[data-path="customer"]').fill("cus_1")
    page.click("#correction button:has-text('Check')")
    page.wait_for_selector("#correction .check-ok")
    assert not Invoice.objects.exists()

    page.fill("#correction #id_reason", "Stripe merged cus_404 into cus_1 (ticket 311)")
    page.click("#correction button:has-text('Resubmit')")
    page.wait_for_selector("#item .message-success")
    assert "is resolved" in page.locator("#item .message-success").inner_text()
    assert page.locator(".item-head .pill-resolved").count() == 1
    assert page.locator("#correction").count() == 0  # a closed item takes no more actions

    timeline = page.locator("#timeline")
    entry = timeline.locator("li.tl-entry", has_text="Correction customer").first
    assert "cus_1" in entry.locator(".new").first.inner_text()
    assert "Stripe merged cus_404 into cus_1 (ticket 311)" in entry.inner_text()
    assert "analyst" in entry.inner_text()
    assert "Resubmitted successfully" in timeline.inner_text()

    item.refresh_from_db()
    assert item.status == ExceptionItem.Status.RESOLVED and item.correction == {"customer": "cus_1"}
    assert Invoice.objects.get(number="INV-77").customer.name == "Known Ltd"
