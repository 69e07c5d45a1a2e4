"""Posting canonical documents to ERP connectors, exactly once.

The seam: revops records a business event for every change of a document
(`revops.services.events.event_record`) and calls the listeners registered in
`revops.services.event_listeners`. This app registers `on_business_event` there
in `ConnectorsConfig.ready`. For an invoice issued or voided, a payment
applied or unapplied and a credit note issued (`connectors.erp.credit_memos`),
it creates one `OutboundPosting` per enabled push connector of the document's
legal entity, in the same transaction as the change (an outbox: the posting
exists if and only if the change committed), and hands it to the worker with
`transaction.on_commit`. No Django signals, and revops
does not know this app exists.

Exactly once: each posting has an idempotency key derived from (document,
revision, action) and a NetSuite external id derived from the document. The task
claims the posting with a conditional update (a duplicate delivery changes
nothing). Before any repeat attempt (after an uncertain outcome: a timeout after
sending, a connection dropped before the answer; or any earlier failure) it looks
the record up by external id in the ERP and, if found, records it as posted
instead of posting again. Transient failures reschedule with backoff (never by
sleeping); after REVOPS_SYNC_MAX_ATTEMPTS the posting fails and a DEAD_LETTER item
opens. A business rejection (NetSuite's `o:errorDetails`, or a setting missing
from the ERP mapping) becomes an ERP_REJECTED item (step "netsuite.posting") whose
resubmission re-posts, with the analyst's corrections applied to the request body.

Compensation: voiding an invoice posts a credit memo applied to it once the
invoice is posted (a void before the invoice ever reached the ERP cancels both);
unapplying or reversing a payment posts a journal entry reversing each
application that was posted.
"""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from connectors import outbound
from connectors.erp import credit_memos, mapping
from connectors.erp.client import UncertainOutcome
from connectors.errors import BusinessError, ConfigurationError, ConnectorError, TransientError, sanitize
from connectors.flow import record_handoff
from connectors.models import Connector, ErpMapping, OutboundPosting
from connectors.outbound import claim, fail, save, system_actor
from connectors.resubmit import apply_correction
from exceptions_queue.registry import ResubmitFailed
from revops.actors import Actor
from revops.correlation import correlation_scope
from revops.models import CreditNote, ExternalRef, Invoice, Payment, PaymentApplication

logger = logging.getLogger(__name__)

SEND_TASK = "connectors.posting.posting_send"
STEP_KEY = "netsuite.posting"
ERP_KINDS = ("netsuite",)
PUSH = (Connector.Direction.PUSH, Connector.Direction.BOTH)
S = OutboundPosting.Status
CLAIMABLE = outbound.CLAIMABLE  # what the worker picks up, for callers that drain the queue
EVENT_TYPES = (
    "invoice.issued",
    "invoice.voided",
    "payment.applied",
    "payment.unapplied",
    credit_memos.EVENT_TYPE,
)


class _Waiting(TransientError):
    """A document this posting refers to is not in the ERP yet."""


# -- creating postings (inside the business transaction) ----------------------------------------------


def _connectors_for(legal_entity_id: int) -> list[Connector]:
    return list(
        Connector.objects.filter(
            kind__in=ERP_KINDS, enabled=True, direction__in=PUSH, legal_entity_id=legal_entity_id
        )
    )


