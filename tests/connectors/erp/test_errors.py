"""NetSuite error answers are classified as business, transient or configuration,
the same way for REST problem documents and the recorded SOAP responses."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from connectors.erp.errors import BUSINESS, TRANSIENT, classify_code, classify_response
from connectors.errors import BusinessError, ConfigurationError, TransientError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vendor" / "netsuite-soap"


def _response(status: int, body: dict, headers: dict | None = None) -> httpx.Response:
    request = httpx.Request(
        "POST", "https://1234567.suitetalk.api.netsuite.com/services/rest/record/v1/invoice"
    )
    return httpx.Response(status, json=body, headers=headers, request=request)


def _problem(status: int, code: str, detail: str, path: str = "") -> dict:
    return {
        "title": "Bad Request",
        "status": status,
        "o:errorDetails": [{"detail": detail, "o:errorCode": code, "o:errorPath": path}],
    }


def _soap_codes(name: str) -> list[str]:
    tree = ET.parse(FIXTURES / name)
    return [el.text for el in tree.iter() if el.tag.rpartition("}")[2] == "code" and el.text]


def test_it_classifies_a_rest_rejection_as_an_erp_rejected_business_error():
    error = classify_response(
        _response(400, _problem(400, "INVALID_VALUE", "Invalid value for 'entity'.", "entity"))
    )
    assert isinstance(error, BusinessError)
    assert error.code == "ERP_REJECTED"
    assert error.field == "entity"
    assert "Invalid value for 'entity'" in error.message
    assert error.error_rows()[0]["actual"] == "INVALID_VALUE"


def test_it_classifies_rest_throttling_as_transient_with_retry_after():
    error = classify_response(
        _response(429, _problem(429, "CONCURRENCY_LIMIT_EXCEEDED", "Limit exceeded."), {"Retry-After": "7"})
    )
    assert isinstance(error, TransientError)
    assert error.retry_after == 7


def test_it_classifies_a_400_with_a_concurrency_code_as_transient():
    assert isinstance(
        classify_response(_response(400, _problem(400, "RCRD_LOCKED_BY_WF", "Locked."))), TransientError
    )


def test_it_classifies_login_codes_as_configuration():
    error = classify_response(_response(401, _problem(401, "INVALID_LOGIN", "Invalid login attempt.")))
    assert isinstance(error, ConfigurationError)


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("add_add_invoice_error.xml", [BUSINESS]),
        ("add_add_invoice_multiple_errors.xml", [BUSINESS, BUSINESS]),
        ("upsert_upsert_invoice_error.xml", [BUSINESS]),
        ("login_failure_concurrent_requests.xml", [TRANSIENT]),
    ],
)
def test_it_classifies_the_recorded_soap_error_codes_like_rest(fixture, expected):
    codes = _soap_codes(fixture)
    assert [classify_code(code) for code in codes] == expected
    for code in codes:  # the same code in a REST body gets the same class
        error = classify_response(_response(400, _problem(400, code, "x")))
        assert isinstance(error, TransientError if classify_code(code) == TRANSIENT else BusinessError)


def test_it_reads_the_codes_of_the_recorded_responses():
    assert _soap_codes("upsert_upsert_invoice_error.xml") == ["INVALID_KEY_OR_REF"]
    assert _soap_codes("login_failure_concurrent_requests.xml") == ["WS_CONCUR_SESSION_DISALLWD"]
    assert classify_code("USER_ERROR") == BUSINESS
    assert classify_code("EXCEEDED_CONCURRENCY_LIMIT") == TRANSIENT
