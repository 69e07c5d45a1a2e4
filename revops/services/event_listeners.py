"""Listeners other apps register for the business events revops records.

revops imports none of the other apps, yet some of them must act when a
document changes (connectors posts an issued invoice to the ERP). Those apps
register a callback here in their `AppConfig.ready`; `event_record` calls every
callback with the event and its subject, inside the transaction of the change.
A listener may write rows in that transaction (an outbox: they commit or roll
back with the change) and must defer side effects with `transaction.on_commit`.
A listener that raises aborts the change, so listeners stay small.

Bulk writes hand listeners all their events at once (`notify_many`): a
listener with a `batch` attribute gets the list of (event, subject) pairs in
one call (so it can look up what it needs once), others get them one by one.
A listener that acts on a few event types only names them in `event_types`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EventListener = Callable[[Any, Any], None]  # (BusinessEvent, subject)

_listeners: list[EventListener] = []


def register_event_listener(listener: EventListener) -> None:
    """Register `listener`; registering it again is a no-op (ready() may run twice)."""
    if listener not in _listeners:
        _listeners.append(listener)


def unregister_event_listener(listener: EventListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def listening_to(event_type: str) -> bool:
    """Whether a listener may want events of `event_type`: a listener with an
    `event_types` attribute wants only those (a bulk write skips building the
    events no listener wants), any other listener every type."""
    return any(_wants(listener, event_type) for listener in _listeners)


def _wants(listener: EventListener, event_type: str) -> bool:
    types = getattr(listener, "event_types", None)
    return types is None or event_type in types


def notify(event, subject) -> None:
    for listener in list(_listeners):
        if _wants(listener, event.type):
            listener(event, subject)


def notify_many(pairs: list[tuple[Any, Any]]) -> None:
    """Call every listener with many (event, subject) pairs (those of the
    types it names): in one call when it offers `batch`, else pair by pair."""
    for listener in list(_listeners):
        wanted = [(event, subject) for event, subject in pairs if _wants(listener, event.type)]
        if not wanted:
            continue
        batch = getattr(listener, "batch", None)
        if batch is not None:
            batch(wanted)
        else:
            for event, subject in wanted:
                listener(event, subject)