def idempotency_key(connector: Connector, document, revision: int, action: str) -> str:
    ct = ContentType.objects.get_for_model(document)
    raw = f"{connector.pk}:{ct.app_label}.{ct.model}:{document.pk}:r{revision}:{action}"
    return "revops-" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def posting_create(
    *,
    connector: Connector,
    document,
    action: str,
    revision: int,
    record_type: str,
    external_id: str,
    correlation_id,
    amount=None,
    enqueue_with=None,
) -> OutboundPosting | None:
    """The posting of `document` (None when this revision already has one); sent on commit
    by `enqueue_with` (the ERP sender unless another kind of target sends its own)."""
    key = idempotency_key(connector, document, revision, action)
    posting, created = OutboundPosting.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "connector": connector,
            "content_type": ContentType.objects.get_for_model(document),
            "object_id": document.pk,
            "document_label": str(document)[:100],
            "revision": revision,
            "action": action,
            "record_type": record_type,
            "external_id": external_id,
            "correlation_id": correlation_id,
            # What this revision posts when it is less than the document (a top-up of a payment application).
            "request": {} if amount is None else {"amount": str(amount)},
        },
    )
    if not created:
        return None
    # robust: a broker that cannot take the task must not fail the committed change;
    # resume_stale_postings hands the posting over later.
    send = enqueue_with or enqueue
    transaction.on_commit(lambda: send(posting.pk), robust=True)
    return posting


def enqueue(posting_id: int) -> None:
    async_task(SEND_TASK, posting_id, task_name=f"post to ERP {posting_id}")


def on_business_event(event, subject) -> None:
    """The listener registered with revops: turn document changes into postings."""
    if event.type not in EVENT_TYPES:
        return
    _post_for(event, subject, _connectors_for(subject.legal_entity_id))


def on_business_events(pairs) -> None:
    """The same for many events written at once (the bulk path): the ERP
    connectors are looked up once for all of them, not once per invoice."""
    relevant = [(event, subject) for event, subject in pairs if event.type in EVENT_TYPES]
    if not relevant:
        return
    by_entity: dict[int, list[Connector]] = {}
    entity_ids = {subject.legal_entity_id for _, subject in relevant}
    for connector in Connector.objects.filter(
        kind__in=ERP_KINDS, enabled=True, direction__in=PUSH, legal_entity_id__in=entity_ids
    ):
        by_entity.setdefault(connector.legal_entity_id, []).append(connector)
    for event, subject in relevant:
        _post_for(event, subject, by_entity.get(subject.legal_entity_id, []))


on_business_event.batch = on_business_events
on_business_event.event_types = EVENT_TYPES


def _post_for(event, subject, connectors: list[Connector]) -> None:
    for connector in connectors:
        if event.type == "invoice.issued":
            posting_create(
                connector=connector,
                document=subject,
                action=OutboundPosting.Action.CREATE,
                revision=1,
                record_type="invoice",
                external_id=mapping.invoice_external_id(subject),
                correlation_id=subject.correlation_id,
            )
        elif event.type == "invoice.voided":
            _reverse_invoice(connector, subject)
        elif event.type == "payment.applied":
            _post_application(connector, subject, event.payload)
        elif event.type == "payment.unapplied":
            _reverse_application(connector, subject, event.payload)
        elif event.type == credit_memos.EVENT_TYPE:
            credit_memos.post_credit_note(connector, subject)


def _document_postings(connector: Connector, document, action: str):
    return OutboundPosting.objects.filter(
        connector=connector,
        content_type=ContentType.objects.get_for_model(document),
        object_id=document.pk,
        action=action,
    )


def _reverse_invoice(connector: Connector, invoice: Invoice) -> None:
    create = _document_postings(connector, invoice, OutboundPosting.Action.CREATE).first()
    if create is None:
        return  # never meant for this ERP (issued before the connector existed)
    never_sent = Q(status=S.REJECTED) | Q(status=S.PENDING, attempts=0)
    # Conditional: a worker claiming it meanwhile wins, and then the void is posted as a reversal.
    if OutboundPosting.objects.filter(never_sent, pk=create.pk).update(
        status=S.CANCELLED,
        last_error=f"{invoice.number} was voided before it was posted",
        updated_at=timezone.now(),
    ):
        return  # it never reached the ERP and now never will: nothing to reverse there
    posting_create(
        connector=connector,
        document=invoice,
        action=OutboundPosting.Action.REVERSE,
        revision=2,
        record_type="creditMemo",
        external_id=mapping.invoice_external_id(invoice) + "-VOID",
        correlation_id=invoice.correlation_id,
    )


