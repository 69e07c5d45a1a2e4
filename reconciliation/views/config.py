"""Configuration: Integration Admins add and change reconciliations and their
ranked rules, each change with a reason kept in the history."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from reconciliation import services
from reconciliation.forms import ReconciliationForm, RuleForm
from reconciliation.models import MatchRule, Reconciliation
from reconciliation.views.access import ADD, ADD_RULE, CHANGE_RULE, CONFIGURE, DELETE_RULE
from revops.actors import Actor
from revops.web.decorators import edits
from revops.web.forms import ReasonForm

FORM = "reconciliation/form.html"


def _page(request, form, *, title: str, action: str, recon=None, danger: bool = False):
    context = {"form": form, "title": title, "action": action, "recon": recon, "danger": danger}
    return render(request, FORM, context, status=400 if request.method == "POST" else 200)


@edits(ADD)
def reconciliation_add(request):
    form = ReconciliationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            recon = services.reconciliation_save(
                actor=Actor.for_user(request.user), reason=form.cleaned_data["reason"], **form.values()
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Added {recon.name}. Add its rules, then run it.")
            return redirect("reconciliation:detail", pk=recon.pk)
    return _page(request, form, title="Add reconciliation", action="Add reconciliation")


@edits(CONFIGURE)
def reconciliation_edit(request, pk: int):
    recon = get_object_or_404(Reconciliation, pk=pk)
    form = ReconciliationForm(request.POST or None, initial=ReconciliationForm.initial_for(recon))
    if request.method == "POST" and form.is_valid():
        try:
            services.reconciliation_save(
                reconciliation=recon,
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
                **form.values(),
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Saved {recon.name}; the next run uses these settings.")
            return redirect("reconciliation:detail", pk=recon.pk)
    return _page(request, form, title=f"Edit {recon.name}", action="Save", recon=recon)


@edits(ADD_RULE)
def rule_add(request, pk: int):
    recon = get_object_or_404(Reconciliation, pk=pk)
    last = recon.rules.order_by("-position").values_list("position", flat=True).first() or 0
    form = RuleForm(request.POST or None, initial={"position": last + 10, "enabled": True})
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.rule_save(
                reconciliation=recon,
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
                **form.values(),
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Added rule {rule.name} at position {rule.position}.")
            return redirect("reconciliation:detail", pk=recon.pk)
    return _page(request, form, title=f"Add a rule to {recon.name}", action="Add rule", recon=recon)


@edits(CHANGE_RULE)
def rule_edit(request, pk: int):
    rule = get_object_or_404(MatchRule.objects.select_related("reconciliation"), pk=pk)
    form = RuleForm(request.POST or None, initial=RuleForm.initial_for(rule))
    if request.method == "POST" and form.is_valid():
        try:
            services.rule_save(
                reconciliation=rule.reconciliation,
                rule=rule,
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
                **form.values(),
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Saved rule {rule.name}; the next run applies it.")
            return redirect("reconciliation:detail", pk=rule.reconciliation_id)
    return _page(request, form, title=f"Edit rule {rule.name}", action="Save rule", recon=rule.reconciliation)


@edits(DELETE_RULE)
def rule_delete(request, pk: int):
    rule = get_object_or_404(MatchRule.objects.select_related("reconciliation"), pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.rule_delete(
            rule=rule, actor=Actor.for_user(request.user), reason=form.cleaned_data["reason"]
        )
        messages.success(request, f"Deleted rule {rule.name}; past runs still show what it matched.")
        return redirect("reconciliation:detail", pk=rule.reconciliation_id)
    return _page(
        request,
        form,
        title=f"Delete rule {rule.name}",
        action="Delete rule",
        recon=rule.reconciliation,
        danger=True,
    )
