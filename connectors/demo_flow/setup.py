"""The connectors and the schedule the demo's trickle drives (idempotent).

`demo_setup` creates, or brings back in line, on the demo's US01 entity:
- `hubspot-local` (kind hubspot) on the fake HubSpot, with its demo token;
- `avatax-local` (kind avalara) on the fake AvaTax: the tax check asks it what
  tax an incoming invoice should carry, and issued invoices are committed to it;
- `metering-local` (kind metering), which takes the trickle's usage batches;
- the billing file import `billing-csv` with the trickle's invoice and payment
  column mappings;
and the Django-Q schedule "demo trickle" (every minute) when the trickle is on.
Every write goes through `connector_save` / `mapping_save`, so it has history.
"""

from __future__ import annotations

from django.conf import settings
from django_q.models import Schedule

from connectors.avalara.fake_server import ACCOUNT_ID, LICENSE_KEY
from connectors.files import services as files
from connectors.models import ColumnMapping, Connector
from connectors.services import connector_save
from revops.actors import Actor
from revops.models import LegalEntity

LEGAL_ENTITY_CODE = "US01"
HUBSPOT, AVATAX, METERING, BILLING = "hubspot-local", "avatax-local", "metering-local", "billing-csv"
HUBSPOT_TOKEN = "pat-local-demo"  # the fake HubSpot's published demo token
HUBSPOT_CLIENT_SECRET = "fake-client-secret"  # noqa: S105 - the fake's published webhook signing secret
METERING_SECRET = "demo-metering-signing-secret"  # noqa: S105 - a demo-only secret for the local metering feed
REASON = "Demo: connectors the demo trickle drives"
SCHEDULE_NAME = "demo trickle"
TASK = "connectors.demo_flow.trickle.trickle_tick"
MAPPING_NAME = "Trickle billing export"
INVOICE_COLUMNS = {
    "number": "Invoice",
    "customer_number": "Customer",
    "contract_number": "Contract",
    "issue_date": "Date",
    "due_date": "Due",
    "currency": "Currency",
    "description": "Description",
    "product_sku": "SKU",
    "quantity": "Qty",
    "unit_amount": "Unit price",
    "tax_amount": "Tax",
    "tax_jurisdiction": "Jurisdiction",
}
PAYMENT_COLUMNS = {
    "reference": "Payment",
    "customer_number": "Customer",
    "amount": "Amount",
    "currency": "Currency",
    "received_date": "Received",
    "method": "Method",
    "invoice_number": "Invoice",
}


def schedule_kwargs(seed: int, tick: int) -> str:
    """How the schedule stores its next tick; the task claims a tick by moving this on."""
    return repr({"seed": seed, "tick": tick})


def _connector(name: str, values: dict, actor: Actor, **secrets) -> Connector:
    connector = Connector.objects.filter(name=name).first()
    if connector is not None and all(getattr(connector, k) == v for k, v in values.items()):
        return connector
    return connector_save(
        actor=actor, reason=REASON, connector=connector, values={"name": name, **values}, **secrets
    )


def _mapping(connector: Connector, object_type: str, columns: dict, actor: Actor) -> None:
    if not ColumnMapping.objects.filter(
        connector=connector, object_type=object_type, name=MAPPING_NAME
    ).exists():
        files.mapping_save(
            connector=connector,
            object_type=object_type,
            name=MAPPING_NAME,
            columns=columns,
            actor=actor,
            reason=REASON,
        )


def demo_setup(*, hubspot_url: str, avatax_url: str, seed: int, schedule: bool) -> list[str]:
    """Create what the trickle needs; returns what was set up, for the command to print."""
    entity = LegalEntity.objects.filter(code=LEGAL_ENTITY_CODE).first()
    if entity is None:
        raise LookupError(f"No legal entity {LEGAL_ENTITY_CODE}: run manage.py load_demo first.")
    actor = Actor.for_system("revops", "demo setup")
    common = {"legal_entity": entity, "enabled": True}
    _connector(
        HUBSPOT,
        {**common, "kind": "hubspot", "base_url": hubspot_url},
        actor,
        credentials={"access_token": HUBSPOT_TOKEN},
        webhook_secret=HUBSPOT_CLIENT_SECRET,
    )
    _connector(
        AVATAX,
        {**common, "kind": "avalara", "base_url": avatax_url},
        actor,
        credentials={"account_id": ACCOUNT_ID, "license_key": LICENSE_KEY},
    )
    _connector(METERING, {**common, "kind": "metering"}, actor, webhook_secret=METERING_SECRET)
    billing = _connector(BILLING, {**common, "kind": "file"}, actor)
    _mapping(billing, "invoice", INVOICE_COLUMNS, actor)
    _mapping(billing, "payment", PAYMENT_COLUMNS, actor)
    done = [f"{HUBSPOT} on {hubspot_url}", f"{AVATAX} on {avatax_url}", METERING, f"{BILLING} mappings"]
    if schedule and settings.REVOPS_DEMO_TRICKLE:
        if not Schedule.objects.filter(name=SCHEDULE_NAME).exists():
            Schedule.objects.create(
                name=SCHEDULE_NAME,
                func=TASK,
                kwargs=schedule_kwargs(seed, 0),
                schedule_type=Schedule.MINUTES,
                minutes=1,
                repeats=-1,
            )
        done.append(f"schedule '{SCHEDULE_NAME}' every minute")
    return done
