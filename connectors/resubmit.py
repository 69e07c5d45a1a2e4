"""Resubmission of connector records from the exception queue.

An item opened by the pipeline names its step as "<kind>.<object type>" and the
stored inbound record. Resubmitting re-runs map → validate → write for that
record with the analyst's correction merged into the payload, as the connector's
system but attributed to the person, through the same services.

Correction keys starting with "_" are directives, not payload paths: they tell
the writer how to resolve the problem (e.g. {"_tax": "use_expected"} for a tax
mismatch) and reach it through `WriteContext.directives`, together with the
analyst's reason ("_reason") and the item's id ("_exception").
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

# Directives a writer understands, and the values each may take.
KNOWN_DIRECTIVES: dict[str, tuple[str, ...]] = {
    "_tax": ("accept_source", "use_expected"),
    "_late_usage": ("next_period", "credit_rebill"),
}


def split_correction(correction: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(payload edits, directives) of an analyst's correction. An unknown
    directive or value is refused with ValueError."""
    edits, directives = {}, {}
    for key, value in (correction or {}).items():
        if not key.startswith("_"):
            edits[key] = value
            continue
        allowed = KNOWN_DIRECTIVES.get(key)
        if allowed is None:
            raise ValueError(f"{key} is not a correction revops knows")
        if value not in allowed:
            raise ValueError(f"{key} must be one of {', '.join(allowed)}, not {value!r}")
        directives[key] = value
    return edits, directives


def analyst_reason(item) -> str:
    """The reason the analyst gave for this resubmission (what exception_resubmit
    stamped on the item: "Resubmitted ...: <reason>")."""
    stamped = getattr(item, "_change_reason", None) or ""
    if not stamped.startswith("Resubmitted"):
        latest = item.history.order_by("-history_date", "-history_id").first()
        stamped = (latest.history_change_reason or "") if latest is not None else ""
    if not stamped.startswith("Resubmitted"):
        return ""  # e.g. a dry run of the correction: nothing was stamped yet
    return stamped.partition(": ")[2].strip()


def apply_correction(payload: dict[str, Any], correction: dict[str, Any] | None) -> dict[str, Any]:
    """The payload with corrected values; keys are dotted paths ("customer",
    "lines.data.0.amount") into the vendor payload. Directives ("_…") are not
    payload paths and are left out."""
    corrected = copy.deepcopy(payload)
    for path, value in (correction or {}).items():
        if path.startswith("_"):
            continue
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
            edits, directives = split_correction(correction)
            payload = apply_correction(inbound.payload, edits)
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
        if directives:
            ctx.directives = {**directives, "_reason": analyst_reason(item), "_exception": item.pk}
        try:
            record = engine._map(kind, raw)
            from connectors import writers

            # A record the correction turned into one revops does not import (an
            # open deal, say) has nothing left to write: the problem is gone.
            if record is not None:
                writers.write(record, ctx)
        except BusinessError as exc:
            raise ResubmitFailed(exc.message, exc.error_rows()) from None
        finally:
            kind.close()

    return handler


def register_kind_handlers(kind: type[ConnectorKind]) -> None:
    for stream in kind.streams:
        register_resubmit_handler(f"{kind.key}.{stream}", make_handler(kind.key))
