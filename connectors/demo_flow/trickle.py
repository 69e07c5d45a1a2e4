"""The demo trickle: every minute, a little business through the real pipeline.

Each tick (the task `trickle_tick`, scheduled by `manage.py demo_trickle`) acts
in the demo's systems through their own interfaces, as people and systems would:
1. CRM: a sales rep closes a new deal in the fake HubSpot (every third tick
   amends a won one instead); the `hubspot-local` connector syncs, so the deal
   becomes an active contract (or an amendment) with history;
2. usage: a few metered events for active contracts reach `metering-local` as
   a signed batch, the path its webhook takes;
3. billing: contracts not billed yet get their first invoice, imported through
   the billing file connector `billing-csv` (tax checked against `avatax-local`,
   then posted to the ERP and committed to the tax engine by the worker);
4. payments: invoices of earlier ticks are paid, through the same file import;
5. about one tick in five, a realistic business error, in turn: an invoice
   charging the old 7.25 % tax (TAX_MISMATCH), a won deal for a company the CRM
   holds without a name (its company fails, the deal is UNKNOWN_CUSTOMER), usage
   dated after its contract ended (INVALID_CONTRACT_STATE), and an invoice
   the fake NetSuite refuses for a closed period (ERP_REJECTED).
What a tick does depends only on (seed, tick). A tick is claimed by moving the
schedule's stored tick on with a conditional update, so a duplicate delivery
does nothing; past REVOPS_DEMO_TRICKLE_MAX_TICKS ticks, or with
REVOPS_DEMO_TRICKLE off, the task does nothing at all.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import random
import time
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from connectors import engine
from connectors.demo_flow import setup
from connectors.demo_flow.fakes import FakeCrm, FakeNetSuite
from connectors.errors import TransientError
from connectors.models import ColumnMapping, Connector
from revops.models import Contract, ExternalRef, Invoice

ERRORS = ("wrong_tax", "unnamed_company", "ended_contract", "erp_rejection")
JURISDICTION = "US-CA-92615"  # Irvine, 7.75 % in the demo's rate table and in the fake AvaTax
RATE, OLD_RATE = Decimal("0.0775"), Decimal("0.0725")
CENT = Decimal("0.01")
PLACES = [  # where the trickle's new customers are: the fake AvaTax places every sale in Irvine
    ("Irvine", "CA", "92615", "123 Main Street"),
    ("Irvine", "CA", "92618", "8 Technology Drive"),
    ("Irvine", "CA", "92612", "400 Spectrum Center Drive"),
]
NAMES = (
    "Harbor",
    "Summit",
    "Cobalt",
    "Juniper",
    "Northwind",
    "Redwood",
    "Lumen",
    "Atlas",
    "Beacon",
    "Keystone",
)
SUFFIXES = ("Analytics", "Logistics", "Foods", "Health", "Robotics", "Studios", "Energy", "Labs")


def trickle_tick(*, seed: int, tick: int) -> str:
    """The scheduled task: claim tick `tick`, then run it."""
    if not settings.REVOPS_DEMO_TRICKLE:
        return "the demo trickle is off (REVOPS_DEMO_TRICKLE)"
    if tick >= settings.REVOPS_DEMO_TRICKLE_MAX_TICKS:
        return f"the demo trickle stopped after {settings.REVOPS_DEMO_TRICKLE_MAX_TICKS} ticks"
    claimed = Schedule.objects.filter(
        name=setup.SCHEDULE_NAME, kwargs=setup.schedule_kwargs(seed, tick)
    ).update(kwargs=setup.schedule_kwargs(seed, tick + 1))
    if not claimed:
        return f"tick {tick} ran already"
    try:
        return run_tick(seed=seed, tick=tick)
    except TransientError as exc:
        # A fake that is not up loses this tick, not the next ones: the count has moved on.
        return f"tick {tick} stopped: {exc.message}"


def tick_now() -> str:
    """Run the schedule's next tick in this process, claimed as the worker would."""
    schedule = Schedule.objects.filter(name=setup.SCHEDULE_NAME).first()
    if schedule is None:
        return "no demo trickle schedule (REVOPS_DEMO_TRICKLE is off, or demo_trickle has not run)"
    state = ast.literal_eval(schedule.kwargs)
    return trickle_tick(seed=state["seed"], tick=state["tick"])


