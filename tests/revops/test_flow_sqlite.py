"""The business SLA counts on the embedded default (SQLite), which the demo's
dashboard runs on: date and interval arithmetic there is not PostgreSQL's."""

from __future__ import annotations

SCRIPT = r"""
import datetime as dt
import uuid

import django
django.setup()

from revops.actors import Actor
from revops.selectors.flow import flow_detail
from revops.selectors.sla import SLAS, breach_rows, sla_breach_counts, sla_breaches
from revops.services.events import event_record
from tests import factories as f

now = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
a = Actor.for_system("test", "sqlite sla check")
def at(day, hour):
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)
contract = f.ContractFactory(status="active", activated_at=at(2, 12))
cid = contract.correlation_id
event_record(type="deal.won", subject=contract, actor=a, occurred_at=at(1, 9), correlation_id=cid)
event_record(type="contract.activated", subject=contract, actor=a, occurred_at=at(2, 12), correlation_id=cid)
late = f.InvoiceFactory(customer=contract.customer, contract=contract, correlation_id=cid,
                        period_start=dt.date(2026, 2, 1), period_end=dt.date(2026, 2, 28))
event_record(type="invoice.issued", subject=late, actor=a, occurred_at=at(5, 1), correlation_id=cid)
on_time = f.InvoiceFactory(customer=contract.customer, contract=contract, correlation_id=cid,
                           period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 3, 10))
event_record(type="invoice.issued", subject=on_time, actor=a, occurred_at=at(12, 23), correlation_id=cid)
payment = f.PaymentFactory(customer=contract.customer)
event_record(type="payment.received", subject=payment, actor=a, occurred_at=at(15, 8),
             correlation_id=uuid.uuid4())

counts = {row.sla.key: row.count for row in sla_breach_counts(now=now)}
# 27 h to activate (> 24 h); 97 h from February's end to INV issue (> 72 h), 71 h for March's
# first period (within); a payment unapplied for 5 days (> 48 h); no ERP connector posts.
assert counts == {"order_activation": 1, "invoice_generation": 1, "payment_posting": 1, "erp_sync": 0}, counts
rows = breach_rows(SLAS["invoice_generation"], list(sla_breaches(SLAS["invoice_generation"], now=now)), now=now)
assert [(r.subject_label, r.elapsed) for r in rows] == [(late.number, dt.timedelta(hours=97))], rows
steps = {s.key: s for stage in flow_detail(cid, now=now).stages for s in stage.steps}
assert steps["contract_activated"].breaching
print("ok")
"""


def test_the_sla_counts_hold_on_the_embedded_database(run_on_embedded):
    run_on_embedded(SCRIPT)
