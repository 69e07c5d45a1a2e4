"""Metering usage events → canonical usage records (pure).

An event is {"id", "contract", "product", "quantity", "timestamp"} with an
optional "contract_line" (the line's external id, which beats contract and
product) and an optional "period_start"/"period_end" pair (ISO dates; without
them the usage belongs to the calendar month of its timestamp). Quantities are
decimal strings or numbers; timestamps ISO 8601, read as UTC without an offset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from connectors import records as r

MAX_ID = 200


def _text(event: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = event.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise r.MappingError(f"The usage event has no {name}.", field=name, actual=value)
        return ""
    if not isinstance(value, str | int):
        raise r.MappingError(f"The event's {name} must be text.", field=name, actual=repr(value))
    text = str(value).strip()
    if len(text) > MAX_ID:
        raise r.MappingError(f"The event's {name} is longer than {MAX_ID} characters.", field=name)
    return text


def _quantity(event: Mapping[str, Any]) -> Decimal:
    value = event.get("quantity")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise r.MappingError("The usage event has no quantity.", field="quantity", actual=value)
    try:
        quantity = Decimal(str(value).strip())
    except InvalidOperation:
        raise r.MappingError(f"{value!r} is not a quantity.", field="quantity", actual=value) from None
    if not quantity.is_finite() or quantity < 0:
        raise r.MappingError(f"{value!r} is not a quantity of zero or more.", field="quantity", actual=value)
    return quantity


def _timestamp(event: Mapping[str, Any]) -> dt.datetime:
    value = event.get("timestamp")
    text = value.strip() if isinstance(value, str) else ""
    try:
        moment = parse_datetime(text) if "T" in text or " " in text else None
        day = None if moment else parse_date(text)
    except ValueError:
        moment = day = None
    if moment is None and day is not None:
        moment = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    if moment is None:
        raise r.MappingError(
            "The usage event's timestamp is not ISO 8601 (2026-03-28T09:00:00Z or 2026-03-28).",
            field="timestamp",
            actual=value,
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _day(event: Mapping[str, Any], name: str) -> dt.date | None:
    value = event.get(name)
    if value in (None, ""):
        return None
    try:
        day = parse_date(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        raise r.MappingError(f"The event's {name} is not a date (YYYY-MM-DD).", field=name, actual=value)
    return day


def map_usage(event: Mapping[str, Any]) -> r.UsageRecordIn:
    if not isinstance(event, Mapping):
        raise r.MappingError("A usage event is a JSON object.", actual=repr(event)[:100])
    line = _text(event, "contract_line", required=False)
    period_start, period_end = _day(event, "period_start"), _day(event, "period_end")
    if (period_start is None) != (period_end is None):
        raise r.MappingError(
            "Give both period_start and period_end, or neither.",
            field="period_end" if period_end is None else "period_start",
        )
    return r.UsageRecordIn(
        external_id=_text(event, "id"),
        contract_external_id=_text(event, "contract", required=not line),
        product_external_id=_text(event, "product", required=not line),
        quantity=_quantity(event),
        usage_at=_timestamp(event),
        contract_line_external_id=line or None,
        period_start=period_start,
        period_end=period_end,
    )
