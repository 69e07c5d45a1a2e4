"""Objects the role walk needs only for the API's detail URLs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from revops.actors import Actor
from revops.models import ContractLine, UsageRecord
from revops.services import billing
from revops.services.events import event_record
from tests import factories as f

WALK = Actor.for_system("tests", "api walk")


def walk_object(objects: dict, kind: str):
    if kind == "credit_note":
        return billing.credit_note_issue(
            invoice=objects["invoice"],
            number="CN-WALK",
            issue_date=dt.date(2026, 3, 2),
            lines=[billing.CreditLineSpec("Walk credit", Decimal("10.00"), tax_amount=Decimal("0"))],
            actor=WALK,
            reason="walk",
        )
    if kind == "usage":
        line = ContractLine.objects.create(
            contract=objects["contract"],
            product=f.ProductFactory(),
            quantity=Decimal(1),
            unit_price=Decimal(1),
            effective_from=dt.date(2026, 1, 1),
        )
        return UsageRecord.objects.create(
            contract_line=line,
            quantity=Decimal(1),
            usage_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
            period_start=dt.date(2026, 3, 1),
            period_end=dt.date(2026, 3, 31),
            source="walk",
            source_event_id="walk-1",
        )
    if kind == "event":
        return event_record(type="walk.seen", subject=objects["customer"], actor=WALK)
    raise KeyError(kind)
