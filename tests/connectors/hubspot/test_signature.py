"""HubSpot webhook signatures: HubSpot's own known-answer vectors (v1, v2, v3) and
the v3 checks the endpoint enforces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.hubspot.signature import (
    TOLERANCE_MS,
    SignatureError,
    signature_v1,
    signature_v2,
    signature_v3,
    verify_v3,
)

ROOT = Path(__file__).resolve().parents[3]
VECTORS = json.loads(
    (ROOT / "tests" / "fixtures" / "vendor" / "hubspot" / "webhook_signature_vectors.json").read_text()
)
COMMON = VECTORS["common"]
SECRET = COMMON["client_secret"]
URL = COMMON["url"]
NOW = 1_800_000_000_000


def _inputs(vector):
    body = vector.get("request_body", COMMON["request_body"]).encode()
    return vector.get("http_method", COMMON["http_method"]), body


@pytest.mark.parametrize(
    "vector", VECTORS["vectors"], ids=lambda v: f"{v['version']}-{v.get('http_method', 'POST')}"
)
def test_it_reproduces_every_known_answer_vector(vector):
    method, body = _inputs(vector)
    computed = {
        "v1": lambda: signature_v1(SECRET, body),
        "v2": lambda: signature_v2(SECRET, method, URL, body),
        "v3": lambda: signature_v3(SECRET, method, URL, body, COMMON["timestamp"]),
    }[vector["version"]]()
    assert computed == vector["expected"]


def test_it_accepts_the_v3_vector_at_its_own_time():
    v3 = next(v for v in VECTORS["vectors"] if v["version"] == "v3")
    signed_at = verify_v3(
        secret=SECRET,
        method="POST",
        uris=["https://elsewhere.example/x", URL],
        body=COMMON["request_body"].encode(),
        signature=v3["expected"],
        timestamp=str(COMMON["timestamp"]),
        now_ms=COMMON["timestamp"],
    )
    assert signed_at == COMMON["timestamp"]


def _verify(body=b"[]", *, stamp=NOW, secret=SECRET, signed_with=SECRET, uri=URL, now=NOW, signature=None):
    signature = signature if signature is not None else signature_v3(signed_with, "POST", uri, body, stamp)
    return verify_v3(
        secret=secret,
        method="POST",
        uris=[URL],
        body=body,
        signature=signature,
        timestamp=str(stamp),
        now_ms=now,
    )


@pytest.mark.parametrize("offset", [-TOLERANCE_MS, 0, TOLERANCE_MS])
def test_it_accepts_timestamps_within_five_minutes_either_way(offset):
    assert _verify(stamp=NOW + offset) == NOW + offset


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"stamp": NOW - TOLERANCE_MS - 1}, "timestamp too old"),
        ({"stamp": NOW + TOLERANCE_MS + 1}, "too far in the future"),
        ({"signed_with": "another-secret"}, "no matching signature"),
        ({"uri": "https://www.example.com/another_uri"}, "no matching signature"),
        ({"secret": ""}, "no client secret"),
        ({"signature": " "}, "missing X-HubSpot-Signature-v3"),
    ],
)
def test_it_refuses_what_cannot_be_trusted(kwargs, reason):
    with pytest.raises(SignatureError, match=reason):
        _verify(**kwargs)


def test_it_refuses_a_body_changed_after_signing():
    signature = signature_v3(SECRET, "POST", URL, b'[{"eventId": 1}]', NOW)
    with pytest.raises(SignatureError, match="no matching signature"):
        _verify(b'[{"eventId": 2}]', signature=signature)


@pytest.mark.parametrize("stamp", ["", "12a", "1.5e12", "-1", "9" * 20])
def test_it_refuses_a_malformed_timestamp(stamp):
    with pytest.raises(SignatureError, match="(?i)timestamp"):
        verify_v3(
            secret=SECRET, method="POST", uris=[URL], body=b"", signature="x", timestamp=stamp, now_ms=NOW
        )


def test_it_decodes_percent_encoded_characters_in_the_uri_as_hubspot_does():
    encoded = "https://www.example.com/webhook_uri?name=a%20b"
    decoded = "https://www.example.com/webhook_uri?name=a b"
    assert signature_v3(SECRET, "POST", encoded, b"", NOW) == signature_v3(SECRET, "POST", decoded, b"", NOW)
