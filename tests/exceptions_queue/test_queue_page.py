"""The exception queue page: rows, filters through the page, counts, saved views,
bulk controls by permission and htmx partials."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from exceptions_queue.models import ExceptionItem, SavedView
from tests import factories as f
from tests.exceptions_queue.queue_factories import ExceptionItemFactory as Item

pytestmark = pytest.mark.django_db

S = ExceptionItem.Status
URL = "/exceptions/"


def test_it_lists_open_items_with_what_each_row_tells(client, analyst):
    customer = f.CustomerFactory(name="Hooli Europe GmbH")
    overdue = Item(
        object_label="INV-000042",
        customer=customer,
        amount="1250.50",
        currency="EUR",
        due_at=timezone.now() - dt.timedelta(hours=5),
        occurrences=7,
        assignee=analyst,
    )
    Item(status=S.RESOLVED, object_label="INV-CLOSED")
    client.force_login(analyst)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "INV-000042" in html and "INV-CLOSED" not in html
    assert "Exceptions" in html and 'href="/exceptions/" aria-current="page"' in html
    assert "Hooli Europe GmbH" in html and "1,250.50" in html
    assert "overdue 5 h" in html and "is-overdue" in html
    assert reverse("exceptions_queue:detail", args=[overdue.pk]) in html


def test_it_needs_the_view_permission(client, no_role_user):
    client.force_login(no_role_user)
    assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302


def test_it_filters_through_the_page_and_shows_bad_values_as_errors(client, analyst):
    Item(code="TAX_MISMATCH", object_label="INV-TAX")
    Item(code="LATE_USAGE", object_label="CT-LATE")
    client.force_login(analyst)
    html = client.get(URL, {"code": "LATE_USAGE"}).content.decode()
    assert "CT-LATE" in html and "INV-TAX" not in html
    response = client.get(URL, {"code": "NOPE", "older_than": "soon", "sort": "x", "page": "zz"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Some filters were left out" in html and "CT-LATE" in html and "INV-TAX" in html


def test_it_answers_htmx_with_the_results_only_and_keeps_the_url(client, analyst):
    Item(object_label="INV-HX")
    client.force_login(analyst)
    response = client.get(URL, {"q": "INV-HX"}, headers={"HX-Request": "true", "HX-Target": "results"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="results"') and "<html" not in html
    assert "INV-HX" in html and 'class="queue-views"' not in html
    assert "HX-Request" in response["Vary"]


def test_it_counts_items_per_status_and_code_for_the_filter(client, analyst):
    for _ in range(3):
        Item(code="TAX_MISMATCH")
    Item(code="TAX_MISMATCH", status=S.IN_REVIEW)
    Item(code="LATE_USAGE")
    Item(code="TAX_MISMATCH", status=S.RESOLVED)
    client.force_login(analyst)
    response = client.get(URL, {"code": "TAX_MISMATCH"})
    statuses = {f["value"]: f["count"] for f in response.context["status_facets"]}
    codes = {f["value"]: f["count"] for f in response.context["code_facets"]}
    assert statuses == {"new": 3, "in_review": 1, "resubmitted": 0, "resolved": 1, "dismissed": 0}
    assert codes == {"TAX_MISMATCH": 4, "LATE_USAGE": 1}
    assert response.context["page"].count == 4
    # Beyond status and code, one bounded pass counts the open statuses; closed ones go without numbers.
    response = client.get(URL, {"code": "TAX_MISMATCH", "sla": "none"})
    statuses = {f["value"]: f["count"] for f in response.context["status_facets"]}
    assert statuses == {"new": 3, "in_review": 1, "resubmitted": 0, "resolved": None, "dismissed": None}
    assert response.context["page"].count == 4  # the open statuses' counts add up to the total


def test_it_caps_counts_and_says_so(client, analyst, monkeypatch):
    from exceptions_queue.views import queue

    monkeypatch.setattr(queue, "QUEUE_COUNT_CAP", 2)
    for _ in range(3):
        Item()
    client.force_login(analyst)
    response = client.get(URL)
    assert response.context["page"].count_label == "2+"
    assert "2+ items" in response.content.decode()


def test_it_shows_built_in_views_with_counts_and_marks_the_current_one(client, analyst):
    Item(assignee=analyst)
    Item(due_at=timezone.now() - dt.timedelta(hours=1))
    Item(due_at=timezone.now() - dt.timedelta(hours=2), assignee=analyst)
    client.force_login(analyst)
    response = client.get(URL, {"sla": "breaching"})
    views = {v["name"]: v for v in response.context["built_in_views"]}
    assert {name: v["count"] for name, v in views.items()} == {
        "All open": 3,
        "Assigned to me": 2,
        "Breaching SLA": 2,
        "Unassigned": 1,
    }
    assert views["Breaching SLA"]["current"] and not views["All open"]["current"]
    assert 'href="/exceptions/?assignee=me"' in response.content.decode()


def test_it_saves_a_view_for_its_owner_only_and_deletes_it(client, analyst, auditor):
    mine = Item(assignee=analyst, code="LATE_USAGE")
    client.force_login(analyst)
    response = client.post(
        reverse("exceptions_queue:saved_view_add"),
        {"name": "  My late usage ", "query": "code=LATE_USAGE&assignee=me&page=3&evil=1"},
    )
    assert response.status_code == 302 and response["Location"] == "/exceptions/?code=LATE_USAGE&assignee=me"
    view = SavedView.objects.get(user=analyst)
    assert (view.name, view.query) == ("My late usage", "code=LATE_USAGE&assignee=me")
    page = client.get(URL + "?" + view.query)
    assert [entry["view"] for entry in page.context["saved_views"]] == [view]
    assert page.context["saved_views"][0]["current"]
    assert [row["pk"] for row in page.context["rows"]] == [mine.pk]
    # Saving under the same name replaces the filter.
    client.post(reverse("exceptions_queue:saved_view_add"), {"name": "My late usage", "query": "sla=none"})
    assert list(SavedView.objects.values_list("query", flat=True)) == ["sla=none"]
    # Someone else neither sees nor deletes it.
    client.force_login(auditor)
    assert client.get(URL).context["saved_views"] == []
    assert client.post(reverse("exceptions_queue:saved_view_remove", args=[view.pk])).status_code == 404
    client.force_login(analyst)
    client.post(reverse("exceptions_queue:saved_view_remove", args=[view.pk]))
    assert not SavedView.objects.exists()


def test_it_refuses_a_saved_view_without_a_name(client, analyst):
    client.force_login(analyst)
    response = client.post(
        reverse("exceptions_queue:saved_view_add"), {"name": "   ", "query": "sla=none"}, follow=True
    )
    assert "Give the view a name." in response.content.decode()
    assert not SavedView.objects.exists()
    assert client.get(reverse("exceptions_queue:saved_view_add")).status_code == 405


def test_it_offers_bulk_controls_only_to_people_who_may_change_items(client, analyst, auditor):
    items = [Item() for _ in range(3)]
    client.force_login(analyst)
    html = client.get(URL).content.decode()
    assert reverse("exceptions_queue:bulk_confirm") in html
    assert 'name="action" value="assign"' in html and 'name="action" value="dismiss"' in html
    assert f'name="ids" value="{items[0].pk}"' in html and "data-select-all" in html
    client.force_login(auditor)
    html = client.get(URL).content.decode()
    assert reverse("exceptions_queue:bulk_confirm") not in html
    assert 'name="ids"' not in html and 'name="action"' not in html


def test_it_offers_select_all_matching_when_the_filter_spans_pages(client, analyst, monkeypatch):
    from exceptions_queue.views import queue

    monkeypatch.setattr(queue, "QUEUE_PER_PAGE", 2)
    for _ in range(3):
        Item(code="LATE_USAGE")
    client.force_login(analyst)
    html = client.get(URL, {"code": "LATE_USAGE"}).content.decode()
    assert 'name="scope" value="filter"' in html and "Select all 3 matching" in html
    # The bulk form carries the filter, so "all matching" means this filter.
    assert '<input type="hidden" name="code" value="LATE_USAGE">' in html
    html = client.get(URL, {"code": "LATE_USAGE", "page": "2"}).content.decode()
    assert html.count('name="ids"') == 1


def test_it_pages_through_items_in_the_chosen_order(client, analyst, monkeypatch):
    from exceptions_queue.views import queue

    monkeypatch.setattr(queue, "QUEUE_PER_PAGE", 2)
    now = timezone.now()
    made = [Item(occurrences=n, last_seen_at=now - dt.timedelta(minutes=n)) for n in (1, 5, 3)]
    client.force_login(analyst)
    first = client.get(URL, {"sort": "occurrences"})
    second = client.get(URL, {"sort": "occurrences", "page": "2"})
    assert [r["pk"] for r in first.context["rows"]] == [made[1].pk, made[2].pk]
    assert [r["pk"] for r in second.context["rows"]] == [made[0].pk]
    assert "sort=occurrences&amp;page=2" in first.content.decode()


def test_it_puts_queue_tiles_on_the_dashboard(client, analyst):
    Item()
    Item(due_at=timezone.now() - dt.timedelta(hours=1))
    Item(status=S.RESOLVED)
    client.force_login(analyst)
    response = client.get(reverse("dashboard"))
    tiles = {tile.label: tile for tile in response.context["board"].tiles}
    assert tiles["Open exception items"].count == 2
    assert tiles["Exceptions breaching SLA"].count == 1
    assert 'href="/exceptions/?sla=breaching"' in response.content.decode()


def test_it_shows_facets_without_numbers_when_counting_took_too_long(client, analyst, monkeypatch):
    from exceptions_queue.codes import ExceptionCode
    from exceptions_queue.views import queue

    monkeypatch.setattr(queue, "sampled_counts", lambda condition, fields: (None, False))
    Item(code="LATE_USAGE", object_label="CT-1")
    client.force_login(analyst)
    response = client.get(URL, {"sla": "none"})
    assert response.status_code == 200
    assert response.context["page"].count == 1  # counted on its own instead
    assert len(response.context["code_facets"]) == len(ExceptionCode.values)
    assert {f["count"] for f in response.context["status_facets"]} == {None}
    assert ">Late usage</a>" in response.content.decode()


def test_it_counts_both_facets_in_one_pass_for_open_items(client, analyst):
    Item(code="TAX_MISMATCH", due_at=None)
    Item(code="TAX_MISMATCH", status=S.IN_REVIEW, due_at=None)
    Item(code="LATE_USAGE", status=S.RESUBMITTED, due_at=None)
    Item(code="LATE_USAGE", due_at=timezone.now() + dt.timedelta(days=2))
    client.force_login(analyst)
    response = client.get(URL, {"sla": "none"})
    statuses = {f["value"]: f["count"] for f in response.context["status_facets"]}
    codes = {f["value"]: f["count"] for f in response.context["code_facets"]}
    assert statuses == {"new": 1, "in_review": 1, "resubmitted": 1, "resolved": None, "dismissed": None}
    assert codes == {"TAX_MISMATCH": 2, "LATE_USAGE": 1}
    assert response.context["page"].count == 3