def _application(payment: Payment, payload: dict, status: str) -> PaymentApplication | None:
    apps = PaymentApplication.objects.filter(
        payment=payment,
        invoice__number=payload.get("invoice"),
        invoice__legal_entity_id=payment.legal_entity_id,
    ).select_related("payment", "invoice")
    return apps.filter(status=status).order_by("-updated_at", "-id").first()


def _post_application(connector: Connector, payment: Payment, payload: dict) -> None:
    application = _application(payment, payload, PaymentApplication.Status.ACTIVE)
    if application is None:
        return
    revision = _document_postings(connector, application, OutboundPosting.Action.CREATE).count() + 1
    external_id = mapping.application_external_id(application) + (f"-{revision}" if revision > 1 else "")
    posting_create(
        connector=connector,
        document=application,
        action=OutboundPosting.Action.CREATE,
        revision=revision,
        record_type="customerPayment",
        external_id=external_id,
        correlation_id=application.invoice.correlation_id,
        amount=payload.get("amount"),
    )


def _reverse_application(connector: Connector, payment: Payment, payload: dict) -> None:
    application = _application(payment, payload, PaymentApplication.Status.REVERSED)
    if application is None:
        return
    creates = _document_postings(connector, application, OutboundPosting.Action.CREATE)
    if not creates.exists():
        return
    never_sent = Q(status=S.REJECTED) | Q(status=S.PENDING, attempts=0)
    if not creates.exclude(never_sent).exists() and (
        creates.filter(never_sent).update(
            status=S.CANCELLED, last_error="Unapplied before it was posted", updated_at=timezone.now()
        )
        == creates.count()
    ):
        return
    posting_create(
        connector=connector,
        document=application,
        action=OutboundPosting.Action.REVERSE,
        revision=creates.count() + 1,
        record_type="journalEntry",
        external_id=mapping.application_external_id(application) + "-REV",
        correlation_id=application.invoice.correlation_id,
    )


# -- sending (the worker) ---------------------------------------------------------------------------


def erp_settings(connector: Connector) -> mapping.ErpSettings:
    try:
        row = connector.erp_mapping  # usually selected with the posting
    except ErpMapping.DoesNotExist:
        row = None
    if row is None:
        return mapping.ErpSettings()
    return mapping.ErpSettings(
        subsidiary_id=row.subsidiary_id,
        ar_account_id=row.ar_account_id,
        cash_account_id=row.cash_account_id,
        tax_codes=dict(row.tax_codes or {}),
        item_ids=dict(row.item_ids or {}),
        default_item_id=row.default_item_id,
    )


def _customer_erp_id(client, connector: Connector, customer, erp: mapping.ErpSettings) -> str:
    ct = ContentType.objects.get_for_model(customer)
    ref = ExternalRef.objects.filter(
        system=connector.kind, object_type="customer", content_type=ct, object_id=customer.pk
    ).first()
    if ref is not None:
        return ref.external_id
    erp_id = client.upsert(
        "customer", mapping.customer_external_id(customer), mapping.customer_record(customer, erp)
    )
    from revops.services.events import external_ref_link

    external_ref_link(
        system=connector.kind,
        object_type="customer",
        external_id=erp_id,
        target=customer,
        actor=system_actor(connector),
        reason=f"Customer posted to {connector.name}",
    )
    return erp_id


def _posted_erp_id(connector: Connector, document, what: str) -> str:
    create = (
        _document_postings(connector, document, OutboundPosting.Action.CREATE)
        .filter(status=S.POSTED)
        .order_by("revision")
        .first()
    )
    if create is None:
        raise _Waiting(f"{what} is not posted to {connector.name} yet; this posting waits for it")
    return create.erp_id