def error_of(tick: int) -> str | None:
    """The business error tick `tick` injects, if any: one tick in five, each kind in turn."""
    return ERRORS[(tick // 5) % len(ERRORS)] if tick % 5 == 4 else None


def run_tick(*, seed: int, tick: int) -> str:
    connectors = {c.name: c for c in Connector.objects.filter(name__in=setup_names(), enabled=True)}
    missing = sorted(set(setup_names()) - set(connectors))
    if missing:
        return f"missing connectors {', '.join(missing)}: run manage.py demo_trickle"
    rng = random.Random(f"{seed}:{tick}")
    error = error_of(tick)
    today = timezone.localdate()
    done = [_crm(connectors[setup.HUBSPOT], rng, tick, today, error)]
    done.append(_usage(connectors[setup.METERING], rng, seed, tick, error))
    done.append(_invoices(connectors[setup.BILLING], rng, tick, today, error))
    done.append(_payments(connectors[setup.BILLING], tick, today))
    return f"tick {tick}{f' ({error})' if error else ''}: " + "; ".join(d for d in done if d)


def setup_names() -> tuple[str, ...]:
    return (setup.HUBSPOT, setup.AVATAX, setup.METERING, setup.BILLING)


# -- 1. the CRM ---------------------------------------------------------------------------------------


def _trickle_deals(connector: Connector, status: str) -> list[str]:
    """HubSpot deal ids of the connector's contracts in `status`, oldest first."""
    contract_ids = Contract.objects.filter(status=status, customer__legal_entity=connector.legal_entity)
    return list(
        ExternalRef.objects.filter(
            system="hubspot", object_type="contract", object_id__in=contract_ids.values("pk")
        )
        .order_by("object_id")
        .values_list("external_id", flat=True)
    )


def _placed_companies(connector: Connector) -> list[str]:
    """HubSpot companies revops holds with an address the tax engine can place."""
    from revops.models import Customer

    placed = Customer.objects.filter(legal_entity=connector.legal_entity).exclude(postal_code="")
    return list(
        ExternalRef.objects.filter(
            system="hubspot", object_type="customer", object_id__in=placed.values("pk")
        )
        .order_by("object_id")
        .values_list("external_id", flat=True)
    )


def _company(rng: random.Random, tick: int) -> dict:
    city, state, zip_code, street = rng.choice(PLACES)
    return {
        "name": f"{rng.choice(NAMES)} {rng.choice(SUFFIXES)} {tick}",
        "country": "United States",
        "city": city,
        "state": state,
        "zip": zip_code,
        "address": street,
    }


def _crm(connector: Connector, rng: random.Random, tick: int, today: dt.date, error: str | None) -> str:
    day = today.isoformat()
    with FakeCrm(connector.base_url, token=setup.HUBSPOT_TOKEN) as crm:
        products = crm.products()
        items = [{"product_id": rng.choice(products), "quantity": rng.randint(2, 40)}]
        won = _trickle_deals(connector, Contract.Status.ACTIVE)
        if error == "unnamed_company":
            deal = crm.add_deal(
                {"company": {"country": "United States"}, "name": f"Deal {tick}", "line_items": items}
            )
            crm.close_deal(deal, won=True, day=day)
            what = f"deal {deal} won for a company without a name"
        elif tick % 3 == 2 and won:
            deal = rng.choice(won)
            crm.amend_deal(deal, items, day)
            what = f"deal {deal} amended"
        else:
            companies = [] if tick % 2 == 0 else _placed_companies(connector)
            spec = {"company_id": rng.choice(companies)} if companies else {"company": _company(rng, tick)}
            deal = crm.add_deal(
                {**spec, "name": f"Platform deal {tick}", "currency": "USD", "line_items": items}
            )
            crm.close_deal(deal, won=True, day=day)
            what = f"deal {deal} won"
    run = engine.execute_run(engine.run_create(connector=connector, trigger="schedule").pk)
    return f"{what} (sync: {run.created} created, {run.updated} updated, {run.business_errors} problems)"


# -- 2. usage ---------------------------------------------------------------------------------------


def _usage(connector: Connector, rng: random.Random, seed: int, tick: int, error: str | None) -> str:
    from connectors.base import get_kind
    from connectors.models import WebhookDelivery
    from connectors.webhooks import process_delivery

    entity = connector.legal_entity
    now = timezone.now().replace(microsecond=0)
    # The trickle's own contracts: the demo's older ones have their current month billed already.
    active = Contract.objects.filter(
        customer__legal_entity=entity,
        status=Contract.Status.ACTIVE,
        pk__in=ExternalRef.objects.filter(system="hubspot", object_type="contract").values("object_id"),
    )
    targets = [(contract, now) for contract in active.order_by("-id")[:3]]
    if error == "ended_contract":
        # The meter keeps reporting for a customer whose contract ended: the day after its end.
        ended = (
            Contract.objects.filter(
                customer__legal_entity=entity,
                status__in=(Contract.Status.CANCELLED, Contract.Status.EXPIRED),
                end_date__lt=now.date() - dt.timedelta(days=1),
            )
            .order_by("-end_date", "-id")
            .first()
        )
        if ended is not None:
            after = dt.datetime.combine(ended.end_date + dt.timedelta(days=1), dt.time(9), tzinfo=dt.UTC)
            targets.append((ended, after))
    events = []
    for index, (contract, at) in enumerate(targets):
        line = contract.lines.filter(product__isnull=False).select_related("product").order_by("id").first()
        if line is None:
            continue
        events.append(
            {
                "id": f"trickle-{seed}-{tick}-{index}",
                "contract": contract.number,
                "product": line.product.sku,
                "quantity": str(rng.randint(10, 500)),
                "timestamp": at.isoformat().replace("+00:00", "Z"),
            }
        )
    if not events:
        return ""
    body = json.dumps({"id": f"trickle-batch-{seed}-{tick}", "events": events}).encode()
    kind = get_kind(connector.kind)(connector)
    batch = kind.verify_webhook(body, {"Revops-Signature": _signature(body)})  # the webhook's own check
    event_id, event_type = kind.webhook_event_id(batch)
    delivery, created = WebhookDelivery.objects.get_or_create(
        connector=connector, event_id=event_id, defaults={"event_type": event_type, "payload": batch}
    )
    if created:
        process_delivery(delivery.pk)
    return f"{len(events)} usage events"


def _signature(body: bytes) -> str:
    timestamp = int(time.time())
    digest = hmac.new(setup.METERING_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


# -- 3 and 4. billing and payments through the billing file import --------------------------------------


def _import(connector: Connector, object_type: str, name: str, rows: list[dict]) -> str:
    from connectors.files import services as files

    mapping = ColumnMapping.objects.get(connector=connector, object_type=object_type, name=setup.MAPPING_NAME)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(mapping.mapping.values()), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({mapping.mapping[field]: value for field, value in row.items()})
    checked = files.import_check(file_name=name, content=out.getvalue().encode(), mapping=mapping)
    upload = files.import_start(
        connector=connector, mapping=mapping, checked=checked, requested_by="demo trickle"
    )
    run = files.import_run(upload.pk).run
    return f"{run.created} created, {run.business_errors} problems"


def _tax(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(CENT, ROUND_HALF_UP)


def _invoice_rows(number: str, contract: Contract, today: dt.date, rate: Decimal) -> list[dict]:
    rows = []
    for line in contract.lines.filter(product__isnull=False).select_related("product").order_by("id"):
        amount = (line.quantity * line.unit_price).quantize(CENT)
        rows.append(
            {
                "number": number,
                "customer_number": contract.customer.number,
                "contract_number": contract.number,
                "issue_date": today.isoformat(),
                "due_date": (today + dt.timedelta(days=30)).isoformat(),
                "currency": contract.currency,
                "description": f"{line.product.name}, first month",
                "product_sku": line.product.sku,
                "quantity": str(line.quantity),
                "unit_amount": str(line.unit_price),
                "tax_amount": str(_tax(amount, rate)),
                "tax_jurisdiction": JURISDICTION,
            }
        )
    return rows


def _invoices(connector: Connector, rng: random.Random, tick: int, today: dt.date, error: str | None) -> str:
    entity = connector.legal_entity
    unbilled = (
        Contract.objects.filter(
            customer__legal_entity=entity, status=Contract.Status.ACTIVE, invoices__isnull=True
        )
        .filter(
            pk__in=ExternalRef.objects.filter(system="hubspot", object_type="contract").values("object_id")
        )
        .select_related("customer")
        .order_by("id")[:2]
    )
    rows, numbers = [], []
    for index, contract in enumerate(unbilled):
        number = f"TRK-{tick:05d}-{index + 1}"
        rate = OLD_RATE if error == "wrong_tax" and index == 0 else RATE
        rows += _invoice_rows(number, contract, today, rate)
        numbers.append(number)
    if not rows:
        return "nothing to bill"
    erp = Connector.objects.filter(kind="netsuite", legal_entity=entity, enabled=True).first()
    if error == "erp_rejection" and erp is not None:
        with FakeNetSuite(erp.base_url) as netsuite:
            netsuite.reject_next(
                tran_id=numbers[0],
                message=f"The accounting period of {today:%b %Y} is closed to accounts receivable postings.",
            )
    return f"invoices {', '.join(numbers)}: " + _import(
        connector, "invoice", f"trickle-invoices-{tick}.csv", rows
    )


def _payments(connector: Connector, tick: int, today: dt.date) -> str:
    due = (
        Invoice.objects.filter(
            legal_entity=connector.legal_entity, status=Invoice.Status.OPEN, number__startswith="TRK-"
        )
        .exclude(number__startswith=f"TRK-{tick:05d}-")  # paid a tick after it is issued, at the earliest
        .select_related("customer")
        .order_by("id")[:2]
    )
    rows = [
        {
            "reference": f"PAY-{invoice.number}",
            "customer_number": invoice.customer.number,
            "amount": str(invoice.amount_due),
            "currency": invoice.currency,
            "received_date": today.isoformat(),
            "method": "bank_transfer",
            "invoice_number": invoice.number,
        }
        for invoice in due
    ]
    if not rows:
        return ""
    return f"{len(rows)} payments: " + _import(connector, "payment", f"trickle-payments-{tick}.csv", rows)
