"""Every database invariant of the reconciliation models, attacked directly:
each case writes around the services and expects the database to refuse,
naming the constraint."""

from __future__ import annotations

import datetime as dt
import inspect
import sys

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from reconciliation import models as m
from tests.reconciliation.conftest import erp, run

pytestmark = pytest.mark.django_db


def _breaks(constraint: str, action) -> None:
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        action()
    assert constraint in str(excinfo.value)


def _update(obj, **values):
    return lambda: type(obj).objects.filter(pk=obj.pk).update(**values)


@pytest.fixture
def done(erp_recon, customer):
    erp("ns-1", "INV-1")
    return run(erp_recon)


def test_it_refuses_a_blank_reconciliation_name(erp_recon):
    _breaks("reconciliation_name_not_blank", _update(erp_recon, name=""))


def test_it_refuses_an_unknown_kind(erp_recon):
    _breaks("reconciliation_kind_known", _update(erp_recon, kind="horoscope"))


def test_it_refuses_two_rules_at_one_position(erp_recon):
    rule = erp_recon.rules.first()
    _breaks("match_rule_position_unique", _update(erp_recon.rules.last(), position=rule.position))


def test_it_refuses_a_negative_tolerance(erp_recon):
    _breaks("match_rule_tolerance_not_negative", _update(erp_recon.rules.first(), amount_tolerance=-1))


def test_it_refuses_a_percent_beyond_100(erp_recon):
    _breaks("match_rule_percent_range", _update(erp_recon.rules.first(), tolerance_percent=101))


def test_it_refuses_an_unknown_method(erp_recon):
    _breaks("match_rule_method_known", _update(erp_recon.rules.first(), method="guess"))


def test_it_refuses_an_unknown_cardinality(erp_recon):
    _breaks("match_rule_cardinality_known", _update(erp_recon.rules.first(), cardinality="N:N"))


def test_it_refuses_an_unknown_action(erp_recon):
    _breaks("match_rule_action_known", _update(erp_recon.rules.first(), action="maybe"))


def test_it_refuses_one_external_record_twice(db):
    record = erp("ns-2", "INV-2")
    _breaks(
        "external_record_unique",
        lambda: m.ExternalRecord.objects.create(
            system=record.system,
            object_type=record.object_type,
            external_id=record.external_id,
            amount=1,
            currency="USD",
            record_date=dt.date(2026, 1, 1),
            loaded_at=timezone.now(),
        ),
    )


def test_it_refuses_a_blank_external_id(db):
    _breaks("external_record_id_not_blank", _update(erp("ns-3", "INV-3"), external_id=""))


def test_it_refuses_an_external_currency_that_is_not_iso(db):
    _breaks("external_record_currency_iso", _update(erp("ns-4", "INV-4"), currency="usd"))


def test_it_allows_one_active_run_per_reconciliation(erp_recon):
    m.Run.objects.create(reconciliation=erp_recon, trigger="manual", requested_by="a")
    _breaks(
        "reconciliation_one_active_run",
        lambda: m.Run.objects.create(reconciliation=erp_recon, trigger="manual", requested_by="b"),
    )


def test_it_refuses_a_finished_run_without_its_end(done):
    _breaks("reconciliation_run_finished_at", _update(done, finished_at=None))


def test_it_refuses_an_unmatched_line_in_a_group(done):
    _breaks("run_line_pair_or_single", _update(done.lines.get(outcome="unmatched"), group_no=1))


def test_it_refuses_an_unknown_outcome(done):
    _breaks("run_line_outcome_known", _update(done.lines.first(), outcome="maybe"))


def test_it_refuses_two_totals_for_one_cell(done):
    total = done.totals.first()
    _breaks(
        "run_total_unique",
        lambda: m.RunTotal.objects.create(
            run=done, side=total.side, currency=total.currency, outcome=total.outcome, count=1, amount=1
        ),
    )


def test_it_keeps_one_decision_per_pair(erp_recon):
    values = dict(reconciliation=erp_recon, left_key="1", right_key="ns-1", decided_at=timezone.now())
    m.MatchDecision.objects.create(decision="confirmed", **values)
    _breaks(
        "match_decision_one_per_pair", lambda: m.MatchDecision.objects.create(decision="rejected", **values)
    )


def test_it_refuses_an_unknown_decision(erp_recon):
    decision = m.MatchDecision.objects.create(
        reconciliation=erp_recon, left_key="1", right_key="2", decision="confirmed", decided_at=timezone.now()
    )
    _breaks("match_decision_known", _update(decision, decision="perhaps"))


def test_every_constraint_in_the_models_has_a_case_here():
    source = inspect.getsource(sys.modules[__name__])
    names = {
        constraint.name
        for model in (
            m.Reconciliation,
            m.MatchRule,
            m.ExternalRecord,
            m.Run,
            m.RunLine,
            m.RunTotal,
            m.MatchDecision,
        )
        for constraint in model._meta.constraints
    }
    assert sorted(name for name in names if f'"{name}"' not in source) == []