def build_body(posting: OutboundPosting, client) -> dict[str, Any]:
    """The record JSON for `posting`, from the canonical document and the ERP mapping."""
    connector = posting.connector
    erp = erp_settings(connector)
    model = posting.content_type.model_class()
    related = (
        ("customer", "legal_entity")
        if model is Invoice
        else ("invoice", "customer", "legal_entity")
        if model is CreditNote
        else ("payment", "invoice__customer", "invoice__legal_entity")
    )
    document = model.objects.select_related(*related).get(pk=posting.object_id)
    if isinstance(document, CreditNote):
        return credit_memos.build_credit_memo(posting, client, document)
    if isinstance(document, Invoice):
        customer_id = _customer_erp_id(client, connector, document.customer, erp)
        if posting.action == OutboundPosting.Action.CREATE:
            return mapping.invoice_record(document, erp, customer_id=customer_id)
        invoice_erp_id = _posted_erp_id(connector, document, f"Invoice {document.number}")
        return mapping.invoice_void_record(
            document, erp, customer_id=customer_id, invoice_erp_id=invoice_erp_id
        )
    if isinstance(document, PaymentApplication):
        customer = document.invoice.customer
        customer_id = _customer_erp_id(client, connector, customer, erp)
        if posting.action == OutboundPosting.Action.CREATE:
            invoice_erp_id = _posted_erp_id(connector, document.invoice, f"Invoice {document.invoice.number}")
            amount = posting.request.get("amount")
            body = mapping.payment_record(
                document,
                erp,
                customer_id=customer_id,
                invoice_erp_id=invoice_erp_id,
                amount=Decimal(amount) if amount else None,
            )
        else:
            _posted_erp_id(connector, document, f"The payment application {document}")
            body = mapping.payment_reversal_record(document, erp, customer_id=customer_id)
        body["externalId"] = posting.external_id
        return body
    raise ValueError(f"revops does not post {type(document).__name__} to an ERP")


def _mark_posted(posting: OutboundPosting, erp_id: str, response: dict[str, Any]) -> None:
    with transaction.atomic():
        save(
            posting,
            status=S.POSTED,
            erp_id=str(erp_id),
            response=sanitize(response),
            posted_at=timezone.now(),
            next_attempt_at=None,
            last_error="",
        )
        record_handoff(posting, actor=system_actor(posting.connector))


def attempt(posting: OutboundPosting, kind) -> str:
    """One attempt at a claimed posting: look up (on any repeat), then post. Returns
    the status reached or raises the ConnectorError that stopped it (the posting
    then still says "posting"; the caller records the outcome)."""
    client = kind.client()
    if posting.attempts > 1 or posting.erp_id:
        found = client.find(posting.record_type, posting.external_id)
        if found is not None:
            _mark_posted(
                posting, found["id"], {"found_by_external_id": posting.external_id, "id": found["id"]}
            )
            return S.POSTED
    pinned = bool(posting.request.get("pinned"))
    body = posting.request.get("body") if pinned else outbound.jsonable(build_body(posting, client))
    # Kept with whichever outcome is saved next (every _save writes it).
    posting.request = {
        **posting.request,
        "body": sanitize(body),
        "pinned": pinned,
        "method": "POST",
        "record_type": posting.record_type,
    }
    erp_id = client.create(posting.record_type, body, idempotency_key=posting.idempotency_key)
    _mark_posted(posting, erp_id, {"status": 204, "id": erp_id})
    return S.POSTED


def _open_item(posting: OutboundPosting, *, code: str, exc: ConnectorError, rows=()) -> int:
    verb = "rejected" if code == "ERP_REJECTED" else "could not take"
    return outbound.open_item(
        posting,
        step_key=STEP_KEY,
        code=code,
        exc=exc,
        title=f"{posting.connector.name} {verb} {posting.record_type} {posting.external_id}",
        subject=posting.content_type.get_object_for_this_type(pk=posting.object_id),
        rows=rows,
    )


