"""The resubmit-handler registry and the code taxonomy."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from exceptions_queue.codes import CODES, ExceptionCode, Kind, Severity, code_info
from exceptions_queue.registry import (
    NoResubmitHandler,
    get_resubmit_handler,
    register_resubmit_handler,
    unregister_resubmit_handler,
)


def first(item, correction, actor):
    return None


def second(item, correction, actor):
    return None


@pytest.fixture
def step():
    yield "registry_test.step"
    unregister_resubmit_handler("registry_test.step")


def test_it_finds_a_registered_handler(step):
    register_resubmit_handler(step, first)
    register_resubmit_handler(step, first)  # ready() running twice is harmless
    assert get_resubmit_handler(step) is first


def test_it_refuses_a_second_handler_for_one_step(step):
    register_resubmit_handler(step, first)
    with pytest.raises(ImproperlyConfigured, match="already has a resubmit handler"):
        register_resubmit_handler(step, second)
    assert get_resubmit_handler(step) is first


def test_it_refuses_bad_keys_and_handlers():
    with pytest.raises(ImproperlyConfigured):
        register_resubmit_handler("Stripe Invoice", first)
    with pytest.raises(ImproperlyConfigured):
        register_resubmit_handler("stripe.invoice_x", "not callable")


def test_an_unknown_step_is_a_clear_error():
    with pytest.raises(NoResubmitHandler, match=r"No resubmit handler is registered for step nobody\.here"):
        get_resubmit_handler("nobody.here")


def test_every_code_is_documented():
    assert set(CODES) == set(ExceptionCode.values)
    assert len(CODES) == 14
    for code, info in CODES.items():
        assert info.code == code and info.label == ExceptionCode(code).label
        assert info.severity in Severity.values and info.kind in Kind.values
        assert len(info.meaning) > 60 and info.meaning.endswith(".")
    assert code_info("DEAD_LETTER").is_dead_letter
    assert [c for c, info in CODES.items() if info.is_dead_letter] == ["DEAD_LETTER"]
    with pytest.raises(ValueError):
        code_info("NOPE")
