"""Connector error classes, HTTP classification, backoff, and keeping secrets out of them."""

from __future__ import annotations

import email.utils
import random
import ssl
import time

import httpx
import pytest

from connectors.errors import (
    BUSINESS_ERROR_CODES,
    RETRY_AFTER_CAP,
    BusinessError,
    ConfigurationError,
    ConnectorError,
    TransientError,
    backoff_delay,
    classify_http,
    parse_retry_after,
)
from connectors.http import UnsafeURLError

SECRET = "sk_live_51TopSecretKeyValue"


def make_request(url="https://api.vendor.test/v1/invoices?limit=10") -> httpx.Request:
    return httpx.Request(
        "GET",
        url,
        headers={"Authorization": f"Bearer {SECRET}", "X-Api-Key": SECRET, "Idempotency-Key": "idem-1"},
    )


def response(status, *, headers=None, json=None, text=None, request=None) -> httpx.Response:
    return httpx.Response(status, headers=headers, json=json, text=text, request=request or make_request())


def assert_no_secret(error: ConnectorError) -> None:
    assert SECRET not in repr(error.to_dict())
    assert SECRET not in str(error)


class FixedRng:
    """Returns the top of the range, or `fraction` of it, and remembers the calls."""

    def __init__(self, fraction=1.0):
        self.fraction = fraction
        self.calls = []

    def uniform(self, low, high):
        self.calls.append((low, high))
        return low + (high - low) * self.fraction


def test_it_makes_429_transient_with_retry_after_seconds():
    error = classify_http(response(429, headers={"Retry-After": "120"}))

    assert isinstance(error, TransientError) and error.retryable
    assert error.retry_after == 120.0
    assert error.message == "GET https://api.vendor.test/v1/invoices?limit=10 answered 429 Too Many Requests"
    assert error.request["method"] == "GET"
    assert error.request["headers"]["authorization"] == "[redacted]"
    assert error.request["headers"]["x-api-key"] == "[redacted]"
    assert error.request["headers"]["idempotency-key"] == "idem-1"  # needed to retry safely
    assert_no_secret(error)


def test_it_reads_retry_after_as_an_http_date():
    now = time.time()
    when = email.utils.formatdate(now + 90, usegmt=True)
    assert parse_retry_after(when, now=now) == pytest.approx(90, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 50, usegmt=True), now=now) == 0.0
    error = classify_http(
        response(503, headers={"Retry-After": email.utils.formatdate(time.time() + 30, usegmt=True)})
    )
    assert isinstance(error, TransientError) and 25 <= error.retry_after <= 31


@pytest.mark.parametrize("value", [None, "", "soon", "nan", "Mon, 99 Foo 2024 00:00:00"])
def test_it_ignores_an_unreadable_retry_after(value):
    assert parse_retry_after(value) is None


def test_it_caps_retry_after():
    assert parse_retry_after("999999") == RETRY_AFTER_CAP
    assert parse_retry_after("-5") == 0.0


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_it_makes_server_errors_transient(status):
    error = classify_http(response(status))
    assert isinstance(error, TransientError) and error.retry_after is None
    assert str(status) in error.message


@pytest.mark.parametrize("status", [401, 403])
def test_it_makes_auth_failures_configuration_errors(status):
    error = classify_http(
        response(status, json={"error": {"message": f"Invalid API Key provided: {SECRET}"}})
    )
    assert isinstance(error, ConfigurationError) and not error.retryable
    assert "credentials" in error.message
    assert_no_secret(error)


def test_it_makes_redirects_configuration_errors():
    error = classify_http(response(301, headers={"Location": "https://user:pw@other.test/v2?token=abc"}))
    assert isinstance(error, ConfigurationError)
    assert "redirects are not followed" in error.message
    assert "https://other.test/v2?token=[redacted]" in error.message
    assert "pw" not in error.message


def test_it_makes_other_client_errors_business_errors_with_the_vendor_message():
    body = {
        "error": {
            "type": "invalid_request_error",
            "message": "No such customer: cus_123",
            "param": "customer",
        }
    }
    error = classify_http(response(400, json=body))

    assert isinstance(error, BusinessError)
    assert error.code == "VALIDATION_FAILED"
    assert error.field == "customer"
    assert error.message.endswith("answered 400 Bad Request: No such customer: cus_123")
    assert error.details == {"status": 400, "error": body["error"]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"message": "amount must be positive"}, "amount must be positive"),
        ({"errors": [{"message": "bad date", "field": "due_date"}]}, "bad date"),
        ({"error": "invalid_grant", "error_description": "code expired"}, "code expired"),
        ({"detail": "Not found."}, "Not found."),
    ],
)
def test_it_finds_the_message_in_common_json_shapes(body, message):
    error = classify_http(response(422, json=body))
    assert isinstance(error, BusinessError) and error.message.endswith(message)


def test_it_keeps_a_short_plain_text_body_and_drops_html():
    assert classify_http(response(404, text="no such invoice")).message.endswith(": no such invoice")
    html = classify_http(response(404, text="<html>oops</html>", headers={"Content-Type": "text/html"}))
    assert html.message.endswith("answered 404 Not Found")


