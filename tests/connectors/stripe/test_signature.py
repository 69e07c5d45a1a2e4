"""Stripe-Signature verification: known-answer vectors, every refusal reason, and a
real delivery from localstripe."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.stripe.signature import SignatureError, verify_stripe_signature

PAYLOAD = b'{"id": "evt_1", "object": "event"}'
SECRET = "whsec_revops_vector"
T = 1_700_000_000
# HMAC-SHA256(key=SECRET, msg=b"1700000000." + PAYLOAD), worked out once and written down.
KNOWN_V1 = "cccf9eff1ac5f1f6213c0151b816f1f6afdc56955b5a7f992a23014003ec9902"


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()


def test_the_known_answer_vector_holds():
    assert sign(PAYLOAD, SECRET, T) == KNOWN_V1


def test_it_accepts_a_valid_signature_and_returns_its_timestamp():
    assert verify_stripe_signature(PAYLOAD, f"t={T},v1={KNOWN_V1}", [SECRET], now=T) == T


def test_it_accepts_any_v1_matching_any_secret_and_ignores_v0():
    header = f"t={T},v0={'0' * 64},v1={'a' * 64},v1={KNOWN_V1},scheme_x=whatever"

    assert verify_stripe_signature(PAYLOAD, header, ["whsec_old", SECRET], now=T + 10) == T


def test_it_accepts_upper_case_hex_and_spaces_around_parts():
    assert verify_stripe_signature(PAYLOAD, f" t={T} , v1={KNOWN_V1.upper()} ", [SECRET], now=T) == T


@pytest.mark.parametrize("offset", [-300, 300])
def test_it_accepts_timestamps_at_the_edge_of_the_tolerance(offset):
    assert verify_stripe_signature(PAYLOAD, f"t={T},v1={KNOWN_V1}", [SECRET], now=T + offset) == T


def test_it_refuses_a_timestamp_too_old():
    with pytest.raises(SignatureError, match="timestamp too old: signed 301 s ago"):
        verify_stripe_signature(PAYLOAD, f"t={T},v1={KNOWN_V1}", [SECRET], now=T + 301)


def test_it_refuses_a_timestamp_too_far_in_the_future():
    with pytest.raises(SignatureError, match="timestamp too far in the future: 301 s ahead"):
        verify_stripe_signature(PAYLOAD, f"t={T},v1={KNOWN_V1}", [SECRET], now=T - 301)


def test_it_honours_a_custom_tolerance():
    with pytest.raises(SignatureError, match="too old"):
        verify_stripe_signature(PAYLOAD, f"t={T},v1={KNOWN_V1}", [SECRET], tolerance=5, now=T + 6)


@pytest.mark.parametrize(
    ("payload", "secrets"),
    [
        (PAYLOAD + b" ", [SECRET]),  # body altered by one byte
        (PAYLOAD, ["whsec_other"]),  # signed with another secret
    ],
)
def test_it_refuses_a_signature_that_does_not_match(payload, secrets):
    with pytest.raises(SignatureError, match="no matching signature"):
        verify_stripe_signature(payload, f"t={T},v1={KNOWN_V1}", secrets, now=T)


def test_it_refuses_a_replayed_signature_under_a_new_timestamp():
    # Same v1, timestamp moved forward to pass the age check: the HMAC covers t.
    with pytest.raises(SignatureError, match="no matching signature"):
        verify_stripe_signature(PAYLOAD, f"t={T + 1000},v1={KNOWN_V1}", [SECRET], now=T + 1000)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing Stripe-Signature header"),
        ("", "missing Stripe-Signature header"),
        ("garbage", "malformed Stripe-Signature header"),
        (f"v1={KNOWN_V1}", "exactly one numeric t="),
        (f"t=soon,v1={KNOWN_V1}", "exactly one numeric t="),
        (f"t={T},t={T},v1={KNOWN_V1}", "exactly one numeric t="),
        (f"t={T},v1=abc", "not a hex SHA-256 digest"),
        (f"t={T}", "no v1 signature"),
        (f"t={T},v0={KNOWN_V1}", "no v1 signature"),
    ],
)
def test_it_refuses_malformed_headers_with_a_precise_reason(header, reason):
    with pytest.raises(SignatureError) as caught:
        verify_stripe_signature(PAYLOAD, header, [SECRET], now=T)

    assert reason in caught.value.reason


def test_it_refuses_when_no_secret_is_configured():
    with pytest.raises(SignatureError, match="no webhook signing secret"):
        verify_stripe_signature(PAYLOAD, f"t={T},v1={KNOWN_V1}", [], now=T)


def test_it_checks_against_the_clock_by_default():
    now = int(time.time())
    header = f"t={now},v1={sign(PAYLOAD, SECRET, now)}"

    assert verify_stripe_signature(PAYLOAD, header, [SECRET]) == now


class _Inbox(BaseHTTPRequestHandler):
    deliveries: list[tuple[bytes, str]] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.deliveries.append((body, self.headers.get("Stripe-Signature", "")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def inbox():
    _Inbox.deliveries = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Inbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/stripe", _Inbox.deliveries
    server.shutdown()
    server.server_close()


def test_it_verifies_a_real_localstripe_delivery(stripe_api, inbox):
    url, deliveries = inbox
    secret = "whsec_revops_localstripe"
    stripe_api.post(
        "/_config/webhooks/revops_test",
        data={"url": url, "secret": secret, "events[0]": "customer.created"},
    ).raise_for_status()
    customer = stripe_api.post("/v1/customers", data={"name": "Signed"}).json()

    def ours():
        # Deliveries of objects other tests made may still arrive: localstripe sends
        # each a second late, to whatever webhook is registered by then.
        for body, header in list(deliveries):
            if json.loads(body)["data"]["object"]["id"] == customer["id"]:
                return body, header
        return None

    deadline = time.monotonic() + 15  # localstripe waits a second before it delivers
    while ours() is None and time.monotonic() < deadline:
        time.sleep(0.05)

    assert ours() is not None, "localstripe delivered no webhook for the customer"
    body, header = ours()
    event = json.loads(body)
    assert verify_stripe_signature(body, header, ["whsec_rolled_out", secret]) == event["created"]
    with pytest.raises(SignatureError, match="no matching signature"):
        verify_stripe_signature(body, header, ["whsec_someone_else"])
    with pytest.raises(SignatureError, match="no matching signature"):
        verify_stripe_signature(body.replace(b"Signed", b"Forged"), header, [secret])
