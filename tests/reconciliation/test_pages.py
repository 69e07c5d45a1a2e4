"""The reconciliation pages as each role uses them."""

from __future__ import annotations

import csv
import io

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse

from exceptions_queue.models import ExceptionItem
from reconciliation.models import MatchDecision, MatchRule, Reconciliation, Run
from tests.reconciliation.conftest import erp, invoice, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(erp_recon, customer):
    invoice(customer, "INV-40", total="100.00", tax="0")
    invoice(customer, "INV-41", total="1000.00", tax="0")
    invoice(customer, "INV-42", total="75.00", tax="0")
    erp("ns-40", "INV-40", amount="100.00", tax="0")
    erp("ns-41", "INV-41", amount="995.00", tax="0")
    return run(erp_recon)


def test_the_list_shows_each_reconciliation_with_its_latest_run(client, auditor, report):
    client.force_login(auditor)
    page = client.get(reverse("reconciliation:list")).content.decode()
    assert "Billing ⇄ NetSuite" in page and f"Run {report.pk}" in page
    assert "Run now" not in page  # auditors read only


def test_the_run_report_shows_totals_and_unmatched_lines(client, analyst, report):
    client.force_login(analyst)
    page = client.get(reverse("reconciliation:run", args=[report.pk])).content.decode()
    assert "INV-42" in page and "75.00" in page
    assert "INV-40" not in page  # matched lines are on their own tab
    matched = client.get(
        reverse("reconciliation:run", args=[report.pk]), {"outcome": "matched"}
    ).content.decode()
    assert "INV-40" in matched and "Same number, same amounts" in matched


def test_the_run_report_lists_the_steps_in_the_order_they_ran(client, analyst, report):
    client.force_login(analyst)
    page = client.get(reverse("reconciliation:run", args=[report.pk])).content.decode()
    assert f"<dt>Took</dt><dd>{floatformat(report.seconds_taken, 1)} s: load both sides" in page
    steps = [name for name, _ in report.phase_times]
    assert steps[0] == "load both sides" and steps[-1] == "commit and counts"
    # JSONB sorts an object's keys by length: a list keeps the order of the run.
    assert (
        page.index("load both sides")
        < page.index("rule 10: Same number, same amounts")
        < page.index("commit and counts")
    )
    # Runs stored before the steps were a list still show theirs.
    Run.objects.filter(pk=report.pk).update(phases={"load both sides": 1.5, "rules": 2.25})
    page = client.get(reverse("reconciliation:run", args=[report.pk])).content.decode()
    assert "load both sides 1.50 s" in page and "rules 2.25 s" in page


def test_htmx_asks_for_the_lines_only(client, analyst, report):
    client.force_login(analyst)
    response = client.get(
        reverse("reconciliation:run", args=[report.pk]),
        {"outcome": "suggested"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results"') and "INV-41" in body
    assert "<html" not in body


def test_an_analyst_confirms_the_ticked_suggestions(client, analyst, report):
    client.force_login(analyst)
    group = report.lines.get(outcome="suggested").group_no
    response = client.post(
        reverse("reconciliation:decide", args=[report.pk]), {"decision": "confirmed", "ids": [group]}
    )
    assert response.status_code == 302
    assert MatchDecision.objects.get().decision == "confirmed"
    assert report.lines.get(outcome="suggested").decided == "confirmed"


def test_rejecting_without_a_reason_says_what_is_missing(client, analyst, report):
    client.force_login(analyst)
    group = report.lines.get(outcome="suggested").group_no
    response = client.post(
        reverse("reconciliation:decide", args=[report.pk]),
        {"decision": "rejected", "ids": [group]},
        follow=True,
    )
    assert "Say why the suggestion is wrong" in response.content.decode()
    assert not MatchDecision.objects.exists()


def test_a_bogus_selection_is_refused_with_a_message(client, analyst, report):
    client.force_login(analyst)
    response = client.post(
        reverse("reconciliation:decide", args=[report.pk]),
        {"decision": "confirmed", "ids": ["x"]},
        follow=True,
    )
    assert response.status_code == 200
    assert "not a group number" in response.content.decode()


def test_the_csv_export_has_every_line(client, auditor, report):
    client.force_login(auditor)
    response = client.get(reverse("reconciliation:run_export", args=[report.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "outcome"
    assert sorted(row[0] for row in rows[1:]) == ["matched", "suggested", "unmatched"]
    matched = next(row for row in rows if row[0] == "matched")
    assert matched[6] == "INV-40" and matched[13] == "INV-40" and matched[-1] == "0.0000"


def test_run_now_queues_a_run(client, analyst, erp_recon, django_capture_on_commit_callbacks):
    client.force_login(analyst)
    with django_capture_on_commit_callbacks():
        response = client.post(reverse("reconciliation:run_start", args=[erp_recon.pk]))
    queued = Run.objects.get()
    assert response.url == reverse("reconciliation:run", args=[queued.pk])
    assert queued.status == "queued" and queued.requested_by == "analyst"


def test_a_second_run_while_one_is_queued_is_refused_with_a_message(client, analyst, erp_recon):
    client.force_login(analyst)
    client.post(reverse("reconciliation:run_start", args=[erp_recon.pk]))
    response = client.post(reverse("reconciliation:run_start", args=[erp_recon.pk]), follow=True)
    assert "already running" in response.content.decode()
    assert Run.objects.count() == 1


def test_an_admin_adds_a_rule_with_a_reason(client, integration_admin, erp_recon):
    client.force_login(integration_admin)
    response = client.post(
        reverse("reconciliation:rule_add", args=[erp_recon.pk]),
        {
            "position": 40,
            "name": "Customer and amount, 1:N",
            "method": "amount_customer_date",
            "cardinality": "1:N",
            "action": "suggest",
            "amount_tolerance": "0",
            "tolerance_percent": "0",
            "date_window_days": 5,
            "enabled": "on",
            "reason": "Customers pay several invoices at once",
        },
    )
    assert response.status_code == 302
    rule = MatchRule.objects.get(position=40)
    assert rule.history.get().history_change_reason == "Customers pay several invoices at once"


def test_a_taken_position_is_refused_on_the_field(client, integration_admin, erp_recon):
    client.force_login(integration_admin)
    response = client.post(
        reverse("reconciliation:rule_add", args=[erp_recon.pk]),
        {
            "position": 10,
            "name": "Clash",
            "method": "exact_reference",
            "cardinality": "1:1",
            "action": "auto",
            "amount_tolerance": "0",
            "tolerance_percent": "0",
            "date_window_days": 0,
            "reason": "test",
        },
    )
    assert response.status_code == 400
    assert "Position 10 is taken" in response.content.decode()


def test_an_erp_reconciliation_needs_the_other_system(client, integration_admin):
    client.force_login(integration_admin)
    response = client.post(
        reverse("reconciliation:add"),
        {
            "name": "No system",
            "kind": "invoices_erp",
            "lookback_days": 30,
            "every_hours": 24,
            "reason": "test",
        },
    )
    assert response.status_code == 400
    assert "Name the system" in response.content.decode()
    assert not Reconciliation.objects.exists()


def test_breaks_link_back_from_the_queue_item(client, analyst, report):
    item = ExceptionItem.objects.get(payload__reference="INV-42")
    client.force_login(analyst)
    assert client.get(reverse("exceptions_queue:detail", args=[item.pk])).status_code == 200
