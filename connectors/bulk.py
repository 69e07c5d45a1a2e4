"""The set-based path for new records (see `process_batch`)."""

from __future__ import annotations

from collections import Counter

from connectors.base import ConnectorKind, RawRecord


def process_batch(raws: list[RawRecord], *, run, kind: ConnectorKind, ctx) -> tuple[Counter, list[RawRecord]]:
    """Write what can be written set-based; return its counts and the records
    left for the one-by-one path. Nothing is handled set-based yet."""
    return Counter(), raws
