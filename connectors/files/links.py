"""Link the revops numbers a file refers to, so its rows find them.

A file names customers, products, contracts and invoices by their revops
number or SKU. The writers resolve references through ExternalRef under the
connector's system ("file"), so before a page is written each referenced number
that revops knows but the file system has not linked yet is linked to its
object. Only references are linked, never a row's own id: a file row whose
number already belongs to another system's record is reported as a duplicate
for a person to decide, rather than silently merged.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from connectors import records as r
from revops.actors import Actor
from revops.errors import DomainValidationError
from revops.models import Contract, Customer, ExternalRef, Invoice, LegalEntity, Product
from revops.services.events import external_ref_link


def references(records: Iterable[object]) -> dict[str, set[str]]:
    """{object type: ids} the mapped records refer to."""
    wanted: dict[str, set[str]] = {"customer": set(), "product": set(), "contract": set(), "invoice": set()}
    for rec in records:
        if isinstance(rec, r.ContractRecord):
            wanted["customer"].add(rec.customer_external_id)
            wanted["product"].update(line.product_external_id for line in rec.lines)
        elif isinstance(rec, r.InvoiceRecord):
            wanted["customer"].add(rec.customer_external_id)
            wanted["contract"].add(rec.contract_external_id or "")
            wanted["product"].update(line.product_external_id or "" for line in rec.lines)
        elif isinstance(rec, r.PaymentRecord):
            wanted["customer"].add(rec.customer_external_id or "")
            wanted["invoice"].add(rec.invoice_external_id or "")
    return {kind: {i for i in ids if i} for kind, ids in wanted.items() if any(ids)}


def _canonical(object_type: str, ids: set[str], legal_entity: LegalEntity) -> dict[str, object]:
    if object_type == "customer":
        return {c.number: c for c in Customer.objects.filter(number__in=ids)}
    if object_type == "product":
        return {p.sku: p for p in Product.objects.filter(sku__in=ids)}
    if object_type == "contract":
        return {c.number: c for c in Contract.objects.filter(number__in=ids)}
    return {i.number: i for i in Invoice.objects.filter(number__in=ids, legal_entity=legal_entity)}


def link_references(
    *, system: str, records: Iterable[object], legal_entity: LegalEntity, actor: Actor
) -> int:
    """Link every referenced number revops knows to its object; returns how many
    links were made. Numbers already linked, unknown, or whose object already
    has another id in this system are left alone (the writer then reports them)."""
    made = 0
    for object_type, ids in references(records).items():
        linked = set(
            ExternalRef.objects.filter(
                system=system, object_type=object_type, external_id__in=ids
            ).values_list("external_id", flat=True)
        )
        missing = ids - linked
        if not missing:
            continue
        found = _canonical(object_type, missing, legal_entity)
        if not found:
            continue
        content_type = ContentType.objects.get_for_model(next(iter(found.values())))
        taken = set(
            ExternalRef.objects.filter(
                system=system, content_type=content_type, object_id__in=[o.pk for o in found.values()]
            ).values_list("object_id", flat=True)
        )
        for number, obj in sorted(found.items()):
            if obj.pk in taken:
                continue
            try:
                with transaction.atomic():
                    external_ref_link(
                        system=system,
                        object_type=object_type,
                        external_id=number,
                        target=obj,
                        actor=actor,
                        reason=f"File import refers to {object_type} {number}",
                    )
            except DomainValidationError:
                continue
            made += 1
    return made
