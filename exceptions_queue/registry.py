"""Resubmit handlers, registered by the app that owns each step.

An exception item names the step that failed (`step_key`, e.g. "stripe.invoice").
The owner of that step registers a handler for the key in its `AppConfig.ready`:

    register_resubmit_handler("stripe.invoice", resubmit_stripe_invoice)

so that resubmission runs the owner's code without this app importing it.

The protocol: `handler(item, correction, actor)` re-runs the step with the
corrected data (a dict, or None to retry as received) inside a savepoint.
- It returns normally: the step went through; the item is resolved.
- It returns `RESUBMIT_PENDING`: the step was queued (e.g. a background task);
  the item stays `resubmitted` until the pipeline opens or resolves it again.
- It raises `ResubmitFailed(message, error_details)` (or a Django
  `ValidationError`, e.g. `DomainValidationError` from the revops services):
  its writes are rolled back and the item reopens with the new error.
Any other exception is a fault, not a business error: the whole resubmission
rolls back and the exception propagates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from exceptions_queue.models import ExceptionItem
    from revops.actors import Actor

ResubmitHandler = Callable[["ExceptionItem", "dict[str, Any] | None", "Actor"], Any]

STEP_KEY_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


class _Pending:
    def __repr__(self) -> str:
        return "RESUBMIT_PENDING"


RESUBMIT_PENDING = _Pending()


class ResubmitFailed(Exception):
    """The resubmitted step met a business error again. `error_details` is a list
    of {field, message, expected, actual}."""

    def __init__(self, message: str, error_details: Iterable[Mapping[str, Any]] = ()):
        super().__init__(message)
        self.message = message
        self.error_details = list(error_details)


class NoResubmitHandler(LookupError):
    def __init__(self, step_key: str):
        super().__init__(f"No resubmit handler is registered for step {step_key}.")
        self.step_key = step_key


_handlers: dict[str, ResubmitHandler] = {}


def register_resubmit_handler(step_key: str, handler: ResubmitHandler) -> None:
    """Register `handler` for `step_key`. Registering the same handler again is a
    no-op (ready() may run more than once); another handler for the key is an error."""
    if not STEP_KEY_RE.match(step_key or ""):
        raise ImproperlyConfigured(
            f"{step_key!r} is not a step key: use lowercase dotted names such as 'stripe.invoice'."
        )
    if not callable(handler):
        raise ImproperlyConfigured(f"The resubmit handler for {step_key} is not callable.")
    existing = _handlers.get(step_key)
    if existing is not None and existing != handler:
        raise ImproperlyConfigured(
            f"Step {step_key} already has a resubmit handler ({_name(existing)}); "
            f"cannot also register {_name(handler)}."
        )
    _handlers[step_key] = handler


def unregister_resubmit_handler(step_key: str) -> None:
    """For tests: forget a step's handler."""
    _handlers.pop(step_key, None)


def get_resubmit_handler(step_key: str) -> ResubmitHandler:
    try:
        return _handlers[step_key]
    except KeyError:
        raise NoResubmitHandler(step_key) from None


def has_resubmit_handler(step_key: str) -> bool:
    return step_key in _handlers


def registered_steps() -> list[str]:
    return sorted(_handlers)


def _name(handler: Any) -> str:
    return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', repr(handler))}"
