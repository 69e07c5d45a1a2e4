"""Analysts confirm or reject suggested matches; later runs keep the decision."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from exceptions_queue.models import ExceptionItem
from reconciliation import services
from reconciliation.models import MatchDecision
from revops.actors import Actor
from tests.reconciliation.conftest import erp, invoice, outcomes, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def suggested(erp_recon, customer):
    invoice(customer, "INV-30", total="1000.00", tax="0")
    erp("ns-30", "INV-30", amount="990.00", tax="0")
    result = run(erp_recon)
    assert outcomes(result)[("left", "INV-30")][0] == "suggested"
    return result


def test_a_confirmed_suggestion_is_matched_by_every_later_run(erp_recon, suggested, analyst):
    group = suggested.lines.get().group_no
    decided = services.suggestions_decide(
        run=suggested, group_nos=[group], decision="confirmed", actor=Actor.for_user(analyst)
    )
    assert decided == 1
    assert suggested.lines.get().decided == "confirmed"
    decision = MatchDecision.objects.get()
    assert decision.decided_by == analyst and decision.history.count() == 1
    later = run(erp_recon)
    line = later.lines.get()
    assert (line.outcome, line.decided, line.rule_id) == ("matched", "confirmed", None)


def test_a_rejected_suggestion_becomes_two_breaks_and_is_not_suggested_again(erp_recon, suggested, analyst):
    group = suggested.lines.get().group_no
    services.suggestions_decide(
        run=suggested,
        group_nos=[group],
        decision="rejected",
        actor=Actor.for_user(analyst),
        reason="Different order",
    )
    items = ExceptionItem.objects.filter(code="RECONCILIATION_BREAK")
    assert items.count() == 2 and all(i.title.startswith("Rejected match") for i in items)
    later = run(erp_recon)
    assert {line.outcome for line in later.lines.all()} == {"unmatched"}
    assert later.breaks_seen_again == 2 and later.breaks_opened == 0


def test_rejecting_needs_a_reason(suggested, analyst):
    with pytest.raises(ValidationError, match="Say why"):
        services.suggestions_decide(
            run=suggested,
            group_nos=[suggested.lines.get().group_no],
            decision="rejected",
            actor=Actor.for_user(analyst),
        )


def test_a_group_decided_already_is_left_alone(suggested, analyst):
    group = suggested.lines.get().group_no
    actor = Actor.for_user(analyst)
    services.suggestions_decide(run=suggested, group_nos=[group], decision="confirmed", actor=actor)
    again = services.suggestions_decide(
        run=suggested, group_nos=[group], decision="rejected", actor=actor, reason="changed my mind"
    )
    assert again == 0
    assert MatchDecision.objects.get().decision == "confirmed"


def test_confirming_resolves_the_open_breaks_of_the_pair(erp_recon, customer, analyst):
    invoice(customer, "INV-31", total="1000.00", tax="0")
    run(erp_recon)  # no ERP invoice yet: a break
    erp("ns-31", "INV-31", amount="995.00", tax="0")
    result = run(erp_recon)
    services.suggestions_decide(
        run=result,
        group_nos=[result.lines.get().group_no],
        decision="confirmed",
        actor=Actor.for_user(analyst),
    )
    item = ExceptionItem.objects.get(code="RECONCILIATION_BREAK")
    assert item.status == "resolved" and "Match confirmed by analyst" in item.resolution_note
