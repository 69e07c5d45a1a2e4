"""Dotted paths into an item's payload ("customer", "lines.data.0.amount"), the
way a correction names the value it replaces, and typed text read back as the
JSON type of the value it replaces.

The path rules match the resubmit handlers': a part is a key of a mapping, or
the index of a list.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

MISSING = object()
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class ValueTypeError(ValueError):
    """Typed text that cannot stand for a value of the original's type."""


def value_at(payload: Any, path: str) -> Any:
    """The value at `path`, or MISSING when the payload has no such value."""
    if not path:
        return MISSING
    target = payload
    for part in path.split("."):
        if isinstance(target, dict):
            if part not in target:
                return MISSING
            target = target[part]
        elif isinstance(target, list):
            if not part.isdigit() or int(part) >= len(target):
                return MISSING
            target = target[int(part)]
        else:
            return MISSING
    return target


def has_path(payload: Any, path: str) -> bool:
    return value_at(payload, path) is not MISSING


def is_leaf(value: Any) -> bool:
    return not isinstance(value, dict | list)


def type_name(value: Any) -> str:
    """What a person types for a value like this one."""
    if value is MISSING or value is None:
        return "text"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "whole number"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "JSON"


def as_text(value: Any) -> str:
    """A payload value as it appears in an input."""
    if value is MISSING or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def parse_like(text: str, original: Any) -> Any:
    """`text` read as a value of the original's JSON type: a number stays a number
    (in the payload's own units: cents stay cents), true/false stays boolean,
    an object or list is read as JSON. A value the payload lacks (or holds as
    null) is read as text."""
    text = text.strip()
    if original is MISSING or original is None or isinstance(original, str):
        return text
    if isinstance(original, bool):
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueTypeError("Enter true or false.")
    if isinstance(original, int | float):
        try:
            number = Decimal(text.replace(",", "").replace("_", ""))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValueTypeError("Enter a number.")
        if isinstance(original, int):
            if number != number.to_integral_value():
                raise ValueTypeError(
                    "Enter a whole number, in the payload's own units (for example cents, as received)."
                )
            return int(number)
        return float(number)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueTypeError(f"Enter valid JSON ({exc.msg}).") from None
    if type(value) is not type(original):
        kind = "an object ({…})" if isinstance(original, dict) else "a list ([…])"
        raise ValueTypeError(f"Enter {kind}, like the value received.")
    return value
