"""What connectors contribute to a quote-to-cash flow.

- `record_handoff`: when the ERP accepts an invoice's posting, the revenue is
  handed off to the books; a `revenue.handed_off` business event on the invoice,
  with the flow's correlation id, says so (in the transaction that marks the
  posting posted).
- The Flow page's sources (registered with revops in ConnectorsConfig.ready):
  the postings of a flow's invoices and payment applications, and the invoices
  whose posting is still waiting (the pending side of the ERP sync SLA).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import reverse

from connectors.models import OutboundPosting
from revops.actors import Actor
from revops.models import Invoice, PaymentApplication
from revops.selectors.flow_sources import FlowPosting
from revops.services.events import event_record

HANDOFF_EVENT = "revenue.handed_off"
ERP_KINDS = ("netsuite",)
S = OutboundPosting.Status
UNFINISHED = (S.PENDING, S.POSTING, S.UNCERTAIN, S.FAILED, S.REJECTED)


def record_handoff(posting: OutboundPosting, *, actor: Actor) -> None:
    """Record the hand-off when `posting` is an invoice's creation in the ERP."""
    if posting.action != OutboundPosting.Action.CREATE or posting.connector.kind not in ERP_KINDS:
        return
    if posting.content_type_id != ContentType.objects.get_for_model(Invoice).pk:
        return
    invoice = Invoice.objects.filter(pk=posting.object_id).first()
    if invoice is None:
        return
    event_record(
        type=HANDOFF_EVENT,
        subject=invoice,
        actor=actor,
        correlation_id=invoice.correlation_id,
        payload={
            "number": invoice.number,
            "connector": posting.connector.name,
            "erp_id": posting.erp_id,
            "record_type": posting.record_type,
        },
    )


def postings_for(invoice_ids: list[int], application_ids: list[int]) -> list[FlowPosting]:
    invoice_ct = ContentType.objects.get_for_model(Invoice)
    application_ct = ContentType.objects.get_for_model(PaymentApplication)
    rows = list(
        OutboundPosting.objects.filter(
            Q(content_type=invoice_ct, object_id__in=invoice_ids)
            | Q(content_type=application_ct, object_id__in=application_ids),
            connector__kind__in=ERP_KINDS,  # the ERP's postings, not the tax engine's commits
        )
        .select_related("connector")
        .order_by("created_at", "id")
    )
    invoice_of = dict(
        PaymentApplication.objects.filter(pk__in=application_ids).values_list("pk", "invoice_id")
    )
    postings = []
    for row in rows:
        is_invoice = row.content_type_id == invoice_ct.pk
        postings.append(
            FlowPosting(
                document_type="invoice" if is_invoice else "payment_application",
                document_id=row.object_id,
                invoice_id=row.object_id if is_invoice else invoice_of.get(row.object_id),
                system=row.connector.name,
                record_type=row.record_type,
                action=row.action,
                status=row.status,
                status_label=row.get_status_display(),
                created_at=row.created_at,
                posted_at=row.posted_at,
                url=reverse("connectors:erp_postings", args=[row.connector_id]) + f"?status={row.status}",
                exception_item_id=row.exception_item_id,
                exception_url=reverse("exceptions_queue:detail", args=[row.exception_item_id])
                if row.exception_item_id
                else "",
            )
        )
    return postings


def invoices_waiting(since: dt.datetime, before: dt.datetime) -> list[int]:
    """Invoices whose ERP creation was recorded in [since, before) and has not gone through."""
    return list(
        OutboundPosting.objects.filter(
            content_type=ContentType.objects.get_for_model(Invoice),
            connector__kind__in=ERP_KINDS,  # not the tax engine's commits
            action=OutboundPosting.Action.CREATE,
            status__in=UNFINISHED,
            created_at__gte=since,
            created_at__lt=before,
        )
        .values_list("object_id", flat=True)
        .distinct()
    )
