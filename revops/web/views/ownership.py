"""Field-ownership rules: Integration Admins add, edit and delete them (with a
reason); everyone else who may view them sees the list read-only."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from revops.actors import Actor
from revops.models import OBJECT_TYPES, OwnershipRule
from revops.selectors.history import table_history
from revops.selectors.ownership import ownership_rule_list as rules_matching
from revops.selectors.ownership import recent_refusals
from revops.services.ownership import ownership_rule_delete as delete_rule
from revops.services.ownership import ownership_rule_save as save_rule
from revops.web.decorators import edits, reads
from revops.web.forms import OwnershipRuleForm, ReasonForm
from revops.web.views.common import render_page

FORM_TEMPLATE = "revops/ownership/form.html"


@reads("revops.view_ownershiprule")
def ownership_rule_list(request):
    object_type = request.GET.get("object_type", "")
    if object_type not in dict(OBJECT_TYPES):
        object_type = ""
    context = {
        "rules": list(rules_matching(object_type=object_type)),
        "object_type": object_type,
        "object_types": OBJECT_TYPES,
        "refusals": recent_refusals() if request.user.has_perm("revops.view_ownershiprefusal") else [],
        "can_add": request.user.has_perm("revops.add_ownershiprule"),
        "can_change": request.user.has_perm("revops.change_ownershiprule"),
        "can_delete": request.user.has_perm("revops.delete_ownershiprule"),
    }
    return render_page(request, "revops/ownership/list.html", context, partials={"results": "results"})


def _save(request, form, rule: OwnershipRule | None):
    data = form.cleaned_data
    try:
        saved = save_rule(
            object_type=data["object_type"],
            field=data["field"],
            owner_system=data["owner_system"],
            notes=data["notes"],
            actor=Actor.for_user(request.user),
            reason=data["reason"],
            rule=rule,
        )
    except ValidationError as error:
        form.add_service_error(error)
        return None
    messages.success(
        request, f"Saved rule: {saved.object_type}.{saved.field} is owned by {saved.owner_system}."
    )
    return redirect("ownership_rule_list")


def _form_page(request, form, *, title: str, action: str, rule=None, danger=False):
    context = {"form": form, "title": title, "action": action, "rule": rule, "danger": danger}
    return render(request, FORM_TEMPLATE, context, status=400 if request.method == "POST" else 200)


@edits("revops.add_ownershiprule")
def ownership_rule_add(request):
    form = OwnershipRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        response = _save(request, form, None)
        if response:
            return response
    return _form_page(request, form, title="Add ownership rule", action="Add rule")


@edits("revops.change_ownershiprule")
def ownership_rule_edit(request, pk: int):
    rule = get_object_or_404(OwnershipRule, pk=pk)
    initial = {
        "object_type": rule.object_type,
        "field": rule.field,
        "owner_system": rule.owner_system,
        "notes": rule.notes,
    }
    form = OwnershipRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        response = _save(request, form, rule)
        if response:
            return response
    return _form_page(
        request,
        form,
        title=f"Edit ownership rule {rule.object_type}.{rule.field}",
        action="Save rule",
        rule=rule,
    )


@edits("revops.delete_ownershiprule")
def ownership_rule_delete(request, pk: int):
    rule = get_object_or_404(OwnershipRule, pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        label = f"{rule.object_type}.{rule.field}"
        try:
            delete_rule(rule=rule, actor=Actor.for_user(request.user), reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Deleted the ownership rule for {label}; anyone may now write it.")
            return redirect("ownership_rule_list")
    return _form_page(
        request,
        form,
        title=f"Delete ownership rule {rule.object_type}.{rule.field}",
        action="Delete rule",
        rule=rule,
        danger=True,
    )


@reads("revops.view_ownershiprule")
def ownership_rule_history(request):
    """Every change to every rule, deleted rules included."""
    history = table_history(OwnershipRule, label=lambda row: f"{row.object_type}.{row.field}")
    return render(request, "revops/ownership/history.html", {"history": history})
