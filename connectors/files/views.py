"""File-import pages: upload a CSV file, follow its import, and manage the
column mappings. Uploading needs connectors.run_connector; everyone who may
see imports sees their results."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse

from connectors.files import services
from connectors.files.fields import field_label
from connectors.files.forms import (
    MappingForm,
    MappingTargetForm,
    UploadForm,
    mapping_initial,
    new_mapping_initial,
)
from connectors.models import ACTIVE_RUN_STATUSES, FILE_OBJECT_TYPES, ColumnMapping, FileImport
from revops.actors import Actor
from revops.selectors.history import object_history
from revops.web.decorators import edits, reads
from revops.web.views.common import render_page

VIEW_IMPORTS = "connectors.view_fileimport"
RUN = "connectors.run_connector"
# Names the exception queue and connector pages may give their detail pages.
EXCEPTION_URL_NAMES = ("exceptions_queue:detail", "exceptions_queue:item_detail")
RUN_URL_NAMES = ("connectors:run_detail",)


def _ns(request: HttpRequest) -> str:
    """This app's namespace as mounted (e.g. "files" or "connectors:files")."""
    match = getattr(request, "resolver_match", None)
    return match.namespace if match and match.namespace else "files"


def _url(request: HttpRequest, name: str, *args) -> str:
    return reverse(f"{_ns(request)}:{name}", args=args)


def _first_url(names, pk) -> str:
    for name in names:
        try:
            return reverse(name, args=[pk])
        except NoReverseMatch:
            continue
    return ""


def _context(request: HttpRequest, **extra) -> dict:
    return {"ns": _ns(request), **extra}


# -- imports ------------------------------------------------------------------------------------


@reads(VIEW_IMPORTS)
def import_list(request):
    imports = FileImport.objects.select_related("connector", "run", "uploaded_by").defer("content")[:50]
    context = _context(
        request,
        imports=imports,
        can_upload=request.user.has_perm(RUN),
        can_view_mappings=request.user.has_perm("connectors.view_columnmapping"),
    )
    return render(request, "connectors/imports/list.html", context)


def _upload_page(request, form, status=200):
    context = _context(request, form=form, max_mb=services.max_bytes() // 1_048_576)
    return render(request, "connectors/imports/upload.html", context, status=status)


@edits(RUN)
def import_upload(request):
    if request.method != "POST":
        initial = {
            key: request.GET[key] for key in ("connector", "object_type", "mapping") if request.GET.get(key)
        }
        return _upload_page(request, UploadForm(initial=initial))
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, form, status=400)
    data = form.cleaned_data
    uploaded = data["file"]
    if uploaded.size > services.max_bytes():
        form.add_error(
            "file",
            f"The file is {uploaded.size / 1_048_576:.1f} MB; files up to "
            f"{services.max_bytes() // 1_048_576} MB can be imported. Split it into smaller files.",
        )
        return _upload_page(request, form, status=413)
    try:
        checked = services.import_check(
            file_name=uploaded.name, content=uploaded.read(), mapping=data["mapping"]
        )
        upload = services.import_start(
            connector=data["connector"], mapping=data["mapping"], checked=checked, user=request.user
        )
    except services.ImportRefused as refused:
        form.add_error("file" if refused.status != 409 else None, refused.message)
        return _upload_page(request, form, status=refused.status)
    if checked.row_count <= services.sync_row_limit():
        upload = services.import_run(upload.pk)
        messages.success(request, f"Imported {upload.file_name}.")
    else:
        services.import_enqueue(upload)
        messages.success(
            request,
            f"{upload.file_name} has {checked.row_count} rows: it is being imported in the background. "
            "This page updates as it goes.",
        )
    return redirect(_url(request, "detail", upload.pk))


def _error_rows(report: dict, upload: FileImport) -> list[dict]:
    rows = []
    for error in report.get("errors", []):
        item_id = error.get("exception_item_id")
        rows.append(
            {
                **error,
                "field_label": field_label(upload.object_type, error.get("field", ""))
                if error.get("field")
                else "",
                "exception_url": _first_url(EXCEPTION_URL_NAMES, item_id) if item_id else "",
            }
        )
    return rows


