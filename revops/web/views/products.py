"""Products and their prices (read-only here; the catalogue comes from the CPQ)."""

from __future__ import annotations

from revops.selectors.products import product_list as products_matching
from revops.web.decorators import reads
from revops.web.pagination import paginate
from revops.web.views.common import render_page


@reads("revops.view_product")
def product_list(request):
    q = request.GET.get("q", "").strip()[:200]
    params = {key: value for key, value in request.GET.items() if value}
    page = paginate(products_matching(q=q), page=request.GET.get("page"), params=params)
    return render_page(
        request, "revops/products/list.html", {"page": page, "q": q}, partials={"results": "results"}
    )
