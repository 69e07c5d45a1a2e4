"""Reporting invoices' tax to AvaTax: commit when issued, adjust when credited, void when voided.

The tax check (`connectors.tax_check`) only asks AvaTax what an incoming invoice
should carry. Once an invoice is issued in a legal entity with an enabled
Avalara connector, the tax is also *reported*: the invoice is committed to the
tax engine as a SalesInvoice (`connectors.avalara.documents`). A credit note
issued against it adjusts that document to the invoice net of its credits, and
voiding the invoice voids it. Each step is an `OutboundPosting` of the invoice
to the Avalara connector, created by the business event's listener in the same
transaction as the change (an outbox) and sent by the worker on commit:
revision 1 (record type SalesInvoice) commits, revisions 2, 3, ... (AdjustTransaction)
adjust, and the reverse action (VoidTransaction) voids.

Exactly once, as for the ERP: the task claims its posting with a conditional
update; before any repeat attempt it reads the document by its code
(GetTransactionByCode) and records the step as done when AvaTax already shows it
(committed; adjusted to at least this revision's version; cancelled). An adjust
or void waits, with backoff, for the commit to be done. Timeouts, 429 and 5xx
are retried with backoff and end as a DEAD_LETTER item; AvaTax refusing a
document (a 4xx with its error, or a customer without a usable address) opens a
VALIDATION_FAILED item (step "avatax.transaction") whose resubmission sends the
step again, built afresh from the invoice. A void before the commit ever reached
AvaTax cancels the commit and its adjustments instead: there is nothing to void.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from connectors import outbound
from connectors import posting as p
from connectors.avalara import documents
from connectors.errors import BusinessError, ConfigurationError, ConnectorError, TransientError, sanitize
from connectors.models import Connector, OutboundPosting
from connectors.outbound import claim, save
from revops.actors import Actor
from revops.correlation import correlation_scope
from revops.models import CreditNote, Invoice

SEND_TASK = "connectors.avalara.commits.commit_send"
STEP_KEY = "avatax.transaction"
KIND = "avalara"
COMMIT, ADJUST, VOID = "SalesInvoice", "AdjustTransaction", "VoidTransaction"
EVENT_TYPES = ("invoice.issued", "credit_note.issued", "invoice.voided")
S = OutboundPosting.Status
A = OutboundPosting.Action


class _Waiting(TransientError):
    """The commit this step changes is not in AvaTax yet."""


# -- creating the steps (inside the business transaction) ---------------------------------------------


def on_business_event(event, subject) -> None:
    if event.type not in EVENT_TYPES:
        return
    invoice = _invoice_of(subject)
    _steps_for(
        event,
        invoice,
        Connector.objects.filter(kind=KIND, enabled=True, legal_entity_id=invoice.legal_entity_id),
    )


def on_business_events(pairs) -> None:
    """The same for many events written at once (the bulk path): the tax engine
    connectors are looked up once for all of them, not once per invoice."""
    relevant = [(event, _invoice_of(subject)) for event, subject in pairs if event.type in EVENT_TYPES]
    if not relevant:
        return
    by_entity: dict[int, list[Connector]] = {}
    entity_ids = {invoice.legal_entity_id for _, invoice in relevant}
    for connector in Connector.objects.filter(kind=KIND, enabled=True, legal_entity_id__in=entity_ids):
        by_entity.setdefault(connector.legal_entity_id, []).append(connector)
    for event, invoice in relevant:
        _steps_for(event, invoice, by_entity.get(invoice.legal_entity_id, []))


on_business_event.batch = on_business_events
on_business_event.event_types = EVENT_TYPES


def _invoice_of(subject) -> Invoice:
    return subject.invoice if isinstance(subject, CreditNote) else subject


def _steps_for(event, invoice: Invoice, connectors) -> None:
    for connector in connectors:
        if event.type == "invoice.issued":
            _step(connector, invoice, A.CREATE, 1, COMMIT)
        elif event.type == "credit_note.issued":
            _adjust(connector, invoice)
        else:
            _void(connector, invoice)


def _steps(connector: Connector, invoice: Invoice):
    return OutboundPosting.objects.filter(
        connector=connector, content_type=ContentType.objects.get_for_model(Invoice), object_id=invoice.pk
    )


def _step(connector: Connector, invoice: Invoice, action: str, revision: int, record_type: str) -> None:
    p.posting_create(
        connector=connector,
        document=invoice,
        action=action,
        revision=revision,
        record_type=record_type,
        external_id=documents.document_code(invoice),
        correlation_id=invoice.correlation_id,
        enqueue_with=enqueue,
    )


def _adjust(connector: Connector, invoice: Invoice) -> None:
    creates = _steps(connector, invoice).filter(action=A.CREATE)
    if not creates.filter(revision=1).exclude(status=S.CANCELLED).exists():
        return  # never committed to this tax engine
    _step(connector, invoice, A.CREATE, creates.count() + 1, ADJUST)


def _void(connector: Connector, invoice: Invoice) -> None:
    steps = _steps(connector, invoice)
    if not steps.filter(action=A.CREATE, revision=1).exists():
        return
    never_sent = Q(status=S.REJECTED) | Q(status=S.PENDING, attempts=0)
    commit = steps.filter(action=A.CREATE, revision=1)
    # Conditional: a worker claiming the commit meanwhile wins, and then the document is voided.
    if commit.filter(never_sent).update(
        status=S.CANCELLED,
        last_error=f"{invoice.number} was voided before it was committed",
        updated_at=timezone.now(),
    ):
        steps.filter(action=A.CREATE, revision__gt=1).filter(never_sent).update(
            status=S.CANCELLED, last_error=f"{invoice.number} was voided", updated_at=timezone.now()
        )
        return
    _step(connector, invoice, A.REVERSE, steps.filter(action=A.CREATE).count() + 1, VOID)


def enqueue(posting_id: int) -> None:
    from django_q.tasks import async_task

    async_task(SEND_TASK, posting_id, task_name=f"report tax to AvaTax {posting_id}")


# -- sending (the worker) ---------------------------------------------------------------------------


def _credit_notes(invoice: Invoice):
    return list(invoice.credit_notes.filter(status=CreditNote.Status.ISSUED).order_by("issue_date", "id"))


def _done(posting: OutboundPosting, found: dict[str, Any] | None) -> bool:
    """Whether AvaTax already shows what this step does."""
    if found is None:
        return False
    status, version = found.get("status"), int(found.get("version") or 1)
    if posting.record_type == VOID:
        return status == "Cancelled"
    if posting.record_type == ADJUST:
        return version >= posting.revision
    return status in ("Committed", "Cancelled")


def _commit_done(connector: Connector, invoice: Invoice) -> None:
    if not _steps(connector, invoice).filter(action=A.CREATE, revision=1, status=S.POSTED).exists():
        raise _Waiting(
            f"Invoice {invoice.number} is not committed to {connector.name} yet; this step waits for it"
        )


def attempt(posting: OutboundPosting, kind) -> str:
    client = kind.client()
    company = documents.company_code(kind.credentials())
    invoice = Invoice.objects.select_related("customer", "legal_entity").get(pk=posting.object_id)
    if posting.attempts > 1 or posting.erp_id:
        found = client.get_transaction(company, posting.external_id)
        if _done(posting, found):
            return _posted(posting, found, looked_up=True)
    if posting.record_type == COMMIT:
        model = documents.committed_model(invoice, company=company)
        _keep_request(posting, model)
        return _posted(posting, client.create_transaction(model))
    _commit_done(posting.connector, invoice)
    if posting.record_type == VOID:
        _keep_request(posting, {"code": "DocVoided"})
        return _posted(posting, client.void_transaction(company, posting.external_id))
    notes = _credit_notes(invoice)
    model = documents.committed_model(invoice, company=company, credit_notes=notes)
    description = documents.adjustment_description(notes)
    _keep_request(
        posting,
        {"adjustmentReason": "PriceAdjusted", "adjustmentDescription": description, "newTransaction": model},
    )
    answer = client.adjust_transaction(
        company, posting.external_id, reason="PriceAdjusted", description=description, model=model
    )
    return _posted(posting, answer)


def _keep_request(posting: OutboundPosting, body: dict[str, Any]) -> None:
    posting.request = {"body": sanitize(outbound.jsonable(body)), "record_type": posting.record_type}


def _posted(posting: OutboundPosting, answer: dict[str, Any], *, looked_up: bool = False) -> str:
    summary = {
        "id": answer.get("id"),
        "status": answer.get("status"),
        "version": answer.get("version"),
        "totalTax": str(answer.get("totalTax")),
    }
    if looked_up:
        summary["found_by_code"] = posting.external_id
    # Not posting._mark_posted: a tax report is no hand-off of revenue to the books.
    save(
        posting,
        status=S.POSTED,
        erp_id=str(answer.get("id") or posting.external_id),
        response=sanitize(summary),
        posted_at=timezone.now(),
        next_attempt_at=None,
        last_error="",
    )
    return S.POSTED


def commit_send(posting_id: int) -> str:
    """The task: claim the step, make one attempt, record the outcome."""
    from connectors.base import get_kind

    posting, previous = claim(posting_id)
    if posting is None:
        return f"not claimed ({previous or 'gone'})"
    # What this attempt logs, and its requests to the tax engine, carry the flow's correlation id.
    with correlation_scope(posting.correlation_id):
        return _send(posting, get_kind(posting.connector.kind)(posting.connector))


def _send(posting: OutboundPosting, kind) -> str:
    try:
        status = attempt(posting, kind)
        outbound.resolve_item(
            posting, step_key=STEP_KEY, note=f"Reported to {posting.connector.name} ({posting.record_type})"
        )
        return status
    except TransientError as exc:
        return _transient(posting, exc)
    except BusinessError as exc:
        return outbound.reject(posting, exc, code="VALIDATION_FAILED", open_item=_open_item)
    except ConfigurationError as exc:
        return _fail(posting, exc)
    finally:
        kind.close()


def _transient(posting: OutboundPosting, exc: TransientError) -> str:
    from django.conf import settings

    limit = settings.REVOPS_SYNC_MAX_ATTEMPTS * (3 if isinstance(exc, _Waiting) else 1)
    if posting.attempts >= limit:
        return _fail(posting, exc)
    when = outbound.retry_at(posting, exc)
    save(posting, status=S.PENDING, last_error=exc.message, next_attempt_at=when)
    outbound.schedule_retry(posting, when, func=SEND_TASK, label="AvaTax step")
    return S.PENDING


def _fail(posting: OutboundPosting, exc: ConnectorError) -> str:
    return outbound.fail(posting, exc, open_item=_open_item)


_WHAT = {COMMIT: "commit", ADJUST: "adjustment", VOID: "void"}


def _open_item(posting: OutboundPosting, *, code: str, exc: ConnectorError, rows=()) -> int:
    invoice = Invoice.objects.get(pk=posting.object_id)
    verb = "refused" if code != "DEAD_LETTER" else "could not take"
    return outbound.open_item(
        posting,
        step_key=STEP_KEY,
        code=code,
        exc=exc,
        title=f"{posting.connector.name} {verb} the tax {_WHAT[posting.record_type]} of invoice {invoice.number}",
        subject=invoice,
        rows=rows,
    )


# -- resubmission from the exception queue ------------------------------------------------------------


def resubmit_step(item, correction: dict[str, Any] | None, actor: Actor):
    """Send a refused (or dead-lettered) step again, built afresh from the invoice,
    so a corrected customer address or connector setting takes effect."""
    posting = outbound.resubmittable(item, noun="step")
    if posting is None:
        return None
    if not (getattr(item, "_change_reason", "") or "").startswith("Resubmitted"):
        return None  # checking a correction must not report tax
    save(posting, status=S.PENDING, next_attempt_at=None)
    return outbound.resubmit_attempt(
        posting,
        attempt=attempt,
        enqueue=enqueue,
        busy="Another worker is sending this step; try again in a moment.",
    )


def resume_stale_steps() -> int:
    """Hand steps whose worker died (or whose task was lost) back to the queue."""
    return outbound.resume_stale((KIND,), enqueue)