@reads(VIEW_IMPORTS)
def import_detail(request, pk: int):
    upload = get_object_or_404(
        FileImport.objects.select_related("connector", "run", "uploaded_by", "mapping").defer("content"),
        pk=pk,
    )
    if upload.report is None and upload.run_id and upload.run.status not in ACTIVE_RUN_STATUSES:
        upload = services.import_finish(FileImport.objects.get(pk=pk))
    run = upload.run
    report = upload.report or {}
    context = _context(
        request,
        upload=upload,
        run=run,
        active=bool(run and run.status in ACTIVE_RUN_STATUSES),
        report=report,
        errors=_error_rows(report, upload),
        run_url=_first_url(RUN_URL_NAMES, run.pk) if run else "",
        can_upload=request.user.has_perm(RUN),
    )
    return render_page(
        request, "connectors/imports/detail.html", context, partials={"import-status": "status"}
    )


# -- mappings -----------------------------------------------------------------------------------


@reads("connectors.view_columnmapping")
def mapping_list(request):
    mappings = ColumnMapping.objects.select_related("connector")
    context = _context(
        request,
        mappings=mappings,
        can_add=request.user.has_perm("connectors.add_columnmapping"),
        can_change=request.user.has_perm("connectors.change_columnmapping"),
    )
    return render(request, "connectors/imports/mappings.html", context)


def _save_mapping(request, form: MappingForm, *, connector, object_type, mapping=None):
    data = form.cleaned_data
    try:
        saved = services.mapping_save(
            connector=connector,
            object_type=object_type,
            name=data["name"],
            columns=form.columns(),
            delimiter=data["delimiter"],
            thousands_separator=data.get("thousands_separator") or "",
            decimal_separator=data["decimal_separator"],
            date_format=data.get("date_format") or "",
            actor=Actor.for_user(request.user),
            reason=data["reason"],
            mapping=mapping,
        )
    except ValidationError as error:
        form.add_service_error(error)
        return None
    messages.success(
        request, f"Saved mapping {saved.name} for {connector.name} {saved.get_object_type_display().lower()}."
    )
    return redirect(_url(request, "mapping_list"))


def _mapping_page(request, form, *, title, connector, object_type, mapping=None, status=200):
    context = _context(
        request,
        form=form,
        title=title,
        connector=connector,
        object_type=object_type,
        object_label=dict(FILE_OBJECT_TYPES)[object_type],
        mapping=mapping,
        history=object_history(mapping) if mapping else [],
    )
    return render(request, "connectors/imports/mapping_form.html", context, status=status)


@edits("connectors.add_columnmapping")
def mapping_add(request):
    target = MappingTargetForm(request.GET or None)
    if not target.is_valid():
        context = _context(request, target=target)
        status = 400 if request.GET else 200
        return render(request, "connectors/imports/mapping_target.html", context, status=status)
    connector, object_type = target.cleaned_data["connector"], target.cleaned_data["object_type"]
    form = MappingForm(
        request.POST or None, object_type=object_type, initial=new_mapping_initial(object_type)
    )
    if request.method == "POST" and form.is_valid():
        response = _save_mapping(request, form, connector=connector, object_type=object_type)
        if response:
            return response
    return _mapping_page(
        request,
        form,
        title="New column mapping",
        connector=connector,
        object_type=object_type,
        status=400 if request.method == "POST" else 200,
    )


@edits("connectors.change_columnmapping")
def mapping_edit(request, pk: int):
    mapping = get_object_or_404(ColumnMapping.objects.select_related("connector"), pk=pk)
    form = MappingForm(
        request.POST or None, object_type=mapping.object_type, initial=mapping_initial(mapping)
    )
    if request.method == "POST" and form.is_valid():
        response = _save_mapping(
            request, form, connector=mapping.connector, object_type=mapping.object_type, mapping=mapping
        )
        if response:
            return response
    return _mapping_page(
        request,
        form,
        title=f"Edit mapping {mapping.name}",
        connector=mapping.connector,
        object_type=mapping.object_type,
        mapping=mapping,
        status=400 if request.method == "POST" else 200,
    )
