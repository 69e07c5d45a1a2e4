"""The embedded default (SQLite) keeps the money invariants exactly.

SQLite evaluates decimal arithmetic in binary floating point, where 3790.00 +
274.78 is not 4064.78. This runs a real invoice → partial payment → credit →
final payment flow on a freshly migrated SQLite database in a subprocess, and checks that
a wrong total is still refused there.
"""

from __future__ import annotations

SCRIPT = r"""
import datetime as dt
from decimal import Decimal as D

import django
django.setup()
from django.db import IntegrityError, transaction

from revops.actors import Actor
from revops.models import Invoice
from revops.services import billing, parties, payments

a = Actor.for_system("test", "sqlite money check")
le = parties.legal_entity_create(code="US01", name="Acme", country="US", functional_currency="USD", actor=a)
c = parties.customer_create(number="C1", name="Globex", legal_entity=le, currency="USD", country="US", actor=a)
inv = billing.invoice_create(
    number="INV-1", customer=c, issue_date=dt.date(2026, 3, 1), actor=a,
    lines=[billing.InvoiceLineSpec("Seats", 1, "3790.00", tax_amount="274.78")],
)
assert (inv.subtotal, inv.tax_total, inv.total) == (D("3790.00"), D("274.78"), D("4064.78")), inv.total
p1 = payments.payment_receive(number="P1", legal_entity=le, customer=c, amount="1000.10", currency="USD",
                              received_date=dt.date(2026, 3, 5), method="card", actor=a)
payments.payment_apply(payment=p1, invoice=inv, actor=a)
billing.credit_note_issue(invoice=inv, number="CN-1", issue_date=dt.date(2026, 3, 6), actor=a,
                          reason="Goodwill", lines=[billing.CreditLineSpec("Credit", "0.30")])
inv.refresh_from_db()
p2 = payments.payment_receive(number="P2", legal_entity=le, customer=c, amount=inv.amount_due, currency="USD",
                              received_date=dt.date(2026, 3, 9), method="card", actor=a)
payments.payment_apply(payment=p2, invoice=inv, actor=a)
inv.refresh_from_db()
assert inv.status == "paid" and inv.amount_due == 0, (inv.status, inv.amount_due)
try:
    with transaction.atomic():
        Invoice.objects.filter(pk=inv.pk).update(total=D("4064.77"))
except IntegrityError as exc:
    assert "invoice_total_follows_tax_mode" in str(exc) or "CHECK constraint failed" in str(exc), exc
else:
    raise AssertionError("SQLite accepted a total that is not subtotal + tax")
print("ok")
"""


def test_money_constraints_hold_exactly_on_the_embedded_database(run_on_embedded):
    run_on_embedded(SCRIPT)
