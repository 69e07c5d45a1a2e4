"""The exception item detail page and its actions: assign, comment, dismiss,
resubmit (with a correction or a suggested fix) and the dry-run check of a
correction.

Actions answer POST only and call one service each. A plain form post is
redirected back to the page with a message; an htmx post gets the item's part
of the page (#item) back, or for the check the correction form (#correction),
with errors shown on the form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from exceptions_queue import item_detail as detail
from exceptions_queue.forms import (
    AssignForm,
    CommentForm,
    CorrectionForm,
    DismissForm,
    SuggestedFixForm,
    suggested_options,
)
from exceptions_queue.models import ExceptionItem, Status
from exceptions_queue.registry import has_resubmit_handler
from exceptions_queue.services import (
    exception_assign,
    exception_check_correction,
    exception_comment,
    exception_dismiss,
    exception_resubmit,
)
from revops.actors import Actor
from revops.web.decorators import reads

logger = logging.getLogger(__name__)

TEMPLATE = "exceptions_queue/detail.html"
VIEW_PERM = "exceptions_queue.view_exceptionitem"
CHANGE_PERM = "exceptions_queue.change_exceptionitem"
COMMENT_PERM = "exceptions_queue.add_exceptioncomment"
UNEXPECTED = "{} failed unexpectedly; nothing was changed. The details are in the server log."


def acts(perm: str) -> Callable:
    """An action's target: POST only, with `perm` (403 without it, checked before
    the method, so a reader learns nothing from a 405)."""

    def decorator(view: Callable) -> Callable:
        guarded = permission_required(perm, raise_exception=True)(require_POST(view))
        guarded.required_permission = perm
        return guarded

    return decorator


def _item(pk: int) -> ExceptionItem:
    try:
        return detail.item_for_detail(pk)
    except ExceptionItem.DoesNotExist:
        raise Http404("No exception item with this id.") from None


def _is_htmx(request) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _context(request, item: ExceptionItem, **forms) -> dict:
    user = request.user
    is_open = item.is_open
    can_change = is_open and user.has_perm(CHANGE_PERM)
    can_resubmit = can_change and item.status != Status.RESUBMITTED and has_resubmit_handler(item.step_key)
    suggestion = item.suggested_correction if isinstance(item.suggested_correction, dict) else {}
    assign_form = forms.get("assign_form") or AssignForm(user=user)
    context = {
        "item": item,
        "info": item.code_info,
        "error_rows": detail.error_rows(item),
        "failing_paths": sorted(detail.failing_paths(item)),
        "corrected": item.correction or {},
        "suggestion_summary": str(suggestion.get("summary") or ""),
        "options": suggested_options(item),
        "due_state": detail.due_state(item),
        "timeline": detail.timeline(item),
        "related": detail.related(item),
        "can_change": can_change,
        "can_resubmit": can_resubmit,
        "has_handler": has_resubmit_handler(item.step_key),
        "can_comment": is_open and user.has_perm(COMMENT_PERM),
        "correction_form": forms.get("correction_form") or CorrectionForm(item=item),
        "fix_form": forms.get("fix_form") or SuggestedFixForm(item=item),
        "assign_form": assign_form,
        "assignees": assign_form.users,
        "comment_form": forms.get("comment_form") or CommentForm(),
        "dismiss_form": forms.get("dismiss_form") or DismissForm(),
        "check": forms.get("check"),
        "open_form": forms.get("open_form", ""),
    }
    return context


def _page(request, item: ExceptionItem, *, status: int = 200, failed=None, **forms) -> HttpResponse:
    """The page, or for htmx its #item part; form errors keep the page (400) but
    answer htmx with 200 so that it swaps the form in. The failed form's errors
    that belong to no input (the item was closed meanwhile, the step has no
    handler) are shown above the item, where they are seen whatever the form."""
    htmx = _is_htmx(request)
    context = _context(request, item, **forms)
    context["partial_response"] = htmx
    context["action_errors"] = list(failed.non_field_errors()) if failed is not None else []
    template = f"{TEMPLATE}#item" if htmx else TEMPLATE
    response = render(request, template, context, status=200 if htmx else status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _done(request, item: ExceptionItem) -> HttpResponse:
    if _is_htmx(request):
        return _page(request, detail.item_for_detail(item.pk))
    return redirect(reverse("exceptions_queue:detail", args=[item.pk]))


def _add_errors(form, exc: ValidationError) -> None:
    """A service's errors on the form: on the field of the same name, else on the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            target = name if name in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


@reads(VIEW_PERM)
def item_detail(request, pk: int):
    return _page(request, _item(pk))


