"""Routing and SLA rules: Integration Admins add, edit, reorder and delete them
(with a reason); everyone who may read the queue sees them read-only."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from exceptions_queue import routing
from exceptions_queue.models import RoutingRule
from exceptions_queue.routing_forms import RoutingRuleForm, team_choices
from revops.actors import Actor
from revops.selectors.history import table_history
from revops.web.decorators import edits, reads
from revops.web.forms import ReasonForm

FORM_TEMPLATE = "exceptions_queue/rules/form.html"


@reads("exceptions_queue.view_routingrule")
def rule_list(request):
    rules = list(
        RoutingRule.objects.select_related("team", "legal_entity").order_by("is_default", "position")
    )
    for rule in rules:
        rule.description = routing.describe_rule(rule)
    context = {
        "rules": rules,
        "has_default": any(rule.is_default for rule in rules),
        "has_teams": team_choices().exists(),
        "can_add": request.user.has_perm("exceptions_queue.add_routingrule"),
        "can_change": request.user.has_perm("exceptions_queue.change_routingrule"),
        "can_delete": request.user.has_perm("exceptions_queue.delete_routingrule"),
    }
    return render(request, "exceptions_queue/rules/list.html", context)


def _form_page(request, form, *, title: str, action: str, rule=None, danger=False):
    context = {"form": form, "title": title, "action": action, "rule": rule, "danger": danger}
    return render(request, FORM_TEMPLATE, context, status=400 if request.method == "POST" else 200)


@edits("exceptions_queue.add_routingrule")
def rule_add(request):
    default = request.GET.get("default") == "1" and not RoutingRule.objects.filter(is_default=True).exists()
    form = RoutingRuleForm(request.POST or None, default_rule=default, initial={"enabled": True})
    if request.method == "POST" and form.is_valid():
        actor, values = Actor.for_user(request.user), form.rule_values()
        try:
            if default:
                rule = routing.routing_rule_set_default(
                    actor=actor,
                    reason=form.cleaned_data["reason"],
                    name=values["name"],
                    team=values["team"],
                    sla_hours=values["sla_hours"],
                    priority=values["priority"],
                )
            else:
                rule = routing.routing_rule_create(actor=actor, reason=form.cleaned_data["reason"], **values)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, f"Added routing rule {rule.name}: new items it matches go to {rule.team}."
            )
            return redirect("exceptions_queue:rule_list")
    title = "Set the default routing rule" if default else "Add routing rule"
    return _form_page(request, form, title=title, action="Add rule")


@edits("exceptions_queue.change_routingrule")
def rule_edit(request, pk: int):
    rule = get_object_or_404(RoutingRule, pk=pk)
    form = RoutingRuleForm(
        request.POST or None, default_rule=rule.is_default, initial=RoutingRuleForm.initial_for(rule)
    )
    if request.method == "POST" and form.is_valid():
        try:
            rule = routing.routing_rule_update(
                rule=rule,
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
                **form.rule_values(),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, f"Saved routing rule {rule.name}. It applies to items opened from now on."
            )
            return redirect("exceptions_queue:rule_list")
    return _form_page(request, form, title=f"Edit routing rule {rule.name}", action="Save rule", rule=rule)


@edits("exceptions_queue.delete_routingrule")
def rule_delete(request, pk: int):
    rule = get_object_or_404(RoutingRule, pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            routing.routing_rule_delete(
                rule=rule, actor=Actor.for_user(request.user), reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, f"Deleted routing rule {rule.name}; items already routed keep their team."
            )
            return redirect("exceptions_queue:rule_list")
    return _form_page(
        request, form, title=f"Delete routing rule {rule.name}", action="Delete rule", rule=rule, danger=True
    )


@reads("exceptions_queue.view_routingrule")
def rule_history(request):
    """Every change to every rule, deleted rules included."""
    history = table_history(RoutingRule, label=lambda row: row.name)
    return render(request, "exceptions_queue/rules/history.html", {"history": history})
