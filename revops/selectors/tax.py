"""Reads of the tax rate table: for its pages and for the tax check."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet

from revops.models import LegalEntity, TaxJurisdiction, TaxRateComponent
from revops.selectors.history import CHILDREN, Child
from revops.services.tax import percent_text

# A jurisdiction's History tab shows its rate components' changes too.
CHILDREN.setdefault(TaxJurisdiction, []).append(
    Child(TaxRateComponent, "jurisdiction", lambda row: f"Rate {row.name} {percent_text(row.rate)}")
)


def tax_jurisdiction_list(*, search: str = "", country: str = "") -> QuerySet[TaxJurisdiction]:
    rows = TaxJurisdiction.objects.select_related("legal_entity").annotate(
        component_count=Count("components")
    )
    search = (search or "").strip()
    if search:
        rows = rows.filter(Q(code__icontains=search) | Q(name__icontains=search))
    if country:
        rows = rows.filter(country=country.upper())
    return rows.order_by("country", "region", "code")


def tax_jurisdiction_detail(pk: int) -> TaxJurisdiction:
    return TaxJurisdiction.objects.select_related("legal_entity").get(pk=pk)


def jurisdiction_components(jurisdiction: TaxJurisdiction) -> list[TaxRateComponent]:
    return list(jurisdiction.components.order_by("-valid_from", "type", "name", "id"))


def jurisdiction_codes(legal_entity: LegalEntity) -> set[str]:
    """Codes of the jurisdictions whose rates apply to `legal_entity`'s invoices (one query)."""
    return set(
        TaxJurisdiction.objects.filter(Q(legal_entity__isnull=True) | Q(legal_entity=legal_entity))
        .filter(components__isnull=False)
        .values_list("code", flat=True)
        .distinct()
    )


def components_by_code(codes: Iterable[str], legal_entity: LegalEntity) -> dict[str, list[TaxRateComponent]]:
    """{code: every rate component, oldest first} for the given codes (one query)."""
    found: dict[str, list[TaxRateComponent]] = {code: [] for code in codes}
    rows = (
        TaxRateComponent.objects.filter(jurisdiction__code__in=list(found))
        .filter(Q(jurisdiction__legal_entity__isnull=True) | Q(jurisdiction__legal_entity=legal_entity))
        .select_related("jurisdiction")
        .order_by("valid_from", "id")
    )
    for component in rows:
        found[component.jurisdiction.code].append(component)
    return found
