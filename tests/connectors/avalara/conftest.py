import pytest

from tests.connectors.avalara.fake_avatax import FakeAvaTax


@pytest.fixture
def avatax(settings):
    """A fake AvaTax on 127.0.0.1, which connectors may reach for the test."""
    settings.REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    server = FakeAvaTax().start()
    yield server
    server.stop()
