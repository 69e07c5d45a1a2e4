"""The API token pages: Integration Admins make a token for a person (shown
once), list tokens by prefix, revoke them; nobody else may."""

from __future__ import annotations

import pytest
from django.urls import reverse

from revops.models import ApiToken
from tests.revops.api_support import api_client

pytestmark = pytest.mark.django_db


def test_an_admin_makes_a_token_that_is_shown_once_and_works(client, integration_admin, analyst):
    client.force_login(integration_admin)
    response = client.post(reverse("api_token_add"), {"user": analyst.pk, "name": "ERP export"})
    assert response.status_code == 201
    value = response.context["new_token"].value
    assert value in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.created_by) == (analyst, "ERP export", integration_admin)
    listing = client.get(reverse("api_tokens")).content.decode()
    assert value not in listing and f"rvo_{token.prefix}_" in listing
    caller = api_client()
    caller.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    assert caller.get("/api/v1/invoices/").status_code == 200


def test_a_token_needs_a_name(client, integration_admin, analyst):
    client.force_login(integration_admin)
    response = client.post(reverse("api_token_add"), {"user": analyst.pk, "name": "  "})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_revoking_a_token_refuses_it_from_then_on(client, integration_admin, analyst):
    client.force_login(integration_admin)
    value = (
        client.post(reverse("api_token_add"), {"user": analyst.pk, "name": "x"}).context["new_token"].value
    )
    token = ApiToken.objects.get()
    response = client.post(reverse("api_token_revoke", args=[token.pk]), follow=True)
    assert "is revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_by == integration_admin and token.revoked_at is not None
    caller = api_client()
    caller.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    assert caller.get("/api/v1/invoices/").status_code == 401


@pytest.mark.parametrize("role", ["analyst", "auditor", "no_role"])
def test_only_admins_make_tokens(client, cast, role, analyst):
    client.force_login(cast[role])
    assert client.post(reverse("api_token_add"), {"user": analyst.pk, "name": "mine"}).status_code == 403
    assert not ApiToken.objects.exists()
