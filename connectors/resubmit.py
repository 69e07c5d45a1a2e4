"""Resubmission of connector records from the exception queue.

An item opened by the pipeline names its step as "<kind>.<object type>" and the
stored inbound record. Resubmitting re-runs map → validate → write for that
record with the analyst's correction merged into the payload, as the connector's
system but attributed to the person, through the same services.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from connectors.base import ConnectorKind, RawRecord, get_kind
from connectors.errors import BusinessError
from connectors.models import InboundRecord
from exceptions_queue.registry import ResubmitFailed, register_resubmit_handler
from revops.actors import Actor


def apply_correction(payload: dict[str, Any], correction: dict[str, Any] | None) -> dict[str, Any]:
    """The payload with corrected values; keys are dotted paths ("customer",
    "lines.data.0.amount") into the vendor payload."""
    corrected = copy.deepcopy(payload)
    for path, value in (correction or {}).items():
        target = corrected
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
        last = parts[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return corrected


@functools.cache
def make_handler(kind_key: str):
    def handler(item, correction: dict[str, Any] | None, actor: Actor):
        from connectors import engine

        inbound = InboundRecord.objects.select_related("connector__legal_entity").get(
            pk=item.inbound_record_id
        )
        kind: ConnectorKind = get_kind(kind_key)(inbound.connector)
        try:
            payload = apply_correction(inbound.payload, correction)
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ResubmitFailed(f"The correction does not fit the record: {exc}") from None
        raw = RawRecord(
            object_type=inbound.object_type,
            external_id=inbound.external_id,
            payload=payload,
            source_type=inbound.source_type,
            version=inbound.version,
        )
        who = actor.user.get_username() if actor.user else actor.label
        run_actor = Actor(
            system=kind.system(),
            label=f"connector {inbound.connector.name}, resubmitted by {who}",
            user=actor.user,
        )
        ctx = engine.write_context(inbound.connector, kind, run_actor, f"Resubmission of exception {item.pk}")
        try:
            record = engine._map(kind, raw)
            from connectors import writers

            writers.write(record, ctx)
        except BusinessError as exc:
            raise ResubmitFailed(
                exc.message,
                [
                    {
                        "field": exc.field,
                        "message": exc.message,
                        "expected": exc.expected,
                        "actual": exc.actual,
                    }
                ],
            ) from None
        finally:
            kind.close()

    return handler


def register_kind_handlers(kind: type[ConnectorKind]) -> None:
    for stream in kind.streams:
        register_resubmit_handler(f"{kind.key}.{stream}", make_handler(kind.key))
