"""The cash-application rules on generated data meet their quality targets,
and the generator keeps its promises."""

from __future__ import annotations

import pytest

from reconciliation.cash import remittance_tokens
from reconciliation.scoring.generator import generate
from reconciliation.scoring.scorer import score

pytestmark = pytest.mark.django_db


def test_the_generator_is_seeded_and_knows_the_truth():
    one, two = generate(seed=3, invoices=300, customers=40), generate(seed=3, invoices=300, customers=40)
    assert [e.amount for e in one.entries] == [e.amount for e in two.entries]
    assert {e.scenario for e in one.entries} >= {"exact", "typo", "missing reference", "no invoice"}
    assert all(e.value_date.weekday() < 5 for e in one.entries)
    assert len(one.truth) == sum(len(e.pays) for e in one.entries)


def test_the_cash_rules_are_precise_when_automatic_and_find_most_matches():
    result = score(generate(seed=5, invoices=800, customers=80))
    assert result.auto_precision >= 0.995
    assert result.recall >= 0.85
    assert result.auto_recall < result.recall  # suggestions add what automation leaves


def test_remittance_names_every_invoice_it_pays():
    assert remittance_tokens("Payment INV-000123 inv 000124, thanks", "RE/2026/0042") == [
        "INV000123",
        "INV000124",
        "RE20260042",
    ]
