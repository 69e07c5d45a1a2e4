import pytest

from connectors.erp.fake_server import FakeErp, FakeErpServer
from connectors.models import Connector, ErpMapping
from tests import factories as f

CREDENTIALS = {
    "account_id": "1234567_SB1",
    "consumer_key": "ck-demo-0001",
    "consumer_secret": "cs-demo-secret-0001",
    "token_id": "tk-demo-0001",
    "token_secret": "ts-demo-secret-0001",
}


@pytest.fixture
def fake_erp():
    server = FakeErpServer(0, erp=FakeErp(seed=7), max_hang=5).start()
    yield server
    server.stop()


@pytest.fixture
def erp_connector(db, fake_erp, settings):
    settings.REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    connector = Connector.objects.create(
        name="netsuite-us",
        kind="netsuite",
        legal_entity=f.LegalEntityFactory(),
        base_url=fake_erp.base_url,
        credentials=CREDENTIALS,
        direction=Connector.Direction.PUSH,
    )
    ErpMapping.objects.create(
        connector=connector,
        subsidiary_id="1",
        ar_account_id="120",
        cash_account_id="499",
        tax_codes={"US-CA": "8", "0": "5", "default": "9"},
        item_ids={"SKU-SEAT": "301"},
        default_item_id="300",
    )
    return connector
