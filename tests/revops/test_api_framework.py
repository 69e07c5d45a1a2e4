"""The API's shared behaviour: tokens, roles, the error shape, idempotency
keys, rate limits, the body size limit and cursor pages."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from revops.actors import Actor
from revops.api.tokens import api_token_revoke, digest_of
from revops.models import ApiToken, IdempotencyRecord, UsageRecord
from tests import factories as f
from tests.revops.api_support import api_client, token_for
from tests.revops.usage_factories import billed_contract

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"status", "code", "message", "fields"}
    assert body["error"]["status"] == response.status_code
    return body["error"]


def test_it_refuses_a_request_without_credentials_with_401_in_the_error_shape():
    response = api_client().get(CUSTOMERS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "token" in error_of(response)["message"]


def test_it_answers_any_unknown_address_with_404_in_the_error_shape(analyst):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(analyst)}")
    for address in ("/api/v1/no-such-thing/", "/api/v1/connectors/a%0Ab%0Dc/run/"):
        response = client.post(address, {}, format="json")
        assert response.status_code == 404 and error_of(response)["code"] == "not_found", address


def test_it_refuses_a_mistyped_token(analyst):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Bearer rvo_00000000_not-a-real-token")
    response = client.get(CUSTOMERS)
    assert response.status_code == 401
    assert "not valid" in error_of(response)["message"]


def test_it_keeps_only_a_digest_and_prefix_of_a_token(analyst, integration_admin):
    value = token_for(analyst, maker=integration_admin)
    token = ApiToken.objects.get(user=analyst)
    assert token.digest == digest_of(value) and value not in (token.digest, token.prefix)
    assert value.startswith(f"rvo_{token.prefix}_")
    assert token.created_by == integration_admin


def test_it_refuses_a_revoked_token_from_the_next_request(analyst, integration_admin):
    value = token_for(analyst)
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    assert client.get(CUSTOMERS).status_code == 200
    api_token_revoke(token=ApiToken.objects.get(user=analyst), actor=Actor.for_user(integration_admin))
    assert client.get(CUSTOMERS).status_code == 401


def test_it_answers_403_to_a_user_without_a_role(no_role_user):
    response = api_client(no_role_user).get(CUSTOMERS)
    assert response.status_code == 403
    assert "no role" in error_of(response)["message"]


def test_it_refuses_an_unknown_filter_value_with_the_parameter_named(analyst):
    response = api_client(analyst).get("/api/v1/invoices/?issued_from=yesterday")
    assert response.status_code == 400
    assert "issued_from" in error_of(response)["fields"]


def test_it_pages_with_a_cursor_without_repeating_or_losing_rows(analyst):
    made = {f.CustomerFactory().pk for _ in range(5)}
    client = api_client(analyst)
    seen, url = [], f"{CUSTOMERS}?page_size=2"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))


def test_it_refuses_a_forged_cursor_with_422_in_the_error_shape(analyst):
    response = api_client(analyst).get(f"{CUSTOMERS}?cursor=forged")
    assert response.status_code == 422
    assert "page link" in error_of(response)["fields"]["cursor"][0]


def _usage_body(line, event="evt-1", quantity="3"):
    return {
        "contract_line": line.pk,
        "quantity": quantity,
        "usage_at": "2026-05-15T10:00:00Z",
        "source": "meter",
        "source_event_id": event,
    }


def test_it_replays_the_first_answer_to_a_retry_with_the_same_idempotency_key(integration_admin):
    line = billed_contract().storage
    client = api_client(integration_admin)
    first = client.post("/api/v1/usage/", _usage_body(line), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    UsageRecord.objects.all().delete()  # a replay must not run the write again
    again = client.post("/api/v1/usage/", _usage_body(line), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert UsageRecord.objects.count() == 0


def test_it_refuses_an_idempotency_key_reused_with_another_body_with_422(integration_admin):
    line = billed_contract().storage
    client = api_client(integration_admin)
    client.post("/api/v1/usage/", _usage_body(line), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = client.post(
        "/api/v1/usage/", _usage_body(line, quantity="4"), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert response.status_code == 422
    assert "different request" in error_of(response)["message"]
    assert UsageRecord.objects.get().quantity == 3


def test_it_treats_the_same_json_in_another_key_order_as_the_same_request(integration_admin):
    line = billed_contract().storage
    body = _usage_body(line)
    client = api_client(integration_admin)
    client.post("/api/v1/usage/", json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    response = client.post(
        "/api/v1/usage/", reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201 and response["Idempotent-Replayed"] == "true"


def test_it_keeps_idempotency_keys_per_user(integration_admin, superuser):
    line = billed_contract().storage
    api_client(integration_admin).post(
        "/api/v1/usage/", _usage_body(line), format="json", HTTP_IDEMPOTENCY_KEY="s"
    )
    other = api_client(superuser).post(
        "/api/v1/usage/", _usage_body(line, event="evt-2"), format="json", HTTP_IDEMPOTENCY_KEY="s"
    )
    assert other.status_code == 201
    assert IdempotencyRecord.objects.filter(key="s").count() == 2


def test_it_answers_429_with_retry_after_past_the_rate(analyst, settings):
    settings.REVOPS_API_RATE = "3/minute"
    from django.core.cache import cache

    cache.clear()
    client = api_client(analyst)
    statuses = [client.get(CUSTOMERS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get(CUSTOMERS)
    assert int(response["Retry-After"]) > 0
    assert error_of(response)["code"] == "throttled"
    cache.clear()


def test_it_refuses_a_body_over_the_limit_with_413(integration_admin, settings):
    settings.REVOPS_API_MAX_BODY_BYTES = 2048
    body = {"source_event_id": "x" * 3000}
    response = api_client(integration_admin).post("/api/v1/usage/", body, format="json")
    assert response.status_code == 413
    assert "2,048 bytes" in error_of(response)["message"]
    assert not UsageRecord.objects.exists()


def test_the_schema_and_docs_need_a_role(client, analyst, no_role_user):
    assert api_client().get(reverse("api:schema")).status_code == 401
    assert api_client(no_role_user).get(reverse("api:schema")).status_code == 403
    schema = api_client(analyst).get(reverse("api:schema"), HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/exceptions/{id}/resubmit/" in schema.json()["paths"]
    client.force_login(analyst)
    docs = client.get(reverse("api:docs"))
    assert docs.status_code == 200
    assert b"/static/drf_spectacular_sidecar/" in docs.content  # assets served locally, no CDN