def posting_send(posting_id: int) -> str:
    """The task: claim the posting and make one attempt; record the outcome."""
    posting, previous = claim(posting_id)
    if posting is None:
        return f"not claimed ({previous or 'gone'})"
    # What this attempt logs, and its requests to the ERP, carry the flow's correlation id.
    with correlation_scope(posting.correlation_id):
        return _send(posting)


def _send(posting: OutboundPosting) -> str:
    from connectors.base import get_kind

    kind = get_kind(posting.connector.kind)(posting.connector)
    try:
        status = attempt(posting, kind)
        # A resubmission that had to wait went through.
        outbound.resolve_item(
            posting,
            step_key=STEP_KEY,
            note=f"Posted to {posting.connector.name} as {posting.record_type} {posting.erp_id}",
        )
        return status
    except UncertainOutcome as exc:
        return _transient(posting, exc, S.UNCERTAIN)
    except TransientError as exc:
        return _transient(posting, exc, S.PENDING)
    except BusinessError as exc:
        return outbound.reject(posting, exc, code="ERP_REJECTED", open_item=_open_item, next_attempt_at=None)
    except ConfigurationError as exc:
        return _fail(posting, exc)
    finally:
        kind.close()


def _transient(posting: OutboundPosting, exc: TransientError, status: str) -> str:
    if posting.attempts >= settings.REVOPS_SYNC_MAX_ATTEMPTS and not isinstance(
        exc, _Waiting | UncertainOutcome
    ):
        return _fail(posting, exc)
    if posting.attempts >= settings.REVOPS_SYNC_MAX_ATTEMPTS * 3:
        return _fail(posting, exc)
    when = outbound.retry_at(posting, exc)
    save(posting, status=status, last_error=exc.message, next_attempt_at=when)
    outbound.schedule_retry(posting, when, func=SEND_TASK, label="ERP posting")
    return status


def _fail(posting: OutboundPosting, exc: ConnectorError) -> str:
    return fail(posting, exc, open_item=_open_item)


# -- resubmission from the exception queue ------------------------------------------------------------


def resubmit_posting(item, correction: dict[str, Any] | None, actor: Actor):
    """Re-post a rejected (or dead-lettered) posting, with the analyst's corrections
    applied to the request body it sent (dotted paths, e.g. "item.items.0.taxCode.id").
    Without a correction the body is built again from the document and the ERP
    mapping, so a fixed mapping takes effect."""
    posting = outbound.resubmittable(item, noun="posting")
    if posting is None:
        return None
    request = dict(posting.request or {})
    edits = {k: v for k, v in (correction or {}).items() if not k.startswith("_")}
    if edits:
        try:
            request = {**request, "body": apply_correction(request.get("body") or {}, edits), "pinned": True}
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ResubmitFailed(f"The correction does not fit the request: {exc}") from None
    else:
        request["pinned"] = False
    if not (getattr(item, "_change_reason", "") or "").startswith("Resubmitted"):
        # Checking a correction (a rolled-back dry run): NetSuite has no validate-only
        # call, and a check must not post, so it stops at the correction fitting the request.
        return None
    save(posting, status=S.PENDING, request=request, next_attempt_at=None)
    return outbound.resubmit_attempt(
        posting,
        attempt=_attempt_in_scope,
        enqueue=enqueue,
        busy="Another worker is posting this document; try again in a moment.",
    )


def _attempt_in_scope(posting: OutboundPosting, kind) -> str:
    with correlation_scope(posting.correlation_id):
        return attempt(posting, kind)


def resume_stale_postings() -> int:
    """Hand postings whose worker died (or whose task was lost) back to the queue,
    the tax engine's steps to their own sender."""
    from connectors.avalara.commits import resume_stale_steps

    return resume_stale_steps() + outbound.resume_stale(ERP_KINDS, enqueue)
