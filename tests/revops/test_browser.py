"""End to end in a real browser: an analyst edits a customer and reads the history."""

from __future__ import annotations

import pytest

from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def customer():
    f.CustomerFactory(name="Kramerica")
    return f.CustomerFactory(name="Vandelay Industries", number="C-4242")


# The data is made before the browser starts: Playwright's sync API runs its
# own event loop, and ORM calls made inside it would open a second connection.
def test_an_analyst_edits_a_customer_and_sees_it_in_history(live_server, analyst, customer, page):

    page.goto(f"{live_server.url}/customers/")
    assert "/login/" in page.url  # nothing is public
    page.fill("#id_username", "analyst")
    page.fill("#id_password", f.PASSWORD)
    page.click("button[type=submit]")

    page.fill("#id_q", "Vandelay")
    page.wait_for_url("**/customers/?q=Vandelay")  # htmx pushes the filter into the address bar
    page.wait_for_selector("#results:not(:has-text('Kramerica'))")
    page.click("#results a:has-text('Vandelay Industries')")
    page.wait_for_url(f"**/customers/{customer.pk}/")

    page.click("a:has-text('Edit details')")
    page.fill("#id_name", "Vandelay Import Export")
    page.fill("#id_reason", "Renamed after merger (ticket 9)")
    page.click("button:has-text('Save changes')")
    page.wait_for_selector(".message-success")
    assert page.locator("h1").first.inner_text().startswith("Vandelay Import Export")

    page.click(".tabs a:has-text('History')")
    page.wait_for_selector("table.history")
    assert page.url.endswith(f"/customers/{customer.pk}/history/")  # htmx pushed the tab's URL
    row = page.locator("table.history tbody tr").first
    assert row.locator(".old").first.inner_text() == "Vandelay Industries"
    assert row.locator(".new").first.inner_text() == "Vandelay Import Export"
    text = row.inner_text()
    assert "analyst" in text
    assert "Renamed after merger (ticket 9)" in text
