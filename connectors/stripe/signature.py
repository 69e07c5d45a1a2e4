"""Verify the `Stripe-Signature` header of a webhook delivery.

The header reads `t=<unix time>,v1=<hex HMAC-SHA256>[,v1=...][,v0=...]`. The signed
message is `f"{t}."` followed by the raw request body, keyed with the endpoint's
secret (`whsec_...`). Several `v1` values appear while Stripe rolls a secret, and a
connector may hold several secrets while its admin rolls one: any v1 matching any
secret is enough. `v0` (Stripe's test-mode scheme) and unknown schemes are ignored.

A timestamp more than `tolerance` seconds away from now in either direction is
refused: an old one is a replay, a future one would stay replayable for longer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

DEFAULT_TOLERANCE = 300  # seconds, as Stripe's own libraries
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


class SignatureError(ValueError):
    """A webhook delivery whose signature cannot be trusted; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def verify_stripe_signature(
    payload: bytes,
    header: str | None,
    secrets: list[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Return the signed timestamp when `header` signs `payload` with one of `secrets`;
    raise SignatureError otherwise."""
    if not secrets or not any(secrets):
        raise SignatureError("no webhook signing secret is configured for this connector")
    timestamp, signatures = _parse(header)
    now = time.time() if now is None else now
    if timestamp < now - tolerance:
        raise SignatureError(
            f"timestamp too old: signed {int(now - timestamp)} s ago, more than {tolerance} s"
        )
    if timestamp > now + tolerance:
        raise SignatureError(
            f"timestamp too far in the future: {int(timestamp - now)} s ahead, more than {tolerance} s"
        )
    signed = f"{timestamp}.".encode() + payload
    expected = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets if s]
    # Compare every pair, so timing says nothing about which one matched.
    matched = False
    for candidate in signatures:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.lower(), digest)
    if not matched:
        raise SignatureError("no matching signature: no v1 signature matches a configured secret")
    return timestamp


def _parse(header: str | None) -> tuple[int, list[str]]:
    if header is None or not header.strip():
        raise SignatureError("missing Stripe-Signature header")
    timestamps, signatures = [], []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or not key:
            raise SignatureError(f"malformed Stripe-Signature header: {part.strip()[:40]!r} is not key=value")
        if key == "t":
            timestamps.append(value.strip())
        elif key == "v1":
            signatures.append(value.strip())
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit():
        raise SignatureError("malformed Stripe-Signature header: it needs exactly one numeric t=")
    if not signatures:
        raise SignatureError("no v1 signature in the Stripe-Signature header")
    # A v1 that is not 64 hex digits can never match: refuse it as malformed rather than compare.
    if not all(_HEX_SHA256.fullmatch(s) for s in signatures):
        raise SignatureError("malformed Stripe-Signature header: a v1 value is not a hex SHA-256 digest")
    return int(timestamps[0]), signatures
