"""Buttons of the connector pages: Sync now / Full sync, Test connection, replay
a run, replay one record. POST only, for users with connectors.run_connector."""

from __future__ import annotations

import logging
import threading

from django.contrib import messages
from django.db import connections
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html

from connectors import engine, selectors, tasks
from connectors.errors import ConnectorError
from connectors.models import Connector, InboundRecord, SyncRun
from connectors.views.access import acts, safe_next
from revops.actors import Actor
from revops.web.views.common import htmx_target

logger = logging.getLogger(__name__)

RUN_PERMISSION = "connectors.run_connector"
TEST_TIMEOUT_SECONDS = 15.0
GENERIC_FAILURE = "The connection test failed unexpectedly; the details are in the server log."


def _active_run_message(exc: engine.RunInProgress) -> str:
    run = exc.run
    return format_html(
        '{} already has <a href="{}">run {}</a> {}; wait for it to finish before starting another.',
        run.connector.name,
        reverse("connectors:run_detail", args=[run.pk]),
        run.pk,
        run.get_status_display().lower(),
    )


def _start(request, *, connector: Connector, trigger: str, full: bool = False, replay_of=None):
    """A queued run handed to the workers, or None after saying which run is active."""
    extra = {"replay_of": replay_of} if replay_of is not None else {}
    try:
        run = engine.run_create(
            connector=connector, trigger=trigger, full=full, requested_by=request.user.get_username(), **extra
        )
    except engine.RunInProgress as exc:
        messages.warning(request, _active_run_message(exc))
        return None
    tasks.enqueue_run(run)
    return run


@acts(RUN_PERMISSION)
def connector_sync(request, pk: int):
    connector = get_object_or_404(Connector, pk=pk)
    full = request.POST.get("full") == "1"
    if not connector.enabled:
        messages.error(request, f"{connector.name} is disabled; enable it before syncing.")
        return redirect("connectors:detail", pk=pk)
    run = _start(request, connector=connector, trigger=SyncRun.Trigger.MANUAL, full=full)
    if run is not None:
        messages.success(
            request,
            format_html(
                '{} sync of {} queued as <a href="{}">run {}</a>.',
                "Full" if full else "Incremental",
                connector.name,
                reverse("connectors:run_detail", args=[run.pk]),
                run.pk,
            ),
        )
    return redirect("connectors:detail", pk=pk)


def check_connection(connector: Connector, *, timeout: float | None = None) -> tuple[bool, str]:
    """(answered, what to tell the user). Runs the kind's test in a thread so a
    server that never answers cannot hold the page past `timeout` seconds."""
    kind_class = selectors.kind_of(connector)
    if kind_class is None:
        return False, f"This installation has no connector kind {connector.kind!r}."
    timeout = TEST_TIMEOUT_SECONDS if timeout is None else timeout
    result: dict[str, tuple[bool, str]] = {}

    def attempt() -> None:
        kind = None
        try:
            kind = kind_class(connector)
            result["outcome"] = (True, kind.test_connection() or "The connection works.")
        except ConnectorError as exc:
            result["outcome"] = (False, exc.message)
        except Exception:
            logger.exception("connection test of connector %s failed unexpectedly", connector.pk)
            result["outcome"] = (False, GENERIC_FAILURE)
        finally:
            if kind is not None:
                try:
                    kind.close()
                except Exception:
                    logger.exception("closing connector %s after its connection test failed", connector.pk)
            connections.close_all()  # this thread's own, if the kind opened any

    worker = threading.Thread(target=attempt, name=f"test-connector-{connector.pk}", daemon=True)
    worker.start()
    worker.join(timeout)
    if "outcome" not in result:
        return False, f"No answer within {timeout:g} seconds; check the base URL and that the system is up."
    return result["outcome"]


@acts(RUN_PERMISSION)
def connector_test(request, pk: int):
    connector = get_object_or_404(Connector.objects.select_related("legal_entity"), pk=pk)
    ok, text = check_connection(connector)
    if htmx_target(request) == "test-result":
        context = {"test": {"ok": ok, "text": text}, "connector": connector}
        return render(request, "connectors/detail.html#test_result", context)
    (messages.success if ok else messages.error)(
        request, f"Connection test {'passed' if ok else 'failed'}: {text}"
    )
    return redirect("connectors:detail", pk=pk)


@acts(RUN_PERMISSION)
def run_replay(request, pk: int):
    original = get_object_or_404(SyncRun.objects.select_related("connector"), pk=pk)
    run = _start(request, connector=original.connector, trigger=SyncRun.Trigger.REPLAY, replay_of=original)
    if run is None:
        return redirect("connectors:run_detail", pk=pk)
    messages.success(request, f"Replay of run {original.pk} queued as run {run.pk}.")
    return redirect("connectors:run_detail", pk=run.pk)


@acts(RUN_PERMISSION)
def record_replay(request, pk: int):
    """Re-apply one stored record now and say what became of it."""
    inbound = get_object_or_404(InboundRecord.objects.select_related("connector__legal_entity"), pk=pk)
    back = safe_next(request) or reverse("connectors:record_detail", args=[pk])
    what = f"{inbound.object_type} {inbound.external_id}"
    if selectors.kind_of(inbound.connector) is None:
        messages.error(
            request,
            f"Cannot replay {what}: this installation has no connector kind {inbound.connector.kind!r}.",
        )
        return redirect(back)
    try:
        result = engine.replay_record(inbound=inbound, actor=Actor.for_user(request.user))
    except ConnectorError as exc:
        messages.error(request, f"Replay of {what} failed: {exc.message}")
    except Exception:
        logger.exception("replay of inbound record %s failed unexpectedly", pk)
        messages.error(request, f"Replay of {what} failed unexpectedly; the details are in the server log.")
    else:
        record = result.inbound
        label = InboundRecord.Outcome(result.outcome).label
        text = f"Replayed {what}: {label.lower()}" + (f" — {record.message}" if record.message else ".")
        level = (
            messages.warning if result.outcome == InboundRecord.Outcome.BUSINESS_ERROR else messages.success
        )
        level(request, text)
    return redirect(back)
