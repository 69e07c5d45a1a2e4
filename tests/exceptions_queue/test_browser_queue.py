"""End to end in a real browser: an analyst narrows the queue with a filter
(the results change in place and the address bar keeps the filter), ticks
every item on the page and opens the bulk assignment for them."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.exceptions_queue.queue_factories import ExceptionItemFactory as Item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


# The data is made before the browser starts (see tests/revops/test_browser.py).
def test_an_analyst_filters_the_queue_and_selects_a_page_for_bulk_assignment(live_server, analyst, page):
    late = [Item(code="LATE_USAGE", object_label=f"CT-LATE-{n}") for n in range(2)]
    Item(code="TAX_MISMATCH", object_label="INV-TAX-1")

    page.goto(f"{live_server.url}/exceptions/")
    page.fill("#id_username", "analyst")
    page.fill("#id_password", f.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#results :text('INV-TAX-1')")

    page.select_option("#id_code", "LATE_USAGE")
    page.wait_for_url("**/exceptions/?code=LATE_USAGE")  # htmx pushed the filter into the address bar
    page.wait_for_selector("#results:not(:has-text('INV-TAX-1'))")
    assert page.locator("#results .queue-description").inner_text().startswith("Open · Late usage · 2 items")

    page.keyboard.press("/")  # the search box is one key away
    assert page.evaluate("document.activeElement.id") == "id_q"

    page.check("[data-select-all]")
    assert page.locator("input[name=ids]:checked").count() == 2
    page.click("button[name=action][value=assign]")
    page.wait_for_url("**/exceptions/bulk/?**")
    assert "action=assign" in page.url
    assert all(f"ids={item.pk}" in page.url for item in late)
