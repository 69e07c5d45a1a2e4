"""The API against its own OpenAPI schema (schemathesis, every check): for
each operation, generated valid and invalid requests, sent to the app with a
superuser's token over seeded data, must get no server error and answers that
match the schema. Bounded and derandomised so CI runs it the same way each
time in about a minute. The schema has no OpenAPI links, so there is no
stateful phase to run."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.revops.api_seed import seed
from tests.revops.api_support import token_for

EXAMPLES_PER_OPERATION = 15


# Every check runs. A well-formed request the business rules refuse is a 422
# (an inactive assignee, a period already invoiced): the schema cannot say which
# values the rules will refuse, so valid-looking data may get one.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)


def _schema():
    document = SchemaGenerator(api_version="1").get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    schema.app = get_wsgi_application()
    return schema


schema = _schema()


@pytest.fixture
def api_token(db, superuser, settings):
    settings.REVOPS_API_RATE = "1000000/minute"
    cache.clear()
    seed(superuser)
    # The requests run in the test's transaction: keep the connection open
    # between them, as Django's own test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield token_for(superuser)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        cache.clear()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_it_answers_every_operation_as_its_schema_says(case, api_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {api_token}"})
