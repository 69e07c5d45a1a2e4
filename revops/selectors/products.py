"""Products and their prices."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from revops.models import Price, Product


def product_list(*, q: str = "", active: bool | None = None) -> QuerySet[Product]:
    qs = Product.objects.prefetch_related(
        Prefetch("prices", queryset=Price.objects.order_by("currency", "-active_from"))
    )
    if active is not None:
        qs = qs.filter(active=active)
    if q.strip():
        qs = qs.filter(Q(sku__iexact=q.strip()) | Q(name__icontains=q.strip()))
    return qs.order_by("sku")