def test_it_refuses_to_classify_a_success():
    with pytest.raises(ValueError, match="not an error"):
        classify_http(response(200))


@pytest.mark.parametrize(
    "exc_class",
    [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError],
)
def test_it_makes_network_failures_transient(exc_class):
    error = classify_http(exc_class("boom", request=make_request()))
    assert isinstance(error, TransientError)
    assert error.request["url"] == "https://api.vendor.test/v1/invoices?limit=10"
    assert_no_secret(error)


def test_it_makes_a_refused_certificate_a_configuration_error():
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    cause.verify_message = "self-signed certificate"
    try:
        try:
            raise cause
        except ssl.SSLError as inner:
            raise httpx.ConnectError(str(inner), request=make_request()) from inner
    except httpx.ConnectError as exc:
        error = classify_http(exc)

    assert isinstance(error, ConfigurationError)
    assert "certificate" in error.message and "self-signed certificate" in error.message


def test_it_keeps_a_connector_error_as_it_is():
    unsafe = UnsafeURLError("10.0.0.5 is a private address")
    assert classify_http(unsafe) is unsafe
    assert isinstance(unsafe, ConfigurationError)


def test_it_classifies_a_status_error_by_its_response():
    resp = response(503)
    exc = httpx.HTTPStatusError("bad", request=resp.request, response=resp)
    assert isinstance(classify_http(exc), TransientError)


def test_it_refuses_to_classify_a_programming_error():
    with pytest.raises(TypeError):
        classify_http(KeyError("x"))


def test_it_strips_secrets_from_requests_and_messages():
    error = TransientError(
        f"failed with Authorization: Bearer {SECRET}",
        request={
            "url": f"https://api.vendor.test/v1?api_key={SECRET}&page=2",
            "headers": {"Authorization": f"Basic {SECRET}", "Accept": "application/json"},
            "body": {"client_secret": SECRET, "amount": 5},
        },
    )
    assert error.request == {
        "url": "https://api.vendor.test/v1?api_key=[redacted]&page=2",
        "headers": {"Authorization": "[redacted]", "Accept": "application/json"},
        "body": {"client_secret": "[redacted]", "amount": 5},
    }
    assert error.message == "failed with Authorization: Bearer [redacted]"
    assert_no_secret(error)
    assert "whsec_" not in str(ConfigurationError("bad secret whsec_abcdef123")).replace("[redacted]", "")


def test_it_describes_business_errors_fully():
    error = BusinessError(
        "Invoice currency differs from the contract",
        code="CURRENCY_MISMATCH",
        field="currency",
        expected="EUR",
        actual="USD",
        details={"invoice": "in_1", "token": SECRET},
    )
    assert error.to_dict() == {
        "kind": "business",
        "message": "Invoice currency differs from the contract",
        "code": "CURRENCY_MISMATCH",
        "field": "currency",
        "expected": "EUR",
        "actual": "USD",
        "details": {"invoice": "in_1", "token": "[redacted]"},
    }
    with pytest.raises(ValueError, match="not a business error code"):
        BusinessError("x", code="NOT_A_CODE")


def test_its_business_codes_belong_to_the_exception_taxonomy():
    codes = pytest.importorskip("exceptions_queue.codes")
    assert set(codes.ExceptionCode.values) >= BUSINESS_ERROR_CODES
    for code in (
        "VALIDATION_FAILED",
        "UNKNOWN_CUSTOMER",
        "OWNERSHIP_CONFLICT",
        "TAX_MISMATCH",
        "UNKNOWN_PRODUCT",
    ):
        assert code in BUSINESS_ERROR_CODES


def test_it_backs_off_exponentially_with_full_jitter_up_to_the_cap():
    rng = FixedRng()
    delays = [backoff_delay(attempt, rng=rng) for attempt in range(10)]
    assert delays == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert all(low == 0 for low, _ in rng.calls)  # full jitter: anywhere from zero
    assert backoff_delay(3, base=1.0, cap=5.0, rng=FixedRng()) == 5.0
    assert backoff_delay(10_000, rng=FixedRng()) == 300.0  # no overflow


def test_it_spreads_delays_across_the_whole_range():
    rng = random.Random(7)
    delays = [backoff_delay(4, rng=rng) for _ in range(500)]
    assert min(delays) < 4 and max(delays) > 28 and all(0 <= d <= 32 for d in delays)


def test_it_never_retries_sooner_than_retry_after():
    assert backoff_delay(0, retry_after=60, rng=FixedRng(0.0)) == 60
    assert backoff_delay(8, retry_after=10, rng=FixedRng()) == 300  # the backoff is already longer
    assert backoff_delay(0, retry_after=10**6, rng=FixedRng(0.0)) == RETRY_AFTER_CAP
    assert backoff_delay(0, retry_after=-3, rng=FixedRng(0.0)) == 0


def test_it_refuses_a_negative_attempt():
    with pytest.raises(ValueError):
        backoff_delay(-1)
