"""Contracts: list, and detail with the amendment timeline, usage and History."""

from __future__ import annotations

from django.http import Http404

from revops.models import Contract
from revops.selectors.contracts import contract_detail as load_contract
from revops.selectors.contracts import contract_list as contracts_matching
from revops.selectors.history import object_history
from revops.web.decorators import reads
from revops.web.forms import ContractFilterForm
from revops.web.views.common import list_page, render_page


@reads("revops.view_contract")
def contract_list(request):
    form = ContractFilterForm(request.GET)
    kwargs = form.selector_kwargs()
    return list_page(
        request,
        "revops/contracts/list.html",
        form=form,
        queryset=contracts_matching(**kwargs),
        sort=kwargs["sort"],
    )


def _detail(request, pk: int, tab: str):
    try:
        detail = load_contract(pk)
    except Contract.DoesNotExist:
        raise Http404("No contract with this id.") from None
    context = {"detail": detail, "contract": detail.contract, "tab": tab}
    if tab == "history":
        context["history"] = object_history(detail.contract)
    return render_page(request, "revops/contracts/detail.html", context, partials={"tab-panel": tab})


@reads("revops.view_contract")
def contract_detail(request, pk: int):
    return _detail(request, pk, "overview")


@reads("revops.view_contract")
def contract_history(request, pk: int):
    return _detail(request, pk, "history")
