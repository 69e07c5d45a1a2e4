"""The upload, result and mapping pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from connectors.models import ColumnMapping, FileImport, SyncRun
from revops.models import Customer
from tests.connectors.files.conftest import csv_text

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.connectors.files.urls")]

GOOD_AND_BAD = csv_text(
    "Customer No,Company,Currency,Email,City,Country",
    "C-1,Acme Corp,USD,,Austin,US",
    "C-2,,USD,,Boston,US",
)


def _upload(client, connector, mapping, text, name="customers.csv"):
    content = text.encode() if isinstance(text, str) else text
    return client.post(
        reverse("files:upload"),
        {
            "connector": connector.pk,
            "object_type": mapping.object_type if mapping else "customer",
            "mapping": mapping.pk if mapping else "",
            "file": SimpleUploadedFile(name, content, content_type="text/csv"),
        },
    )


def test_an_upload_imports_the_good_rows_and_shows_the_bad_ones(
    client, integration_admin, file_connector, make_mapping
):
    mapping = make_mapping("customer")
    client.force_login(integration_admin)
    response = _upload(client, file_connector, mapping, GOOD_AND_BAD)
    upload = FileImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("files:detail", args=[upload.pk])
    assert Customer.objects.filter(number="C-1").exists()
    assert upload.uploaded_by == integration_admin and upload.run.requested_by == integration_admin.username
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Rejected rows" in html and "C-2" in html and "Company" in html
    assert "Name is empty; every row needs it." in html
    assert f"#{upload.report['errors'][0]['exception_item_id']}" in html


def test_the_mapping_can_be_left_out_when_there_is_only_one(
    client, integration_admin, file_connector, make_mapping
):
    make_mapping("customer")
    client.force_login(integration_admin)
    assert _upload(client, file_connector, None, GOOD_AND_BAD).status_code == 302


def test_a_file_without_the_mapped_columns_is_a_clear_400(
    client, integration_admin, file_connector, make_mapping
):
    mapping = make_mapping("customer")
    client.force_login(integration_admin)
    response = _upload(client, file_connector, mapping, "Number,Name\nC-1,Acme\n")
    html = response.content.decode()
    assert response.status_code == 400
    assert (
        "The file lacks these mapped columns: Customer No, Company, Currency, Email, City, Country." in html
    )
    assert "The file&#x27;s columns are: Number, Name." in html
    assert not FileImport.objects.exists() and not SyncRun.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "status", "message"),
    [
        ("customers.xlsx", b"PK\x03\x04zip", 415, "is not a CSV file"),
        ("customers.csv", b"PK\x03\x04zip", 400, "looks like a spreadsheet workbook"),
        ("customers.csv", "Customer No,Company\nC-1,Société\n".encode("latin-1"), 400, "not UTF-8"),
    ],
)
def test_files_that_are_not_utf8_csv_are_refused_with_a_reason(
    client, integration_admin, file_connector, make_mapping, name, content, status, message
):
    mapping = make_mapping("customer")
    client.force_login(integration_admin)
    response = _upload(client, file_connector, mapping, content, name=name)
    assert response.status_code == status and message in response.content.decode()
    assert not FileImport.objects.exists()


def test_a_file_too_large_is_refused(client, integration_admin, file_connector, make_mapping, settings):
    settings.REVOPS_FILE_IMPORT_MAX_BYTES = 100
    mapping = make_mapping("customer")
    client.force_login(integration_admin)
    response = _upload(client, file_connector, mapping, GOOD_AND_BAD * 5)
    assert response.status_code == 413 and "files up to" in response.content.decode()


def test_a_mapping_of_another_object_type_is_refused(client, integration_admin, file_connector, make_mapping):
    mapping = make_mapping("customer")
    client.force_login(integration_admin)
    response = client.post(
        reverse("files:upload"),
        {
            "connector": file_connector.pk,
            "object_type": "payment",
            "mapping": mapping.pk,
            "file": SimpleUploadedFile("p.csv", b"a\n1\n"),
        },
    )
    assert response.status_code == 400 and "choose one for crm-files payments" in response.content.decode()


def test_a_busy_connector_answers_409(client, integration_admin, file_connector, make_mapping):
    mapping = make_mapping("customer")
    SyncRun.objects.create(connector=file_connector, trigger="manual")
    client.force_login(integration_admin)
    response = _upload(client, file_connector, mapping, GOOD_AND_BAD)
    assert response.status_code == 409 and "is busy with run" in response.content.decode()


def test_a_large_file_goes_to_a_background_worker(
    client,
    integration_admin,
    file_connector,
    make_mapping,
    settings,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    settings.REVOPS_FILE_IMPORT_SYNC_ROWS = 1
    queued = []
    monkeypatch.setattr(
        "django_q.tasks.async_task", lambda func, *args, **kwargs: queued.append((func, args))
    )
    mapping = make_mapping("customer")
    client.force_login(integration_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, file_connector, mapping, GOOD_AND_BAD)
    upload = FileImport.objects.get()
    assert response.status_code == 302
    assert queued == [("connectors.files.tasks.process_file_import", (upload.pk,))]
    assert upload.run.status == "queued" and not Customer.objects.exists()
    page = client.get(reverse("files:detail", args=[upload.pk]))
    assert 'hx-trigger="every 2s"' in page.content.decode()

    from connectors.files.tasks import process_file_import

    assert process_file_import(upload.pk) == "succeeded"
    assert process_file_import(upload.pk) == "succeeded"  # a duplicate delivery changes nothing
    upload.refresh_from_db()
    assert (upload.run.created, upload.run.business_errors) == (1, 1) and upload.report["errors_total"] == 1
    page = client.get(
        reverse("files:detail", args=[upload.pk]),
        headers={"HX-Request": "true", "HX-Target": "import-status"},
    )
    assert "every 2s" not in page.content.decode() and "<html" not in page.content.decode()


@pytest.mark.parametrize("role", ["auditor", "analyst", "no_role_user"])
def test_only_users_who_may_run_connectors_upload(client, request, role, file_connector, make_mapping):
    mapping = make_mapping("customer")
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("files:upload")).status_code == 403
    assert _upload(client, file_connector, mapping, GOOD_AND_BAD).status_code == 403
    assert not FileImport.objects.exists()


def test_a_mapping_is_made_field_by_field_with_required_fields_marked(
    client, integration_admin, file_connector
):
    client.force_login(integration_admin)
    chooser = client.get(reverse("files:mapping_add"))
    assert chooser.status_code == 200 and "Next" in chooser.content.decode()
    url = reverse("files:mapping_add") + f"?connector={file_connector.pk}&object_type=usage"
    page = client.get(url)
    html = page.content.decode()
    assert "Usage event id column" in html and html.count('class="req"') >= 5 + 4
    data = {
        "name": "Meter export",
        "delimiter": ";",
        "thousands_separator": "",
        "decimal_separator": ",",
        "date_format": "%d.%m.%Y",
        "column_event_id": "id",
        "column_contract_number": "contract",
        "column_product_sku": "",
        "column_quantity": "units",
        "column_timestamp": "at",
        "reason": "New meter export",
    }
    missing = client.post(url, data)
    assert missing.status_code == 400 and "Product SKU is required" in missing.content.decode()
    saved = client.post(url, {**data, "column_product_sku": "sku"})
    assert saved.status_code == 302
    mapping = ColumnMapping.objects.get()
    assert mapping.mapping == {
        "event_id": "id",
        "contract_number": "contract",
        "product_sku": "sku",
        "quantity": "units",
        "timestamp": "at",
    }
    assert (mapping.delimiter, mapping.decimal_separator, mapping.date_format) == (";", ",", "%d.%m.%Y")
    edit = client.post(
        reverse("files:mapping_edit", args=[mapping.pk]),
        {**data, "column_product_sku": "SKU", "reason": "Renamed"},
    )
    assert edit.status_code == 302
    assert mapping.history.count() == 2 and mapping.history.first().history_change_reason == "Renamed"
    page = client.get(reverse("files:mapping_edit", args=[mapping.pk]))
    assert page.status_code == 200 and "Renamed" in page.content.decode()


def test_a_bad_date_format_is_refused(client, integration_admin, file_connector):
    client.force_login(integration_admin)
    url = reverse("files:mapping_add") + f"?connector={file_connector.pk}&object_type=customer"
    data = {
        "name": "x",
        "delimiter": ",",
        "decimal_separator": ".",
        "date_format": "%d/%m",
        "column_number": "n",
        "column_name": "c",
        "reason": "r",
    }
    response = client.post(url, data)
    assert response.status_code == 400 and "does not say the day, month and year" in response.content.decode()


def test_everyone_with_a_role_sees_imports_and_mappings_but_only_admins_edit_mappings(
    client, cast, file_connector, make_mapping
):
    make_mapping("customer")
    for role, lists, edit in [
        ("analyst", 200, 403),
        ("auditor", 200, 403),
        ("integration_admin", 200, 200),
        ("no_role", 403, 403),
    ]:
        client.force_login(cast[role])
        assert client.get(reverse("files:list")).status_code == lists, role
        assert client.get(reverse("files:mapping_list")).status_code == lists, role
        assert client.get(reverse("files:mapping_add")).status_code == edit, role