@acts(CHANGE_PERM)
def item_assign(request, pk: int):
    item = _item(pk)
    form = AssignForm(request.POST, user=request.user)
    if form.is_valid():
        assignee = form.cleaned_data["assignee"]
        try:
            updated = exception_assign(item=item, assignee=assignee, actor=Actor.for_user(request.user))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if assignee is None:
                messages.success(request, f"Item #{item.pk} is unassigned.")
            elif assignee == request.user:
                messages.success(request, f"Item #{item.pk} is assigned to you.")
            else:
                messages.success(request, f"Item #{item.pk} is assigned to {assignee.get_username()}.")
            return _done(request, updated)
    return _page(request, item, status=400, failed=form, assign_form=form, open_form="assign")


@acts(COMMENT_PERM)
def item_comment(request, pk: int):
    item = _item(pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        if not item.is_open:
            form.add_error(
                None, f"This item is {item.get_status_display().lower()}; it takes no more comments."
            )
        else:
            try:
                exception_comment(
                    item=item, body=form.cleaned_data["body"], actor=Actor.for_user(request.user)
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Comment added.")
                return _done(request, item)
    return _page(request, item, status=400, failed=form, comment_form=form, open_form="comment")


@acts(CHANGE_PERM)
def item_dismiss(request, pk: int):
    item = _item(pk)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            updated = exception_dismiss(
                item=item, reason=form.cleaned_data["reason"], actor=Actor.for_user(request.user)
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Item #{item.pk} is dismissed.")
            return _done(request, updated)
    return _page(request, item, status=400, failed=form, dismiss_form=form, open_form="dismiss")


@acts(CHANGE_PERM)
def item_resubmit(request, pk: int):
    """Resubmit with the correction form's values, or with a suggested fix
    (`option`), through the step's own handler."""
    item = _item(pk)
    if "option" in request.POST:
        form = SuggestedFixForm(request.POST, item=item)
        forms_key = "fix_form"
        correction = form.chosen()["correction"] if form.is_valid() else None
    else:
        form = CorrectionForm(request.POST, item=item)
        forms_key = "correction_form"
        correction = form.correction if form.is_valid() else None
    if form.is_valid():
        try:
            updated = exception_resubmit(
                item=item,
                correction=correction,
                reason=form.cleaned_data["reason"],
                actor=Actor.for_user(request.user),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        except Exception:
            logger.exception("resubmission of exception item %s failed unexpectedly", item.pk)
            form.add_error(None, UNEXPECTED.format("The resubmission"))
        else:
            _say_outcome(request, updated)
            return _done(request, updated)
    return _page(request, item, status=400, failed=form, **{forms_key: form})


def _say_outcome(request, item: ExceptionItem) -> None:
    if item.status == Status.RESOLVED:
        messages.success(request, f"Resubmitted: the step went through and item #{item.pk} is resolved.")
    elif item.status == Status.RESUBMITTED:
        messages.info(
            request,
            f"Resubmitted: the step is queued; item #{item.pk} stays resubmitted until its result comes in.",
        )
    else:
        messages.warning(
            request,
            f"Resubmitted, but the step failed again: {item.message} Item #{item.pk} is open with the new error.",
        )


@acts(CHANGE_PERM)
def item_check(request, pk: int):
    """Run the step with the correction without keeping anything, and show what
    it would meet: on the correction form for htmx, on the page otherwise."""
    item = _item(pk)
    form = CorrectionForm(request.POST, item=item, require_reason=False)
    check = None
    status = 400
    if form.is_valid():
        try:
            errors = exception_check_correction(
                item=item, correction=form.correction, actor=Actor.for_user(request.user)
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        except Exception:
            logger.exception("check of a correction to exception item %s failed unexpectedly", item.pk)
            form.add_error(None, UNEXPECTED.format("The check"))
        else:
            check = {"errors": errors, "correction": form.correction}
            _attach_check_errors(form, check["errors"])
            status = 200
    if _is_htmx(request):
        context = {**_context(request, item, correction_form=form, check=check), "check_partial": True}
        response = render(request, f"{TEMPLATE}#correction", context)
        patch_vary_headers(response, ("HX-Request",))
        return response
    return _page(request, item, status=status, failed=form, correction_form=form, check=check)


def _attach_check_errors(form: CorrectionForm, errors: list[dict]) -> None:
    """Each error the check met under the input of the value it is about."""
    by_path = {row.path: row.field_name for row in form.rows}
    for error in errors:
        name = by_path.get(error.get("path") or "")
        if name is not None:
            form.errors.setdefault(name, form.error_class()).append(error.get("message") or "Still wrong.")
