"""Actions: run a reconciliation now, and confirm or reject suggested matches."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from reconciliation import services
from reconciliation.forms import DecideForm
from reconciliation.models import Reconciliation, Run
from reconciliation.runs import run_request
from reconciliation.views.access import DECIDE, RUN, posts
from revops.actors import Actor


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@posts(RUN)
def run_start(request, pk: int):
    recon = get_object_or_404(Reconciliation, pk=pk)
    try:
        run = run_request(
            reconciliation=recon, actor=Actor.for_user(request.user), trigger=Run.Trigger.MANUAL
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("reconciliation:detail", pk=recon.pk)
    messages.success(
        request, f"Run {run.pk} of {recon.name} is queued; this report fills in when it is done."
    )
    return redirect("reconciliation:run", pk=run.pk)


@posts(DECIDE)
def decide(request, pk: int):
    """Confirm or reject the suggested groups ticked on the report (or the one
    whose button was pressed)."""
    run = get_object_or_404(Run.objects.select_related("reconciliation"), pk=pk)
    back = reverse("reconciliation:run", kwargs={"pk": run.pk}) + "?outcome=suggested"
    page = request.POST.get("page", "")
    if page.isdigit():
        back += f"&page={page}"
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect(back)
    decision = form.cleaned_data["decision"]
    try:
        decided = services.suggestions_decide(
            run=run,
            group_nos=form.cleaned_data["groups"],
            decision=decision,
            reason=form.cleaned_data["reason"],
            actor=Actor.for_user(request.user),
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect(back)
    if not decided:
        messages.error(
            request, "Nothing to decide: those matches were decided already or are not suggestions."
        )
    elif decision == "confirmed":
        messages.success(
            request, f"Confirmed {decided} match{'es' if decided != 1 else ''}; later runs keep them."
        )
    else:
        messages.success(
            request,
            f"Rejected {decided} match{'es' if decided != 1 else ''}; their records wait in the exception queue "
            "as breaks, and later runs will not suggest them again.",
        )
    return redirect(back)
