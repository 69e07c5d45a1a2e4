"""The NetSuite client against the fake ERP server, and each of its faults."""

from __future__ import annotations

import httpx
import pytest

from connectors.erp.client import NetSuiteClient, UncertainOutcome, oauth1_header
from connectors.errors import BusinessError, ConfigurationError, TransientError
from connectors.http import build_http_client
from tests.connectors.erp.conftest import CREDENTIALS

INVOICE = {
    "externalId": "INV-US01-1",
    "tranId": "1",
    "item": {"items": [{"item": {"id": "300"}, "amount": 10}]},
}


@pytest.fixture
def client(fake_erp):
    http = build_http_client(fake_erp.base_url, timeout=1.0, allowed_private=["127.0.0.1"])
    yield NetSuiteClient(fake_erp.base_url, CREDENTIALS, http_client=http)
    http.close()


def test_it_creates_and_finds_a_record_by_external_id(client, fake_erp):
    erp_id = client.create("invoice", INVOICE, idempotency_key="k1")
    found = client.find("invoice", "INV-US01-1")
    assert found["id"] == erp_id
    assert found["tranId"] == "1"
    assert client.find("invoice", "INV-US01-404") is None
    assert [d["externalId"] for d in fake_erp.erp.documents("invoice")] == ["INV-US01-1"]


def test_it_upserts_a_customer_by_external_id_once(client, fake_erp):
    first = client.upsert("customer", "CUS-1", {"companyName": "Acme"})
    second = client.upsert("customer", "CUS-1", {"companyName": "Acme Corp"})
    assert first == second
    assert [d["companyName"] for d in fake_erp.erp.documents("customer")] == ["Acme Corp"]


def test_it_signs_requests_with_token_based_authentication():
    header = oauth1_header(
        "POST",
        httpx.URL("https://1234567.suitetalk.api.netsuite.com/services/rest/record/v1/invoice"),
        **CREDENTIALS,
        nonce="abc",
        timestamp=1700000000,
    )
    assert header.startswith('OAuth realm="1234567_SB1", oauth_consumer_key="ck-demo-0001"')
    assert 'oauth_signature_method="HMAC-SHA256"' in header
    assert "oauth_signature=" in header and CREDENTIALS["token_secret"] not in header


def test_it_refuses_missing_credentials():
    with pytest.raises(ConfigurationError, match="token_secret"):
        NetSuiteClient("https://x.example", {**CREDENTIALS, "token_secret": ""}, http_client=httpx.Client())


def test_it_reports_a_500_as_transient_and_posts_nothing(client, fake_erp):
    fake_erp.erp.control({"fault": "500"})
    with pytest.raises(TransientError) as excinfo:
        client.create("invoice", INVOICE, idempotency_key="k1")
    assert not isinstance(excinfo.value, UncertainOutcome)
    assert fake_erp.erp.documents("invoice") == []


def test_it_reports_a_429_as_transient_with_its_retry_after(client, fake_erp):
    fake_erp.erp.control({"fault": "429", "retry_after": 9})
    with pytest.raises(TransientError) as excinfo:
        client.create("invoice", INVOICE, idempotency_key="k1")
    assert excinfo.value.retry_after == 9


def test_it_reports_a_hang_past_the_timeout_as_an_uncertain_outcome(client, fake_erp):
    fake_erp.erp.control({"fault": "hang", "hang_seconds": 2})
    with pytest.raises(UncertainOutcome):
        client.create("invoice", INVOICE, idempotency_key="k1")
    assert len(fake_erp.erp.documents("invoice")) == 1  # the ERP committed it anyway


def test_it_reports_a_dropped_answer_as_an_uncertain_outcome(client, fake_erp):
    fake_erp.erp.control({"fault": "drop"})
    with pytest.raises(UncertainOutcome):
        client.create("invoice", INVOICE, idempotency_key="k1")
    fake_erp.erp.control({"fault": "none"})
    assert client.find("invoice", "INV-US01-1") is not None


def test_it_reports_a_rejection_as_a_business_error_with_the_vendors_message(client, fake_erp):
    fake_erp.erp.control(
        {
            "fault": "reject",
            "code": "USER_ERROR",
            "message": "The accounting period is closed.",
            "path": "tranDate",
        }
    )
    with pytest.raises(BusinessError) as excinfo:
        client.create("invoice", INVOICE, idempotency_key="k1")
    assert excinfo.value.code == "ERP_REJECTED"
    assert "The accounting period is closed." in excinfo.value.message
    assert excinfo.value.field == "tranDate"


def test_it_gets_a_duplicate_external_id_refused_like_netsuite(client, fake_erp):
    client.create("invoice", INVOICE, idempotency_key="k1")
    with pytest.raises(BusinessError, match="DUP_RCRD"):
        client.create("invoice", INVOICE, idempotency_key="k2")


def test_it_tests_the_connection(client):
    assert "NetSuite answered" in client.test_connection()
