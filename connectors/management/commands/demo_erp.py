"""manage.py demo_erp: a NetSuite connector for the demo, against the fake NetSuite.

    python -m connectors.erp.fake_server --port 8430 &
    manage.py demo_erp --erp-url http://127.0.0.1:8430

Creates (or brings back in line) the push connector "netsuite-local" of kind netsuite
on the demo's US01 legal entity, through `connector_save` so it has history, with
demo token credentials and an ERP mapping (subsidiary 1, AR account 120, cash
account 499, a tax code per US state rate and a default item). From then on every
invoice issued, voided or paid in US01 is posted to the fake NetSuite by the worker.
Running it again changes nothing. The fake keeps nothing between starts.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connectors.erp.services import erp_mapping_save
from connectors.models import Connector, ErpMapping
from connectors.services import connector_save
from revops.actors import Actor
from revops.errors import DomainValidationError
from revops.models import LegalEntity

CONNECTOR_NAME = "netsuite-local"
LEGAL_ENTITY_CODE = "US01"
REASON = "Demo: NetSuite connector for the fake NetSuite started by scripts/demo"
CREDENTIALS = {
    "account_id": "DEMO_SB1",
    "consumer_key": "demo-consumer-key",
    "consumer_secret": "demo-consumer-secret",
    "token_id": "demo-token-id",
    "token_secret": "demo-token-secret",
}
MAPPING = {
    "subsidiary_id": "1",
    "ar_account_id": "120",
    "cash_account_id": "499",
    "default_item_id": "300",
    "tax_codes": {"default": "9", "0": "5"},
    "item_ids": {},
}


class Command(BaseCommand):
    help = "Create the demo's NetSuite connector for the fake NetSuite (connectors.erp.fake_server)."

    def add_arguments(self, parser):
        parser.add_argument("--erp-url", required=True, help="e.g. http://127.0.0.1:8430")

    def handle(self, *args, erp_url: str, **options):
        entity = LegalEntity.objects.filter(code=LEGAL_ENTITY_CODE).first()
        if entity is None:
            raise CommandError(f"No legal entity {LEGAL_ENTITY_CODE}: run manage.py load_demo first.")
        actor = Actor.for_system("revops", "demo setup")
        connector = Connector.objects.filter(name=CONNECTOR_NAME).first()
        values = {
            "name": CONNECTOR_NAME,
            "kind": "netsuite",
            "legal_entity": entity,
            "base_url": erp_url,
            "direction": Connector.Direction.PUSH,
            "enabled": True,
        }
        unchanged = connector is not None and all(
            getattr(connector, name) == value for name, value in values.items()
        )
        if not unchanged:
            try:
                connector = connector_save(
                    actor=actor, reason=REASON, connector=connector, values=values, credentials=CREDENTIALS
                )
            except DomainValidationError as exc:
                raise CommandError(f"Cannot save {CONNECTOR_NAME}: {exc.messages}") from None
        mapping = ErpMapping.objects.filter(connector=connector).first()
        if mapping is None or any(getattr(mapping, name) != value for name, value in MAPPING.items()):
            erp_mapping_save(connector=connector, values=MAPPING, actor=actor, reason=REASON)
        self.stdout.write(f"{CONNECTOR_NAME} posts {LEGAL_ENTITY_CODE}'s documents to {erp_url}")
