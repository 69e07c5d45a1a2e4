"""The matching engine on the embedded default (SQLite), which the demo runs
on: its statements are spelled for both databases (`reconciliation.sql`), and
this runs a whole reconciliation there, every rule kind and a break included."""

from __future__ import annotations

SCRIPT = r"""
import django
django.setup()

from exceptions_queue.models import ExceptionItem
from tests import factories as f
from reconciliation import services
from reconciliation.models import Kind
from tests.reconciliation.conftest import ADMIN, add_rule, erp, invoice, known_as, outcomes, run

recon = services.reconciliation_save(name="Billing ⇄ NetSuite", kind=Kind.INVOICES_ERP,
    external_system="netsuite", lookback_days=3000, actor=ADMIN, reason="test")
add_rule(recon, 10, "Same number", method="exact_reference", amount_tolerance="0.01", compare_tax=True)
add_rule(recon, 20, "Within 2 %", method="exact_reference", tolerance_percent="2", action="suggest")
add_rule(recon, 30, "Customer and amount", method="amount_customer_date", date_window_days=3, action="suggest")
customer = f.CustomerFactory(number="C-100")
invoice(customer, "INV-1"); erp("ns-1", "inv 1")                       # same reference, loosely
invoice(customer, "INV-2"); erp("INV-2", "NS-778")                    # the ERP's external id is ours
known_as(invoice(customer, "INV-3"), "netsuite", "invoice", "ns/3")
erp("NS-3", "NSX-3")                                                   # both know NetSuite's id
invoice(customer, "INV-4", total="1000.00", tax="0"); erp("ns-4", "INV-4", amount="990.00", tax="0")
invoice(customer, "INV-5", total="250.00", tax="0")                    # missing from the ERP
result = run(recon)
assert result.status == "succeeded", result.error
seen = outcomes(result)
assert seen[("left", "INV-1")][0] == "matched", seen
assert seen[("left", "INV-2")][0] == "matched", seen
assert seen[("left", "INV-3")][0] == "matched", seen
assert seen[("left", "INV-4")][0] == "suggested", seen
assert seen[("left", "INV-5")][0] == "unmatched", seen
assert (result.matched_groups, result.suggested_groups, result.left_unmatched) == (3, 1, 1)
assert result.breaks_opened == 1
assert ExceptionItem.objects.get(code="RECONCILIATION_BREAK").amount == 250
erp("ns-5", "INV-5", amount="250.00", tax="0")
later = run(recon)
assert later.breaks_resolved == 1, later.error
print("ok")
"""


def test_a_whole_reconciliation_runs_on_the_embedded_database(run_on_embedded):
    run_on_embedded(SCRIPT)
