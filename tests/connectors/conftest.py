import pytest

from tests.connectors.memory_kind import MemoryKind


@pytest.fixture
def memory_source():
    MemoryKind.reset()
    yield MemoryKind
    MemoryKind.reset()
