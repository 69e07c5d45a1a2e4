"""Verify HubSpot webhook signatures.

HubSpot signs a delivery in one of three ways, named by `X-HubSpot-Signature-Version`:
- v1: hex(SHA-256(client secret + body));
- v2: hex(SHA-256(client secret + method + URI + body));
- v3: base64(HMAC-SHA256(client secret, method + URI + body + timestamp)) in
  `X-HubSpot-Signature-v3`, with `X-HubSpot-Request-Timestamp` in milliseconds.

Only v3 binds a timestamp, so only v3 can refuse a replay: the endpoint enforces
v3 and refuses a timestamp more than five minutes away from now in either
direction (an old one is a replay, a future one would stay replayable for longer).
v1 and v2 are computed for completeness and for HubSpot's own test vectors.

The URI is the full URL HubSpot called, as configured in the HubSpot app, with
percent-encoded characters decoded as HubSpot's documentation says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import unquote

TOLERANCE_MS = 5 * 60 * 1000


class SignatureError(ValueError):
    """A delivery whose signature cannot be trusted; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def signature_v1(secret: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + body).hexdigest()


def signature_v2(secret: str, method: str, uri: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + method.upper().encode() + uri.encode() + body).hexdigest()


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: int | str) -> str:
    message = method.upper().encode() + unquote(uri).encode() + body + str(timestamp).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_v3(
    *,
    secret: str,
    method: str,
    uris: list[str],
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now_ms: int | None = None,
    tolerance_ms: int = TOLERANCE_MS,
) -> int:
    """Return the signed timestamp (ms) when `signature` signs the request for one of
    `uris` (the addresses the endpoint is known under); raise SignatureError otherwise."""
    if not secret:
        raise SignatureError("no client secret is configured for this connector")
    if not signature or not signature.strip():
        raise SignatureError("missing X-HubSpot-Signature-v3 header")
    if timestamp is None or not timestamp.strip():
        raise SignatureError("missing X-HubSpot-Request-Timestamp header")
    stamp = timestamp.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 16:
        raise SignatureError("malformed X-HubSpot-Request-Timestamp header: it must be milliseconds")
    signed_at = int(stamp)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if signed_at < now_ms - tolerance_ms:
        raise SignatureError(
            f"timestamp too old: signed {(now_ms - signed_at) // 1000} s ago, more than {tolerance_ms // 1000} s"
        )
    if signed_at > now_ms + tolerance_ms:
        raise SignatureError(
            f"timestamp too far in the future: {(signed_at - now_ms) // 1000} s ahead, "
            f"more than {tolerance_ms // 1000} s"
        )
    given = signature.strip().encode()
    matched = False
    for uri in dict.fromkeys(uris):  # every candidate is compared: timing says nothing
        matched |= hmac.compare_digest(given, signature_v3(secret, method, uri, body, stamp).encode())
    if not matched:
        raise SignatureError("no matching signature: the v3 signature does not match the client secret")
    return signed_at
