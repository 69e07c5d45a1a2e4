"""Bank statement pages: the list, the upload form and a statement with its
entries. Everyone with a role reads them; uploading needs
statements.add_statementfile (Finance Analysts and Integration Admins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from reconciliation.statements.forms import StatementFilterForm, UploadForm
from reconciliation.statements.models import BankStatement
from reconciliation.statements.selectors import load_statement, statement_entries, statements_matching
from reconciliation.statements.services import (
    ImportResult,
    StatementRefused,
    file_size,
    max_bytes,
    statement_import,
)
from revops.actors import Actor
from revops.web.decorators import edits, reads
from revops.web.pagination import paginate
from revops.web.views.common import list_page, render_page

VIEW = "statements.view_bankstatement"
UPLOAD = "statements.add_statementfile"


@reads(VIEW)
def statement_list(request):
    form = StatementFilterForm(request.GET)
    kwargs = form.selector_kwargs()
    return list_page(
        request,
        "statements/list.html",
        form=form,
        queryset=statements_matching(**kwargs),
        sort=kwargs["sort"],
        extra={"can_upload": request.user.has_perm(UPLOAD)},
    )


def _upload_page(request, form, status=200):
    return render(request, "statements/upload.html", {"form": form}, status=status)


@edits(UPLOAD)
def statement_upload(request):
    if request.method != "POST":
        return _upload_page(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, form, status=400)
    uploaded = form.cleaned_data["file"]
    if uploaded.size > max_bytes():
        form.add_error(
            "file",
            f"The file is {file_size(uploaded.size)}; statement files up to {file_size(max_bytes())} can be "
            "imported. Ask the bank for smaller files (one per day or per account).",
        )
        return _upload_page(request, form, status=413)
    try:
        result = statement_import(
            content=uploaded.read(),
            filename=uploaded.name,
            actor=Actor.for_user(request.user),
            legal_entity=form.cleaned_data.get("legal_entity"),
        )
    except StatementRefused as refused:
        form.add_error("file", f"{uploaded.name} was not imported: {refused.message}")
        return _upload_page(request, form, status=refused.status)
    _report(request, result)
    if len(result.statements) == 1:
        return redirect("statements:detail", pk=result.statements[0].statement.pk)
    return redirect(f"{reverse('statements:list')}?file={result.file.pk}")


def _report(request, result: ImportResult) -> None:
    name = result.file.original_name
    if not result.created:
        when = result.file.uploaded_at.strftime("%Y-%m-%d %H:%M")
        messages.info(
            request,
            f"{name} was already imported on {when} UTC by {result.file.uploaded_by_label}; nothing changed.",
        )
        return
    total, new = len(result.statements), len(result.new_statements)
    replaced = len(result.replaced_statements)
    stored = [outcome for outcome in result.statements if outcome.stored]
    unbalanced = sum(1 for outcome in stored if outcome.statement.balanced is False)
    text = f"Imported {name}: {total} statement{'s' if total != 1 else ''}"
    if replaced:
        text += f", {replaced} of them correcting a statement stored unbalanced, which {'it' if replaced == 1 else 'they'} replaced"
    if new + replaced != total:
        text += f", {total - new - replaced} of them already imported from another file"
    text += "."
    if unbalanced:
        messages.warning(
            request,
            f"{text} {unbalanced} do{'es' if unbalanced == 1 else ''} not balance: "
            "each opened an exception and is kept out of automatic reconciliation.",
        )
    else:
        messages.success(request, text)


@reads(VIEW)
def statement_detail(request, pk: int):
    try:
        detail = load_statement(pk)
    except BankStatement.DoesNotExist:
        raise Http404("No bank statement with this id.") from None
    params = {key: value for key, value in request.GET.items() if value != ""}
    page = paginate(statement_entries(detail.statement), page=request.GET.get("page"), params=params)
    context = {"detail": detail, "statement": detail.statement, "page": page}
    return render_page(request, "statements/detail.html", context, partials={"results": "entries"})
