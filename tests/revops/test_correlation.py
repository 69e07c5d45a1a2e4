"""The correlation id of the flow whose work runs: in every log line, and in the
X-Correlation-ID header of requests in and out."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from revops.correlation import (
    HEADER,
    CorrelationIdFilter,
    correlation_scope,
    current_correlation_id,
    parse_correlation_id,
)
from revops.web.middleware import CorrelationIdMiddleware

logger = logging.getLogger("revops.tests.correlation")
FLOW = uuid.UUID("6a3c1a52-0d6c-4c1e-9a8b-1f2e3d4c5b6a")


def _capture(caplog):
    """Log records as the console handler sees them: through the filter settings.LOGGING
    installs (on the handler of the test's own phase)."""
    caplog.handler.addFilter(CorrelationIdFilter())
    caplog.set_level(logging.INFO, logger=logger.name)
    return caplog.records


def test_every_record_logged_in_a_flows_scope_carries_its_id(caplog):
    records = _capture(caplog)
    with correlation_scope(FLOW):
        logger.info("posting invoice")
    logger.info("between flows")
    assert [(r.getMessage(), r.correlation_id) for r in records] == [
        ("posting invoice", str(FLOW)),
        ("between flows", "-"),
    ]


def test_an_inner_scope_is_left_for_the_outer_one(caplog):
    records = _capture(caplog)
    other = uuid.uuid4()
    with correlation_scope(FLOW):
        with correlation_scope(other):
            logger.info("inner")
        with correlation_scope(None):  # nothing to say: the enclosing flow stays
            logger.info("outer again")
    assert [r.correlation_id for r in records] == [str(other), str(FLOW)]
    assert current_correlation_id() is None


def test_the_log_format_prints_the_id():
    formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    assert "correlation" in settings.LOGGING["handlers"]["console"]["filters"]
    record = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, "ERP rejected %s", ("INV-1",), None)
    with correlation_scope(FLOW):
        CorrelationIdFilter().filter(record)
    assert f"[{FLOW}] ERP rejected INV-1" in formatter.format(record)


@pytest.mark.parametrize("value", ["", "not-a-uuid", "1; DROP TABLE", "x" * 500])
def test_a_value_that_is_not_a_uuid_is_no_correlation_id(value):
    assert parse_correlation_id(value) is None
    with correlation_scope(value):
        assert current_correlation_id() is None


def test_the_middleware_runs_an_incoming_request_under_its_id(caplog):
    records = _capture(caplog)
    seen = []

    def view(request):
        seen.append(current_correlation_id())
        logger.info("applying payment")
        return HttpResponse("ok")

    middleware = CorrelationIdMiddleware(view)
    response = middleware(RequestFactory().post("/api/x", headers={HEADER: str(FLOW).upper()}))
    assert seen == [str(FLOW)] and response[HEADER] == str(FLOW)
    assert [r.correlation_id for r in records] == [str(FLOW)]
    assert current_correlation_id() is None


def test_the_middleware_ignores_a_header_that_is_no_uuid():
    seen = []
    middleware = CorrelationIdMiddleware(
        lambda request: seen.append(current_correlation_id()) or HttpResponse()
    )
    response = middleware(RequestFactory().get("/", headers={HEADER: "<script>"}))
    assert seen == [None] and HEADER not in response


@pytest.mark.django_db
def test_a_page_request_echoes_the_header(client, analyst):
    client.force_login(analyst)
    response = client.get(reverse("dashboard"), headers={HEADER: str(FLOW)})
    assert response.status_code == 200 and response[HEADER] == str(FLOW)
